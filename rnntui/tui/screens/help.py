"""The help screen: every key of the app and of each view, made from their bindings."""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Input, Static

Section = tuple[str, list[tuple[str, str]]]  # a title, and (keys, what they do) rows

KEY_NAMES = {"question_mark": "?"}


def _rows(bindings: Sequence) -> list[tuple[str, str]]:
    rows = []
    for binding in bindings:
        if isinstance(binding, Binding) and binding.description:
            keys = " / ".join(KEY_NAMES.get(k.strip(), k.strip()) for k in binding.key.split(","))
            what = binding.description + (f": {binding.tooltip}" if binding.tooltip else "")
            rows.append((keys, what))
    return rows


def help_sections(app: App, views: Sequence[type]) -> list[Section]:
    """The app's own keys (and the screen's: moving the focus), then each view's, as they are bound."""
    everywhere = _rows(app.BINDINGS) + _rows(Screen.BINDINGS)
    everywhere.append((app.COMMAND_PALETTE_BINDING, "the command palette: every action, themes, screenshots"))
    sections = [("Everywhere", everywhere)]
    for view in views:
        rows = _rows(view.BINDINGS)
        if rows:
            sections.append((f"The {view.TITLE} view ({view.KEY})", rows))
    return sections


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,question_mark,q", "dismiss", "Close", id="help.close")]

    def __init__(self, sections: list[Section]) -> None:
        super().__init__()
        self.sections = sections

    def compose(self) -> ComposeResult:
        width = max(len(keys) for _, rows in self.sections for keys, _ in rows)
        lines = ["rnntui keys: a view's keys work while it is shown", ""]
        for title, rows in self.sections:
            lines += [title, *(f"  {keys:>{width}}  {what}" for keys, what in rows), ""]
        lines += ["Esc, ? or q closes this screen."]
        with VerticalScroll():
            yield Static("\n".join(lines), markup=False)


class Ask(ModalScreen[str | None]):
    """One question and a line to answer it: Enter gives the text, Esc gives None."""

    AUTO_FOCUS = "Input"  # not the scroll container: Enter must reach the Input
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="ask.cancel")]

    def __init__(self, question: str, default: str = "", input_id: str = "answer") -> None:
        super().__init__()
        self.question, self.default, self.input_id = question, default, input_id

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(self.question, markup=False)
            yield Input(self.default, id=self.input_id)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class SavePresetScreen(Ask):
    """Asks where to save the edited setup as a TOML preset."""

    def __init__(self, default: str) -> None:
        super().__init__("Save the setup as a TOML preset (Enter saves, Esc cancels):", default, "save-path")
