"""Screenshots of the playground compared with the accepted ones in __snapshots__/ (pytest-textual-snapshot).

No training runs here: the dashboard and the runs view show synthetic, deterministic metrics. After a
deliberate change of the UI, look at the report and accept the new screenshots with
``pytest tests/tui/test_snapshots.py --snapshot-update``.
"""

from __future__ import annotations

import pytest
from textual.widgets import ContentSwitcher

from rnntui.config import ExperimentConfig
from rnntui.training.history import History
from rnntui.tui.widgets.dashboard import Dashboard
from tui_helpers import FIXED_DEVICES, make_app, ready, synthetic_events, write_run

SIZES = [pytest.param((120, 40), id="120x40"), pytest.param((80, 24), id="80x24")]


@pytest.fixture
def app_factory(tmp_path, monkeypatch):
    """The app with a device list that reads the same on every machine, and its own runs folder."""
    import rnntui.training.trainer

    monkeypatch.setattr(rnntui.training.trainer, "available_devices", lambda: list(FIXED_DEVICES))
    monkeypatch.chdir(tmp_path)
    runs = tmp_path / "runs"
    runs.mkdir()
    return lambda: make_app(runs), runs


def tiny_lm(name: str, kind: str, hiddens: int) -> ExperimentConfig:
    return ExperimentConfig(name=name, description=f"{kind} on pydoc").replace(
        data={"corpus": "pydoc", "max_tokens": 20000},
        model={"kind": kind, "num_hiddens": hiddens},
        train={"epochs": 4, "device": "cpu"},
    )


@pytest.mark.parametrize("size", SIZES)
def test_setup_form(snap_compare, app_factory, size):
    make, _ = app_factory
    assert snap_compare(make(), terminal_size=size, run_before=ready)


@pytest.mark.parametrize("size", SIZES)
def test_dashboard_with_recorded_run(snap_compare, app_factory, size):
    make, _ = app_factory
    history = History()
    for event in synthetic_events(epochs=4, steps_per_epoch=25):
        history.add(event)

    async def show(pilot):
        await ready(pilot)
        dashboard = pilot.app.query_one(Dashboard)
        pilot.app.query_one("#train-switcher", ContentSwitcher).current = "dashboard"
        await pilot.pause()
        dashboard.show_history(history, "lstm-20240101-120000 (lstm)", 1.0)
        await pilot.pause()

    assert snap_compare(make(), terminal_size=size, run_before=show)


@pytest.mark.parametrize("size", SIZES)
def test_runs_comparison(snap_compare, app_factory, size):
    make, runs = app_factory
    for i, (name, kind, hiddens, scale) in enumerate([("rnn", "rnn", 64, 1.3), ("gru", "gru", 128, 1.1),
                                                      ("lstm", "lstm", 256, 1.0)]):
        write_run(runs, f"{name}-20240101-12000{i}", tiny_lm(name, kind, hiddens),
                  synthetic_events(epochs=4, steps_per_epoch=10, scale=scale, seed=i), mtime=1_700_000_000 + i)
    # the runs view lists the newest first (lstm, gru, rnn): mark all three and overlay them
    assert snap_compare(make(), terminal_size=size, run_before=ready,
                        press=["2", "space", "down", "space", "down", "space", "c"])
