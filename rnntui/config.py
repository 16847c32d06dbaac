"""Experiment configuration: typed dataclasses, validation with one-line messages, TOML in and out.

A preset is a TOML file with top-level ``name``, ``description`` and ``task`` and one table per section
(``[data]``, ``[model]``, ``[train]``, ``[sample]``). Every value is checked when the config is built, so
a bad value is reported before any data is loaded or any model is made.
"""

from __future__ import annotations

import dataclasses
import math
import sys
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from rnntui.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

TASKS = ("lm", "sine", "seq2seq")
CORPORA = ("timemachine", "pydoc")
TOKENS = ("char", "word")
PREPROCESS = ("d2l", "lower", "none")
SAMPLINGS = ("sequential", "random")
KINDS = ("rnn", "gru", "lstm", "mlp")  # mlp: the sine task's autoregressive model
IMPLS = ("torch", "scratch")
OPTIMIZERS = ("sgd", "adam")
DEVICES = ("auto", "cpu", "cuda", "mps")
CUDA_GRAPHS = ("auto", "true", "false")


def _choice(section: str, name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(f"{section}.{name} must be one of {', '.join(choices)}; got {value!r}")


def _at_least(section: str, name: str, value: float, low: float) -> None:
    if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= low):
        raise ConfigError(f"{section}.{name} must be >= {low:g}; got {value!r}")


def _positive(section: str, name: str, value: float) -> None:
    if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
        raise ConfigError(f"{section}.{name} must be > 0; got {value!r}")


@dataclass(frozen=True)
class DataConfig:
    """Where the text comes from and how it is cut into minibatches."""

    corpus: str = "timemachine"  # "timemachine", "pydoc" (built-in, offline) or a path to a UTF-8 text file
    token: str = "char"  # "char" or "word"
    preprocess: str = "d2l"  # d2l: runs of non-letters -> one space, lowercase; "lower"; "none"
    min_freq: int = 0  # tokens seen fewer times map to <unk>
    batch_size: int = 32
    num_steps: int = 35  # truncated-BPTT window
    sampling: str = "sequential"  # "sequential" (state carried across batches) or "random"
    val_fraction: float = 0.1  # the last part of the corpus, held out
    max_tokens: int = 0  # 0: the whole corpus

    def __post_init__(self) -> None:
        s = "data"
        if not isinstance(self.corpus, str) or not self.corpus:
            raise ConfigError("data.corpus must be 'timemachine', 'pydoc' or a file path")
        _choice(s, "token", self.token, TOKENS)
        _choice(s, "preprocess", self.preprocess, PREPROCESS)
        _choice(s, "sampling", self.sampling, SAMPLINGS)
        _at_least(s, "min_freq", self.min_freq, 0)
        _at_least(s, "batch_size", self.batch_size, 1)
        _at_least(s, "num_steps", self.num_steps, 1)
        _at_least(s, "max_tokens", self.max_tokens, 0)
        if not (isinstance(self.val_fraction, (int, float)) and 0 < self.val_fraction < 0.9):
            raise ConfigError(f"data.val_fraction must be between 0 and 0.9 (exclusive); got {self.val_fraction!r}")


@dataclass(frozen=True)
class ModelConfig:
    """Which recurrent network, and how big."""

    kind: str = "lstm"  # "rnn", "gru" or "lstm" ("mlp" for the sine task)
    impl: str = "torch"  # "torch" (torch.nn / cuDNN) or "scratch" (the book's equations)
    num_hiddens: int = 256
    num_layers: int = 1
    bidirectional: bool = False  # torch impl only; a bidirectional LM sees the future and cannot predict
    embed_size: int = 0  # 0: one-hot inputs, as the book
    dropout: float = 0.0  # between stacked layers

    def __post_init__(self) -> None:
        s = "model"
        _choice(s, "kind", self.kind, KINDS)
        _choice(s, "impl", self.impl, IMPLS)
        _at_least(s, "num_hiddens", self.num_hiddens, 1)
        _at_least(s, "num_layers", self.num_layers, 1)
        _at_least(s, "embed_size", self.embed_size, 0)
        if not (isinstance(self.dropout, (int, float)) and 0 <= self.dropout < 1):
            raise ConfigError(f"model.dropout must be in [0, 1); got {self.dropout!r}")
        if self.bidirectional and self.impl == "scratch":
            raise ConfigError("model.bidirectional needs model.impl = 'torch'")


