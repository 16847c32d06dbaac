"""A run trained from the app: its training process, the worker thread that relays it, and its state.

The training runs in a child process (``rnntui.training.process``: the UI never shares the interpreter
lock with it). A thread worker starts it and waits on its pipe, posting to the view that owns the
session ``RunStarted``, then what arrives as ``StepsLogged`` and ``RunEvent``, and last ``RunEnded``; ``post_message`` is
thread-safe (``call_from_thread`` would block the worker until the UI had handled each one).
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Any

from textual.widget import Widget
from textual.worker import Worker

from rnntui.config import ExperimentConfig
from rnntui.errors import describe
from rnntui.training.process import TrainingProcess
from rnntui.tui.messages import RunEnded, RunEvent, RunStarted, SessionMessage, StepsLogged

# the training process runs below the UI's priority: a key press is answered before the training
# threads' time slices (benchmarks/tui.py: key-press latency while training), and training gets the rest
TRAINING_NICENESS = 10


class RunState(str, Enum):
    """Where a run stands; compares equal to its value ("running" == RunState.RUNNING)."""

    IDLE = "idle"
    STARTING = "starting"
    RUNNING = "running"
    PAUSED = "paused"
    STOPPING = "stopping"
    FINISHED = "finished"
    STOPPED = "stopped"
    FAILED = "failed"
    UNFINISHED = "unfinished"  # on disk without an end: killed, or still training elsewhere

    @property
    def active(self) -> bool:
        return self in (RunState.STARTING, RunState.RUNNING, RunState.PAUSED, RunState.STOPPING)

    @classmethod
    def of(cls, status: str | None) -> RunState:
        """The state a finished run's end status names (unfinished when there is none)."""
        try:
            return cls(status) if status else cls.UNFINISHED
        except ValueError:
            return cls.UNFINISHED


class TrainingSession:
    """One run. ``state`` is written here only: by the keys (pause, resume, stop) and by ``note``, which
    the owning view calls with each message of the session as it handles it (on the UI thread)."""

    def __init__(self, owner: Widget, config: ExperimentConfig, run_dir: Path, data_dir: str | Path | None = None,
                 nice: int = TRAINING_NICENESS, resume: bool = False) -> None:
        self.owner = owner
        self.config = config
        self.run_dir = run_dir
        self.resuming = resume  # goes on with the run in run_dir (experiment.train's resume)
        self.process = TrainingProcess(config, run_dir, data_dir, nice=nice, resume=resume)
        self.state = RunState.STARTING
        self.epoch = 0  # epochs done, as far as the UI has heard
        self.worker: Worker | None = None

    def start(self) -> None:
        self.worker = self.owner.run_worker(self._relay, thread=True, exclusive=True, exit_on_error=False,
                                            group="training", description=f"training {self.run_dir.name}")

    def _relay(self) -> RunEnded:
        """The worker thread: start the process, pass its messages on, and say how it ended."""
        self.owner.post_message(RunStarted(self.run_dir))
        try:
            end = self.process.run(self._deliver)
            ended = RunEnded(self.run_dir, end.status, end.message, end.epochs_done)
        except BaseException as error:  # noqa: BLE001 - every failure ends the run with its one line
            ended = RunEnded(self.run_dir, "failed", describe(error), self.epoch)
        self.owner.post_message(ended)
        return ended

    def _deliver(self, message: dict[str, Any]) -> None:
        if message["event"] == "steps":  # a batch of step events (the child batches them in time)
            self.owner.post_message(StepsLogged(self.run_dir, message["points"]))
        else:
            self.owner.post_message(RunEvent(self.run_dir, message))

    # -- the UI thread -----------------------------------------------------------------------------------
    def note(self, message: SessionMessage) -> None:
        """The state follows what the run says: it started, finished an epoch, ended."""
        if isinstance(message, RunEvent):
            kind = message.event.get("event")
            if kind == "start" and self.state == RunState.STARTING:
                self.state = RunState.RUNNING
            elif kind == "epoch":
                self.epoch = int(message.event.get("epoch", self.epoch))
        elif isinstance(message, RunEnded):
            self.state = RunState.of(message.status)

    @property
    def active(self) -> bool:
        return self.state.active

    @property
    def paused(self) -> bool:
        return self.state == RunState.PAUSED

    def pause(self) -> None:
        if self.state in (RunState.RUNNING, RunState.STARTING):
            self.process.pause()
            self.state = RunState.PAUSED

    def resume(self) -> None:
        if self.state == RunState.PAUSED:
            self.process.resume()
            self.state = RunState.RUNNING

    def stop(self) -> None:
        """Ask the run to stop within one batch; it saves its checkpoint first."""
        if self.active:
            self.process.stop()
            self.state = RunState.STOPPING
