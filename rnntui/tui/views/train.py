"""The Train view (1): set up an experiment, train it in a child process, watch it live."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import ContentSwitcher, RichLog

from rnntui.config import ExperimentConfig, to_toml
from rnntui.errors import ConfigError
from rnntui.tui.messages import RunEnded, RunEvent, RunStarted, StepsLogged
from rnntui.tui.model_choice import LiveRun, ModelChoice
from rnntui.tui.views.base import View
from rnntui.tui.widgets.setup_form import SetupForm

if TYPE_CHECKING:
    from rnntui.training.runs import RunSummary
    from rnntui.tui.session import TrainingSession
    from rnntui.tui.widgets.dashboard import Dashboard

FRAME_S = 0.5  # the dashboard's pace (it draws less often while a CPU run trains: Dashboard.refresh_charts)
KEY_QUIET_S = 0.3  # charts are not redrawn within this long after a key press: the key's screen comes first


class TrainView(View):
    VIEW_ID = "train"
    ABOUT = ""  # the setup form and the dashboard say what they are
    BINDINGS = [
        Binding("s", "start", "Start", id="train.start", tooltip="start training the setup"),
        Binding("p", "toggle_pause", "Pause", id="train.pause", tooltip="pause or resume training"),
        Binding("x", "stop", "Stop", id="train.stop", tooltip="stop training; keeps the checkpoint"),
        Binding("e", "edit_setup", "Setup", id="train.setup", tooltip="back to the experiment setup"),
        Binding("ctrl+s", "save_preset", "Save preset", id="train.save", show=False,
                tooltip="save the setup as a TOML preset"),
    ]

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.session: TrainingSession | None = None
        self.config: ExperimentConfig | None = None
        self.setup_error = ""
        self.start_when_ready = False  # s was pressed before the preset's fields had loaded
        self._follow: tuple[Path, int] | None = None  # an opened run another process trains: its log, read so far

    def compose(self) -> ComposeResult:
        app = self.app
        with ContentSwitcher(initial="setup", id="train-switcher"):
            yield SetupForm(app.presets, app.initial_preset, app.devices, app.initial_device, id="setup")

    def on_mount(self) -> None:
        self.switcher = self.query_one("#train-switcher", ContentSwitcher)

    async def mount_rest(self) -> None:
        """The dashboard (out of sight at first) and its charts' modules, just after the first frame."""
        from rnntui.tui.widgets.dashboard import Dashboard

        self.dashboard: Dashboard = Dashboard(id="dashboard")
        await self.switcher.mount(self.dashboard)
        self.set_interval(FRAME_S, self._tick)
        self.set_interval(1.0, self._follow_run)

    def on_unmount(self) -> None:
        if self.training:  # the app is going (however it goes): the run stops and saves, never runs on alone
            self.session.stop()

    def _tick(self) -> None:
        self.dashboard.refresh_charts(charts_too=time.monotonic() - self.app.last_key > KEY_QUIET_S)

    @property
    def training(self) -> bool:
        return self.session is not None and self.session.active

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("start", "edit_setup"):
            return not self.training
        if action in ("toggle_pause", "stop"):
            return self.training
        return True

    def default_focus(self):
        return self.query_one("#dashboard") if self.switcher.current == "dashboard" else super().default_focus()

    def show_part(self, part: str) -> None:
        """The setup form or the dashboard, with the focus in it (keys typed into a hidden field are lost)."""
        self.switcher.current = part
        self._last_focus = None
        if self.is_attached and self.app.shown == self.VIEW_ID:
            self.activate()

    # -- the setup --------------------------------------------------------------------------------------
    def on_setup_form_changed(self, event: SetupForm.Changed) -> None:
        self.config, self.setup_error = event.config, event.error
        self.refresh_bindings()
        if self.start_when_ready:
            self.start_when_ready = False
            self.action_start()

    def set_devices(self, devices: list[tuple[str, str]]) -> None:
        self.query_one(SetupForm).set_devices(devices)

    def action_edit_setup(self) -> None:
        self.app.show_view(self.VIEW_ID)
        self.show_part("setup")

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

        from rnntui.tui.screens.help import SavePresetScreen

        self.app.push_screen(SavePresetScreen(f"{config.name}.toml"), save)

    # -- the run --------------------------------------------------------------------------------------------
    def action_start(self) -> None:
        if self.training:
            return
        if self.config is None and not self.setup_error:  # the preset's fields are still being mounted
            self.start_when_ready = True
            return
        self.query_one(SetupForm).validate()
        if self.config is None:
            self.notify(f"cannot start: {self.setup_error}", severity="error", title="invalid setup")
            self.action_edit_setup()
            return
        self.start(self.config)

    def start(self, config: ExperimentConfig, show: bool = True, resume: Path | None = None) -> Path | None:
        """Train ``config`` as a run of its own (any view may ask: the Sequence view retrains from its own
        settings), or go on with the run in ``resume``; the run folder, or None when a run is training
        already or no folder can be made. ``show``: the dashboard comes on screen (else the asking view
        stays, and follows ``app.live_run``)."""
        if self.training:
            self.notify("a run is training: stop it (x in the Train view) first", severity="warning")
            return None
        from rnntui.training.runs import new_run_dir
        from rnntui.tui.session import TrainingSession

        app = self.app
        try:
            run_dir = resume or new_run_dir(app.runs_dir, config.name)
        except OSError as exc:
            self.notify(f"cannot start: no run folder in {app.runs_dir}: {exc.strerror or exc}", severity="error")
            return None
        self._follow = None
        self.session = TrainingSession(self, config, run_dir, app.data_dir, resume=resume is not None)
        self.dashboard.reset(config.name, config.train.clip, self.session)
        self.switcher.current = "dashboard"
        self._last_focus = None
        if show:
            app.show_view(self.VIEW_ID)
        self.session.start()
        self.refresh_bindings()
        return run_dir

    def action_toggle_pause(self) -> None:
        if not self.training:
            return
        if self.session.paused:
            self.session.resume()
        else:
            self.session.pause()

    def action_stop(self) -> None:
        if self.training:
            self.session.stop()

    async def stop_and_wait(self) -> None:
        """Stop the run within one batch and wait until its checkpoint is saved and its process gone."""
        if self.training and self.session.worker is not None:
            self.session.stop()
            self.notify("stopping: saving the checkpoint…")
            await self.app.workers.wait_for_complete([self.session.worker])

    def _current(self, message) -> bool:
        return self.session is not None and message.run_dir == self.session.run_dir

    def on_run_started(self, message: RunStarted) -> None:
        if self._current(message):
            self.app.live_run = LiveRun(message.run_dir)

    def on_steps_logged(self, message: StepsLogged) -> None:
        if self._current(message):
            self.dashboard.add_points(message.points)

    def on_run_event(self, message: RunEvent) -> None:
        if not self._current(message):
            return
        self.session.note(message)
        if message.event.get("event") == "start" and message.event.get("resumed_at"):
            from rnntui.training.history import read_events

            # what the run did before: its metrics.jsonl up to the start line it has just written
            events, _, _ = read_events(message.run_dir / "metrics.jsonl")
            last_start = max(i for i, e in enumerate(events) if e["event"] == "start")
            self.dashboard.load_past(e for e in events[:last_start] if e["event"] != "start")
        self.dashboard.add_event(message.event)
        if message.event.get("event") == "epoch":  # its checkpoint now holds one more epoch
            self.app.live_run = replace(self.app.live_run, epoch=self.session.epoch) if self.app.live_run else None

    def on_run_ended(self, message: RunEnded) -> None:
        if not self._current(message):
            return
        self.session.note(message)
        from rnntui.training.runs import CHECKPOINT, discard_if_empty

        if self.app.model_choice.kind == "live" and (message.run_dir / CHECKPOINT).is_file():
            self.app.model_choice = ModelChoice("run", message.run_dir)  # the views keep its last checkpoint
        self.app.live_run = None
        if message.status == "failed":
            discard_if_empty(message.run_dir)
            self.dashboard.query_one("#samples", RichLog).write(f"FAILED: {message.reason}")
            self.notify(message.reason, title="training failed", severity="error", timeout=10)
        else:
            self.notify(f"{message.status} after {message.epochs_done} epochs; run saved in {message.run_dir}")
        self.refresh_bindings()

    def open_run(self, run: RunSummary) -> None:
        """Show a past run's charts (from its metrics.jsonl); one that is still being written (trained by
        ``rnntui train`` elsewhere) is followed as it grows, until it ends."""
        if self.training:
            self.notify("a run is training: stop it (x) before opening another", severity="warning")
            return
        self._follow = None
        history = run.history
        if run.status == "unfinished":  # its own copy, read on from where it stops
            from rnntui.training.history import History, read_events

            events, offset, _ = read_events(run.path / "metrics.jsonl")
            history = History()
            for event in events:
                history.add(event)
            self._follow = (run.path / "metrics.jsonl", offset)
        self.dashboard.show_history(history, f"{run.name} ({run.config.name})", run.config.train.clip)
        self.app.show_view(self.VIEW_ID)
        self.show_part("dashboard")

    def _follow_run(self) -> None:
        """Once a second: what the opened run's other process wrote since (a finished run is left alone)."""
        if self._follow is None:
            return
        from rnntui.training.history import read_events

        path, offset = self._follow
        try:
            events, offset, _ = read_events(path, offset)
        except OSError:
            self._follow = None
            return
        self._follow = (path, offset) if not any(e["event"] == "end" for e in events) else None
        if events:
            self.dashboard.follow(events)

    def resume_run(self, run: RunSummary) -> None:
        """Go on with a past run in its own folder (``r`` in the Runs view), up to a number of epochs asked for."""
        if self.training:
            self.notify("a run is training: stop it (x) before going on with another", severity="warning")
            return
        done, configured = run.epochs_done, run.config.train.epochs
        default = configured if done < configured else done + configured

        def go(answer: str | None) -> None:
            if answer is None:
                return
            try:
                epochs = int(answer)
                config = run.config.replace(train={"epochs": epochs})
            except (ValueError, ConfigError):
                self.notify(f"not a number of epochs: {answer!r}", severity="error")
                return
            if epochs <= done:
                self.notify(f"{run.name} has {done} epochs done: give more", severity="error")
                return
            self.start(config, resume=run.path)

        from rnntui.tui.screens.help import Ask

        self.app.push_screen(Ask(f"Go on with {run.name} ({done} of {configured} epochs done) until how many "
                                 "epochs in all? (Enter goes on, Esc cancels)", str(default), "resume-epochs"), go)
