"""The Gradients view (7) driven through Pilot: each part shows the engine's numbers for the loaded model
(``rnntui.inspect``, which ``rnntui inspect`` prints), its keys act in it alone, and a model of the wrong
kind is one line. Tiny models trained once for the module on the CPU, with fixed seeds."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from textual.widgets import Input, Static

from conftest import tiny_config
from rnntui.tui.model_choice import ModelChoice
from rnntui.tui.widgets.gradient_charts import SaturationChart, SeriesChart
from tui_helpers import SHARED_DATA, make_app, ready, tiny_setup, train, wait_for

pytestmark = pytest.mark.skipif(not SHARED_DATA.is_dir(), reason=f"no shared data in {SHARED_DATA}")

SIZE = (120, 40)


@pytest.fixture(scope="module")
def trained_runs(tmp_path_factory) -> Path:
    """An RNN, an LSTM, and the bi-lstm and lstm presets' settings in small (for the trap), on the
    built-in corpus: a second or two each."""
    from rnntui.training.experiment import train

    root = tmp_path_factory.mktemp("gradient-runs")
    small = {"num_hiddens": 16}
    for name, config in (
        ("tiny-rnn", tiny_config(model={"kind": "rnn", **small}, train={"epochs": 1})),
        ("tiny-lstm", tiny_config(model=small, train={"epochs": 1})),
        ("tiny-bi", tiny_config(model={"bidirectional": True, **small}, train={"epochs": 1}).replace(name="bi-lstm")),
        ("tiny-uni", tiny_config(model=small, train={"epochs": 1}).replace(name="lstm")),
    ):
        train(config, root / name, data_dir=SHARED_DATA)
    return root


@pytest.fixture
def runs_dir(tmp_path, monkeypatch, trained_runs) -> Path:
    import shutil

    monkeypatch.setenv("RNNTUI_DATA_DIR", str(SHARED_DATA))
    monkeypatch.setenv("RNNTUI_DATA_URL", "http://127.0.0.1:9/")
    monkeypatch.chdir(tmp_path)
    runs = tmp_path / "runs"
    shutil.copytree(trained_runs, runs)
    return runs


def gradients(app):
    return app.view("gradients")


def text(app, selector: str) -> str:
    return str(app.query_one(selector, Static).render())


def engine_lm(run: Path):
    from rnntui.inspect.gradients import load_lm

    return load_lm(checkpoint=run / "checkpoint.pt", data_dir=SHARED_DATA)


async def shown(pilot, run: Path, part_key: str = "f") -> None:
    """The view on screen with ``run``'s model and the part of ``part_key`` computed."""
    app = pilot.app
    app.model_choice = ModelChoice("run", run)
    await pilot.press("7")
    view = gradients(app)
    await wait_for(pilot, lambda: view.model is not None and view.model.run_dir == run, what=f"{run.name} loaded")
    await part(pilot, part_key)


async def part(pilot, key: str) -> None:
    view = gradients(pilot.app)
    await pilot.press(key)
    await wait_for(pilot, lambda: not view.computing and (view.part in view.results or view.part in view.errors
                                                          or view.part == "norms"), what=f"the {view.part} part")
    await pilot.pause()


async def test_flow_shows_the_engines_norms_and_the_knob_moves_the_spectral_radius(runs_dir):
    from rnntui.inspect.gradients import gradient_flow, scaled_copy, spectral_radius

    run = runs_dir / "tiny-rnn"
    lm = engine_lm(run)
    ids = lm.window(35, 0, "val", SHARED_DATA)  # what the part reads first: 35 steps of the held-out text
    expected = gradient_flow(lm, ids)
    app = make_app(runs_dir)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await shown(pilot, run)
        view = gradients(app)
        chart = app.query_one("#flow-chart", SeriesChart)
        model_line = chart.series[0]
        assert model_line.label == "RNN"
        assert model_line.xs == expected.distances == list(range(34, -1, -1))
        assert model_line.ys == pytest.approx(expected.norms, rel=1e-9)  # rnntui inspect gradients --json's norms
        assert chart.series[-1].label == "0.5^(T-t)" and chart.series[-1].ys == pytest.approx(expected.reference)
        figure = text(app, "#figure-flow")
        assert f"spectral radius of W_hh (x1) {expected.spectral_radius:.3g}" in figure
        assert f"x{expected.per_step_factor:.3g} per step" in figure

        await pilot.press("plus", "plus")  # x1 -> x1.1 -> x1.25
        await wait_for(pilot, lambda: not view.computing and view.results["flow"].flow.scale == 1.25,
                       what="the scaled flow")
        await pilot.pause()
        radius = spectral_radius(scaled_copy(lm.model, 1.25))
        assert radius == pytest.approx(expected.spectral_radius * 1.25)
        assert f"spectral radius of W_hh (x1.25) {radius:.3g}" in text(app, "#figure-flow")
        assert "x1.25" in text(app, "#keys-flow")
        scaled = gradient_flow(lm, ids, scale=1.25)
        assert chart.series[0].ys == pytest.approx(scaled.norms, rel=1e-9)

        # the part's keys stay in the view: in another view + and o change nothing here
        await pilot.press("6", "plus", "o", "left", "7")
        await pilot.pause()
        assert view.scale == 1.25 and not view.overlay and view.part == "flow"
        # and in another part of this view + moves that part's own setting
        await part(pilot, "c")
        threshold = view._threshold()
        await pilot.press("minus")
        assert view.scale == 1.25 and view._threshold() < threshold


