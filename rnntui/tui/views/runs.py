"""The Runs view (2): every run in the runs folder; open one, or overlay several runs' curves."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable, Static

from rnntui.training.runs import CELL_TITLES, RunSummary, comparable_metric, list_runs
from rnntui.tui.views.base import View
from rnntui.tui.widgets.charts import CompareChart
from rnntui.tui.widgets.dashboard import StatusLine
from rnntui.tui.widgets.runs_table import RunsTable

COMPARE_HELP = ("Mark runs with space (RNN, GRU and LSTM on the same corpus, say) and press c: their "
                "curves are overlaid here, one per run, with a legend. c with nothing marked shows the run "
                "under the cursor; o or enter opens a run's own charts.")
LOADED = "●"  # the run an inspector view has loaded


class RunsView(View):
    """The runs as a table (newest first), read when the view is shown and again when they change."""

    VIEW_ID = "runs"
    ABOUT = ""
    BINDINGS = [
        Binding("space", "toggle_selected", "Select", id="runs.select", tooltip="mark the run for comparison"),
        Binding("c", "compare", "Compare", id="runs.compare", tooltip="overlay the marked runs' curves"),
        Binding("o,enter", "open_run", "Open", id="runs.open", tooltip="show the run's charts"),
        Binding("r", "resume_run", "Resume", id="runs.resume",
                tooltip="go on with the run in the app, in its own folder"),
        Binding("R", "reload", "Reload", id="runs.reload", show=False),
    ]
    class Open(Message):
        def __init__(self, run: RunSummary) -> None:
            super().__init__()
            self.run = run

    class Resume(Open):
        """Go on with the run (``r``)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.runs: list[RunSummary] = []
        self.selected: set[str] = set()
        self.shown: dict[str, tuple[str, ...]] = {}  # the cells on screen, per run
        self.live: Path | None = None  # the run this app is training: "running", not "unfinished"
        self.loaded: dict[Path, list[str]] = {}  # run folder -> the views that have its model loaded

    @property
    def runs_dir(self) -> Path:
        return self.app.runs_dir

    def compose(self) -> ComposeResult:
        yield RunsTable(id="runs-table", cursor_type="row", zebra_stripes=True)
        yield StatusLine(id="runs-hint")
        yield CompareChart(id="compare-chart")
        # until a comparison is asked for: an empty chart was most of the first visit (benchmarks/tui.py)
        yield Static(COMPARE_HELP, id="compare-placeholder")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("", "", *CELL_TITLES)  # marked for comparison; loaded in a view
        self.query_one("#runs-hint", StatusLine).text = "reading the runs…"
        self.watch(self.app, "live_run", self._live_changed)
        self.watch(self.app, "loaded_runs", self._loaded_changed)

    def default_focus(self):
        return self.query_one(DataTable)

    def activate(self) -> None:
        """The table has the focus (its keys work at once); the runs are read after the view shows."""
        super().activate()
        self.call_after_refresh(self.action_reload)

    def action_reload(self) -> None:
        runs = list_runs(self.runs_dir, self.app.runs_cache)
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
        run = self.runs[min(row, len(self.runs) - 1)]
        views = self.loaded.get(run.path)
        where = f"   {LOADED} loaded in {', '.join(views)}" if views else ""
        if run.error:
            where = f"   unreadable: {run.error}"
        self.query_one("#runs-hint", StatusLine).text = (
            f"run {min(row + 1, len(self.runs))} of {len(self.runs)}{where}   space: mark  c: compare marked  "
            "o/enter: open  r: resume  R: reload")

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if self.runs:
            self._show_position()

    def _live_changed(self, live) -> None:
        """The run this app is training now (None when it ends): its row says so, and grows."""
        was, self.live = self.live, live.run_dir if live is not None else None
        if self.runs and self.is_attached and self.region.area:  # on screen: read what it wrote
            self.action_reload()
        for run in self.runs:
            if run.path in (was, self.live):
                self._update_row(run)

    def _loaded_changed(self, loaded: dict[str, Path | None]) -> None:
        """The views' loaded models changed: mark their runs."""
        was, self.loaded = self.loaded, {}
        titles = {view.VIEW_ID: view.TITLE for view in self.app.views}
        for view_id, run_dir in loaded.items():
            if run_dir is not None:
                self.loaded.setdefault(run_dir, []).append(titles.get(view_id, view_id))
        for run in self.runs:
            if self.loaded.get(run.path) != was.get(run.path):
                self._update_row(run)
        if self.runs:
            self._show_position()

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
        return ("✓" if run.name in self.selected else " ", LOADED if run.path in self.loaded else " ", *cells)

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
        chosen = [r for r in chosen if r.config is not None]
        if not chosen:
            return
        metric = comparable_metric(chosen)
        series = [(f"{r.config.name} ({r.model})", r.history.epoch_series(metric)) for r in chosen]
        self.add_class("-comparing")
        self.query_one(CompareChart).compare(metric, series)

    def action_open_run(self) -> None:
        run = self._readable()
        if run is not None:
            self.post_message(self.Open(run))

    def action_resume_run(self) -> None:
        run = self._readable()
        if run is not None:
            self.post_message(self.Resume(run))

    def _readable(self) -> RunSummary | None:
        """The run under the cursor, unless it cannot be read (then a line says why)."""
        run = self._current()
        if run is not None and run.config is None:
            self.notify(f"{run.name} is unreadable: {run.error}", severity="error")
            return None
        return run

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_open_run()
