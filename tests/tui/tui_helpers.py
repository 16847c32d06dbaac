"""Helpers for the TUI tests: a tiny setup entered into the form, waiting on the app, synthetic runs.

(Not a conftest.py: the tests of the parent folder import theirs as ``conftest``; a second one would
shadow it.)
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# The read-only copies of the d2l data files, next to the repository (as tests/conftest.py has it).
SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"

# A language model that trains an epoch in about a second on one CPU thread: Python's own docs (built in,
# offline), cut to 20k characters, a 32-unit LSTM.
TINY = {
    "data.max_tokens": "20000",
    "data.batch_size": "16",
    "data.num_steps": "10",
    "model.num_hiddens": "32",
    "train.epochs": "2",
    "sample.prefix": "the ",
    "sample.num_tokens": "10",
}

# What the device list looks like on every machine (torch's thread count varies).
FIXED_DEVICES = [("auto (best available)", "auto"), ("CPU, 4 threads", "cpu")]


def make_app(runs_dir: Path, preset: str = "lstm", device: str = "cpu"):
    from rnntui.tui.app import RnntuiApp

    app = RnntuiApp(preset=preset, device=device, runs_dir=runs_dir, data_dir=SHARED_DATA)
    app.animation_level = "none"  # a tab switch waits for no underline animation (3x faster tests)
    return app


async def ready(pilot) -> None:
    """Wait until every view is mounted (they follow the first frame)."""
    await wait_for(pilot, lambda: pilot.app.ready, what="the views to be mounted")


def train(app):
    """The app's Train view (the setup form, the run and its dashboard)."""
    return app.view("train")


def record_notifications(app) -> list[tuple[str, dict[str, Any]]]:
    """Every ``app.notify`` call, also when the test harness shows no toasts."""
    notes: list[tuple[str, dict[str, Any]]] = []
    original = app.notify

    def notify(message, **kwargs):
        notes.append((str(message), kwargs))
        return original(message, **kwargs)

    app.notify = notify
    return notes


async def wait_for(pilot, condition: Callable[[], bool], timeout: float = 20.0, what: str = "") -> None:
    """Let the app run until ``condition()`` holds (fails the test after ``timeout`` seconds)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what or condition}")
        await pilot.pause(0.05)


async def set_fields(pilot, corpus: str | None = "pydoc", **fields: str) -> None:
    """Fill in the setup form the way typing would: each Input's value (validated on change), the data
    source Select; keys are ``section.name`` (``data.max_tokens``)."""
    from textual.widgets import Input, Select

    from rnntui.tui.widgets.setup_form import field_id

    app = pilot.app
    view = train(app)
    await wait_for(pilot, lambda: view.config is not None or view.setup_error, what="the setup form's fields")
    if corpus is not None:
        app.query_one("#corpus", Select).value = corpus
    for key, value in fields.items():
        widget = app.query_one(f"#{field_id(key)}")
        if isinstance(widget, Input):
            widget.value = value
        else:
            assert isinstance(widget, Select)
            widget.value = value
    await pilot.pause()


async def tiny_setup(pilot, **overrides: str) -> None:
    values = {**TINY, **{k.replace("__", "."): v for k, v in overrides.items()}}
    await set_fields(pilot, "pydoc", **values)
    app = pilot.app
    view = train(app)
    await wait_for(pilot, lambda: view.config is not None and view.config.data.corpus == "pydoc",
                   what="a valid tiny setup")
    assert view.setup_error == ""


async def start_live_run(pilot, **overrides: str):
    """A tiny run (``tiny_setup``'s overrides) training from the Train view, and the inspector views' model
    chosen to be it ("the run training now"); returns the Train view."""
    from rnntui.tui.model_choice import ModelChoice

    await tiny_setup(pilot, **overrides)
    view = train(pilot.app)
    await pilot.press("s")
    await wait_for(pilot, lambda: view.training, what="the run to start")
    pilot.app.model_choice = ModelChoice("live")
    return view


def step_lines(run_dir: Path) -> int:
    with (run_dir / "metrics.jsonl").open(encoding="utf-8") as f:
        return sum(1 for line in f if json.loads(line)["event"] == "step")


def log_text(log) -> str:
    """The lines of a RichLog as plain text, whitespace (and so the wrapping) collapsed."""
    return " ".join(" ".join(strip.text for strip in log.lines).split())


async def shutdown_executor(timeout: float = 10.0) -> None:
    """Join the event loop's worker threads (a thread worker runs in them): it times out while a training
    thread is still running."""
    loop = asyncio.get_running_loop()
    await asyncio.wait_for(loop.shutdown_default_executor(), timeout)


# -- synthetic, deterministic runs (no training) ---------------------------------------------------------------

def synthetic_events(epochs: int = 4, steps_per_epoch: int = 25, scale: float = 1.0, seed: int = 0,
                     device: str = "cpu") -> list[dict[str, Any]]:
    """What a language-model run writes to metrics.jsonl, with made-up but smooth numbers."""
    import math

    events: list[dict[str, Any]] = [{
        "event": "start", "epochs": epochs, "steps_per_epoch": steps_per_epoch, "device": device,
        "num_params": 12345, "description": "LSTM (torch), 32 hidden; synthetic", "unit": "tok",
    }]
    elapsed, g = 0.0, 0
    for epoch in range(1, epochs + 1):
        total = 0.0
        for step in range(1, steps_per_epoch + 1):
            g += 1
            elapsed += 0.05
            loss = scale * (1.2 + 2.0 * math.exp(-g / 30)) + 0.15 * math.sin(g * 0.7 + seed)
            grad = 0.6 + 0.5 * abs(math.sin(g * 0.3 + seed)) + (0.8 if g % 17 == 0 else 0.0)
            total += loss
            events.append({
                "event": "step", "epoch": epoch, "step": step, "global_step": g, "steps_per_epoch": steps_per_epoch,
                "loss": round(loss, 6), "grad_norm": round(grad, 6), "clipped": grad > 1.0,
                "tokens_per_s": 5000.0 + 10 * step, "elapsed_s": round(elapsed, 3),
            })
        train_loss = total / steps_per_epoch
        events.append({
            "event": "epoch", "epoch": epoch, "epochs": epochs, "tokens_per_s": 5100.0,
            "elapsed_s": round(elapsed, 3), "sample": f"the time {'traveller ' * epoch}".strip(),
            "train_loss": round(train_loss, 6), "train_ppl": round(math.exp(train_loss), 4),
            "val_loss": round(train_loss + 0.1, 6), "val_ppl": round(math.exp(train_loss + 0.1), 4),
        })
    events.append({"event": "end", "status": "finished", "epochs_done": epochs, "elapsed_s": round(elapsed, 3),
                   "message": "", "best": {}})
    return events


def write_run(runs_dir: Path, name: str, config, events: list[dict[str, Any]], mtime: float) -> Path:
    """A run folder as rnntui writes it (config.toml and metrics.jsonl), with a fixed modification time
    (the runs view lists the newest first)."""
    from rnntui.config import to_toml

    run = runs_dir / name
    run.mkdir(parents=True)
    (run / "config.toml").write_text(to_toml(config), encoding="utf-8")
    (run / "metrics.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    for path in (run / "config.toml", run / "metrics.jsonl", run):
        os.utime(path, (mtime, mtime))
    return run
