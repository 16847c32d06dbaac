"""The Sequence view (6): the sine experiment of d2l "Working with Sequences", live (issue 15).

For the chosen sine run: the series with its 1-step and multi-step predictions, the k-step predictions
for each k of its config, and a table of test MSE per k for the MLP and the latent model side by side
(the other one is the latest finished sine run of the other kind on the same draw) beside the affine
AR(tau) oracle. The controls set up another run (tau, noise, T, num_train, the k list, the model, the
draw's seed); ``r`` trains it in the training process like any run, the charts follow it after each
epoch, and it becomes the view's model when it ends. Its headless twin is ``rnntui forecast``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Input, Label, Select, Static
from textual.worker import get_current_worker

from rnntui.config import ExperimentConfig
from rnntui.errors import ConfigError, describe
from rnntui.tui.model_choice import LiveRun, LoadedModel, ModelChoice
from rnntui.tui.views.inspector import InspectorView
from rnntui.tui.widgets.sequence_charts import ForecastChart, KStepChart
from rnntui.tui.widgets.sequence_table import ModelScores, MseTable, verdict

KINDS = ("mlp", "gru", "lstm", "rnn")  # the MLP over the last tau values, then the latent models
# the controls: (field, label), the model's kind between the k list and the seed
FIELDS = (("tau", "tau"), ("noise", "noise"), ("num_points", "T"), ("num_train", "train"), ("k_steps", "k"),
          ("seed", "seed"))
SERIES = ("tau", "noise", "num_points", "num_train")  # with the seed: what draws the series
NARROW = 100  # below this many columns the verdict goes under the table


def control_id(name: str) -> str:
    return "seq-" + name.replace("_", "-")


def parse_controls(texts: dict[str, str]) -> dict[str, Any]:
    """The controls' text as values (ConfigError naming the field when one is not a number)."""
    values: dict[str, Any] = {}
    for name, text in texts.items():
        text = text.strip()
        try:
            if name == "noise":
                values[name] = float(text)
            elif name == "k_steps":
                values[name] = [int(v) for v in text.replace(",", " ").split()]
            elif name == "kind":
                values[name] = text
            else:
                values[name] = int(text)
        except ValueError:
            what = "a list of integers (1, 4, 16, 64)" if name == "k_steps" else (
                "a number" if name == "noise" else "an integer")
            raise ConfigError(f"{name} must be {what}; got {text!r}") from None
    return values


def sine_config(values: dict[str, Any], base: ExperimentConfig | None, device: str) -> ExperimentConfig:
    """The run the controls ask for: ``base`` (the shown model's config) when it is of the same family (MLP
    or latent), else the family's preset (sine-mlp, sine-rnn), with the controls' values laid over it.
    ConfigError says which value is wrong."""
    from rnntui.presets import load_preset

    kind = values["kind"]
    if kind not in KINDS:
        raise ConfigError(f"model must be one of {', '.join(KINDS)}; got {kind!r}")
    latent = kind != "mlp"
    if base is None or base.task != "sine" or (base.model.kind != "mlp") != latent:
        base = load_preset("sine-rnn" if latent else "sine-mlp")
    return base.replace(sine={name: values[name] for name in (*SERIES, "k_steps")}, model={"kind": kind},
                        train={"seed": values["seed"], "device": device})


def draw_key(config: ExperimentConfig) -> tuple:
    """What draws the series: two configs with the same key have the same x."""
    return (*(getattr(config.sine, name) for name in SERIES), config.train.seed)


def scores(config: ExperimentConfig, data: dict[str, Any], run: str = "") -> ModelScores:
    from rnntui.training.runs import model_name

    return ModelScores(model_name(config), config.model.kind != "mlp", dict(data["k_step_mse"]),
                       data["multi_step_mse"], run)


