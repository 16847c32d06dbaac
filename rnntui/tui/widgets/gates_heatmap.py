"""Colour scales and the texts the Gradients view draws from the engine's plain lists: a heatmap of units
against time for one gate, a text coloured by one unit's value (or by a gradient's norm, on a log scale),
and their legends. Each function returns Rich ``Text``."""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache

from rich.style import Style
from rich.text import Text
from textual.widget import Widget

from rnntui.inspect.vocab import display

# viridis, 6 stops: low (dark) to high (bright); a sigmoid gate 0..1, or a norm's decade
SEQUENTIAL = ((68, 1, 84), (65, 68, 135), (42, 120, 142), (34, 168, 132), (122, 209, 81), (253, 231, 37))
# a tanh state or a memory cell: negative blue, 0 dark, positive red
DIVERGING = ((58, 110, 220), (28, 28, 28), (225, 65, 65))
SIGMOID = {"R", "Z", "I", "F", "O"}  # gates in (0, 1); the rest are in (-1, 1) (C: any sign and size)


def _mix(stops: Sequence[tuple[int, int, int]], x: float) -> tuple[int, int, int]:
    """The colour at ``x`` in [0, 1] along ``stops`` (linear between neighbours)."""
    x = 0.0 if not math.isfinite(x) else min(1.0, max(0.0, x))
    pos = x * (len(stops) - 1)
    i = min(int(pos), len(stops) - 2)
    f = pos - i
    a, b = stops[i], stops[i + 1]
    return tuple(round(a[k] + (b[k] - a[k]) * f) for k in range(3))  # type: ignore[return-value]


