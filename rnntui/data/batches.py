"""Minibatches for language models: d2l's random sampling and sequential partitioning.

Both yield ``(X, Y)`` pairs of shape (batch_size, num_steps) where ``Y`` is ``X`` shifted by one token.
In sequential partitioning row r of batch i+1 continues row r of batch i, so the hidden state can be
carried (and detached) from one batch to the next: truncated backpropagation through time.

Where each window starts is decided by one function, :func:`batch_starts`; the iterators that training
uses and the minibatch plan that the inspector shows (``rnntui.inspect.batches``) both read it, so the
plan is what training sees.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch

Batch = tuple[torch.Tensor, torch.Tensor]


def _offset(num_steps: int, generator: torch.Generator | None) -> int:
    return int(torch.randint(0, num_steps, (1,), generator=generator))


def num_sequential_batches(length: int, batch_size: int, num_steps: int, offset: int = 0) -> int:
    return ((length - offset - 1) // batch_size) // num_steps


def sequential_starts(
    length: int, batch_size: int, num_steps: int, generator: torch.Generator | None = None,
    offset: int | None = None,
) -> torch.Tensor:
    """Start offsets (num_batches, batch_size) of the X windows of sequential partitioning.

    After a random offset in [0, num_steps) (drawn from ``generator`` unless given), the corpus is cut into
    ``batch_size`` contiguous rows of equal length; batch i takes columns i*num_steps.. of every row."""
    if offset is None:
        offset = _offset(num_steps, generator)
    row_len = max(0, (length - offset - 1) // batch_size)  # tokens per row
    rows = offset + row_len * torch.arange(batch_size)  # (batch,)
    columns = torch.arange(0, (row_len // num_steps) * num_steps, num_steps)  # (num_batches,)
    return columns[:, None] + rows[None, :]  # (num_batches, batch)


def random_starts(length: int, batch_size: int, num_steps: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """Start offsets (num_batches, batch_size) of the X windows of random sampling.

    After a random offset in [0, num_steps), the corpus is cut into windows of ``num_steps`` that are
    shuffled (one permutation from ``generator``) and dealt ``batch_size`` to a batch."""
    offset = _offset(num_steps, generator)
    num_subseqs = (length - offset - 1) // num_steps
    starts = torch.arange(0, num_subseqs * num_steps, num_steps)
    starts = starts[torch.randperm(num_subseqs, generator=generator)]
    num_batches = num_subseqs // batch_size
    return offset + starts[: num_batches * batch_size].reshape(num_batches, batch_size)


def batch_starts(
    length: int, batch_size: int, num_steps: int, sampling: str, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Start offsets (num_batches, batch_size) of one epoch's X windows over a corpus of ``length`` tokens,
    drawing from ``generator`` exactly as training does (Y windows start one token later)."""
    if sampling == "sequential":
        return sequential_starts(length, batch_size, num_steps, generator)
    if sampling == "random":
        return random_starts(length, batch_size, num_steps, generator)
    raise ValueError(f"unknown sampling {sampling!r}")


def _windows(corpus: torch.Tensor, starts: torch.Tensor, num_steps: int) -> Iterator[Batch]:
    steps = torch.arange(num_steps)
    for row_starts in starts:
        index = (row_starts[:, None] + steps).to(corpus.device)  # (batch, steps)
        yield corpus[index], corpus[index + 1]


def seq_data_iter_sequential(
    corpus: torch.Tensor,
    batch_size: int,
    num_steps: int,
    generator: torch.Generator | None = None,
    offset: int | None = None,
) -> Iterator[Batch]:
    """Split the corpus into ``batch_size`` contiguous rows (after a random offset) and walk them."""
    return _windows(corpus, sequential_starts(len(corpus), batch_size, num_steps, generator, offset), num_steps)


def seq_data_iter_random(
    corpus: torch.Tensor,
    batch_size: int,
    num_steps: int,
    generator: torch.Generator | None = None,
) -> Iterator[Batch]:
    """Cut the corpus (after a random offset) into windows of ``num_steps`` and batch them shuffled."""
    return _windows(corpus, random_starts(len(corpus), batch_size, num_steps, generator), num_steps)


def lm_batches(
    corpus: torch.Tensor, batch_size: int, num_steps: int, sampling: str, generator: torch.Generator | None = None
) -> Iterator[Batch]:
    if sampling not in ("sequential", "random"):
        raise ValueError(f"unknown sampling {sampling!r}")
    return _windows(corpus, batch_starts(len(corpus), batch_size, num_steps, sampling, generator), num_steps)
