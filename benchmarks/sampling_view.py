"""The Sampling view: from a key that changes the temperature to the frame with the bars redrawn.

    python benchmarks/sampling_view.py [--rounds 5] [--presses 20] [--checkpoint assets/recorded/lstm/checkpoint.pt]

Each round starts a fresh app (``App.run_test`` at 120x40, every frame encoded into terminal codes as a
terminal needs it; Textual skips that when headless), chooses the checkpoint, shows the Sampling view on
the model's own prefix and presses ``T`` and ``t`` (temperature up, down) in turn, each posted as the
terminal driver posts a key, ``--gap`` seconds apart. The latency is the time from the key event to the
first frame whose bars are those of the new temperature (the view's inference thread re-filters the
cached logits; the model does not run). p50, p95 and max over all presses are printed. Target: p95 < 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from frames import percentile, watch_frames

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CHECKPOINT = REPO / "assets" / "recorded" / "lstm" / "checkpoint.pt"


async def app_round(checkpoint: Path, runs: Path, presses: int, gap: float) -> list[float]:
    from textual import events

    from rnntui.cli import freeze_heap
    from rnntui.tui.app import RnntuiApp
    from rnntui.tui.model_choice import ModelChoice
    from rnntui.tui.widgets.token_bars import TokenBars

    app = RnntuiApp(preset="lstm", device="cpu", runs_dir=runs, when_warm=freeze_heap)
    latencies = []
    async with app.run_test(size=(120, 40)) as pilot:
        while not app.warm:
            await asyncio.sleep(0.05)
        app.model_choice = ModelChoice("file", checkpoint)
        await pilot.press("4")
        view = app.view("sampling")
        bars = app.query_one(TokenBars)
        while view.shown is None or view.shown.version != view._version or bars.painted != bars.version:
            await asyncio.sleep(0.02)
        await pilot.pause(0.5)
        frames = watch_frames(app, lambda: bars.painted)  # (the bars' version on screen)
        for i in range(presses):
            key = "T" if i % 2 == 0 else "t"
            temperature = view.settings.temperature
            mark = len(frames)
            pressed = time.perf_counter()
            app.post_message(events.Key(key, key))
            while view.settings.temperature == temperature:
                await asyncio.sleep(0.001)
            while not (view.shown is not None and view.shown.version == view._version
                       and any(painted == bars.version for _, painted in frames[mark:])):
                await asyncio.sleep(0.001)
            shown = next(t for t, painted in frames[mark:] if painted == bars.version)
            latencies.append((shown - pressed) * 1000)
            await asyncio.sleep(gap)
        await pilot.press("q")
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--presses", type=int, default=20)
    parser.add_argument("--gap", type=float, default=0.15, help="seconds between presses (default 0.15)")
    parser.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT)
    args = parser.parse_args()
    checkpoint = args.checkpoint.resolve()
    if not checkpoint.is_file():
        sys.exit(f"no checkpoint {checkpoint}: python assets/screenshots.py --record lstm")
    every: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.rounds):
            every += asyncio.run(app_round(checkpoint, Path(tmp) / f"runs-{i}", args.presses, args.gap))
    print(f"Sampling view, {checkpoint.name} of {checkpoint.parent.name}, 120x40: T/t -> the frame with the new bars, "
          f"{args.rounds} rounds of {args.presses} presses")
    print(f"  p50 {percentile(every, 0.5):.1f} ms, p95 {percentile(every, 0.95):.1f} ms, max {max(every):.1f} ms "
          f"(n={len(every)}; median {statistics.median(every):.1f}); target p95 < 100 ms")


if __name__ == "__main__":
    main()
