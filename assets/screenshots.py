"""The README's screenshots, made by the real app from recorded runs (never by hand).

    python assets/screenshots.py [SHOT ...]         # assets/*.svg; SHOT: a module of assets/shots/
    RNNTUI_DATA_DIR=../shared/data python assets/screenshots.py --record [PRESET ...]

``--record`` trains presets (default ``rnn gru lstm``) on the CPU with seed 0 (``rnntui train``, the
preset's own epochs, or ``--epochs``) and keeps each run in assets/recorded/PRESET: its config and
metrics (gzipped, in the repository) and its checkpoint (too large for it: made again by ``--record``,
deterministic on the CPU). Each module of assets/shots/ has ``async def shoot(app, pilot, save)``: it
drives a fresh app (``App.run_test`` at 120x40, the recorded runs in its runs folder) with key presses
where a user would press them and calls ``save(name)`` for each screenshot; a shot that needs a
checkpoint nobody recorded says so and is skipped.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ASSETS = Path(__file__).resolve().parent
RECORDED = ASSETS / "recorded"
SHOTS = ASSETS / "shots"
SIZE = (120, 40)


class MissingRecording(Exception):
    """A shot needs a recorded run (or its checkpoint) that is not there."""


def record(presets: list[str], epochs: int | None) -> None:
    RECORDED.mkdir(exist_ok=True)
    for preset in presets:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / preset
            command = [sys.executable, "-m", "rnntui", "train", "--preset", preset, "--device", "cpu", "--seed",
                       "0", "--quiet", "--out", str(out)] + (["--epochs", str(epochs)] if epochs else [])
            subprocess.run(command, check=True)
            keep = RECORDED / preset
            keep.mkdir(exist_ok=True)
            shutil.copy(out / "config.toml", keep / "config.toml")
            shutil.copy(out / "checkpoint.pt", keep / "checkpoint.pt")
            with (out / "metrics.jsonl").open("rb") as src, gzip.open(keep / "metrics.jsonl.gz", "wb") as dst:
                shutil.copyfileobj(src, dst)


def runs_folder(into: Path) -> Path:
    """The recorded runs as run folders, named as rnntui names them, in the order they were recorded."""
    runs = into / "runs"
    recorded = sorted((p for p in RECORDED.iterdir() if (p / "config.toml").is_file()),
                      key=lambda p: (p / "metrics.jsonl.gz").stat().st_mtime)
    for i, source in enumerate(recorded):
        run = runs / f"{source.name}-20261201-12{i:04d}"
        run.mkdir(parents=True)
        shutil.copy(source / "config.toml", run / "config.toml")
        if (source / "checkpoint.pt").is_file():
            shutil.copy(source / "checkpoint.pt", run / "checkpoint.pt")
        with gzip.open(source / "metrics.jsonl.gz", "rb") as src, (run / "metrics.jsonl").open("wb") as dst:
            shutil.copyfileobj(src, dst)
        for path in [*run.iterdir(), run]:
            os.utime(path, (1_764_590_400 + i, 1_764_590_400 + i))
    return runs


def run_of(app, preset: str, checkpoint: bool = False) -> Path:
    """The run folder of a recorded preset in ``app``'s runs folder (MissingRecording if it is not there)."""
    run = next(app.runs_dir.glob(f"{preset}-20261201-*"), None)
    if run is None or (checkpoint and not (run / "checkpoint.pt").is_file()):
        raise MissingRecording(f"no recorded {preset} run{' checkpoint' if checkpoint else ''}: "
                               f"python assets/screenshots.py --record {preset}")
    return run


def shot_modules(names: list[str]) -> list:
    modules = []
    for path in sorted(SHOTS.glob("*.py")):
        if names and path.stem not in names:
            continue
        spec = importlib.util.spec_from_file_location(f"shots.{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        modules.append(module)
    return modules


async def take(module, runs: Path) -> list[str]:
    from rnntui.cli import freeze_heap
    from rnntui.tui.app import RnntuiApp

    saved: list[str] = []
    app = RnntuiApp(preset="lstm", device="cpu", runs_dir=runs, when_warm=freeze_heap)
    app.animation_level = "none"

    def save(name: str) -> None:
        app.save_screenshot(f"{name}.svg", str(ASSETS))
        saved.append(name)

    async with app.run_test(size=SIZE) as pilot:
        while not app.warm:  # every view mounted, torch imported, the device list in
            await pilot.pause(0.05)
        await module.shoot(app, pilot, save)
        await app.view("train").stop_and_wait()
    return saved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("shots", nargs="*", help="modules of assets/shots/ (default: all)")
    parser.add_argument("--record", nargs="*", metavar="PRESET", help="train these presets again first")
    parser.add_argument("--epochs", type=int, help="with --record: epochs (default: the preset's)")
    args = parser.parse_args()
    if args.record is not None:
        record(args.record or ["rnn", "gru", "lstm"], args.epochs)
    sys.path.insert(0, str(ASSETS))  # the shots import this module as ``screenshots``
    for module in shot_modules(args.shots):
        with tempfile.TemporaryDirectory() as tmp:
            try:
                saved = asyncio.run(take(module, runs_folder(Path(tmp))))
                print(f"{module.__name__}: {', '.join(f'assets/{name}.svg' for name in saved)}")
            except MissingRecording as exc:
                print(f"{module.__name__}: skipped: {exc}")


if __name__ == "__main__":
    main()
