"""The Sampling view (4): how decoding strategies choose the next token (issue 12)."""

from __future__ import annotations

from rnntui.tui.views.inspector import InspectorView


class SamplingView(InspectorView):
    VIEW_ID = "sampling"
    TASKS = ("lm", "seq2seq")  # a translation model's beam search too
    DEFAULT_TASKS = ("lm",)
    ABOUT = ("The next-token distribution of a trained model, and what greedy, temperature, top-k and top-p "
             "sampling keep of it.")
    PLANNED = "the sampling-strategy visualizer: greedy, temperature, top-k, top-p"
