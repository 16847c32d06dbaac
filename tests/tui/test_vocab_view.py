"""The Vocab view (3): the text it counts, its controls, the vocabulary table and its search, the tokenize
line, n-grams and Zipf, and the minibatch plan stepped through, all as a user sees them.

Oracles: ``collections.Counter`` over the text cut as rnntui.data.corpus cuts it, the book's printed lists,
the vocabulary stored in a real checkpoint, and the batches ``lm_batches`` yields (the training code).
"""

from __future__ import annotations

import collections
import threading
import time
from pathlib import Path

import pytest
import torch
from textual.widgets import Input, OptionList

from conftest import tiny_config
from rnntui.data.corpus import num_train_tokens, preprocess, tokenize
from tui_helpers import SHARED_DATA, make_app, ready, wait_for

pytestmark = pytest.mark.skipif(not (SHARED_DATA / "timemachine.txt").is_file(),
                                reason=f"no shared data in {SHARED_DATA}")

SIZE = (120, 40)


@pytest.fixture
def runs_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("RNNTUI_DATA_DIR", str(SHARED_DATA))
    monkeypatch.setenv("RNNTUI_DATA_URL", "http://127.0.0.1:9/")
    monkeypatch.chdir(tmp_path)
    return tmp_path / "runs"


def book(mode: str = "d2l") -> str:
    return preprocess((SHARED_DATA / "timemachine.txt").read_text(encoding="utf-8"), mode)


def text_of(app, selector: str) -> str:
    return str(app.query_one(selector).render())


def head(app) -> str:
    return text_of(app, "#vocab-head")


def view(app):
    return app.view("vocab")


async def open_view(pilot):
    await ready(pilot)
    await pilot.press("3")
    v = view(pilot.app)
    await wait_for(pilot, lambda: v.report is not None, what="The Time Machine counted")
    await pilot.pause()
    return v


async def settle(pilot, v, what: str = "the count") -> None:
    """Until the latest request is on screen (or failed)."""
    await wait_for(pilot, lambda: not v.counting, what=what)
    await pilot.pause()


async def pick(pilot, starts: str) -> None:
    """o, then Enter on the picker's line that starts with ``starts`` (after its marker)."""
    from rnntui.tui.widgets.vocab_source import SourcePicker

    await pilot.press("o")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, SourcePicker), what="the text picker")
    options = pilot.app.screen.query_one(OptionList)

    def index():
        texts = [str(options.get_option_at_index(i).prompt)[2:] for i in range(options.option_count)]
        return next((i for i, t in enumerate(texts) if t.startswith(starts)), None)

    await wait_for(pilot, lambda: index() is not None, what=f"a line starting {starts!r}")
    options.highlighted = index()
    await pilot.press("enter")


async def pick_file(pilot, path: Path) -> None:
    from rnntui.tui.widgets.vocab_source import SourcePicker

    await pilot.press("o")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, SourcePicker), what="the text picker")
    field = pilot.app.screen.query_one("#source-file", Input)
    field.value = str(path)
    field.focus()
    await pilot.press("enter")


def trained(runs_dir: Path, name: str, config) -> Path:
    from rnntui.training.experiment import train as train_run

    train_run(config, runs_dir / name, data_dir=SHARED_DATA)
    return runs_dir / name


# -- the source -------------------------------------------------------------------------------------------

async def test_the_header_says_which_text_and_part_it_counts(runs_dir, tmp_path):
    chars = list(book())
    app = make_app(runs_dir)
    async with app.run_test(size=SIZE) as pilot:
        v = await open_view(pilot)
        counts = collections.Counter(chars)
        train = num_train_tokens(len(chars), 0.1)
        held = collections.Counter(chars[train:])
        seen = collections.Counter(chars[:train])
        line = head(app)
        assert "The Time Machine (H. G. Wells) · whole text, 173,427 characters" in line
        assert f"{len(chars):,} characters · {len(counts)} distinct · vocabulary {len(counts) + 1}" in line
        unk = sum(c for t, c in held.items() if t not in seen) / len(chars[train:])
        assert f"held-out <unk> {100 * unk:.2f}%" in line

        await pilot.press("a")  # the training part
        await settle(pilot, v)
        assert f"training part: the first {train:,} of {len(chars):,} characters (the last 10% held out)" in head(app)
        assert v.report.num_tokens == train and v.table.rows[1].count == seen.most_common(1)[0][1]

        await pick(pilot, "Python's documentation")
        await settle(pilot, v)
        assert "Python documentation (built-in offline corpus" in head(app) and v.source.name == "pydoc"

        own = tmp_path / "mine.txt"
        own.write_text("Ab ab AB, ba! " * 50, encoding="utf-8")
        await pick_file(pilot, own)
        await settle(pilot, v)
        assert "mine.txt (file)" in head(app)
        assert [(r.token, r.count) for r in v.table.rows] == [("<unk>", 0), ("a", 200), ("b", 200), (" ", 199)]


