"""The live training dashboard: progress, four charts and the per-epoch samples."""

from __future__ import annotations

import time
from typing import Any

from textual.app import ComposeResult
from textual.containers import Grid, Horizontal
from textual.geometry import Size
from textual.reactive import Reactive, reactive
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import RichLog

from rnntui.clock import clock
from rnntui.training.history import History
from rnntui.tui.session import RunState, TrainingSession
from rnntui.tui.widgets.charts import GradChart, LossChart, MetricChart, SpeedChart

FRAME_S = 0.5  # the status line and one chart, at most this often
CPU_FRAME_S = 1.0  # ... while a run trains on the CPU (see Dashboard.refresh_charts)


class StatusLine(Widget):
    """One line of text that repaints without a layout pass (``Static.update`` would relayout the screen)."""

    text = reactive("", layout=False)

    def render(self) -> str:
        return self.text


class SampleLog(RichLog):
    """The per-epoch log. A line written to a RichLog grows its virtual size, which makes Textual lay
    out the whole screen again (once an epoch, time taken from the training threads on a CPU):
    its size is fixed by the dashboard's grid, so only its scrollbar needs the news, and that is all it
    gets (its scrollbar appearing is still a layout change for Textual, as it must be)."""

    virtual_size = Reactive(Size(0, 0), layout=False)

    def watch_virtual_size(self, size: Size) -> None:
        self._scroll_update(size)  # scrollbar's range and position (what a layout pass would do for it)
        self.refresh()

    def render_line(self, y: int) -> Strip:
        # RichLog's, with Textual's cached visual style in place of ``rich_style``, which walks the DOM
        # for each line (each epoch's line scrolls the log, and every line on screen is drawn again)
        scroll_x, scroll_y = self.scroll_offset
        line = self._render_line(scroll_y + y, scroll_x, self.scrollable_content_region.width)
        return line.apply_style(self.visual_style.rich_style)


