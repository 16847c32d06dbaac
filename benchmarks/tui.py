"""The TUI under load: training speed inside the app against the headless CLI, and key-press latency.

    RNNTUI_DATA_DIR=../shared/data python benchmarks/tui.py [--steps 600] [--rounds 8] [--presses 12]
                            [--runs-listed 20] [--device cpu] [--presets lstm lstm-scratch]

[1] The ``lstm`` preset (and ``lstm-scratch``), on the whole Time Machine, for as many epochs as make
    twice ``--steps`` steps, is trained inside the running app (``App.run_test``: the full event loop,
    widgets, charts redrawn as in use; the app trains in its child process) and by the headless CLI as
    a user runs it (a fresh ``rnntui train --quiet`` process each round, for the epochs that hold
    ``--steps`` steps: a process kept warm from round to round had its kernels loaded and, on a GPU,
    its CUDA context made, which a run in the app's fresh child has not). Each figure is tokens/s
    over the same window of steps (from 10% of ``--steps`` to ``--steps``, past a fresh process's
    warm-up; an epoch's validation inside it counts on both sides), from the step times the training
    logged; in the app the dashboard is on screen and no key is pressed then, and every frame is
    encoded into terminal codes as a terminal needs it (Textual skips that when headless). The machine's own speed
    drifts by +-20% within seconds, so each app run sits between two CLI runs (CLI, app, CLI, app, ...,
    CLI) and is compared with their mean; the median of the rounds' ratios is printed with quartiles.
[2] After the measured steps of each app run, a key that switches the view (the costliest repaint: the whole
    screen changes) is pressed ``--presses`` times, then ``x`` stops the run. The latency is the time
    from the key event's arrival (posted as the terminal driver posts it) to the first frame the app
    puts out that shows the new view, including the frame's encoding into terminal codes (Textual
    skips that when headless; the benchmark does it). The Runs view lists ``--runs-listed`` past runs.
    The same keys are pressed again once the run has stopped: the UI's own cost. p50 and p95 over all
    rounds are printed; every round starts a fresh app, so its first press shows the Runs view for the
    first time (its table is rendered afresh): those are printed apart too. So is the proxy measured
    before, the time to the next refresh callback after the view switched, which also waits for the
    next screen-update tick after the frame (up to 1/60 s) and for any refresh due then.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import subprocess
import statistics
import sys
import shutil
import tempfile
import time
from pathlib import Path

from frames import percentile, watch_frames

from rnntui.config import to_toml
from rnntui.presets import load_preset


def bench_config(preset: str, device: str = "cpu", epochs: int = 1):
    return load_preset(preset).replace(train={"epochs": epochs, "device": device}, sample={"num_tokens": 20})


def window_speed(elapsed: list[float], tokens_per_step: int) -> float:
    """tokens/s from the step at 10% of the window to its end: the same window for both sides, past the
    warm-up (a fresh process builds its oneDNN primitives in its first steps)."""
    end = len(elapsed)
    first = max(1, end // 10)
    return (end - first) * tokens_per_step / (elapsed[end - 1] - elapsed[first - 1])


def cli_tokens_per_s(config, runs: Path, steps: int) -> tuple[float, int]:
    """The headless CLI as a user runs it: a fresh ``rnntui train`` process (a warm one would start with
    its kernels loaded and, on a GPU, its CUDA context made), for the epochs that hold ``steps`` steps.
    Returns tokens/s over the window, from the step times in its metrics.jsonl, and the steps in an epoch."""
    out = runs / f"cli-{time.monotonic_ns()}"
    runs.mkdir(parents=True, exist_ok=True)
    toml = runs / "bench.toml"
    toml.write_text(to_toml(config), encoding="utf-8")
    subprocess.run([sys.executable, "-m", "rnntui", "train", "--config", str(toml), "--out", str(out), "--quiet"],
                   check=True, stdout=subprocess.DEVNULL)
    lines = [json.loads(line) for line in (out / "metrics.jsonl").read_text(encoding="utf-8").splitlines()]
    elapsed = [e["elapsed_s"] for e in lines if e["event"] == "step"]
    per_epoch = next(e["steps_per_epoch"] for e in lines if e["event"] == "start")
    return window_speed(elapsed[:steps], config.data.batch_size * config.data.num_steps), per_epoch


async def app_run(config, runs: Path, steps: int, presses: int, device: str) -> tuple[float, tuple, tuple]:
    """Train ``config`` in the app; press keys while it trains, and after it stopped; return tokens/s and,
    for each of the two phases, the latencies (ms) as ``press_view_keys`` returns them."""
    from rnntui.cli import freeze_heap
    from rnntui.tui.app import RnntuiApp
    from rnntui.tui.widgets.dashboard import Dashboard

    # as the rnntui command starts it (its heap frozen once torch is in)
    app = RnntuiApp(preset=config.name, device=device, runs_dir=runs, when_warm=freeze_heap)
    async with app.run_test(size=(120, 40)) as pilot:
        while not app.warm:  # every view mounted, torch imported
            await asyncio.sleep(0.05)
        frames = watch_frames(app, lambda: app.shown)  # every frame is encoded for the terminal, the charts' while training too
        view = app.view("train")
        view.config = config  # the measured setup (the form holds the preset's own values)
        dashboard = app.query_one(Dashboard)
        elapsed_s: list[float] = []  # the step times the training process reported, as they reach the UI
        add_points = dashboard.add_points
        dashboard.add_points = lambda points: (  # (the per-group gradient norms come with the steps)
            elapsed_s.extend(p["elapsed_s"] for p in points if p["event"] == "step"), add_points(points))
        view.action_start()
        while not dashboard.history.step_loss:  # wait for the first step (model built, data loaded)
            if not app.is_running:
                raise RuntimeError("the app ended before the run's first step (see its error above)")
            await asyncio.sleep(0.01)
        # [1] the first ``steps`` steps: the dashboard on screen, no keys pressed (as a user watches)
        # [2] then the keys, until the run ends
        while view.training and len(dashboard.history.step_loss) < steps:
            await asyncio.sleep(0.25)  # the benchmark's own wake-ups stay few (the steps arrive 4 times a second)
        assert len(dashboard.history.step_loss) >= steps, "the run ended early"
        quiet_speed = window_speed(elapsed_s[:steps], config.data.batch_size * config.data.num_steps)
        latencies = await press_view_keys(app, frames, presses, lambda: view.training)
        await pilot.press("x")  # stop (and save), as a user would
        while view.training:
            await asyncio.sleep(0.05)
        idle = await press_view_keys(app, frames, presses, lambda: True)  # the same screens, nothing training
        await pilot.press("q")
    return quiet_speed, latencies, idle


async def press_view_keys(app, frames: list, presses: int, go_on) -> tuple[list[float], list[float]]:
    """Press 2 (Runs) and 1 (Train) in turn. For each press, the ms from the key's arrival to the first
    frame that shows the new view, and (the proxy used before) to the next refresh callback after the
    view switched."""
    from textual import events

    loop = asyncio.get_running_loop()
    latencies, callbacks = [], []
    for i in range(presses):
        if not go_on():
            break
        key = "2" if i % 2 == 0 else "1"
        want = "runs" if key == "2" else "train"
        del frames[:]
        start = time.perf_counter()
        app.post_message(events.Key(key, key))  # as the terminal driver delivers it
        while app.shown != want:
            await asyncio.sleep(0.001)
        painted = loop.create_future()
        app.call_after_refresh(lambda: painted.done() or painted.set_result(time.perf_counter()))
        callbacks.append((await painted - start) * 1000)
        while not any(view == want for _, view in frames):
            await asyncio.sleep(0.001)
        latencies.append((next(t for t, view in frames if view == want) - start) * 1000)
        await asyncio.sleep(0.05)
    return latencies, callbacks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # ~8 s timed per side and round on 2 cores: the machine's speed drifts within seconds, and a longer
    # window averages that out (with 200 steps single rounds scattered 0.72-1.62x, with 600 0.83-1.18x)
    parser.add_argument("--steps", type=int, default=600, help="the steps whose speed is measured; as many again for keys")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--presses", type=int, default=12, help="key presses per round, after the measured steps")
    parser.add_argument("--runs-listed", type=int, default=20, help="past runs in the app's Runs view")
    parser.add_argument("--device", default="cpu", help="where both sides train: cpu (default), cuda, ...")
    parser.add_argument("--presets", nargs="+", default=["lstm", "lstm-scratch"], help="torch.nn and scratch LSTM")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for preset in args.presets:
            cli_runs = tmp / f"cli-{preset}"
            # a warm-up, which tells the steps in an epoch; its run folder seeds the app's Runs list
            _, per_epoch = cli_tokens_per_s(bench_config(preset, args.device), cli_runs, 20)
            epochs = math.ceil(2 * args.steps / per_epoch)  # the measured steps, then as many for the keys
            config = bench_config(preset, args.device, epochs)
            cli_config = bench_config(preset, args.device, math.ceil(args.steps / per_epoch))
            seed = next(path for path in cli_runs.iterdir() if path.is_dir())
            app_speeds, cli_speeds = [], []
            phases = {"while training": [], "nothing training": []}  # per round: (frame ms, callback ms) lists
            cli_speeds.append(cli_tokens_per_s(cli_config, cli_runs, args.steps)[0])
            for i in range(args.rounds):  # CLI, app, CLI, app, ..., CLI: each app run between two CLI runs
                runs = tmp / f"app-{preset}-{i}"  # every round's Runs view lists the same --runs-listed runs
                for k in range(args.runs_listed):
                    shutil.copytree(seed, runs / f"{preset}-20261127-{k:06d}")
                speed, training, idle = asyncio.run(app_run(config, runs, args.steps, args.presses, args.device))
                app_speeds.append(speed)
                phases["while training"].append(training)
                phases["nothing training"].append(idle)
                cli_speeds.append(cli_tokens_per_s(cli_config, cli_runs, args.steps)[0])
            a, c = statistics.median(app_speeds), statistics.median(cli_speeds)
            # each app run against the mean of the CLI runs before and after it: a drift in the machine's
            # speed that is steady over the half minute between them cancels
            ratios = [x / ((before + after) / 2) for x, before, after in zip(app_speeds, cli_speeds, cli_speeds[1:])]
            print(f"{preset}: tokens/s over steps {args.steps // 10}-{args.steps} of {epochs} epochs of {per_epoch} steps, "
                  f"x {args.rounds} rounds on {args.device}, "
                  f"{args.runs_listed} past runs listed")
            print(f"  headless CLI  {c:>10,.0f} tokens/s (median)")
            print(f"  inside TUI    {a:>10,.0f} tokens/s (median)")
            q1, _, q3 = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else ratios * 3
            print(f"  TUI/CLI       median of the rounds' ratios (app / mean of the CLI runs around it) "
                  f"{statistics.median(ratios):.3f} "
                  f"(quartiles {q1:.3f}-{q3:.3f}; "
                  f"rounds {', '.join(f'{r:.3f}' for r in ratios)})")
            for phase, rounds in phases.items():
                frames = [ms for lat, _ in rounds for ms in lat]
                firsts = [lat[0] for lat, _ in rounds]  # the Runs view's first showing in the round (cold)
                later = [ms for lat, _ in rounds for ms in lat[1:]]
                callbacks = [ms for _, cb in rounds for ms in cb]
                print(f"  key press -> first frame of the new view, {phase}: p50 {percentile(frames, 0.5):.1f} ms, "
                      f"p95 {percentile(frames, 0.95):.1f} ms, max {max(frames):.1f} ms (n={len(frames)}); "
                      f"first press of a round: median {statistics.median(firsts):.1f} ms, max {max(firsts):.1f}; "
                      f"the others: p95 {percentile(later, 0.95):.1f} ms")
                print(f"    (to the next refresh callback instead, the proxy used before: p50 "
                      f"{percentile(callbacks, 0.5):.1f} ms, p95 {percentile(callbacks, 0.95):.1f} ms)")

if __name__ == "__main__":
    main()
