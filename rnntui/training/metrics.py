"""Scalar metrics of language models."""

from __future__ import annotations

import math


def perplexity(mean_nll: float) -> float:
    """exp of the mean negative log-likelihood per token (nats); inf past float range."""
    try:
        return math.exp(mean_nll)
    except OverflowError:
        return math.inf
