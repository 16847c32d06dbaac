"""One trainer for every experiment: optimiser, gradient clipping, events, stopping, divergence.

The trainer knows nothing about the model or the data. A *task* supplies them (d2l's Module +
DataModule, minGPT's seam): it cuts an epoch into batches, computes a batch's loss, evaluates held-out
data and writes a sample. The trainer reports through callbacks that receive ``events`` (plain numbers
and strings) and checks ``should_stop`` once per batch.
"""

from __future__ import annotations

import contextlib
import logging
import math
import random
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

import torch
from torch import nn

from rnntui.config import TrainConfig
from rnntui.errors import ConfigError, TrainingDiverged
from rnntui.inspect.gradients import group_grad_norm_tensor, group_grad_norms
from rnntui.training.events import Callback, EpochEnded, Event, FitEnded, FitStarted, GradNormsLogged, StepEnded
from rnntui.training.graphs import WARMUP_STEPS, GraphedStep, batch_shape, graph_plan
from rnntui.training.metrics import best_of

log = logging.getLogger(__name__)


class Task(Protocol):
    """What the trainer needs from an experiment."""

    model: nn.Module
    unit: str  # what a step's count measures: "tok" or "ex"

    def describe(self) -> str: ...

    def steps_per_epoch(self) -> int:
        """About how many batches an epoch has (for progress and ETA before the first epoch)."""

    def epoch_batches(self, generator: torch.Generator) -> Sequence[Any]:
        """This epoch's batches."""

    def training_step(self, batch: Any) -> tuple[torch.Tensor, int]:
        """(mean loss of the batch as a 0-d tensor, number of units, e.g. tokens, it covers)."""

    def epoch_metrics(self, train_loss: float) -> dict[str, float]:
        """Metrics derived from the epoch's mean training loss (e.g. train_ppl)."""

    def evaluate(self) -> dict[str, float]:
        """Held-out metrics (e.g. val_ppl)."""

    def sample(self) -> str:
        """A short text showing what the model does now."""


