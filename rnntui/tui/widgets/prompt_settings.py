"""The Prompt view's settings line: ``key label`` items that wrap between items, never inside one."""

from __future__ import annotations

from dataclasses import dataclass

from rich.style import Style
from rich.text import Text
from textual.widget import Widget

KEY = Style(bold=True, color="#ffaf5f")
USED = Style(bold=True)
UNUSED = Style(dim=True)
GAP = 3  # cells between items


@dataclass(frozen=True)
class Item:
    keys: str  # "t/T"
    label: str  # "T 0.8"
    used: bool = True  # False: the setting does not act on the current strategy (dimmed)

    def text(self) -> Text:
        text = Text(self.keys, KEY)
        text.append(" ")
        text.append(self.label, USED if self.used else UNUSED)
        return text


class SettingsLine(Widget):
    """``show(items, note)``: the items packed into as few lines as the width allows, the note (dim) last."""

    DEFAULT_CSS = "SettingsLine { height: auto; }"

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._parts: list[Text] = []

    def show(self, items: list[Item], note: str = "") -> None:
        self._parts = [item.text() for item in items] + ([Text(note, UNUSED)] if note else [])
        self.refresh(layout=True)

    @property
    def text(self) -> str:
        """The items on one line, as plain text."""
        return (" " * GAP).join(part.plain for part in self._parts)

    def _lines(self, width: int) -> list[Text]:
        lines: list[Text] = []
        for part in self._parts:
            if lines and lines[-1].cell_len + GAP + part.cell_len <= width:
                lines[-1].append(" " * GAP)
                lines[-1].append_text(part)
            else:
                lines.append(part.copy())
        return lines or [Text()]

    def get_content_height(self, container, viewport, width: int) -> int:
        return len(self._lines(width))

    def render(self) -> Text:
        return Text("\n").join(self._lines(max(self.content_size.width, 1)))
