"""The Sampling view (4) with real tiny checkpoints trained here: the next-token bars (probabilities after
the temperature, cumulative mass, the top-k cut and the top-p nucleus, renormalised probabilities), the
keys that change them, stepping (greedy, sampled, picked by the cursor), backspace, the temperature strip,
bad prefixes; and a translation model's beam search step by step.

Oracles: the model run teacher-forced over the prefix (and the path) in one pass, softmax at the
temperature by torch, ``generate`` with the same seed, ``continuations`` and ``beam_search``/``greedy``."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from conftest import TINY_PAIRS, tiny_config, tiny_s2s_config
from rnntui.decoding.generate import Stepper, continuations, generate
from rnntui.decoding.sampling import DecodeConfig
from rnntui.decoding.translate import beam_search, greedy
from rnntui.training.checkpoint import load_checkpoint
from rnntui.tui.model_choice import ModelChoice
from rnntui.tui.widgets.token_bars import TokenBars, visible
from tui_helpers import SHARED_DATA, make_app, ready, start_live_run, wait_for

pytestmark = pytest.mark.skipif(not SHARED_DATA.is_dir(), reason=f"no shared data in {SHARED_DATA}")

SIZE = (120, 40)
@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A runs folder with a tiny language model, and a tiny translation model's run outside it."""
    from rnntui.training.experiment import train as train_run

    base = tmp_path_factory.mktemp("sampling")
    runs = base / "runs"
    train_run(tiny_config(train={"epochs": 1}), runs / "tiny-lm", data_dir=SHARED_DATA)
    (base / "pairs.tsv").write_text(TINY_PAIRS, encoding="utf-8")
    train_run(tiny_s2s_config(base / "pairs.tsv"), base / "s2s" / "tiny-s2s", data_dir=SHARED_DATA)
    return runs, base / "s2s" / "tiny-s2s"


@pytest.fixture
def env(monkeypatch, tmp_path):
    monkeypatch.setenv("RNNTUI_DATA_DIR", str(SHARED_DATA))
    monkeypatch.setenv("RNNTUI_DATA_URL", "http://127.0.0.1:9/")
    monkeypatch.chdir(tmp_path)


def lm(runs: Path):
    checkpoint = load_checkpoint(runs / "tiny-lm" / "checkpoint.pt")
    return checkpoint.model.eval(), checkpoint.vocab


def next_probs(model, vocab, text_tokens: list[str], temperature: float = 1.0) -> dict[str, float]:
    """The oracle: softmax(logits / T) after the tokens, from one teacher-forced pass."""
    with torch.no_grad():
        logits, _ = model(torch.tensor([vocab[text_tokens]]), None)
    probs = torch.softmax(logits[-1, 0].double() / temperature, 0).tolist()
    return dict(zip(vocab.idx_to_token, probs))


def view_of(app):
    return app.view("sampling")


def bars_text(app) -> str:
    bars = app.query_one(TokenBars)
    return "\n".join(line.plain for line in bars.lines(bars.content_size.width)[0])


def line(app, name: str) -> str:
    text = app.query_one(f"#sampling-{name}").text
    return getattr(text, "plain", text)


async def shown(pilot, version_before: int | None = None):
    """Wait until the distribution on screen answers the latest command sent."""
    view = view_of(pilot.app)
    await wait_for(pilot, lambda: view.shown is not None and view.shown.version == view._version
                   and pilot.app.query_one(TokenBars).painted == pilot.app.query_one(TokenBars).version,
                   what="the bars of the latest command")
    return view.shown


async def open_lm(pilot):
    await ready(pilot)
    await pilot.press("4")
    return await shown(pilot)


