"""The Prompt view (5): a language model continues a prompt as it streams, a seq2seq model translates with
greedy and beam search side by side. Tiny real checkpoints, trained here in a second or two."""

from __future__ import annotations

import math
import os
import shutil
import time
from pathlib import Path

import pytest
import torch
from textual import events
from textual.widgets import Static

from conftest import TINY_PAIRS, run_cli, tiny_config, tiny_s2s_config
from rnntui.tui.model_choice import ModelChoice
from rnntui.tui.widgets.prompt_entries import UNK_MARK, GenerationEntry, TranslationEntry, surprise_style
from tui_helpers import SHARED_DATA, make_app, ready, wait_for

pytestmark = pytest.mark.skipif(not SHARED_DATA.is_dir(), reason=f"no shared data in {SHARED_DATA}")

SIZE = (120, 40)

@pytest.fixture(scope="module")
def trained_runs(tmp_path_factory):
    """Real run folders, trained once for the module: a char LM (1 and 2 epochs), a word LM, a seq2seq."""
    from rnntui.training.experiment import train

    root = tmp_path_factory.mktemp("prompt-runs")
    (root / "pairs.tsv").write_text(TINY_PAIRS, encoding="utf-8")
    configs = {
        "tiny-lm": tiny_config(train={"epochs": 1}),
        "tiny-lm-2": tiny_config(train={"epochs": 2}),
        "tiny-word": tiny_config(data={"token": "word", "max_tokens": 6000, "num_steps": 5}, model={"embed_size": 16},
                                 train={"epochs": 1}),
        "tiny-s2s": tiny_s2s_config(root / "pairs.tsv"),
    }
    for name, config in configs.items():
        train(config, root / name, data_dir=SHARED_DATA)
    return root


@pytest.fixture
def runs_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("RNNTUI_DATA_DIR", str(SHARED_DATA))
    monkeypatch.setenv("RNNTUI_DATA_URL", "http://127.0.0.1:9/")
    monkeypatch.chdir(tmp_path)
    return tmp_path / "runs"


def with_runs(runs_dir: Path, trained_runs: Path, *names: str) -> Path:
    for name in names:
        shutil.copytree(trained_runs / name, runs_dir / name)
    return runs_dir


def model_line(app) -> str:
    return str(app.query_one("#prompt .model-line", Static).render())


def status_line(app) -> str:
    status = app.query_one("#prompt-status", Static)
    return str(status.render()) if status.display else ""


def settings_line(app) -> str:
    return app.query_one("#prompt-settings").text


async def open_view(pilot, name: str):
    """The Prompt view with the model of run ``name`` loaded."""
    await ready(pilot)
    await pilot.press("5")
    view = pilot.app.view("prompt")
    await wait_for(pilot, lambda: f"model: {name} (" in model_line(pilot.app), what=f"{name} loaded")
    return view


async def type_prompt(pilot, text: str) -> None:
    """Enter (to the prompt line), the text key by key, Enter."""
    view = pilot.app.view("prompt")
    if not view.typing:
        await pilot.press("enter")
    assert view.typing
    await pilot.press(*[{" ": "space"}.get(c, c) for c in text])
    await pilot.press("enter")


async def paste(pilot, text: str) -> None:
    """The terminal pastes ``text`` into the prompt line (bracketed paste), then Enter."""
    view = pilot.app.view("prompt")
    if not view.typing:
        await pilot.press("enter")
    view.input.post_message(events.Paste(text))
    await pilot.pause()
    await pilot.press("enter")


def last(view) -> GenerationEntry | TranslationEntry:
    return view.entries[max(view.entries)]


def shown(view, entry=None) -> str:
    """The transcript's text of an entry (the last one) as drawn on screen."""
    entry = entry or last(view)
    request = next(r for r, e in view.entries.items() if e is entry)
    return view.transcript.text(view._keys[request])


