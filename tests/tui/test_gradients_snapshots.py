"""Screenshots of the Gradients view compared with the accepted ones in __snapshots__/ (pytest-textual-snapshot).

Tiny RNN, GRU and LSTM language models trained once for the module on the CPU with fixed seeds (the
built-in corpus), so the charts and figures are the numbers a user would see. After a deliberate change of
the view, accept the new screenshots with ``pytest tests/tui/test_gradients_snapshots.py --snapshot-update``
and look at them.
"""

from __future__ import annotations

import os
import shutil

import pytest

from conftest import tiny_config
from rnntui.tui.model_choice import ModelChoice
from tui_helpers import FIXED_DEVICES, SHARED_DATA, make_app, ready, wait_for

pytestmark = pytest.mark.skipif(not SHARED_DATA.is_dir(), reason=f"no shared data in {SHARED_DATA}")

SIZES = [pytest.param((120, 40), id="120x40"), pytest.param((80, 24), id="80x24")]
KINDS = ("rnn", "gru", "lstm")


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """One tiny run per kind, 16 hidden units, one epoch, seed 0."""
    from rnntui.training.experiment import train

    root = tmp_path_factory.mktemp("gradient-snapshot-runs")
    for kind in KINDS:
        train(tiny_config(model={"kind": kind, "num_hiddens": 16}, train={"epochs": 1}), root / f"tiny-{kind}",
              data_dir=SHARED_DATA)
    return root


@pytest.fixture
def app_factory(tmp_path, monkeypatch, recorded):
    import rnntui.training.trainer

    monkeypatch.setattr(rnntui.training.trainer, "available_devices", lambda: list(FIXED_DEVICES))
    monkeypatch.setenv("RNNTUI_DATA_DIR", str(SHARED_DATA))
    monkeypatch.chdir(tmp_path)
    runs = tmp_path / "runs"
    for i, kind in enumerate(KINDS):
        shutil.copytree(recorded / f"tiny-{kind}", runs / f"tiny-{kind}")
        for path in [*(runs / f"tiny-{kind}").iterdir(), runs / f"tiny-{kind}"]:
            os.utime(path, (1_700_000_000 + i, 1_700_000_000 + i))
    return lambda: make_app(runs)


async def computed(pilot) -> None:
    view = pilot.app.view("gradients")
    await pilot.pause(0.1)
    await wait_for(pilot, lambda: not view.computing and (view.part in view.results or view.part in view.errors),
                   what=f"the {view.part} part")
    await pilot.pause(0.4)  # past the busy line's timer


async def on_model(pilot, kind: str) -> None:
    app = pilot.app
    await ready(pilot)
    run = app.runs_dir / f"tiny-{kind}"
    app.model_choice = ModelChoice("run", run)
    await pilot.press("7")
    view = app.view("gradients")
    await wait_for(pilot, lambda: view.model is not None and view.model.run_dir == run, what="the model")
    await computed(pilot)


@pytest.mark.parametrize("size", SIZES)
def test_flow_of_an_rnn_with_gru_and_lstm_overlaid(snap_compare, app_factory, size):
    """The RNN's W_hh scaled x1.25 (its spectral radius said), the GRU and LSTM runs over it, the 0.5^(T-t) line."""

    async def run_before(pilot):
        await on_model(pilot, "rnn")
        await pilot.press("plus", "plus", "o")
        await computed(pilot)

    assert snap_compare(app_factory(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_gates_of_an_lstm_over_text(snap_compare, app_factory, size):
    """The LSTM's memory cell: the heatmap of its most variable units, the unit that responds most to spaces."""

    async def run_before(pilot):
        await on_model(pilot, "lstm")
        await pilot.press("g")
        await computed(pilot)
        await pilot.press("up", "p", "space", "enter")
        view = pilot.app.view("gradients")
        await wait_for(pilot, lambda: view.pattern is not None, what="the pattern's unit")
        await pilot.pause(0.3)

    assert snap_compare(app_factory(), terminal_size=size, run_before=run_before)
