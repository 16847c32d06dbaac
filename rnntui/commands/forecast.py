"""``rnntui forecast``: predict the sine series with a trained sine model."""

from __future__ import annotations

import argparse
from pathlib import Path

from rnntui.errors import ConfigError


def add_parsers(sub, parser_class) -> None:
    fc = sub.add_parser("forecast", help="predict the sine series with a trained sine model",
                        description="1-step, multi-step and k-step-ahead predictions of a sine checkpoint's series.")
    fc.add_argument("--checkpoint", required=True, metavar="PATH", help="a sine checkpoint.pt")
    fc.add_argument("--json", metavar="FILE", help="also write every prediction array to FILE as JSON")
    fc.set_defaults(func=run_forecast)


def run_forecast(args: argparse.Namespace) -> int:
    import json

    from rnntui.training.checkpoint import load_checkpoint
    from rnntui.training.sine_task import SineTask

    checkpoint = load_checkpoint(args.checkpoint)
    if checkpoint.config.task != "sine":
        raise ConfigError(f"{args.checkpoint} holds a {checkpoint.config.task} model; `forecast` needs a sine one")
    task = SineTask(checkpoint.model, checkpoint.config)  # the series is drawn again from the run's seed
    result = task.forecasts()
    test = result["test_start"] - task.tau
    multi = sum((p - y) ** 2 for p, y in zip(result["multi_step"][test:], result["series"][result["test_start"]:]))
    print(f"{task.describe()}")
    print("k-step-ahead test MSE: " + ", ".join(f"k={k} {v:.4f}" for k, v in result["k_step_mse"].items()))
    print(f"multi-step test MSE (predictions fed back from t={result['test_start'] + 1}): "
          f"{multi / max(len(result['multi_step']) - test, 1):.4f}")
    if args.json:
        Path(args.json).write_text(json.dumps(result), encoding="utf-8")
    return 0