async def generated(pilot, count: int) -> GenerationEntry:
    """Wait for the ``count``-th prompt's generation to end; returns its entry."""
    view = pilot.app.view("prompt")
    await wait_for(pilot, lambda: len(view.entries) >= count and view._active is None, timeout=60,
                   what="the generation to end")
    entry = last(view)
    assert isinstance(entry, GenerationEntry) and entry.status == "done", (entry.status, entry.error)
    return entry


async def translated(pilot, count: int) -> TranslationEntry:
    view = pilot.app.view("prompt")
    await wait_for(pilot, lambda: len(view.entries) >= count, what="the translation")
    entry = last(view)
    assert isinstance(entry, TranslationEntry)
    return entry


def squeeze(text: str) -> str:
    return "".join(text.split())


def load(run: Path):
    from rnntui.training.checkpoint import load_checkpoint

    return load_checkpoint(run / "checkpoint.pt")


def generate_text(run: Path, prompt: str, num_tokens: int, strategy: str = "greedy", **options) -> str:
    """The engine's own generate (the CLI's code path), on a fresh load of the checkpoint."""
    from rnntui.decoding.generate import generate
    from rnntui.decoding.sampling import DecodeConfig

    checkpoint = load(run)
    seed = options.pop("seed", 0)
    return generate(checkpoint.model, checkpoint.vocab, prompt, num_tokens, checkpoint.token,
                    DecodeConfig(strategy, **options), torch.Generator().manual_seed(seed)).continuation


# -- a language model ---------------------------------------------------------------------------------------

async def test_the_streamed_text_equals_rnntui_generate_with_the_same_seed_and_settings(runs_dir, trained_runs, tmp_path):
    runs = with_runs(runs_dir, trained_runs, "tiny-lm")
    app = make_app(runs)
    async with app.run_test(size=SIZE) as pilot:
        view = await open_view(pilot, "tiny-lm")
        assert "strategy greedy" in settings_line(app) and "100 chars" in settings_line(app)
        await pilot.press("s", "s", "s", "t", "r", "L")  # top-p, T 1 -> 0.9, seed 1, 100 -> 200 chars
        line = settings_line(app)
        assert "strategy top-p" in line and "T 0.9" in line and "top-p 0.9" in line and "seed 1" in line
        assert "200 chars" in line
        await type_prompt(pilot, "the time ")
        entry = await generated(pilot, 1)
    cli = run_cli(tmp_path, "generate", "--checkpoint", str(runs / "tiny-lm" / "checkpoint.pt"), "--prefix",
                  "the time ", "--strategy", "top-p", "--temperature", "0.9", "--top-p", "0.9", "--seed", "1",
                  "--num-chars", "200")
    assert cli.returncode == 0, cli.stderr
    assert len(entry.continuation) == 200
    assert entry.prompt + entry.continuation == cli.stdout.rstrip("\n")  # what rnntui generate prints
    assert squeeze(entry.continuation) in squeeze(shown(view, entry))  # and what the screen shows
    # streamed: the first token came alone, at once, and the rest in further batches
    assert entry.batches[0] == 1 and len(entry.batches) >= 2 and sum(entry.batches) == 200
    assert "200 chars in" in shown(view, entry) and "top-p 0.9, T 0.9, seed 1" in shown(view, entry)
    assert "epoch 1 of 1" in shown(view, entry)


