"""A strip of continuations of the same text at a few temperatures, side by side (the Sampling view), and a
one-line text widget that repaints without a layout pass."""

from __future__ import annotations

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from rnntui.tui.widgets.token_bars import visible


class TextLine(Widget):
    """Rich text in a widget of fixed height: ``text`` repaints it (``Static.update`` lays out the screen)."""

    DEFAULT_CSS = "TextLine { height: 1; width: 1fr; padding: 0 1; }"
    text: reactive[Text | str] = reactive("", layout=False)

    def render(self) -> RenderableType:
        return self.text


class ContinuationStrip(Widget):
    """``show(title, [(temperature, tokens), ...], token)``: one column per temperature; ``waiting`` greys the
    columns while new ones are drawn."""

    DEFAULT_CSS = """
    ContinuationStrip { height: 5; padding: 0 1; }
    ContinuationStrip > .continuation-strip--title { color: $text-muted; }
    ContinuationStrip > .continuation-strip--temperature { color: $accent; text-style: bold; }
    ContinuationStrip > .continuation-strip--waiting { color: $text-disabled; }
    """
    COMPONENT_CLASSES = {"continuation-strip--title", "continuation-strip--temperature",
                         "continuation-strip--waiting"}

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.title = ""
        self.columns: list[tuple[float, list[str]]] = []
        self.token = "char"
        self.waiting = False

    def show(self, title: str, columns: list[tuple[float, list[str]]], token: str = "char") -> None:
        self.title, self.columns, self.token, self.waiting = title, columns, token, False
        self.refresh()

    def wait(self, title: str | None = None) -> None:
        """New continuations are being drawn: the old ones greyed meanwhile."""
        self.waiting = True
        if title is not None:
            self.title = title
        self.refresh()

    def texts(self) -> list[str]:
        """Each column's continuation as shown (tokens made visible; words joined by spaces)."""
        if self.token == "char":
            return ["".join(visible(t) if t in ("\n", "\t", "\r") else t for t in tokens) for _, tokens in self.columns]
        return [" ".join(visible(t) for t in tokens) for _, tokens in self.columns]

    def render(self) -> RenderableType:
        title = Text(self.title, style=self.get_component_rich_style("continuation-strip--title"), no_wrap=True,
                     overflow="ellipsis")
        if not self.columns:
            return title
        grid = Table.grid(expand=True, padding=(0, 1))
        for _ in self.columns:
            grid.add_column(ratio=1, overflow="fold")
        head = self.get_component_rich_style("continuation-strip--temperature")
        body = self.get_component_rich_style("continuation-strip--waiting") if self.waiting else None
        grid.add_row(*[Text(f"T {t:g}", style=head) for t, _ in self.columns])
        grid.add_row(*[Text(text, style=body or "") for text in self.texts()])
        if self.content_size.height < 4:  # no room for the title (80x24)
            return grid
        outer = Table.grid(expand=True)
        outer.add_row(title)
        outer.add_row(grid)
        return outer
