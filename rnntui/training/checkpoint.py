"""Checkpoints: config + vocabulary + weights in one file, written atomically, read without pickle code.

The file is ``torch.save`` of a dict holding only plain data (str, int, float, bool, lists, dicts) and
tensors. It is read with ``torch.load(weights_only=True)``, whose unpickler refuses any other object,
so a crafted file cannot run code on load.
"""

from __future__ import annotations

import os
import pickle
import tempfile
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
    vocab: Vocab
    model: torch.nn.Module
    token: str = "char"
    info: dict[str, Any] = field(default_factory=dict)  # epoch, metrics, corpus label, ...


def build_model(config: ExperimentConfig, vocab_size: int) -> torch.nn.Module:
    from rnntui.models.lm import RNNLM

    return RNNLM(config.model, vocab_size)


def save_checkpoint(
    path: str | Path, config: ExperimentConfig, vocab: Vocab, model: torch.nn.Module, token: str,
    info: dict[str, Any] | None = None,
) -> Path:
    """Write atomically: a crash mid-save leaves the previous file as it was."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format": FORMAT,
        "version": VERSION,
        "config": config.to_dict(),
        "vocab": list(vocab.idx_to_token),
        "token": token,
        "info": dict(info or {}),
        "model_state": {k: v.detach().cpu() for k, v in model.state_dict().items()},
    }
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


def load_checkpoint(path: str | Path, device: str | torch.device = "cpu") -> Checkpoint:
    """Rebuild the model of a checkpoint. Every problem is a one-line CheckpointError."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint not found: {path}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        text = str(exc)
        if "global" in text.lower():
            raise CheckpointError(
                f"refused to load {path}: it asks to import code or objects, and a checkpoint may hold only "
                "tensors and plain data"
            ) from None
        raise CheckpointError(f"{path} is not an rnntui checkpoint (unreadable: truncated or foreign file)") from None
    except (RuntimeError, EOFError, OSError, ValueError, TypeError, AttributeError, IndexError, KeyError) as exc:
        raise CheckpointError(f"{path} is not an rnntui checkpoint (unreadable: truncated or foreign file)") from exc
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not an rnntui checkpoint (no {FORMAT!r} header)")
    if payload.get("version") != VERSION:
        raise CheckpointError(f"{path} has checkpoint version {payload.get('version')!r}; this rnntui reads {VERSION}")
    try:
        config = from_dict(payload["config"])
        vocab = Vocab.from_itos(payload["vocab"])
        model = build_model(config, len(vocab))
        model.load_state_dict(payload["model_state"])
    except (KeyError, TypeError, ValueError, ConfigError, RuntimeError) as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise CheckpointError(f"{path} is damaged or from an incompatible version: {detail}") from None
    model.to(device).eval()
    return Checkpoint(config, vocab, model, str(payload.get("token", "char")), dict(payload.get("info", {})))
