"""``rnntui forecast``: predict the sine series with a trained sine model, beside the affine AR(tau) oracle."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rnntui.errors import ConfigError

ORACLE = "least-squares affine AR({tau}) fitted on the test targets, refitted per k as a direct k-step regression"


def add_parsers(sub, parser_class) -> None:
    fc = sub.add_parser(
        "forecast", help="predict the sine series with a trained sine model",
        description="1-step, multi-step and k-step-ahead predictions of a sine checkpoint's series, with the "
                    "test MSE of each k beside the oracle's: the least-squares affine AR(tau) predictor (tau "
                    "weights and an intercept) fitted on the same test targets, refitted per k as a direct "
                    "k-step regression (the best any affine function of the last tau values does there).")
    fc.add_argument("--checkpoint", required=True, metavar="PATH", help="a sine checkpoint.pt")
    fc.add_argument("--json", metavar="FILE",
                    help="also write every prediction array and MSE to FILE as JSON; `--json -` prints that one "
                         "JSON document to stdout instead of the text (a file named '-': ./-)")
    fc.set_defaults(func=run_forecast)


def _per_k(values: dict[int, float], digits: int = 4) -> str:
    return ", ".join(f"k={k} {v:.{digits}f}" for k, v in values.items())


def run_forecast(args: argparse.Namespace) -> int:
    import json

    from rnntui.training.checkpoint import load_checkpoint
    from rnntui.training.sine_task import SineTask

    checkpoint = load_checkpoint(args.checkpoint)
    if checkpoint.config.task != "sine":
        raise ConfigError(f"{args.checkpoint} holds a {checkpoint.config.task} model; `forecast` needs a sine one")
    task = SineTask(checkpoint.model, checkpoint.config)  # the series is drawn again from the run's seed
    result = task.forecasts()
    if args.json == "-":
        json.dump(result, sys.stdout)
        sys.stdout.write("\n")
        return 0
    print(f"{task.describe()}")
    print("k-step-ahead test MSE: " + _per_k(result["k_step_mse"]))
    print(f"multi-step test MSE (predictions fed back from t={result['test_start'] + 1}): "
          f"{result['multi_step_mse']:.4f}")
    print(f"oracle ({ORACLE.format(tau=task.tau)}): " + _per_k(result["oracle_mse"]))
    print("the oracle's 1-step fit fed back k times: " + _per_k(result["oracle_iterated_mse"]))
    print("model / oracle: " + _per_k(result["oracle_ratio"], 3))
    print(f"seed {result['seed']} draw: its test noise alone scores {result['noise_mse']:.4f}")
    if args.json:
        Path(args.json).write_text(json.dumps(result), encoding="utf-8")
    return 0
