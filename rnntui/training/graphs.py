"""A whole training step (forward, backward, clipping, the optimizer's step) as one CUDA graph.

The book's models are small: on a GPU each step is a chain of tiny kernels and the GPU waits on Python
and on kernel launches. A CUDA graph records the step's kernels once and replays them with one launch,
reading each batch from static input buffers (``torch.cuda.graph``, PyTorch's "whole network capture").

    shape, why = graph_plan(config.cuda_graphs, device, batches)  # the shape to replay (or None), and why
    step = GraphedStep(task, optimizer, params, max_norm, batch)   # after a few eager steps
    loss, grad_norm, groups = step(batch)                       # replays; tensors, read with .item()

What a step carries from the one before lives inside the graph too: the hidden state of sequential
partitioning (truncated BPTT; the task exposes it as ``task.state``) is copied from the step's output
into its input buffer before each replay, and zeroed when an epoch begins. A step whose loss or
gradient is not finite changes no weight (its gradients are zeroed inside the graph before the
optimizer's step; the trainer then stops the run, as it does without a graph). Batches of another
shape than the captured one (the short last batch of an epoch) run eagerly.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import torch

WARMUP_STEPS = 3  # eager steps on a side stream before capture (lazy initialisation, cuDNN workspaces)


def batch_shape(batch: Any) -> tuple:
    """The shapes of a batch's tensors (its key for a graph)."""
    tensors = batch if isinstance(batch, (tuple, list)) else (batch,)
    return tuple(tuple(t.shape) for t in tensors if isinstance(t, torch.Tensor))


def graph_plan(setting: str, device: torch.device, batches: Sequence[Any]) -> tuple[tuple | None, str]:
    """The batch shape a run's steps are replayed for as a CUDA graph (None: no graph), and why (one
    line for the log)."""
    if setting == "false":
        return None, "CUDA graphs off (train.cuda_graphs = false)"
    if device.type != "cuda":
        why = "they need a CUDA device" if setting == "true" else "the run is on the " + device.type.upper()
        return None, f"CUDA graphs off: {why}"
    shapes = Counter(batch_shape(b) for b in batches)
    if not shapes:
        return None, "CUDA graphs off: no batches"
    shape, count = shapes.most_common(1)[0]
    if setting == "auto" and count < 0.9 * len(batches):
        return None, (f"CUDA graphs off: the batches have {len(shapes)} shapes ({count} of {len(batches)} "
                      "share one); set train.cuda_graphs = true to replay the commonest")
    others = len(batches) - count
    return shape, "CUDA graphs on" + (f" ({others} batch(es) of another shape run eagerly)" if others else "")


def _tensors(state) -> list[torch.Tensor]:
    if state is None:
        return []
    return list(state) if isinstance(state, (tuple, list)) else [state]


class GraphedStep:
    """One captured training step for batches shaped like ``example``. ``__call__`` replays it."""

    def __init__(self, task, optimizer: torch.optim.Optimizer, params: list[torch.nn.Parameter],
                 max_norm: float, example: Any, group_norms) -> None:
        self.task, self.optimizer, self.params, self.max_norm = task, optimizer, params, max_norm
        self.shape = batch_shape(example)
        self.static = tuple(t.clone() for t in example) if isinstance(example, (tuple, list)) else example.clone()
        carried = getattr(task, "state", None)
        self.state_in = [t.detach().clone() for t in _tensors(carried)]  # the carried state's buffer
        self.carries = bool(self.state_in)
        self.graph = torch.cuda.CUDAGraph()
        optimizer.zero_grad(set_to_none=True)
        if self.carries:
            task.state = self._pack(carried, self.state_in)
        with torch.cuda.graph(self.graph):
            loss, self.units = task.training_step(self.static)
            loss.backward()
            self.group_names, self.groups = group_norms(task.model)
            self.grad_norm = torch.nn.utils.clip_grad_norm_(params, max_norm)
            finite = torch.isfinite(loss) & torch.isfinite(self.grad_norm)
            for p in params:  # a step that is not finite changes nothing
                if p.grad is not None:
                    p.grad.copy_(torch.where(finite, p.grad, torch.zeros_like(p.grad)))
            optimizer.step()
            self.loss = loss.detach()
        self.state_out = _tensors(getattr(task, "state", None))
        self._carried_shape = carried

    @staticmethod
    def _pack(like, tensors):
        return tuple(tensors) if isinstance(like, (tuple, list)) else tensors[0]

    def __call__(self, batch: Any) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None, int]:
        """Replay on ``batch``: (loss, grad norm before clipping, per-group norms, units), on the device."""
        sources = batch if isinstance(batch, (tuple, list)) else (batch,)
        targets = self.static if isinstance(self.static, tuple) else (self.static,)
        for target, source in zip(targets, sources):
            target.copy_(source)
        if self.carries:
            fresh = getattr(self.task, "state", None) is None  # a new epoch (or random sampling)
            for buffer, previous in zip(self.state_in, self.state_out):
                buffer.zero_() if fresh else buffer.copy_(previous)
        self.graph.replay()
        if self.carries:
            self.task.state = self._pack(self._carried_shape, self.state_out)
        return self.loss, self.grad_norm, self.groups, self.units
