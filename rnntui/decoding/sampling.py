"""Token-level decoding strategies: greedy, temperature, top-k and top-p (nucleus) sampling.

Model-agnostic: every function takes the logits of one step (a 1-D tensor over the vocabulary).
The results handed to the UI (:class:`StepDistribution`) hold plain Python floats and ints.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from rnntui.errors import ConfigError

__all__ = [
    "STRATEGIES",
    "DecodeConfig",
    "StepDistribution",
    "filter_distribution",
    "choose",
]

STRATEGIES: tuple[str, ...] = ("greedy", "temperature", "top-k", "top-p")

# Slack for the top-p threshold: a cumulative mass within this of p counts as reaching p,
# so that float rounding in the cumulative sum never adds a needless extra token.
_TOP_P_TOL = 1e-13


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@dataclass(frozen=True)
class DecodeConfig:
    """How to pick the next token from a step's logits."""

    strategy: str = "greedy"
    temperature: float = 1.0  # > 0; used by temperature, top-k and top-p (applied before filtering)
    top_k: int = 10  # >= 1
    top_p: float = 0.9  # 0 < p <= 1

    def __post_init__(self) -> None:
        """Validate every field, raising ConfigError with a one-line message."""
        if not isinstance(self.strategy, str) or self.strategy not in STRATEGIES:
            raise ConfigError(
                f"unknown strategy {self.strategy!r}; choose from {', '.join(STRATEGIES)}"
            )
        if not _is_number(self.temperature):
            raise ConfigError(f"temperature must be a number, got {self.temperature!r}")
        if math.isinf(self.temperature) and self.temperature > 0:
            raise ConfigError(f"temperature must be finite, got {self.temperature!r}")
        if not self.temperature > 0:  # also catches NaN
            raise ConfigError(f"temperature must be > 0, got {self.temperature!r}")
        if not isinstance(self.top_k, int) or isinstance(self.top_k, bool):
            raise ConfigError(f"top_k must be an integer, got {self.top_k!r}")
        if self.top_k < 1:
            raise ConfigError(f"top_k must be >= 1, got {self.top_k!r}")
        if not _is_number(self.top_p):
            raise ConfigError(f"top_p must be a number, got {self.top_p!r}")
        if not 0 < self.top_p <= 1:  # also catches NaN
            raise ConfigError(f"top_p must be in (0, 1], got {self.top_p!r}")


@dataclass(frozen=True)
class StepDistribution:
    """One decoding step, as plain Python values for display."""

    probs: list[float]  # softmax(logits / T) over the whole vocabulary; greedy uses T=1
    kept: list[int]  # token indices the strategy keeps, in descending probability order
    final: list[float]  # probs renormalised over `kept`, zero elsewhere: what is sampled from
    token: int  # the chosen token index


def _prepare(logits: torch.Tensor) -> torch.Tensor:
    """Check one step's logits and return them as float64 on the CPU, with +inf handled.

    If any logit is +inf, those tokens share all the mass equally (the rest become -inf).
    """
    if logits.dim() != 1 or logits.numel() == 0:
        raise ValueError(f"logits must be a non-empty 1-D tensor, got shape {tuple(logits.shape)}")
    x = logits.detach().to(device="cpu", dtype=torch.float64)
    if torch.isnan(x).any():
        raise ValueError("logits contain NaN")
    pos_inf = torch.isposinf(x)
    if pos_inf.any():
        x = torch.where(pos_inf, torch.zeros_like(x), torch.full_like(x, -math.inf))
    elif torch.isneginf(x).all():
        raise ValueError("all logits are -inf")
    return x


def filter_distribution(
    logits: torch.Tensor, config: DecodeConfig
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Apply temperature and the strategy's filter to one step's logits.

    Returns ``(probs, kept, final)``: the float64 distribution after temperature, the kept token
    indices (int64, by descending logit and so descending probability, ties by ascending index)
    and the float64 distribution renormalised over ``kept``. Zero-probability tokens are never kept.
    """
    x = _prepare(logits)
    temperature = 1.0 if config.strategy == "greedy" else float(config.temperature)
    probs = torch.softmax(x / temperature, dim=0)
    vocab = probs.numel()

    # Rank by the logits themselves (descending, ties by ascending index: a stable sort of -x),
    # which is the probability order but still separates tokens whose probabilities round equal.
    order = torch.sort(-x, stable=True).indices
    nonzero = int((probs > 0).sum().item())  # >= 1: softmax always has a positive maximum

    if config.strategy == "greedy":
        n = 1
    elif config.strategy == "temperature":
        n = nonzero
    elif config.strategy == "top-k":
        n = min(config.top_k, vocab, nonzero)
    else:  # top-p
        if config.top_p >= 1.0:
            n = nonzero
        else:
            cumulative = torch.cumsum(probs[order], dim=0)
            # Number of prefixes that fall short of p, plus one for the token that reaches it.
            n = int((cumulative < config.top_p - _TOP_P_TOL).sum().item()) + 1
            n = max(1, min(n, nonzero))

    kept = order[:n].clone()
    final = torch.zeros_like(probs)
    if n == 1:
        final[kept] = 1.0
    else:
        mass = probs[kept]
        final[kept] = mass / mass.sum()
    return probs, kept, final


def choose(
    logits: torch.Tensor,
    config: DecodeConfig,
    generator: torch.Generator | None = None,
) -> StepDistribution:
    """Filter one step's logits and pick a token: argmax for greedy, else a sample from ``final``."""
    probs, kept, final = filter_distribution(logits, config)
    if config.strategy == "greedy":
        token = int(kept[0].item())
    else:
        token = int(torch.multinomial(final, 1, generator=generator).item())
    return StepDistribution(
        probs=[float(p) for p in probs.tolist()],
        kept=[int(i) for i in kept.tolist()],
        final=[float(p) for p in final.tolist()],
        token=token,
    )
