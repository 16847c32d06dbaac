"""The views as one app: keys that act only in their own view, the model the inspector views share,
the palette and help made from the bindings."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import DataTable, OptionList, Static

from conftest import tiny_config
from rnntui.tui.views import VIEWS
from rnntui.tui.model_choice import ModelChoice
from rnntui.tui.screens.model_picker import ModelPicker
from rnntui.tui.session import RunState
from rnntui.tui.views.runs import LOADED
from tui_helpers import ready, SHARED_DATA, make_app, start_live_run, tiny_setup, train, wait_for

pytestmark = pytest.mark.skipif(not SHARED_DATA.is_dir(), reason=f"no shared data in {SHARED_DATA}")

SIZE = (120, 40)


@pytest.fixture
def runs_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("RNNTUI_DATA_DIR", str(SHARED_DATA))
    monkeypatch.setenv("RNNTUI_DATA_URL", "http://127.0.0.1:9/")
    monkeypatch.chdir(tmp_path)
    return tmp_path / "runs"


def trained(runs_dir: Path, name: str, config) -> Path:
    """A real run folder (config, metrics, checkpoint), trained here in a second or two."""
    from rnntui.training.experiment import train as train_run

    train_run(config, runs_dir / name, data_dir=SHARED_DATA)
    return runs_dir / name


def sine_config():
    from rnntui.presets import load_preset

    return load_preset("sine-mlp").replace(train={"epochs": 1, "device": "cpu"})


def model_line(app, view_id: str) -> str:
    return str(app.query_one(f"#{view_id} .model-line", Static).render())


async def test_p_pauses_only_in_the_train_view(runs_dir):
    app = make_app(runs_dir)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await tiny_setup(pilot, train__epochs="100")
        view = train(app)
        await pilot.press("s")
        await wait_for(pilot, lambda: view.session.state == RunState.RUNNING, what="the run to start")
        for other in VIEWS[1:]:
            await pilot.press(other.key, "p")
            await pilot.pause()
            assert view.session.state == RunState.RUNNING, f"p in the {other.title} view paused the run"
            assert app.view(other.view_id).has_focus_within  # where its own keys reach it
            for key in ("s", "x", "e"):  # the Train view's other keys do nothing here either
                await pilot.press(key)
            assert view.session.state == RunState.RUNNING
        await pilot.press("1", "p")
        assert view.session.state == RunState.PAUSED
        await pilot.press("p")
        assert view.session.state == RunState.RUNNING
        await pilot.press("4", "f6")  # the F keys reach the Train view from anywhere
        assert view.session.state == RunState.PAUSED and app.shown == "sampling"
        await pilot.press("f8")
        await wait_for(pilot, lambda: not view.training, what="the run to stop")
        assert view.session.state == RunState.STOPPED


async def test_inspector_views_take_the_latest_fitting_run_and_the_runs_table_marks_it(runs_dir):
    lm = trained(runs_dir, "tiny-lm", tiny_config(train={"epochs": 1}))
    sine = trained(runs_dir, "tiny-sine", sine_config())
    app = make_app(runs_dir)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("4")  # Sampling: a language model
        await wait_for(pilot, lambda: "model: tiny-lm" in model_line(app, "sampling"), what="the LM loaded")
        assert "epoch 1 of 1" in model_line(app, "sampling") and "LSTM 32" in model_line(app, "sampling")
        await pilot.press("6")  # Sequence: the sine run
        await wait_for(pilot, lambda: "model: tiny-sine" in model_line(app, "sequence"), what="the sine model")
        await pilot.press("7")
        await wait_for(pilot, lambda: "model: tiny-lm" in model_line(app, "gradients"), what="the LM again")
        assert app.loaded_runs == {"sampling": lm, "sequence": sine, "gradients": lm}

        await pilot.press("2")
        await pilot.pause()
        table = app.query_one("#runs-table", DataTable)
        marks = {str(table.get_row_at(i)[2]): str(table.get_row_at(i)[1]) for i in range(table.row_count)}
        assert marks == {"tiny-lm": LOADED, "tiny-sine": LOADED}
        names = [str(table.get_row_at(i)[2]) for i in range(table.row_count)]
        table.move_cursor(row=names.index("tiny-lm"))
        await pilot.pause()
        assert "loaded in Sampling, Gradients" in app.query_one("#runs-hint").text


async def test_a_choice_that_does_not_fit_or_does_not_load_is_one_line(runs_dir, tmp_path):
    sine = trained(runs_dir, "tiny-sine", sine_config())
    app = make_app(runs_dir)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("4")
        await wait_for(pilot, lambda: "no finished language model run" in model_line(app, "sampling"),
                       what="no LM yet")
        app.model_choice = ModelChoice("run", sine)  # a sine model where a language model is needed
        await wait_for(pilot, lambda: "is a sine model; the Sampling view needs a language model"
                       in model_line(app, "sampling"), what="the wrong task, said")
        await pilot.press("6")  # where it fits
        await wait_for(pilot, lambda: "model: tiny-sine" in model_line(app, "sequence"), what="the sine model")

        junk = tmp_path / "junk.pt"
        junk.write_bytes(b"not a checkpoint at all")
        app.model_choice = ModelChoice("file", junk)
        await wait_for(pilot, lambda: "is not an rnntui checkpoint" in model_line(app, "sequence"),
                       what="a bad file, said")
        assert len(model_line(app, "sequence").splitlines()) == 1
        assert app.loaded_runs["sequence"] is None and app.is_running

        (sine / "checkpoint.pt").unlink()  # deleted since it was chosen
        app.model_choice = ModelChoice("run", sine)
        await wait_for(pilot, lambda: "checkpoint not found" in model_line(app, "sequence"), what="gone, said")


async def test_the_model_picker_lists_the_runs_and_its_choice_reaches_every_view(runs_dir):
    trained(runs_dir, "tiny-lm", tiny_config(train={"epochs": 1}))
    older = trained(runs_dir, "tiny-lm-2", tiny_config(train={"epochs": 1}, model={"num_hiddens": 16}))
    app = make_app(runs_dir)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("5")  # Prompt: the latest fitting run by default
        await wait_for(pilot, lambda: "model: tiny-lm-2" in model_line(app, "prompt"), what="the newest LM")
        await pilot.press("m")
        assert isinstance(app.screen, ModelPicker)
        options = app.screen.query_one(OptionList)
        await wait_for(pilot, lambda: options.option_count == 3, what="default and the two runs")
        assert options.highlighted == 0  # the choice now: the keys start from it
        texts = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        assert texts[0].startswith("default") and any(t.startswith("tiny-lm  LSTM 32") for t in texts)
        index = next(i for i, t in enumerate(texts) if t.startswith("tiny-lm  "))
        options.highlighted = index
        await pilot.press("enter")
        assert not isinstance(app.screen, ModelPicker)
        assert app.model_choice == ModelChoice("run", runs_dir / "tiny-lm")
        await wait_for(pilot, lambda: "model: tiny-lm (LSTM 32" in model_line(app, "prompt"), what="the choice")
        await pilot.press("4")  # the same choice in the other views
        await wait_for(pilot, lambda: "model: tiny-lm (LSTM 32" in model_line(app, "sampling"), what="shared")
        await pilot.press("m")
        options = app.screen.query_one(OptionList)
        await wait_for(pilot, lambda: options.highlighted == index, what="the choice highlighted")
        await pilot.press("escape")  # Esc keeps the choice
        assert app.model_choice == ModelChoice("run", runs_dir / "tiny-lm") and older.is_dir()


async def test_a_live_run_is_inspected_at_its_latest_epoch_and_its_last_when_it_ends(runs_dir):
    app = make_app(runs_dir)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        view = await start_live_run(pilot, train__epochs="3")
        await pilot.press("4")
        await wait_for(pilot, lambda: "epoch 1 of 3" in model_line(app, "sampling")
                       or "epoch 2 of 3" in model_line(app, "sampling"), timeout=40, what="its first checkpoint")
        await wait_for(pilot, lambda: not view.training, timeout=60, what="the run to finish")
        await pilot.press("1", "4")  # the run over, its last checkpoint stays
        await wait_for(pilot, lambda: "epoch 3 of 3, finished" in model_line(app, "sampling"), what="the last epoch")
        assert app.model_choice == ModelChoice("run", app.view("sampling").model.run_dir)


async def test_palette_and_help_are_made_from_the_bindings(runs_dir):
    from textual.actions import parse

    app = make_app(runs_dir)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.pause()
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert len(titles) == len(set(titles)), "a command is listed twice"
        offered = 0
        for view in app.views:
            assert f"Show the {view.TITLE} view" in titles
            for binding in view.BINDINGS:
                title = f"{view.TITLE}: {binding.tooltip or binding.description}"
                # offered while it can run: training's pause and stop only while a run trains, a part's
                # keys while the part is shown, a model's keys once a model is loaded
                can_run = view.check_action(*parse(binding.action)[1:]) is not False
                assert (title in titles) == can_run, title
                offered += can_run
        assert offered > 40
        assert "Train: pause or resume training" not in titles  # nothing is training
        start = next(c for c in app.get_system_commands(app.screen) if c.title == "Train: start training the setup")
        assert start.help == "key s"
        # a part's keys are offered while the part is shown
        assert "Vocab: find a token in the vocabulary" in titles
        await pilot.press("3", "b")
        titles = [command.title for command in app.get_system_commands(app.screen)]
        vocab = app.view("vocab")
        assert {f"Vocab: {b.tooltip}" for b in vocab.BINDINGS if b.id in BATCH_KEYS} <= set(titles)
        assert "Vocab: find a token in the vocabulary" not in titles  # the vocabulary part's


BATCH_KEYS = {"vocab.sampling", "vocab.batch-size", "vocab.seed", "vocab.example", "vocab.next-batch",
              "vocab.prev-batch"}


async def test_s_pressed_at_once_starts_the_run_when_the_setup_has_loaded(runs_dir):
    """The first frame comes before the preset's fields (and before torch): s then waits for them."""
    app = make_app(runs_dir, preset="sine-mlp")
    async with app.run_test(size=SIZE) as pilot:
        view = train(app)
        assert view.config is None and not app.query("#fields Input")  # the fields follow the first frame
        await pilot.press("s")
        await wait_for(pilot, lambda: view.session is not None, what="the run to start")
        assert view.session.config.name == "sine-mlp"
        await wait_for(pilot, lambda: not view.training, timeout=60, what="the run to end")
        assert view.session.state == RunState.FINISHED
