"""The vocabulary as a table that draws only the rows on screen.

A ``DataTable`` measures every cell of every row it is given, for every min_freq or token change (a new
vocabulary, thousands of rows for words: benchmarks/vocab_view.py).
``VocabTable`` keeps the engine's rows as they are and draws the visible ones in ``render_line``
(Textual's line API), so a change costs the same for 28 rows or 200,000.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from rnntui.data.vocab import UNK
from rnntui.inspect.vocab import Row

TOKEN_WIDTH = 18  # cells; a longer token is cut with an ellipsis (the find line shows it whole)
COLUMNS = ("index", "token", "count", "share", "cumulative")


class VocabTable(ScrollView, can_focus=True):
    """Rows of a ``VocabReport`` (index, token made visible, count, share, cumulative share), a header, and
    a cursor. Enter (or a click) posts :class:`VocabTable.Chosen`; moving the cursor posts ``Moved``."""

    COMPONENT_CLASSES = {"vocab-table--header", "vocab-table--cursor", "vocab-table--unk",
                         "vocab-table--reserved"}
    BINDINGS = [
        Binding("up", "move(-1)", "Up", show=False),
        Binding("down", "move(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "jump(0)", "First", show=False),
        Binding("end", "jump(-1)", "Last", show=False),
        Binding("enter", "choose", "Contexts", id="vocab.contexts", tooltip="show the token under the cursor in "
                "its contexts in the text (keyword in context)"),
    ]

    @dataclass
    class Chosen(Message):
        row: Row

    @dataclass
    class Moved(Message):
        row: Row

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.rows: Sequence[Row] = ()
        self.reserved: frozenset[str] = frozenset()
        self.cursor = 0
        self._widths = (5, TOKEN_WIDTH, 9, 7, 10)
        self._styles: dict[str, Style] = {}

    # -- data ------------------------------------------------------------------------------------------
    def set_rows(self, rows: Sequence[Row], reserved: Sequence[str] = ()) -> None:
        """Show these rows; the cursor stays on its index where it can (a min_freq change keeps the top)."""
        self.rows, self.reserved = rows, frozenset(reserved)
        digits = len(f"{len(rows) - 1:,}") if rows else 1
        count = len(f"{max((r.count for r in rows[:3]), default=0):,}")  # the top rows hold the largest counts
        self._widths = (max(5, digits), TOKEN_WIDTH, max(5, count), 7, 10)
        self.virtual_size = Size(self.content_width, len(rows) + 1)  # + the header
        self.cursor = min(self.cursor, max(0, len(rows) - 1))
        self._keep_visible()
        self.refresh()

    @property
    def content_width(self) -> int:
        return sum(self._widths) + 2 * len(self._widths)

    @property
    def current(self) -> Row | None:
        return self.rows[self.cursor] if self.rows else None

    def move_to(self, index: int) -> None:
        """Put the cursor on row ``index`` (scrolled into view)."""
        if not self.rows:
            return
        self.cursor = max(0, min(index, len(self.rows) - 1))
        self._keep_visible()
        self.refresh()
        self.post_message(self.Moved(self.rows[self.cursor]))

    def _keep_visible(self) -> None:
        visible = max(1, self.size.height - 1 - (1 if self.show_horizontal_scrollbar else 0))
        top = round(self.scroll_offset.y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + visible:
            self.scroll_to(y=self.cursor - visible + 1, animate=False, immediate=True)

    # -- keys and mouse --------------------------------------------------------------------------------
    def action_move(self, delta: int) -> None:
        self.move_to(self.cursor + delta)

    def action_page(self, direction: int) -> None:
        self.move_to(self.cursor + direction * max(1, self.size.height - 2))

    def action_jump(self, index: int) -> None:
        self.move_to(index if index >= 0 else len(self.rows) - 1)

    def action_choose(self) -> None:
        if self.rows:
            self.post_message(self.Chosen(self.rows[self.cursor]))

    def on_click(self, event: events.Click) -> None:
        if event.y >= 1 and self.rows:
            index = round(self.scroll_offset.y) + event.y - 1
            if index < len(self.rows):
                self.move_to(index)
                self.action_choose()

    def _on_resize(self, event: events.Resize) -> None:
        self._keep_visible()

    # -- drawing ---------------------------------------------------------------------------------------
    def notify_style_update(self) -> None:
        self._styles.clear()
        super().notify_style_update()

    def _style(self, name: str) -> Style:
        style = self._styles.get(name)
        if style is None:
            base = self.rich_style
            style = self._styles[name] = base if name == "base" else base + self.get_component_rich_style(name)
        return style

    def _cells(self, values: tuple[str, ...]) -> str:
        out = []
        for i, (value, width) in enumerate(zip(values, self._widths)):
            if i == 1:  # the token: left, cut to its width
                value = value if cell_len(value) <= width else set_cell_size(value, width - 1) + "…"
                out.append(" " + set_cell_size(value, width) + " ")
            else:
                out.append(" " + value.rjust(width) + " ")
        return "".join(out)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if y == 0:
            text, style = self._cells(COLUMNS), self._style("vocab-table--header")
        else:
            index = round(self.scroll_offset.y) + y - 1
            if not 0 <= index < len(self.rows):
                return Strip.blank(width, self._style("base"))
            row = self.rows[index]
            text = self._cells((f"{row.index:,}", row.display, f"{row.count:,}", f"{100 * row.share:.2f}%",
                                f"{100 * row.cumulative:.1f}%"))
            if index == self.cursor and self.has_focus:
                style = self._style("vocab-table--cursor")
            elif row.token == UNK:
                style = self._style("vocab-table--unk")
            elif row.token in self.reserved:
                style = self._style("vocab-table--reserved")
            else:
                style = self._style("base")
            if index == self.cursor and not self.has_focus:
                style = style + Style(underline=True)
        return Strip([Segment(text, style)]).adjust_cell_length(width, self._style("base"))

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def line_texts(self) -> list[str]:
        """The rows on screen as plain text, the header first (for tests)."""
        return [self.render_line(y).text.rstrip() for y in range(self.size.height)]
