"""Run an experiment end to end: data, model, trainer, metrics log and checkpoints in a run directory.

This is the one entry point that the headless CLI and the TUI share.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from rnntui.config import ExperimentConfig, to_toml
from rnntui.data.corpus import LMCorpus, load_lm_corpus
from rnntui.training.checkpoint import build_model, save_checkpoint
from rnntui.training.events import Callback, EpochEnded, Event, FitEnded
from rnntui.training.lm_task import LanguageModelTask
from rnntui.training.trainer import Trainer, resolve_device

CHECKPOINT = "checkpoint.pt"
METRICS = "metrics.jsonl"
CONFIG = "config.toml"


@dataclass
class Experiment:
    config: ExperimentConfig
    device: torch.device
    corpus: LMCorpus
    task: LanguageModelTask
    trainer: Trainer

    @property
    def model(self) -> torch.nn.Module:
        return self.task.model


def prepare(config: ExperimentConfig, data_dir: str | Path | None = None, callbacks: Sequence[Callback] = ()) -> Experiment:
    """Load the data and build the model under the config's seed (a CPU run repeats exactly)."""
    device = resolve_device(config.train.device)
    torch.manual_seed(config.train.seed)
    random.seed(config.train.seed)
    corpus = load_lm_corpus(config.data, data_dir)
    model = build_model(config, len(corpus.vocab)).to(device)
    task = LanguageModelTask(model, corpus, config, device)
    return Experiment(config, device, corpus, task, Trainer(task, config.train, device, callbacks))


class JsonlLog:
    """Appends every event to ``metrics.jsonl``, one JSON object a line (non-finite numbers as null)."""

    def __init__(self, path: Path) -> None:
        self.file = path.open("a", encoding="utf-8")

    def __call__(self, event: Event) -> None:
        values = {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in event.to_dict().items()}
        self.file.write(json.dumps(values) + "\n")
        if event.kind != "step":
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
    and when the run stops (by request, Ctrl-C or divergence: the last good weights are kept)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    log = JsonlLog(out / METRICS)
    experiment = prepare(config, data_dir, [log, *callbacks])
    (out / CONFIG).write_text(to_toml(config), encoding="utf-8")
    trainer = experiment.trainer

    def save(status: str) -> None:
        last = trainer.history[-1].metrics if trainer.history else {}
        info = {"epoch": trainer.epoch, "status": status, "metrics": last, "corpus": experiment.corpus.label}
        save_checkpoint(out / CHECKPOINT, config, experiment.corpus.vocab, experiment.model,
                        experiment.corpus.token, info)

    def save_each_epoch(event: Event) -> None:
        if isinstance(event, EpochEnded):
            save("running")

    trainer.callbacks.insert(1, save_each_epoch)
    try:
        end = trainer.fit(should_stop)
        if end.status == "stopped":
            save("stopped")
        else:
            save(end.status)
        return end, experiment
    except KeyboardInterrupt:
        trainer._end("stopped", trainer.start_time, "interrupted")
        save("stopped")
        raise
    finally:
        log.close()