async def test_escape_stops_a_generation_where_it_is(runs_dir, trained_runs, monkeypatch):
    import rnntui.decoding.generate as engine

    real = engine.stream

    def slowed(*args, **kwargs):  # the tiny model writes 2,000 characters before a key comes: 2 ms a token
        for step in real(*args, **kwargs):
            time.sleep(0.002)
            yield step

    monkeypatch.setattr(engine, "stream", slowed)
    runs = with_runs(runs_dir, trained_runs, "tiny-lm")
    app = make_app(runs)
    async with app.run_test(size=SIZE) as pilot:
        view = await open_view(pilot, "tiny-lm")
        await pilot.press("L", "L", "L", "L")  # 100 -> 2000 chars
        assert "2000 chars" in settings_line(app)
        await type_prompt(pilot, "the ")
        await wait_for(pilot, lambda: view.entries and len(last(view).pieces) >= 20, what="the first tokens")
        entry = last(view)
        assert entry.status == "generating" and "generating…" in status_line(app) and "Esc stops" in status_line(app)
        assert "generating… " in shown(view, entry) and "▌" in shown(view, entry)  # the cursor where it grows
        await pilot.press("escape")
        assert entry.status == "stopped" and status_line(app) == "stopped"
        await wait_for(pilot, lambda: not any(w.is_running for w in app.workers if w.group == "prompt-run"),
                       what="the worker to end")
        count = len(entry.pieces)
        await pilot.pause(0.3)
        assert 20 <= len(entry.pieces) == count < 2000  # nothing more came
        assert f"stopped after {count} of 2000 chars" in shown(view, entry)
        assert generate_text(runs / "tiny-lm", "the ", 2000).startswith(entry.continuation)
        assert view.typing  # Esc stopped; it did not leave the prompt line
        await pilot.press("escape")  # a second Esc leaves it: the view's keys work again
        assert not view.typing
        await pilot.press("c")
        assert view.colour


async def test_up_and_down_recall_earlier_prompts(runs_dir, trained_runs):
    runs = with_runs(runs_dir, trained_runs, "tiny-lm")
    app = make_app(runs)
    async with app.run_test(size=SIZE) as pilot:
        view = await open_view(pilot, "tiny-lm")
        await pilot.press("l", "l", "l")  # 100 -> 10 chars
        await type_prompt(pilot, "ab")
        await generated(pilot, 1)
        await type_prompt(pilot, "cd")
        await generated(pilot, 2)
        await pilot.press("e", "f")  # being typed
        values = []
        for key in ("up", "up", "up", "down", "down", "down"):
            await pilot.press(key)
            values.append(view.input.value)
        assert values == ["cd", "ab", "ab", "cd", "ef", "ef"]
        await pilot.press("up", "up", "enter")  # a recalled prompt goes again
        entry = await generated(pilot, 3)
        assert entry.prompt == "ab" and view.input.history == ["ab", "cd", "ab"]


async def test_keys_typed_in_the_prompt_line_are_text_not_commands(runs_dir, trained_runs):
    runs = with_runs(runs_dir, trained_runs, "tiny-lm")
    app = make_app(runs)
    async with app.run_test(size=SIZE) as pilot:
        view = await open_view(pilot, "tiny-lm")
        assert view.transcript.has_focus  # at first: the number keys still switch views
        assert "Enter: type a prefix" in view.input.placeholder
        await pilot.press("enter", *"q6mstc")
        assert view.input.value == "q6mstc" and app.shown == "prompt" and app.is_running
        assert view.settings == type(view.settings)() and not view.colour  # no setting changed
        assert "Esc back to the keys" in view.input.placeholder
        await pilot.press("escape", "6")
        assert app.shown == "sequence"
        await pilot.press("5")
        assert app.shown == "prompt" and view.transcript.has_focus and view.input.value == "q6mstc"


async def test_the_transcript_keeps_earlier_prompts_and_scrolls(runs_dir, trained_runs):
    runs = with_runs(runs_dir, trained_runs, "tiny-lm")
    app = make_app(runs)
    async with app.run_test(size=(80, 24)) as pilot:
        view = await open_view(pilot, "tiny-lm")
        await pilot.press("L")  # 200 characters: three lines at 80 columns
        for i, prompt in enumerate(("the", "a", "of", "in"), 1):
            await type_prompt(pilot, prompt)
            await generated(pilot, i)
        transcript = view.transcript
        assert [e.prompt for e in view.entries.values()] == ["the", "a", "of", "in"]
        assert transcript.max_scroll_y > 0 and transcript.scroll_y == transcript.max_scroll_y  # the newest shown
        await pilot.press("escape", "home")
        assert transcript.scroll_y == 0
        await pilot.press("pagedown")
        assert 0 < transcript.scroll_y
        await pilot.press("home")
        await type_prompt(pilot, "to")  # scrolled up: a new entry does not move what the user reads
        await generated(pilot, 5)
        assert transcript.scroll_y == 0
        await pilot.press("escape", "end")
        assert transcript.scroll_y == transcript.max_scroll_y
        await type_prompt(pilot, "at")  # at the end again: it follows the new entry as it streams
        await generated(pilot, 6)
        assert transcript.scroll_y == transcript.max_scroll_y > 0
        assert "at" + last(view).continuation[:20] in transcript.text().replace("\n", "")


