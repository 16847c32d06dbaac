"""The vocabulary inspector (rnntui.inspect.vocab) and ``rnntui vocab``.

Oracles: ``collections.Counter`` and ``Vocab(tokens)`` on the tokens cut by hand, ``ngram_freqs``,
``numpy.polyfit``, the vocabularies stored in real checkpoints, and the book's printed lists.
"""

from __future__ import annotations

import collections
import itertools
import json
import math
import random
import subprocess
import sys
import threading

import numpy as np
import pytest
from conftest import cli_env, needs_shared_data, run_cli, tiny_config
from hypothesis import given, settings
from hypothesis import strategies as st

from rnntui.data.corpus import num_train_tokens, preprocess, tokenize
from rnntui.data.vocab import UNK, Vocab, ngram_freqs
from rnntui.errors import ConfigError, DataError
from rnntui.inspect.vocab import (
    Cancelled,
    Settings,
    Source,
    VocabInspector,
    display,
    prepare_text,
    prepared_pieces,
)

FAST = settings(max_examples=60, deadline=None)


def _write(tmp_path, text: str, name: str = "text.txt"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def _oracle_tokens(text: str, s: Settings) -> list[str]:
    tokens = tokenize(preprocess(text, s.preprocess), s.token)
    return tokens[: s.max_tokens] if s.max_tokens else tokens


# --- Vocab.from_counts and the split: the additions to rnntui.data ---------------------------------------------


@settings(max_examples=200, deadline=None)
@given(tokens=st.lists(st.text(alphabet="abc<unk>", min_size=1, max_size=3), max_size=60),
       min_freq=st.integers(0, 4),
       reserved=st.lists(st.sampled_from(["<pad>", "<bos>", "a", UNK]), max_size=3, unique=True))
def test_from_counts_builds_the_vocabulary_vocab_builds(tokens, min_freq, reserved):
    expected = Vocab(tokens, min_freq=min_freq, reserved_tokens=reserved)
    got = Vocab.from_counts(collections.Counter(tokens), min_freq=min_freq, reserved_tokens=reserved)
    assert got.idx_to_token == expected.idx_to_token
    assert got.token_to_idx == expected.token_to_idx
    assert got.token_freqs == expected.token_freqs
    assert got[tokens] == expected[tokens]


@pytest.mark.parametrize("val_fraction", [0.05, 0.1, 0.33, 0.5])
def test_num_train_tokens_is_where_load_lm_corpus_cuts(tmp_path, val_fraction):
    from rnntui.config import DataConfig
    from rnntui.data.corpus import load_lm_corpus

    path = _write(tmp_path, "the time machine by h g wells " * 40)
    corpus = load_lm_corpus(DataConfig(corpus=path, batch_size=2, num_steps=3, val_fraction=val_fraction))
    assert len(corpus.train_ids) == num_train_tokens(len(corpus.tokens), val_fraction)


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet="ab Z.\n\t ,!ΣσİΑ\u00a0\u2003x1", max_size=80), chunk=st.integers(1, 9),
       mode=st.sampled_from(["d2l", "lower"]))
def test_chunked_preprocessing_equals_the_trainings(text, chunk, mode):
    pieces = prepared_pieces(text, mode, chunk)
    assert "".join(pieces).strip() == preprocess(text, mode)
    assert [w for p in pieces for w in p.split()] == preprocess(text, mode).split()


# --- the report against a hand count ---------------------------------------------------------------------


texts = st.text(alphabet=st.sampled_from(list("aab bc.\nD\tée!Σ1 ")), min_size=1, max_size=120)


@FAST
@given(text=texts, token=st.sampled_from(["char", "word"]), mode=st.sampled_from(["d2l", "lower", "none"]),
       min_freq=st.integers(0, 4), reserved=st.sampled_from([(), ("<pad>",), ("<pad>", "<bos>", "a")]),
       part=st.sampled_from(["all", "train"]), val_fraction=st.sampled_from([0.1, 0.3]),
       max_tokens=st.sampled_from([0, 7]))
