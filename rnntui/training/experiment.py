"""Run an experiment end to end: data, model, trainer, metrics log and checkpoints in a run directory.

This is the one entry point that the headless CLI and the TUI share, for every task (language model,
sine, seq2seq).
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from rnntui.config import ExperimentConfig, to_toml
from rnntui.data.vocab import Vocab
from rnntui.errors import TrainingDiverged
from rnntui.training.checkpoint import build_model, save_checkpoint
from rnntui.training.events import Callback, EpochEnded, Event, FitEnded
from rnntui.training.runs import CHECKPOINT, CONFIG, METRICS
from rnntui.training.trainer import Task, Trainer, resolve_device



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
) -> tuple[FitEnded, Experiment]:
    """Train, logging to ``out_dir/metrics.jsonl`` and saving ``out_dir/checkpoint.pt`` after every epoch
    and when the run ends: finished, stopped (by request or Ctrl-C) or diverged (the weights of the last
    good step: a step whose loss or gradient is not finite is never applied)."""
    experiment = prepare(config, data_dir, callbacks)  # bad data fails here, before anything is written
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / CONFIG).write_text(to_toml(config), encoding="utf-8")
    log = JsonlLog(out / METRICS)
    trainer = experiment.trainer

    def save(status: str) -> None:
        last = trainer.history[-1].metrics if trainer.history else {}
        info = {"epoch": trainer.epoch, "status": status, "metrics": last, "data": experiment.data_label}
        save_checkpoint(out / CHECKPOINT, config, experiment.model, experiment.vocabs, experiment.token, info)

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
    finally:
        log.close()