async def test_the_bars_are_the_models_distribution_and_keys_refilter_without_the_model(trained, env):
    runs, _ = trained
    model, vocab = lm(runs)
    app = make_app(runs)
    async with app.run_test(size=SIZE) as pilot:
        first = await open_lm(pilot)
        view = view_of(app)
        assert "model: tiny-lm (LSTM 32, epoch 1 of 1" in str(app.query_one("#sampling .model-line").render())
        assert view.input.value == "the " and view.prefix == "the "  # the model's own sample prefix
        oracle = next_probs(model, vocab, list("the "))
        rows = first.summary.rows
        assert len(rows) == 20 and [r.token for r in rows] == sorted(oracle, key=lambda t: -oracle[t])[:20]
        for r in rows:
            assert r.prob == pytest.approx(oracle[r.token], abs=1e-6)
        text = bars_text(app)
        top = rows[0]
        assert f"{visible(top.token)}" in text.splitlines()[1] and f"{top.prob:6.3f}" in text.splitlines()[1]
        cumulative = sum(oracle[r.token] for r in rows[:5])
        assert f"{cumulative:6.3f}" in text.splitlines()[5]
        assert "entropy" in line(app, "entropy")
        h = -sum(p * math.log(p) for p in oracle.values() if p > 0)
        assert f"entropy {h:.2f} nats" in line(app, "entropy")

        await pilot.press("s")  # top-p -> greedy
        await shown(pilot)
        assert "greedy" in line(app, "settings") and view.shown.summary.num_kept == 1
        assert "greedy: the most probable token only" in bars_text(app)
        await pilot.press("s", "t", "t")  # temperature sampling at T 0.8
        cooled = await shown(pilot)
        assert view.settings.strategy == "temperature" and view.settings.temperature == 0.8
        cool = next_probs(model, vocab, list("the "), 0.8)
        assert {r.token: r.prob for r in cooled.summary.rows} == pytest.approx(
            {r.token: cool[r.token] for r in cooled.summary.rows}, abs=1e-6)
        assert "T 0.8" in line(app, "settings") and "P(next), T 0.8" in bars_text(app)
        assert cooled.summary.entropy < first.summary.entropy  # cooler: sharper

        await wait_for(pilot, lambda: view.strip_state == view.shown.state, what="the strip")  # (it runs the model)
        calls = []
        copy = view._thread._copy[1]  # the view's own copy of the weights (never the shared model)
        assert copy is not view.model.checkpoint.model
        hook = copy.register_forward_hook(lambda *_: calls.append(1))
        try:
            for _ in range(6):
                await pilot.press("T")
            hot = await shown(pilot)
            await pilot.pause(0.3)
        finally:
            hook.remove()
        assert view.settings.temperature == 1.5 and hot.summary.entropy > first.summary.entropy
        assert calls == []  # the cached logits were filtered again; the model did not run


async def test_the_top_k_cut_and_the_top_p_nucleus_are_drawn_and_renormalised(trained, env):
    runs, _ = trained
    model, vocab = lm(runs)
    oracle = next_probs(model, vocab, list("the "))
    ranked = sorted(oracle, key=lambda t: -oracle[t])
    app = make_app(runs)
    async with app.run_test(size=SIZE) as pilot:
        await open_lm(pilot)
        view = view_of(app)
        await pilot.press("s", "s", "s")  # top-p -> greedy -> temperature -> top-k (k 10)
        await pilot.press("k", "k", "k")  # k 10 -> 7 -> 5 -> 4
        step = await shown(pilot)
        assert view.settings.strategy == "top-k" and view.settings.top_k == 4
        lines = bars_text(app).splitlines()
        cut = next(i for i, text in enumerate(lines) if "top-k 4: the 4 most probable" in text)
        assert cut == 5  # the header, the 4 kept rows, then the line
        mass = sum(oracle[t] for t in ranked[:4])
        rows = [text for text in lines[1:] if "╌" not in text and "━" not in text]  # not the cuts
        for i, r in enumerate(step.summary.rows):
            if i < 4:
                assert r.kept and f"→{oracle[r.token] / mass:.3f}" in rows[i]
            else:
                assert not r.kept and rows[i].rstrip().endswith("·")  # greyed: no sampling probability

        await pilot.press("s", "p", "p", "p")  # top-p, p 0.9 -> 0.85 -> 0.8 -> 0.7
        step = await shown(pilot)
        assert view.settings.strategy == "top-p" and view.settings.top_p == 0.7
        cumulative = [sum(oracle[t] for t in ranked[: n + 1]) for n in range(len(ranked))]
        nucleus = next(n + 1 for n, c in enumerate(cumulative) if c >= 0.7)  # the smallest set reaching p
        assert step.summary.num_kept == step.summary.top_p_cut == nucleus
        assert f"top-p 0.7: the nucleus, {nucleus} tokens holding {cumulative[nucleus - 1]:.3f}" in bars_text(app)
        kept = [r for r in step.summary.rows if r.kept]
        assert len(kept) == nucleus and sum(r.renormalised for r in kept) == pytest.approx(1.0)
        assert "top-k 4: the 4 most probable" in bars_text(app)  # where top-k would cut, drawn dim


