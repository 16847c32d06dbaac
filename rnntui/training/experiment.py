"""Run an experiment end to end: data, model, trainer, metrics log and checkpoints in a run directory.

This is the one entry point that the headless CLI and the TUI share, for every task (language model,
sine, seq2seq).
"""

from __future__ import annotations

import json
import logging
import math
import os
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from rnntui.config import ExperimentConfig, to_toml
from rnntui.data.vocab import Vocab
from rnntui.errors import ConfigError, RunFolderError, TrainingDiverged
from rnntui.training.checkpoint import build_model, save_checkpoint
from rnntui.training.events import Callback, EpochEnded, Event, FitEnded
from rnntui.training.runs import CHECKPOINT, CONFIG, METRICS
from rnntui.training.trainer import Task, Trainer, resolve_device

logger = logging.getLogger(__name__)



@dataclass
class Experiment:
    config: ExperimentConfig
    device: torch.device
    task: Task
    trainer: Trainer
    vocabs: dict[str, Vocab] = field(default_factory=dict)
    token: str = "char"
    data_label: str = ""
    corpus: Any = None  # the LMCorpus of a language model

    @property
    def model(self) -> torch.nn.Module:
        return self.task.model


def prepare(config: ExperimentConfig, data_dir: str | Path | None = None, callbacks: Sequence[Callback] = ()) -> Experiment:
    """Load the data and build the model under the config's seed (a CPU run repeats exactly)."""
    device = resolve_device(config.train.device)
    torch.manual_seed(config.train.seed)
    random.seed(config.train.seed)
    vocabs: dict[str, Vocab] = {}
    token, corpus = "char", None
    if config.task == "lm":
        from rnntui.data.corpus import load_lm_corpus
        from rnntui.training.lm_task import LanguageModelTask

        corpus = load_lm_corpus(config.data, data_dir)
        vocabs, token, label = {"vocab": corpus.vocab}, corpus.token, corpus.label
        task: Task = LanguageModelTask(build_model(config, vocabs).to(device), corpus, config, device)
    elif config.task == "seq2seq":
        from rnntui.data.translation import load_pairs
        from rnntui.training.seq2seq_task import Seq2SeqTask

        data = load_pairs(config.pairs, data_dir)
        vocabs, token, label = {"src": data.src_vocab, "tgt": data.tgt_vocab}, "word", data.label
        task = Seq2SeqTask(build_model(config, vocabs).to(device), data, config, device)
    else:
        from rnntui.training.sine_task import SineTask

        task = SineTask(build_model(config, vocabs).to(device), config, device)
        label = "sine"
    trainer = Trainer(task, config.train, device, callbacks)
    return Experiment(config, device, task, trainer, vocabs, token, label, corpus)


class JsonlLog:
    """Appends every event to ``metrics.jsonl``, one JSON object a line (non-finite numbers as null)."""

    def __init__(self, path: Path) -> None:
        self.file = path.open("a", encoding="utf-8")

    def __call__(self, event: Event) -> None:
        values = {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in event.to_dict().items()}
        self.file.write(json.dumps(values) + "\n")
        if event.kind not in ("step", "grads"):  # the many small ones are flushed with the next epoch
            self.file.flush()

    def close(self) -> None:
        self.file.close()


def train(
    config: ExperimentConfig,
    out_dir: str | Path,
    callbacks: Sequence[Callback] = (),
    should_stop: Callable[[], bool] = lambda: False,
    data_dir: str | Path | None = None,
    resume: bool = False,
) -> tuple[FitEnded, Experiment]:
    """Train, logging to ``out_dir/metrics.jsonl`` and saving ``out_dir/checkpoint.pt`` after every epoch
    and when the run ends: finished, stopped (by request or Ctrl-C) or diverged (the weights of the last
    good step: a step whose loss or gradient is not finite is never applied).

    ``resume``: go on with the run in ``out_dir`` until ``config.train.epochs`` epochs in all, from its
    checkpoint (weights, optimizer, random generators, the epoch and step it stopped at); its
    metrics.jsonl is cut back to that checkpoint first, so that no step or epoch is there twice. A folder
    that cannot be written (a full disk, a read-only folder) is a RunFolderError; the checkpoint before
    it stays as it was."""
    experiment = prepare(config, data_dir, callbacks)  # bad data fails here, before anything is written
    out = Path(out_dir)
    trainer = experiment.trainer
    try:
        if resume:
            _resume(experiment, out)
        out.mkdir(parents=True, exist_ok=True)
        (out / CONFIG).write_text(to_toml(config), encoding="utf-8")
        log = JsonlLog(out / METRICS)
    except OSError as exc:
        raise RunFolderError(f"cannot write to the run folder {out}: {exc.strerror or exc}") from None

    def save(status: str) -> None:
        last = trainer.history[-1].metrics if trainer.history else {}
        info = {"epoch": trainer.epoch, "status": status, "metrics": last, "data": experiment.data_label,
                "global_step": trainer.global_step}
        save_checkpoint(out / CHECKPOINT, config, experiment.model, experiment.vocabs, experiment.token, info,
                        trainer.snapshot())

    def save_each_epoch(event: Event) -> None:
        if isinstance(event, EpochEnded):
            save("running")

    trainer.callbacks[:0] = [log, save_each_epoch]  # logged and saved before the caller hears of it
    try:
        end = trainer.fit(should_stop)
        save(end.status)
        return end, experiment
    except TrainingDiverged:
        save("failed")
        raise
    except KeyboardInterrupt:
        trainer._end("stopped", trainer.start_time, "interrupted")
        save("stopped")
        raise
    except OSError as exc:  # the disk filled up, or the folder became read-only
        raise RunFolderError(f"cannot write to the run folder {out}: {exc.strerror or exc}; "
                             f"its last checkpoint ({CHECKPOINT}) is kept") from None
    finally:
        log.close()


