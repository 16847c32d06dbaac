"""Sentence pairs for machine translation (d2l's English-French Tatoeba pairs, or a user's TSV file).

The book's pipeline (d2l.ai, "Machine Translation and the Dataset"): non-breaking spaces become spaces,
text is lowercased and a space is put before ``, . ! ?`` when there is none; tokens are words (split on
spaces); each sequence gets ``<eos>`` and is truncated or padded with ``<pad>`` to ``num_steps``.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import torch

from rnntui.config import PairsConfig
from rnntui.data.corpus import read_text_file
from rnntui.data.vocab import Vocab
from rnntui.errors import ConfigError, DataError

FRA_ENG = "fra-eng"
FRA_ENG_ZIP = "fra-eng.zip"
FRA_ENG_MEMBER = "fra-eng/fra.txt"
FRA_ENG_LABEL = "English-French (Tatoeba via manythings.org/anki)"

PAD, BOS, EOS = "<pad>", "<bos>", "<eos>"
RESERVED = [PAD, BOS, EOS]

Pair = tuple[list[str], list[str]]

_PUNCT = re.compile(r"(?<=[^ ])([,.!?])")  # a punctuation mark after any character but a space


def preprocess(text: str) -> str:
    """d2l's ``preprocess_nmt``: non-breaking spaces to spaces, lowercase, a space before ``, . ! ?``
    where the previous character is not a space (``"Go.\\u202fHi!"`` -> ``"go . hi !"``)."""
    text = text.replace("\u202f", " ").replace("\xa0", " ").lower()
    return _PUNCT.sub(r" \1", text)


def tokenize(sentence: str) -> list[str]:
    """Word tokens of a preprocessed sentence (runs of spaces give no empty tokens)."""
    return sentence.split()


def _parse_lines(text: str, where: str, strict: bool) -> list[tuple[str, str]]:
    """(source, target) of each ``source<TAB>target[<TAB>attribution]`` line; blank lines are skipped.

    ``strict``: a malformed line is a DataError naming it; otherwise it is skipped (the bundled file)."""
    pairs = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) in (2, 3) and parts[0].strip() and parts[1].strip():
            pairs.append((parts[0], parts[1]))
        elif strict:
            got = f"{len(parts)} tab-separated fields" if len(parts) not in (2, 3) else "an empty field"
            raise DataError(
                f"{where}, line {number}: expected source<TAB>target (optionally <TAB>attribution), "
                f"got {got}: {line[:60]!r}"
            )
    return pairs


def read_pairs_file(path: str | Path) -> list[tuple[str, str]]:
    """A user's UTF-8 TSV of sentence pairs; any problem is a one-line DataError."""
    text = read_text_file(path, kind="sentence-pair", form="TSV file")
    return _parse_lines(text, f"sentence-pair file {path}", strict=True)


def read_fra_eng(data_dir: str | Path | None = None) -> list[tuple[str, str]]:
    """The book's English-French pairs, from the (downloaded, sha1-checked) zip."""
    from rnntui.data.download import fetch

    path = fetch(FRA_ENG_ZIP, directory=data_dir)
    try:
        with zipfile.ZipFile(path) as archive:
            raw = archive.read(FRA_ENG_MEMBER)
    except (zipfile.BadZipFile, KeyError, OSError) as exc:
        raise DataError(f"cannot read {FRA_ENG_MEMBER} from {path}: {exc}") from None
    text = io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8", errors="replace").read()
    return _parse_lines(text, str(path), strict=False)


def read_pairs(source: str, data_dir: str | Path | None = None) -> tuple[list[tuple[str, str]], str]:
    """(raw pairs, label) for ``fra-eng`` or a path to a UTF-8 TSV file."""
    if source == FRA_ENG:
        return read_fra_eng(data_dir), FRA_ENG_LABEL
    pairs = read_pairs_file(source)
    if not pairs:
        raise DataError(f"sentence-pair file {source} has no sentence pairs")
    return pairs, f"{Path(source).name} (file)"


def truncate_pad(ids: list[int], num_steps: int, pad: int) -> list[int]:
    return ids[:num_steps] if len(ids) > num_steps else ids + [pad] * (num_steps - len(ids))


