"""Text corpora for language models: reading, preprocessing, tokenizing and the held-out split."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import torch

from rnntui.config import DataConfig
from rnntui.data.vocab import Vocab
from rnntui.errors import DataError

TIME_MACHINE = "timemachine"
BUILTIN = "pydoc"
LABELS = {
    TIME_MACHINE: "The Time Machine (H. G. Wells)",
    BUILTIN: "Python documentation (built-in offline corpus: CPython's pydoc_data.topics)",
}


def read_text_file(path: str | Path, kind: str = "corpus", form: str = "text file") -> str:
    """A user's file as text: UTF-8, not empty, not binary; else a one-line DataError naming it as
    ``kind`` ("corpus", "sentence-pair", ...)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{kind} file not found: {path}") from None
    except IsADirectoryError:
        raise DataError(f"{kind} path is a directory, not a file: {path}") from None
    except OSError as exc:
        raise DataError(f"cannot read {kind} file {path}: {exc.strerror or exc}") from None
    if not raw.strip():
        raise DataError(f"{kind} file {path} is empty")
    if b"\x00" in raw[:65536]:
        raise DataError(f"{kind} file {path} looks binary (it contains NUL bytes); give a UTF-8 {form}")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"{kind} file {path} is not valid UTF-8 (byte {exc.start}); convert it to UTF-8") from None


def builtin_text() -> str:
    """The English text of Python's own documentation, shipped with CPython: always available offline."""
    from pydoc_data.topics import topics

    return "\n".join(topics[key] for key in sorted(topics))


def read_corpus(source: str, data_dir: str | Path | None = None) -> tuple[str, str]:
    """(raw text, label) for ``timemachine``, ``pydoc`` or a path to a UTF-8 file."""
    if source == TIME_MACHINE:
        from rnntui.data.download import fetch

        path = fetch("timemachine.txt", directory=data_dir)
        return path.read_text(encoding="utf-8"), LABELS[TIME_MACHINE]
    if source == BUILTIN:
        return builtin_text(), LABELS[BUILTIN]
    return read_text_file(source), f"{Path(source).name} (file)"


def preprocess(text: str, mode: str = "d2l") -> str:
    """d2l: every run of non-letters becomes one space, lowercase. lower: lowercase, whitespace collapsed."""
    if mode == "d2l":
        return re.sub("[^A-Za-z]+", " ", text).lower().strip()
    if mode == "lower":
        return re.sub(r"\s+", " ", text).lower().strip()
    return text


def tokenize(text: str, token: str = "char") -> list[str]:
    """Characters, or whitespace-separated words."""
    return list(text) if token == "char" else text.split()


def join_tokens(tokens: list[str], token: str) -> str:
    return "".join(tokens) if token == "char" else " ".join(tokens)


@dataclass
class LMCorpus:
    """A tokenized corpus cut into a training part and a held-out validation part (the end of the text)."""

    label: str
    token: str
    vocab: Vocab
    tokens: list[str]
    train_ids: torch.Tensor  # (num_train,) int64
    val_ids: torch.Tensor  # (num_val,) int64

    def describe(self) -> str:
        unit = "characters" if self.token == "char" else "words"
        return (
            f"{self.label}: {len(self.tokens):,} {unit}, vocab {len(self.vocab)}, "
            f"{len(self.train_ids):,} train / {len(self.val_ids):,} held out"
        )


def load_lm_corpus(config: DataConfig, data_dir: str | Path | None = None) -> LMCorpus:
    """Read, preprocess and tokenize the corpus; the vocabulary is built from the training part only."""
    text, label = read_corpus(config.corpus, data_dir)
    tokens = tokenize(preprocess(text, config.preprocess), config.token)
    if config.max_tokens:
        tokens = tokens[: config.max_tokens]
    num_val = int(len(tokens) * config.val_fraction)
    num_train = len(tokens) - num_val
    need = config.batch_size * config.num_steps + 1
    if num_train < need or num_val < config.num_steps + 1:
        raise DataError(
            f"corpus {label} has {len(tokens):,} tokens after preprocessing; with batch_size "
            f"{config.batch_size}, num_steps {config.num_steps} and val_fraction {config.val_fraction:g} "
            f"it needs at least {need:,} training and {config.num_steps + 1} held-out tokens"
        )
    vocab = Vocab(tokens[:num_train], min_freq=config.min_freq)
    ids = torch.tensor(vocab[tokens], dtype=torch.long)
    return LMCorpus(label, config.token, vocab, tokens, ids[:num_train], ids[num_train:])


def num_train_tokens(num_tokens: int, val_fraction: float) -> int:
    """How many tokens of a corpus of ``num_tokens`` train: ``load_lm_corpus`` holds out the last
    ``int(num_tokens * val_fraction)`` and builds the vocabulary from the tokens before them."""
    return num_tokens - int(num_tokens * val_fraction)