class Dashboard(Widget):
    """Holds the run's complete History: the run training now (its session says how it stands) or one
    opened from the Runs view. ``refresh_charts`` (called twice a second) repaints the status line and
    one chart whose data changed, in turn, in the same frame."""

    can_focus = True  # the keys of the Train view reach it while the setup form is out of sight

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.history = History()
        self.version = 0  # bumped for each new history (a new run, or one opened)
        self.drawn: dict[str, tuple] = {}  # chart id -> (version, chart.data_key) it shows
        self.last_frame = 0.0
        self.turn = 0
        self._charts: list[Widget] | None = None
        self.session: TrainingSession | None = None  # the live run's, which alone changes its state
        self.opened_state = RunState.IDLE  # the state of a run opened from disk
        self.title = ""

    @property
    def state(self) -> RunState:
        return self.session.state if self.session is not None else self.opened_state

    def compose(self) -> ComposeResult:
        yield StatusLine(id="status")
        yield StatusLine(id="progress")
        with Horizontal(id="body"):
            with Grid(id="charts"):
                yield LossChart(id="loss-chart")
                yield MetricChart(id="metric-chart")
                yield GradChart(id="grad-chart")
                yield SpeedChart(id="speed-chart")
            # min_width: wrap to the panel (RichLog's default renders at least 78 columns and cuts the rest off)
            yield SampleLog(id="samples", wrap=True, markup=False, highlight=False, min_width=20)

    def on_mount(self) -> None:
        # looked up once: the refresh runs twice a second
        self._status, self._progress = self.query_one("#status", StatusLine), self.query_one("#progress", StatusLine)
        self._charts = list(self.query_one("#charts").children)

    def on_show(self) -> None:
        """Back on screen (a view switch, an opened run): whatever changed meanwhile is drawn at once,
        just after the frame that shows the view (not one chart a frame)."""
        self.call_after_refresh(self.refresh_charts, everything=True)

    def reset(self, title: str, clip: float, session: TrainingSession | None = None) -> None:
        """A new run to show: the one ``session`` trains, or (without) one about to be opened."""
        self.history = History()
        self.title = title
        self.session = session
        self.opened_state = RunState.IDLE
        self.query_one(GradChart).clip = clip
        self.query_one("#samples", RichLog).clear()
        self.drawn.clear()
        self.version += 1
        self.refresh_charts(everything=True)

    def show_history(self, history: History, title: str, clip: float) -> None:
        """A finished run, read from its metrics.jsonl."""
        self.reset(title, clip)
        self.history = history
        self.opened_state = RunState.of(history.end.get("status"))
        log = self.query_one("#samples", RichLog)
        for event in history.epochs:
            self._log_epoch(log, event)
        self.version += 1
        self.refresh_charts(everything=True)

    def follow(self, events: list[dict[str, Any]]) -> None:
        """More of an opened run that another process is still training (read from its metrics.jsonl)."""
        for event in events:
            if event.get("event") in ("step", "grads"):
                self.history.add(event)
            else:
                self.add_event(event)
        self.opened_state = RunState.of(self.history.end.get("status"))

    def load_past(self, events: list[dict[str, Any]]) -> None:
        """What a resumed run did before it stopped, shown before what it does now (call it before the
        run's start event)."""
        self.history = History()
        for event in events:
            self.history.add(event)
        log = self.query_one("#samples", RichLog)
        for event in self.history.epochs:
            self._log_epoch(log, event)
        self.version += 1

    def add_points(self, points: list[dict[str, Any]]) -> None:
        for point in points:
            self.history.add(point)

    def add_event(self, event: dict[str, Any]) -> None:
        self.history.add(event)
        kind = event["event"]
        if kind == "start":
            self.query_one(SpeedChart).unit = event.get("unit", "tok")
            self.query_one("#samples", RichLog).write(f"{event['description']}\n{event['num_params']:,} parameters "
                                                      f"on {event['device']}")
            self.version += 1  # the speed chart's unit
        elif kind == "epoch":
            self._log_epoch(self.query_one("#samples", RichLog), event)
        elif kind == "end":
            if event.get("message"):
                self.query_one("#samples", RichLog).write(f"{event['status']}: {event['message']}")

    def _log_epoch(self, log: RichLog, event: dict[str, Any]) -> None:
        skip = {"event", "epoch", "epochs", "tokens_per_s", "elapsed_s", "sample", "train_loss", "val_loss"}
        figures = "  ".join(f"{k} {v:.4g}" for k, v in event.items()
                            if k not in skip and isinstance(v, (int, float)))
        log.write(f"epoch {event['epoch']}: {figures}")
        if event.get("sample"):
            log.write(f"  {event['sample']}")

    def refresh_charts(self, everything: bool = False, charts_too: bool = True) -> None:
        """Repaint the status line and the next chart whose data changed (all of them if ``everything``;
        none if not ``charts_too``), in one frame: twice a second, or once while a run trains on the CPU.
        On the CPU the UI's time is taken from the run's own threads, which wait for each other, so the
        frames are few (``benchmarks/tui.py``: TUI against CLI tokens/s; ``benchmarks/charts.py``: one
        chart's redraw). A status-only frame in between would cost as much again, so there are none."""
        if self.region.area == 0:  # not on screen: catch up when shown
            return
        h = self.history
        if not self.is_attached or self._charts is None:  # not mounted yet, or shutting down
            return
        now = time.monotonic()
        on_cpu = self.state == "running" and str(h.start.get("device", "")).startswith("cpu")
        if not everything and now - self.last_frame < (CPU_FRAME_S if on_cpu else FRAME_S) - 0.05:
            return
        self.last_frame = now
        status, progress, charts = self._status, self._progress, self._charts
        status.text = self.status_line()
        total = max((h.start.get("epochs", 0) or 0) * (h.start.get("steps_per_epoch", 0) or 0), 1)
        done = min(len(h.step_loss), total) / total
        width = max(self.size.width - 10, 10)
        progress.text = f"{'━' * int(width * done):{'╌'}<{width}} {100 * done:3.0f}%"
        if not everything and not charts_too:
            return
        stale = [c for c in charts if self.drawn.get(c.id) != (self.version, c.data_key(h))]
        if not everything:
            stale = sorted(stale, key=lambda c: (charts.index(c) - self.turn) % len(charts))[:1]
        for chart in stale:
            chart.show(h)
            self.drawn[chart.id] = (self.version, chart.data_key(h))
            self.turn = (charts.index(chart) + 1) % len(charts)

    def status_line(self) -> str:
        h = self.history
        if not h.start:
            return f"{self.title}  {self.state.value}" if self.title else "no run yet: set one up and press s (or F5)"
        step = h.last_step
        epochs = h.start.get("epochs", 0)
        elapsed = step.get("elapsed_s", 0.0) if step else 0.0
        if h.end:
            elapsed = h.end.get("elapsed_s", elapsed)
        done = len(h.step_loss)
        total = epochs * h.start.get("steps_per_epoch", 0)
        eta = elapsed / done * (total - done) if done and self.state == "running" else 0.0
        unit = h.start.get("unit", "tok")
        speed = step.get("tokens_per_s", 0.0) if step else 0.0
        parts = [
            self.title,
            f"epoch {step.get('epoch', 0)}/{epochs} step {step.get('step', 0)}/{step.get('steps_per_epoch', 0)}",
            f"{speed:,.0f} {unit}/s", f"elapsed {clock(elapsed)}", f"ETA {clock(eta)}" if eta else "",
            h.start.get("device", ""), self.state.value.upper() if self.state != "running" else "running",
        ]
        return " │ ".join(p for p in parts if p)