def test_report_figures_equal_a_hand_count(tmp_path_factory, text, token, mode, min_freq, reserved, part,
                                           val_fraction, max_tokens):
    s = Settings(token=token, preprocess=mode, min_freq=min_freq, reserved=reserved, part=part,
                 val_fraction=val_fraction, max_tokens=max_tokens)
    tokens = _oracle_tokens(text, s)
    inspector = VocabInspector(_write(tmp_path_factory.mktemp("t"), text))
    if not text.strip() or not tokens:  # a blank file is empty; one with no letters has no tokens after d2l
        with pytest.raises(DataError, match="is empty" if not text.strip() else "no tokens"):
            inspector.compute(s)
        return
    r = inspector.compute(s, top=5)
    train_stop = num_train_tokens(len(tokens), val_fraction)
    counted = tokens if part == "all" else tokens[:train_stop]
    held = tokens[train_stop:]
    vocab = Vocab(counted, min_freq=min_freq, reserved_tokens=reserved)
    train_vocab = Vocab(tokens[:train_stop], min_freq=min_freq, reserved_tokens=reserved)
    counts = collections.Counter(counted)

    assert r.num_tokens == len(counted) and r.num_distinct == len(counts)
    assert r.itos == vocab.idx_to_token and r.vocab_size == len(vocab)
    folded = [t for t in counts if t not in vocab]
    assert r.num_folded == len(folded) and r.folded_count == sum(counts[t] for t in folded)
    per_index = collections.Counter(vocab[counted])
    assert [row.count for row in r.rows] == [per_index[i] for i in range(len(vocab))]
    assert [row.token for row in r.rows] == vocab.idx_to_token
    assert sum(row.count for row in r.rows) == len(counted)
    assert r.rows[-1].cumulative == pytest.approx(1.0)
    assert all(row.share == pytest.approx(row.count / len(counted)) for row in r.rows)
    assert r.heldout_tokens == len(held)
    assert r.heldout_unk == sum(1 for i in train_vocab[held] if i == 0)
    assert r.unk_rate == (pytest.approx(r.heldout_unk / len(held)) if held else None)
    for n in (1, 2, 3):
        assert list(r.ngrams[n]) == ngram_freqs(counted, n)[:5]
        assert r.num_ngrams[n] == len(ngram_freqs(counted, n))
    assert r.sequence() == vocab.to_tokens(vocab[counted])
    assert r.unit == ("characters" if token == "char" else "words")
    assert ("whole text" if part == "all" else "training part") in r.label


def test_zipf_fit_is_least_squares_over_the_stated_ranks(tmp_path):
    # a text whose word of rank i occurs round(2000 / i) times: Zipf's law with exponent -1, exactly in shape
    rng = random.Random(0)
    words = [f"w{chr(97 + i % 26)}{chr(97 + i // 26)}" for i in range(300)]
    bag = [w for i, w in enumerate(words, 1) for _ in range(round(2000 / i))]
    rng.shuffle(bag)
    r = VocabInspector(_write(tmp_path, " ".join(bag))).compute(Settings(token="word"))
    z = r.zipf[1]
    freqs = np.array([c for _, c in ngram_freqs(bag, 1)], float)
    hi = int((freqs >= 2).sum())  # the last rank counted at least twice
    assert (z.rank_lo, z.rank_hi, z.num_distinct) == (10, hi, 300)
    slope, intercept = np.polyfit(np.log(np.arange(10, hi + 1)), np.log(freqs[9:hi]), 1)
    assert z.exponent == pytest.approx(slope) and z.intercept == pytest.approx(intercept)
    assert z.exponent == pytest.approx(-1.0, abs=0.03)
    # the chart series: log-spaced ranks, first and last included, frequencies read off the ranking
    assert z.ranks[0] == 1 and z.ranks[-1] == 300 and list(z.ranks) == sorted(set(z.ranks))
    assert all(f == freqs[rank - 1] for rank, f in zip(z.ranks, z.freqs))
    assert len(z.ranks) <= 66


def test_zipf_with_few_ngrams_fits_every_rank(tmp_path):
    r = VocabInspector(_write(tmp_path, "a a a a b b c")).compute(Settings(token="word"))
    z = r.zipf[1]
    assert (z.rank_lo, z.rank_hi) == (1, 3) and "all ranks" in z.rule
    assert z.exponent == pytest.approx(np.polyfit(np.log([1, 2, 3]), np.log([4, 2, 1]), 1)[0])
    one = VocabInspector(_write(tmp_path, "a a", "one.txt")).compute(Settings(token="word"))
    assert one.zipf[1].exponent is None and one.zipf[2].num_distinct == 1


