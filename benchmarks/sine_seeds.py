"""The sine criterion of issue 15, over seeds: the MLP and the latent model against the affine AR(tau) oracle.

    python benchmarks/sine_seeds.py [--seeds 0-9] [--mlp sine-mlp] [--latent sine-rnn] [--json]
                                    [--mlp-config FILE.toml] [--latent-config FILE.toml] [--keep DIR]

For each seed it trains both presets with the real CLI, one run at a time (``python -m rnntui train
--preset P --seed S --quiet --out DIR``; the seed draws the series' noise and the initial weights), reads
each checkpoint back as ``rnntui forecast`` does (``SineTask.forecasts()``) and prints one row a seed:
the MLP's 1-step test MSE, the oracle's (the least-squares affine AR(tau) predictor, tau weights and an
intercept, fitted on the same test targets), their ratio, the latent model's 1-step test MSE and its
ratio, and this draw's test noise. Then the criterion: the MLP's mean 1-step MSE <= 0.055, the median of
its ratio <= 1.08, the latent model below the oracle on every seed. ``--json`` prints one JSON document
instead. ``--mlp-config`` / ``--latent-config`` lay a TOML file over a preset (``rnntui train --config``),
to try a change without editing the preset. Exit status 0 whether or not the criterion holds.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

MEAN_BOUND, RATIO_BOUND = 0.055, 1.08


def parse_seeds(text: str) -> list[int]:
    """"0-9" or "0,3,5" (or a mix) -> the list of seeds."""
    seeds: list[int] = []
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        seeds += list(range(int(lo), int(hi) + 1)) if hi else [int(lo)]
    return seeds


def train_and_forecast(preset: str, seed: int, out: Path, config: str | None) -> dict:
    """Train ``preset`` with ``seed`` through the CLI into ``out`` and return its ``forecasts()``."""
    from rnntui.training.checkpoint import load_checkpoint
    from rnntui.training.sine_task import SineTask

    cmd = [sys.executable, "-m", "rnntui", "train", "--preset", preset, "--seed", str(seed), "--quiet",
           "--out", str(out)] + (["--config", config] if config else [])
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stderr.strip()}")
    checkpoint = load_checkpoint(out / "checkpoint.pt")
    return SineTask(checkpoint.model, checkpoint.config).forecasts()


def measure(seeds: list[int], mlp: str, latent: str, mlp_config: str | None, latent_config: str | None,
            root: Path, progress=None) -> dict:
    """The per-seed rows and the criterion, as plain data."""
    rows = []
    for i, seed in enumerate(seeds):
        m = train_and_forecast(mlp, seed, root / f"{mlp}-{seed}", mlp_config)
        r = train_and_forecast(latent, seed, root / f"{latent}-{seed}", latent_config)
        assert m["series"] == r["series"], "both presets must draw the same series for a seed"
        oracle = m["oracle_mse"][1]
        rows.append({
            "seed": seed, "mlp_mse": m["k_step_mse"][1], "oracle_mse": oracle,
            "mlp_ratio": m["k_step_mse"][1] / oracle, "latent_mse": r["k_step_mse"][1],
            "latent_ratio": r["k_step_mse"][1] / oracle, "noise_mse": m["noise_mse"],
            "mlp_k_step_mse": m["k_step_mse"], "latent_k_step_mse": r["k_step_mse"],
            "oracle_k_step_mse": m["oracle_mse"],
        })
        if progress:
            progress(i + 1, len(seeds))
    mean = statistics.fmean(row["mlp_mse"] for row in rows)
    median = statistics.median(row["mlp_ratio"] for row in rows)
    beats = all(row["latent_mse"] < row["oracle_mse"] for row in rows)
    return {
        "mlp": mlp, "latent": latent, "mlp_config": mlp_config, "latent_config": latent_config, "rows": rows,
        "mlp_mean_mse": mean, "mlp_median_ratio": median, "latent_beats_oracle_on_every_seed": beats,
        "latent_mean_mse": statistics.fmean(row["latent_mse"] for row in rows),
        "oracle_mean_mse": statistics.fmean(row["oracle_mse"] for row in rows),
        "criterion": {"mlp_mean_mse_max": MEAN_BOUND, "mlp_median_ratio_max": RATIO_BOUND,
                      "holds": mean <= MEAN_BOUND and median <= RATIO_BOUND and beats},
    }


def print_table(result: dict) -> None:
    print(f"1-step test MSE per seed: MLP `{result['mlp']}`, latent `{result['latent']}`, oracle = least-squares "
          "affine AR(tau) fitted on the test targets")
    print(f"{'seed':>4}  {'MLP':>7}  {'oracle':>7}  {'ratio':>6}  {'latent':>7}  {'ratio':>6}  {'noise':>7}")
    for row in result["rows"]:
        print(f"{row['seed']:>4}  {row['mlp_mse']:7.4f}  {row['oracle_mse']:7.4f}  {row['mlp_ratio']:6.3f}  "
              f"{row['latent_mse']:7.4f}  {row['latent_ratio']:6.3f}  {row['noise_mse']:7.4f}")
    rows = result["rows"]
    print(f"{'mean':>4}  {result['mlp_mean_mse']:7.4f}  {result['oracle_mean_mse']:7.4f}  "
          f"{statistics.fmean(r['mlp_ratio'] for r in rows):6.3f}  {result['latent_mean_mse']:7.4f}  "
          f"{statistics.fmean(r['latent_ratio'] for r in rows):6.3f}")
    print(f"{'med':>4}  {'':7}  {'':7}  {result['mlp_median_ratio']:6.3f}  {'':7}  "
          f"{statistics.median(r['latent_ratio'] for r in rows):6.3f}")
    c = result["criterion"]
    beaten = sum(r["latent_mse"] < r["oracle_mse"] for r in rows)
    print(f"MLP mean {result['mlp_mean_mse']:.4f} (<= {c['mlp_mean_mse_max']}), median ratio "
          f"{result['mlp_median_ratio']:.3f} (<= {c['mlp_median_ratio_max']}), latent below the oracle on "
          f"{beaten}/{len(rows)} seeds: criterion {'HOLDS' if c['holds'] else 'MISSED'}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", default="0-9", type=parse_seeds, help="e.g. 0-9 or 0,2,5 (default 0-9)")
    parser.add_argument("--mlp", default="sine-mlp", help="the MLP preset (default sine-mlp)")
    parser.add_argument("--latent", default="sine-rnn", help="the latent model's preset (default sine-rnn)")
    parser.add_argument("--mlp-config", metavar="TOML", help="laid over the MLP preset (rnntui train --config)")
    parser.add_argument("--latent-config", metavar="TOML", help="laid over the latent preset")
    parser.add_argument("--keep", metavar="DIR", help="keep the run folders in DIR (default: a temporary one)")
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of the table")
    args = parser.parse_args(argv)

    def progress(done: int, total: int) -> None:
        print(f"\r{done}/{total} seeds", end="" if done < total else "\n", file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(args.keep) if args.keep else Path(tmp)
        result = measure(args.seeds, args.mlp, args.latent, args.mlp_config, args.latent_config, root, progress)
    if args.json:
        print(json.dumps(result))
    else:
        print_table(result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