async def test_a_runs_data_is_counted_with_its_own_settings_and_vocabulary(runs_dir):
    from rnntui.training.checkpoint import load_checkpoint

    run = trained(runs_dir, "tiny-words", tiny_config(data={"token": "word", "min_freq": 3}, train={"epochs": 1}))
    itos = load_checkpoint(run / "checkpoint.pt").vocab.idx_to_token
    app = make_app(runs_dir)
    async with app.run_test(size=SIZE) as pilot:
        v = await open_view(pilot)
        await pick(pilot, "run tiny-words")
        await wait_for(pilot, lambda: v.report.source.kind == "run", what="the run's data")
        await pilot.pause()
        line = head(app)
        assert "run tiny-words: Python documentation" in line and "training part: the first" in line
        assert " w  token word " in line and "min_freq 3" in line
        assert "the run's own vocabulary (= its checkpoint's)" in line
        assert [r.token for r in v.table.rows] == itos
        await pilot.press("minus")  # another min_freq: no longer the model's vocabulary, and the header says so
        await settle(pilot, v)
        assert "not the run's vocabulary (settings changed)" in head(app) and len(v.table.rows) > len(itos)


async def test_a_translation_run_shows_either_side(runs_dir, tmp_path):
    from rnntui.config import ExperimentConfig
    from rnntui.data.translation import RESERVED
    from rnntui.training.checkpoint import load_checkpoint

    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("\n".join(["Go.\tVa !", "Hi.\tSalut !", "Run!\tCours !", "I lost.\tJ'ai perdu."] * 6) + "\n",
                     encoding="utf-8")
    config = ExperimentConfig(name="s2s", task="seq2seq").replace(
        pairs={"source": str(pairs), "num_examples": 24, "num_steps": 6, "batch_size": 8, "min_freq": 2,
               "val_examples": 4},
        model={"kind": "gru", "embed_size": 4, "num_hiddens": 8}, train={"epochs": 1, "device": "cpu"},
        sample={"sentences": ("go .",)})
    run = trained(runs_dir, "tiny-s2s", config)
    vocabs = load_checkpoint(run / "checkpoint.pt").vocabs
    app = make_app(runs_dir)
    async with app.run_test(size=SIZE) as pilot:
        v = await open_view(pilot)
        for side, key in (("source", "src"), ("target", "tgt")):
            await pick(pilot, f"run tiny-s2s: translation pairs, {side} side")
            await wait_for(pilot, lambda: v.report.source.side == side and v.report.source.kind == "run",
                           what=f"the {side} side")
            await pilot.pause()
            assert f"{side} side" in head(app) and "the run's own vocabulary" in head(app)
            assert [r.token for r in v.table.rows] == vocabs[key].idx_to_token
            assert [r.token for r in v.table.rows[1:4]] == RESERVED
        await pilot.press("p")  # only the pairs' own preprocessing applies: one line, the view stays
        await settle(pilot, v)
        assert "preprocessed as the pairs are" in text_of(app, "#vocab-status")
        assert v.report.settings.preprocess == "nmt"


# -- the controls -----------------------------------------------------------------------------------------

