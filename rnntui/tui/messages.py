"""Messages from the training worker to the UI: plain dicts of numbers and strings (``Event.to_dict``)."""

from __future__ import annotations

from typing import Any

from textual.message import Message


class StepsLogged(Message):
    """A batch of step events (never replaced or dropped: the charts need every point)."""

    def __init__(self, points: list[dict[str, Any]]) -> None:
        super().__init__()
        self.points = points


class RunEvent(Message):
    """A start, epoch or end event."""

    def __init__(self, event: dict[str, Any]) -> None:
        super().__init__()
        self.event = event
