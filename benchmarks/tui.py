"""The TUI under load: training speed inside the app against the headless CLI, and key-press latency.

    RNNTUI_DATA_DIR=../shared/data python benchmarks/tui.py [--steps 60] [--rounds 3] [--presses 40]

[1] The ``lstm`` preset (and ``lstm-scratch``) cut to one epoch of about ``--steps`` batches is trained
    inside the running app (``App.run_test``: the full event loop, widgets, charts redrawn as in use; the
    app trains in its child process) and by the headless CLI's code path (``experiment.train`` with the
    CLI's progress callback, in this process), alternating which goes first. Each figure is the
    tokens/s of the first half of the epoch as the step events report it (the app's with the dashboard
    on screen and no key pressed). The machine's own speed drifts by +-20% over tens of seconds, so
    each round pairs an app run with a CLI run next to it, and the median of the rounds' ratios is
    printed.
[2] While each model trains in the app, a key that switches the view is pressed ``--presses`` times;
    the latency is the time from the key event's arrival (posted as the terminal driver posts it)
    until the app has switched the view and repainted the screen (``call_after_refresh``). p50 and
    p95 are printed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from rnntui.presets import load_preset
from rnntui.training.experiment import train


def tiny_epoch(preset: str, steps: int):
    config = load_preset(preset)
    d = config.data
    tokens = int((steps * d.batch_size * d.num_steps + 2) / (1 - d.val_fraction)) + d.num_steps
    return config.replace(data={"max_tokens": tokens}, train={"epochs": 1, "device": "cpu"},
                          sample={"num_tokens": 20})


def half_epoch_speed(points) -> float:
    """tokens/s over the first half of the epoch, as the step events report it (the same for both)."""
    half = [p for p in points if p["step"] <= p["steps_per_epoch"] // 2]
    return half[-1]["tokens_per_s"] if half else float("nan")


def cli_tokens_per_s(config, runs: Path) -> float:
    from rnntui.cli import Progress

    points = []
    with open(os.devnull, "w") as devnull:
        progress = Progress(devnull, quiet=True)
        saved, sys.stdout = sys.stdout, devnull
        try:
            train(config, runs / f"cli-{time.monotonic_ns()}", [progress, lambda e: points.append(e.to_dict())])
        finally:
            sys.stdout = saved
    return half_epoch_speed([p for p in points if p["event"] == "step"])


async def app_run(config, runs: Path, presses: int) -> tuple[float, list[float]]:
    """Train ``config`` in the app; press keys while it trains; return (tokens/s, latencies in ms)."""
    from textual import events
    from textual.widgets import TabbedContent

    from rnntui.tui.app import RnntuiApp
    from rnntui.tui.widgets.dashboard import Dashboard

    app = RnntuiApp(preset=config.name, device="cpu", runs_dir=runs)
    latencies: list[float] = []
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.config = config  # the measured setup (the form holds the preset's own values)
        app.action_start_training()
        dashboard = app.query_one(Dashboard)
        tabs = app.query_one(TabbedContent)
        loop = asyncio.get_running_loop()
        while not dashboard.history.step_loss:  # wait for the first step (model built, data loaded)
            await asyncio.sleep(0.01)
        # [1] the first half of the epoch: the dashboard on screen, no keys pressed (as a user watches)
        # [2] then the keys, until the epoch ends
        half = dashboard.history.start.get("steps_per_epoch", 2) // 2
        while app.training and len(dashboard.history.step_loss) < half:
            await asyncio.sleep(0.05)
        speeds = dashboard.history.tokens_per_s  # one epoch: entry i is step i + 1's
        quiet_speed = speeds[half - 1] if len(speeds) >= half else float("nan")
        keys = ["2", "1"]
        for i in range(presses):
            if not app.training:
                break
            key = keys[i % 2]
            want = "runs" if key == "2" else "train"
            start = time.perf_counter()
            app.post_message(events.Key(key, key))  # as the terminal driver delivers it
            while tabs.active != want:
                await asyncio.sleep(0.001)
            painted = loop.create_future()
            app.call_after_refresh(lambda: painted.done() or painted.set_result(time.perf_counter()))
            latencies.append((await painted - start) * 1000)
            await asyncio.sleep(0.05)
        while app.training:
            await asyncio.sleep(0.05)
        await pilot.press("q")
    return quiet_speed, latencies


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--presses", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        runs = Path(tmp)
        for preset in ("lstm", "lstm-scratch"):
            config = tiny_epoch(preset, args.steps)
            app_speeds, cli_speeds, latencies = [], [], []
            for i in range(args.rounds):  # alternating which goes first, against drift in the machine's speed
                if i % 2:
                    cli_speeds.append(cli_tokens_per_s(config, runs))
                speed, lat = asyncio.run(app_run(config, runs, args.presses))
                app_speeds.append(speed)
                latencies += lat
                if not i % 2:
                    cli_speeds.append(cli_tokens_per_s(config, runs))
            a, c = statistics.median(app_speeds), statistics.median(cli_speeds)
            ratios = [x / y for x, y in zip(app_speeds, cli_speeds)]
            print(f"{preset}: {args.steps} steps x {args.rounds} rounds")
            print(f"  headless CLI  {c:>10,.0f} tokens/s (median)")
            print(f"  inside TUI    {a:>10,.0f} tokens/s (median)")
            print(f"  TUI/CLI       median of the rounds' ratios {statistics.median(ratios):.3f} "
                  f"(rounds {', '.join(f'{r:.3f}' for r in ratios)})")
            print(f"  key press -> repaint while training: p50 {percentile(latencies, 0.5):.1f} ms, "
                  f"p95 {percentile(latencies, 0.95):.1f} ms, max {max(latencies):.1f} ms (n={len(latencies)})")


if __name__ == "__main__":
    main()