async def test_every_control_recounts_and_the_figures_follow(runs_dir):
    words = tokenize(book(), "word")
    counts = collections.Counter(words)
    app = make_app(runs_dir)
    async with app.run_test(size=SIZE) as pilot:
        v = await open_view(pilot)
        await pilot.press("w")
        await settle(pilot, v)
        assert f"{len(words):,} words · {len(counts):,} distinct · vocabulary {len(counts) + 1:,}" in head(app)
        assert v.table.rows[1].token == "the" and v.table.rows[1].count == counts["the"] == 2261

        await pilot.press("plus", "plus")  # min_freq 2: the words seen once fold into <unk>
        await settle(pilot, v)
        once = [w for w, c in counts.items() if c < 2]
        assert " min_freq 2 " in head(app)
        assert (f"vocabulary {len(counts) - len(once) + 1:,} · min_freq folds {len(once):,} into <unk> "
                f"({len(once):,} times)") in head(app)
        assert v.table.rows[0].count == len(once)

        await pilot.press("f")  # typed, then stepped with up/down
        prompt = app.query_one("#vocab-prompt", Input)
        assert prompt.display and prompt.has_focus and prompt.value == "2"
        prompt.value = "5"
        await pilot.press("enter")
        await settle(pilot, v)
        assert v.report.settings.min_freq == 5 and not prompt.display
        assert len(v.table.rows) == 1 + sum(1 for c in counts.values() if c >= 5)
        await pilot.press("f", "up", "up")
        await settle(pilot, v)
        assert v.report.settings.min_freq == 7
        await pilot.press("escape", "minus")
        await settle(pilot, v)
        assert v.report.settings.min_freq == 6 and v.table.has_focus

        await pilot.press("r")  # reserved tokens come right after <unk>
        app.query_one("#vocab-prompt", Input).value = "<pad> <bos>"
        await pilot.press("enter")
        await settle(pilot, v)
        assert [r.token for r in v.table.rows[:4]] == ["<unk>", "<pad>", "<bos>", "the"]
        assert "reserved <pad> <bos>" in head(app)

        await pilot.press("p")  # d2l -> lower: punctuation stays, case folds
        await settle(pilot, v)
        lower = tokenize(book("lower"), "word")
        assert v.report.settings.preprocess == "lower" and f"{len(lower):,} words" in head(app)

        prompt = app.query_one("#vocab-prompt", Input)
        await pilot.press("f")
        prompt.value = "many"
        await pilot.press("enter")  # not a number: one line, nothing recounted
        await pilot.pause()
        assert "min_freq must be an integer" in text_of(app, "#vocab-status") and v.report.settings.min_freq == 6


# -- the table and its search -----------------------------------------------------------------------------

async def test_find_moves_the_cursor_and_enter_shows_the_token_in_context(runs_dir):
    words = tokenize(book(), "word")
    counts = collections.Counter(words)
    app = make_app(runs_dir)
    async with app.run_test(size=SIZE) as pilot:
        v = await open_view(pilot)
        await pilot.press("w", "plus", "plus")
        await wait_for(pilot, lambda: v.report.settings.min_freq == 2 and not v.counting, what="min_freq 2")
        lines = v.table.line_texts()
        assert lines[0].split() == ["index", "token", "count", "share", "cumulative"]
        assert lines[2].split() == ["1", "the", "2,261", f"{100 * 2261 / len(words):.2f}%",
                                    f"{100 * (2261 + v.table.rows[0].count) / len(words):.1f}%"]

        await pilot.press("slash", *"traveller")
        row = v.table.current
        assert row.token == "traveller" and row.count == counts["traveller"]
        assert f"find 'traveller': found: index {row.index:,}" in text_of(app, "#vocab-note")
        await pilot.press("enter")  # closes the line and shows the contexts
        kwic = text_of(app, "#kwic")
        assert f"traveller: {counts['traveller']:,} occurrences; 5 of them" in kwic
        assert kwic.count("traveller") == 6 and "time traveller" in kwic
        assert v.table.has_focus

        once = next(w for w in words if counts[w] == 1)
        await pilot.press("slash", *once, "enter")
        assert f"find {once!r}: in the text, but min_freq folds it into <unk>: index 0" in text_of(app, "#vocab-note")
        await pilot.press("slash", *"zqx", "enter")
        assert "no such token, and no token starts with it" in text_of(app, "#vocab-note")

        await pilot.press("end", "enter")  # the last row, by keyboard
        last = v.table.rows[-1]
        assert v.table.current == last and f"{last.display}: {last.count:,} occurrences" in text_of(app, "#kwic")
        await pilot.press("home", "down", "enter")
        assert "the: 2,261 occurrences" in text_of(app, "#kwic")


# -- tokenize this ----------------------------------------------------------------------------------------

