"""The Sequence view (6) driven through Pilot: the sine run's forecasts as `rnntui forecast` gives them,
the MLP beside the latent model and the oracle, the controls, and retraining in the training process."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from textual.widgets import DataTable, Input, Select, Static

from conftest import run_cli
from rnntui.tui.model_choice import ModelChoice
from rnntui.tui.widgets.sequence_charts import ForecastChart, KStepChart
from rnntui.tui.widgets.sequence_table import MseTable
from tui_helpers import SHARED_DATA, make_app, ready, wait_for

SIZE = (120, 40)


@pytest.fixture
def runs_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("RNNTUI_DATA_DIR", str(SHARED_DATA))
    monkeypatch.setenv("RNNTUI_DATA_URL", "http://127.0.0.1:9/")
    monkeypatch.chdir(tmp_path)
    return tmp_path / "runs"


def sine(preset: str = "sine-mlp", epochs: int = 1, **sections):
    from rnntui.presets import load_preset

    config = load_preset(preset).replace(train={"epochs": epochs, "device": "cpu"})
    return config.replace(**sections) if sections else config


def trained(runs_dir: Path, name: str, config, mtime: float | None = None) -> Path:
    """A real sine run folder (config, metrics, checkpoint), trained here in well under a second."""
    from rnntui.training.experiment import train as train_run

    train_run(config, runs_dir / name, data_dir=SHARED_DATA)
    run = runs_dir / name
    if mtime is not None:  # the runs are listed newest first
        for path in [*run.iterdir(), run]:
            os.utime(path, (mtime, mtime))
    return run


def forecast_json(tmp_path: Path, run: Path) -> dict:
    """What the headless twin prints: `rnntui forecast --checkpoint RUN/checkpoint.pt --json -`."""
    done = run_cli(tmp_path, "forecast", "--checkpoint", str(run / "checkpoint.pt"), "--json", "-")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def forecasts_of(run: Path) -> dict:
    """The run's forecasts computed here, as `rnntui forecast` computes them, keys as its JSON has them."""
    from rnntui.training.checkpoint import load_checkpoint
    from rnntui.training.sine_task import SineTask

    checkpoint = load_checkpoint(run / "checkpoint.pt")
    return json.loads(json.dumps(SineTask(checkpoint.model, checkpoint.config).forecasts()))


def per_k(values: dict) -> dict[int, object]:
    return {int(k): v for k, v in values.items()}


def text(app, selector: str) -> str:
    return str(app.query_one(selector, Static).render())


def sequence(app):
    return app.view("sequence")


async def shown(pilot, run: Path) -> None:
    """The Sequence view on screen with ``run``'s forecasts drawn."""
    app = pilot.app
    await pilot.press("6")
    view = sequence(app)
    await wait_for(pilot, lambda: view.model is not None and view.model.run_dir == run and view.forecasts is not None
                   and view.shown_label.startswith(run.name), what=f"the forecasts of {run.name}")
    await pilot.pause()


@pytest.mark.slow  # a fresh interpreter for the CLI
async def test_the_curves_and_the_table_are_the_headless_forecast(runs_dir, tmp_path):
    run = trained(runs_dir, "sine-mlp-a", sine(epochs=2))
    expected = forecast_json(tmp_path, run)
    app = make_app(runs_dir)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await shown(pilot, run)
        series_chart, k_chart = app.query_one(ForecastChart), app.query_one(KStepChart)
        for chart in (series_chart, k_chart):  # what each chart draws from
            assert chart.data is sequence(app).forecasts
        data = series_chart.data
        for key in ("time", "series", "forecast_time", "one_step", "multi_step", "multi_step_start", "tau", "seed"):
            assert data[key] == expected[key], key
        assert data["k_step"] == per_k(expected["k_step"]) and set(data["k_step"]) == {1, 4, 16, 64}
        assert data["k_step_time"] == per_k(expected["k_step_time"])
        assert data["k_step_mse"] == per_k(expected["k_step_mse"])
        assert data["oracle_mse"] == per_k(expected["oracle_mse"])

        table = str(app.query_one(MseTable).render())
        rows = {line.split()[0]: line.split() for line in table.splitlines()[1:]}
        for k in (1, 4, 16, 64):  # the MLP's MSE, its ratio to the oracle, the oracle's; no latent run yet
            mse, oracle = expected["k_step_mse"][str(k)], expected["oracle_mse"][str(k)]
            assert rows[str(k)] == [str(k), f"{mse:.4f}", f"{mse / oracle:.2f}×", "-", "-", f"{oracle:.4f}"]
        assert rows["multi"][1] == f"{expected['multi_step_mse']:.4f}"
        line = text(app, "#seq-verdict")
        where = "above" if expected["k_step_mse"]["1"] > expected["oracle_mse"]["1"] else "below"
        assert f"the MLP's {expected['k_step_mse']['1']:.4f} is" in line and f"% {where} it" in line
        assert f"noise alone: {expected['noise_mse']:.4f}" in line
        assert "No finished latent model run of this draw" in line
        # the controls show the run's settings
        assert app.query_one("#seq-tau", Input).value == "4" and app.query_one("#seq-k-steps", Input).value == "1,4,16,64"
        assert app.query_one("#seq-kind", Select).value == "mlp" and app.query_one("#seq-seed", Input).value == "0"


