"""Training in a child process, its events sent back through a pipe as plain dicts.

A UI that trains in a thread of its own process shares the interpreter lock with it: while the UI
redraws, the training thread, which gives the lock up around every tensor operation, waits to win it
back at each one, so training ran well below the headless speed and key presses waited
(``benchmarks/tui.py`` measures both; the README has the figures). In a child process the training runs ``experiment.train``
exactly as the CLI does, and the UI's process only reads messages.

    process = TrainingProcess(config, run_dir, data_dir)
    end = process.run(deliver)          # blocks; call pause(), resume(), stop() from any thread

``deliver`` receives ``{"event": "steps", "points": [step dicts]}`` (steps batched at most every
``interval`` seconds, none ever dropped) and the start, epoch and end events as ``Event.to_dict()``
gives them. ``run`` returns the ``FitEnded`` event, or raises ``TrainingFailed`` with the one-line reason
the child gave (a diverged loss, bad data, out of memory, ...). The child saves its checkpoint on stop,
as ``experiment.train`` does; if the parent disappears, the child notices at its next message, stops,
saves and exits. The child ignores Ctrl-C and the terminal's hang-up (the parent asks it to stop instead,
or vanishes) and never writes to the terminal, which belongs to the parent's UI.
"""

from __future__ import annotations

import contextlib
import dataclasses
import multiprocessing as mp
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rnntui.config import ExperimentConfig
from rnntui.errors import RnntuiError, describe
from rnntui.training.events import Event, FitEnded

ENV_PREFIX = "RNNTUI_"  # the variables a child takes from the parent at start (data dir, mirrors, ...)


class TrainingFailed(RnntuiError):
    """The child's run raised; the message is its one-line reason."""


def _context():
    """forkserver where it exists (a clean, single-threaded server that has imported torch once, so
    each run starts in milliseconds), else spawn. Never fork: the UI process has threads."""
    if "forkserver" in mp.get_all_start_methods():
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(["rnntui.training.experiment"])
        return ctx
    return mp.get_context("spawn")


class _Relay:
    """The child's callback: step events batched in time, everything else at once."""

    def __init__(self, conn, stop, interval: float) -> None:
        self.conn, self.stop, self.interval = conn, stop, interval
        self.buffer: list[dict[str, Any]] = []
        self.last = 0.0

    def __call__(self, event: Event) -> None:
        values = event.to_dict()
        if event.kind in ("step", "grads"):
            self.buffer.append(values)
            if time.monotonic() - self.last >= self.interval:
                self.flush()
        else:
            self.flush()
            self.send(values)

    def flush(self) -> None:
        if self.buffer:
            points, self.buffer = self.buffer, []
            self.send({"event": "steps", "points": points})
        self.last = time.monotonic()

    def send(self, message: dict[str, Any]) -> None:
        try:
            self.conn.send(message)
        except OSError:  # the parent is gone: stop at the next batch, save, exit
            self.stop.set()


def _child(config: ExperimentConfig, run_dir: str, data_dir: str | None, cwd: str, env: dict[str, str],
           conn, stop, running, interval: float, nice: int, resume: bool) -> None:
    # the terminal's Ctrl-C and hang-up reach the whole process group: the parent decides (it asks to stop,
    # or it is gone, which the child notices at its next message: either way it stops, saves and exits)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):  # the terminal is the UI's
        os.dup2(devnull, fd)
    os.chdir(cwd)  # a forkserver's children start in the server's directory and environment
    for key in [k for k in os.environ if k.startswith(ENV_PREFIX)]:
        del os.environ[key]
    os.environ.update(env)
    if nice:
        try:
            os.nice(nice)
        except (AttributeError, OSError):
            pass
    relay = _Relay(conn, stop, interval)
    parent = mp.parent_process()

    def should_stop() -> bool:
        if not running.is_set():
            relay.flush()
            while not running.wait(0.5):
                if parent is not None and not parent.is_alive():
                    stop.set()
                    break
        return stop.is_set()

    try:
        from rnntui.training.experiment import train

        end, _ = train(config, run_dir, [relay], should_stop, data_dir, resume=resume)
        relay.flush()
        relay.send({**end.to_dict(), "event": "result"})
    except BaseException as error:  # noqa: BLE001 - every failure goes back as one line
        relay.flush()
        relay.send({"event": "failed", "message": describe(error)})
    finally:
        conn.close()


@contextlib.contextmanager
def _stderr_with_a_file_descriptor():
    """multiprocessing hands ``sys.stderr.fileno()`` to its helper processes; a UI that captures
    ``sys.stderr`` (Textual does while it runs) answers -1 there, so devnull stands in meanwhile."""
    try:
        usable = sys.stderr is not None and sys.stderr.fileno() >= 0
    except (AttributeError, OSError, ValueError):
        usable = False
    if usable:
        yield
        return
    saved = sys.stderr
    with open(os.devnull, "w") as devnull:
        sys.stderr = devnull
        try:
            yield
        finally:
            sys.stderr = saved


class TrainingProcess:
    """One run of ``experiment.train`` in a child process. Not reusable: one instance, one run."""

    def __init__(self, config: ExperimentConfig, run_dir: str | Path, data_dir: str | Path | None = None, *,
                 interval: float = 0.25, nice: int = 0, resume: bool = False) -> None:
        ctx = _context()
        with _stderr_with_a_file_descriptor():  # semaphores start multiprocessing's resource tracker
            self._stop, self._running = ctx.Event(), ctx.Event()
        self._running.set()
        self._receive, send = ctx.Pipe(duplex=False)
        env = {k: v for k, v in os.environ.items() if k.startswith(ENV_PREFIX)}
        args = (config, str(Path(run_dir).absolute()), None if data_dir is None else str(data_dir), os.getcwd(),
                env, send, self._stop, self._running, interval, nice, resume)
        self.process = ctx.Process(target=_child, args=args, name="rnntui-training", daemon=True)
        self._send = send

    # -- control, from any thread --------------------------------------------------------------------
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

    # -- the run ------------------------------------------------------------------------------------------
    def run(self, deliver: Callable[[dict[str, Any]], None]) -> FitEnded:
        """Start the child and pass on its messages until it ends; returns its FitEnded event."""
        with _stderr_with_a_file_descriptor():
            self.process.start()
        self._send.close()  # only the child writes: when it exits, reading ends with EOFError
        try:
            while True:
                try:
                    message = self._receive.recv()
                except EOFError:
                    self.process.join(5)
                    raise TrainingFailed(
                        f"the training process ended without a result (exit code {self.process.exitcode})"
                    ) from None
                kind = message.get("event")
                if kind == "result":
                    fields = {f.name for f in dataclasses.fields(FitEnded)}
                    return FitEnded(**{k: v for k, v in message.items() if k in fields})
                if kind == "failed":
                    raise TrainingFailed(message["message"])
                deliver(message)
        finally:
            self._finish()

    def _finish(self) -> None:
        self.stop()  # whatever happened here (an exception in deliver, say), the child must end
        self.process.join(30)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(5)
        self._receive.close()


def child_processes() -> list[str]:
    """Names of the live training processes (for tests and a clean exit)."""
    return [p.name for p in mp.active_children() if p.name == "rnntui-training"]

