"""The Prompt view's input line: up and down recall earlier prompts, a pasted text comes in whole."""

from __future__ import annotations

from textual import events
from textual.binding import Binding
from textual.widgets import Input

MAX_HISTORY = 100


class PromptInput(Input):
    """An Input with a history (``remember`` after each prompt; up/down walk it, the text being typed is
    kept as the newest line). A paste keeps all its lines, joined by spaces (Input keeps only the first)."""

    BINDINGS = [
        Binding("up", "history(-1)", "Earlier", id="prompt.history-back", show=False,
                tooltip="recall the previous prompt"),
        Binding("down", "history(1)", "Later", id="prompt.history-forward", show=False,
                tooltip="recall the next prompt (the newest is what you were typing)"),
    ]

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("select_on_focus", False)  # Enter to come back and go on typing keeps the text
        super().__init__(**kwargs)
        self.history: list[str] = []
        self._position = 0  # in history; len(history): the draft
        self._draft = ""

    def remember(self, prompt: str) -> None:
        if prompt and (not self.history or self.history[-1] != prompt):
            self.history.append(prompt)
            del self.history[:-MAX_HISTORY]
        self._position = len(self.history)
        self._draft = ""

    def action_history(self, step: int) -> None:
        position = min(max(self._position + step, 0), len(self.history))
        if position == self._position:
            return
        if self._position == len(self.history):
            self._draft = self.value  # leaving the line being typed: keep it
        self._position = position
        self.value = self._draft if position == len(self.history) else self.history[position]
        self.cursor_position = len(self.value)

    def _on_paste(self, event: events.Paste) -> None:
        if event.text:
            text = " ".join(line for line in event.text.splitlines() if line.strip())
            selection = self.selection
            if selection.is_empty:
                self.insert_text_at_cursor(text)
            else:
                self.replace(text, *selection)
        event.stop()
        event.prevent_default()  # Input's own handler would insert the first line again
