"""The Sequence view (6): the sine experiment, 1-step against k-step predictions (issue 15)."""

from __future__ import annotations

from rnntui.tui.views.inspector import InspectorView


class SequenceView(InspectorView):
    VIEW_ID = "sequence"
    TASKS = ("sine",)
    ABOUT = ("A noisy sine and a model of its last tau values: 1-step predictions fit, k-step predictions drift "
             "as their errors feed back.")
    PLANNED = "the sine experiment: 1-step, multi-step and k-step predictions"
