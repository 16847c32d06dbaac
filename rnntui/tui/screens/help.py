"""The help screen: every key of the app, from the bindings themselves."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Static


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,question_mark,q", "dismiss", "Close", id="help.close")]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 72; max-width: 95%; height: auto; max-height: 90%;
                                  border: thick $primary; background: $surface; padding: 1 2; }
    """

    def __init__(self, rows: list[tuple[str, str]]) -> None:
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        width = max(len(k) for k, _ in self.rows)
        lines = ["rnntui keys (also in the command palette: ctrl+p)", ""]
        lines += [f"{key:>{width}}  {description}" for key, description in self.rows]
        lines += ["", "Esc, ? or q closes this screen."]
        with VerticalScroll():
            yield Static("\n".join(lines), markup=False)


class SavePresetScreen(ModalScreen[str | None]):
    """Asks where to save the edited setup as a TOML preset."""

    AUTO_FOCUS = "#save-path"  # not the scroll container: Enter must reach the Input
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="save.cancel")]
    DEFAULT_CSS = """
    SavePresetScreen { align: center middle; }
    SavePresetScreen > VerticalScroll { width: 70; max-width: 95%; height: auto; border: thick $primary;
                                        background: $surface; padding: 1 2; }
    """

    def __init__(self, default: str) -> None:
        super().__init__()
        self.default = default

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static("Save the setup as a TOML preset (Enter saves, Esc cancels):")
            yield Input(self.default, id="save-path")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)