async def test_colour_shows_each_tokens_probability_under_the_model(runs_dir, trained_runs):
    runs = with_runs(runs_dir, trained_runs, "tiny-lm")
    app = make_app(runs)
    async with app.run_test(size=SIZE) as pilot:
        view = await open_view(pilot, "tiny-lm")
        await pilot.press("l", "l")  # 20 chars
        await type_prompt(pilot, "the time machine")
        entry = await generated(pilot, 1)
        legend = app.query_one("#prompt-legend", Static)
        assert not legend.display
        await pilot.press("escape", "c")
        assert legend.display and "< 0.01" in str(legend.render()) and "colour on" in settings_line(app)
        await pilot.pause()
        key = view._keys[max(view.entries)]
        strips = view.transcript.strips(key)
        cells_bold = [bool(segment.style and segment.style.bold) for segment in strips[0] for _ in segment.text]
        await pilot.press("c")
        plain_cells = [(char, segment.style.bgcolor if segment.style else None)
                       for segment in view.transcript.strips(key)[0] for char in segment.text]
        legend_after = legend.display
    # the oracle: the model's softmax over the whole text, read at once (teacher forcing)
    checkpoint = load(runs / "tiny-lm")
    text = entry.prompt + entry.continuation
    ids = checkpoint.vocab[list(text)]
    with torch.no_grad():
        logits, _ = checkpoint.model(torch.tensor([ids]), None)  # (steps, 1, vocab)
    probs = torch.softmax(logits[:-1, 0].double(), -1).gather(1, torch.tensor(ids[1:])[:, None])[:, 0].tolist()
    expected = [None] + probs  # the first token has nothing before it
    assert entry.probs == pytest.approx(expected[len(entry.prompt):], abs=1e-5)
    cells = [(char, segment.style.bgcolor if segment.style else None)
             for segment in strips[0] for char in segment.text][:len(text)]
    assert "".join(char for char, _ in cells) == text
    for i, (char, bg) in enumerate(cells):
        style = surprise_style(expected[i])
        assert bg == (style.bgcolor if style else None), (i, char, expected[i])
    assert len({bg for _, bg in cells}) >= 2  # the colours tell the tokens apart
    assert cells_bold[0] and not cells_bold[len(text) - 1]  # the prompt in bold, the continuation not
    assert not any(bg for _, bg in plain_cells) and not legend_after  # c again: plain, no legend


async def test_unknown_prompt_tokens_become_unk_and_are_marked(runs_dir, trained_runs):
    runs = with_runs(runs_dir, trained_runs, "tiny-lm")
    app = make_app(runs)
    async with app.run_test(size=SIZE) as pilot:
        view = await open_view(pilot, "tiny-lm")
        await pilot.press("l", "l", "l")
        await paste(pilot, "café 😀 time")
        entry = await generated(pilot, 1)
        text = shown(view, entry)
        assert text.startswith("caf<unk> <unk> time")
        assert "not in the vocabulary, read as <unk>: 'é' '😀' (this model read letters and spaces only)" in text
        marked = "".join(s.text for s in view.transcript.strips(view._keys[max(view.entries)])[0]
                         if s.style and s.style.underline and s.style.color == UNK_MARK.color)
        assert marked == "<unk><unk>"
        assert entry.continuation == generate_text(runs / "tiny-lm", "café 😀 time", 10)