@dataclass(frozen=True)
class TrainConfig:
    """How the model is optimised."""

    optimizer: str = "sgd"  # "sgd" or "adam"
    lr: float = 1.0
    epochs: int = 50
    clip: float = 1.0  # gradient clipping by global norm; 0 turns it off
    seed: int = 0
    device: str = "auto"  # "auto", "cpu", "cuda", "cuda:N" or "mps"
    grad_norms_every: int = 10  # log the gradient norm of each parameter group every N steps; 0: never
    # replay each training step as a CUDA graph: "auto" (on for CUDA runs whose batches share a shape),
    # "true" or "false" (TOML's true and false too)
    cuda_graphs: str | bool = "auto"

    def __post_init__(self) -> None:
        s = "train"
        _at_least(s, "grad_norms_every", self.grad_norms_every, 0)
        if isinstance(self.cuda_graphs, bool):
            object.__setattr__(self, "cuda_graphs", "true" if self.cuda_graphs else "false")
        _choice(s, "cuda_graphs", self.cuda_graphs, CUDA_GRAPHS)
        _choice(s, "optimizer", self.optimizer, OPTIMIZERS)
        _positive(s, "lr", self.lr)
        _at_least(s, "epochs", self.epochs, 1)
        _at_least(s, "clip", self.clip, 0)
        _at_least(s, "seed", self.seed, 0)
        if self.device.split(":")[0] not in DEVICES:
            raise ConfigError(f"train.device must be one of auto, cpu, cuda, cuda:N, mps; got {self.device!r}")


@dataclass(frozen=True)
class SampleConfig:
    """What is shown after each epoch: a continuation of ``prefix`` (language models) or translations
    of ``sentences`` scored against ``references`` (seq2seq)."""

    prefix: str = "time traveller"
    num_tokens: int = 50
    sentences: tuple[str, ...] = ()
    references: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _at_least("sample", "num_tokens", self.num_tokens, 0)
        if self.references and len(self.references) != len(self.sentences):
            raise ConfigError("sample.references must have one entry per sentence in sample.sentences")


@dataclass(frozen=True)
class SineConfig:
    """The book's sequence: x_t = sin(0.01 t) + N(0, noise^2), features the tau previous values."""

    num_points: int = 1000  # T
    tau: int = 4
    noise: float = 0.2  # standard deviation (variance 0.04)
    num_train: int = 600  # the first pairs train, the rest test
    batch_size: int = 16
    k_steps: tuple[int, ...] = (1, 4, 16, 64)  # k-step-ahead predictions to report

    def __post_init__(self) -> None:
        s = "sine"
        _at_least(s, "tau", self.tau, 1)
        _at_least(s, "num_points", self.num_points, self.tau + 2)
        _at_least(s, "noise", self.noise, 0)
        _at_least(s, "batch_size", self.batch_size, 1)
        if not (isinstance(self.num_train, int) and 1 <= self.num_train < self.num_points - self.tau):
            raise ConfigError(f"sine.num_train must be between 1 and num_points - tau - 1; got {self.num_train!r}")
        if not self.k_steps or any(not isinstance(k, int) or k < 1 for k in self.k_steps):
            raise ConfigError(f"sine.k_steps must be a list of integers >= 1; got {list(self.k_steps)!r}")


@dataclass(frozen=True)
class PairsConfig:
    """Sentence pairs for translation (d2l's English-French Tatoeba pairs, or a user's TSV file)."""

    source: str = "fra-eng"  # "fra-eng" or a path to a UTF-8 file of source<TAB>target lines
    num_examples: int = 600  # the first N pairs (0: all)
    num_steps: int = 10  # sequences truncated or padded to this many tokens
    min_freq: int = 2
    batch_size: int = 64
    val_examples: int = 0  # held-out pairs taken after the first num_examples (0: none)

    def __post_init__(self) -> None:
        s = "pairs"
        if not isinstance(self.source, str) or not self.source:
            raise ConfigError("pairs.source must be 'fra-eng' or a file path")
        _at_least(s, "num_examples", self.num_examples, 0)
        _at_least(s, "num_steps", self.num_steps, 2)
        _at_least(s, "min_freq", self.min_freq, 0)
        _at_least(s, "batch_size", self.batch_size, 1)
        _at_least(s, "val_examples", self.val_examples, 0)


