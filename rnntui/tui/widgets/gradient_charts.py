"""The Gradients view's charts (textual-plotext, drawn as ``Chart`` draws): gradient norms through time on
a log axis, each time step's term of dL/dW_hh, per-group gradient norms while training, a run's gradient
norm against the clipping threshold, gate saturation.

They are not drawn from a training History: each keeps the plain numbers it was given and ``replot()``s.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from rnntui.tui.widgets.charts import Chart, _thin

REFERENCE_LABEL = "0.5^(T-t)"
REFERENCE_COLOR = (150, 150, 150)
# a colour per kind, the same in every chart and legend (RNN, GRU, LSTM), then for the other lines
KIND_COLORS = {"RNN": (255, 95, 95), "GRU": (95, 215, 95), "LSTM": (95, 175, 255)}
COLORS = ((255, 175, 0), (215, 95, 255), (0, 215, 215), (255, 95, 95), (95, 215, 95), (95, 175, 255),
          (215, 215, 95), (255, 135, 175))
LOW = 12  # a chart this short leaves out its x label (one more row for the plot)


def rgb_style(color: tuple[int, int, int]) -> str:
    """The Rich style of a chart colour, for a legend written beside the chart."""
    r, g, b = color
    return f"bold #{r:02x}{g:02x}{b:02x}"


def kind_color(label: str, index: int) -> tuple[int, int, int]:
    """A line's colour: its kind's (the label starts with RNN, GRU or LSTM), else the index-th."""
    head = label.split()[0].removeprefix("bi-") if label else ""
    return KIND_COLORS.get(head, COLORS[index % len(COLORS)])


@dataclass(frozen=True)
class Line:
    label: str
    xs: list[float]
    ys: list[float]
    color: tuple[int, int, int] | None = None
    connect: bool = True  # a line; False: points


def positive(xs: Sequence[float], ys: Sequence[float]) -> tuple[list[float], list[float]]:
    """The points a log axis can show: finite y > 0 (an underflowed gradient is 0)."""
    pairs = [(x, y) for x, y in zip(xs, ys) if isinstance(y, (int, float)) and math.isfinite(y) and y > 0]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def tick_label(value: float) -> str:
    """1, 0.5, 20, 1e-3, 2e-5: short enough for a y axis."""
    if 1e-2 <= value < 1e4:
        return f"{value:g}"
    mantissa, exponent = f"{value:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def _thin_ticks(ticks: list[float], most: int) -> list[float]:
    step = max(1, math.ceil(len(ticks) / max(most, 2)))
    return ticks[::step]


def log_ticks(ys: Sequence[float], most: int = 6) -> tuple[list[float], list[str]]:
    """Ticks inside the range of ``ys`` for a log axis: powers of ten where two or more fall in it, else
    1-2-5 steps, else its two ends (plotext draws a tick outside the range over the axis labels)."""
    ys = [y for y in ys if y > 0 and math.isfinite(y)]
    if not ys:
        return [], []
    lo, hi = min(ys), max(ys)
    first, last = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
    powers = [p for p in range(first, last + 1) if lo <= 10.0 ** p <= hi]
    if len(powers) >= 2:
        step = next((k for k in (1, 2, 3, 5, 10, 20, 50) if len(powers) / k <= max(most, 2)), 100)
        kept = [p for p in powers if p % step == 0]
        ticks = [10.0 ** p for p in (kept if len(kept) >= 2 else [powers[0], powers[-1]])]
    else:
        ticks = [m * 10.0 ** p for p in range(first, last + 1) for m in (1, 2, 5) if lo <= m * 10.0 ** p <= hi]
        if len(ticks) < 2:
            ticks = [lo, hi] if hi > lo else [lo]
            return ticks, [f"{t:.2g}" for t in ticks]
        ticks = _thin_ticks(ticks, most)
    return ticks, [tick_label(t) for t in ticks]


def int_ticks(lo: float, hi: float, most: int = 6) -> list[int]:
    """Whole-number ticks from ``lo`` to ``hi`` at a step of 1, 2 or 5 times a power of ten."""
    span = max(hi - lo, 1)
    raw = span / max(most - 1, 1)
    power = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    step = next((m * power for m in (1, 2, 5, 10) if m * power >= raw), 10 * power)
    step = max(1, int(step))
    start = math.ceil(lo / step) * step
    return list(range(int(start), int(hi) + 1, step))


class SeriesChart(Chart):
    """Lines (``Line``) against a shared x; ``log`` draws y on a log axis with decade ticks, leaving out
    the points it cannot show (0: a gradient that underflowed). ``legend``: plotext's legend inside the
    plot (off when the view writes its own beside the chart)."""

    DRAW_AT_EACH_BUILD = True

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.series: list[Line] = []
        self.chart_title = ""
        self.xlabel = ""
        self.log_y = True
        self.vlines: list[float] = []
        self.hlines: list[float] = []
        self.legend = True
        self.xticks: tuple[list[float], list[str]] | None = None

    def set_lines(self, lines: list[Line], title: str = "", xlabel: str = "", log: bool = True,
                  vlines: Sequence[float] = (), hlines: Sequence[float] = (), legend: bool = True,
                  xticks: tuple[list[float], list[str]] | None = None) -> None:
        self.series, self.chart_title, self.xlabel, self.log_y = list(lines), title, xlabel, log
        self.vlines, self.hlines, self.legend, self.xticks = list(vlines), list(hlines), legend, xticks
        self.replot()


    def draw(self, plt, h) -> None:
        plt.title(self.chart_title)
        shown: list[float] = []
        for i, line in enumerate(self.series):
            xs, ys = positive(line.xs, line.ys) if self.log_y else (line.xs, line.ys)
            if not xs:
                continue
            xs, ys = _thin(xs, ys, self.points_limit)  # a braille cell holds 2 columns of dots
            shown += ys
            color = line.color or kind_color(line.label, i)
            label = line.label if self.legend else None
            if line.connect:
                plt.plot(xs, ys, label=label, marker="braille", color=color)
            else:
                plt.scatter(xs, ys, label=label, marker="braille", color=color)
        if self.log_y and shown:
            shown += [y for y in self.hlines if y > 0]
            plt.yscale("log")
            # a few rows apart: plotext places a label up to a row off its value
            ticks, labels = log_ticks(shown, most=max(2, self.size.height // 4))
            plt.yticks(ticks, labels)
        else:
            plt.yscale("linear")
        for x in self.vlines:
            plt.vline(x, color=REFERENCE_COLOR)
        for y in self.hlines:
            plt.hline(y, color=(255, 175, 0))
        if self.xticks is not None:
            plt.xticks(*self.xticks)
        else:
            xs = [x for line in self.series for x in line.xs]
            if xs and all(float(x).is_integer() for x in xs):  # steps and distances: whole numbers
                ticks = int_ticks(min(xs), max(xs), most=max(2, self.size.width // 10))
                plt.xticks(ticks, [str(t) for t in ticks])
        plt.xlabel(self.xlabel if self.size.height >= LOW else "")


class SaturationChart(Chart):
    """One gate's units as points at (fraction of steps below the low threshold, fraction above the high):
    Karpathy et al.'s picture. Right: mostly closed; top: mostly open; the origin: rarely saturated."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.gate = ""
        self.low: list[float] = []
        self.high: list[float] = []
        self.color = COLORS[0]

    def set_points(self, gate: str, low: list[float], high: list[float],
                   color: tuple[int, int, int] = COLORS[0]) -> None:
        self.gate, self.low, self.high, self.color = gate, list(low), list(high), color
        self.replot()

    def on_resize(self) -> None:
        self.replot()

    def draw(self, plt, h) -> None:
        plt.title(self.gate)
        if self.low:
            plt.scatter(self.low, self.high, marker="braille", color=self.color)
        plt.xlim(0, 1)
        plt.ylim(0, 1)
        plt.xticks([0, 0.5, 1], ["0", ".5", "1"])
        plt.yticks([0, 0.5, 1], ["0", ".5", "1"])
        plt.xlabel("closed (< .1)" if self.size.height >= LOW else "")