async def test_stepping_greedy_sampled_by_the_cursor_and_back(trained, env):
    runs, _ = trained
    model, vocab = lm(runs)
    app = make_app(runs)
    async with app.run_test(size=SIZE) as pilot:
        await open_lm(pilot)
        view = view_of(app)
        assert app.focused is app.query_one(TokenBars)
        await pilot.press("s")  # greedy
        await pilot.press("g")
        after_g = await shown(pilot)
        oracle = next_probs(model, vocab, list("the "))
        best = max(oracle, key=oracle.get)
        assert after_g.path == [best] and after_g.how == ["greedy"]
        assert line(app, "path").endswith("the " + (visible(best) if best == " " else best) + "▏")
        after = next_probs(model, vocab, list("the ") + [best])
        assert {r.token: r.prob for r in after_g.summary.rows} == pytest.approx(
            {r.token: after[r.token] for r in after_g.summary.rows}, abs=1e-6)

        # branch: the fourth most probable token, by the cursor
        await pilot.press("down", "down", "down")
        assert app.query_one(TokenBars).cursor == 3
        picked = after_g.summary.rows[3].token
        await pilot.press("enter")
        branched = await shown(pilot)
        assert branched.path == [best, picked] and branched.how == ["greedy", "picked"]
        assert app.query_one(TokenBars).cursor == 0  # a new step: the cursor back on top
        want = next_probs(model, vocab, list("the ") + [best, picked])
        assert {r.token: r.prob for r in branched.summary.rows} == pytest.approx(
            {r.token: want[r.token] for r in branched.summary.rows}, abs=1e-6)

        await pilot.press("backspace")
        back = await shown(pilot)
        assert back.path == [best] and back.summary == after_g.summary  # exactly the step before
        await pilot.press("backspace", "backspace")
        at_prefix = await shown(pilot)
        assert at_prefix.path == [] and "at the prefix: nothing to step back over" in line(app, "note")

        # sampling: the same draws as `rnntui generate` with seed 0 and the same settings
        await pilot.press("s", "s", "s")  # greedy -> temperature -> top-k -> top-p (0.9, T 1)
        assert view.settings.strategy == "top-p"
        for _ in range(6):
            await pilot.press("space")
        sampled = await shown(pilot)
        want = generate(model, vocab, "the ", 6, "char", DecodeConfig("top-p", 1.0, 10, 0.9),
                        torch.Generator().manual_seed(0))
        assert sampled.path == want.tokens and sampled.how == ["sampled"] * 6
        assert line(app, "path").endswith(want.text.replace(" ", "␣")[len("the "):] + "▏") or \
            line(app, "path").replace("␣", " ").endswith(want.text + "▏")


async def test_the_strip_shows_continuations_at_three_temperatures(trained, env):
    runs, _ = trained
    model, vocab = lm(runs)
    app = make_app(runs)
    async with app.run_test(size=SIZE) as pilot:
        await open_lm(pilot)
        view = view_of(app)
        await pilot.press("g", "g")
        step = await shown(pilot)
        await wait_for(pilot, lambda: view.strip_state == view.shown.state, what="the strip")
        strip = app.query_one("#sampling-strip")
        text = "the " + "".join(step.path)
        want = continuations(model, vocab, text, 30, (0.5, 1.0, 1.5), decode=DecodeConfig("top-p", top_p=0.9),
                             seed=0)
        assert strip.columns == [(c.temperature, c.tokens) for c in want]
        assert "the next 30 characters at T 0.5, 1, 1.5: top-p 0.9, seed 0" in strip.title
        assert [c.text.replace("\n", "⏎") for c in want] == strip.texts()
        await pilot.press("r")  # another seed: other continuations
        await wait_for(pilot, lambda: "seed 1" in strip.title, what="the strip of seed 1")
        again = continuations(model, vocab, text, 30, (0.5, 1.0, 1.5), decode=DecodeConfig("top-p", top_p=0.9),
                              seed=1)
        assert strip.columns == [(c.temperature, c.tokens) for c in again]


def test_the_steppers_continuations_are_those_of_its_text(trained):
    """The engine's addition behind the strip: continuations from the cached state are the module's own
    ``continuations`` of the same text (also after a token picked by hand)."""
    runs, _ = trained
    model, vocab = lm(runs)
    stepper = Stepper(model, vocab, "the ")
    stepper.push("q")
    stepper.greedy()
    decode = DecodeConfig("top-k", top_k=5)
    got = stepper.continuations(20, (0.5, 2.0), decode, seed=3)
    assert got == continuations(model, vocab, stepper.text, 20, (0.5, 2.0), decode=decode, seed=3)
    assert stepper.path == ["q", stepper.path[1]] and len(stepper.path) == 2  # the path did not move
    assert stepper.continuations(20, (1.0,), decode, seed=3, should_stop=lambda: True) == []