@dataclass(frozen=True)
class ExperimentConfig:
    """One experiment: a task and its sections."""

    name: str = "custom"
    description: str = ""
    task: str = "lm"
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    sample: SampleConfig = field(default_factory=SampleConfig)
    sine: SineConfig = field(default_factory=SineConfig)
    pairs: PairsConfig = field(default_factory=PairsConfig)

    def __post_init__(self) -> None:
        _choice("config", "task", self.task, TASKS)
        if self.model.kind == "mlp" and self.task != "sine":
            raise ConfigError("model.kind = 'mlp' is for task = 'sine' only")
        if self.model.bidirectional and self.task != "lm":
            raise ConfigError("model.bidirectional is for language models only")

    def replace(self, **sections: dict[str, Any]) -> ExperimentConfig:
        """A copy with some values changed: ``cfg.replace(train={"epochs": 3})``."""
        changes: dict[str, Any] = {}
        for key, value in sections.items():
            if key in _SECTIONS:
                changes[key] = _build(_SECTIONS[key], key, {**dataclasses.asdict(getattr(self, key)), **value})
            else:
                changes[key] = value
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


_SECTIONS = {
    "data": DataConfig, "model": ModelConfig, "train": TrainConfig, "sample": SampleConfig,
    "sine": SineConfig, "pairs": PairsConfig,
}
# the sections each task uses (and writes to TOML)
TASK_SECTIONS = {
    "lm": ("data", "model", "train", "sample"),
    "sine": ("sine", "model", "train"),
    "seq2seq": ("pairs", "model", "train", "sample"),
}


def _coerce(section: str, f: dataclasses.Field, value: Any) -> Any:
    if isinstance(f.type, str) and f.type.startswith("tuple["):
        item = {"tuple[int, ...]": int, "tuple[str, ...]": str}[f.type]
        if not isinstance(value, (list, tuple)) or any(
            not isinstance(v, item) or isinstance(v, bool) for v in value
        ):
            raise ConfigError(f"{section}.{f.name} must be a list of {item.__name__}s; got {value!r}")
        return tuple(value)
    if f.type == "str | bool":  # a choice of words that TOML may also write as true or false
        if not isinstance(value, (str, bool)):
            raise ConfigError(f"{section}.{f.name} must be one of its words, true or false; got {value!r}")
        return value
    want = f.type if isinstance(f.type, type) else {"int": int, "float": float, "str": str, "bool": bool}[f.type]
    if want is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if want is bool and not isinstance(value, bool) or want is not bool and isinstance(value, bool):
        raise ConfigError(f"{section}.{f.name} must be a {want.__name__}; got {value!r}")
    if not isinstance(value, want):
        raise ConfigError(f"{section}.{f.name} must be a {want.__name__}; got {value!r}")
    return value


def _build(cls: type, section: str, values: dict[str, Any]) -> Any:
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise ConfigError(f"unknown key {section}.{unknown[0]}; known keys: {', '.join(known)}")
    return cls(**{k: _coerce(section, known[k], v) for k, v in values.items()})


def from_dict(values: dict[str, Any]) -> ExperimentConfig:
    """Build and validate a config from nested plain values (as read from TOML or a checkpoint)."""
    top = {f.name for f in fields(ExperimentConfig)}
    unknown = sorted(set(values) - top)
    if unknown:
        raise ConfigError(f"unknown key {unknown[0]!r}; known keys: {', '.join(sorted(top))}")
    kwargs: dict[str, Any] = {}
    for key, value in values.items():
        if key in _SECTIONS:
            if not isinstance(value, dict):
                raise ConfigError(f"[{key}] must be a table")
            kwargs[key] = _build(_SECTIONS[key], key, value)
        elif not isinstance(value, str):
            raise ConfigError(f"{key} must be a string; got {value!r}")
        else:
            kwargs[key] = value
    return ExperimentConfig(**kwargs)


def read_toml(path: str | Path) -> dict[str, Any]:
    """The raw values of a TOML file; a missing, unreadable or invalid file is a one-line ConfigError."""
    path = Path(path)
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None


def load_toml(path: str | Path, base: ExperimentConfig | None = None) -> ExperimentConfig:
    """A config file laid over ``base`` (default: the defaults); errors name the file."""
    values = read_toml(path)
    try:
        return merge(base or ExperimentConfig(), values)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def merge(base: ExperimentConfig, override: dict[str, Any]) -> ExperimentConfig:
    """``base`` with the values of a (possibly partial) nested dict laid over it."""
    merged = base.to_dict()
    for key, value in override.items():
        if key in _SECTIONS and isinstance(value, dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return from_dict(merged)


def _toml_value(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
        return f'"{escaped}"'
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def to_toml(config: ExperimentConfig) -> str:
    """The config as a TOML preset that ``load_toml`` reads back to an equal config."""
    values = config.to_dict()
    lines = [f"{k} = {_toml_value(v)}" for k, v in values.items() if k not in _SECTIONS]
    for section in TASK_SECTIONS[config.task]:
        lines += ["", f"[{section}]"] + [f"{k} = {_toml_value(v)}" for k, v in values[section].items()]
    return "\n".join(lines) + "\n"
