"""The book's synthetic sequence (d2l, "Working with Sequences"): a noisy sine and its tau-lag features.

    x_t = sin(0.01 t) + eps_t,   eps_t ~ N(0, noise^2),   t = 1, ..., T

``x`` is stored 0-based: ``x[i]`` is x_{i+1}. An autoregressive model with window ``tau`` learns to
predict ``x[i + tau]`` from ``x[i : i + tau]``: ``features[i] = x[i : i + tau]``, ``labels[i] = x[i + tau]``,
for ``i = 0 .. T - tau - 1``. The first ``num_train`` pairs train (their targets are
``x[tau : num_train + tau]``), the rest test (targets ``x[num_train + tau :]``), exactly as in the book.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from rnntui.config import SineConfig


def time_axis(num_points: int) -> torch.Tensor:
    """t = 1, ..., T (float32), the book's ``time``."""
    return torch.arange(1, num_points + 1, dtype=torch.float32)


def make_series(cfg: SineConfig, generator: torch.Generator | None = None) -> torch.Tensor:
    """T values of sin(0.01 t) + N(0, noise^2) (float32, CPU), the noise drawn from ``generator``."""
    t = time_axis(cfg.num_points)
    noise = torch.randn(cfg.num_points, generator=generator, dtype=torch.float32)
    return torch.sin(0.01 * t) + noise * cfg.noise


def make_features(x: torch.Tensor, tau: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(features (T - tau, tau), labels (T - tau, 1)): ``features[i] = x[i:i+tau]``, ``labels[i] = x[i+tau]``."""
    if x.dim() != 1:
        raise ValueError(f"x must be one-dimensional; got shape {tuple(x.shape)}")
    if not 1 <= tau < len(x):
        raise ValueError(f"tau must be between 1 and len(x) - 1 = {len(x) - 1}; got {tau}")
    features = x.unfold(0, tau, 1)[: len(x) - tau].contiguous()  # the book's stack of tau shifted copies
    labels = x[tau:].reshape(-1, 1).clone()
    return features, labels


def shuffled_batches(
    features: torch.Tensor, labels: torch.Tensor, batch_size: int, generator: torch.Generator | None = None
) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """The pairs in a random order (drawn from ``generator``, on the CPU), cut into minibatches; the
    last one may be smaller (the book's ``DataLoader(shuffle=True)``)."""
    order = torch.randperm(len(features), generator=generator).to(features.device)
    return [(features[idx], labels[idx]) for idx in order.split(batch_size)]


@dataclass
class SineData:
    """The series and its windows, split as the book does."""

    cfg: SineConfig
    time: torch.Tensor  # (T,) t = 1..T
    x: torch.Tensor  # (T,)
    features: torch.Tensor  # (T - tau, tau)
    labels: torch.Tensor  # (T - tau, 1)

    @property
    def tau(self) -> int:
        return self.cfg.tau

    @property
    def num_train(self) -> int:
        return self.cfg.num_train

    @property
    def test_start(self) -> int:
        """Index into ``x`` of the first test target: num_train + tau (604 in the book)."""
        return self.cfg.num_train + self.cfg.tau

    def train_pairs(self) -> tuple[torch.Tensor, torch.Tensor]:
        n = self.cfg.num_train
        return self.features[:n], self.labels[:n]

    def test_pairs(self) -> tuple[torch.Tensor, torch.Tensor]:
        n = self.cfg.num_train
        return self.features[n:], self.labels[n:]

    def to(self, device: torch.device | str) -> SineData:
        return SineData(self.cfg, self.time.to(device), self.x.to(device), self.features.to(device),
                        self.labels.to(device))

    def describe(self) -> str:
        c = self.cfg
        return (f"sin(0.01t) + N(0, {c.noise:g}^2), T={c.num_points}, tau={c.tau}, "
                f"{c.num_train} train / {c.num_points - c.tau - c.num_train} test pairs")


def load_sine(cfg: SineConfig, generator: torch.Generator | None = None) -> SineData:
    """Draw the series and build its features and labels (all on the CPU)."""
    x = make_series(cfg, generator)
    features, labels = make_features(x, cfg.tau)
    return SineData(cfg, time_axis(cfg.num_points), x, features, labels)
