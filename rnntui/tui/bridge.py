"""Turns the engine's callbacks (in the worker thread) into Textual messages, and carries the pause and
stop requests back. ``post_message`` is thread-safe; ``call_from_thread`` would block the training loop."""

from __future__ import annotations

import threading
import time

from textual.message_pump import MessagePump

from rnntui.training.events import Event
from rnntui.tui.messages import RunEvent, StepsLogged


class TrainingBridge:
    """Step events are buffered and posted in batches at most every ``interval`` seconds."""

    def __init__(self, target: MessagePump, interval: float = 0.2) -> None:
        self.target = target
        self.interval = interval
        self._buffer: list[dict] = []
        self._last_post = 0.0
        self._stop = threading.Event()
        self._running = threading.Event()  # cleared while paused
        self._running.set()

    # -- called from the worker thread --------------------------------------------------------------
    def __call__(self, event: Event) -> None:
        values = event.to_dict()
        if event.kind == "step":
            self._buffer.append(values)
            if time.monotonic() - self._last_post >= self.interval:
                self.flush()
        else:
            self.flush()
            self.target.post_message(RunEvent(values))

    def flush(self) -> None:
        if self._buffer:
            points, self._buffer = self._buffer, []
            self.target.post_message(StepsLogged(points))
        self._last_post = time.monotonic()

    def should_stop(self) -> bool:
        """Checked by the trainer before every batch: blocks while paused."""
        if not self._running.is_set():
            self.flush()
            self._running.wait()
        return self._stop.is_set()

    # -- called from the UI thread ---------------------------------------------------------------------
    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    def stop(self) -> None:
        self._stop.set()
        self._running.set()
