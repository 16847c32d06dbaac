"""The book's experiments as named presets: TOML files a user can copy (``rnntui presets --show NAME``)
and edit, then pass back with ``--config FILE``."""

from __future__ import annotations

from importlib import resources

from rnntui.config import ExperimentConfig, from_dict, tomllib
from rnntui.errors import ConfigError


def _files() -> dict[str, object]:
    return {p.name[:-5]: p for p in resources.files(__name__).iterdir() if p.name.endswith(".toml")}


def names() -> list[str]:
    """Preset names in a stable, teaching order (as the book's chapters go), then any others."""
    order = [
        "sine-mlp", "sine-rnn",
        "rnn-scratch", "rnn", "gru-scratch", "gru", "lstm-scratch", "lstm", "deep-lstm", "bi-lstm",
        "seq2seq-gru", "seq2seq-gru-big",
    ]
    found = _files()
    return [n for n in order if n in found] + sorted(n for n in found if n not in order)


def preset_text(name: str) -> str:
    files = _files()
    if name not in files:
        raise ConfigError(f"unknown preset {name!r}; choose from {', '.join(names())}")
    return files[name].read_text(encoding="utf-8")


def load_preset(name: str) -> ExperimentConfig:
    try:
        return from_dict(tomllib.loads(preset_text(name)))
    except tomllib.TOMLDecodeError as exc:  # pragma: no cover - shipped presets are tested
        raise ConfigError(f"preset {name} is not valid TOML: {exc}") from None
