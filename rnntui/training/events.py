"""What the engine reports while it trains: frozen dataclasses of plain numbers and strings.

A UI (or the CLI, or a test) passes callbacks to the trainer and receives these; no tensor ever
crosses this boundary. ``to_dict`` gives the JSON object written to ``metrics.jsonl``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar


@dataclass(frozen=True)
class Event:
    kind: ClassVar[str] = "event"

    def to_dict(self) -> dict[str, Any]:
        return {"event": self.kind, **dataclasses.asdict(self)}


@dataclass(frozen=True)
class FitStarted(Event):
    kind: ClassVar[str] = "start"
    epochs: int
    steps_per_epoch: int
    device: str
    num_params: int
    description: str  # model and data, one line
    unit: str = "tok"  # what tokens_per_s counts: "tok" (tokens) or "ex" (examples, for the sine task)
    resumed_at: int = 0  # the global step a resumed run goes on from (0: a new run)


@dataclass(frozen=True)
class StepEnded(Event):
    kind: ClassVar[str] = "step"
    epoch: int  # 1-based
    step: int  # 1-based, within the epoch
    global_step: int
    steps_per_epoch: int
    loss: float  # mean loss per token of this batch
    grad_norm: float  # global gradient norm before clipping
    clipped: bool  # whether clipping scaled the gradient down
    tokens_per_s: float  # over the epoch so far
    elapsed_s: float  # since the fit began


@dataclass(frozen=True)
class GradNormsLogged(Event):
    """The gradient norm of each parameter group (before clipping), every ``train.grad_norms_every`` steps:
    ``layer<k>.input``, ``layer<k>.recurrent``, ``layer<k>.bias``, ``output``, ``embedding`` (prefixed
    ``encoder.``/``decoder.`` for seq2seq); their root sum of squares is the step's ``grad_norm``."""

    kind: ClassVar[str] = "grads"
    epoch: int
    step: int
    global_step: int
    norms: dict[str, float]


@dataclass(frozen=True)
class EpochEnded(Event):
    kind: ClassVar[str] = "epoch"
    epoch: int
    epochs: int
    metrics: dict[str, float]  # e.g. train_loss, train_ppl, val_ppl
    tokens_per_s: float
    elapsed_s: float
    sample: str = ""  # the continuation of the sample prefix, or translations

    def to_dict(self) -> dict[str, Any]:
        values = super().to_dict()
        return {**{k: v for k, v in values.items() if k != "metrics"}, **self.metrics}


@dataclass(frozen=True)
class FitEnded(Event):
    kind: ClassVar[str] = "end"
    status: str  # "finished", "stopped" or "failed"
    epochs_done: int
    elapsed_s: float
    message: str = ""
    best: dict[str, float] = field(default_factory=dict)


Callback = Callable[[Event], None]