async def test_a_prefix_typed_empty_long_or_with_unknown_characters(trained, env):
    runs, _ = trained
    app = make_app(runs)
    async with app.run_test(size=SIZE) as pilot:
        await open_lm(pilot)
        view = view_of(app)
        await pilot.press("e")
        assert view.typing and app.focused is view.input
        view.input.value = ""
        await pilot.press("a", "space", "b", "enter")  # space types a space here: it samples only outside
        await shown(pilot)
        assert view.prefix == "a b" and view.shown.path == [] and not view.typing
        assert app.focused is app.query_one(TokenBars)

        await pilot.press("e")
        view.input.value = ""
        await pilot.press("enter")
        assert "type a prefix first: at least one character" in line(app, "note")
        assert app.is_running and view.prefix == "a b"

        pasted = ("the time traveller 😀 " * 500)[:10_000]
        view.input.value = pasted
        await pilot.press("enter")
        long = await shown(pilot)
        assert view.prefix == pasted and long.unknown == ["😀"]
        assert "not in the vocabulary, read as <unk> (marked): '😀'" in line(app, "note")
        assert line(app, "path").endswith("▏") and "😀" in line(app, "path")
        assert sum(r.prob for r in long.summary.rows) <= 1.0 + 1e-9
        await pilot.press("g", "backspace", "escape")
        await shown(pilot)
        assert app.is_running


async def test_a_translation_model_shows_its_beams_step_by_step(trained, env):
    runs, s2s = trained
    checkpoint = load_checkpoint(s2s / "checkpoint.pt")
    src, tgt = checkpoint.vocabs["src"], checkpoint.vocabs["tgt"]
    app = make_app(runs)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        app.model_choice = ModelChoice("run", s2s)
        await pilot.press("4")
        view = view_of(app)
        await wait_for(pilot, lambda: view.beams is not None, what="the beams")
        assert view.input.value == "go ." and "b/B beam size 3" in line(app, "settings")
        beams = view.beams
        from rnntui.data.translation import encode_source

        ids, valid, _ = encode_source("go .", src, 6)
        oracle = beam_search(checkpoint.model, ids, valid, tgt, 6, 3, 0.75)
        best = beams.trace.final[0]
        assert (best.tokens[:-1] if best.finished else best.tokens) == oracle[0][0]
        assert best.score == pytest.approx(oracle[0][1], abs=1e-6)
        screen = str(app.query_one("#sampling-beams Static").render())
        assert "step 1" in screen and "pruned" in screen and "chosen" in screen and "<eos>" in screen
        assert all(len(step.kept) <= 3 for step in beams.trace.steps)
        assert any(h.finished and h.tokens[-1] == "<eos>" for step in beams.trace.steps for h in step.kept)

        await pilot.press("b", "b")  # beam size 1: greedy search
        await wait_for(pilot, lambda: view.beams.beam_size == 1, what="beam size 1")
        tokens, score = greedy(checkpoint.model, ids, valid, tgt, 6, 0.75)
        one = view.beams.trace.final[0]
        assert (one.tokens[:-1] if one.finished else one.tokens) == tokens and one.score == pytest.approx(score)
        assert "beam size 1" in line(app, "settings")
        await pilot.press("B", "B", "B", "a")  # beam 4, alpha 0.5
        await wait_for(pilot, lambda: view.beams.beam_size == 4 and view.beams.alpha == 0.5, what="beam 4, α 0.5")
        assert all(h.score == pytest.approx(h.log_prob / len(h.tokens) ** 0.5) for h in view.beams.trace.final)

        await pilot.press("e")
        view.input.value = "go zzyzx 🙂 ."
        await pilot.press("enter")
        await wait_for(pilot, lambda: view.sentence == "go zzyzx 🙂 ." and "<unk>" in line(app, "note"),
                       what="the unknown words, marked")
        assert "zzyzx" in line(app, "note")
        await pilot.press("e")
        view.input.value = "   "
        await pilot.press("enter")
        assert "type an English sentence to translate first" in line(app, "note") and app.is_running


@pytest.mark.slow
async def test_it_works_while_a_run_trains_on_its_latest_checkpoint(trained, env, tmp_path):
    app = make_app(tmp_path / "runs")
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        run = await start_live_run(pilot, train__epochs="3", data__max_tokens="8000")
        await pilot.press("4")
        view = view_of(app)
        model_line = lambda: str(app.query_one("#sampling .model-line").render())  # noqa: E731
        await wait_for(pilot, lambda: view.shown is not None, timeout=40, what="the first checkpoint's bars")
        await pilot.press("g", "g")
        before = await shown(pilot)
        if "epoch 1 of 3" in model_line():  # (else the first epochs went by before the keys)
            await wait_for(pilot, lambda: "epoch 2 of 3" in model_line(), timeout=60,
                           what="the next epoch's checkpoint")
            await wait_for(pilot, lambda: view.shown is not None and view.shown.loaded, what="the path again")
            again = await shown(pilot)
            assert again.path == before.path and again.how == ["greedy", "greedy"]  # taken again on the new weights
            assert again.summary != before.summary
        await wait_for(pilot, lambda: not run.training, timeout=60, what="the run to finish")
