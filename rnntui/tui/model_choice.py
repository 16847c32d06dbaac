"""The model the inspector views work on: chosen once for all of them (``RnntuiApp.model_choice``).

By default each view takes the most recent finished run whose task fits it (a language model for
Sampling, a language or translation model for Prompt, a sine model for Sequence). The user can choose
the run training now (its latest checkpoint, reloaded after each epoch), any run folder, or a checkpoint
file; a view the choice does not fit says so in one line. Checkpoints are read in worker threads and
kept while their file is unchanged, so views that show the same model load it once.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rnntui.errors import RnntuiError

if TYPE_CHECKING:
    from rnntui.training.checkpoint import Checkpoint

TASK_NAMES = {"lm": "language model", "seq2seq": "translation (seq2seq) model", "sine": "sine model"}


_threads_lock = threading.Lock()
_threads = [0, 1]  # [workers inside one_thread, the thread count to restore when the last one leaves]


@contextlib.contextmanager
def one_thread():
    """One intra-op torch thread while a worker runs a model (the count before comes back when the last one
    leaves): a batch of one, step by step, gains nothing from more threads but their synchronisation
    (benchmarks/prompt_view.py)."""
    import torch

    with _threads_lock:
        if _threads[0] == 0:
            _threads[1] = torch.get_num_threads()
            torch.set_num_threads(1)
        _threads[0] += 1
    try:
        yield
    finally:
        with _threads_lock:
            _threads[0] -= 1
            if _threads[0] == 0:
                torch.set_num_threads(_threads[1])


class NoModel(RnntuiError):
    """No model fits the view, or the chosen one cannot be used there: the one line to show."""


@dataclass(frozen=True)
class ModelChoice:
    kind: str = "default"  # default | live (the run training now) | run (a run folder) | file (a checkpoint)
    path: Path | None = None

    def describe(self) -> str:
        if self.kind == "default":
            return "the latest finished run that fits each view"
        if self.kind == "live":
            return "the run training now (its latest checkpoint)"
        return str(self.path)


@dataclass(frozen=True)
class LiveRun:
    """The run the app is training: its folder and the epochs its checkpoint holds so far."""

    run_dir: Path
    epoch: int = 0


@dataclass(frozen=True)
class LoadedModel:
    checkpoint: Checkpoint
    path: Path  # the checkpoint file
    run_dir: Path | None  # its run folder, when it has one
    stamp: tuple[int, int]  # (mtime_ns, size) of the file when it was read

    @property
    def task(self) -> str:
        return self.checkpoint.config.task

    @property
    def label(self) -> str:
        """``run-name (LSTM 256, epoch 50 of 50, finished)``: which model, how far it trained."""
        from rnntui.training.runs import model_name

        config, info = self.checkpoint.config, self.checkpoint.info
        name = self.run_dir.name if self.run_dir is not None else self.path.name
        status = info.get("status", "")
        return (f"{name} ({model_name(config)}, epoch {info.get('epoch', '?')} of {config.train.epochs}"
                + (f", {status}" if status else "") + ")")


def checkpoint_path(choice: ModelChoice, tasks: tuple[str, ...], runs_dir: Path, live: LiveRun | None,
                    cache: dict | None = None) -> tuple[Path, Path | None]:
    """(checkpoint file, run folder or None) for a view that takes ``tasks``; NoModel says why there is none."""
    from rnntui.training.runs import CHECKPOINT, latest_run  # (in a worker: not before the first frame)

    needs = " or ".join(TASK_NAMES[t] for t in tasks)
    if choice.kind == "default":
        run = latest_run(runs_dir, tasks, cache)
        if run is None:
            raise NoModel(f"no finished {needs} run in {runs_dir} yet: train one in the Train view (1), "
                          "or press m to choose a checkpoint")
        return run.path / CHECKPOINT, run.path
    if choice.kind == "live":
        if live is None:
            raise NoModel("no run is training now: press m to choose another model")
        path = live.run_dir / CHECKPOINT
        if not path.is_file():
            raise NoModel(f"the run training now ({live.run_dir.name}) writes its first checkpoint after its first "
                          "epoch")
        return path, live.run_dir
    assert choice.path is not None
    if choice.kind == "run":
        return choice.path / CHECKPOINT, choice.path
    return choice.path, choice.path.parent if (choice.path.parent / "config.toml").is_file() else None


_lock = threading.Lock()
_loaded: dict[Path, LoadedModel] = {}


def load(path: Path, run_dir: Path | None) -> LoadedModel:
    """The checkpoint at ``path``, read once while the file stays the same (call from a worker thread)."""
    from rnntui.training.checkpoint import load_checkpoint

    path = Path(path).absolute()
    with _lock:
        try:
            stat = path.stat()
        except OSError:
            raise NoModel(f"checkpoint not found: {path} (deleted since it was chosen?)") from None
        stamp = (stat.st_mtime_ns, stat.st_size)
        known = _loaded.get(path)
        if known is not None and known.stamp == stamp:
            return known
        model = LoadedModel(load_checkpoint(path), path, run_dir, stamp)
        _loaded[path] = model
        return model


def fits(model: LoadedModel, tasks: tuple[str, ...], title: str) -> None:
    """NoModel unless the model's task is one of ``tasks``."""
    if model.task not in tasks:
        needs = " or ".join(TASK_NAMES[t] for t in tasks)
        raise NoModel(f"{model.label} is a {TASK_NAMES.get(model.task, model.task)}; the {title} view needs a "
                      f"{needs}: press m to choose another")