async def test_an_empty_prompt_says_what_is_needed_and_a_pasted_page_works(runs_dir, trained_runs):
    runs = with_runs(runs_dir, trained_runs, "tiny-lm")
    app = make_app(runs)
    async with app.run_test(size=SIZE) as pilot:
        view = await open_view(pilot, "tiny-lm")
        await pilot.press("enter", "enter")
        assert "type a prefix for the model to continue first" in status_line(app) and not view.entries
        page = "\n".join(f"line {i} of the time machine, pasted whole" for i in range(250))
        assert len(page) > 10_000
        await paste(pilot, page)
        entry = await generated(pilot, 1)
        joined = " ".join(page.splitlines())  # the prompt line is one line
        assert entry.prompt == joined and len(entry.read) == len(joined)
        assert entry.continuation == generate_text(runs / "tiny-lm", joined, 100)
        text = shown(view, entry)
        assert f"a prompt of {len(joined):,} chars: its last 240 are shown" in text
        vocab = load(runs / "tiny-lm").vocab
        as_read = "".join(ch if ch in vocab else "<unk>" for ch in joined[-240:])  # digits, commas: not in it
        assert text.startswith("… ") and squeeze(as_read) in squeeze(text) and "<unk>" in as_read


async def test_a_word_level_model_reads_and_writes_words(runs_dir, trained_runs):
    runs = with_runs(runs_dir, trained_runs, "tiny-word")
    app = make_app(runs)
    async with app.run_test(size=SIZE) as pilot:
        view = await open_view(pilot, "tiny-word")
        assert "100 words" in settings_line(app)
        await pilot.press("l", "l")
        await type_prompt(pilot, "the zorglub is")
        entry = await generated(pilot, 1)
        assert len(entry.pieces) == 20 and all(piece.startswith(" ") for piece in entry.pieces)
        assert entry.continuation == generate_text(runs / "tiny-word", "the zorglub is", 20)
        text = shown(view, entry)
        assert text.startswith("the <unk> is" + entry.continuation[:20])
        assert "20 words in" in text and "read as <unk>: 'zorglub'" in text
        assert "letters and spaces only" not in text  # an unseen word, not an odd character
        await pilot.press("space", "space", "enter")
        assert "at least one word" in status_line(app) and len(view.entries) == 1


async def test_a_new_checkpoint_of_the_run_is_used_and_a_deleted_one_is_one_line(runs_dir, trained_runs):
    runs = with_runs(runs_dir, trained_runs, "tiny-lm")
    app = make_app(runs)
    async with app.run_test(size=SIZE) as pilot:
        view = await open_view(pilot, "tiny-lm")
        await pilot.press("l", "l", "l")
        await type_prompt(pilot, "the ")
        first = await generated(pilot, 1)
        assert "epoch 1 of 1" in first.model
        # the run writes its next checkpoint (as the trainer does after an epoch: a new file moved in place)
        shutil.copy(trained_runs / "tiny-lm-2" / "checkpoint.pt", runs / "tiny-lm" / "new.pt")
        os.replace(runs / "tiny-lm" / "new.pt", runs / "tiny-lm" / "checkpoint.pt")
        await type_prompt(pilot, "the ")
        second = await generated(pilot, 2)
        assert second.model == "epoch 2 of 2" and "epoch 2 of 2" in shown(view, second)
        assert second.continuation == generate_text(trained_runs / "tiny-lm-2", "the ", 10)
        await wait_for(pilot, lambda: "epoch 2 of 2" in model_line(app), what="the model line to follow")
        (runs / "tiny-lm" / "checkpoint.pt").unlink()
        await type_prompt(pilot, "the ")
        await wait_for(pilot, lambda: "checkpoint not found" in status_line(app), what="one line")
        assert len(status_line(app).splitlines()) == 1 and len(view.entries) == 2 and app.is_running


