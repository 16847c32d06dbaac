"""Checkpoints: config + vocabulary + weights in one file, written atomically, read without pickle code.

The file is ``torch.save`` of a dict holding only plain data (str, int, float, bool, lists, dicts) and
tensors. It is read with ``torch.load(weights_only=True)``, whose unpickler refuses any other object,
so a crafted file cannot run code on load.
"""

from __future__ import annotations

import os
import pickle
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from rnntui.config import ExperimentConfig, from_dict
from rnntui.data.vocab import Vocab
from rnntui.errors import CheckpointError, ConfigError

FORMAT = "rnntui-checkpoint"
VERSION = 1


@dataclass
class Checkpoint:
    config: ExperimentConfig
    model: torch.nn.Module
    vocabs: dict[str, Vocab] = field(default_factory=dict)  # lm: "vocab"; seq2seq: "src", "tgt"; sine: none
    token: str = "char"
    info: dict[str, Any] = field(default_factory=dict)  # epoch, status, metrics, corpus label, ...
    resume: dict[str, Any] | None = None  # Trainer.snapshot(): what resuming needs (None in older files)

    @property
    def vocab(self) -> Vocab:
        return self.vocabs["vocab"]


VOCABS = {"lm": ("vocab",), "sine": (), "seq2seq": ("src", "tgt")}


def build_model(config: ExperimentConfig, vocabs: dict[str, Vocab]) -> torch.nn.Module:
    """The untrained model of a config (its vocabularies fix the input and output sizes)."""
    if config.task == "sine":
        from rnntui.models.sine import build_sine_model

        return build_sine_model(config)
    if config.task == "seq2seq":
        from rnntui.models.seq2seq import build_seq2seq

        return build_seq2seq(config, len(vocabs["src"]), len(vocabs["tgt"]))
    from rnntui.models.lm import RNNLM

    return RNNLM(config.model, len(vocabs["vocab"]))


def save_checkpoint(
    path: str | Path, config: ExperimentConfig, model: torch.nn.Module, vocabs: dict[str, Vocab],
    token: str = "char", info: dict[str, Any] | None = None, resume: dict[str, Any] | None = None,
) -> Path:
    """Write atomically: a crash (or a full disk) mid-save leaves the previous file as it was."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format": FORMAT,
        "version": VERSION,
        "config": config.to_dict(),
        "vocabs": {name: list(vocab.idx_to_token) for name, vocab in vocabs.items()},
        "token": token,
        "info": dict(info or {}),
        "model_state": {k: v.detach().cpu() for k, v in model.state_dict().items()},
    }
    if resume is not None:
        payload["resume"] = resume
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(payload, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _read(path: Path) -> Any:
    with warnings.catch_warnings():  # torch warns about old pickle protocols; the error below says it all
        warnings.simplefilter("ignore")
        try:
            return torch.load(path, map_location="cpu", weights_only=True)
        except pickle.UnpicklingError as exc:
            if "global" in str(exc).lower():
                raise CheckpointError(
                    f"refused to load {path}: it asks to import code or objects, and a checkpoint may hold "
                    "only tensors and plain data"
                ) from None
            raise CheckpointError(f"{path} is not an rnntui checkpoint (unreadable: truncated or foreign file)") from None
        except Exception:  # torch raises many kinds for a file that is not a torch zip or pickle
            raise CheckpointError(f"{path} is not an rnntui checkpoint (unreadable: truncated or foreign file)") from None


def _check(condition: bool, path: Path, what: str) -> None:
    if not condition:
        raise CheckpointError(f"{path} is damaged or from an incompatible version: {what}")


def load_checkpoint(path: str | Path, device: str | torch.device = "cpu") -> Checkpoint:
    """Rebuild the model of a checkpoint. Every problem is a one-line CheckpointError."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint not found: {path}")
    payload = _read(path)
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not an rnntui checkpoint (no {FORMAT!r} header)")
    if payload.get("version") != VERSION:
        raise CheckpointError(f"{path} has checkpoint version {payload.get('version')!r}; this rnntui reads {VERSION}")
    _check(isinstance(payload.get("config"), dict), path, "its config is not a table")
    _check(isinstance(payload.get("info", {}), dict), path, "its info is not a table")
    _check(payload.get("token", "char") in ("char", "word"), path, "its token kind is neither char nor word")
    vocabs = payload.get("vocabs")
    _check(isinstance(vocabs, dict), path, "it has no vocabularies")
    try:
        config = from_dict(payload["config"])
    except ConfigError as exc:
        raise CheckpointError(f"{path} is damaged or from an incompatible version: {exc}") from None
    _check(set(vocabs) == set(VOCABS[config.task]), path, f"a {config.task} checkpoint needs vocabularies "
           f"{', '.join(VOCABS[config.task]) or '(none)'}")
    for name, itos in vocabs.items():
        _check(isinstance(itos, list) and all(isinstance(t, str) for t in itos), path,
               f"vocabulary {name} is not a list of strings")
    try:
        built = {name: Vocab.from_itos(itos) for name, itos in vocabs.items()}
        model = build_model(config, built)
        model.load_state_dict(payload["model_state"])
    except (KeyError, TypeError, ValueError, ConfigError, RuntimeError, AttributeError) as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise CheckpointError(f"{path} is damaged or from an incompatible version: {detail}") from None
    model.to(device).eval()
    resume = payload.get("resume")
    _check(resume is None or isinstance(resume, dict), path, "its resume state is not a table")
    return Checkpoint(config, model, built, payload.get("token", "char"), dict(payload.get("info", {})), resume)