def partner_scores(config: ExperimentConfig, data: dict[str, Any], exclude: Path, runs_dir: Path,
                   cache: dict | None, should_stop=lambda: False) -> tuple[ModelScores | None, str]:
    """The latest finished sine run of the other family (MLP or latent) on the same draw, scored on this
    model's k list: (its scores, "") or (None, the line that says why there is none)."""
    from rnntui.training.runs import CHECKPOINT, list_runs
    from rnntui.training.sine_task import SineTask
    from rnntui.tui.model_choice import load

    latent = config.model.kind != "mlp"
    other = "MLP" if latent else "latent model"
    for run in list_runs(runs_dir, cache):
        if should_stop():
            return None, ""
        c = run.config
        if (run.status != "finished" or c is None or c.task != "sine" or (c.model.kind != "mlp") == latent
                or draw_key(c) != draw_key(config) or not (run.path / CHECKPOINT).is_file()
                or (run.path / CHECKPOINT).absolute() == Path(exclude).absolute()):
            continue
        try:
            model = load(run.path / CHECKPOINT, run.path)
            task = SineTask(model.checkpoint.model,
                            model.checkpoint.config.replace(sine={"k_steps": data["k_steps"]}))
            theirs = task.forecasts()
        except Exception:  # noqa: BLE001 - a damaged run is passed over; the runs view says why
            continue
        if theirs["series"] != data["series"]:  # the same settings draw the same series; make sure
            continue
        return scores(model.checkpoint.config, theirs, run.name), ""
    s = config.sine
    return None, (f"No finished {other} run of this draw (tau {s.tau}, noise {s.noise:g}, T {s.num_points}, "
                  f"{s.num_train} train, seed {config.train.seed}) to set beside it: choose "
                  f"{'MLP' if latent else 'GRU'} and press r.")


