"""What one redraw of each dashboard chart costs, in the running app, on a run's history.

    python benchmarks/charts.py [--metrics RUN/metrics.jsonl] [--steps 3000] [--sizes 120x40 200x60 80x24]

For each terminal size, the dashboard shows the first ``--steps`` steps of the run (a real run's
metrics.jsonl, or made-up noisy numbers shaped like a language model's), and each chart is redrawn
``--repeats`` times two ways: rnntui's (the chart's data drawn by plotext into its matrix of cells, which
goes straight into Textual's strips) and PlotextPlot's own ``render`` (plotext writes the matrix out as
ANSI text, Rich reads it back, Textual turns it into strips). The medians are printed in ms, with their
ratio. The machine's speed drifts, so the two ways alternate and only ratios mean much across machines.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import random
import statistics
import tempfile
import time
from pathlib import Path


def made_up_run(steps: int, per_epoch: int = 139) -> list[dict]:
    """A language-model run's events: a falling, noisy loss; noisy gradient norms; a jittery speed."""
    rng = random.Random(0)
    events: list[dict] = [{"event": "start", "epochs": math.ceil(steps / per_epoch), "steps_per_epoch": per_epoch,
                           "device": "cpu", "num_params": 300060, "description": "made up", "unit": "tok"}]
    for g in range(1, steps + 1):
        loss = 1.3 + 2.0 * math.exp(-g / 400) + rng.gauss(0, 0.08)
        events.append({"event": "step", "epoch": (g - 1) // per_epoch + 1, "step": (g - 1) % per_epoch + 1,
                       "global_step": g, "steps_per_epoch": per_epoch, "loss": loss,
                       "grad_norm": abs(rng.gauss(0.3, 0.15)), "clipped": False,
                       "tokens_per_s": 80000 + rng.gauss(0, 8000), "elapsed_s": g * 0.015})
        if g % per_epoch == 0:
            ppl = math.exp(1.3 + 2.0 * math.exp(-g / 400))
            events.append({"event": "epoch", "epoch": g // per_epoch, "train_loss": math.log(ppl),
                           "train_ppl": ppl, "val_ppl": ppl * 1.05})
    return events


async def measure(events: list[dict], steps: int, size: tuple[int, int], repeats: int) -> None:
    from textual.visual import Visual

    from rnntui.training.history import History
    from rnntui.tui.app import RnntuiApp
    from rnntui.tui.widgets.dashboard import Dashboard

    history, seen = History(), 0
    for event in events:
        seen += event["event"] == "step"
        if seen > steps:
            break
        history.add(event)
    app = RnntuiApp(preset="lstm", device="cpu", runs_dir=Path(tempfile.mkdtemp()))
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        dash = app.query_one(Dashboard)
        app.query_one("#train-switcher").current = "dashboard"
        dash.show_history(history, "benchmark", 1.0)
        await pilot.pause(0.5)
        print(f"{size[0]}x{size[1]}, {len(history.step_loss)} steps, each chart {dash._charts[0].size.width}x"
              f"{dash._charts[0].size.height}:")
        for chart in dash._charts:
            ours, stock = [], []
            for _ in range(repeats):
                start = time.perf_counter()
                chart.show(history)
                chart._draw_lines()
                ours.append(time.perf_counter() - start)
                start = time.perf_counter()
                chart.show(history)
                Visual.to_strips(chart, chart._render(), chart.size.width, chart.size.height, chart.visual_style)
                stock.append(time.perf_counter() - start)
            a, b = statistics.median(ours) * 1000, statistics.median(stock) * 1000
            print(f"  {type(chart).__name__:<12} rnntui {a:6.1f} ms   PlotextPlot.render {b:6.1f} ms   ratio {a / b:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--metrics", type=Path, help="a run's metrics.jsonl (default: a made-up run)")
    parser.add_argument("--steps", type=int, default=3000, help="the steps of the run shown")
    parser.add_argument("--sizes", nargs="+", default=["120x40", "200x60", "80x24"])
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args()
    if args.metrics:
        events = [json.loads(line) for line in args.metrics.read_text(encoding="utf-8").splitlines() if line.strip()]
    else:
        events = made_up_run(args.steps)
    for size in args.sizes:
        width, height = map(int, size.lower().split("x"))
        asyncio.run(measure(events, args.steps, (width, height), args.repeats))


if __name__ == "__main__":
    main()