@pytest.mark.parametrize("n", [1, 2, 3])
def test_ngram_counts_agree_when_codes_would_overflow(n):
    # more than ~1.6 million distinct tokens: an n-gram no longer fits one int64 code, rows of ids are counted
    from rnntui.inspect.vocab import _count_ngrams

    ids = np.random.default_rng(n).integers(0, 6, 500).astype(np.int32)
    oracle = ngram_freqs(ids.tolist(), n)  # ids sort as the tokens they stand for
    codes, counts = _count_ngrams(ids, None, n, 6)
    decoded = [tuple(int(c) // 6 ** (n - 1 - k) % 6 for k in range(n)) for c in codes]
    assert list(zip(decoded, counts.tolist())) == oracle
    rows, counts = _count_ngrams(ids, None, n, {1: 2**62, 2: 2**31, 3: 2**21}[n])  # V**n >= 2**62
    assert rows.shape == (len(oracle), n)
    assert [(tuple(r.tolist()), int(c)) for r, c in zip(rows, counts)] == oracle


# --- the table, find, keyword in context, tokenize this ---------------------------------------------------


def test_display_forms_make_invisible_characters_visible():
    assert display(" ") == "␣" and display("\n") == "⏎" and display("\t") == "⇥" and display("\r") == "␍"
    assert display("\x00") == "␀" and display("\x1b") == "␛" and display("\u2003") == "⟨U+2003⟩"
    assert display("word") == "word" and display("a b") == "a␣b"


def test_find_exact_display_folded_prefix_and_nothing(tmp_path):
    text = "the time traveller\tthe time machine\nthe end; a zebra"
    inspector = VocabInspector(_write(tmp_path, text))
    chars = inspector.compute(Settings(preprocess="none"))
    assert chars.find("\t").match == "exact" and chars.find("⇥").row.token == "\t"
    assert chars.find("⏎").row.token == "\n" and chars.find("⏎").count_in_text == 1
    words = inspector.compute(Settings(token="word", min_freq=2))
    assert words.find("time").match == "exact" and words.find("time").row.count == 2
    folded = words.find("zebra")
    assert folded.match == "folded" and folded.row.index == 0 and folded.count_in_text == 1
    prefix = words.find("ti")
    assert prefix.match == "prefix" and prefix.row.token == "time"
    assert words.find("qq") is None and words.find("") is None


def test_contexts_are_the_text_around_each_occurrence(tmp_path):
    text = " ".join(f"w{i} cat" if i % 5 == 0 else f"w{i}" for i in range(60))
    r = VocabInspector(_write(tmp_path, text)).compute(Settings(token="word", preprocess="none"))
    words = text.split()
    kwic = r.contexts("cat", limit=4, width=2)
    assert kwic.count == 12 and len(kwic.contexts) == 4
    positions = [p for p, w in enumerate(words) if w == "cat"]
    assert [c.position for c in kwic.contexts] == [positions[0], positions[4], positions[7], positions[11]]
    for c in kwic.contexts:
        assert c.token == "cat"
        assert c.left == " ".join(words[max(0, c.position - 2):c.position])
        assert c.right == " ".join(words[c.position + 1:c.position + 3])
    chars = VocabInspector(_write(tmp_path, "abcabcXabc", "c.txt")).compute(Settings(preprocess="none", min_freq=2))
    unk = chars.contexts(UNK, width=3)  # X occurs once: folded into <unk>
    assert unk.count == 1 and unk.contexts[0].token == "X" and (unk.contexts[0].left, unk.contexts[0].right) == ("abc", "abc")
    assert chars.contexts("nope").count == 0


def test_tokenize_this_cuts_as_the_settings_do(tmp_path):
    inspector = VocabInspector(_write(tmp_path, "the time machine by h g wells " * 3))
    words = inspector.compute(Settings(token="word"))
    line = words.tokenize("The Time-Machine, by H.G. Orwell!")
    assert line.prepared == "the time machine by h g orwell"
    vocab = Vocab.from_itos(words.itos)
    assert [p.token for p in line.pieces] == line.prepared.split()
    assert [p.index for p in line.pieces] == vocab[line.prepared.split()]
    assert [p.unk for p in line.pieces] == [t == "orwell" for t in line.prepared.split()]
    assert line.decoded == "the time machine by h g <unk>" and line.num_unk == 1 and not line.lossless
    chars = inspector.compute(Settings(preprocess="none"))
    line = chars.tokenize("Tim e")
    assert [p.display for p in line.pieces] == ["T", "i", "m", "␣", "e"] and line.pieces[0].unk
    assert chars.tokenize("time").lossless


# --- layered caching, large files, progress and cancellation ----------------------------------------------


def test_min_freq_and_reserved_changes_touch_no_text(tmp_path):
    inspector = VocabInspector(_write(tmp_path, "the quick brown fox jumps over the lazy dog " * 50))
    first = inspector.compute(Settings())
    assert {"read", "tokenize", "ngrams", "vocab"} <= set(first.timings)
    again = inspector.compute(Settings(min_freq=60, reserved=("<pad>",)))
    assert "tokenize" not in again.timings and "ngrams" not in again.timings and "vocab" in again.timings
    assert again.itos[:2] == [UNK, "<pad>"] and again.num_folded > 0
    words = inspector.compute(Settings(token="word"))
    assert "tokenize" in words.timings
    back = inspector.compute(Settings())
    assert "tokenize" not in back.timings and back.rows == first.rows


def test_progress_runs_to_the_end_and_should_stop_cancels(tmp_path):
    text = "".join(f"word{i % 997} and some text, line {i}\n" for i in range(60_000))  # ~2 MB
    path = _write(tmp_path, text)
    seen = []
    r = VocabInspector(path).compute(Settings(token="word"), progress=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (1000, 1000) and all(b[0] >= a[0] for a, b in itertools.pairwise(seen)) and len(seen) > 8
    assert r.num_tokens == len(preprocess(text).split())
    inspector = VocabInspector(path)
    calls = []
    with pytest.raises(Cancelled):
        inspector.compute(Settings(token="word"), progress=lambda d, t: calls.append(d),
                          should_stop=lambda: len(calls) >= 3)
    again = inspector.compute(Settings(token="word"))  # nothing half-done was kept
    assert again.rows == r.rows


def test_two_threads_get_their_own_answers(tmp_path):
    inspector = VocabInspector(_write(tmp_path, "abc abd abe " * 500))
    results = {}

    def work(name, s):
        results[name] = inspector.compute(s)

    threads = [threading.Thread(target=work, args=(f"m{m}", Settings(token="word", min_freq=m))) for m in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for m in range(4):
        assert results[f"m{m}"].settings.min_freq == m and results[f"m{m}"].vocab_size == 4


# --- sources and bad input ----------------------------------------------------------------------------------


def test_bad_files_and_settings_are_one_line_errors(tmp_path):
    (tmp_path / "empty.txt").write_text(" \n", encoding="utf-8")
    (tmp_path / "bin.txt").write_bytes(b"abc\x00def")
    (tmp_path / "latin1.txt").write_bytes("café".encode("latin-1"))
    for name, fragment in [("empty.txt", "is empty"), ("bin.txt", "binary"), ("latin1.txt", "not valid UTF-8"),
                           ("missing.txt", "not found")]:
        with pytest.raises(DataError, match=fragment) as info:
            VocabInspector(str(tmp_path / name)).compute()
        assert "\n" not in str(info.value)
    with pytest.raises(DataError, match="no tokens"):
        VocabInspector(_write(tmp_path, "1234 5678")).compute(Settings())
    for bad, fragment in [({"token": "byte"}, "token"), ({"min_freq": -1}, "min_freq"), ({"part": "val"}, "part"),
                          ({"preprocess": "upper"}, "preprocess"), ({"reserved": ("",)}, "reserved"),
                          ({"val_fraction": 0.95}, "val_fraction")]:
        with pytest.raises(ConfigError, match=fragment):
            Settings(**bad)
    with pytest.raises(DataError, match="run folder not found"):
        VocabInspector(Source.run(tmp_path / "nope")).compute()
    with pytest.raises(DataError, match="no config.toml"):
        VocabInspector(Source.run(tmp_path)).compute()


def test_builtin_corpus_is_labelled(tmp_path):
    r = VocabInspector("pydoc").compute(Settings(token="word"), top=3)
    from rnntui.data.corpus import builtin_text

    assert "Python documentation" in r.label and len(r.ngrams[3]) == 3
    assert r.num_tokens == len(preprocess(builtin_text()).split())


@pytest.fixture(scope="module")
def lm_run(tmp_path_factory):
    from rnntui.training.experiment import train

    out = tmp_path_factory.mktemp("lm") / "run"
    config = tiny_config(data={"min_freq": 40, "max_tokens": 8000}, train={"epochs": 1})
    train(config, out)
    return out, config


def test_a_runs_vocabulary_is_its_checkpoints(lm_run):
    from rnntui.data.corpus import load_lm_corpus
    from rnntui.training.checkpoint import load_checkpoint

    out, config = lm_run
    inspector = VocabInspector(Source.run(out))
    own = inspector.defaults()
    assert (own.token, own.preprocess, own.min_freq, own.part, own.max_tokens) == ("char", "d2l", 40, "train", 8000)
    report = inspector.compute()
    checkpoint = load_checkpoint(out / "checkpoint.pt")
    assert report.itos == checkpoint.vocab.idx_to_token and report.matches_run
    assert report.num_folded > 0  # min_freq 40 folds some characters: the comparison has teeth
    corpus = load_lm_corpus(config.data)
    assert report.sequence() == checkpoint.vocab.to_tokens(corpus.train_ids.tolist())
    # away from the run's settings and back: the counts path builds the same vocabulary
    other = inspector.compute(own.replace(min_freq=2))
    assert not other.matches_run and other.vocab_size > report.vocab_size
    from_counts = VocabInspector(Source.corpus(config.data.corpus)).compute(own)
    assert from_counts.itos == checkpoint.vocab.idx_to_token and from_counts.matches_run is None
    whole = inspector.compute(own.replace(part="all"))
    assert not whole.matches_run and whole.num_tokens == 8000
    assert report.label.startswith(f"run {out.name}: Python documentation")


@pytest.mark.slow  # fresh interpreters importing torch
def test_vocab_and_batches_cli_read_a_run(lm_run, tmp_path):
    from rnntui.training.checkpoint import load_checkpoint
    from rnntui.training.experiment import prepare

    out, config = lm_run
    checkpoint = load_checkpoint(out / "checkpoint.pt")
    result = run_cli(tmp_path, "vocab", "--run", str(out), "--top", "1000", "--json")
    assert result.returncode == 0, result.stderr
    got = json.loads(result.stdout)
    assert [row[1] for row in got["vocab"]] == checkpoint.vocab.idx_to_token and got["matches_run"] is True
    assert got["part"] == "train" and got["settings"]["min_freq"] == 40
    result = run_cli(tmp_path, "batches", "--run", str(out), "--max-batches", "2", "--json")
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    experiment = prepare(config)
    batches = experiment.task.epoch_batches(experiment.trainer.generator)  # the run's first epoch
    assert (plan["batch_size"], plan["num_steps"], plan["num_batches"]) == (8, 10, len(batches))
    for b, (X, _) in zip(plan["batches"], batches):
        assert b["X"] == ["".join(checkpoint.vocab.to_tokens(row)) for row in X.tolist()]


PAIRS = "\n".join(f"{en}\t{fr}" for en, fr in [
    ("Go.", "Va !"), ("Hi.", "Salut !"), ("Run!", "Cours !"), ("Go.", "Bouge !"), ("I lost.", "J'ai perdu."),
    ("Hi.", "Salut."), ("Run!", "Courez !"), ("Help!", "À l'aide !"), ("I won.", "J'ai gagné."),
] * 4) + "\nWow!\tÇa alors !\nFire!\tAu feu !\nI ran.\tJ'ai couru.\n"


def test_a_translation_runs_sides_are_its_checkpoints(tmp_path):
    from rnntui.config import ExperimentConfig
    from rnntui.data.translation import RESERVED, load_pairs
    from rnntui.training.checkpoint import load_checkpoint
    from rnntui.training.experiment import train

    pairs = _write(tmp_path, PAIRS, "pairs.tsv")
    config = ExperimentConfig(name="s2s", task="seq2seq").replace(
        pairs={"source": pairs, "num_examples": 30, "num_steps": 6, "batch_size": 8, "min_freq": 2, "val_examples": 4},
        model={"kind": "gru", "embed_size": 4, "num_hiddens": 8}, train={"epochs": 1, "device": "cpu"},
        sample={"sentences": ("go .",)})
    train(config, tmp_path / "run")
    checkpoint = load_checkpoint(tmp_path / "run" / "checkpoint.pt")
    data = load_pairs(config.pairs)
    for side, key, k in (("source", "src", 0), ("target", "tgt", 1)):
        inspector = VocabInspector(Source.run(tmp_path / "run", side))
        own = inspector.defaults()
        assert (own.token, own.preprocess, own.reserved, own.min_freq) == ("word", "nmt", tuple(RESERVED), 2)
        r = inspector.compute()
        assert r.itos == checkpoint.vocabs[key].idx_to_token and r.matches_run
        assert r.itos[1:4] == RESERVED
        sentences = [p[k] for p in data.train_pairs]
        assert r.num_tokens == sum(map(len, sentences))
        # n-grams stay inside a sentence
        bigrams = collections.Counter(g for s in sentences for g in itertools.pairwise(s))
        assert dict(r.ngrams[2]) == {g: c for g, c in sorted(bigrams.items(), key=lambda kv: (-kv[1], kv[0]))[:10]}
        held = [t for p in data.val_pairs for t in p[k]]
        vocab = checkpoint.vocabs[key]
        assert r.heldout_tokens == len(held) > 0
        assert r.heldout_unk == sum(1 for t in held if vocab[t] == 0)
        assert r.contexts(sentences[0][0]).contexts[0].left == ""  # a sentence's context starts at the sentence
        with pytest.raises(ConfigError, match="nmt"):
            inspector.compute(own.replace(preprocess="d2l"))
        chars = inspector.compute(own.replace(token="char"))
        assert chars.num_tokens == sum(len(" ".join(s)) for s in sentences) and not chars.matches_run


def test_prepare_nmt_is_the_pairs_preprocessing():
    from rnntui.data.translation import preprocess as nmt
    from rnntui.data.translation import tokenize as nmt_tokenize

    line = "Go.\u202fHi!  I'm   home,ok?"
    assert prepare_text(line, "nmt") == "go . hi ! i'm home ,ok ?"  # d2l puts a space before , . ! ? only
    assert prepare_text(line, "nmt").split() == nmt_tokenize(nmt(line))


# --- the book's figures (acceptance) -------------------------------------------------------------------------

# d2l.ai, 9.2 "Converting Raw Text into Sequence Data", 9.2.5 "Exploratory Language Statistics" (word tokens of
# text.split() after _preprocess: re.sub('[^A-Za-z]+', ' ', text).lower()), printed by vocab.token_freqs[:10];
# the same lists, as tuples, in the classic edition's 8.3 "Language Models and the Dataset" (8.3.2 "Natural
# Language Statistics"). Unigrams read from the book's own executed notebook (d2l-ai/d2l-pytorch-slides,
# chapter_recurrent-neural-networks/text-sequence.ipynb); bigrams and trigrams from copies of the printed
# output (the book's source, d2l-en text-sequence.md, holds the code but not the output).
BOOK_UNIGRAMS = [("the", 2261), ("i", 1267), ("and", 1245), ("of", 1155), ("a", 816), ("to", 695), ("was", 552),
                 ("in", 541), ("that", 443), ("my", 440)]
BOOK_BIGRAMS = [("of--the", 309), ("in--the", 169), ("i--had", 130), ("i--was", 112), ("and--the", 109),
                ("the--time", 102), ("it--was", 99), ("to--the", 85), ("as--i", 78), ("of--a", 73)]
BOOK_TRIGRAMS = [("the--time--traveller", 59), ("the--time--machine", 30), ("the--medical--man", 24),
                 ("it--seemed--to", 16), ("it--was--a", 15), ("here--and--there", 15), ("seemed--to--me", 14),
                 ("i--did--not", 14), ("i--saw--the", 13), ("i--began--to", 13)]


@needs_shared_data
def test_the_time_machine_as_the_book_prints_it(data_dir):
    r = VocabInspector("timemachine", data_dir).compute(Settings(token="word", preprocess="d2l", part="all"))
    for n, book in ((1, BOOK_UNIGRAMS), (2, BOOK_BIGRAMS), (3, BOOK_TRIGRAMS)):
        got = [("--".join(gram), count) for gram, count in r.ngrams[n]]
        # the book sorts ties by first occurrence (a stable sort of a Counter), rnntui by token: the same
        # ten entries and counts, and the counts in the same order
        assert dict(got) == dict(book)
        assert [c for _, c in got] == [c for _, c in book]
    z1, z2, z3 = (r.zipf[n].exponent for n in (1, 2, 3))
    assert z1 == pytest.approx(-1.0, abs=0.06)
    assert z1 < z2 < z3 < 0  # "albeit with a smaller exponent" for bigrams and trigrams
    assert (r.num_tokens, r.num_distinct) == (32775, 4579)


@needs_shared_data
def test_the_cli_twin_prints_the_books_lists(tmp_path):
    result = run_cli(tmp_path, "vocab", "--corpus", "timemachine", "--token", "word", "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["num_tokens"] == 32775 and out["vocab_size"] == 4580
    assert {t: c for t, c in out["tokens"]} == dict(BOOK_UNIGRAMS)
    assert {"--".join(g): c for g, c in out["ngrams"]["2"]} == dict(BOOK_BIGRAMS)
    assert {"--".join(g): c for g, c in out["ngrams"]["3"]} == dict(BOOK_TRIGRAMS)
    assert all(out["zipf"][n] < 0 for n in ("1", "2", "3")) and math.isclose(out["zipf"]["1"], -1.0, abs_tol=0.06)


# --- the command -----------------------------------------------------------------------------------------


def _run_many(tmp_path, *commands: list[str]) -> list[subprocess.CompletedProcess]:
    """Several ``python -m rnntui`` at once (each pays for importing torch)."""
    procs = [subprocess.Popen([sys.executable, "-m", "rnntui", *args], cwd=tmp_path, env=cli_env(tmp_path),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for args in commands]
    results = []
    for args, proc in zip(commands, procs):
        out, err = proc.communicate(timeout=180)
        results.append(subprocess.CompletedProcess(args, proc.returncode, out, err))
    return results


@pytest.mark.slow  # fresh interpreters importing torch
def test_vocab_cli_json_text_and_errors(tmp_path):
    text = "ab ab ab cd cd ef\nab cd ef gh " * 3
    path = _write(tmp_path, text)
    result, text_out, missing, bad = _run_many(
        tmp_path,
        ["vocab", "--corpus", path, "--token", "word", "--min-freq", "4", "--reserved", "<pad>", "--top", "3",
         "--find", "e", "--tokenize", "ab zz", "--json"],
        ["vocab", "--corpus", path, "--top", "4"],
        ["vocab", "--corpus", str(tmp_path / "nope.txt")],
        ["vocab", "--corpus", path, "--min-freq", "-1"])
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    tokens = preprocess(text).split()
    assert out["num_tokens"] == len(tokens)
    assert out["vocab_size"] == len(Vocab(tokens, min_freq=4, reserved_tokens=["<pad>"]))
    assert out["tokens"] == [[t, c] for (t,), c in ngram_freqs(tokens, 1)[:3]]
    assert out["ngrams"]["2"] == [[list(g), c] for g, c in ngram_freqs(tokens, 2)[:3]]
    assert set(out["zipf"]) == {"1", "2", "3"}
    assert out["find"]["match"] == "prefix" and out["find"]["token"] == "ef"
    assert [p[0] for p in out["tokenize"]["pieces"]] == ["ab", "zz"] and out["tokenize"]["pieces"][1][2] is True
    assert text_out.returncode == 0 and "most frequent n-grams" in text_out.stdout and "␣" in text_out.stdout
    assert "Zipf" in text_out.stdout and "held out" in text_out.stdout
    assert missing.returncode == 1 and "not found" in missing.stderr and len(missing.stderr.strip().splitlines()) == 1
    assert bad.returncode == 2 and "min_freq" in bad.stderr
