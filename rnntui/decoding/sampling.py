"""Token-level decoding strategies: greedy, temperature, top-k and top-p (nucleus) sampling.

Model-agnostic: every function takes the logits of one step (a 1-D tensor over the vocabulary).
The results handed to the UI (:class:`StepDistribution`) hold plain Python floats and ints.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
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


__all__ += ["RankedToken", "StepSummary", "entropy", "nucleus_size", "summarise"]


# --- what a UI shows of one step: the ranked distribution, the cuts and the entropy ------------------


@dataclass(frozen=True)
class RankedToken:
    """One row of a step's distribution, in rank order."""

    index: int  # token index in the vocabulary
    token: str  # its label (the vocabulary's token when labels are given, else the index as text)
    prob: float  # probability after temperature (T=1 for greedy)
    cumulative: float  # mass of this token and every more probable one
    kept: bool  # inside the strategy's filter
    renormalised: float  # probability it is sampled with (renormalised over the kept ones); 0 if excluded


@dataclass(frozen=True)
class StepSummary:
    """A step's next-token distribution for display: the top rows and where the filters cut."""

    rows: list[RankedToken]  # the most probable tokens, descending
    num_kept: int  # how many tokens the strategy keeps
    top_k_cut: int  # tokens inside the top-k cut: min(k, tokens with nonzero probability)
    top_p_cut: int  # tokens inside the top-p nucleus (the smallest set whose mass reaches p)
    entropy: float  # nats, of the distribution after temperature
    kept_entropy: float  # nats, of the renormalised distribution sampled from
    temperature: float  # the temperature applied (1.0 for greedy)
    vocab_size: int


def entropy(probs: torch.Tensor) -> float:
    """Shannon entropy in nats of a 1-D probability tensor (zero-probability terms count 0)."""
    return float(torch.special.entr(probs).sum().item())  # entr(0) = 0, no masked copy


def nucleus_size(sorted_probs: torch.Tensor, top_p: float) -> int:
    """How many of the descending ``sorted_probs`` the top-p filter keeps (the rule of filter_distribution)."""
    nonzero = int((sorted_probs > 0).sum().item())
    if top_p >= 1.0:
        return nonzero
    cumulative = torch.cumsum(sorted_probs, dim=0)
    n = int((cumulative < top_p - _TOP_P_TOL).sum().item()) + 1
    return max(1, min(n, nonzero))


def summarise(
    logits: torch.Tensor, config: DecodeConfig, top: int = 20, labels: Sequence[str] | None = None
) -> StepSummary:
    """The ``top`` most probable tokens of one step under ``config`` (as plain data), with the kept
    count, both cuts and the entropies. Only ``top`` values become Python lists, so it stays cheap for
    vocabularies of thousands of tokens; the ranking is filter_distribution's (by logit, ties by index)."""
    probs, kept, final = filter_distribution(logits, config)
    x = _prepare(logits)
    order = torch.sort(-x, stable=True).indices
    sorted_probs = probs[order]
    cumulative = torch.cumsum(sorted_probs, dim=0)
    n = max(0, min(int(top), order.numel()))
    num_kept = kept.numel()
    nonzero = int((probs > 0).sum().item())
    head = order[:n]
    rows = [
        RankedToken(
            index=i,
            token=labels[i] if labels is not None else str(i),
            prob=p,
            cumulative=c,
            kept=rank < num_kept,
            renormalised=r,
        )
        for rank, (i, p, c, r) in enumerate(zip(
            head.tolist(), sorted_probs[:n].tolist(), cumulative[:n].tolist(), final[head].tolist()
        ))
    ]
    return StepSummary(
        rows=rows,
        num_kept=num_kept,
        top_k_cut=min(config.top_k, nonzero),
        top_p_cut=nucleus_size(sorted_probs, config.top_p),
        entropy=entropy(probs),
        kept_entropy=entropy(final),
        temperature=1.0 if config.strategy == "greedy" else float(config.temperature),
        vocab_size=probs.numel(),
    )
