"""The playground driven through Textual's Pilot: real (tiny) training runs in the training process."""

from __future__ import annotations

import asyncio
import threading
from types import SimpleNamespace

import pytest
from textual.widgets import DataTable, Input, RichLog, Select

from rnntui.config import load_toml
from rnntui.training.checkpoint import load_checkpoint
from rnntui.training.history import load_history
from rnntui.tui.views import VIEWS
from rnntui.tui.model_choice import LiveRun
from rnntui.tui.session import RunState
from rnntui.tui.screens.help import HelpScreen, SavePresetScreen
from rnntui.tui.widgets.charts import CompareChart
from rnntui.tui.widgets.dashboard import Dashboard
from rnntui.tui.widgets.keybar import KeyBar
from rnntui.tui.views.runs import RunsView
from tui_helpers import (
    ready,
    SHARED_DATA, log_text, make_app, train, record_notifications, set_fields, shutdown_executor, step_lines,
    synthetic_events, tiny_setup, wait_for, write_run,
)

pytestmark = pytest.mark.skipif(not SHARED_DATA.is_dir(), reason=f"no shared data in {SHARED_DATA}")

SIZE = (120, 40)


@pytest.fixture
def runs_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("RNNTUI_DATA_DIR", str(SHARED_DATA))
    monkeypatch.setenv("RNNTUI_DATA_URL", "http://127.0.0.1:9/")  # never the network
    monkeypatch.chdir(tmp_path)
    return tmp_path / "runs"


