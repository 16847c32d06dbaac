"""Screenshots of the Sampling view compared with the accepted ones in __snapshots__/ (pytest-textual-snapshot).

The tiny language model and translation model of test_sampling_view.py, trained once for the module on the
CPU with fixed seeds; steps are greedy or sampled with a fixed seed. After a deliberate change of the view,
accept the new screenshots with ``pytest tests/tui/test_sampling_snapshots.py --snapshot-update`` and look
at them.
"""

from __future__ import annotations

import pytest

from rnntui.tui.model_choice import ModelChoice
from rnntui.tui.widgets.token_bars import TokenBars
from test_sampling_view import trained  # noqa: F401 - the module's models
from tui_helpers import FIXED_DEVICES, SHARED_DATA, make_app, ready, wait_for

pytestmark = pytest.mark.skipif(not SHARED_DATA.is_dir(), reason=f"no shared data in {SHARED_DATA}")

SIZES = [pytest.param((120, 40), id="120x40"), pytest.param((80, 24), id="80x24")]


@pytest.fixture
def app_factory(tmp_path, monkeypatch, trained):  # noqa: F811
    import rnntui.training.trainer

    monkeypatch.setattr(rnntui.training.trainer, "available_devices", lambda: list(FIXED_DEVICES))
    monkeypatch.setenv("RNNTUI_DATA_DIR", str(SHARED_DATA))
    monkeypatch.chdir(tmp_path)
    runs, s2s = trained
    return lambda: make_app(runs), s2s


async def settled(pilot) -> None:
    """The bars answer the latest key, and the strip follows the text they are for."""
    app = pilot.app
    view = app.view("sampling")
    bars = app.query_one(TokenBars)
    await wait_for(pilot, lambda: view.shown is not None and view.shown.version == view._version
                   and bars.painted == bars.version and view.strip_state == view.shown.state,
                   what="the bars and the strip of the latest key")
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES)
def test_top_p_bars_after_a_few_steps(snap_compare, app_factory, size):
    make, _ = app_factory

    async def run_before(pilot):
        await ready(pilot)
        await pilot.press("4")
        await settled(pilot)
        await pilot.press("g", "g", "space", "t", "t")  # two greedy steps, one sampled, T 0.8
        await settled(pilot)

    assert snap_compare(make(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_beam_search_step_by_step(snap_compare, app_factory, size):
    make, s2s = app_factory

    async def run_before(pilot):
        await ready(pilot)
        pilot.app.model_choice = ModelChoice("run", s2s)
        await pilot.press("4")
        view = pilot.app.view("sampling")
        await wait_for(pilot, lambda: view.beams is not None, what="the beams")
        await pilot.pause()

    assert snap_compare(make(), terminal_size=size, run_before=run_before)
