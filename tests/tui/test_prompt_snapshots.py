"""Screenshots of the Prompt view compared with the accepted ones in __snapshots__/ (pytest-textual-snapshot).

Tiny checkpoints trained here with fixed seeds (on the CPU, one thread), greedy decoding and beam search
(no sampling); the view's clock is stopped, so the entries show no measured times. After a deliberate
change of the view, look at the report and accept the new screenshots with
``pytest tests/tui/test_prompt_snapshots.py --snapshot-update``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import tiny_config
from rnntui.tui.model_choice import ModelChoice
from tui_helpers import FIXED_DEVICES, SHARED_DATA, make_app, ready, wait_for

pytestmark = pytest.mark.skipif(not SHARED_DATA.is_dir(), reason=f"no shared data in {SHARED_DATA}")

SIZES = [pytest.param((120, 40), id="120x40"), pytest.param((80, 24), id="80x24")]
PAIRS = "\n".join(
    f"{en}\t{fr}" for en, fr in [("Go.", "Va !"), ("Hi.", "Salut !"), ("Run!", "Cours !"), ("Go.", "Bouge !"),
                                 ("I lost.", "J'ai perdu."), ("Hi.", "Salut."), ("Run!", "Courez !")] * 12
) + "\n"


def _train(folder: Path, config) -> Path:
    from rnntui.training.experiment import train

    train(config, folder, data_dir=SHARED_DATA)
    return folder


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, Path]:
    from rnntui.config import ExperimentConfig

    d = tmp_path_factory.mktemp("models")
    (d / "pairs.tsv").write_text(PAIRS, encoding="utf-8")
    s2s = ExperimentConfig(name="tiny-s2s", task="seq2seq").replace(
        pairs={"source": str(d / "pairs.tsv"), "num_examples": 80, "num_steps": 6, "batch_size": 16,
               "val_examples": 0},
        model={"kind": "gru", "embed_size": 8, "num_hiddens": 16, "num_layers": 1},
        train={"optimizer": "adam", "lr": 0.01, "epochs": 3, "device": "cpu", "seed": 0},
        sample={"sentences": ["go ."], "references": ["va !"]},
    )
    return {"lm": _train(d / "tiny-lm", tiny_config(train={"epochs": 1})), "seq2seq": _train(d / "tiny-s2s", s2s)}


@pytest.fixture
def app_factory(tmp_path, monkeypatch):
    import rnntui.training.trainer
    import rnntui.tui.views.prompt

    monkeypatch.setattr(rnntui.training.trainer, "available_devices", lambda: list(FIXED_DEVICES))
    monkeypatch.setattr(rnntui.tui.views.prompt, "clock", lambda: 0.0)  # no measured times on screen
    monkeypatch.setenv("RNNTUI_DATA_DIR", str(SHARED_DATA))
    monkeypatch.chdir(tmp_path)
    runs = tmp_path / "runs"
    runs.mkdir()
    return lambda: make_app(runs)


async def _prompts(pilot, run: Path, prompts: list[str], keys: list[str], after: list[str]) -> None:
    app = pilot.app
    await ready(pilot)
    app.model_choice = ModelChoice("run", run)
    await pilot.press("5")
    view = app.view("prompt")
    await wait_for(pilot, lambda: view.model is not None and view.model.run_dir == run, what="the model")
    await pilot.press(*keys, "enter")
    for prompt in prompts:
        before = view._request
        view.input.value = prompt
        await pilot.press("enter")
        await wait_for(pilot, lambda: view._request in view.entries and
                       getattr(view.entries[view._request], "status", "done") == "done" and view._request > before,
                       what="the result")
    await pilot.press(*after)
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES)
def test_generation_coloured_by_surprise(snap_compare, app_factory, models, size):
    async def run_before(pilot):
        # 200 greedy characters, then 50 after a prompt with an emoji; Esc back to the keys, c colours
        await _prompts(pilot, models["lm"], ["the time machine ", "the \U0001F600 of "], ["L"], [])
        await pilot.press("escape", "l", "l", "enter")
        view = pilot.app.view("prompt")
        before = view._request
        view.input.value = "it is "
        await pilot.press("enter")
        await wait_for(pilot, lambda: view._request > before and view.entries.get(view._request) is not None
                       and view.entries[view._request].status == "done", what="the last one")
        await pilot.press("escape", "c")
        await pilot.pause()

    assert snap_compare(app_factory(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_translation_greedy_beside_beam_search(snap_compare, app_factory, models, size):
    async def run_before(pilot):
        await _prompts(pilot, models["seq2seq"], ["go . => va !", "zebra i lost ."], [], ["escape"])

    assert snap_compare(app_factory(), terminal_size=size, run_before=run_before)
