"""Past runs: a table, opening one, and overlaying several runs' curves."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widget import Widget
from textual.widgets import DataTable, Static

from rnntui.training.runs import RunSummary, list_runs
from rnntui.tui.widgets.charts import CompareChart


class RunsView(Widget):
    BINDINGS = [
        Binding("space", "toggle_selected", "Select", id="runs.select", tooltip="mark the run for comparison"),
        Binding("c", "compare", "Compare", id="runs.compare", tooltip="overlay the marked runs' curves"),
        Binding("o,enter", "open_run", "Open", id="runs.open", tooltip="show the run's charts"),
        Binding("R", "reload", "Reload", id="runs.reload", show=False),
    ]
    DEFAULT_CSS = """
    RunsView { height: 1fr; }
    RunsView DataTable { height: 1fr; min-height: 5; }
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
        self.cache: dict = {}  # runs read before, re-read only when their files change

    def compose(self) -> ComposeResult:
        yield DataTable(id="runs-table", cursor_type="row", zebra_stripes=True)
        yield Static("space: mark  c: compare marked  o/enter: open  R: reload", id="runs-hint")
        yield CompareChart(id="compare-chart")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("", "run", "preset", "model", "epochs", "best held-out", "time", "device", "status")
        self.action_reload()

    def action_reload(self) -> None:
        runs = list_runs(self.runs_dir, self.cache)
        if [id(r) for r in runs] == [id(r) for r in self.runs] and self.runs:
            return  # nothing changed on disk
        self.runs = runs
        table = self.query_one(DataTable)
        table.clear()
        for run in self.runs:
            head = run.headline
            best = f"{head[0]} {head[1]:.4g}" if head else "-"
            minutes, seconds = divmod(int(run.elapsed_s), 60)
            table.add_row("✓" if run.name in self.selected else " ", run.name, run.config.name, run.model,
                          f"{run.epochs_done}/{run.config.train.epochs}", best, f"{minutes}:{seconds:02d}",
                          run.device, run.status, key=run.name)
        if not self.runs:
            self.query_one("#runs-hint", Static).update(f"no runs yet in {self.runs_dir}")

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
        table.update_cell(run.name, table.ordered_columns[0].key, "✓" if run.name in self.selected else " ")

    def action_compare(self) -> None:
        chosen = [r for r in self.runs if r.name in self.selected] or ([self._current()] if self._current() else [])
        if not chosen:
            return
        metric = next((k for k in ("val_ppl", "val_bleu", "test_mse", "train_ppl", "train_loss")
                       if all(k in r.history.metric_keys() for r in chosen)), "train_loss")
        series = [(f"{r.config.name} ({r.model})", r.history.epoch_series(metric)) for r in chosen]
        self.query_one(CompareChart).compare(metric, series)

    def action_open_run(self) -> None:
        run = self._current()
        if run is not None:
            self.post_message(self.Open(run))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_open_run()
