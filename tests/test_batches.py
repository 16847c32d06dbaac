"""Property tests for rnntui.data.batches: sequential partitioning and random sampling.

The corpus is ``torch.arange(L)``, so a token is its own position: Y == X + 1 means "shifted by one"
and X[r, 0] says where a window starts.
"""

from __future__ import annotations

import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from rnntui.data.batches import lm_batches, num_sequential_batches, seq_data_iter_random, seq_data_iter_sequential

FAST = settings(max_examples=150, deadline=None)

lengths = st.integers(min_value=1, max_value=400)
batch_sizes = st.integers(min_value=1, max_value=8)
num_steps_ = st.integers(min_value=1, max_value=12)
seeds = st.integers(min_value=0, max_value=2**31 - 1)


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@FAST
@given(length=lengths, batch_size=batch_sizes, num_steps=num_steps_, seed=seeds)
def test_sequential_shapes_shift_and_continuity(length, batch_size, num_steps, seed):
    assume(length >= num_steps)
    corpus = torch.arange(length)
    batches = list(seq_data_iter_sequential(corpus, batch_size, num_steps, _gen(seed)))
    for X, Y in batches:
        assert X.shape == Y.shape == (batch_size, num_steps)
        assert torch.equal(X + 1, Y)
        assert int(Y.max()) < length
        # each row is a contiguous run of the corpus
        assert torch.equal(X - X[:, :1], torch.arange(num_steps).expand(batch_size, -1))
    for (X0, _), (X1, _) in zip(batches, batches[1:]):
        assert torch.equal(X1[:, 0], X0[:, -1] + 1)  # row r of batch i+1 continues row r of batch i
    if batches:
        offset = int(batches[0][0][0, 0])
        assert 0 <= offset < num_steps
        assert len(batches) == num_sequential_batches(length, batch_size, num_steps, offset)
        # rows are consecutive, equally long parts of the corpus
        row_len = (length - offset - 1) // batch_size
        assert torch.equal(batches[0][0][:, 0], offset + row_len * torch.arange(batch_size))


@FAST
@given(length=lengths, batch_size=batch_sizes, num_steps=num_steps_, offset=st.integers(0, 11))
def test_sequential_explicit_offset_uses_everything_it_can(length, batch_size, num_steps, offset):
    assume(offset < num_steps <= length)
    corpus = torch.arange(length)
    batches = list(seq_data_iter_sequential(corpus, batch_size, num_steps, offset=offset))
    expected = ((length - offset - 1) // batch_size) // num_steps
    assert len(batches) == expected == num_sequential_batches(length, batch_size, num_steps, offset)
    if batches:
        assert int(batches[0][0][0, 0]) == offset
        covered = torch.cat([X.reshape(-1) for X, _ in batches])
        assert len(set(covered.tolist())) == covered.numel() == expected * batch_size * num_steps


@FAST
@given(length=lengths, batch_size=batch_sizes, num_steps=num_steps_, seed=seeds)
def test_random_shapes_shift_and_disjoint_windows(length, batch_size, num_steps, seed):
    assume(length >= num_steps)
    corpus = torch.arange(length)
    batches = list(seq_data_iter_random(corpus, batch_size, num_steps, _gen(seed)))
    starts = []
    for X, Y in batches:
        assert X.shape == Y.shape == (batch_size, num_steps)
        assert torch.equal(X + 1, Y)
        assert int(Y.max()) < length
        assert torch.equal(X - X[:, :1], torch.arange(num_steps).expand(batch_size, -1))
        starts += X[:, 0].tolist()
    assert len(set(starts)) == len(starts), "a window appears twice in one epoch"
    ordered = sorted(starts)
    assert all(b - a >= num_steps for a, b in zip(ordered, ordered[1:])), "windows overlap"
    if starts:
        offset = ordered[0] % num_steps
        assert {s % num_steps for s in starts} == {offset}
        num_windows = (length - offset - 1) // num_steps
        assert len(batches) == num_windows // batch_size


@FAST
@given(length=st.integers(50, 400), batch_size=batch_sizes, num_steps=num_steps_, seed=seeds)
def test_same_seed_same_batches(length, batch_size, num_steps, seed):
    corpus = torch.arange(length)
    for sampling in ("sequential", "random"):
        a = list(lm_batches(corpus, batch_size, num_steps, sampling, _gen(seed)))
        b = list(lm_batches(corpus, batch_size, num_steps, sampling, _gen(seed)))
        assert len(a) == len(b)
        for (Xa, Ya), (Xb, Yb) in zip(a, b):
            assert torch.equal(Xa, Xb) and torch.equal(Ya, Yb)


def test_random_sampling_shuffles():
    corpus = torch.arange(1000)
    orders = {tuple(X[:, 0].tolist()) for seed in range(5)
              for X, _ in [next(seq_data_iter_random(corpus, 4, 5, _gen(seed)))]}
    assert len(orders) > 1
    X, _ = next(seq_data_iter_random(corpus, 16, 5, _gen(0)))
    assert X[:, 0].tolist() != sorted(X[:, 0].tolist())


def test_unknown_sampling():
    with pytest.raises(ValueError):
        lm_batches(torch.arange(100), 2, 5, "shuffled")
