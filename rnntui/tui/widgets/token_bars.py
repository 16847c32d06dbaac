"""A step's next-token distribution as horizontal bars: each token made visible, its probability after the
temperature, the cumulative mass, and what the strategy keeps (the kept ones with the probability they are
sampled with, the excluded ones greyed), with the top-k cut and the top-p nucleus boundary drawn across.

``TokenBars.show(summary, strategy, top_p)`` takes the engine's ``StepSummary`` (plain data); the cursor
(up/down) picks a row, ``cursor_token`` is its token. Only a repaint, never a layout: a key that changes
the temperature redraws the bars in the same frame (``benchmarks/sampling_view.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.reactive import reactive
from textual.widget import Widget

if TYPE_CHECKING:  # (torch: the views are mounted before it is imported)
    from rnntui.decoding.sampling import StepSummary

EIGHTHS = " ▏▎▍▌▋▊▉"
SHOWN = {" ": "␣", "\n": "⏎", "\t": "⇥", "\r": "␍", "": "∅"}


def visible(token: str, width: int | None = None) -> str:
    """A token as it can be seen: a space is ␣, a newline ⏎, other control characters escaped; cut to
    ``width`` cells with … when longer."""
    shown = SHOWN.get(token)
    if shown is None:
        shown = "".join(SHOWN.get(c) or (c if c.isprintable() else repr(c)[1:-1]) for c in token)
    if width is not None and len(shown) > width:
        shown = shown[: max(width - 1, 0)] + "…"
    return shown


def bar(fraction: float, width: int) -> str:
    """A bar of ``fraction`` (0..1) of ``width`` cells, in eighths of a cell."""
    eighths = round(max(0.0, min(1.0, fraction)) * width * 8)
    full, part = divmod(eighths, 8)
    return ("█" * full + (EIGHTHS[part] if part else "")).ljust(width)


@dataclass(frozen=True)
class Cut:
    """A line drawn across the bars after ``after`` rows."""

    after: int
    label: str
    active: bool  # the strategy's own cut (the others say where they would cut)


def cuts(summary: StepSummary, strategy: str, top_k: int, top_p: float) -> list[Cut]:
    """The lines across the bars: the greedy pick, the top-k cut, the top-p nucleus boundary; the strategy's
    own bright, the others dim (where they would cut); cuts at the same row share a line."""
    rows = summary.rows
    mass = rows[summary.top_p_cut - 1].cumulative if summary.top_p_cut <= len(rows) else None
    found: list[Cut] = []
    if strategy == "greedy":
        found.append(Cut(1, "greedy: the most probable token only", True))
    found.append(Cut(summary.top_k_cut, f"top-k {top_k}: the {summary.top_k_cut} most probable", strategy == "top-k"))
    nucleus = f"top-p {top_p:g}: the nucleus, {summary.top_p_cut} token{'s' if summary.top_p_cut != 1 else ''}"
    if mass is not None:
        nucleus += f" holding {mass:.3f}"
    found.append(Cut(summary.top_p_cut, nucleus, strategy == "top-p"))
    merged: dict[int, Cut] = {}
    for cut in found:
        if cut.after in merged:
            old = merged[cut.after]
            first, second = (old, cut) if old.active or not cut.active else (cut, old)
            merged[cut.after] = Cut(cut.after, f"{first.label} · {second.label}", old.active or cut.active)
        else:
            merged[cut.after] = cut
    return sorted(merged.values(), key=lambda c: c.after)


class TokenBars(Widget, can_focus=True):
    """The bars of one step. ``version`` grows with each ``show``; ``painted`` is the version last drawn."""

    DEFAULT_CSS = """
    TokenBars { height: 1fr; min-height: 4; padding: 0 1; }
    TokenBars > .token-bars--header { color: $text-muted; }
    TokenBars > .token-bars--kept { color: $success; }
    TokenBars > .token-bars--excluded { color: $text-disabled; }
    TokenBars > .token-bars--cut { color: $accent; text-style: bold; }
    TokenBars > .token-bars--cut-inactive { color: $text-muted; }
    TokenBars > .token-bars--cursor { background: $accent 30%; text-style: bold; }
    """
    COMPONENT_CLASSES = {"token-bars--header", "token-bars--kept", "token-bars--excluded", "token-bars--cut",
                         "token-bars--cut-inactive", "token-bars--cursor"}
    BINDINGS = [
        Binding("up", "cursor(-1)", "Up", show=False, id="sampling.cursor-up", tooltip="the token above"),
        Binding("down", "cursor(1)", "Down", show=False, id="sampling.cursor-down", tooltip="the token below"),
        Binding("home", "cursor_to(0)", "First", show=False, id="sampling.cursor-first",
                tooltip="the most probable token"),
        Binding("end", "cursor_to(-1)", "Last", show=False, id="sampling.cursor-last",
                tooltip="the last token shown"),
    ]

    cursor = reactive(0, layout=False)

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.summary: StepSummary | None = None
        self.strategy, self.top_k, self.top_p = "greedy", 10, 0.9
        self.message = "no distribution yet"  # shown when there is no summary
        self.version = 0
        self.painted = -1
        self._top = 0  # the first line on screen (the lines scroll to keep the cursor in sight)

    def show(self, summary: StepSummary | None, strategy: str = "greedy", top_k: int = 10, top_p: float = 0.9,
             message: str = "", keep_cursor: bool = True) -> None:
        """Draw ``summary`` (None: ``message`` in its place); the cursor stays on its row unless told."""
        self.summary, self.strategy, self.top_k, self.top_p = summary, strategy, top_k, top_p
        self.message = message
        if not keep_cursor:
            self.cursor = 0
        self.cursor = min(self.cursor, max(len(summary.rows) - 1, 0)) if summary else 0
        self.version += 1
        self.refresh()

    @property
    def cursor_token(self) -> tuple[int, str] | None:
        """(vocabulary index, token) of the row under the cursor."""
        if self.summary is None or not self.summary.rows:
            return None
        row = self.summary.rows[self.cursor]
        return row.index, row.token

    def action_cursor(self, step: int) -> None:
        if self.summary is not None and self.summary.rows:
            self.cursor = max(0, min(len(self.summary.rows) - 1, self.cursor + step))

    def action_cursor_to(self, row: int) -> None:
        if self.summary is not None and self.summary.rows:
            self.cursor = row % len(self.summary.rows)

    def watch_cursor(self) -> None:
        self.refresh()

    # -- drawing ----------------------------------------------------------------------------------------------
    def lines(self, width: int) -> tuple[list[Text], int]:
        """Every line (header, rows, cuts) at ``width`` cells, and the index of the cursor's line."""
        summary = self.summary
        if summary is None:
            return [Text(self.message, style=self.get_component_rich_style("token-bars--header"))], 0
        styles = {name: self.get_component_rich_style(f"token-bars--{name}")
                  for name in ("header", "kept", "excluded", "cut", "cut-inactive", "cursor")}
        rows = summary.rows
        token_w = max(5, min(14, max((len(visible(r.token)) for r in rows), default=5)))
        rank_w = len(str(len(rows)))
        fixed = 2 + rank_w + 1 + token_w + 1 + 1 + 6 + 1 + 6 + 2 + 7  # cursor, rank, token, bar, P, cum, kept
        bar_w = max(4, width - fixed)
        temperature = "T 1 (greedy)" if self.strategy == "greedy" else f"T {summary.temperature:g}"
        scale = f"P(next), {temperature}"
        scale = scale[: bar_w - 2].ljust(bar_w - 1) + "1"  # the bars' scale: 0 to 1
        head = f"{' ' * (2 + rank_w)} {'token':<{token_w}} {scale} {'P':>6} {'cum':>6}  {'sampled':>7}"
        out = [Text(head[:width], style=styles["header"], no_wrap=True)]
        by_row = {c.after: c for c in cuts(summary, self.strategy, self.top_k, self.top_p)}
        cursor_line = 1
        for i, row in enumerate(rows):
            kept = row.kept
            style = styles["kept"] if kept else styles["excluded"]
            mark = "▶ " if i == self.cursor else "  "
            line = Text(no_wrap=True)
            line.append(f"{mark}{i + 1:>{rank_w}} ", styles["header"] if kept else style)
            line.append(f"{visible(row.token, token_w):<{token_w}} ", Style(bold=kept) + style if kept else style)
            line.append(bar(row.prob, bar_w), style)
            line.append(f" {row.prob:6.3f} {row.cumulative:6.3f}  ", style)
            line.append(f"{'→' + format(row.renormalised, '.3f'):>7}" if kept else f"{'·':>7}", style)
            if i == self.cursor:
                line.stylize(Style(bgcolor=styles["cursor"].bgcolor, bold=True))
                cursor_line = len(out)
            out.append(line)
            cut = by_row.get(i + 1)
            if cut is not None and i + 1 < len(rows):
                label = f" {cut.label} "
                rule = ("╌╌" + label).ljust(width - 2, "╌") if not cut.active else ("━━" + label).ljust(width - 2, "━")
                out.append(Text("  " + rule[: width - 2], style=styles["cut" if cut.active else "cut-inactive"],
                                no_wrap=True))
        return out, cursor_line

    def render(self) -> Text:
        width, height = self.content_size.width, self.content_size.height
        lines, cursor_line = self.lines(max(width, 20))
        if height > 0 and len(lines) > height:  # scroll to keep the cursor's line (and the header) in sight
            body = height - 1
            self._top = min(max(self._top, cursor_line - body), cursor_line - 1, len(lines) - 1 - body)
            self._top = max(self._top, 0)
            lines = [lines[0], *lines[1 + self._top: 1 + self._top + body]]
        else:
            self._top = 0
        self.painted = self.version
        return Text("\n").join(lines)
