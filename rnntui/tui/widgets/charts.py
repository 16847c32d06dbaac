"""Live charts (textual-plotext). Each owns its Plot (``self.plt``); ``replot`` redraws from a History."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import ClassVar

from plotext._utility import colors_to_ansi
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.geometry import Size
from textual.strip import Strip
from textual.visual import Visual, visualize
from textual_plotext import PlotextPlot

from rnntui.training.history import History


def _thin(xs: Sequence, ys: Sequence, limit: int) -> tuple[list, list]:
    """Every n-th point for drawing (plus the last), so a long run redraws as fast as a short one.
    A braille chart has 2 dots per column: more than a few points per column cannot be seen."""
    if len(xs) <= limit:
        return list(xs), list(ys)
    step = math.ceil(len(xs) / limit)
    idx = list(range(0, len(xs), step))
    if idx[-1] != len(xs) - 1:
        idx.append(len(xs) - 1)
    return [xs[i] for i in idx], [ys[i] for i in idx]


def _finite(xs: Sequence, ys: Sequence) -> tuple[list, list]:
    pairs = [(x, y) for x, y in zip(xs, ys) if isinstance(y, (int, float)) and math.isfinite(y)]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def _hashable(color):
    return tuple(color) if isinstance(color, list) else color


class Chart(PlotextPlot):
    """A chart that draws itself from a ``History``.

    It is drawn from plotext's matrix of cells straight into strips: PlotextPlot's ``render`` has plotext
    write the matrix out as ANSI text, which Rich reads back and Textual turns into strips, and those
    steps were more than half of a redraw. Each distinct cell colouring is styled once through
    Textual's own path (``_cell_style``), so the cells come out as PlotextPlot's would (a test compares
    them); ``render`` is still PlotextPlot's, for anything that asks for the renderable."""

    # plotext takes the log of the data in place when it builds: a chart with a log axis gives it its
    # data anew at each build (a resize or a theme change builds again without new data)
    DRAW_AT_EACH_BUILD: ClassVar[bool] = False

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.history = History()
        self._lines: list[Strip] = []
        self._lines_size = Size(0, 0)  # the size they were drawn for
        self._styles: dict[tuple, Style] = {}  # (fg, style, bg, the widget's base style) -> segment style

    def show(self, history: History) -> None:
        self.history = history
        self.replot()

    def replot(self) -> None:
        if not self.DRAW_AT_EACH_BUILD:
            self.plt.clear_data()  # the data, lines and texts; each draw sets its title and labels anew
            self.draw(self.plt, self.history)
        self.refresh()

    def draw(self, plt, history: History) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def render_line(self, y: int) -> Strip:
        if self._dirty_regions or self._lines_size != self.size:  # refreshed (new data, theme) or resized
            self._lines, self._lines_size = self._draw_lines(), self.size
            self._dirty_regions.clear()
        return self._lines[y] if 0 <= y < len(self._lines) else Strip.blank(self.size.width, self.visual_style.rich_style)

    def _draw_lines(self) -> list[Strip]:
        """The plot as strips, one per row of plotext's matrix (what ``PlotextPlot.render`` draws)."""
        width, height = self.size
        plt = self.plt
        if self.DRAW_AT_EACH_BUILD:
            plt.clear_data()
            self.draw(plt, self.history)
        plt.plotsize(width, height)  # as PlotextPlot.render sets the plot up
        plt._set_size(width, height)
        plt.theme(self._get_plotext_theme_name(self.app.theme))
        plt._set_sizes()  # plotext's Figure.build, up to the matrix (not its ANSI text)
        plt._build_matrix()
        matrix = plt.monitor.matrix
        base = self.visual_style
        lines = []
        for row in reversed(matrix.Rows):
            markers, fgs, styles, bgs = matrix.marker[row], matrix.fullground[row], matrix.style[row], matrix.background[row]
            segments, run, start = [], None, 0
            for col in matrix.Cols:
                colors = (fgs[col], styles[col], bgs[col])
                if colors != run:
                    if run is not None:
                        segments.append(Segment("".join(markers[start:col]), self._cell_style(run, base)))
                    run, start = colors, col
            if run is not None:
                segments.append(Segment("".join(markers[start:]), self._cell_style(run, base)))
            lines.append(Strip(segments, matrix.cols).adjust_cell_length(width, base.rich_style))
        blank = Strip.blank(width, base.rich_style)
        # the offsets are what Textual's text selection reads (as in any widget's strips)
        return [line.apply_offsets(0, y) for y, line in enumerate((lines + [blank] * height)[:height])]

    def _cell_style(self, colors: tuple, base) -> Style:
        """The style of a run of cells coloured ``colors`` (plotext's foreground, style and background),
        made as Textual makes it from PlotextPlot's ANSI text; kept, as there are a few per chart."""
        key = (*map(_hashable, colors), base)
        style = self._styles.get(key)
        if style is None:
            text = Text.from_ansi(colors_to_ansi(*colors) + "x")
            strip = Visual.to_strips(self, visualize(self, text), 1, 1, base)[0]
            style = self._styles[key] = next(iter(strip)).style
        return style

    def data_key(self, h: History) -> tuple:
        """What the chart draws from, in brief: it is drawn again only when this changes."""
        return len(h.step_loss), len(h.epochs)

    @property
    def points_limit(self) -> int:
        return max(60, 2 * self.size.width)

    def line(self, plt, xs: Sequence, ys: Sequence, label: str, marker: str = "braille", connect: bool = True) -> None:
        # braille draws 2 dots per column: more points than that only cost time (plotext's build is most
        # of a redraw); thinned first, so that a redraw's cost does not grow with the run
        xs, ys = _finite(*_thin(xs, ys, self.points_limit))
        if xs:
            (plt.plot if connect else plt.scatter)(xs, ys, label=label, marker=marker)


