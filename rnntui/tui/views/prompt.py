"""The Prompt view (5): generate from a language model, translate with a seq2seq model (issue 12)."""

from __future__ import annotations

from rnntui.tui.views.inspector import InspectorView


class PromptView(InspectorView):
    VIEW_ID = "prompt"
    TASKS = ("lm", "seq2seq")
    ABOUT = "Type a prefix and watch the model continue it, or an English sentence and compare its translations."
    PLANNED = "an interactive prompt for character generation and translation"
