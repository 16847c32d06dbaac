"""The sequence-prediction task of d2l's "Working with Sequences": learn the next value of a noisy sine.

The series is ``x_t = sin(0.01 t) + N(0, noise^2)``, t = 1..T (``rnntui.data.sine``). Training and testing
use the book's split: the targets ``x[tau : num_train + tau]`` train, ``x[num_train + tau :]`` test.

* ``SineMLP`` (model.kind "mlp") learns from the book's (window, next value) pairs: the first
  ``num_train`` pairs, shuffled into minibatches of ``sine.batch_size``, MSE loss.
* ``LatentAR`` (rnn/gru/lstm) learns from windows of the training part ``x[: num_train + tau]``: every
  run of ``window`` consecutive values (32 by default) whose next value is still a training target, read
  from a zero state, shuffled into minibatches of ``sine.batch_size`` windows. Its loss is the MSE of its
  1-step predictions in the window, except the first ``tau - 1``, which only warm the state up: every
  scored prediction has seen at least ``tau`` values, as the MLP's, and the scored targets all lie in
  ``x[tau : num_train + tau]``, the MLP's training targets. (Reading the training part once in order, with
  the state carried from batch to batch, gives fewer and correlated updates and trained worse.)
  Forecasts start from the state after the whole observed history (``LatentAR.scan``); the short
  training windows teach the state to summarise the recent past, which carries over to long reads.

Evaluation: the 1-step MSE over the test targets (``test_mse``) and the k-step-ahead MSE there for each k
in ``sine.k_steps`` (``mse_k1``, ``mse_k4``, ...), from ``rnntui.decoding.forecast``.
``forecasts()`` adds the yardstick: the least-squares affine AR(tau) predictor fitted on those same test
targets (``oracle_mse``), which no affine function of the last tau values beats there.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from rnntui.config import ExperimentConfig
from rnntui.data.sine import load_sine, shuffled_batches
from rnntui.decoding.forecast import (
    forecast_mse, k_step, k_step_index, k_step_mse, multi_step, one_step, oracle_iterated_mse, oracle_mse,
)
from rnntui.models.sine import build_sine_model  # noqa: F401  (re-exported: the task's model builder)

__all__ = ["SineTask", "build_sine_model"]


class SineTask:
    """The trainer's ``Task`` for the sine series; ``forecasts()`` gives every array the charts need."""

    unit = "ex"

    def __init__(
        self, model: nn.Module, config: ExperimentConfig, device: torch.device | str = "cpu",
        generator_seed: int | None = None, window: int = 32,
    ) -> None:
        """``generator_seed`` draws the noise of the series (default: ``config.train.seed``); ``window`` is
        the length of the latent model's training windows (clipped to [tau, num_train + tau - 1])."""
        self.model = model
        self.config = config
        self.cfg = config.sine
        self.device = torch.device(device)
        self.seed = config.train.seed if generator_seed is None else generator_seed  # the draw's
        self.data = load_sine(self.cfg, torch.Generator().manual_seed(self.seed))
        self.x = self.data.x.to(self.device)
        self.train_features, self.train_labels = (t.to(self.device) for t in self.data.train_pairs())
        self.latent = bool(getattr(model, "stateful", False))
        self.window = max(self.cfg.tau, min(window, self.cfg.num_train + self.cfg.tau - 1))
        self.last_mse: dict[int, float] = {}

    @property
    def tau(self) -> int:
        return self.data.tau

    @property
    def test_start(self) -> int:
        """Index of the first test target in the series (``SineData.test_start``: 604 in the book)."""
        return self.data.test_start

    def describe(self) -> str:
        m = self.config.model
        if not self.latent:
            net = f"MLP ({self.tau} -> {m.num_hiddens} -> 1)"
        else:
            layers = f"{m.num_layers}-layer " if m.num_layers > 1 else ""
            net = f"latent {layers}{m.kind.upper()} ({m.impl}), {m.num_hiddens} hidden"
        return f"{net}; {self.data.describe()}"

    def steps_per_epoch(self) -> int:
        if self.latent:
            return math.ceil(self.num_windows / self.cfg.batch_size)
        return math.ceil(self.cfg.num_train / self.cfg.batch_size)

    @property
    def num_windows(self) -> int:
        """The latent model's training windows: one per start position a = 0 .. num_train + tau - 1 - window."""
        return self.test_start - self.window

    def epoch_batches(self, generator: torch.Generator) -> list[Any]:
        if self.latent:
            # window at a: inputs x[a : a + window], targets x[a + 1 : a + window + 1]; last target <= x[test_start - 1]
            starts = torch.randperm(self.num_windows, generator=generator).to(self.device)
            index = starts.unsqueeze(1) + torch.arange(self.window, device=self.device)
            return [(self.x[i], self.x[i + 1]) for i in index.split(self.cfg.batch_size)]
        return shuffled_batches(self.train_features, self.train_labels, self.cfg.batch_size, generator)

    def training_step(self, batch: Any) -> tuple[torch.Tensor, int]:
        if self.latent:
            inputs, targets = batch  # (batch, window) each
            preds, _ = self.model(inputs)  # from a zero state
            warm = self.tau - 1
            return F.mse_loss(preds[:, warm:], targets[:, warm:]), targets[:, warm:].numel()
        features, labels = batch
        return F.mse_loss(self.model(features), labels), len(labels)

    def epoch_metrics(self, train_loss: float) -> dict[str, float]:
        return {"train_mse": train_loss}

    def evaluate(self) -> dict[str, float]:
        """The 1-step test MSE and the k-step test MSE for each k in ``sine.k_steps`` (plain floats)."""
        self.last_mse = k_step_mse(self.model, self.x, self.tau, self.cfg.k_steps, self.test_start)
        return {"test_mse": self.last_mse[1], **{f"mse_k{k}": self.last_mse[k] for k in self.cfg.k_steps}}

    def sample(self) -> str:
        if not self.last_mse:
            self.evaluate()
        parts = ", ".join(f"k={k} {self.last_mse[k]:.3f}" for k in self.cfg.k_steps)
        return f"k-step test MSE: {parts}"

    def forecasts(self) -> dict[str, Any]:
        """Everything the charts and the MSE table show, as plain ints, floats, lists and dicts of them
        (t = 1..T is the book's time axis; dict keys k are ints):

        * the draw: ``seed`` (of its noise), ``noise`` (its standard deviation), ``num_points`` (T), ``tau``,
          ``num_train``, ``test_start`` (index into x of the first test target, num_train + tau), ``k_steps``
          (the config's k list); ``time`` and ``series`` (x);
        * ``one_step`` and ``multi_step`` over ``forecast_time`` (t = tau+1..T, i.e. x[tau:]);
          ``multi_step_start`` (index into x of the first fed-back prediction, = test_start) and
          ``multi_step_mse`` (its test MSE);
        * ``k_step[k]`` over ``k_step_time[k]`` and ``k_step_mse[k]`` on the test targets, for k = 1 and
          each k of the config;
        * the least-squares affine AR(tau) oracle on the same test targets: ``oracle_mse[k]`` (refitted per
          k as a direct k-step regression: the least MSE of any affine function of the last tau values),
          ``oracle_iterated_mse[k]`` (the 1-step fit fed back k times) and ``oracle_ratio[k]``
          (k_step_mse / oracle_mse: below 1 beats every affine model of the window);
        * ``noise_mse``: the MSE of the noiseless sin(0.01 t) itself on the test targets (this draw's
          test noise, the floor of any predictor).
        """
        x, tau, T = self.x, self.tau, self.cfg.num_points
        time = list(range(1, T + 1))
        ks = sorted({1, *self.cfg.k_steps})
        one = one_step(self.model, x, tau)
        multi = multi_step(self.model, x, tau, self.test_start)
        mse = k_step_mse(self.model, x, tau, ks, self.test_start)
        oracle = oracle_mse(x, tau, ks, self.test_start)
        noise = (self.data.x - torch.sin(0.01 * self.data.time))[self.test_start:]
        return {
            "time": time,
            "series": x.tolist(),
            "tau": tau,
            "num_train": self.cfg.num_train,
            "test_start": self.test_start,
            "forecast_time": time[tau:],
            "one_step": one,
            "multi_step_start": self.test_start,
            "multi_step": multi,
            "k_step_time": {k: [i + 1 for i in k_step_index(T, tau, k)] for k in ks},
            "k_step": k_step(self.model, x, tau, ks),
            "k_step_mse": mse,
            "seed": self.seed,
            "noise": float(self.cfg.noise),
            "num_points": T,
            "k_steps": list(self.cfg.k_steps),
            "multi_step_mse": forecast_mse(multi, self.data.x, tau, self.test_start),
            "oracle_mse": oracle,
            "oracle_iterated_mse": oracle_iterated_mse(x, tau, ks, self.test_start),
            "oracle_ratio": {k: mse[k] / oracle[k] if oracle[k] > 0 else math.nan for k in ks},
            "noise_mse": torch.mean(noise.double() ** 2).item(),
        }