class LossChart(Chart):
    """Loss per step, raw and smoothed, and the mean training loss of each epoch."""

    def draw(self, plt, h: History) -> None:
        plt.title("loss per step")
        steps = range(1, len(h.step_loss) + 1)
        self.line(plt, steps, h.step_loss, "raw", connect=False)
        self.line(plt, steps, h.smoothed_loss(), "smoothed")
        if h.epochs and h.step_loss:
            per_epoch = max(1, len(h.step_loss) // max(len(h.epochs), 1))
            xs = [per_epoch * (i + 1) for i in range(len(h.epochs))]
            self.line(plt, xs, h.epoch_series("train_loss"), "epoch mean", marker="dot")
        plt.xlabel("step")


class MetricChart(Chart):
    """Per epoch: train and validation perplexity (LM), held-out BLEU (seq2seq) or test MSE (sine)."""

    def data_key(self, h: History) -> tuple:
        return (len(h.epochs),)  # nothing new until an epoch ends

    def draw(self, plt, h: History) -> None:
        keys = h.metric_keys()
        if "val_ppl" in keys or "train_ppl" in keys:
            shown, title = ["train_ppl", "val_ppl"], "perplexity"
        elif "val_bleu" in keys or "sample_bleu" in keys:
            shown, title = ["val_bleu", "sample_bleu"], "BLEU"
        elif "test_mse" in keys:
            shown, title = [k for k in keys if k.startswith("mse_k")] or ["test_mse"], "k-step test MSE"
        else:
            shown, title = [], "held-out metric"
        plt.title(title + " per epoch")
        epochs = list(range(1, len(h.epochs) + 1))
        for key in shown:
            if key in keys:
                self.line(plt, epochs, h.epoch_series(key), key, marker="dot" if len(epochs) < 30 else "braille")
        plt.xlabel("epoch")


class GradChart(Chart):
    """Gradient norm before and after clipping, the threshold, and the fraction of clipped steps."""

    clip: float = 0.0

    def draw(self, plt, h: History) -> None:
        clipped = "clipped" if self.size.width >= 26 else "clip"  # plotext leaves out a title that does not fit
        plt.title(f"grad norm {100 * h.clipped_fraction:.0f}% {clipped}")
        xs, ys = _thin(range(1, len(h.grad_norm) + 1), h.grad_norm, self.points_limit)
        self.line(plt, xs, ys, "before clip", connect=False)
        if self.clip > 0 and xs:
            self.line(plt, xs, [min(g, self.clip) for g in ys], "after clip", connect=False)
            plt.hline(self.clip)
        plt.xlabel("step")


class SpeedChart(Chart):
    """Tokens (or examples) per second through the epoch."""

    unit: str = "tok"

    def draw(self, plt, h: History) -> None:
        plt.title(f"thousand {self.unit}/s")  # the axis's labels stay short
        xs, ys = _thin(range(1, len(h.tokens_per_s) + 1), h.tokens_per_s, self.points_limit)
        self.line(plt, xs, [y / 1000 for y in ys], f"k{self.unit}/s")
        plt.xlabel("step")


class CompareChart(Chart):
    """One per-epoch metric of several runs overlaid, with a legend."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.series: list[tuple[str, list[float]]] = []
        self.metric = ""

    def compare(self, metric: str, series: list[tuple[str, list[float]]]) -> None:
        self.metric, self.series = metric, series
        self.replot()

    def draw(self, plt, h: History) -> None:
        plt.title(f"{self.metric or 'select runs to compare'} per epoch")
        for label, ys in self.series:
            self.line(plt, list(range(1, len(ys) + 1)), ys, label)
        plt.xlabel("epoch")
