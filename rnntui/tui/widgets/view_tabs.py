"""The tab bar: the views by key and title on one line, the one on screen highlighted; a click shows one.

One widget drawing one line of text: Textual's ``TabbedContent`` makes a widget per tab and an underline
bar, which cost the first frame about a fifth of its time (``benchmarks/startup.py``); the number keys,
not a focused tab bar, are how the views are switched.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual import events
from textual.reactive import reactive
from textual.widget import Widget


class ViewTabs(Widget):
    COMPONENT_CLASSES = {"view-tabs--active", "view-tabs--inactive"}

    active = reactive("", layout=False)

    def __init__(self, tabs: Sequence[tuple[str, str, str]], **kwargs) -> None:
        """``tabs``: (view id, key, title) of each view, in order."""
        super().__init__(**kwargs)
        self.tabs = list(tabs)
        self._spans: list[tuple[int, int, str]] = []  # columns of each tab, for clicks

    def render(self) -> Text:
        active = self.get_component_rich_style("view-tabs--active")
        inactive = self.get_component_rich_style("view-tabs--inactive")
        text, spans = Text(no_wrap=True, overflow="crop"), []
        for view_id, key, title in self.tabs:
            start = len(text)
            text.append(f" {key} {title} ", active if view_id == self.active else inactive)
            spans.append((start, len(text), view_id))
            text.append(" ")
        self._spans = spans
        return text

    def labels(self) -> list[str]:
        """The tabs as shown, the active one in brackets (for tests and screen readers)."""
        return [f"[{key} {title}]" if view_id == self.active else f"{key} {title}" for view_id, key, title in self.tabs]

    async def on_click(self, event: events.Click) -> None:
        for start, end, view_id in self._spans:
            if start <= event.x < end:
                await self.app.run_action(f"show_view('{view_id}')")
                return
