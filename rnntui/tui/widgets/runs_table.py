"""The runs table: a DataTable that keeps its rendered rows between visits and draws plain cells fast."""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.widget import Widget
from textual.widgets import DataTable


class RunsTable(DataTable):
    """A DataTable that keeps its rendered rows when the Runs view is shown again.

    DataTable throws every rendered row away on each Resize and each style update, and every visit to
    the view brings both (a Resize of the same size; the table gains focus, and loses it on leaving):
    the whole table was rendered again at each key press (``benchmarks/tui.py``: key press to frame).
    Its caches are keyed by the rows' version and the pseudo-class state already, so only what would
    be wrong is thrown away: rows drawn out to another width, and rows of a state whose styles changed
    since they were drawn (a theme or CSS change)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._drawn_styles: dict[object, tuple] = {}  # per pseudo-class state: the styles its rows were drawn in
        self._drawn_widths: tuple[int, set[int]] = (-1, set())  # rows' version, the widths they were drawn to

    def _on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        self.action_cursor_down()  # the table has no scrollbar (see RunsView's CSS): the wheel moves the cursor
        event.stop()

    def _on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        self.action_cursor_up()
        event.stop()

    def _style_signature(self) -> tuple:
        return (self.rich_style, *(self.get_component_rich_style(name, partial=True)
                                   for name in sorted(self.COMPONENT_CLASSES)))

    def render_lines(self, crop):
        if self._drawn_widths[0] != self._update_count:
            self._drawn_widths = (self._update_count, set())
        self._drawn_widths[1].add(self.size.width)  # a row is drawn out to the table's width
        # the styles are checked here, where they are final (a style update comes before the component
        # styles of the new state are)
        state, signature = self.get_pseudo_class_state(), self._style_signature()
        if self._drawn_styles.setdefault(state, signature) != signature:
            self._drawn_styles = {state: signature}
            super().notify_style_update()  # DataTable's own: every rendered row thrown away
        return super().render_lines(crop)

    def _render_cell(self, row_index: int, column_index: int, base_style: Style, width: int,
                     cursor: bool = False, hover: bool = False) -> list[list[Segment]]:
        """A body cell of one line of text, drawn without Rich's general layout (padding, wrapping and
        cropping of any renderable: most of the table's first render). The same segments
        as DataTable's own (tests/tui/test_app.py compares them); anything else is left to it."""
        if row_index < self.fixed_rows or column_index < self.fixed_columns:  # header, labels, fixed cells
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        cell = self._get_row_renderables(row_index).cells[column_index]
        pad = self.cell_padding
        row_key = self._row_locations.get_key(row_index)
        if (not isinstance(cell, Text) or cell.end or "\n" in cell.plain or "\t" in cell.plain
                or self.rows[row_key].height != 1 or cell.cell_len > width - 2 * pad):
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        component_style, post_style = self._get_styles_to_render_cell(
            False, False, False, hover, cursor, self.show_cursor, self._show_hover_cursor,
            self.cursor_foreground_priority == "css", self.cursor_background_priority == "css")
        style = base_style + Style.from_meta({"row": row_index, "column": column_index}) + component_style
        line = [Segment(" " * pad), *cell.render(self.app.console)]
        line.append(Segment(" " * (width - sum(segment.cell_length for segment in line))))  # to the column width
        return [list(Segment.apply_style(line, style, post_style or None))]

    def _on_resize(self, event: events.Resize) -> None:
        """Only the width counts (the height decides which rows show); the first Resize arrives after the
        first render, already made at that width."""
        count, widths = self._drawn_widths
        if not event.size.area or (count == self._update_count and widths <= {event.size.width}):
            event.prevent_default()  # DataTable's own handler would throw the rendered rows away

    def notify_style_update(self) -> None:
        """Rows stay cached (per state); render_lines throws them away if their state's styles changed."""
        self._get_styles_to_render_cell.cache_clear()  # cached without the state: recomputed in each one
        Widget.notify_style_update(self)  # the widget's own style caches
        self.refresh()