async def test_typed_text_is_cut_into_indexed_tokens_with_unk_marked(runs_dir):
    words = tokenize(book(), "word")
    counts = collections.Counter(words)
    app = make_app(runs_dir)
    async with app.run_test(size=SIZE) as pilot:
        v = await open_view(pilot)
        await pilot.press("w", "plus", "plus")
        await wait_for(pilot, lambda: v.report.settings.min_freq == 2 and not v.counting, what="min_freq 2")
        await pilot.press("t")
        field = app.query_one("#tokenize-input", Input)
        assert field.has_focus
        field.value = ""
        await pilot.press(*"The Time-Machine! zqxw")
        out = text_of(app, "#tokenize-out")
        itos = [r.token for r in v.table.rows]
        index = {t: i for i, t in enumerate(itos)}
        tokens_line, index_line = out.splitlines()[:2]
        assert tokens_line.split() == ["the", "time", "machine", "zqxw"]
        assert index_line.split() == [str(index["the"]), str(index["time"]), str(index["machine"]), "0"]
        assert "decoded:  'the time machine <unk>'" in out
        assert "round trip lossy: 1 of 4 tokens map to <unk>" in out
        content = app.query_one("#tokenize-out").render()
        unk_spans = [content.plain[s.start:s.end] for s in content.spans if "on rgb(215,0,0)" in str(s.style)]
        assert "zqxw" in unk_spans and "0   " in unk_spans  # the <unk> token and its index highlighted

        await pilot.press("escape")  # leave the line: the view's keys work again
        assert not field.has_focus
        await pilot.press("w")  # characters: every letter is known, the round trip is exact
        await settle(pilot, v)
        out = text_of(app, "#tokenize-out")
        assert f"round trip exact: {len('the time machine zqxw')} tokens" in out and counts


# -- n-grams and Zipf -------------------------------------------------------------------------------------

async def test_ngrams_are_the_books_and_zipf_is_fitted_for_words_and_characters(runs_dir):
    app = make_app(runs_dir)
    async with app.run_test(size=SIZE) as pilot:
        v = await open_view(pilot)
        await pilot.press("w", "n")
        await settle(pilot, v)
        await pilot.pause()
        listed = text_of(app, "#ngram-list")
        # the book's printed counts (d2l.ai, "Language Models")
        for gram, count in (("the", "2,261"), ("of the", "309"), ("in the", "169"), ("the time traveller", "59"),
                            ("the time machine", "30"), ("the medical man", "24")):
            assert any(gram in line and count in line for line in listed.splitlines()), gram
        fits = " ".join(text_of(app, "#zipf-fits").split())
        z = v.report.zipf
        assert f"unigrams {z[1].exponent:.2f} over ranks 10-{z[1].rank_hi:,} of {z[1].num_distinct:,}" in fits
        assert f"trigrams {z[3].exponent:.2f} over ranks {z[3].rank_lo}-{z[3].rank_hi:,}" in fits
        assert -1.15 < z[1].exponent < -0.9 and z[1].exponent < z[2].exponent < z[3].exponent < 0
        chart = app.query_one("#zipf-chart")
        assert chart.fits is v.report.zipf and chart.unit == "words"
        assert [len(f.ranks) for f in chart.fits.values()] == [len(z[n].ranks) for n in (1, 2, 3)]

        await pilot.press("w")  # characters: their n-grams and fits
        await settle(pilot, v)
        await pilot.pause()
        chars = list(book())
        top = collections.Counter(chars).most_common(2)
        listed = text_of(app, "#ngram-list")
        assert "unigrams (27)" in listed and f"{top[1][1]:,}" in listed.splitlines()[2]
        assert chart.unit == "characters" and chart.fits is v.report.zipf
        assert f"unigrams {v.report.zipf[1].exponent:.2f} over ranks" in " ".join(text_of(app, "#zipf-fits").split())


async def test_the_zipf_chart_survives_a_resize_and_a_theme_change(runs_dir):
    """plotext takes the log of its data in place when it builds the chart: a build without new data (a
    resize, a theme) must not take it twice."""
    app = make_app(runs_dir)
    async with app.run_test(size=SIZE) as pilot:
        v = await open_view(pilot)
        await pilot.press("w", "n")
        await settle(pilot, v)
        await pilot.pause()
        chart = app.query_one("#zipf-chart")

        def drawn() -> str:
            return "\n".join(chart.render_line(y).text for y in range(chart.size.height))

        before = drawn()
        assert "1k" in before and "100" in before  # the count axis, in powers of ten
        await pilot.resize_terminal(110, 36)
        await pilot.pause()
        await pilot.resize_terminal(*SIZE)
        await pilot.pause()
        app.theme = "textual-light"
        await pilot.pause()
        app.theme = "textual-dark"
        await pilot.pause()
        assert app.is_running and drawn() == before


