"""The minibatch plan of a language model: which windows of the token sequence each batch holds.

The start offsets come from ``rnntui.data.batches.batch_starts``, the function ``lm_batches`` (training)
reads, drawing from a generator made as the trainer makes it (``torch.Generator().manual_seed(seed)``),
so the plan of epoch 1 is what training sees in its first epoch. In sequential partitioning row r of batch
i+1 starts where row r of batch i ended (the hidden state can be carried: truncated BPTT); in random
sampling it does not.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from rnntui.data.batches import batch_starts
from rnntui.errors import ConfigError

SAMPLINGS = ("sequential", "random")
# d2l's example of reading long sequences (and the lecture notes' figure): the sequence 0, 1, ..., 34 cut
# into windows of num_steps 5, two rows a batch.
EXAMPLE_LENGTH = 35
EXAMPLE_BATCH_SIZE = 2
EXAMPLE_NUM_STEPS = 5


@dataclass(frozen=True)
class PlanBatch:
    """One batch: ``starts[r]`` is the offset in the token sequence of row r's X window; ``X[r]``, ``Y[r]`` the
    windows as text (Y starts one token later); ``continues[r]``: row r starts where row r of the batch before
    ended (None for the first batch)."""

    index: int
    starts: tuple[int, ...]
    X: tuple[str, ...]
    Y: tuple[str, ...]
    continues: tuple[bool, ...] | None


@dataclass(frozen=True)
class BatchPlan:
    """One epoch's minibatches over ``num_tokens`` tokens. ``offset``: the random offset drawn (every window
    start is offset + a multiple of num_steps in random sampling; row 0 of batch 0 starts there in sequential
    partitioning), None when there is no batch. ``state_carries``: every row of every batch continues the
    same row of the batch before (always in sequential partitioning; in random sampling only by chance).
    ``covered``: tokens that lie in some X window."""

    label: str
    token: str
    sampling: str
    batch_size: int
    num_steps: int
    seed: int
    epoch: int
    num_tokens: int
    offset: int | None
    num_batches: int
    starts: tuple[tuple[int, ...], ...]
    state_carries: bool
    covered: int
    _tokens: Sequence[str] = field(default=(), repr=False, compare=False)

    def _text(self, lo: int) -> str:
        window = self._tokens[lo:lo + self.num_steps]
        return "".join(window) if self.token == "char" else " ".join(window)

    def batch(self, i: int) -> PlanBatch:
        """Batch ``i`` (0-based) with its windows as text."""
        if not 0 <= i < self.num_batches:
            raise ConfigError(f"batch {i} does not exist: the plan has {self.num_batches} batches (0 to "
                              f"{self.num_batches - 1})")
        starts = self.starts[i]
        continues = None if i == 0 else tuple(
            s == p + self.num_steps for s, p in zip(starts, self.starts[i - 1]))
        return PlanBatch(i, starts, tuple(self._text(s) for s in starts), tuple(self._text(s + 1) for s in starts),
                         continues)

    def batches(self, limit: int | None = None) -> tuple[PlanBatch, ...]:
        """The first ``limit`` batches (all when None)."""
        count = self.num_batches if limit is None else max(0, min(limit, self.num_batches))
        return tuple(self.batch(i) for i in range(count))

    def head(self, limit: int) -> tuple[str, ...]:
        """The first ``limit`` tokens of the sequence the plan cuts (what :meth:`owners` colours)."""
        return tuple(self._tokens[:max(0, limit)])

    def owners(self, limit: int) -> tuple[tuple[int, int] | None, ...]:
        """For each of the first ``limit`` tokens, the (batch, row) whose X window holds it, or None (the
        offset before the first window, and the leftovers no batch takes): the strip a view colours."""
        owner: list[tuple[int, int] | None] = [None] * max(0, min(limit, self.num_tokens))
        for b, starts in enumerate(self.starts):
            for r, s in enumerate(starts):
                for p in range(s, min(s + self.num_steps, len(owner))):
                    owner[p] = (b, r)
        return tuple(owner)

    def to_dict(self, max_batches: int | None = None) -> dict[str, Any]:
        """JSON-ready values (``rnntui batches --json``): ``batches`` holds the first ``max_batches``."""
        return {
            "label": self.label, "token": self.token, "sampling": self.sampling, "batch_size": self.batch_size,
            "num_steps": self.num_steps, "seed": self.seed, "epoch": self.epoch, "num_tokens": self.num_tokens,
            "offset": self.offset, "num_batches": self.num_batches, "state_carries": self.state_carries,
            "covered": self.covered,
            "batches": [{"index": b.index, "starts": list(b.starts), "X": list(b.X), "Y": list(b.Y),
                         "continues": None if b.continues is None else list(b.continues)}
                        for b in self.batches(max_batches)],
        }


def check_arguments(sampling: str, batch_size: int, num_steps: int, seed: int, epoch: int) -> None:
    if sampling not in SAMPLINGS:
        raise ConfigError(f"sampling must be one of {', '.join(SAMPLINGS)}; got {sampling!r}")
    for name, value, low in (("batch_size", batch_size, 1), ("num_steps", num_steps, 1), ("seed", seed, 0),
                             ("epoch", epoch, 1)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ConfigError(f"{name} must be an integer >= {low}; got {value!r}")


def plan_batches(
    tokens: Sequence[str], batch_size: int, num_steps: int, sampling: str = "sequential", seed: int = 0,
    epoch: int = 1, token: str = "char", label: str = "",
) -> BatchPlan:
    """The plan of epoch ``epoch`` over ``tokens`` (the sequence a model trains on, as strings), with the
    generator the trainer makes for ``seed`` (epochs before ``epoch`` are drawn and discarded, as training
    draws them). ``token``: "char" joins a window's tokens as they are, "word" with spaces."""
    check_arguments(sampling, batch_size, num_steps, seed, epoch)
    generator = torch.Generator().manual_seed(seed)
    for _ in range(epoch):
        starts = batch_starts(len(tokens), batch_size, num_steps, sampling, generator)  # (num_batches, batch)
    rows = tuple(tuple(r) for r in starts.tolist())
    flat = [s for r in rows for s in r]
    offset = None if not flat else (rows[0][0] if sampling == "sequential" else min(flat) % num_steps)
    carries = all(s == p + num_steps for a, b in itertools.pairwise(rows) for s, p in zip(b, a))
    return BatchPlan(label, token, sampling, batch_size, num_steps, seed, epoch, len(tokens), offset, len(rows),
                     rows, carries, len(flat) * num_steps, tokens)


