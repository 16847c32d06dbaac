"""The ladders the views' keys step a setting along, and the step: the same key steps a setting the same
way in every view (the Sampling and Prompt views' decoding keys, the Gradients view's knobs)."""

from __future__ import annotations

import math

STRATEGIES = ("greedy", "temperature", "top-k", "top-p")  # rnntui.decoding.sampling's (it imports torch)
TEMPERATURES = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.5, 1.75, 2.0, 2.5, 3.0, 5.0)
TOP_KS = (1, 2, 3, 4, 5, 7, 10, 15, 20, 30, 50, 100)
TOP_PS = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.99, 1.0)
BEAMS = tuple(range(1, 11))
ALPHAS = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5)


def stepped(ladder: tuple, value: float, step: int, log: bool = False):
    """The value ``step`` places along ``ladder`` from the one nearest ``value`` (clamped at the ends);
    ``log``: nearest on a log scale (a ladder that spans decades)."""
    if log:
        nearest = min(range(len(ladder)), key=lambda i: abs(math.log(ladder[i]) - math.log(value)))
    else:
        nearest = min(range(len(ladder)), key=lambda i: abs(ladder[i] - value))
    return ladder[min(max(nearest + step, 0), len(ladder) - 1)]
