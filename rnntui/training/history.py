"""A run's complete history, built from events (live) or from ``metrics.jsonl`` (a finished run).

Plain lists of floats: what the charts draw and the runs view compares. Nothing is dropped.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def _num(value: Any) -> float:
    return math.nan if value is None else float(value)


@dataclass
class History:
    start: dict[str, Any] = field(default_factory=dict)
    end: dict[str, Any] = field(default_factory=dict)
    step_loss: list[float] = field(default_factory=list)
    grad_norm: list[float] = field(default_factory=list)  # before clipping
    clipped: list[bool] = field(default_factory=list)
    tokens_per_s: list[float] = field(default_factory=list)
    epochs: list[dict[str, Any]] = field(default_factory=list)  # one dict of metrics per epoch
    last_step: dict[str, Any] = field(default_factory=dict)
    grad_groups: list[dict[str, Any]] = field(default_factory=list)  # "grads" events: per-group norms
    bad_lines: int = 0  # complete lines of metrics.jsonl that are not events (a damaged file)
    _smoothed: list[float] = field(default_factory=list, repr=False, compare=False)
    _smoothed_avg: float = field(default=0.0, repr=False, compare=False)

    def add(self, event: dict[str, Any]) -> None:
        """Take one event as ``Event.to_dict()`` gives it (or as read back from metrics.jsonl)."""
        kind = event.get("event")
        if kind == "step":
            self.step_loss.append(_num(event["loss"]))
            self.grad_norm.append(_num(event["grad_norm"]))
            self.clipped.append(bool(event["clipped"]))
            self.tokens_per_s.append(_num(event["tokens_per_s"]))
            self.last_step = event
        elif kind == "grads":
            self.grad_groups.append(event)
        elif kind == "epoch":
            self.epochs.append(event)
        elif kind == "start":
            self.start = event
        elif kind == "end":
            self.end = event

    def epoch_series(self, key: str) -> list[float]:
        return [_num(e.get(key)) for e in self.epochs]

    def metric_keys(self) -> list[str]:
        skip = {"event", "epoch", "epochs", "tokens_per_s", "elapsed_s", "sample"}
        keys: list[str] = []
        for e in self.epochs:
            keys += [k for k in e if k not in skip and k not in keys]
        return keys

    SMOOTHING = 0.9

    def smoothed_loss(self) -> list[float]:
        """Exponential moving average of the step loss (weight ``SMOOTHING``), bias-corrected (as
        TensorBoard draws it). Kept and extended by the steps that came since the last call: a chart
        redraw then costs the new steps, not the whole run. The list is the history's own: do not change it."""
        out, avg, weight = self._smoothed, self._smoothed_avg, self.SMOOTHING
        for i in range(len(out), len(self.step_loss)):
            avg = weight * avg + (1 - weight) * self.step_loss[i]
            out.append(avg / (1 - weight ** (i + 1)))
        self._smoothed_avg = avg
        return out

    @property
    def clipped_fraction(self) -> float:
        return sum(self.clipped) / len(self.clipped) if self.clipped else 0.0


def load_history(path: str | Path) -> History:
    """A run's history from its metrics.jsonl; a torn last line (a crash mid-write) is skipped."""
    history = History()
    read_more(history, path, 0)
    return history


def read_more(history: History, path: str | Path, offset: int) -> int:
    """Add the events of ``path`` from byte ``offset`` on to ``history``; returns the offset after the
    last complete line, where the next call for a growing file starts (metrics.jsonl is append-only)."""
    events, offset, bad = read_events(path, offset)
    history.bad_lines += bad
    for event in events:
        try:
            history.add(event)
        except (KeyError, TypeError, ValueError, AttributeError):
            history.bad_lines += 1
    return offset


def read_events(path: str | Path, offset: int = 0) -> tuple[list[dict[str, Any]], int, int]:
    """(the events of ``path`` from byte ``offset`` on, the offset after the last complete line, how many
    complete lines were not JSON objects). A line still being written waits for the next call."""
    with Path(path).open("rb") as f:
        f.seek(offset)
        data = f.read()
    end = data.rfind(b"\n") + 1
    events, bad = [], 0
    for line in data[:end].splitlines():
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError):
            bad += 1
            continue
        if isinstance(event, dict) and "event" in event:
            events.append(event)
        else:
            bad += 1
    return events, offset + end, bad
