"""Screenshots of the Vocab view compared with the accepted ones in __snapshots__/ (pytest-textual-snapshot).

The Time Machine (the shared copy of d2l's file) counted as the view counts it: no training, nothing random
but the minibatch plan's seed. After a deliberate change of the view, accept the new screenshots with
``pytest tests/tui/test_vocab_snapshots.py --snapshot-update`` and look at them.
"""

from __future__ import annotations

import pytest

from tui_helpers import FIXED_DEVICES, SHARED_DATA, make_app, ready, wait_for

pytestmark = pytest.mark.skipif(not (SHARED_DATA / "timemachine.txt").is_file(),
                                reason=f"no shared data in {SHARED_DATA}")

SIZES = [pytest.param((120, 40), id="120x40"), pytest.param((80, 24), id="80x24")]


@pytest.fixture
def app_factory(tmp_path, monkeypatch):
    import rnntui.training.trainer

    monkeypatch.setattr(rnntui.training.trainer, "available_devices", lambda: list(FIXED_DEVICES))
    monkeypatch.setenv("RNNTUI_DATA_DIR", str(SHARED_DATA))
    monkeypatch.chdir(tmp_path)
    runs = tmp_path / "runs"
    runs.mkdir()
    return lambda: make_app(runs)


async def counted(pilot, *keys: str) -> None:
    """The view shown, ``keys`` pressed, and each count and plan they asked for on screen."""
    await ready(pilot)
    await pilot.press("3")
    view = pilot.app.view("vocab")
    await wait_for(pilot, lambda: view.report is not None, what="The Time Machine counted")
    for key in keys:
        await pilot.press(key)
        await wait_for(pilot, lambda: not view.counting, what=f"the count after {key!r}")
    if view.part == "batches":
        await wait_for(pilot, lambda: view.plan is not None, what="the minibatches")
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES)
def test_word_vocabulary_with_a_token_in_context(snap_compare, app_factory, size):
    async def run_before(pilot):
        await counted(pilot, "w", "plus", "plus")  # words, min_freq 2
        await pilot.press("down", "down", "down", "down", "enter")  # "of" in its contexts
        await pilot.pause()

    assert snap_compare(app_factory(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_ngrams_and_zipf(snap_compare, app_factory, size):
    assert snap_compare(app_factory(), terminal_size=size, run_before=lambda pilot: counted(pilot, "w", "n"))


@pytest.mark.parametrize("size", SIZES)
def test_the_books_minibatch_example(snap_compare, app_factory, size):
    async def run_before(pilot):
        await counted(pilot, "b", "e")
        view = pilot.app.view("vocab")
        await wait_for(pilot, lambda: view.plan is not None and view.plan.num_tokens == 35, what="the example")
        await pilot.press("right")
        await pilot.pause()

    assert snap_compare(app_factory(), terminal_size=size, run_before=run_before)
