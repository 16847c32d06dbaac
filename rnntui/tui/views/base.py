"""What every view of the playground is: a tab with its own keys, which act only while it is shown."""

from __future__ import annotations

from typing import ClassVar

from textual import events
from textual.app import ComposeResult
from textual.widget import Widget
from textual.widgets import Static

from rnntui.tui.views import ENTRIES


class View(Widget):
    """One view (a tab). Its ``BINDINGS`` work while the focus is inside it, which ``activate`` (called each
    time the view is shown) sees to; ``check_action`` says which of them can run now. A subclass names its
    ``VIEW_ID``; its title and key come from the list of views (``rnntui.tui.views.VIEWS``)."""

    VIEW_ID: ClassVar[str] = ""
    TITLE: ClassVar[str] = ""
    KEY: ClassVar[str] = ""
    ABOUT: ClassVar[str] = ""  # one or two lines at the top: what to look at, and what the learner should see
    OPENING: ClassVar[str] = ""  # what it shows at the top instead, when its parts have lines of their own

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        entry = ENTRIES.get(cls.VIEW_ID)
        if entry is not None:
            cls.TITLE, cls.KEY = entry.title, entry.key

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("id", self.VIEW_ID)
        super().__init__(**kwargs)
        self._last_focus: Widget | None = None

    async def mount_rest(self) -> None:
        """What the view mounts just after the first frame (the first view shown is in it; the rest is not)."""

    def compose_about(self) -> ComposeResult:
        yield Static(self.ABOUT, classes="about", markup=False)

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        self._last_focus = event.widget

    def default_focus(self) -> Widget | None:
        """What gets the focus when the view is shown for the first time (the first focusable widget)."""
        return next((w for w in self.query("*") if w.focusable), self if self.focusable else None)

    def activate(self) -> None:
        """The view is on screen: the focus goes back where it was in it (or to ``default_focus``), so its
        keys work at once."""
        last = self._last_focus
        target = last if last is not None and last.is_attached and last.focusable else self.default_focus()
        if target is not None:
            target.focus(scroll_visible=False)
