"""The Sequence view's two charts, the book's pictures of d2l "Working with Sequences", drawn from the
plain lists of ``SineTask.forecasts()`` (``data``; None: no model yet)."""

from __future__ import annotations

from typing import Any

from rnntui.tui.widgets.charts import Chart

LOW = 14  # a chart this short leaves out its x label (one more row for the plot)
MARGIN = 0.25  # the charts show the series' range and this much more: a fed-back forecast may run away


def y_range(data: dict[str, Any]) -> tuple[float, float]:
    """The y-limits of both charts: the series' range with a margin (predictions beyond it are cut)."""
    series = data["series"]
    return min(series) - MARGIN, max(series) + MARGIN


class ForecastsChart(Chart):
    """A chart of ``SineTask.forecasts()``: drawn again when the data changes or the chart is resized
    (its title and labels depend on its size)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.data: dict[str, Any] | None = None

    def show_forecasts(self, data: dict[str, Any] | None) -> None:
        self.data = data
        self.replot()

    def on_resize(self) -> None:
        self.replot()


class ForecastChart(ForecastsChart):
    """The series (points), its 1-step predictions and the multi-step predictions, each fed back from the
    first test target on (the book's t = n_train + tau), with a line where feeding back starts."""

    def draw(self, plt, history) -> None:
        data = self.data
        if data is None:
            plt.title("no sine model yet")
            return
        start, tau = data["multi_step_start"], data["tau"]
        wide = self.size.width >= 56  # plotext leaves out a title that does not fit
        plt.title(f"data, 1-step and multi-step (fed back from t={start + 1})" if wide else "1-step, multi-step")
        self.line(plt, data["time"], data["series"], "data", connect=False)
        self.line(plt, data["forecast_time"], data["one_step"], "1-step")
        fed = start - tau  # entry of multi_step that targets x[start]: the first one fed back
        self.line(plt, data["forecast_time"][fed:], data["multi_step"][fed:], "multi-step")
        plt.vline(start + 1)
        plt.ylim(*y_range(data))
        plt.xlabel("t" if self.size.height >= LOW else "")  # (a label stays until set again)


class KStepChart(ForecastsChart):
    """The k-step-ahead predictions for each k: each point predicted from the true values k steps before,
    with k - 1 predictions fed back on the way."""

    def draw(self, plt, history) -> None:
        data = self.data
        if data is None:
            plt.title("k-step-ahead predictions")
            return
        plt.title("k-step-ahead predictions" if self.size.width >= 30 else "k-step")
        for k in sorted(data["k_step"]):
            self.line(plt, data["k_step_time"][k], data["k_step"][k], f"{k}-step")
        plt.ylim(*y_range(data))
        plt.xlabel("t" if self.size.height >= LOW else "")  # (a label stays until set again)
