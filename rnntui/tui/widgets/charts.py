"""Live charts (textual-plotext). Each owns its Plot (``self.plt``); ``replot`` redraws from a History."""

from __future__ import annotations

import math

from textual_plotext import PlotextPlot

from rnntui.training.history import History

def _thin(xs: list, ys: list, limit: int) -> tuple[list, list]:
    """Every n-th point for drawing (plus the last), so a long run redraws as fast as a short one.
    A braille chart has 2 dots per column: more than a few points per column cannot be seen."""
    if len(xs) <= limit:
        return xs, ys
    step = math.ceil(len(xs) / limit)
    idx = list(range(0, len(xs), step))
    if idx[-1] != len(xs) - 1:
        idx.append(len(xs) - 1)
    return [xs[i] for i in idx], [ys[i] for i in idx]


def _finite(xs: list, ys: list) -> tuple[list, list]:
    pairs = [(x, y) for x, y in zip(xs, ys) if isinstance(y, (int, float)) and math.isfinite(y)]
    return [p[0] for p in pairs], [p[1] for p in pairs]


class Chart(PlotextPlot):
    """A chart that draws itself from a ``History``."""

    DEFAULT_CSS = "Chart { height: 1fr; min-height: 8; }"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.history = History()

    def show(self, history: History) -> None:
        self.history = history
        self.replot()

    def replot(self) -> None:
        self.plt.clear_data()
        self.plt.clear_figure()
        self.draw(self.plt, self.history)
        self.refresh()

    def draw(self, plt, history: History) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def data_key(self, h: History) -> tuple:
        """What the chart draws from, in brief: it is drawn again only when this changes."""
        return len(h.step_loss), len(h.epochs)

    def line(self, plt, xs: list, ys: list, label: str, marker: str = "braille") -> None:
        # braille draws 2 dots per column: more points than that only cost time (plotext's build is most
        # of a redraw)
        xs, ys = _thin(*_finite(xs, ys), limit=max(60, 2 * self.size.width))
        if xs:
            plt.plot(xs, ys, label=label, marker=marker)


class LossChart(Chart):
    """Loss per step, raw and smoothed, and the mean training loss of each epoch."""

    def draw(self, plt, h: History) -> None:
        plt.title("loss per step")
        steps = list(range(1, len(h.step_loss) + 1))
        self.line(plt, steps, h.step_loss, "raw")
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
        plt.title(f"gradient norm (clipped {100 * h.clipped_fraction:.0f}% of steps)")
        steps = list(range(1, len(h.grad_norm) + 1))
        self.line(plt, steps, h.grad_norm, "before clip")
        if self.clip > 0 and steps:
            self.line(plt, steps, [min(g, self.clip) for g in h.grad_norm], "after clip")
            plt.hline(self.clip)
        plt.xlabel("step")


class SpeedChart(Chart):
    """Tokens (or examples) per second through the epoch."""

    unit: str = "tok"

    def draw(self, plt, h: History) -> None:
        plt.title(f"{self.unit}/s")
        self.line(plt, list(range(1, len(h.tokens_per_s) + 1)), h.tokens_per_s, f"{self.unit}/s")
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