def build_array(
    sentences: list[list[str]], vocab: Vocab, num_steps: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """(ids (n, num_steps), valid lengths (n,)): ``<eos>`` appended, then truncated or padded."""
    pad, eos = vocab[PAD], vocab[EOS]
    rows = [truncate_pad(vocab[s] + [eos], num_steps, pad) for s in sentences]
    array = torch.tensor(rows, dtype=torch.long).reshape(len(rows), num_steps)
    return array, (array != pad).sum(1)


@dataclass
class TranslationData:
    """Tokenized pairs: training tensors and the held-out pairs as token lists."""

    label: str
    num_steps: int
    src_vocab: Vocab
    tgt_vocab: Vocab
    src: torch.Tensor  # (n, num_steps) int64
    src_valid_len: torch.Tensor  # (n,) int64: non-pad tokens (the words and <eos>)
    tgt: torch.Tensor  # (n, num_steps) int64
    tgt_valid_len: torch.Tensor  # (n,)
    train_pairs: list[Pair] = field(default_factory=list)  # token lists, no <eos>
    val_pairs: list[Pair] = field(default_factory=list)  # held out: token lists, no <eos>

    @property
    def num_train(self) -> int:
        return len(self.src)

    def val_arrays(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """The held-out pairs as (src, src_valid_len, tgt, tgt_valid_len); unknown words are <unk>."""
        src, src_len = build_array([s for s, _ in self.val_pairs], self.src_vocab, self.num_steps)
        tgt, tgt_len = build_array([t for _, t in self.val_pairs], self.tgt_vocab, self.num_steps)
        return src, src_len, tgt, tgt_len

    def describe(self) -> str:
        return (
            f"{self.label}: {self.num_train:,} training pairs, {len(self.val_pairs):,} held out; "
            f"vocab {len(self.src_vocab)} source / {len(self.tgt_vocab)} target; {self.num_steps} steps"
        )


def load_pairs(cfg: PairsConfig, data_dir: str | Path | None = None) -> TranslationData:
    """Read, preprocess and tokenize the pairs. The first ``num_examples`` (0: all but the held-out ones)
    train; a short file gives up training pairs first so that the held-out set can keep its size. The
    held-out pairs are taken after the training ones, skipping every pair whose (preprocessed) source
    sentence also occurs among the training sources (Tatoeba repeats a sentence with other translations),
    until ``val_examples`` pairs are collected or the file ends: held-out BLEU then measures sentences the
    model never saw. The vocabularies come from the training pairs only."""
    raw, label = read_pairs(cfg.source, data_dir)
    total = len(raw)
    if total - cfg.val_examples < 1:
        raise DataError(
            f"{label} has {total:,} sentence pairs; holding out pairs.val_examples = {cfg.val_examples} "
            f"leaves none to train on"
        )
    num_train = total - cfg.val_examples if cfg.num_examples == 0 else min(cfg.num_examples, total - cfg.val_examples)
    train = [(tokenize(preprocess(s)), tokenize(preprocess(t))) for s, t in raw[:num_train]]
    seen = {tuple(s) for s, _ in train}
    val: list[Pair] = []
    for s, t in raw[num_train:]:
        if len(val) >= cfg.val_examples:
            break
        src = tokenize(preprocess(s))
        if tuple(src) not in seen:
            val.append((src, tokenize(preprocess(t))))
    src_vocab = Vocab([s for s, _ in train], min_freq=cfg.min_freq, reserved_tokens=RESERVED)
    tgt_vocab = Vocab([t for _, t in train], min_freq=cfg.min_freq, reserved_tokens=RESERVED)
    src, src_len = build_array([s for s, _ in train], src_vocab, cfg.num_steps)
    tgt, tgt_len = build_array([t for _, t in train], tgt_vocab, cfg.num_steps)
    return TranslationData(label, cfg.num_steps, src_vocab, tgt_vocab, src, src_len, tgt, tgt_len, train, val)


def encode_source(sentence: str, src_vocab: Vocab, num_steps: int) -> tuple[list[int], int, list[str]]:
    """(ids padded to num_steps, valid length, distinct words not in the vocabulary) of a sentence,
    preprocessed as the training data; an empty sentence is a ConfigError."""
    tokens = tokenize(preprocess(sentence))
    if not tokens:
        raise ConfigError("the sentence to translate is empty; give at least one word")
    unknown = list(dict.fromkeys(t for t in tokens if t not in src_vocab))
    pad = src_vocab[PAD]
    ids = truncate_pad(src_vocab[tokens] + [src_vocab[EOS]], num_steps, pad)
    return ids, sum(1 for i in ids if i != pad), unknown
