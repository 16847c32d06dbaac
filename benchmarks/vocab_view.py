"""The Vocab view: from a key that changes ``token`` or ``min_freq`` to the frame that shows the new count.

    RNNTUI_DATA_DIR=../shared/data python benchmarks/vocab_view.py [--rounds 5] [--presses 16]

Each round starts a fresh app (``App.run_test`` at 120x40, every frame encoded into terminal codes as a
terminal needs it; Textual skips that when headless), shows the Vocab view on The Time Machine and
presses, one at a time, ``w`` (char <-> word tokens), ``+`` and ``-`` (min_freq up and down) in turn,
each posted as the terminal driver posts a key. The latency is the time from the key event to the first
frame that shows the count it asked for (the view recounts in a worker: the frame after its answer).
A round's first presses count a token kind for the first time; later ones find its tokens cached, as a
user who goes back and forth does. p50, p95 and max over all presses of all rounds are printed, and the
first press of each kind apart. Target: p95 < 150 ms.
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

KEYS = ("w", "plus", "minus")


async def app_round(runs: Path, presses: int, gap: float) -> list[tuple[str, bool, float]]:
    """(key, first time this kind of count was asked for, ms) for each press."""
    from textual import events

    from rnntui.cli import freeze_heap
    from rnntui.tui.app import RnntuiApp

    app = RnntuiApp(preset="lstm", device="cpu", runs_dir=runs, when_warm=freeze_heap)
    out = []
    async with app.run_test(size=(120, 40)) as pilot:
        while not app.warm:
            await asyncio.sleep(0.05)
        await pilot.press("3")
        view = app.view("vocab")
        while view.report is None:
            await asyncio.sleep(0.02)
        await pilot.pause(0.3)
        frames = watch_frames(app, lambda: view.shown_request)  # (the request on screen)
        seen = set()
        for i in range(presses):
            key = KEYS[i % len(KEYS)]
            before = view.requests
            mark = len(frames)
            pressed = time.perf_counter()
            app.post_message(events.Key(key, {"plus": "+", "minus": "-"}.get(key, key)))
            while view.requests == before or not any(r >= view.requests for _, r in frames[mark:]):
                await asyncio.sleep(0.001)
            shown = next(t for t, r in frames[mark:] if r >= view.requests)
            s = view.report.settings
            kind = (s.token, s.min_freq)
            out.append((key, kind not in seen, (shown - pressed) * 1000))
            seen.add(kind)
            await asyncio.sleep(gap)
        await pilot.press("q")
    return out


def summary(values: list[float]) -> str:
    return (f"p50 {percentile(values, 0.5):.1f} ms, p95 {percentile(values, 0.95):.1f} ms, max {max(values):.1f} ms "
            f"(n={len(values)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--presses", type=int, default=16)
    parser.add_argument("--gap", type=float, default=0.2, help="seconds between presses (default 0.2)")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.rounds):
            results += asyncio.run(app_round(Path(tmp) / f"runs-{i}", args.presses, args.gap))
    every = [ms for _, _, ms in results]
    print(f"Vocab view, The Time Machine, 120x40: key -> frame with the new count, {args.rounds} rounds of "
          f"{args.presses} presses")
    print(f"  all presses: {summary(every)}; target p95 < 150 ms")
    for key in KEYS:
        print(f"  {key:5}: {summary([ms for k, _, ms in results if k == key])}")
    first = [ms for _, new, ms in results if new]
    again = [ms for _, new, ms in results if not new]
    if first:
        print(f"  settings counted for the first time in the round: {summary(first)}")
    if again:
        print(f"  settings counted before in the round: {summary(again)}")
    print(f"  median {statistics.median(every):.1f} ms")


if __name__ == "__main__":
    sys.exit(main())
