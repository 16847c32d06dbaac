"""Between the training process and the UI: its messages become Textual messages, and the pause and
stop keys reach it. The worker thread that calls ``deliver`` only waits on a pipe; ``post_message`` is
thread-safe (``call_from_thread`` would block the worker until the UI had handled each message)."""

from __future__ import annotations

from typing import Any

from textual.message_pump import MessagePump

from rnntui.training.process import TrainingProcess
from rnntui.tui.messages import RunEvent, StepsLogged


class TrainingBridge:
    def __init__(self, target: MessagePump, process: TrainingProcess) -> None:
        self.target = target
        self.process = process

    # -- called from the worker thread --------------------------------------------------------------
    def deliver(self, message: dict[str, Any]) -> None:
        if message["event"] == "steps":  # a batch of step events (the child batches them in time)
            self.target.post_message(StepsLogged(message["points"]))
        else:
            self.target.post_message(RunEvent(message))

    # -- called from the UI thread ---------------------------------------------------------------------
    @property
    def paused(self) -> bool:
        return self.process.paused

    @property
    def stopping(self) -> bool:
        return self.process.stopping

    def pause(self) -> None:
        self.process.pause()

    def resume(self) -> None:
        self.process.resume()

    def stop(self) -> None:
        self.process.stop()