async def wait_until_still(pilot, value, quiet: float = 0.3, timeout: float = 10.0) -> None:
    """Wait until ``value()`` has not changed for ``quiet`` seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    last = value()
    while True:
        await pilot.pause(quiet)
        now = value()
        if now == last:
            return
        assert asyncio.get_running_loop().time() < deadline, "it never settled"
        last = now


def run_dirs(runs_dir):
    return sorted(p for p in runs_dir.iterdir() if p.is_dir()) if runs_dir.exists() else []


async def test_start_pause_resume_stop(runs_dir):
    app = make_app(runs_dir)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await tiny_setup(pilot, train__epochs="100")  # runs until stopped
        dash = app.query_one(Dashboard)
        assert dash.state == "idle"

        await pilot.press("s")
        assert train(app).training
        await wait_for(pilot, lambda: len(dash.history.step_loss) >= 10, what="the first steps on the chart")
        await wait_for(pilot, lambda: dash.history.epochs and dash.history.epochs[0].get("sample"),
                       what="the first epoch's sample")
        assert dash.state == "running"
        assert "epoch " in dash.status_line()
        await pilot.press("2")  # the Runs view lists this run as running (on disk it is unfinished)
        await pilot.pause()
        table = app.query_one("#runs-table", DataTable)
        assert str(table.get_row_at(0)[-1]) == "running" and train(app).session.run_dir.name in map(str, table.get_row_at(0))
        await pilot.press("1")
        samples = dash.query_one("#samples", RichLog)
        assert dash.history.epochs[0]["sample"] in log_text(samples)
        # the samples wrap to their panel (none cut off at its right edge)
        assert max(strip.cell_length for strip in samples.lines) <= samples.scrollable_content_region.width

        await pilot.press("p")
        assert train(app).session.paused and dash.state == "paused"
        await wait_until_still(pilot, lambda: len(dash.history.step_loss))  # the batch in flight ends
        before = len(dash.history.step_loss)
        await pilot.pause(0.8)
        assert len(dash.history.step_loss) == before, "steps arrived while paused"
        assert train(app).training and "PAUSED" in dash.status_line()

        await pilot.press("p")
        assert not train(app).session.paused and dash.state == "running"
        await wait_for(pilot, lambda: len(dash.history.step_loss) > before + 5, what="steps after resuming")

        await pilot.press("x")
        await wait_for(pilot, lambda: not train(app).training, what="the run to stop")
        await pilot.pause()
        assert dash.state == "stopped"
        assert dash.history.end["status"] == "stopped"
        assert "STOPPED" in dash.status_line()
        run = train(app).session.run_dir
        assert run is not None and run.parent == runs_dir
        assert (run / "checkpoint.pt").is_file() and (run / "metrics.jsonl").is_file()
        assert load_checkpoint(run / "checkpoint.pt").info["status"] == "stopped"
        # every step reached the charts: none dropped, none doubled
        assert len(dash.history.step_loss) == step_lines(run)
        assert dash.history.step_loss == load_history(run / "metrics.jsonl").step_loss
        await pilot.press("2")
        await pilot.pause()
        assert str(app.query_one("#runs-table", DataTable).get_row_at(0)[-1]) == "stopped"


async def test_invalid_hyperparameters_block_start(runs_dir):
    app = make_app(runs_dir)
    notes = record_notifications(app)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await tiny_setup(pilot)
        error = app.query_one("#setup-error")

        lr = app.query_one("#f-train-lr", Input)
        lr.value = ""
        lr.focus()
        await pilot.press("a", "b", "c")
        await pilot.pause()
        assert lr.value == "abc"
        assert "train.lr" in str(error.render()) and "'abc'" in str(error.render())
        assert lr.has_class("-invalid")
        assert train(app).config is None

        app.query_one("#device", Select).focus()  # 's' typed into a field is just a letter
        await pilot.press("s")
        await pilot.pause()
        assert train(app).session is None and not train(app).training
        assert run_dirs(runs_dir) == []
        assert any("cannot start" in message and "train.lr" in message for message, _ in notes)

        lr.value = "0.5"
        await pilot.pause()
        assert not lr.has_class("-invalid") and str(error.render()) == ""
        assert train(app).config is not None and train(app).config.train.lr == 0.5

        epochs = app.query_one("#f-train-epochs", Input)
        epochs.value = "-1"
        await pilot.pause()
        assert "train.epochs must be >= 1" in str(error.render())
        assert epochs.has_class("-invalid") and not lr.has_class("-invalid")
        await pilot.press("s")
        await pilot.press("f5")
        await pilot.pause()
        assert train(app).session is None and run_dirs(runs_dir) == []
        epochs.value = "2"
        await pilot.pause()
        assert not epochs.has_class("-invalid") and train(app).config is not None

        # a rule across fields marks a Select, and fixing it clears the mark
        await set_fields(pilot, None, **{"model.impl": "scratch", "model.bidirectional": "true"})
        assert "model.bidirectional" in str(error.render())
        assert app.query_one("#f-model-bidirectional", Select).has_class("-invalid")
        await set_fields(pilot, None, **{"model.bidirectional": "false"})
        assert str(error.render()) == "" and train(app).config is not None
        assert not app.query(".-invalid"), f"stale error marks: {list(app.query('.-invalid'))}"


async def test_failed_runs_keep_the_app_usable(runs_dir, tmp_path):
    app = make_app(runs_dir)
    notes = record_notifications(app)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        dash = app.query_one(Dashboard)
        samples = dash.query_one("#samples", RichLog)

        # 1. bad data: an empty corpus file fails before anything is written
        empty = tmp_path / "empty.txt"
        empty.write_text("", encoding="utf-8")
        await tiny_setup(pilot)
        await set_fields(pilot, "file")
        app.query_one("#corpus-path", Input).value = str(empty)
        await pilot.pause()
        assert train(app).config is not None and train(app).config.data.corpus == str(empty)
        await pilot.press("s")
        await wait_for(pilot, lambda: dash.state == "failed", what="the run to fail")
        assert not train(app).training
        assert "FAILED" in log_text(samples) and "is empty" in log_text(samples)
        assert any(kw.get("severity") == "error" and "is empty" in message for message, kw in notes)
        assert run_dirs(runs_dir) == []

        # still usable: views switch, the setup comes back
        await pilot.press("2")
        assert app.shown == "runs"
        await pilot.press("1")
        assert app.shown == "train"
        await pilot.press("e")
        assert app.query_one("#train-switcher").current == "setup"

        # 2. an error in the middle of training, after some points were drawn: plain SGD at lr 1 on the
        #    sine task blows up at step 6 (the trainer stops at a loss or gradient that is not finite)
        await pilot.press("e")
        app.query_one("#preset", Select).value = "sine-mlp"
        await wait_for(pilot, lambda: train(app).config is not None and train(app).config.name == "sine-mlp", what="sine-mlp")
        await set_fields(pilot, None, **{"train.optimizer": "sgd", "train.lr": "1"})
        await pilot.press("s")
        await wait_for(pilot, lambda: dash.state == "failed" and not train(app).training, what="the second run to fail")
        await pilot.pause()
        assert "FAILED: training diverged: the gradient norm became inf at epoch 1, step 6" in log_text(samples)
        assert "try a lower learning rate" in log_text(samples)
        assert any("training diverged" in message for message, _ in notes)
        assert len(dash.history.step_loss) == 5 == step_lines(train(app).session.run_dir)  # every finite step, drawn and logged
        assert load_checkpoint(train(app).session.run_dir / "checkpoint.pt").info["status"] == "failed"

        # 3. and a good run afterwards
        await pilot.press("e")
        await set_fields(pilot, None, **{"train.lr": "0.3", "train.epochs": "1"})
        await pilot.press("s")
        await wait_for(pilot, lambda: dash.state == "finished" and not train(app).training, what="the good run to finish")
        assert "FAILED" not in log_text(samples)
        assert len(dash.history.epochs) == 1
        assert len(dash.history.step_loss) == step_lines(train(app).session.run_dir) > 0


async def test_quit_mid_run_saves_and_leaves_no_thread(runs_dir):
    threads_before = threading.active_count()
    app = make_app(runs_dir)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await tiny_setup(pilot, train__epochs="100")
        dash = app.query_one(Dashboard)
        await pilot.press("s")
        await wait_for(pilot, lambda: len(dash.history.step_loss) >= 5, what="training to start")
        worker, run = train(app).session.worker, train(app).session.run_dir
        await pilot.press("q")
        await wait_for(pilot, lambda: not app.is_running, timeout=20, what="the app to exit")
    assert worker.is_finished and worker.result.status == "stopped"
    checkpoint = load_checkpoint(run / "checkpoint.pt")
    assert checkpoint.info["status"] == "stopped"
    assert load_history(run / "metrics.jsonl").end["status"] == "stopped"
    await shutdown_executor()  # times out if the training thread were still running
    assert threading.active_count() == threads_before
    from rnntui.training.process import child_processes

    assert child_processes() == []  # and the training process has exited


async def test_help_and_view_keys(runs_dir):
    app = make_app(runs_dir)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.pause()
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = "\n".join(str(s.render()) for s in app.screen.query("Static"))
        views = [entry.load() for entry in VIEWS]
        sections = {"Everywhere": app.BINDINGS, **{f"The {v.TITLE} view ({v.KEY})": v.BINDINGS for v in views}}
        assert sum(len(b) for b in sections.values()) > len(app.BINDINGS) + 5  # the views have keys of their own
        for title, bindings in sections.items():
            if not bindings:
                continue
            part = text.split(f"\n{title}\n", 1)[1].split("\n\n", 1)[0]  # the view's keys are in its section
            for binding in bindings:
                for key in binding.key.split(","):
                    shown = {"question_mark": "?"}.get(key, key)
                    assert shown in part, f"help does not list {key!r} ({binding.description}) under {title}"
                assert binding.description in part
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("q")  # closes the help; does not quit
        assert not isinstance(app.screen, HelpScreen) and app.is_running

        for entry in reversed(VIEWS):
            await pilot.press(entry.key)
            assert app.shown == entry.view_id, f"key {entry.key} shows {app.shown}, not {entry.view_id}"
            view = app.view(entry.view_id)
            assert view.display and [v for v in app.views if v.display] == [view]
            assert app.focused is not None and view in app.focused.ancestors_with_self  # its keys work
            assert f"[{entry.key} {entry.title}]" in app.query_one("#view-tabs").labels()


async def test_key_bar_shows_the_keys_that_work_now_and_clicks_run_them(runs_dir):
    app = make_app(runs_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.pause()
        bar = app.query_one(KeyBar)
        assert {"s Start", "e Setup", "? Help", "2 Runs"} <= set(bar.key_texts())
        assert not any("Compare" in text or "Pause" in text for text in bar.key_texts())
        await pilot.press("2")  # the Runs table has the focus: its keys come first
        await pilot.pause()
        assert bar.key_texts()[:3] == ["space Select", "c Compare", "o Open"]
        assert "? Help" in str(bar.render())  # everything still fits in 80 columns
        await pilot.press("1")
        await pilot.pause()
        start, _, _ = next(span for span in bar._spans if span[2][2] == "show_view('runs')")
        await pilot.click(KeyBar, offset=(start + 1, 0))
        assert app.shown == "runs"


async def test_runs_table_keeps_its_rendered_rows_between_visits(runs_dir):
    """Each visit used to re-render every row (a same-size Resize and the focus restyle both threw the
    table's caches away): 40-55 ms a key press with twenty runs. The rows must still change when their
    data, the size or the theme does, also a theme changed while the table was out of sight."""
    from rnntui.presets import load_preset

    config = load_preset("lstm")
    for i in range(24):
        write_run(runs_dir, f"lstm-2026112{i % 10}-{i:06d}", config, synthetic_events(2, 5, seed=i), 1.7e9 + i)
    app = make_app(runs_dir)

    def cursor_background():  # of the cursor row as drawn, and as the current theme wants it
        strip = table.render_line(1)  # line 0 is the header
        drawn = next(seg.style.bgcolor for seg in strip if seg.text.strip())
        return drawn, table.get_component_rich_style("datatable--cursor").bgcolor

    async with app.run_test(size=SIZE) as pilot:

        await ready(pilot)
        await pilot.press("2")
        await pilot.pause()
        table = app.query_one("#runs-table", DataTable)
        rendered, count = set(table._row_render_cache.keys()), table._update_count
        assert rendered
        for _ in range(3):
            await pilot.press("1", "2")
            await pilot.pause()
        assert table._update_count == count and set(table._row_render_cache.keys()) == rendered  # nothing new
        drawn, wanted = cursor_background()
        assert drawn == wanted
        app.theme = "textual-light" if app.theme != "textual-light" else "nord"
        await pilot.pause()
        assert not rendered & set(table._row_render_cache.keys())  # a theme renders every row afresh
        assert cursor_background()[0] not in (None, drawn) and cursor_background()[0] == cursor_background()[1]
        rendered = set(table._row_render_cache.keys())
        await pilot.press("1")
        app.theme = "nord" if app.theme != "nord" else "gruvbox"  # changed while the table is hidden
        await pilot.pause()
        await pilot.press("2")
        await pilot.pause()
        assert not rendered & set(table._row_render_cache.keys())
        assert cursor_background()[0] == cursor_background()[1]
        await pilot.resize_terminal(100, 30)
        await pilot.pause()
        assert table._update_count != count  # so does a new size

        # no scrollbar (it cost each visit a second layout pass): the cursor scrolls, the hint says where
        hint = app.query_one("#runs-hint")
        assert hint.text.startswith("run 1 of 24")
        for _ in range(23):
            await pilot.press("down")
        await pilot.pause()
        assert hint.text.startswith("run 24 of 24") and table.scroll_y > 0


@pytest.mark.parametrize("device,interval", [("cpu", 1.0), ("cuda:0", 0.5)])
async def test_dashboard_paces_its_frames_and_redraws_only_changed_charts(runs_dir, device, interval):
    """One chart per frame, twice a second, once a second while a run trains on the CPU (the frames took
    ~10% of an oneDNN LSTM's speed at twice a second); the per-epoch chart waits for a new epoch; every
    chart catches up with the complete history."""
    app = make_app(runs_dir)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        app.show_view("train")
        app.query_one("#train-switcher").current = "dashboard"
        await pilot.pause()
        dash = app.query_one(Dashboard)
        dash.reset("paced", 1.0, SimpleNamespace(state=RunState.RUNNING))  # a session, as far as the dashboard sees
        events = synthetic_events(2, 10, device=device)
        dash.add_event(events[0])
        drawn = []
        for chart in dash._charts:
            chart.show = lambda h, chart=chart, show=chart.show: (drawn.append(chart.id), show(h))
        dash.add_points(events[1:6])  # 5 steps of epoch 1
        dash.last_frame = 0.0
        dash.refresh_charts()
        assert len(drawn) == 1
        dash.refresh_charts()  # too soon: nothing at all, not even the status line
        dash.last_frame -= interval - 0.1
        dash.refresh_charts()
        assert len(drawn) == 1
        dash.last_frame -= 0.1
        dash.refresh_charts()
        assert len(drawn) == 2
        for _ in range(6):  # each chart once for the new run, then nothing: no new data
            dash.last_frame = 0.0
            dash.refresh_charts()
        assert sorted(drawn) == ["grad-chart", "loss-chart", "metric-chart", "speed-chart"]
        dash.add_points(events[6:8])  # steps, no epoch: the per-epoch chart is not drawn again
        for _ in range(4):
            dash.last_frame = 0.0
            dash.refresh_charts()
        assert drawn.count("metric-chart") == 1 and len(drawn) == 7
        for event in events[8:]:
            (dash.add_points([event]) if event["event"] == "step" else dash.add_event(event))
        for _ in range(4):
            dash.last_frame = 0.0
            dash.refresh_charts()
        assert drawn.count("metric-chart") == 2
        assert all(dash.drawn[c.id] == (dash.version, c.data_key(dash.history)) for c in dash._charts)


async def test_the_run_being_trained_is_listed_as_running_until_it_ends(runs_dir):
    """On disk a run without its end is 'unfinished' (running, or killed); the app knows which it trains."""
    from rnntui.presets import load_preset

    config = load_preset("lstm")
    events = [e for e in synthetic_events(2, 5) if e["event"] != "end"]
    live = write_run(runs_dir, "lstm-20261127-000001", config, events, 1.7e9)
    write_run(runs_dir, "lstm-20261127-000000", config, events, 1.6e9)
    app = make_app(runs_dir)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("2")
        await pilot.pause()
        view, table = app.query_one(RunsView), app.query_one("#runs-table", DataTable)

        def statuses():
            return [str(table.get_row_at(i)[-1]) for i in range(table.row_count)]

        assert statuses() == ["unfinished", "unfinished"]
        app.live_run = LiveRun(live)
        await pilot.pause()
        assert statuses() == ["running", "unfinished"]
        app.live_run = None  # it ended without a word on disk (killed): unfinished again
        await pilot.pause()
        assert statuses() == ["unfinished", "unfinished"]


async def test_runs_table_draws_what_data_table_draws():
    """RunsTable draws one-line text cells itself (DataTable's general path was most of its first
    render): side by side with a DataTable of the same rows, every character and style must match,
    focused or not, with the cursor moved, the mouse over a row, for markup, styled text, numbers."""
    from rich.text import Text
    from textual.app import App

    from rnntui.tui.widgets.runs_table import RunsTable

    rows = [("✓", "lstm-20261127-000001", "lstm", "LSTM 256", "5/5", "val ppl 4.877", "1m39s", "cpu", "finished"),
            (" ", "gru", Text("styled", style="bold red"), "[b]markup[/b]", 3.14159, 42, "", "cuda:0", "failed"),
            (" ", "a much longer name than the others", "x", "y", None, "✓✓", "z", "w", "running")]

    class Pair(App):
        def compose(self):
            yield DataTable(id="stock", cursor_type="row", zebra_stripes=True)
            yield RunsTable(id="ours", cursor_type="row", zebra_stripes=True)

    def drawn(table):
        return [[(ch, seg.style) for seg in table.render_line(y) for ch in seg.text] for y in range(8)]

    app = Pair()
    async with app.run_test(size=(130, 30)) as pilot:
        tables = list(app.query(DataTable))
        for table in tables:
            table.add_columns("", "run", "preset", "model", "epochs", "best", "time", "device", "status")
            for row in rows * 2:
                table.add_row(*row)
        await pilot.pause()
        for step in ("focused", "unfocused", "cursor moved", "hover"):
            pictures = []
            for table in tables:
                if step == "unfocused":
                    app.set_focus(None)
                else:
                    table.focus()
                if step == "cursor moved":
                    table.move_cursor(row=2)
                if step == "hover":
                    table.hover_coordinate = table.hover_coordinate.__class__(1, 3)
                    table._show_hover_cursor = True
                await pilot.pause()
                pictures.append(drawn(table))
            assert pictures[0] == pictures[1], step
            assert any(ch == "✓" for line in pictures[1] for ch, _ in line)


def _cells(strips) -> list[list[tuple]]:
    return [[(ch, seg.style) for seg in strip for ch in seg.text] for strip in strips]


async def test_charts_draw_what_plotext_plot_draws():
    """The charts go from plotext's matrix of cells straight to strips (PlotextPlot has plotext write
    the matrix out as ANSI text, which is read back: most of a redraw). For every chart, before and
    after a theme change and after new data, each character and style (and the offsets that text
    selection reads) must be what PlotextPlot's own ``render`` gives."""
    from textual.app import App
    from textual.visual import Visual

    from rnntui.training.history import History
    from rnntui.tui.widgets.charts import GradChart, LossChart, MetricChart, SpeedChart

    def history(events):
        h = History()
        for event in events:
            h.add(event)
        return h

    class Charts(App):
        def compose(self):
            for cls in (LossChart, MetricChart, GradChart, SpeedChart, CompareChart):
                yield cls()

    def stock(chart):  # Widget._render_content's path, then padded as the styles cache pads a line
        width, height = chart.size
        strips = Visual.to_strips(chart, chart._render(), width, height, chart.visual_style)
        return [s.adjust_cell_length(width, chart.visual_style.rich_style) for s in strips]

    app = Charts()
    async with app.run_test(size=(100, 75)) as pilot:
        charts = list(app.query(LossChart)) + list(app.query(MetricChart)) + list(app.query(GradChart)) \
            + list(app.query(SpeedChart)) + list(app.query(CompareChart))
        app.query_one(GradChart).clip = 1.0
        app.query_one(CompareChart).compare("val_ppl", [("lstm", [9.0, 6.5, 5.0]), ("gru", [9.5, 7.0, 5.5])])
        pictures = {}
        for stage, events in (("first", synthetic_events(2, 25)), ("theme", synthetic_events(2, 25)),
                              ("more data", synthetic_events(4, 25, seed=3)), ("resized", synthetic_events(4, 25, seed=3))):
            if stage == "theme":
                app.theme = "textual-light"
            if stage == "resized":  # the same data, drawn again for the new size
                await pilot.resize_terminal(70, 60)
            for chart in charts:
                if stage != "resized":
                    chart.show(history(events))
            await pilot.pause()
            for chart in charts:
                ours = [chart.render_line(y) for y in range(chart.size.height)]
                assert _cells(ours) == _cells(stock(chart)), (stage, type(chart).__name__)
                assert any("\u2800" < ch <= "\u28ff" or ch == "•" for line in _cells(ours) for ch, _ in line)  # points
                pictures.setdefault(type(chart).__name__, []).append(_cells(ours))
        for name, (first, theme, more, resized) in pictures.items():
            assert first != theme and (theme != more or name == "CompareChart"), name  # redrawn, not kept
            assert len(resized[0]) < len(more[0]), name  # narrower


async def test_the_sample_log_takes_lines_without_laying_out_the_screen():
    """A line written to a RichLog grows its virtual size, and Textual lays the whole screen out again for
    that (~20 ms, once an epoch). The dashboard's log only updates its scrollbar: the same lines, the same
    scroll position and scrollbar as a stock RichLog fed the same lines, and no screen layout."""
    from textual.app import App
    from textual.containers import Horizontal

    from rnntui.tui.widgets.dashboard import SampleLog

    class Logs(App):
        def compose(self):
            with Horizontal():
                yield RichLog(id="stock", wrap=True, min_width=20)
                yield SampleLog(id="ours", wrap=True, min_width=20)

    app = Logs()
    async with app.run_test(size=(80, 20)) as pilot:
        await pilot.pause()
        layouts = []
        refresh_layout = app.screen._refresh_layout
        app.screen._refresh_layout = lambda *a, **k: (layouts.append(1), refresh_layout(*a, **k))
        logs = [app.query_one("#stock", RichLog), app.query_one("#ours", SampleLog)]
        stock_layouts = []
        for i in range(40):
            line = f"epoch {i}: train_ppl {20 - i / 3:.4g}  val_ppl {21 - i / 3:.4g} " + "traveller " * (i % 5)
            before = len(layouts)
            logs[0].write(line)
            await pilot.pause()
            stock_layouts.append(len(layouts) - before)
            before = len(layouts)
            logs[1].write(line)
            await pilot.pause()
            assert len(layouts) - before <= (1 if i < 25 else 0)  # at most the scrollbar's first showing
        assert sum(stock_layouts) >= 30  # what the stock log costs
        stock, ours = logs
        assert ours.max_scroll_y > 0 and ours.scroll_y == ours.max_scroll_y == stock.scroll_y  # followed the end
        for attribute in ("window_virtual_size", "window_size", "position"):
            assert getattr(ours.vertical_scrollbar, attribute) == getattr(stock.vertical_scrollbar, attribute)
        pictures = {}
        for focused in (None, stock, ours):  # the focus changes a log's colours
            app.set_focus(focused)
            await pilot.pause()
            pictures[focused] = [_cells(log.render_lines(log.region.reset_offset)) for log in (stock, ours)]
        assert pictures[None][1] == pictures[None][0]  # neither focused
        assert pictures[ours][1] == pictures[stock][0] != pictures[None][0]  # each focused
        app.theme = "textual-light"
        app.set_focus(None)
        await pilot.pause()
        light = [_cells(log.render_lines(log.region.reset_offset)) for log in (stock, ours)]
        assert light[1] == light[0] != pictures[None][0]
        ours_lines = ours.render_lines(ours.region.reset_offset)
        assert "epoch 39" in " ".join(line.text for line in ours_lines[-3:])  # the last line, at the bottom


async def test_an_opened_run_shows_all_its_charts_at_once(runs_dir):
    """A run opened from the Runs view (the dashboard hidden while its history arrived) is drawn whole
    when the dashboard shows, not one chart a frame."""
    from rnntui.training.history import History

    app = make_app(runs_dir)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("2")
        await pilot.pause()
        dash = app.query_one(Dashboard)
        history = History()
        for event in synthetic_events(3, 20):
            history.add(event)
        dash.show_history(history, "opened", 1.0)  # hidden: nothing drawn yet
        assert not dash.drawn
        app.show_view("train")
        app.query_one("#train-switcher").current = "dashboard"
        await pilot.pause()
        await pilot.pause()
        assert all(dash.drawn.get(c.id) == (dash.version, c.data_key(history)) for c in dash._charts)


async def test_runs_view_lists_opens_and_compares(runs_dir):
    app = make_app(runs_dir)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await tiny_setup(pilot, train__epochs="2")
        dash = app.query_one(Dashboard)
        await pilot.press("s")
        await wait_for(pilot, lambda: dash.state == "finished" and not train(app).training, what="the run to finish")
        run = train(app).session.run_dir
        assert len(dash.history.epochs) == 2
        assert len(dash.history.step_loss) == step_lines(run) == 2 * dash.history.start["steps_per_epoch"]
        assert load_checkpoint(run / "checkpoint.pt").info["status"] == "finished"

        await pilot.press("2")
        view = app.query_one(RunsView)
        table = view.query_one(DataTable)
        assert table.row_count == 1
        row = [str(cell) for cell in table.get_row_at(0)]
        assert run.name in row and "finished" in row and "2/2" in row and "LSTM 32" in row

        chart = view.query_one(CompareChart)
        assert not chart.display and view.query_one("#compare-placeholder").display  # how to compare, until c
        await pilot.press("c")
        assert chart.display and not view.query_one("#compare-placeholder").display
        assert chart.metric == "val_ppl"
        assert chart.series == [("lstm (LSTM 32)", dash.history.epoch_series("val_ppl"))]

        await pilot.press("space")
        assert view.selected == {run.name}
        await pilot.press("o")
        assert app.shown == "train"
        assert app.query_one("#train-switcher").current == "dashboard"
        assert dash.state == "finished" and len(dash.history.step_loss) == step_lines(run)


async def test_ctrl_s_saves_a_preset_that_reads_back_equal(runs_dir, tmp_path):
    app = make_app(runs_dir)
    notes = record_notifications(app)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await tiny_setup(pilot, train__lr="0.25", train__epochs="7")
        app.query_one("#f-data-max-tokens", Input).focus()  # ctrl+s works from inside a field too
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, SavePresetScreen)
        path_input = app.screen.query_one("#save-path", Input)
        assert path_input.value == "lstm.toml"
        await pilot.press("enter")  # relative to the working directory (tmp_path)
        assert not isinstance(app.screen, SavePresetScreen)
        saved = tmp_path / "lstm.toml"
        assert saved.is_file()
        assert load_toml(saved) == train(app).config
        assert any(str(saved.name) in message for message, _ in notes)

        await pilot.press("ctrl+s")
        path_input = app.screen.query_one("#save-path", Input)
        path_input.value = str(tmp_path / "sub" / "missing-dir.toml")  # its folder does not exist
        await pilot.press("enter")
        assert any(kw.get("severity") == "error" and "could not save" in message for message, kw in notes)
        assert app.is_running

        await pilot.press("ctrl+s")
        await pilot.press("escape")
        assert not isinstance(app.screen, SavePresetScreen)