async def test_clipping_truncation_and_saliency_are_the_engines(runs_dir):
    from rnntui.inspect.gradients import clip_effect, saliency, truncation

    run = runs_dir / "tiny-lstm"
    lm = engine_lm(run)
    app = make_app(runs_dir)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await shown(pilot, run, "c")
        view = gradients(app)
        d = lm.config.data
        effect = clip_effect(lm, lm.batch(d.batch_size, d.num_steps, SHARED_DATA), 1.0, lm.config.train.lr)
        shown_effect = view.results["clip"]
        assert shown_effect.norm_before == pytest.approx(effect.norm_before, rel=1e-6)
        assert abs(shown_effect.cosine - 1) < 1e-6
        assert f"{effect.cosine:.7f}" in text(app, "#figure-clip")
        await pilot.press("minus", "minus", "minus", "minus")  # 1 -> 0.5, 0.25, 0.1, 0.05: clipped
        await wait_for(pilot, lambda: not view.computing and view.results["clip"].threshold == 0.05, what="θ 0.05")
        await pilot.pause()
        assert view.results["clip"].clipped and "Clipped at 0.05" in text(app, "#figure-clip")
        assert view.results["clip"].norm_after == pytest.approx(0.05, rel=1e-4)

        await part(pilot, "u")
        ids = lm.window(35, 0, "val", SHARED_DATA)
        expected = truncation(lm, ids, [5, 10, 35])
        result = view.results["truncation"]
        assert result.taus == [5, 10, 35]
        assert result.relative_differences == pytest.approx(expected.relative_differences, rel=1e-6, abs=1e-12)
        assert result.relative_differences[-1] == pytest.approx(0, abs=1e-6)  # tau = T: the full gradient
        assert app.query_one("#trunc-chart", SeriesChart).series[0].ys == pytest.approx(expected.contributions)
        assert f"{100 * expected.dropped_shares[0]:.3g}%" in text(app, "#figure-truncation")

        await part(pilot, "s")
        ids = lm.window(100, 0, "val", SHARED_DATA)
        result = view.results["saliency"]
        assert result.position == 100
        assert result.norms == pytest.approx(saliency(lm, ids).norms, rel=1e-6)
        await pilot.press("left", "left")  # the cursor two tokens earlier
        await wait_for(pilot, lambda: not view.computing and view.results["saliency"].position == 98,
                       what="the cursor moved")
        expected = saliency(lm, ids, 98)
        assert view.results["saliency"].norms == pytest.approx(expected.norms, rel=1e-6)
        assert f"{100 * expected.mass_beyond_k:.3g}% of the mass lies more than k = 10" in text(app, "#figure-saliency")
        assert "cursor 98" in text(app, "#keys-saliency")


async def test_gates_pick_a_unit_and_jump_to_a_patterns_unit(runs_dir):
    from rnntui.inspect.gates import gate_trace, most_variable_units, pattern_units

    run = runs_dir / "tiny-lstm"
    lm = engine_lm(run)
    trace = gate_trace(lm, lm.window(100, 0, "val", SHARED_DATA))
    order = [u.unit for u in most_variable_units(trace, "H", trace.num_hiddens)]
    app = make_app(runs_dir)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await shown(pilot, run, "g")
        view = gradients(app)
        shown_h = view.results["gates"].trace.gates["H"]
        assert [v for step in shown_h for v in step] == pytest.approx([v for step in trace.gates["H"] for v in step])
        assert view._gate_shown() == "H" and view._unit_shown() == order[0]
        assert f"unit {order[0]} of H" in text(app, "#figure-gates")
        await pilot.press("right", "right")
        assert view._unit_shown() == order[2] and f"unit {order[2]} of H" in text(app, "#figure-gates")
        await pilot.press("left")
        assert view._unit_shown() == order[1]
        await pilot.press("up")  # the gate before H: the memory cell
        assert view._gate_shown() == "C" and "gate C" in text(app, "#keys-gates")

        await pilot.press("p")
        prompt = app.query_one("#grad-prompt", Input)
        assert prompt.has_focus
        await pilot.press("space", "enter")
        found = pattern_units(trace, " ", "C", token=lm.token)
        await wait_for(pilot, lambda: view.pattern is not None, what="the pattern's unit")
        await pilot.pause()
        assert view._unit_shown() == found.unit and view.pattern.positions == found.positions
        assert f"unit {found.unit} of C" in text(app, "#figure-gates") and "on ' '" in text(app, "#figure-gates")
        assert view.has_focus  # back to the view's keys