def _hex(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


@lru_cache(maxsize=4096)
def _cell_style(rgb: tuple[int, int, int]) -> Style:
    """Text on a background of ``rgb`` (kept: a heatmap repeats its colours)."""
    return Style(color=_ink(rgb), bgcolor=_hex(rgb))


def _ink(rgb: tuple[int, int, int]) -> str:
    """Black or white text, whichever reads on ``rgb``."""
    r, g, b = rgb
    return "black" if 0.299 * r + 0.587 * g + 0.114 * b > 140 else "white"


class Scale:
    """Where a value lies on a gate's colour scale: 0..1 for a sigmoid gate, -m..m around 0 otherwise."""

    def __init__(self, gate: str, values: Sequence[float]) -> None:
        self.sigmoid = gate in SIGMOID
        finite = [abs(v) for v in values if math.isfinite(v)]
        self.limit = 1.0 if self.sigmoid or gate != "C" else max(max(finite, default=1.0), 1e-6)

    def position(self, v: float) -> float:
        return v if self.sigmoid else 0.5 + 0.5 * v / self.limit

    def rgb(self, v: float) -> tuple[int, int, int]:
        return _mix(SEQUENTIAL if self.sigmoid else DIVERGING, self.position(v))

    def style(self, v: float) -> Style:
        return _cell_style(self.rgb(v))

    def legend(self) -> Text:
        out = Text()
        lo, hi = (0.0, 1.0) if self.sigmoid else (-self.limit, self.limit)
        out.append(f"{lo:.2g} ")
        for k in range(10):
            out.append(" ", Style(bgcolor=_hex(self.rgb(lo + (hi - lo) * (k + 0.5) / 10))))
        out.append(f" {hi:.2g}")
        return out


def shown_token(token: str, word: bool) -> str:
    """A token as it stands in a line of text: spaces stay spaces, other invisible characters are shown."""
    shown = token if token == " " else display(token)
    return shown + (" " if word else "")


def heatmap_text(gates: dict[str, list[list[float]]], gate: str, units: Sequence[int], selected: int,
                 tokens: Sequence[str], width: int, height: int, word: bool = False) -> Text:
    """Rows of units (``units`` in order, the ``selected`` one marked), a column per step, each cell coloured
    by the gate's value; the text under it, a token per column; at most ``width`` x ``height`` cells."""
    values = gates[gate]  # [step][unit]
    steps = len(values)
    label_w = max(4, len(str(max(units, default=0))) + 2)
    left = label_w + 1  # the label and a space before the first step
    cols = max(1, min(steps, width - left))
    if cols < steps:  # room for "+N": the steps left out
        cols = max(1, width - left - len(f" +{steps}"))
    scale = Scale(gate, [values[t][u] for t in range(steps) for u in units])
    out = Text(no_wrap=True, overflow="crop")
    rows = max(1, height - 1)
    if selected in units:  # the rows shown: a page that holds the selected unit
        at = list(units).index(selected)
        first = (at // rows) * rows
    else:
        first = 0
    for r, u in enumerate(units[first : first + rows]):
        if r:
            out.append("\n")
        mark = u == selected
        out.append(f"{'▶' if mark else ' '}{u:>{label_w - 1}} ", "bold reverse" if mark else "dim")
        for t in range(cols):
            out.append(" ", scale.style(values[t][u]))
    out.append("\n")
    out.append(" " * left)
    line = "".join(shown_token(tok, False)[:1] if not word else "·" for tok in tokens[:cols])
    out.append(line, "dim")
    if cols < steps:
        out.append(f" +{steps - cols}", "bold")
    return out


def unit_text(tokens: Sequence[str], values: Sequence[float], gate: str, marks: set[int] | None = None,
              word: bool = False) -> Text:
    """The text, each token on the colour of one unit's value (tokens at ``marks`` underlined)."""
    scale = Scale(gate, values)
    out = Text()
    for i, (tok, v) in enumerate(zip(tokens, values)):
        style = scale.style(v)
        if marks and i in marks:
            style += Style(underline=True, bold=True)
        out.append(shown_token(tok, word), style)
    return out


# -- a gradient's norm per token, on a log scale ------------------------------------------------------


def norm_rgb(v: float, top: float, decades: int = 5) -> tuple[int, int, int] | None:
    """A norm's colour: its decade below ``top`` (None: more than ``decades`` decades below, or 0)."""
    if not (v > 0 and math.isfinite(v)) or top <= 0:
        return None
    below = math.log10(top / v)  # 0 at the top
    if below >= decades:
        return None
    return _mix(SEQUENTIAL, 1 - below / decades)


def norm_legend(top: float, decades: int = 5) -> Text:
    """Swatches with the norms they stand for: the band of each decade below the largest norm."""
    out = Text()
    out.append("‖grad‖ ", "bold")
    out.append(" ", Style(bgcolor="grey15"))
    out.append(f" <{top / 10 ** decades:.0e} ", "dim")
    for k in range(decades - 1, -1, -1):
        edge = top / 10 ** (k + 1)  # each band from its lower edge up
        rgb = _mix(SEQUENTIAL, 1 - (k + 0.5) / decades)
        out.append("  ", Style(bgcolor=_hex(rgb)))
        out.append(f" ≥{edge:.0e} ")
    return out


def saliency_text(tokens: Sequence[str], norms: Sequence[float], position: int, word: bool = False) -> Text:
    """The text: every token before ``position`` on the colour of its gradient norm, the token at
    ``position`` (the one predicted) in reverse, the tokens after it dim (the model has not read them)."""
    earlier = [n for n in norms[:position] if math.isfinite(n)]
    top = max(earlier, default=0.0)
    out = Text()
    for i, tok in enumerate(tokens):
        shown = shown_token(tok, word)
        if i == position:
            out.append(shown if shown.strip() else "␣" + shown[1:], "bold reverse")
        elif i > position:
            out.append(shown, "dim")
        else:
            rgb = norm_rgb(norms[i], top)
            out.append(shown, Style(color=_ink(rgb), bgcolor=_hex(rgb)) if rgb else Style(bgcolor="grey15"))
    return out


class Heatmap(Widget):
    """``heatmap_text`` drawn at the widget's own size (the rows and steps that fit)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.data: dict | None = None

    def show(self, data: dict | None) -> None:
        """``data``: heatmap_text's arguments but the size (None: nothing)."""
        self.data = data
        self.refresh()

    def render(self) -> Text:
        if not self.data:
            return Text("")
        width, height = self.content_size
        return heatmap_text(**self.data, width=max(width, 8), height=max(height, 2))
