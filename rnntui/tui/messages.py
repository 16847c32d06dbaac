"""Messages between the parts of the app, as dataclasses of plain numbers and strings (``Event.to_dict``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textual.message import Message


@dataclass
class SessionMessage(Message):
    """From a training session to the view that started it."""

    run_dir: Path


@dataclass
class RunStarted(SessionMessage):
    """The worker is starting the run's process (its first event follows once data and model are ready)."""


@dataclass
class StepsLogged(SessionMessage):
    """A batch of step events (never replaced or dropped: the charts need every point)."""

    points: list[dict[str, Any]]


@dataclass
class RunEvent(SessionMessage):
    """A start, epoch or end event of the run."""

    event: dict[str, Any]


@dataclass
class RunEnded(SessionMessage):
    """The run is over: ``status`` is finished, stopped or failed; ``reason`` says why in one line."""

    status: str
    reason: str
    epochs_done: int


@dataclass
class TorchReady(Message):
    """torch is imported (after the first frame): the devices it can train on, as (label, name)."""

    devices: list[tuple[str, str]]