async def test_the_mlp_beside_the_latent_model_of_the_same_draw(runs_dir, tmp_path):
    mlp = trained(runs_dir, "sine-mlp-a", sine(epochs=2), mtime=1_700_000_000)
    trained(runs_dir, "sine-mlp-seed1", sine(train={"seed": 1}), mtime=1_700_000_001)  # another draw
    trained(runs_dir, "sine-mlp-noise", sine(sine={"noise": 0.3}), mtime=1_700_000_002)  # another series
    gru = trained(runs_dir, "sine-gru-a", sine("sine-rnn", epochs=2), mtime=1_700_000_003)
    mine, theirs = forecasts_of(gru), forecasts_of(mlp)
    app = make_app(runs_dir)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await shown(pilot, gru)  # the latest finished sine run
        view = sequence(app)
        assert view.mine.latent and view.mine.name == "GRU 16"
        assert view.partner is not None and view.partner.run == "sine-mlp-a"  # the same draw, not the newer ones
        assert view.partner.k_step_mse == per_k(theirs["k_step_mse"])
        lines = str(app.query_one(MseTable).render()).splitlines()
        assert lines[0].split() == ["k", "MLP", "10", "/oracle", "GRU", "16", "/oracle", "oracle"]
        row = lines[1].split()
        assert row[1] == f"{theirs['k_step_mse']['1']:.4f}" and row[3] == f"{mine['k_step_mse']['1']:.4f}"
        assert row[5] == f"{mine['oracle_mse']['1']:.4f}" == f"{theirs['oracle_mse']['1']:.4f}"  # one oracle: one draw
        line = text(app, "#seq-verdict")
        o = mine["oracle_mse"]["1"]
        for name, mse in (("MLP", theirs["k_step_mse"]["1"]), ("GRU", mine["k_step_mse"]["1"])):
            where = "above" if mse >= o else "below"
            assert f"the {name}'s {mse:.4f} is {abs(round(100 * (mse / o - 1)))}% {where} it" in line
        assert ("its state carries more than 4 values" in line) == (mine["k_step_mse"]["1"] < o)

        # opening the MLP run in the Runs view shows it here, the GRU beside it
        await pilot.press("2")
        await pilot.pause()
        table = app.query_one("#runs-table", DataTable)
        names = [str(table.get_row_at(i)[2]) for i in range(table.row_count)]
        table.move_cursor(row=names.index("sine-mlp-a"))
        await pilot.press("o")
        assert app.shown == "sequence" and app.model_choice == ModelChoice("run", mlp)
        await wait_for(pilot, lambda: view.mine is not None and view.mine.run == "sine-mlp-a", what="the MLP")
        assert view.partner is not None and view.partner.run == "sine-gru-a"

        # the MLP of another draw has no latent partner: the line says so
        app.model_choice = ModelChoice("run", runs_dir / "sine-mlp-seed1")
        await wait_for(pilot, lambda: view.mine is not None and view.mine.run == "sine-mlp-seed1", what="seed 1")
        assert view.partner is None and "No finished latent model run of this draw" in text(app, "#seq-verdict")
        assert "seed 1" in text(app, "#seq-verdict") and app.query_one("#seq-seed", Input).value == "1"


async def test_the_controls(runs_dir):
    run = trained(runs_dir, "sine-mlp-a", sine())
    app = make_app(runs_dir)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await shown(pilot, run)
        view = sequence(app)
        assert view.has_focus  # the view's keys work at once
        kind, seed = app.query_one("#seq-kind", Select), app.query_one("#seq-seed", Input)
        await pilot.press("k")
        assert kind.value == "gru"
        await pilot.press("k", "k", "k")
        assert kind.value == "mlp"  # MLP, GRU, LSTM, RNN and round
        await pilot.press("n", "n")
        assert seed.value == "2"
        assert "r trains MLP on these settings" in text(app, "#seq-status")
        config, problem = view.settings()
        assert problem == "" and config.train.seed == 2 and config.model.kind == "mlp"
        assert config.sine == view.model.checkpoint.config.sine and config.train.epochs == 1  # the run's own

        # typed into the fields: each is read as the config reads it, a bad one is one line and marked
        tau = app.query_one("#seq-tau", Input)
        tau.focus()
        await pilot.press("backspace", "0")
        await pilot.pause()
        assert "sine.tau must be >= 1" in text(app, "#seq-status") and tau.has_class("-invalid")
        runs_before = sorted(p.name for p in runs_dir.iterdir())
        await pilot.press("enter")  # Enter trains, but not this
        await pilot.pause()
        assert "cannot train: sine.tau must be >= 1" in text(app, "#seq-status")
        assert sorted(p.name for p in runs_dir.iterdir()) == runs_before and app.live_run is None
        await pilot.press("backspace", "8", "escape")
        await pilot.pause()
        assert view.has_focus and not tau.has_class("-invalid")  # Esc: back to the view's keys
        app.query_one("#seq-num-train", Input).value = "995"
        await pilot.pause()
        assert "sine.num_train must be between 1 and num_points - tau - 1" in text(app, "#seq-status")
        assert app.query_one("#seq-num-train", Input).has_class("-invalid")
        app.query_one("#seq-num-points", Input).value = "many"
        await pilot.pause()
        assert "num_points must be an integer; got 'many'" in text(app, "#seq-status")
        app.query_one("#seq-k-steps", Input).value = "1, 8 32"
        app.query_one("#seq-num-points", Input).value = "2000"
        app.query_one("#seq-noise", Input).value = "0.1"
        await pilot.pause()
        config, problem = view.settings()
        assert problem == "" and config.sine.k_steps == (1, 8, 32) and config.sine.tau == 8
        assert (config.sine.num_points, config.sine.num_train, config.sine.noise) == (2000, 995, 0.1)
        await pilot.press("k")  # a latent model: the sine-rnn preset's network, these settings
        config, _ = view.settings()
        assert config.model.kind == "gru" and config.model.num_hiddens == 16 and config.sine.tau == 8
        await pilot.press("u")  # back to the shown model's settings
        await pilot.pause()
        assert kind.value == "mlp" and tau.value == "4" and seed.value == "0"
        assert app.query_one("#seq-num-points", Input).value == "1000"
        assert "the shown model's settings" in text(app, "#seq-status")


