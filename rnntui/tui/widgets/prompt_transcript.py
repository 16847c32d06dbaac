"""The Prompt view's transcript: earlier prompts and their outputs, one entry each, the last one growing.

RichLog can only append lines; a streamed continuation changes its entry many times a second. Here each
entry is a Rich renderable rendered into strips at the widget's width and kept; ``set`` renders that
entry again (the one being streamed: a few hundred characters), the others stay as they were. The
transcript follows its end while it is scrolled there (as it grows, and when its height changes), and
stays where the user scrolled it otherwise.
"""

from __future__ import annotations

from rich.console import RenderableType
from rich.segment import Segment
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

MAX_ENTRIES = 200  # the oldest go: a transcript is for looking back a little, not an archive


class PromptTranscript(ScrollView, can_focus=True):
    """``add(renderable)`` returns the entry's key; ``set(key, renderable)`` replaces it (``set_many``
    several); ``text(key)`` is its text as shown (lines joined by newlines)."""

    DEFAULT_CSS = """
    PromptTranscript { overflow-y: scroll; overflow-x: hidden; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._entries: list[tuple[int, RenderableType]] = []  # (key, renderable), oldest first
        self._strips: dict[int, list[Strip]] = {}  # key -> its lines at self._width
        self._lines: list[Strip] = []  # every entry's lines, in order, a blank line after each
        self._starts: dict[int, int] = {}  # key -> its first line in _lines
        self._width = 0
        self._next_key = 0
        self._following = True  # scrolled to the end: it stays there as entries grow or the view resizes

    # -- entries -----------------------------------------------------------------------------------------
    @property
    def keys(self) -> list[int]:
        return [key for key, _ in self._entries]

    def add(self, renderable: RenderableType) -> int:
        key = self._next_key
        self._next_key += 1
        self._entries.append((key, renderable))
        if len(self._entries) > MAX_ENTRIES:
            old, _ = self._entries.pop(0)
            self._strips.pop(old, None)
            self._relayout()
        self._render(key, renderable)
        self._update(key)
        return key

    def set(self, key: int, renderable: RenderableType) -> None:
        """Replace the entry ``key`` (gone already: nothing happens)."""
        for i, (k, _) in enumerate(self._entries):
            if k == key:
                self._entries[i] = (key, renderable)
                self._render(key, renderable)
                self._update(key)
                return

    def set_many(self, renderables: dict[int, RenderableType]) -> None:
        """Replace several entries at once (laid out once); keys that are gone are skipped."""
        for i, (key, _) in enumerate(self._entries):
            if key in renderables:
                self._entries[i] = (key, renderables[key])
                self._render(key, renderables[key])
        self._relayout()
        self._follow()

    def clear(self) -> None:
        self._entries.clear()
        self._strips.clear()
        self._relayout()

    def text(self, key: int | None = None) -> str:
        """The text of entry ``key`` as shown at this width (all entries when None)."""
        keys = self.keys if key is None else [key]
        return "\n".join(strip.text.rstrip() for k in keys for strip in self._strips.get(k, []))

    def strips(self, key: int) -> list[Strip]:
        """The lines of entry ``key`` as drawn (with their styles)."""
        return list(self._strips.get(key, []))

    # -- rendering ----------------------------------------------------------------------------------------
    def _render(self, key: int, renderable: RenderableType) -> None:
        width = self._width
        if width <= 0:  # not laid out yet: rendered at the first resize
            self._strips[key] = []
            return
        console = self.app.console
        options = console.options.update_width(width).update(highlight=False)
        lines = list(Segment.split_lines(console.render(renderable, options)))
        strips = Strip.from_lines(lines) if lines else [Strip.blank(width)]
        for strip in strips:
            strip.adjust_cell_length(width)
        self._strips[key] = strips

    def _update(self, key: int) -> None:
        """Lay the lines out again after entry ``key`` changed."""
        if self._entries and self._entries[-1][0] == key:  # the last (or a new) entry: only its lines
            start = self._starts.setdefault(key, len(self._lines))
            del self._lines[start:]
            self._lines += self._strips[key] + [Strip.blank(self._width)]
        else:
            self._relayout()
        self.virtual_size = Size(self._width, len(self._lines))
        self._follow()
        self.refresh()

    def _follow(self) -> None:
        if self._following:
            self.scroll_end(animate=False, immediate=True, x_axis=False)

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._following = new_value >= self.max_scroll_y  # the user scrolled up: it stays where they look

    def _relayout(self) -> None:
        self._lines, self._starts = [], {}
        for key, _ in self._entries:
            self._starts[key] = len(self._lines)
            self._lines += self._strips.get(key, []) + [Strip.blank(self._width)]
        self.virtual_size = Size(self._width, len(self._lines))
        self.refresh()

    def on_resize(self) -> None:
        width = self.scrollable_content_region.width
        if width != self._width:
            self._width = width
            for key, renderable in self._entries:
                self._render(key, renderable)
            self._relayout()
        self._follow()  # (also when only its height changed: a status line came or went)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self.refresh()

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.scrollable_content_region.width
        if index >= len(self._lines):
            return Strip.blank(width, self.rich_style)
        return self._lines[index].crop_extend(scroll_x, scroll_x + width, self.rich_style).apply_style(
            self.rich_style)