def resolve_device(name: str) -> torch.device:
    """'auto' picks CUDA, then MPS, then the CPU; an unavailable device is a ConfigError."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise ConfigError(f"unknown device {name!r}; use auto, cpu, cuda, cuda:N or mps") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"device {name} is not available here: torch sees no CUDA GPU (use --device cpu)")
    if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
        raise ConfigError(f"device {name} does not exist: torch sees {torch.cuda.device_count()} CUDA GPU(s)")
    if device.type == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ConfigError(f"device {name} is not available here (use --device cpu)")
    return device


def make_optimizer(config: TrainConfig, params: Iterable[nn.Parameter], capturable: bool = False) -> torch.optim.Optimizer:
    """``capturable``: its step may be recorded in a CUDA graph (Adam keeps its step count on the device)."""
    if config.optimizer == "sgd":
        return torch.optim.SGD(params, lr=config.lr)
    return torch.optim.Adam(params, lr=config.lr, capturable=capturable)


class Trainer:
    """Fits a task's model, emitting ``FitStarted``, ``StepEnded``, ``EpochEnded`` and ``FitEnded``."""

    def __init__(
        self, task: Task, config: TrainConfig, device: torch.device, callbacks: Sequence[Callback] = ()
    ) -> None:
        self.task = task
        self.config = config
        self.device = device
        self.callbacks = list(callbacks)
        # (a graph's optimizer step must be capturable; "auto" may turn graphs on once the batches are seen)
        self.optimizer = make_optimizer(config, task.model.parameters(),
                                        capturable=device.type == "cuda" and config.cuda_graphs != "false")
        self.generator = torch.Generator().manual_seed(config.seed)  # batches; CPU-side, repeatable
        self.epoch = 0  # epochs completed
        self.global_step = 0
        self.history: list[EpochEnded] = []
        self.start_time = time.perf_counter()
        self.elapsed_before = 0.0  # seconds trained before this fit (a resumed run)
        # the epoch in progress: (epoch, steps done, loss sum, units, the batch generator's state at its start)
        self.in_epoch: tuple[int, int, float, int, torch.Tensor] | None = None
        self.carry = None  # the hidden state the task carried at that point (truncated BPTT), to resume with

    def emit(self, event: Event) -> None:
        for callback in self.callbacks:
            callback(event)

    def fit(self, should_stop: Callable[[], bool] = lambda: False) -> FitEnded:
        """Train for the configured epochs; returns how it ended. Raises TrainingDiverged on NaN/inf."""
        model, config = self.task.model, self.config
        params = [p for p in model.parameters() if p.requires_grad]
        max_norm = config.clip if config.clip > 0 else math.inf
        every = config.grad_norms_every
        start = self.start_time = time.perf_counter() - self.elapsed_before
        last_loss = math.nan
        first = self.epoch + 1
        resumed, self.in_epoch = self.in_epoch, None
        graphed: GraphedStep | None = None
        planned, graph_shape, eager_steps = False, None, 0  # decided on the first epoch's batches

        def started(note: str = "") -> None:
            self.emit(FitStarted(config.epochs, self.task.steps_per_epoch(), str(self.device),
                                 sum(p.numel() for p in params), self.task.describe() + note,
                                 getattr(self.task, "unit", "tok"), self.global_step))

        if first > config.epochs:
            started()
        for epoch in range(first, config.epochs + 1):
            model.train()
            skip, loss_sum, units, carry = 0, 0.0, 0, None
            if resumed is not None:  # the epoch a stopped run was in: the same batches, from where it stopped
                _, skip, loss_sum, units, at_start = resumed
                carry = self.carry
                self.generator.set_state(at_start)
            epoch_rng = self.generator.get_state()
            batches = self.task.epoch_batches(self.generator)
            if resumed is not None:
                if carry is not None:
                    self.task.state = carry
                resumed = None
            if not planned:
                planned = True
                graph_shape, why = graph_plan(config.cuda_graphs, self.device, batches)
                if config.cuda_graphs == "true" and graph_shape is None:
                    log.warning(why)
                started(f"; {why}" if self.device.type == "cuda" else "")
                side = torch.cuda.Stream() if graph_shape is not None else None
            epoch_start = time.perf_counter()
            for step, batch in enumerate(batches, 1):
                if step <= skip:
                    continue
                self.in_epoch = (epoch, step - 1, loss_sum, units, epoch_rng)
                if should_stop():
                    return self._end("stopped", start, f"stopped by request in epoch {epoch}, step {step}")
                want_groups = bool(every) and (self.global_step + 1) % every == 0
                if graph_shape is not None and eager_steps >= WARMUP_STEPS and batch_shape(batch) == graph_shape:
                    if graphed is None:
                        torch.cuda.current_stream().wait_stream(side)
                        graphed = GraphedStep(self.task, self.optimizer, params, max_norm, batch,
                                              group_grad_norm_tensor)
                    loss_t, norm_t, groups_t, n = graphed(batch)
                    loss_value, grad_norm = loss_t.item(), norm_t.item()
                    if not math.isfinite(loss_value):
                        self._diverged("loss", loss_value, epoch, step, last_loss, start)
                    if not math.isfinite(grad_norm):
                        self._diverged("gradient norm", grad_norm, epoch, step, loss_value, start)
                    groups = dict(zip(graphed.group_names, groups_t.tolist())) if want_groups else None
                else:
                    warming = graph_shape is not None and graphed is None
                    with torch.cuda.stream(side) if warming else contextlib.nullcontext():
                        loss_value, grad_norm, groups, n = self._eager_step(
                            batch, params, max_norm, want_groups, epoch, step, last_loss, start)
                    eager_steps += 1
                last_loss = loss_value
                loss_sum += loss_value * n
                units += n
                self.global_step += 1
                now = time.perf_counter()
                self.emit(StepEnded(
                    epoch, step, self.global_step, len(batches), loss_value, grad_norm, grad_norm > max_norm,
                    units / max(now - epoch_start, 1e-9), now - start,
                ))
                if groups is not None:
                    self.emit(GradNormsLogged(epoch, step, self.global_step, groups))
            self.in_epoch = None
            train_time = time.perf_counter() - epoch_start
            train_loss = loss_sum / max(units, 1)
            metrics = {"train_loss": train_loss, **self.task.epoch_metrics(train_loss)}
            model.eval()
            metrics.update(self.task.evaluate())
            sample = self.task.sample()
            self.epoch = epoch
            event = EpochEnded(epoch, config.epochs, metrics, units / max(train_time, 1e-9),
                               time.perf_counter() - start, sample)
            self.history.append(event)
            self.emit(event)
        return self._end("finished", start)

    def _eager_step(self, batch, params, max_norm: float, want_groups: bool, epoch: int, step: int,
                    last_loss: float, start: float) -> tuple[float, float, dict[str, float] | None, int]:
        """One step op by op: (loss, gradient norm before clipping, per-group norms if wanted, units)."""
        loss, n = self.task.training_step(batch)
        loss_value = loss.item()
        if not math.isfinite(loss_value):
            self._diverged("loss", loss_value, epoch, step, last_loss, start)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        groups = group_grad_norms(self.task.model) if want_groups else None  # before clipping scales them
        grad_norm = torch.nn.utils.clip_grad_norm_(params, max_norm).item()
        if not math.isfinite(grad_norm):
            self._diverged("gradient norm", grad_norm, epoch, step, loss_value, start)
        self.optimizer.step()
        return loss_value, grad_norm, groups, n

    def snapshot(self) -> dict[str, Any]:
        """Everything that resuming needs beyond the weights: where the run stands (the epoch in progress
        and its partial loss too, when it stopped inside one), the optimizer's state, every random
        generator's state and the task's carried state. Tensors and plain data only."""
        state: dict[str, Any] = {
            "epoch": self.epoch, "global_step": self.global_step,
            "elapsed_s": time.perf_counter() - self.start_time,
            "optimizer": self.optimizer.state_dict(),
            "generator": self.generator.get_state(), "torch_rng": torch.get_rng_state(),
            "python_rng": _plain(random.getstate()),
            "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        }
        if self.in_epoch is not None:
            epoch, steps, loss_sum, units, at_start = self.in_epoch
            state["in_epoch"] = {"epoch": epoch, "steps": steps, "loss_sum": loss_sum, "units": units,
                                 "generator": at_start}
            carried = getattr(self.task, "state", None)
            if carried is not None:
                state["carry"] = carried
        return state

    def restore(self, state: dict[str, Any], history: list[EpochEnded]) -> None:
        """Continue from a ``snapshot`` and the epochs it was preceded by (their metrics: the best-of)."""
        self.epoch, self.global_step = int(state["epoch"]), int(state["global_step"])
        self.elapsed_before = float(state.get("elapsed_s", 0.0))
        self.history = list(history)
        self.optimizer.load_state_dict(state["optimizer"])
        self.generator.set_state(state["generator"])
        torch.set_rng_state(state["torch_rng"])
        random.setstate(_tupled(state["python_rng"]))
        if state.get("cuda_rng") and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["cuda_rng"])
        inside = state.get("in_epoch")
        if inside is not None:
            self.in_epoch = (int(inside["epoch"]), int(inside["steps"]), float(inside["loss_sum"]),
                             int(inside["units"]), inside["generator"])
            carry = state.get("carry")
            if isinstance(carry, (tuple, list)):
                self.carry = tuple(t.to(self.device) for t in carry)
            elif carry is not None:
                self.carry = carry.to(self.device)

    def best(self) -> dict[str, float]:
        """The best value seen of each held-out metric (``metrics.best_of``)."""
        return best_of(e.metrics for e in self.history)

    def _end(self, status: str, start: float, message: str = "") -> FitEnded:
        event = FitEnded(status, self.epoch, time.perf_counter() - start, message, self.best())
        self.emit(event)
        return event

    def _diverged(self, what: str, value: float, epoch: int, step: int, last: float, start: float) -> None:
        message = (
            f"training diverged: the {what} became {value} at epoch {epoch}, step {step} "
            f"(last finite loss {last:.4g}); try a lower learning rate (train.lr = {self.config.lr:g}) "
            f"or gradient clipping (train.clip = {self.config.clip:g})"
        )
        self._end("failed", start, message)
        raise TrainingDiverged(message)


def _plain(value):
    """Python's random state (nested tuples) as lists, which a checkpoint stores as plain data."""
    return [_plain(v) for v in value] if isinstance(value, tuple) else value


def _tupled(value):
    return tuple(_tupled(v) for v in value) if isinstance(value, list) else value


def available_devices() -> list[tuple[str, str]]:
    """(label, name) of each device torch can use here, 'auto' first."""
    devices = [("auto (best available)", "auto"), (f"CPU, {torch.get_num_threads()} threads", "cpu")]
    if torch.cuda.is_available():
        for i in range(torch.cuda.device_count()):
            props = torch.cuda.get_device_properties(i)
            devices.append((f"cuda:{i} {props.name}, {props.total_memory / 2**30:.0f} GiB", f"cuda:{i}"))
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        devices.append(("Apple GPU (MPS)", "mps"))
    return devices