def seed_example(sampling: str = "sequential", seed: int = 0, text: str | None = None) -> BatchPlan:
    """d2l's example in one call: 35 tokens in windows of 5, batches of 2 (three batches, the lecture notes'
    x1, x2, x3). The tokens are the numbers 0..34 (d2l's ``list(range(35))``: a token is its position), or
    the first 35 characters of ``text`` (e.g. The Time Machine after d2l's preprocessing:
    "the time machine by h g wells i the")."""
    if text is None:
        tokens: list[str] = [str(i) for i in range(EXAMPLE_LENGTH)]
        token, label = "word", f"d2l's example: the sequence 0..{EXAMPLE_LENGTH - 1}"
    else:
        tokens = list(text[:EXAMPLE_LENGTH])
        if len(tokens) < EXAMPLE_LENGTH:
            raise ConfigError(f"the example needs {EXAMPLE_LENGTH} characters; the text has {len(tokens)}")
        token, label = "char", f"d2l's example: the first {EXAMPLE_LENGTH} characters of the text"
    return plan_batches(tokens, EXAMPLE_BATCH_SIZE, EXAMPLE_NUM_STEPS, sampling, seed, token=token, label=label)


def time_machine_example(sampling: str = "sequential", seed: int = 0, data_dir: str | Path | None = None) -> BatchPlan:
    """:func:`seed_example` on the first 35 characters of The Time Machine, preprocessed as d2l does."""
    from rnntui.data.corpus import TIME_MACHINE, preprocess, read_corpus

    raw, _ = read_corpus(TIME_MACHINE, data_dir)
    plan = seed_example(sampling, seed, preprocess(raw, "d2l"))
    return _relabel(plan, f"d2l's example: the first {EXAMPLE_LENGTH} characters of The Time Machine")


def _relabel(plan: BatchPlan, label: str) -> BatchPlan:
    from dataclasses import replace

    return replace(plan, label=label)
