"""The Gradients view (7): vanishing and exploding gradients, clipping and truncation (issues 13 and 14)."""

from __future__ import annotations

from rnntui.tui.views.inspector import InspectorView


class GradientsView(InspectorView):
    VIEW_ID = "gradients"
    TASKS = ("lm",)
    ABOUT = ("How far back a recurrent network's gradient reaches: dL/dH_t shrinks (or grows) by a factor per "
             "step, which clipping and truncated backpropagation tame.")
    PLANNED = "gradient norms per layer and through time"
