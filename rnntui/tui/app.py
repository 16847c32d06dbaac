"""The rnntui playground: set up an experiment, train it (a child process, relayed by a worker thread), watch it live."""

from __future__ import annotations

import gc
import os
import time
from functools import partial
from pathlib import Path

from textual import events, on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.command import Hit, Hits, Provider
from textual.screen import Screen
from textual.widgets import ContentSwitcher, Header, Static, TabbedContent, TabPane
from textual.worker import Worker, WorkerState

from rnntui.config import ExperimentConfig, to_toml
from rnntui.errors import describe
from rnntui.training.runs import RunSummary
from rnntui.tui.bridge import TrainingBridge
from rnntui.tui.messages import RunEvent, StepsLogged
from rnntui.tui.screens.help import HelpScreen, SavePresetScreen
from rnntui.tui.widgets.dashboard import Dashboard
from rnntui.tui.widgets.keybar import KeyBar
from rnntui.tui.widgets.runs_view import RunsView
from rnntui.tui.widgets.setup_form import SetupForm

# The training process runs at a lower priority than the UI: a key press is answered at once instead of
# after the training threads' time slices (benchmarks/tui.py, while an LSTM trains on 2 cores: key to
# repaint p95 68-93 ms at niceness 10, 129-155 ms at 0); training still gets every cycle the UI leaves.
TRAINING_NICENESS = 10
KEY_QUIET_S = 0.3  # charts are not redrawn within this long after a key press

VIEWS = [  # (id, title, key, what the view will hold)
    ("train", "Train", "1", ""),
    ("runs", "Runs", "2", ""),
    ("vocab", "Vocab", "3", "the tokenizer and vocabulary inspector: tokens, frequencies, Zipf's law"),
    ("sampling", "Sampling", "4", "the sampling-strategy visualizer: greedy, temperature, top-k, top-p"),
    ("prompt", "Prompt", "5", "an interactive prompt for character generation and translation"),
    ("sequence", "Sequence", "6", "the sine experiment: 1-step, multi-step and k-step predictions"),
    ("gradients", "Gradients", "7", "gradient norms per layer and through time"),
]


class RnntuiCommands(Provider):
    """The main actions in the command palette."""

    async def search(self, query: str) -> Hits:
        app = self.app
        assert isinstance(app, RnntuiApp)
        matcher = self.matcher(query)
        for name, help_text, action in app.palette_commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), partial(app.run_action, action), help=help_text)


class RnntuiApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "rnntui"
    SUB_TITLE = "a playground for recurrent neural networks"
    COMMANDS = App.COMMANDS | {RnntuiCommands}
    BINDINGS = [
        *[Binding(key, f"show_view('{vid}')", title, id=f"view.{vid}", show=vid in ("train", "runs"),
                  tooltip=f"show the {title} view") for vid, title, key, _ in VIEWS],
        Binding("s,f5", "start_training", "Start", id="train.start", tooltip="start training the setup"),
        Binding("p,f6", "toggle_pause", "Pause", id="train.pause", tooltip="pause or resume training"),
        Binding("x,f8", "stop_training", "Stop", id="train.stop", tooltip="stop training; keeps the checkpoint"),
        Binding("e", "edit_setup", "Setup", id="train.setup", tooltip="back to the experiment setup"),
        Binding("ctrl+s", "save_preset", "Save preset", id="train.save", show=False, priority=True),
        Binding("f5", "start_training", "Start", id="train.start-anywhere", show=False, priority=True),
        Binding("f6", "toggle_pause", "Pause", id="train.pause-anywhere", show=False, priority=True),
        Binding("f8", "stop_training", "Stop", id="train.stop-anywhere", show=False, priority=True),
        Binding("question_mark,f1", "help", "Help", id="app.help"),
        Binding("q,ctrl+q", "quit", "Quit", id="app.quit", priority=False),
    ]

    def __init__(self, preset: str = "lstm", device: str = "auto", runs_dir: str | Path | None = None,
                 data_dir: str | Path | None = None) -> None:
        super().__init__()
        if "TEXTUAL_ANIMATIONS" not in os.environ:
            # no sliding tab underline unless asked for: over SSH every frame is sent, and a view switch
            # repaints in 24 ms instead of 37 (measured while idle on 2 cores)
            self.animation_level = "none"
        from rnntui.paths import runs_dir as default_runs_dir
        from rnntui.presets import names
        from rnntui.training.trainer import available_devices

        self.presets = names()
        self.initial_preset = preset
        self.devices = available_devices()
        self.initial_device = device if device in {d for _, d in self.devices} else "auto"
        self.runs_dir = Path(runs_dir) if runs_dir else default_runs_dir()
        self.data_dir = data_dir
        self.bridge: TrainingBridge | None = None
        self.worker: Worker | None = None
        self.run_dir: Path | None = None
        self.config: ExperimentConfig | None = None
        self.setup_error = ""
        self.dashboard: Dashboard | None = None
        self.last_key = 0.0  # time.monotonic() of the last key press

    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(initial="train", id="views"):
            for vid, title, key, later in VIEWS:
                with TabPane(f"{key} {title}", id=vid):
                    if vid == "train":
                        with ContentSwitcher(initial="setup", id="train-switcher"):
                            yield SetupForm(self.presets, self.initial_preset, self.devices, self.initial_device,
                                            id="setup")
                            yield Dashboard(id="dashboard")
                    elif vid == "runs":
                        yield RunsView(self.runs_dir, id="runs-view")
                    else:
                        yield Static(f"{title}: {later}.\n\nThis view is planned; its place in the app is kept "
                                     "here.", classes="placeholder")
        yield KeyBar()

    def on_mount(self) -> None:
        self.dashboard = self.query_one(Dashboard)
        self.set_interval(0.5, self._refresh_charts)  # status line and one chart, twice a second
        self.call_after_refresh(self._freeze_startup_objects)

    def _freeze_startup_objects(self) -> None:
        """Move everything alive after start-up (torch's and Textual's modules, the widgets) out of the
        garbage collector's sight: a full collection then scans the few objects made since, instead of
        pausing the UI for 90-130 ms on this machine (a key press that met one took that much longer)."""
        gc.collect()
        gc.freeze()

    # -- state -----------------------------------------------------------------------------------------
    @property
    def training(self) -> bool:
        return self.worker is not None and self.worker.state in (WorkerState.PENDING, WorkerState.RUNNING)

    def _refresh_charts(self) -> None:
        if self.dashboard is not None:
            # a chart redraw (plotext) costs 10-20 ms: it waits while the user is pressing keys, so that
            # their screen changes come first
            self.dashboard.refresh_charts(charts_too=time.monotonic() - self.last_key > KEY_QUIET_S)

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key):
            self.last_key = time.monotonic()
        await super().on_event(event)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "start_training":
            return not self.training
        if action in ("toggle_pause", "stop_training"):
            return self.training
        if action == "edit_setup":
            return not self.training
        return True

    # -- actions -----------------------------------------------------------------------------------------
    def action_show_view(self, view: str) -> None:
        self.query_one("#views", TabbedContent).active = view
        if view == "runs":
            self.query_one("#runs-table").focus()  # so that the Runs view's keys (space, c, o) work at once
            self.call_after_refresh(self.query_one(RunsView).action_reload)  # the view shows first, then news

    def action_edit_setup(self) -> None:
        self.action_show_view("train")
        self.query_one("#train-switcher", ContentSwitcher).current = "setup"

    def action_help(self) -> None:
        rows = [(b.key.replace("question_mark", "?"), b.description)
                for b in self.BINDINGS if isinstance(b, Binding) and b.description and b.show is not False]
        rows += [(b.key, b.description) for b in self.BINDINGS if isinstance(b, Binding) and b.show is False]
        rows += [(b.key, f"{b.description} (Runs view)") for b in RunsView.BINDINGS]
        rows += [("tab / shift+tab", "move between fields"), ("ctrl+p", "command palette (themes, all actions)")]
        self.push_screen(HelpScreen(rows))

    @on(SetupForm.Changed)
    def _setup_changed(self, event: SetupForm.Changed) -> None:
        self.config, self.setup_error = event.config, event.error
        self.refresh_bindings()

    def action_start_training(self) -> None:
        if self.training:
            return
        form = self.query_one(SetupForm)
        form.validate()
        if self.config is None:
            self.notify(f"cannot start: {self.setup_error}", severity="error", title="invalid setup")
            self.action_edit_setup()
            return
        config = self.config
        self.run_dir = self.runs_dir / f"{config.name}-{time.strftime('%Y%m%d-%H%M%S')}"
        suffix = 1
        while self.run_dir.exists():
            suffix += 1
            self.run_dir = self.runs_dir / f"{config.name}-{time.strftime('%Y%m%d-%H%M%S')}-{suffix}"
        from rnntui.training.process import TrainingProcess

        self.bridge = TrainingBridge(self, TrainingProcess(config, self.run_dir, self.data_dir,
                                                                nice=TRAINING_NICENESS))
        self.query_one(Dashboard).reset(config.name, config.train.clip)
        self.query_one(RunsView).set_live(self.run_dir)
        self.action_show_view("train")
        self.query_one("#train-switcher", ContentSwitcher).current = "dashboard"
        self.worker = self._train(self.bridge)
        self.refresh_bindings()

    @work(thread=True, exclusive=True, exit_on_error=False, group="training", description="training")
    def _train(self, bridge: TrainingBridge):
        """The worker thread starts the training process and relays its messages (it waits on a pipe,
        so the UI keeps the interpreter to itself: see ``rnntui.training.process``)."""
        return bridge.process.run(bridge.deliver)

    def action_toggle_pause(self) -> None:
        if not self.training or self.bridge is None:
            return
        dashboard = self.query_one(Dashboard)
        if self.bridge.paused:
            self.bridge.resume()
            dashboard.state = "running"
        else:
            self.bridge.pause()
            dashboard.state = "paused"

    def action_stop_training(self) -> None:
        if self.training and self.bridge is not None:
            self.bridge.stop()
            self.query_one(Dashboard).state = "stopping"

    def action_save_preset(self) -> None:
        if self.config is None:
            self.notify(f"fix the setup first: {self.setup_error}", severity="error")
            return
        config = self.config

        def save(path: str | None) -> None:
            if not path:
                return
            try:
                Path(path).expanduser().write_text(to_toml(config), encoding="utf-8")
            except OSError as exc:
                self.notify(f"could not save {path}: {exc.strerror or exc}", severity="error")
                return
            self.notify(f"saved {path}; use it with: rnntui train --config {path}")

        self.push_screen(SavePresetScreen(f"{config.name}.toml"), save)

    async def action_quit(self) -> None:
        """Quitting mid-run stops the worker within one batch; it saves the checkpoint before we exit."""
        if self.training and self.bridge is not None and self.worker is not None:
            self.bridge.stop()
            self.notify("stopping: saving the checkpoint…")
            await self.workers.wait_for_complete([self.worker])
        self.exit()

    # -- messages from the worker -------------------------------------------------------------------------
    def on_steps_logged(self, message: StepsLogged) -> None:
        self.query_one(Dashboard).add_points(message.points)

    def on_run_event(self, message: RunEvent) -> None:
        self.query_one(Dashboard).add_event(message.event)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker is not self.worker:
            return
        dashboard = self.query_one(Dashboard)
        if event.state in (WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED):
            self.query_one(RunsView).set_live(None)
        if event.state == WorkerState.SUCCESS:
            end = event.worker.result
            dashboard.state = end.status
            self.notify(f"{end.status} after {end.epochs_done} epochs; run saved in {self.run_dir}")
        elif event.state == WorkerState.ERROR:
            reason = describe(event.worker.error)
            dashboard.state = "failed"
            dashboard.query_one("#samples").write(f"FAILED: {reason}")
            self.notify(reason, title="training failed", severity="error", timeout=10)
        elif event.state == WorkerState.CANCELLED:
            dashboard.state = "stopped"
        self.refresh_bindings()

    @on(RunsView.Open)
    def _open_run(self, event: RunsView.Open) -> None:
        if self.training:
            self.notify("a run is training: stop it (x) before opening another", severity="warning")
            return
        run: RunSummary = event.run
        self.query_one(Dashboard).show_history(run.history, f"{run.name} ({run.config.name})", run.config.train.clip)
        self.action_show_view("train")
        self.query_one("#train-switcher", ContentSwitcher).current = "dashboard"

    # -- command palette -------------------------------------------------------------------------------
    def palette_commands(self) -> list[tuple[str, str, str]]:
        commands = [
            ("Start training", "train the current setup", "start_training"),
            ("Pause or resume training", "", "toggle_pause"),
            ("Stop training", "keeps the checkpoint and metrics", "stop_training"),
            ("Edit the experiment setup", "", "edit_setup"),
            ("Save setup as a TOML preset", "", "save_preset"),
            ("Help: keys", "", "help"),
        ]
        commands += [(f"Show the {title} view", later, f"show_view('{vid}')") for vid, title, _, later in VIEWS]
        return commands

    def get_system_commands(self, screen: Screen):
        yield from super().get_system_commands(screen)
        yield SystemCommand("Start training", "train the current setup", self.action_start_training)
