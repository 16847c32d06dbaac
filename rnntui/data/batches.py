"""Minibatches for language models: d2l's random sampling and sequential partitioning.

Both yield ``(X, Y)`` pairs of shape (batch_size, num_steps) where ``Y`` is ``X`` shifted by one token.
In sequential partitioning row r of batch i+1 continues row r of batch i, so the hidden state can be
carried (and detached) from one batch to the next: truncated backpropagation through time.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch

Batch = tuple[torch.Tensor, torch.Tensor]


def _offset(num_steps: int, generator: torch.Generator | None) -> int:
    return int(torch.randint(0, num_steps, (1,), generator=generator))


def num_sequential_batches(length: int, batch_size: int, num_steps: int, offset: int = 0) -> int:
    return ((length - offset - 1) // batch_size) // num_steps


def seq_data_iter_sequential(
    corpus: torch.Tensor,
    batch_size: int,
    num_steps: int,
    generator: torch.Generator | None = None,
    offset: int | None = None,
) -> Iterator[Batch]:
    """Split the corpus into ``batch_size`` contiguous rows (after a random offset) and walk them."""
    if offset is None:
        offset = _offset(num_steps, generator)
    num_tokens = ((len(corpus) - offset - 1) // batch_size) * batch_size
    Xs = corpus[offset : offset + num_tokens].view(batch_size, -1)
    Ys = corpus[offset + 1 : offset + 1 + num_tokens].view(batch_size, -1)
    for i in range(0, (Xs.shape[1] // num_steps) * num_steps, num_steps):
        yield Xs[:, i : i + num_steps], Ys[:, i : i + num_steps]


def seq_data_iter_random(
    corpus: torch.Tensor,
    batch_size: int,
    num_steps: int,
    generator: torch.Generator | None = None,
) -> Iterator[Batch]:
    """Cut the corpus (after a random offset) into windows of ``num_steps`` and batch them shuffled."""
    corpus = corpus[_offset(num_steps, generator) :]
    num_subseqs = (len(corpus) - 1) // num_steps
    starts = torch.arange(0, num_subseqs * num_steps, num_steps)
    starts = starts[torch.randperm(num_subseqs, generator=generator)]
    steps = torch.arange(num_steps)
    for i in range(0, (num_subseqs // batch_size) * batch_size, batch_size):
        index = starts[i : i + batch_size, None] + steps  # (batch, steps)
        yield corpus[index], corpus[index + 1]


def lm_batches(
    corpus: torch.Tensor, batch_size: int, num_steps: int, sampling: str, generator: torch.Generator | None = None
) -> Iterator[Batch]:
    if sampling == "sequential":
        return seq_data_iter_sequential(corpus, batch_size, num_steps, generator)
    if sampling == "random":
        return seq_data_iter_random(corpus, batch_size, num_steps, generator)
    raise ValueError(f"unknown sampling {sampling!r}")
