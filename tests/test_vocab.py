"""Property tests for rnntui.data.vocab: Vocab and ngram_freqs."""

from __future__ import annotations

import collections

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rnntui.data.vocab import UNK, Vocab, ngram_freqs

# A small alphabet so that tokens repeat and frequencies tie.
words = st.text(alphabet="abcde", min_size=1, max_size=3)
token_lists = st.lists(words, max_size=60)
reserved_lists = st.lists(st.sampled_from(["<pad>", "<bos>", "<eos>", "a", UNK]), max_size=4, unique=True)
min_freqs = st.integers(min_value=0, max_value=4)

FAST = settings(max_examples=150, deadline=None)


@FAST
@given(tokens=token_lists, min_freq=min_freqs, reserved=reserved_lists)
def test_round_trip_and_unknowns(tokens, min_freq, reserved):
    vocab = Vocab(tokens, min_freq=min_freq, reserved_tokens=reserved)
    counts = collections.Counter(tokens)
    kept = {t for t, c in counts.items() if c >= min_freq} | set(reserved) | {UNK}
    expected = [t if t in kept else UNK for t in tokens]
    assert vocab.to_tokens(vocab[tokens]) == expected
    # every kept token is in the vocabulary exactly once, nothing else is
    assert set(vocab.idx_to_token) == kept
    assert len(vocab) == len(kept) == len(vocab.idx_to_token)
    for t in tokens:
        assert (t in vocab) == (t in kept)
        if t not in kept:
            assert vocab[t] == vocab.unk == 0


@FAST
@given(tokens=token_lists, min_freq=min_freqs, reserved=reserved_lists)
def test_order_unk_then_reserved_then_by_frequency(tokens, min_freq, reserved):
    vocab = Vocab(tokens, min_freq=min_freq, reserved_tokens=reserved)
    itos = vocab.idx_to_token
    assert itos[0] == UNK and vocab[UNK] == 0
    head = [UNK] + [t for t in reserved if t != UNK]
    assert itos[: len(head)] == head
    counts = collections.Counter(tokens)
    rest = itos[len(head):]
    freqs = [counts[t] for t in rest]
    assert all(f >= max(min_freq, 1) for f in freqs)
    assert freqs == sorted(freqs, reverse=True)
    # ties are broken by the token, so the order is reproducible
    assert rest == sorted(rest, key=lambda t: (-counts[t], t))
    assert [vocab.token_to_idx[t] for t in itos] == list(range(len(itos)))


@FAST
@given(tokens=token_lists, min_freq=min_freqs, reserved=reserved_lists)
def test_from_itos_equals(tokens, min_freq, reserved):
    vocab = Vocab(tokens, min_freq=min_freq, reserved_tokens=reserved)
    again = Vocab.from_itos(vocab.idx_to_token)
    assert again.idx_to_token == vocab.idx_to_token
    assert again.token_to_idx == vocab.token_to_idx
    assert len(again) == len(vocab)
    assert again[tokens] == vocab[tokens]
    assert again.to_tokens(list(range(len(vocab)))) == vocab.to_tokens(list(range(len(vocab))))


@FAST
@given(lines=st.lists(st.lists(words, max_size=8), min_size=1, max_size=6), min_freq=min_freqs)
def test_lines_of_tokens_are_flattened(lines, min_freq):
    flat = [t for line in lines for t in line]
    assert Vocab(lines, min_freq=min_freq).idx_to_token == Vocab(flat, min_freq=min_freq).idx_to_token


def test_indexing_forms():
    vocab = Vocab(list("hello world"))
    ids = vocab[list("hello")]
    assert isinstance(ids, list) and len(ids) == 5
    assert vocab[tuple("hello")] == ids
    assert vocab["l"] == ids[2] == ids[3]
    assert vocab.to_tokens(torch.tensor(ids)) == list("hello")
    assert vocab.to_tokens(ids[0]) == "h"
    assert vocab["€"] == 0
    # 'l' (3 times) and 'o' (twice) come first
    assert vocab.idx_to_token[1:3] == ["l", "o"]


def test_from_itos_rejects_bad_lists():
    with pytest.raises(ValueError):
        Vocab.from_itos([])
    with pytest.raises(ValueError):
        Vocab.from_itos(["a", UNK])
    with pytest.raises(ValueError):
        Vocab.from_itos([UNK, "a", "a"])


def test_repeated_reserved_tokens_appear_once():
    vocab = Vocab(["a", "b"], reserved_tokens=["<pad>", "<pad>"])
    assert vocab.idx_to_token == [UNK, "<pad>", "a", "b"]
    Vocab.from_itos(vocab.idx_to_token)


def _naive_ngrams(tokens, n):
    return collections.Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


@FAST
@given(tokens=st.lists(st.sampled_from(list("abc")), max_size=40), n=st.integers(min_value=1, max_value=3))
def test_ngram_freqs(tokens, n):
    freqs = ngram_freqs(tokens, n)
    assert sum(c for _, c in freqs) == max(len(tokens) - n + 1, 0)
    assert dict(freqs) == dict(_naive_ngrams(tokens, n))
    assert all(len(g) == n for g, _ in freqs)
    counts = [c for _, c in freqs]
    assert counts == sorted(counts, reverse=True)
    assert len({g for g, _ in freqs}) == len(freqs)


def test_ngram_freqs_known_text():
    tokens = "the time the time machine".split()
    assert ngram_freqs(tokens, 1)[:2] == [(("the",), 2), (("time",), 2)]
    assert ngram_freqs(tokens, 2)[0] == (("the", "time"), 2)
    assert sum(c for _, c in ngram_freqs(tokens, 3)) == 3
    with pytest.raises(ValueError):
        ngram_freqs(tokens, 0)
