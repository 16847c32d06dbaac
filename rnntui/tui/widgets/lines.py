"""Pieces the views with parts share: a line to type into that Esc leaves, and a scroll that leaves the
focus (and so the keys) with its view."""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Input


class LineInput(Input):
    """An input line that Esc leaves (the view's keys work again) and up/down can step (a number in it)."""

    BINDINGS = [
        Binding("escape", "leave", "Leave", id="line.leave", tooltip="leave the line: the view's keys work again"),
        Binding("up", "bump(1)", "Up", show=False),
        Binding("down", "bump(-1)", "Down", show=False),
    ]

    @dataclass
    class Left(Message):
        input: LineInput

    @dataclass
    class Bumped(Message):
        input: LineInput
        delta: int

    def action_leave(self) -> None:
        self.post_message(self.Left(self))

    def action_bump(self, delta: int) -> None:
        self.post_message(self.Bumped(self, delta))


class QuietScroll(VerticalScroll, can_focus=False):
    """Scrolls with the wheel; the view keeps the focus (and its keys: arrows that step, say)."""
