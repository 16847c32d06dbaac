"""The footer: the keys that work now, on one line drawn as one piece of text.

Textual's ``Footer`` makes a widget per key and rebuilds them all whenever the bindings change, which
they do at every view switch and focus change: most of a key press's time (``benchmarks/tui.py``:
key press to frame). ``KeyBar`` shows the
same thing (the active, shown bindings of the focused chain; disabled ones dimmed; the command palette
at the right), repaints only when that changed, and still runs a key's action when it is clicked.
"""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.screen import Screen
from textual.widget import Widget

Item = tuple[str, str, str, bool, object]  # key shown, description, action, enabled, node owning the binding


class KeyBar(Widget):
    COMPONENT_CLASSES = {"keybar--key", "keybar--description", "keybar--disabled"}

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.items: list[Item] = []
        self.palette: tuple[str, str] | None = None
        self._spans: list[tuple[int, int, Item]] = []  # columns of each item, for clicks

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self._bindings_changed(self.screen)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen) -> None:
        if screen is not self.screen:
            return
        items: list[Item] = []
        seen: set[str] = set()
        palette = None
        for node, binding, enabled, tooltip in screen.active_bindings.values():
            if binding.key == self.app.COMMAND_PALETTE_BINDING and self.app.ENABLE_COMMAND_PALETTE:
                palette = (self.app.get_key_display(binding), binding.description or "palette")
                continue
            if not binding.show or binding.action in seen:  # one entry per action, as Footer shows
                continue
            seen.add(binding.action)
            items.append((self.app.get_key_display(binding), binding.description, binding.action, enabled, node))
        if (items, palette) != (self.items, self.palette):
            self.items, self.palette = items, palette
            self.refresh()

    def render(self) -> Text:
        key_style = self.get_component_rich_style("keybar--key")
        description_style = self.get_component_rich_style("keybar--description")
        disabled_style = self.get_component_rich_style("keybar--disabled")
        for pad in (" ", ""):  # tighter when the roomy form does not fit (the Runs view at 80 columns)
            text, spans = Text(no_wrap=True, overflow="crop"), []
            for item in self.items:
                key, description, _, enabled, _ = item
                start = len(text)
                text.append(f"{pad or ' '}{key}{pad}", disabled_style if not enabled else key_style)
                text.append(f" {description}" if not pad else f"{description} ",
                            disabled_style if not enabled else description_style)
                spans.append((start, len(text), item))
            if len(text) <= self.size.width:
                break
        if self.palette:
            key, description = self.palette
            right = Text.assemble((f" {key} ", key_style), (f"{description} ", description_style))
            gap = self.size.width - len(text) - len(right)
            if gap > 0:
                text.append(" " * gap)
                text.append_text(right)
        self._spans = spans
        return text

    def key_texts(self) -> list[str]:
        """What the bar shows, key then description, for tests and screen readers."""
        return [f"{key} {description}" for key, description, *_ in self.items]

    async def on_click(self, event: events.Click) -> None:
        for start, end, (_, _, action, enabled, node) in self._spans:
            if start <= event.x < end and enabled:
                await self.app.run_action(action, node)
                return