def _resume(experiment: Experiment, out: Path) -> None:
    """Load the run's checkpoint into the prepared experiment and cut its metrics.jsonl back to it."""
    from rnntui.training.checkpoint import load_checkpoint

    config, trainer = experiment.config, experiment.trainer
    if not (out / CHECKPOINT).is_file():
        raise RunFolderError(f"nothing to resume in {out}: it has no {CHECKPOINT}")
    checkpoint = load_checkpoint(out / CHECKPOINT, experiment.device)
    if checkpoint.config.task != config.task:
        raise RunFolderError(f"{out} holds a {checkpoint.config.task} run, not a {config.task} one")
    try:
        experiment.model.load_state_dict(checkpoint.model.state_dict())
    except RuntimeError as exc:
        raise RunFolderError(f"{out}'s checkpoint does not fit its config.toml: {str(exc).splitlines()[0]}") from None
    state = checkpoint.resume
    epoch = int(state["epoch"]) if state else int(checkpoint.info.get("epoch", 0))
    step = int(state["global_step"]) if state else None
    inside = state.get("in_epoch") if state else None
    next_epoch = int(inside["epoch"]) if inside else epoch + 1
    if next_epoch > config.train.epochs:  # (before anything in the folder changes)
        raise ConfigError(f"{out.name} has {epoch} epochs done: give more to go on (--epochs N, N >= {next_epoch})")
    epochs = rewind_metrics(out / METRICS, epoch, step)
    history = [EpochEnded(e["epoch"], e.get("epochs", config.train.epochs),
                          {k: v for k, v in e.items() if k not in _EPOCH_FIELDS and isinstance(v, (int, float))},
                          e.get("tokens_per_s", 0.0), e.get("elapsed_s", 0.0), e.get("sample", "")) for e in epochs]
    if state is not None:
        trainer.restore(state, history)
    else:
        logger.warning("%s predates resuming: it goes on from its weights after epoch %d; the optimizer and the "
                    "random generators start afresh", out / CHECKPOINT, epoch)
        trainer.epoch, trainer.history = epoch, history
        trainer.global_step = _count_steps(out / METRICS)


_EPOCH_FIELDS = {"event", "epoch", "epochs", "tokens_per_s", "elapsed_s", "sample"}


def rewind_metrics(path: Path, epoch: int, global_step: int | None) -> list[dict[str, Any]]:
    """Cut ``metrics.jsonl`` back to a checkpoint: the steps up to ``global_step`` (all of the first
    ``epoch`` epochs' when None), the first ``epoch`` epochs, no end; rewritten atomically. Returns the
    epochs kept. Lines that do not parse are dropped."""
    kept, epochs = [], []
    if path.is_file():
        for line in path.read_bytes().splitlines():
            try:
                event = json.loads(line)
                kind = event["event"]
            except (ValueError, KeyError, TypeError):
                continue
            if kind in ("step", "grads"):
                keep = event.get("global_step", 0) <= global_step if global_step is not None \
                    else event.get("epoch", 0) <= epoch
            elif kind == "epoch":
                keep = event.get("epoch", 0) <= epoch
            else:
                keep = kind != "end"
            if keep:
                kept.append(line)
                if kind == "epoch":
                    epochs.append(event)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(b"".join(line + b"\n" for line in kept))
    os.replace(tmp, path)
    return epochs


def _count_steps(path: Path) -> int:
    with path.open("rb") as f:
        return sum(b'"event": "step"' in line for line in f)