async def test_no_sine_run_yet_the_view_says_so_and_r_trains_one(runs_dir):
    app = make_app(runs_dir)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("6")
        view = sequence(app)
        await wait_for(pilot, lambda: "no finished sine model run" in text(app, "#sequence .model-line"),
                       what="no sine run, said")
        assert view.forecasts is None and app.query_one(ForecastChart).data is None
        assert "r trains MLP on these settings (5 epochs)" in text(app, "#seq-status")
        assert app.query_one("#seq-tau", Input).value == "4"  # the sine-mlp preset's settings


async def retrain(pilot, view, kind: str) -> Path:
    """Press r and follow the run to its end: (the run folder); checks it trains in the training process."""
    from rnntui.training.process import child_processes

    app = pilot.app
    await pilot.press("r")
    await wait_for(pilot, lambda: view.retrain_dir is not None, what="the run to start")
    run = view.retrain_dir
    assert app.shown == "sequence"  # the view stays; the Train view trains it
    assert app.view("train").session.run_dir == run and app.view("train").session.config.model.kind == kind
    seen_child: list[bool] = []

    def ended() -> bool:
        seen_child.append(bool(child_processes()))
        return view.retrain_dir is None

    await wait_for(pilot, ended, timeout=60, what="the run to end")
    assert any(seen_child), "no training process was seen"
    return run


@pytest.mark.slow  # two runs in the training process
@pytest.mark.parametrize("kind", ["mlp", "lstm"])
async def test_r_retrains_in_the_training_process_and_the_view_follows_it(runs_dir, kind):
    from rnntui.training.checkpoint import load_checkpoint
    from rnntui.training.history import load_history
    from rnntui.training.sine_task import SineTask

    start = trained(runs_dir, "sine-start", sine("sine-mlp" if kind == "mlp" else "sine-rnn", epochs=2))
    app = make_app(runs_dir)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await shown(pilot, start)
        view = sequence(app)
        app.query_one("#seq-seed", Input).value = "3"
        app.query_one("#seq-k-steps", Input).value = "1,2,8"
        if kind != "mlp":
            app.query_one("#seq-kind", Select).value = kind
        await pilot.pause()
        run = await retrain(pilot, view, kind)
        assert run.parent == runs_dir and run != start
        history = load_history(run / "metrics.jsonl")  # written by the child, as any run's
        assert history.end["status"] == "finished" and len(history.epochs) == 2
        assert view.live_epoch >= 1, "the view did not follow the run's epochs"
        if kind != "mlp":  # (an MLP's two epochs can end before a forecast of the first is drawn)
            assert [epoch for r, epoch in view.live_updates if r == run], "the charts did not follow the run"
        # it is the view's model now, its forecasts drawn
        await wait_for(pilot, lambda: view.model is not None and view.model.run_dir == run
                       and view.shown_label.startswith(run.name) and "training" not in view.shown_label,
                       what="the new run shown")
        assert f"{run.name} finished: it is the model shown now" in text(app, "#seq-status")
        checkpoint = load_checkpoint(run / "checkpoint.pt")
        assert checkpoint.config.model.kind == kind and checkpoint.config.train.seed == 3
        expected = SineTask(checkpoint.model, checkpoint.config).forecasts()
        data = app.query_one(KStepChart).data
        assert data["seed"] == 3 and set(data["k_step"]) == {1, 2, 8}
        assert data["k_step"] == expected["k_step"] and data["series"] == expected["series"]
        assert app.model_choice == ModelChoice()  # the default choice took it: the latest finished sine run
