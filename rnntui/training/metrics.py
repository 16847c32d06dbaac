"""Scalar metrics: perplexity, and which epoch's held-out figures were best."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any


def perplexity(mean_nll: float) -> float:
    """exp of the mean negative log-likelihood per token (nats); inf past float range."""
    try:
        return math.exp(mean_nll)
    except OverflowError:
        return math.inf


def best_of(epochs: Iterable[Mapping[str, Any]]) -> dict[str, float]:
    """The best value of each held-out metric over the epochs' metrics: the lowest perplexity, loss or MSE,
    the highest BLEU. Held-out metrics are named ``val_*``, ``test_*`` or ``sample_*``; missing and
    non-finite values are left out."""
    best: dict[str, float] = {}
    for metrics in epochs:
        for key, value in metrics.items():
            if not key.startswith(("val_", "test_", "sample_")) or isinstance(value, bool):
                continue
            if not isinstance(value, (int, float)) or not math.isfinite(value):
                continue
            better = max if "bleu" in key else min
            best[key] = better(best.get(key, value), value)
    return best