# -- minibatches ------------------------------------------------------------------------------------------

def training_batches(sampling: str, seed: int = 0):
    """What the trainer's data loader yields in epoch 1 for the view's default text (char, d2l)."""
    from rnntui.config import DataConfig
    from rnntui.data.batches import lm_batches
    from rnntui.data.corpus import load_lm_corpus

    corpus = load_lm_corpus(DataConfig(corpus="timemachine", batch_size=32, num_steps=35), SHARED_DATA)
    gen = torch.Generator().manual_seed(seed)
    decode = corpus.vocab.to_tokens
    return [(["".join(decode(r)) for r in X.tolist()], ["".join(decode(r)) for r in Y.tolist()])
            for X, Y in lm_batches(corpus.train_ids, 32, 35, sampling, gen)]


def shown_rows(app) -> list[tuple[str, str, str]]:
    """(start, X, Y, continues) of each row of the batch on screen."""
    return [line for line in text_of(app, "#batch-rows").splitlines()[1:]]


async def test_batches_step_as_training_draws_them(runs_dir):
    app = make_app(runs_dir)
    async with app.run_test(size=SIZE) as pilot:
        v = await open_view(pilot)
        await pilot.press("b")
        await wait_for(pilot, lambda: v.plan is not None, what="the plan")
        await pilot.pause()
        expected = training_batches("sequential")
        assert v.plan.num_batches == len(expected)
        assert f"→ {len(expected)} batches of 32 × 35" in text_of(app, "#batch-line")
        for i in range(3):
            X, Y = expected[i]
            assert list(v.plan.batch(i).X) == X and list(v.plan.batch(i).Y) == Y
            rows = shown_rows(app)
            assert len(rows) == 32 and X[0][:20] in rows[0] and X[31][:20] in rows[31]
            carry = text_of(app, "#batch-carry")
            assert f"batch {i} of {len(expected)}" in carry
            assert "row r of batch i+1 continues row r of batch i" in carry and "truncated BPTT" in carry
            assert all(("✓ continues" in r) == (i > 0) for r in rows)
            await pilot.press("right")
        await pilot.press("left")
        assert f"batch 2 of {len(expected)}" in text_of(app, "#batch-carry")

        await pilot.press("s")  # random sampling: the same generator, another plan
        await wait_for(pilot, lambda: v.plan.sampling == "random", what="the random plan")
        await pilot.pause()
        expected = training_batches("random")
        assert [list(v.plan.batch(i).X) for i in range(len(expected))] == [X for X, _ in expected]
        await pilot.press("right")
        carry = text_of(app, "#batch-carry")
        assert "does not continue row r of batch i" in carry and "fresh state" in carry
        assert any("✗ new start" in r for r in shown_rows(app))
        first = text_of(app, "#batch-strip").splitlines()[0].rstrip()
        assert len(first) > 100 and book().startswith(first)  # the start of the text, as it reads

        await pilot.press("d")  # the next seed draws another plan
        await wait_for(pilot, lambda: v.plan.seed == 1, what="seed 1")
        assert [list(v.plan.batch(0).X)] == [training_batches("random", 1)[0][0]]


async def test_the_books_example_is_one_key_away(runs_dir):
    from rnntui.inspect.batches import seed_example

    app = make_app(runs_dir)
    async with app.run_test(size=SIZE) as pilot:
        v = await open_view(pilot)
        await pilot.press("b", "e")
        await wait_for(pilot, lambda: v.plan is not None and v.plan.num_tokens == 35, what="the example")
        await pilot.pause()
        want = seed_example("sequential", 0)
        assert v.plan.starts == want.starts and v.plan.batch_size == 2 and v.plan.num_steps == 5
        strip = text_of(app, "#batch-strip").splitlines()
        assert strip[0].split() == [str(i) for i in range(35)]  # the whole sequence 0..34 on one line
        starts = [s for b in want.starts for s in b]
        column = {k: sum(len(str(j)) + 1 for j in range(k)) for k in range(35)}  # where token k is drawn
        for b, row in ((0, 0), (1, 0), (2, 0), (0, 1), (1, 1)):
            s = want.starts[b][row]
            assert strip[1][column[s]:].startswith(f"b{b} r{row}"), (b, row)
        assert len(starts) == 6 and f"batch 0 of {want.num_batches}" in text_of(app, "#batch-carry")
        await pilot.press("right")
        rows = shown_rows(app)
        first = want.batch(1)
        assert " ".join(str(t) for t in range(first.starts[0], first.starts[0] + 5)) in rows[0]
        assert all("✓ continues" in r for r in rows)


