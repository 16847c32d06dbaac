"""Past runs: a table, opening one, and overlaying several runs' curves."""

from __future__ import annotations

from pathlib import Path

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widget import Widget
from textual.widgets import DataTable

from rnntui.training.runs import CELL_TITLES, RunSummary, comparable_metric, list_runs
from rnntui.tui.widgets.charts import CompareChart
from rnntui.tui.widgets.dashboard import StatusLine


class RunsTable(DataTable):
    """A DataTable that keeps its rendered rows when the Runs view is shown again.

    Each visit to the view gave DataTable a Resize (of the same size) and a style update (the table
    gains focus), and it throws every rendered row away on both: the whole table was rendered again at
    each key press, 40-55 ms with twenty runs on this machine. Its caches are keyed by the
    pseudo-class state already, so they only go stale when the size changes or when the styles of a
    state change (a theme or CSS change): that is what is checked."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._style_signatures: dict[object, tuple] = {}
        self._rendered_size: object = None

    def _on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        self.action_cursor_down()  # the table has no scrollbar (see RunsView's CSS): the wheel moves the cursor
        event.stop()

    def _on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        self.action_cursor_up()
        event.stop()

    def _on_resize(self, event: events.Resize) -> None:
        """Showing the view again sends a Resize of the same size, which would invalidate every row."""
        if event.size == self._rendered_size or not event.size.area:
            event.prevent_default()  # DataTable's own handler would throw the rendered rows away
        else:
            self._rendered_size = event.size

    def notify_style_update(self) -> None:
        try:
            state = self.get_pseudo_class_state()
            signature = (self.rich_style, *(self.get_component_rich_style(name, partial=True)
                                            for name in sorted(self.COMPONENT_CLASSES)))
        except KeyError:  # being mounted: the component styles are not there yet
            super().notify_style_update()
            return
        if self._style_signatures.get(state) == signature:
            Widget.notify_style_update(self)  # the widget's own style caches, not DataTable's rows
            self.refresh()
            return
        self._style_signatures[state] = signature
        super().notify_style_update()


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
    RunsView CompareChart { height: 1fr; min-height: 8; }
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

    def compose(self) -> ComposeResult:
        yield RunsTable(id="runs-table", cursor_type="row", zebra_stripes=True)
        yield StatusLine(id="runs-hint")
        yield CompareChart(id="compare-chart")

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
            columns = [c.key for c in table.ordered_columns]
            for old, run in zip(self.runs, runs):
                if old is not run:
                    row = self._row(run)
                    for column, value, shown in zip(columns, row, self.shown[run.name]):
                        if value != shown:  # an update costs the table a relayout
                            table.update_cell(run.name, column, value)
                    self.shown[run.name] = row
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

    def _row(self, run: RunSummary) -> tuple[str, ...]:
        return ("✓" if run.name in self.selected else " ", *run.cells())

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
        table = self.query_one(DataTable)
        mark = "✓" if run.name in self.selected else " "
        table.update_cell(run.name, table.ordered_columns[0].key, mark)
        self.shown[run.name] = (mark, *self.shown[run.name][1:])

    def action_compare(self) -> None:
        chosen = [r for r in self.runs if r.name in self.selected] or ([self._current()] if self._current() else [])
        if not chosen:
            return
        metric = comparable_metric(chosen)
        series = [(f"{r.config.name} ({r.model})", r.history.epoch_series(metric)) for r in chosen]
        self.query_one(CompareChart).compare(metric, series)

    def action_open_run(self) -> None:
        run = self._current()
        if run is not None:
            self.post_message(self.Open(run))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_open_run()