async def test_a_model_of_the_wrong_kind_is_one_line(runs_dir):
    app = make_app(runs_dir)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await shown(pilot, runs_dir / "tiny-bi")
        view = gradients(app)
        line = text(app, "#grad-status")
        assert "needs a unidirectional model" in line and len(line.splitlines()) == 1
        assert app.query_one("#flow-chart", SeriesChart).series == []
        await part(pilot, "s")  # saliency reads the whole text: it shows the future is read
        assert view.results["saliency"].future_share > 0 and "reads the future" in text(app, "#figure-saliency")

        await shown(pilot, runs_dir / "tiny-rnn", "a")
        assert "an RNN has no gates" in text(app, "#grad-status")
        assert all(not chart.low for chart in app.query(SaturationChart))
        await part(pilot, "g")  # an RNN's state alone
        assert list(view.results["gates"].trace.gates) == ["H"]
        assert app.is_running


async def test_shapes_norms_and_the_bidirectional_trap(runs_dir):
    from rnntui.training.history import load_history
    from rnntui.tui.widgets.gradients_parts import group_series

    app = make_app(runs_dir)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await shown(pilot, runs_dir / "tiny-lstm", "e")
        view = gradients(app)
        table = text(app, "#shapes-table")
        rows = {line.split("  ")[0].strip(): line for line in table.splitlines()}
        assert "[7, 4, 16]" in rows["encoder outputs"] and "7 steps x 4 batch x 16 hiddens" in rows["encoder outputs"]
        assert "[2, 4, 16]" in rows["encoder state"] and "2 layers x 4 batch x 16 hiddens" in rows["encoder state"]
        hidden = app.query_one("#shape-num-hiddens", Input)
        hidden.value = "32"
        await wait_for(pilot, lambda: "[7, 4, 32]" in text(app, "#shapes-table"), what="recomputed shapes")
        assert "[2, 4, 32]" in text(app, "#shapes-table") and "changed" in text(app, "#shapes-table")
        await pilot.press("x")  # back to the seed's example
        await wait_for(pilot, lambda: "[7, 4, 16]" in text(app, "#shapes-table"), what="the example again")
        assert hidden.value == "16"
        await pilot.resize_terminal(80, 24)  # the table takes more lines than there are: PgDn scrolls it
        await pilot.pause()
        scroll = app.query_one("#shapes-scroll")
        assert scroll.max_scroll_y > 0 and scroll.scroll_y == 0
        await pilot.press("pagedown")
        await wait_for(pilot, lambda: scroll.scroll_y > 0, what="the table scrolled")
        await pilot.resize_terminal(*SIZE)

        await part(pilot, "n")  # the model's run logged per-group norms (train.grad_norms_every)
        await wait_for(pilot, lambda: app.query_one("#norms-chart", SeriesChart).series, what="the norms chart")
        series = group_series(load_history(runs_dir / "tiny-lstm" / "metrics.jsonl").grad_groups)
        lines = app.query_one("#norms-chart", SeriesChart).series
        assert {line.label for line in lines} == set(series) >= {"layer0.recurrent", "layer0.input", "output"}
        for line in lines:
            assert (line.xs, line.ys) == series[line.label]
        assert "tiny-lstm" in text(app, "#keys-norms")

        await part(pilot, "b")
        trap = view.results["trap"]
        bi, uni = (load_history(runs_dir / name / "metrics.jsonl").epochs[-1] for name in ("tiny-bi", "tiny-uni"))
        assert trap.bi.run == "tiny-bi" and trap.uni.run == "tiny-uni"
        assert trap.bi.train_ppl == bi["train_ppl"] and trap.uni.val_ppl == uni["val_ppl"]
        shown_text = text(app, "#trap-text")
        assert f"{bi['train_ppl']:.4g}" in shown_text and f"{uni['val_ppl']:.4g}" in shown_text
        assert trap.bi.source == "checkpoint" and trap.bi.generated and trap.bi.generated in shown_text
        assert "backward half" in shown_text and math.isfinite(trap.uni.train_ppl)


@pytest.mark.slow  # a training process
async def test_group_norms_follow_the_run_training_now(runs_dir):
    from rnntui.tui.widgets.gradients_parts import group_series

    app = make_app(runs_dir)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await tiny_setup(pilot, train__epochs="30")
        await pilot.press("s")
        await wait_for(pilot, lambda: app.live_run is not None, timeout=60, what="the run to start")
        await pilot.press("7", "n")
        chart = app.query_one("#norms-chart", SeriesChart)
        await wait_for(pilot, lambda: bool(chart.series), timeout=30, what="the first per-group norms")
        first = len(chart.series[0].xs)
        await wait_for(pilot, lambda: len(chart.series[0].xs) > first, timeout=30, what="more of them, live")
        assert "the run training now" in text(app, "#keys-norms")
        live = group_series(train(app).dashboard.history.grad_groups)
        for line in chart.series:  # the live run's own numbers, as far as drawn
            xs, ys = live[line.label]
            assert (line.xs, line.ys) == (xs[: len(line.xs)], ys[: len(line.ys)])
        await pilot.press("f8")
        await wait_for(pilot, lambda: not train(app).training, timeout=30, what="the run to stop")