@pytest.mark.slow
async def test_it_generates_while_a_run_trains_on_its_latest_checkpoint_and_keeps_the_last_one(runs_dir):
    from tui_helpers import start_live_run

    app = make_app(runs_dir)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        trainer = await start_live_run(pilot, train__epochs="6")
        await pilot.press("5")
        view = app.view("prompt")
        await wait_for(pilot, lambda: view.model is not None, timeout=60, what="its first checkpoint")
        first = view.model.checkpoint.info["epoch"]
        assert f"epoch {first} of 6" in model_line(app)
        await pilot.press("l", "l", "l")
        await type_prompt(pilot, "the ")
        entry = await generated(pilot, 1)
        assert trainer.training, "the run ended before the prompt: make it longer"
        epoch = int(entry.model.split()[1])  # "epoch 2 of 6": the checkpoint it generated from
        assert entry.model == f"epoch {epoch} of 6" and first <= epoch < 6 and len(entry.pieces) == 10
        await wait_for(pilot, lambda: f"epoch {epoch + 1} of 6" in model_line(app) or not trainer.training,
                       timeout=60, what="the next epoch")
        await type_prompt(pilot, "the ")  # the next prompt runs on the newer checkpoint
        entry = await generated(pilot, 2)
        assert int(entry.model.split()[1]) > epoch
        await trainer.stop_and_wait()  # the run over, the views keep its last checkpoint
        await wait_for(pilot, lambda: app.model_choice.kind == "run" and view.model is not None
                       and view.model.run_dir == app.model_choice.path, what="the run's last checkpoint")
        assert app.model_choice.path.name in model_line(app) and "no run is training" not in model_line(app)
        await type_prompt(pilot, "the ")
        assert len((await generated(pilot, 3)).pieces) == 10


# -- a seq2seq model ------------------------------------------------------------------------------------

def oracle_translations(run: Path, sentence: str, beam: int, alpha: float):
    """(greedy (tokens, score), beam search's hypotheses [(tokens, score)]) by the engine's translate."""
    from rnntui.decoding.translate import translate

    checkpoint = load(run)
    src, tgt, steps = checkpoint.vocabs["src"], checkpoint.vocabs["tgt"], checkpoint.config.pairs.num_steps
    greedy = translate(checkpoint.model, sentence, src, tgt, steps, 1, alpha)
    beams = translate(checkpoint.model, sentence, src, tgt, steps, beam, alpha)
    return (greedy.tokens, greedy.score), beams.hypotheses


