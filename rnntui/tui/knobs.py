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


def decoding_bindings(view_id: str, show_strategy: bool = False) -> list:
    """The decoding keys, alike in every view that decodes: ``s`` strategy, ``t/T``, ``k/K``, ``p/P``, ``r``
    seed (the language model's), ``b/B`` beam size and ``a/A`` alpha (beam search's)."""
    from textual.binding import Binding

    def key(keys: str, action: str, title: str, name: str, tooltip: str, show: bool = False) -> Binding:
        return Binding(keys, action, title, id=f"{view_id}.{name}", show=show, tooltip=tooltip)

    return [
        key("s", "strategy", "Strategy", "strategy", "the next decoding strategy: greedy, temperature, top-k, top-p",
            show_strategy),
        key("t", "temperature(-1)", "T-", "temperature-down", "lower the temperature (sharper)"),
        key("T", "temperature(1)", "T+", "temperature-up", "raise the temperature (flatter)"),
        key("k", "top_k(-1)", "k-", "top-k-down", "keep fewer tokens (top-k)"),
        key("K", "top_k(1)", "k+", "top-k-up", "keep more tokens (top-k)"),
        key("p", "top_p(-1)", "p-", "top-p-down", "a smaller nucleus (top-p)"),
        key("P", "top_p(1)", "p+", "top-p-up", "a larger nucleus (top-p)"),
        key("r", "seed", "Seed", "seed", "the next random seed (the sampled steps)"),
        key("b", "beam(-1)", "Beam-", "beam-down", "a narrower beam"),
        key("B", "beam(1)", "Beam+", "beam-up", "a wider beam"),
        key("a", "alpha(-1)", "α-", "alpha-down", "less length normalisation (alpha)"),
        key("A", "alpha(1)", "α+", "alpha-up", "more length normalisation (alpha)"),
    ]


class DecodingKeys:
    """The language model's decoding keys' actions, for a view that keeps a ``settings`` (strategy,
    temperature, top_k, top_p, seed) and applies a change with ``_set(**changes)``."""

    def action_strategy(self) -> None:
        self._set(strategy=STRATEGIES[(STRATEGIES.index(self.settings.strategy) + 1) % len(STRATEGIES)])

    def action_temperature(self, step: int) -> None:
        self._set(temperature=stepped(TEMPERATURES, self.settings.temperature, step))

    def action_top_k(self, step: int) -> None:
        self._set(top_k=stepped(TOP_KS, self.settings.top_k, step))

    def action_top_p(self, step: int) -> None:
        self._set(top_p=stepped(TOP_PS, self.settings.top_p, step))

    def action_seed(self) -> None:
        self._set(seed=self.settings.seed + 1)