class SequenceView(InspectorView):
    VIEW_ID = "sequence"
    TASKS = ("sine",)
    ABOUT = ("The error grows with k: each prediction fed back carries the last one's error, so m1 becomes "
             "c*m1 + data error. 1-step fits; multi-step and large k drift.")
    BINDINGS = [
        Binding("r", "retrain", "Retrain", id="sequence.retrain",
                tooltip="train a model with these settings, in the training process like any run; "
                        "the charts follow it"),
        Binding("k", "next_kind", "Kind", id="sequence.kind",
                tooltip="MLP, GRU, LSTM or RNN for the next run (r)"),
        Binding("n", "next_seed", "Next draw", id="sequence.seed",
                tooltip="the next seed: another draw of the noise for the next run (r)"),
        Binding("u", "reset_controls", "Reset", id="sequence.reset", show=False,
                tooltip="the controls back to the shown model's settings"),
        Binding("escape", "leave_field", "Leave field", id="sequence.leave", show=False,
                tooltip="the focus back to the view, where its keys work"),
    ]

    @dataclass
    class Forecasted(Message):
        """A worker's forecasts of one checkpoint (``data`` None: ``error`` says why)."""

        data: dict[str, Any] | None
        mine: ModelScores | None
        partner: ModelScores | None
        partner_note: str
        label: str
        error: str
        request: int
        live: bool

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.forecasts: dict[str, Any] | None = None  # what the charts and the table show
        self.shown_label = ""  # which model they show
        self.mine: ModelScores | None = None
        self.partner: ModelScores | None = None
        self.retrain_dir: Path | None = None  # the run started from here, while it trains
        self.retrain_seen = False  # its live_run has been set (the run is under way)
        self.live_epoch = 0
        self.live_updates: list[tuple[Path, int]] = []  # (run, epoch) of each live forecast shown
        self._forecast_requests = 0
        self._note_run: Path | None = None
        self._note = ""  # how the last run started here ended: shown while the controls are its settings

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="seq-controls"):
            for name, label in FIELDS[:5]:
                yield Label(label)
                yield Input(id=control_id(name), compact=True)
            yield Label("net")
            yield Select([(k.upper() if k != "mlp" else "MLP", k) for k in KINDS], value="mlp", allow_blank=False,
                         id="seq-kind", compact=True)
            name, label = FIELDS[5]
            yield Label(label)
            yield Input(id=control_id(name), compact=True)
        yield Static("", id="seq-status", markup=False)
        with Horizontal(id="seq-charts"):
            yield ForecastChart(id="seq-forecast")
            yield KStepChart(id="seq-kstep")
        with Horizontal(id="seq-bottom"):
            yield MseTable("", id="seq-table", markup=False)
            yield Static("", id="seq-verdict", markup=False)

    def on_mount(self) -> None:
        super().on_mount()
        self.watch(self.app, "live_run", self._follow_live, init=False)
        self.fill_controls(self._preset())
        self._status("")

    def default_focus(self):
        return self  # the view's keys work at once; tab reaches the controls

    def on_resize(self) -> None:
        narrow = self.size.width < NARROW
        self.set_class(narrow, "-narrow")
        self.query_one(MseTable).set_ratios(not narrow)

    # -- the controls ----------------------------------------------------------------------------------
    def _preset(self) -> ExperimentConfig:
        from rnntui.presets import load_preset

        return load_preset("sine-mlp")

    def fill_controls(self, config: ExperimentConfig) -> None:
        """The controls show ``config``'s settings."""
        s = config.sine
        values = {"tau": s.tau, "noise": f"{s.noise:g}", "num_points": s.num_points, "num_train": s.num_train,
                  "k_steps": ",".join(map(str, s.k_steps)), "seed": config.train.seed}
        for name, value in values.items():
            self.query_one(f"#{control_id(name)}", Input).value = str(value)
        self.query_one("#seq-kind", Select).value = config.model.kind if config.model.kind in KINDS else "gru"

    def control_texts(self) -> dict[str, str]:
        texts = {name: self.query_one(f"#{control_id(name)}", Input).value for name, _ in FIELDS}
        texts["kind"] = str(self.query_one("#seq-kind", Select).value)
        return texts

    @property
    def base_config(self) -> ExperimentConfig | None:
        return self.model.checkpoint.config if self.model is not None else None

    def settings(self) -> tuple[ExperimentConfig | None, str]:
        """(the config the controls ask for, "") or (None, why not); the field at fault is marked."""
        for widget in self.query("#seq-controls .-invalid"):
            widget.remove_class("-invalid")
        try:
            values = parse_controls(self.control_texts())
            return sine_config(values, self.base_config, self.app.initial_device), ""
        except ConfigError as error:
            message = str(error)
            field = message.split(" ", 1)[0].removeprefix("sine.").removeprefix("train.")
            for widget in self.query(f"#{control_id(field)}"):
                widget.add_class("-invalid")
            return None, message

    def _status(self, text: str, error: bool = False) -> None:
        """The line under the controls: what r would train, or how the run it started goes."""
        if not text:
            config, problem = self.settings()
            if config is None:
                text, error = problem, True
            elif self.base_config is not None and (draw_key(config), config.model.kind, config.sine.k_steps) == (
                    draw_key(self.base_config), self.base_config.model.kind, self.base_config.sine.k_steps):
                text = self._note or "the shown model's settings: change one, then r trains it (a new run)"
            else:
                text = (f"r trains {config.model.kind.upper()} on these settings ({config.train.epochs} epochs), "
                        "the charts following it" + ("   u: the model's settings" if self.model is not None else ""))
        status = self.query_one("#seq-status", Static)
        status.update(text)
        status.set_class(error, "-error")

    @on(Input.Changed, "#seq-controls Input")
    @on(Select.Changed, "#seq-kind")
    def _control_changed(self, event: Message) -> None:
        if self.retrain_dir is None:  # while a run goes, the line says how it goes
            self._status("")

    @on(Input.Submitted, "#seq-controls Input")
    def _submitted(self, event: Input.Submitted) -> None:
        self.action_retrain()

    def action_next_kind(self) -> None:
        select = self.query_one("#seq-kind", Select)
        select.value = KINDS[(KINDS.index(str(select.value)) + 1) % len(KINDS)]

    def action_next_seed(self) -> None:
        seed = self.query_one(f"#{control_id('seed')}", Input)
        try:
            seed.value = str(int(seed.value) + 1)
        except ValueError:
            seed.value = "0"

    def action_reset_controls(self) -> None:
        self.fill_controls(self.base_config or self._preset())

    def action_leave_field(self) -> None:
        self.focus()

    # -- the model and its forecasts ------------------------------------------------------------------
    def model_changed(self, model: LoadedModel | None) -> None:
        if self._note and (model is None or model.run_dir != self._note_run):
            self._note = ""
        if model is None:
            self.forecasts, self.mine, self.partner, self.shown_label = None, None, None, ""
            self.query_one(ForecastChart).show_forecasts(None)
            self.query_one(KStepChart).show_forecasts(None)
            self.query_one(MseTable).clear()
            self.query_one("#seq-verdict", Static).update("")
            if self.retrain_dir is None:
                self._status("")
            return
        if self.retrain_dir is None:
            self.fill_controls(model.checkpoint.config)
            self._status("")
        self.forecast(model)

    def forecast(self, model: LoadedModel | None = None, live: LiveRun | None = None) -> None:
        """Forecast the model (or the live run's latest checkpoint) in a worker; the newest request wins."""
        self._forecast_requests += 1
        app = self.app
        self._forecast(model, live, app.runs_dir, app.runs_cache, self._forecast_requests)

    @work(thread=True, exclusive=True, exit_on_error=False, group="sequence-forecast",
          description="forecasting the sine series")
    def _forecast(self, model: LoadedModel | None, live: LiveRun | None, runs_dir: Path, cache, request: int) -> None:
        from rnntui.training.runs import CHECKPOINT
        from rnntui.training.sine_task import SineTask
        from rnntui.tui.model_choice import load

        worker = get_current_worker()
        try:
            if model is None:
                assert live is not None
                model = load(live.run_dir / CHECKPOINT, live.run_dir)
            checkpoint = model.checkpoint
            if checkpoint.config.task != "sine":
                raise ConfigError(f"{model.label} is not a sine model")
            data = SineTask(checkpoint.model, checkpoint.config).forecasts()
            run = model.run_dir.name if model.run_dir is not None else model.path.name
            partner, note = partner_scores(checkpoint.config, data, model.path, runs_dir, cache,
                                           lambda: worker.is_cancelled)
            label = model.label if live is None else f"{run} (epoch {live.epoch} of {checkpoint.config.train.epochs}, training)"
            self.post_message(self.Forecasted(data, scores(checkpoint.config, data, run), partner, note, label, "",
                                              request, live is not None))
        except Exception as error:  # noqa: BLE001 - one line in the view
            self.post_message(self.Forecasted(None, None, None, "", "", describe(error), request, live is not None))

    def on_sequence_view_forecasted(self, message: Forecasted) -> None:
        message.stop()
        if message.request != self._forecast_requests:
            return  # superseded
        if message.data is None:
            self._status(f"cannot forecast: {message.error}", error=True)
            return
        data = self.forecasts = message.data
        self.mine, self.partner, self.shown_label = message.mine, message.partner, message.label
        if message.live and self.retrain_dir is not None:
            self.live_updates = [*self.live_updates[-99:], (self.retrain_dir, self.live_epoch)]
        with self.app.batch_update():
            self.query_one(ForecastChart).show_forecasts(data)
            self.query_one(KStepChart).show_forecasts(data)
            mine, other = message.mine, message.partner
            mlp, latent = (other, mine) if mine.latent else (mine, other)
            ks = sorted({1, *data["k_steps"]})
            self.query_one(MseTable).show(ks, mlp, latent, data["oracle_mse"])
            self.query_one("#seq-verdict", Static).update(
                verdict(data["tau"], mlp, latent, data["oracle_mse"], data["noise_mse"], message.partner_note))
            if message.live:
                self._line(f"shown: {message.label}, the run training now; it becomes the model when it ends")
                self._status(f"training {message.label}: the charts show its latest checkpoint")
            elif self._note_run is not None and mine.run == self._note_run.name and self._note.endswith("…"):
                self._note = self._note.replace("loading it…", "it is the model shown now")
                self._status("")

    # -- retraining --------------------------------------------------------------------------------------
    def action_retrain(self) -> None:
        config, problem = self.settings()
        if config is None:
            self._status(f"cannot train: {problem}", error=True)
            return
        if self.retrain_dir is not None or self.app.live_run is not None:
            self._status("a run is training: wait for it, or stop it (x in the Train view, 1)", error=True)
            return
        run_dir = self.app.view("train").start(config, show=False)
        if run_dir is None:
            self._status("cannot start a run now: the Train view (1) says why", error=True)
            return
        self.retrain_dir, self.retrain_seen, self.live_epoch, self._note = run_dir, False, 0, ""
        self._status(f"training {run_dir.name} ({config.model.kind.upper()}, {config.train.epochs} epochs): "
                     "the charts follow it after each epoch")

    def _follow_live(self, live: LiveRun | None) -> None:
        """The run the Train view trains changed: if it is the one started here, show its latest epoch,
        and when it ends make it the view's model."""
        if self.retrain_dir is None:
            return
        if live is not None and live.run_dir == self.retrain_dir:
            self.retrain_seen = True
            if live.epoch > self.live_epoch:
                self.live_epoch = live.epoch
                self.forecast(live=live)
        elif self.retrain_seen:
            self._retrain_ended()

    def _retrain_ended(self) -> None:
        from rnntui.training.runs import CHECKPOINT

        run_dir, self.retrain_dir = self.retrain_dir, None
        session = self.app.view("train").session
        status = str(session.state.value) if session is not None and session.run_dir == run_dir else "ended"
        if status in ("finished", "stopped") and (run_dir / CHECKPOINT).is_file():
            # said once its forecasts are drawn (until then the charts show its last epoch's)
            self._note, self._note_run = f"{run_dir.name} {status}: loading it…", run_dir
            self._status(self._note)
            choice = self.app.model_choice
            if status == "finished" and choice.kind == "default":
                self.load_model()  # the latest finished sine run: this one
            else:
                self.app.model_choice = ModelChoice("run", run_dir)
        else:
            self._status(f"{run_dir.name} {status}: the Train view (1) says why", error=True)
            self.load_model()  # the model line and the charts: the view's model again