async def test_greedy_and_beam_search_side_by_side_with_bleu(runs_dir, trained_runs, tmp_path):
    from rnntui.training.metrics_bleu import bleu

    runs = with_runs(runs_dir, trained_runs, "tiny-s2s")
    app = make_app(runs)
    async with app.run_test(size=SIZE) as pilot:
        view = await open_view(pilot, "tiny-s2s")
        line = settings_line(app)
        assert "beam 3" in line and "α 0.75" in line and "strategy" not in line
        await pilot.press("s", "t")  # the language model's keys do nothing here
        assert view.settings.strategy == "greedy" and view.settings.temperature == 1.0
        await type_prompt(pilot, "go . => va !")
        entry = await translated(pilot, 1)
        text = shown(view, entry)
        (greedy_tokens, greedy_score), beams = oracle_translations(runs / "tiny-s2s", "go .", 3, 0.75)
        c = entry.comparison
        assert c.greedy.tokens == greedy_tokens and c.greedy.score == pytest.approx(greedy_score)
        assert [(h.tokens, pytest.approx(h.score)) for h in c.beam] == [(t, s) for t, s in beams]
        assert "greedy search" in text and "beam search, beam 3, α 0.75" in text
        for hyp in [c.greedy, *c.beam[:3]]:  # the beam's best three are shown
            length = len(hyp.tokens) + hyp.finished  # <eos> counts
            assert hyp.score == pytest.approx(hyp.log_prob / length ** 0.75)
            assert hyp.bleu == pytest.approx(bleu(hyp.tokens, ["va", "!"], k=2))
            assert f"log P {hyp.log_prob:.3f} · score {hyp.score:.3f} · BLEU {hyp.bleu:.3f}" in text
        assert "★ " + " ".join(c.beam[0].tokens) in text and "=> va !" in text
        assert c.beam[0].tokens == c.greedy.tokens and "beam search chose greedy search's translation" in text
        cli = run_cli(tmp_path, "translate", "--checkpoint", str(runs / "tiny-s2s" / "checkpoint.pt"), "--beam", "3",
                      "go .", "--reference", "va !")
        assert cli.returncode == 0, cli.stderr
        translation, score = cli.stdout.rstrip("\n").split("\tbleu ")  # as `rnntui translate` prints it
        assert translation == " ".join(c.beam[0].tokens) and f"BLEU {score}" in text
        await type_prompt(pilot, "zebra i lost .")  # where this model's beam search finds a better one
        c = (await translated(pilot, 2)).comparison
        assert c.beam[0].tokens != c.greedy.tokens and c.beam[0].score > c.greedy.score
        assert f"scores higher than greedy's ({c.beam[0].score - c.greedy.score:+.3f})" in shown(view)

        await pilot.press("escape", "b", "b", "a", "a", "a")  # beam 1, alpha 0.0
        assert "beam 1" in settings_line(app) and "α 0" in settings_line(app)
        await type_prompt(pilot, "go .")
        entry = await translated(pilot, 3)
        c = entry.comparison
        assert [h.tokens for h in c.beam] == [c.greedy.tokens]  # beam size 1 is greedy search
        assert c.beam[0].score == pytest.approx(c.greedy.score) == pytest.approx(c.greedy.log_prob)  # L^0 = 1
        text = shown(view, entry)
        assert "beam search chose greedy search's translation" in text and "beam search, beam 1, α 0" in text
        assert " · BLEU " not in text and "add => and a reference" in text


async def test_unknown_source_words_are_marked_and_bad_sentences_are_one_line(runs_dir, trained_runs):
    runs = with_runs(runs_dir, trained_runs, "tiny-s2s")
    app = make_app(runs)
    async with app.run_test(size=SIZE) as pilot:
        view = await open_view(pilot, "tiny-s2s")
        await paste(pilot, "Go zorglub 😀 !")
        entry = await translated(pilot, 1)
        text = shown(view, entry)
        assert text.startswith("› go <unk> <unk> !")
        assert "not in the source vocabulary, read as <unk>: 'zorglub' '😀'" in text
        await pilot.press("enter")  # empty
        assert "type an English sentence to translate first" in status_line(app)
        await type_prompt(pilot, "go . =>")  # an empty reference
        await wait_for(pilot, lambda: "reference translation is empty" in status_line(app), what="one line")
        await type_prompt(pilot, " => va !")  # no sentence
        await wait_for(pilot, lambda: "sentence to translate is empty" in status_line(app), what="one line")
        assert len(view.entries) == 1 and app.is_running
        await paste(pilot, "go " * 50)  # longer than the model's num_steps
        entry = await translated(pilot, 2)
        assert "the encoder reads the first 6 of 50 words" in shown(view, entry)


async def test_the_view_follows_the_model_kind(runs_dir, trained_runs):
    runs = with_runs(runs_dir, trained_runs, "tiny-lm", "tiny-s2s")
    app = make_app(runs)
    async with app.run_test(size=SIZE) as pilot:
        view = await open_view(pilot, "tiny-s2s")  # the newest run
        assert "beam 3" in settings_line(app)
        app.model_choice = ModelChoice("run", runs / "tiny-lm")
        await wait_for(pilot, lambda: "model: tiny-lm (" in model_line(app), what="the LM")
        assert "strategy greedy" in settings_line(app) and "beam" not in settings_line(app)
        await pilot.press("enter")
        assert "a prefix for the model to continue" in view.input.placeholder
        await pilot.press("escape", "b")
        assert view.settings.beam == 3  # a seq2seq key does nothing for a language model
        assert math.isclose(view.settings.alpha, 0.75)
