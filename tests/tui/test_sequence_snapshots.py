"""Screenshots of the Sequence view compared with the accepted ones in __snapshots__/ (pytest-textual-snapshot).

Two real sine runs on the same draw (seed 0), an MLP and a GRU, trained once for the module on the CPU
(deterministic there), so the charts, the table and the verdict are the numbers a user would see. After a
deliberate change of the view, accept the new screenshots with
``pytest tests/tui/test_sequence_snapshots.py --snapshot-update`` and look at them.
"""

from __future__ import annotations

import os
import shutil

import pytest

from tui_helpers import FIXED_DEVICES, SHARED_DATA, make_app, ready, wait_for

SIZES = [pytest.param((120, 40), id="120x40"), pytest.param((80, 24), id="80x24")]
RUNS = (("sine-mlp-20240101-120000", "sine-mlp"), ("sine-rnn-20240101-120001", "sine-rnn"))


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """The two runs, trained once: 2 epochs each, seed 0."""
    from rnntui.presets import load_preset
    from rnntui.training.experiment import train

    root = tmp_path_factory.mktemp("sine-runs")
    for name, preset in RUNS:
        train(load_preset(preset).replace(train={"epochs": 2, "device": "cpu"}), root / name, data_dir=SHARED_DATA)
    return root


@pytest.fixture
def app_factory(tmp_path, monkeypatch, recorded):
    import rnntui.training.trainer

    monkeypatch.setattr(rnntui.training.trainer, "available_devices", lambda: list(FIXED_DEVICES))
    monkeypatch.chdir(tmp_path)
    runs = tmp_path / "runs"
    for i, (name, _) in enumerate(RUNS):
        shutil.copytree(recorded / name, runs / name)
        for path in [*(runs / name).iterdir(), runs / name]:  # the GRU is the newest: shown by default
            os.utime(path, (1_700_000_000 + i, 1_700_000_000 + i))
    return lambda: make_app(runs)


async def sequence_shown(pilot) -> None:
    await ready(pilot)
    await pilot.press("6")
    view = pilot.app.view("sequence")
    await wait_for(pilot, lambda: view.forecasts is not None and view.partner is not None, what="the forecasts")
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES)
def test_sequence_view(snap_compare, app_factory, size):
    assert snap_compare(app_factory(), terminal_size=size, run_before=sequence_shown)


@pytest.mark.parametrize("size", SIZES)
def test_sequence_view_with_edited_controls(snap_compare, app_factory, size):
    """A bad value is marked and said in one line; the charts stay those of the shown model."""

    async def edit(pilot) -> None:
        await sequence_shown(pilot)
        await pilot.press("k", "n", "tab")  # LSTM, seed 1, the focus into tau
        await pilot.press("backspace", "0")
        await pilot.pause()

    assert snap_compare(app_factory(), terminal_size=size, run_before=edit)
