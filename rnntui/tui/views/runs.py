"""Past runs: a table, opening one, and overlaying several runs' curves."""

from __future__ import annotations

from pathlib import Path

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widget import Widget
from textual.widgets import DataTable, Static

from rnntui.training.runs import CELL_TITLES, RunSummary, comparable_metric, list_runs
from rnntui.tui.widgets.charts import CompareChart
from rnntui.tui.widgets.dashboard import StatusLine

COMPARE_HELP = ("Mark runs with space (RNN, GRU and LSTM on the same corpus, say) and press c: their "
                "curves are overlaid here, one per run, with a legend. c with nothing marked shows the run "
                "under the cursor; o or enter opens a run's own charts.")


class RunsTable(DataTable):
    """A DataTable that keeps its rendered rows when the Runs view is shown again.

    DataTable throws every rendered row away on each Resize and each style update, and every visit to
    the view brings both (a Resize of the same size; the table gains focus, and loses it on leaving):
    the whole table was rendered again at each key press, 40-55 ms with twenty runs on this machine.
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
        cropping of any renderable, ~0.1 ms a cell: most of the table's first render). The same segments
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


class RunsView(Widget):
    BINDINGS = [
        Binding("space", "toggle_selected", "Select", id="runs.select", tooltip="mark the run for comparison"),
        Binding("c", "compare", "Compare", id="runs.compare", tooltip="overlay the marked runs' curves"),
        Binding("o,enter", "open_run", "Open", id="runs.open", tooltip="show the run's charts"),
        Binding("R", "reload", "Reload", id="runs.reload", show=False),
    ]
    DEFAULT_CSS = """
    RunsView { height: 1fr; }
    /* no scrollbar: showing it again at each visit cost 25 ms of the key press; the cursor scrolls the
       table (keys or wheel) and the line below says where it is */
    RunsView DataTable { height: 1fr; min-height: 5; overflow-y: hidden; }
    RunsView #runs-hint { height: 1; padding: 0 1; color: $text-muted; }
    RunsView CompareChart { height: 1fr; min-height: 8; display: none; }
    RunsView.-comparing CompareChart { display: block; }
    RunsView.-comparing #compare-placeholder { display: none; }
    RunsView #compare-placeholder { height: 1fr; min-height: 8; padding: 1 2; color: $text-muted;
                                    border: round $panel; }
    """

    class Open(Message):
        def __init__(self, run: RunSummary) -> None:
            super().__init__()
            self.run = run

    def __init__(self, runs_dir: Path, **kwargs) -> None:
        super().__init__(**kwargs)
        self.runs_dir = runs_dir
        self.runs: list[RunSummary] = []
        self.selected: set[str] = set()
        self.shown: dict[str, tuple[str, ...]] = {}  # the cells on screen, per run
        self.cache: dict = {}  # runs read before, re-read only when their files change
        self.live: Path | None = None  # the run this app is training: "running", not "unfinished"

    def compose(self) -> ComposeResult:
        yield RunsTable(id="runs-table", cursor_type="row", zebra_stripes=True)
        yield StatusLine(id="runs-hint")
        yield CompareChart(id="compare-chart")
        # until a comparison is asked for: an empty chart drawn on the first visit cost it 8-12 ms
        yield Static(COMPARE_HELP, id="compare-placeholder")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("", *CELL_TITLES)
        self.action_reload()

    def action_reload(self) -> None:
        runs = list_runs(self.runs_dir, self.cache)
        if [id(r) for r in runs] == [id(r) for r in self.runs] and self.runs:
            return  # nothing changed on disk
        table = self.query_one(DataTable)
        if [r.name for r in runs] == [r.name for r in self.runs]:  # the same runs; some grew (training)
            for old, run in zip(self.runs, runs):
                if old is not run:
                    self._update_row(run)
            self.runs = runs
            return
        self.runs = runs
        table.clear()
        self.shown = {run.name: self._row(run) for run in self.runs}
        for run in self.runs:
            table.add_row(*self.shown[run.name], key=run.name)
        if not self.runs:
            self.query_one("#runs-hint", StatusLine).text = f"no runs yet in {self.runs_dir}"
        else:
            self._show_position()

    def _show_position(self) -> None:
        row = self.query_one(DataTable).cursor_row
        self.query_one("#runs-hint", StatusLine).text = (
            f"run {min(row + 1, len(self.runs))} of {len(self.runs)}   space: mark  c: compare marked  "
            "o/enter: open  R: reload")

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if self.runs:
            self._show_position()

    def set_live(self, run_dir: Path | None) -> None:
        """The run this app is training now (None when it ends): its row says so."""
        was, self.live = self.live, run_dir
        for run in self.runs:
            if run.path in (was, run_dir):
                self._update_row(run)

    def _update_row(self, run: RunSummary) -> None:
        """Only the cells that changed: each update costs the table a relayout and a fresh render."""
        table = self.query_one(DataTable)
        row = self._row(run)
        for column, value, shown in zip([c.key for c in table.ordered_columns], row, self.shown[run.name]):
            if value != shown:
                table.update_cell(run.name, column, value)
        self.shown[run.name] = row

    def _row(self, run: RunSummary) -> tuple[str, ...]:
        cells = run.cells()
        if self.live is not None and run.path == self.live and run.status == "unfinished":
            cells = (*cells[:-1], "running")
        return ("✓" if run.name in self.selected else " ", *cells)

    def _current(self) -> RunSummary | None:
        table = self.query_one(DataTable)
        if not self.runs or table.cursor_row is None or table.cursor_row >= len(self.runs):
            return None
        return self.runs[table.cursor_row]

    def action_toggle_selected(self) -> None:
        run = self._current()
        if run is None:
            return
        self.selected ^= {run.name}
        self._update_row(run)

    def action_compare(self) -> None:
        chosen = [r for r in self.runs if r.name in self.selected] or ([self._current()] if self._current() else [])
        if not chosen:
            return
        metric = comparable_metric(chosen)
        series = [(f"{r.config.name} ({r.model})", r.history.epoch_series(metric)) for r in chosen]
        self.add_class("-comparing")
        self.query_one(CompareChart).compare(metric, series)

    def action_open_run(self) -> None:
        run = self._current()
        if run is not None:
            self.post_message(self.Open(run))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_open_run()
