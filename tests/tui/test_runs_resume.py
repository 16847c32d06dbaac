"""Runs that go on (issue 16) in the app: r resumes a run in its own folder, a run trained by another
process is followed live, damaged run folders are listed and say why."""

from __future__ import annotations

import json

import pytest
from textual.widgets import DataTable, Input

from conftest import tiny_config
from rnntui.training.history import load_history
from rnntui.tui.screens.help import Ask
from rnntui.tui.session import RunState
from tui_helpers import SHARED_DATA, make_app, ready, record_notifications, synthetic_events, train, wait_for

pytestmark = pytest.mark.skipif(not SHARED_DATA.is_dir(), reason=f"no shared data in {SHARED_DATA}")

SIZE = (120, 40)


@pytest.fixture
def runs_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("RNNTUI_DATA_DIR", str(SHARED_DATA))
    monkeypatch.setenv("RNNTUI_DATA_URL", "http://127.0.0.1:9/")
    monkeypatch.chdir(tmp_path)
    return tmp_path / "runs"


async def test_r_goes_on_with_a_run_in_its_folder_and_the_charts_show_one_history(runs_dir):
    from rnntui.training.experiment import train as train_run

    run = runs_dir / "tiny-lm"
    train_run(tiny_config(train={"epochs": 1}), run, data_dir=SHARED_DATA)
    before = load_history(run / "metrics.jsonl")
    app = make_app(runs_dir)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("2")
        await pilot.pause()
        await pilot.press("r")
        assert isinstance(app.screen, Ask)
        assert app.screen.query_one(Input).value == "2"  # done with its 1 epoch: as many again
        await pilot.press("enter")
        view = train(app)
        await wait_for(pilot, lambda: view.session is not None and view.session.state == RunState.FINISHED,
                       timeout=60, what="the resumed run to finish")
        assert view.session.run_dir == run and sorted(p.name for p in runs_dir.iterdir()) == ["tiny-lm"]
        after = load_history(run / "metrics.jsonl")
        assert [e["epoch"] for e in after.epochs] == [1, 2]
        assert after.step_loss[:len(before.step_loss)] == before.step_loss
        dash = view.dashboard
        assert dash.history.step_loss == after.step_loss  # the first epoch's steps, then the new ones
        assert [e["epoch"] for e in dash.history.epochs] == [1, 2]


async def test_a_run_trained_elsewhere_is_followed_as_its_metrics_grow(runs_dir):
    from rnntui.presets import load_preset
    from tui_helpers import write_run

    events = synthetic_events(3, 10)
    cut = next(i for i, e in enumerate(events) if e["event"] == "epoch")  # one epoch's steps so far
    run = write_run(runs_dir, "lstm-20261201-000000", load_preset("lstm"), events[:cut], 1.7e9)
    app = make_app(runs_dir)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("2")
        await pilot.pause()
        await pilot.press("o")
        dash = train(app).dashboard
        assert len(dash.history.step_loss) == 10 and dash.state == RunState.UNFINISHED
        with (run / "metrics.jsonl").open("a") as f:  # the other process goes on writing
            f.writelines(json.dumps(e) + "\n" for e in events[cut:])
        await wait_for(pilot, lambda: dash.state == RunState.FINISHED, timeout=10, what="the run's end")
        assert len(dash.history.step_loss) == 30 and len(dash.history.epochs) == 3
        assert "FINISHED" in dash.status_line()


async def test_damaged_runs_are_listed_and_cannot_be_opened(runs_dir):
    runs_dir.mkdir(parents=True)
    (runs_dir / "broken").mkdir()
    (runs_dir / "broken" / "metrics.jsonl").write_text("garbage\n", encoding="utf-8")
    app = make_app(runs_dir)
    notes = record_notifications(app)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("2")
        await pilot.pause()
        table = app.query_one("#runs-table", DataTable)
        assert [str(c) for c in table.get_row_at(0)][-1] == "unreadable"
        assert "unreadable: no config.toml" in app.query_one("#runs-hint").text
        await pilot.press("o", "r", "c")
        assert app.shown == "runs" and app.is_running
        assert any("broken is unreadable: no config.toml" in message for message, _ in notes)