# -- bad input --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("content, said", [
    (b"", "is empty"),
    (b"\x00\x01\x02binary\x00", "looks binary"),
    (b"caf\xe9 au lait", "is not valid UTF-8"),
])
async def test_a_bad_file_is_one_line_and_the_text_shown_stays(runs_dir, tmp_path, content, said):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(content)
    app = make_app(runs_dir)
    async with app.run_test(size=SIZE) as pilot:
        v = await open_view(pilot)
        await pick_file(pilot, bad)
        await settle(pilot, v)
        status = text_of(app, "#vocab-status")
        assert said in status and "still showing The Time Machine" in status and "\n" not in status
        assert "The Time Machine" in head(app) and app.is_running
        await pick_file(pilot, tmp_path / "missing.txt")
        await settle(pilot, v)
        assert "not found" in text_of(app, "#vocab-status")
        await pilot.press("w")  # the view goes on working
        await settle(pilot, v)
        assert v.report.settings.token == "word" and text_of(app, "#vocab-status") == ""


async def test_minibatch_keys_wait_for_a_text_counted(runs_dir, tmp_path):
    """With no text counted (The Time Machine is not there, nor reachable), the minibatch part's keys do
    nothing, and the app stays up."""
    from rnntui.tui.app import RnntuiApp

    app = RnntuiApp(device="cpu", runs_dir=runs_dir, data_dir=tmp_path / "no-data")
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("3")
        v = view(app)
        await pilot.press("b", "s", "d", "e", "right", "k")
        await settle(pilot, v)
        await pilot.press("b", "s", "d", "e", "right", "k")
        await pilot.pause()
        assert app.is_running and v.report is None and v.part == "batches"
        assert "timemachine.txt" in text_of(app, "#vocab-status")


@pytest.mark.slow
async def test_a_large_file_counts_in_a_worker_with_progress_while_keys_work(runs_dir, tmp_path, monkeypatch):
    from rnntui.inspect.vocab import VocabInspector

    big = tmp_path / "big.txt"
    raw = (SHARED_DATA / "timemachine.txt").read_text(encoding="utf-8")
    with big.open("w", encoding="utf-8") as f:
        for i in range(120):  # about 21 MB
            f.write(raw.replace("Time", f"Time{i % 7}"))
    # the count of the big file waits, once it has shown its progress, until the keys below were answered
    answered = threading.Event()
    compute = VocabInspector.compute

    def held(self, settings=None, *args, progress=None, **kwargs):
        if progress is None or self.source.name != str(big):
            return compute(self, settings, *args, progress=progress, **kwargs)
        started = time.monotonic()

        def report(done: int, total: int) -> None:
            progress(done, total)
            if time.monotonic() - started > 0.4:  # (the view shows progress after 0.15 s)
                answered.wait(60)

        return compute(self, settings, *args, progress=report, **kwargs)

    monkeypatch.setattr(VocabInspector, "compute", held)
    app = make_app(runs_dir)
    async with app.run_test(size=SIZE) as pilot:
        v = await open_view(pilot)
        await pilot.press("w")
        await settle(pilot, v)
        await pick_file(pilot, big)
        await wait_for(pilot, lambda: "%" in text_of(app, "#vocab-status"), what="the progress")
        assert "big.txt… " in text_of(app, "#vocab-status") and v.counting
        assert "The Time Machine" in head(app)  # the text before stays until the new one is counted
        await pilot.press("n")  # keys work meanwhile
        assert v.part == "ngrams" and v.counting and "the time traveller" in text_of(app, "#ngram-list")
        await pilot.press("v")
        assert v.part == "vocab" and v.counting
        answered.set()
        await wait_for(pilot, lambda: not v.counting, timeout=120, what="the count of the large file")
        await pilot.pause()
        assert "big.txt (file)" in head(app) and text_of(app, "#vocab-status") == ""
        assert v.report.num_tokens > 3_000_000
