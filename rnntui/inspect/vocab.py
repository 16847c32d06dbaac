"""The vocabulary inspector: which text is counted, how it is cut into tokens, the vocabulary built from
it, n-gram frequencies and Zipf's law (what the Vocab view and ``rnntui vocab`` show).

A :class:`VocabInspector` reads one source (The Time Machine, the built-in corpus, a user's file, or the
data of a run folder) and answers :meth:`VocabInspector.compute` for any :class:`Settings` with a
:class:`VocabReport` of plain numbers and strings. It caches in layers, so that a UI can recompute on
every key press:

1. the source text, read once;
2. per (preprocess, token, max_tokens): the text cut into tokens, each token an integer id (the ids
   number the distinct tokens in sorted order, so that sorting ids sorts tokens), and per part and n the
   n-gram counts: a token or preprocess change re-tokenizes once, then it is cached;
3. per (part, min_freq, reserved tokens): the vocabulary, built from the cached counts with
   ``Vocab.from_counts`` (a min_freq or reserved-token change touches no text).

Parts: ``"all"`` counts the whole text; ``"train"`` the training part, the text before the held-out last
``val_fraction`` exactly as ``rnntui.data.corpus.load_lm_corpus`` cuts it (for a translation run: the
training sentences of one side). A model's vocabulary is built from the training part; for a run, with the
run's own settings, the vocabulary is the one its training code builds (``load_lm_corpus`` or
``load_pairs``), so it equals the checkpoint's.
"""

from __future__ import annotations

import bisect
import math
import threading
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from rnntui.data.vocab import UNK, Vocab
from rnntui.errors import ConfigError, DataError
from rnntui.inspect import Cancelled

TOKENS = ("char", "word")
PREPROCESS = ("d2l", "lower", "none", "nmt")  # nmt: the translation pairs' preprocessing (d2l's preprocess_nmt)
PARTS = ("all", "train")
NGRAM_ORDERS = (1, 2, 3)
# Zipf fit: ranks from ZIPF_FIRST_RANK (the book: "after dealing with the first few words as exceptions")
# to the last rank whose n-gram occurs at least ZIPF_MIN_COUNT times (the tail of n-grams seen once is a
# flat staircase that says more about the text's length than about the law).
ZIPF_FIRST_RANK = 10
ZIPF_MIN_COUNT = 2

Progress = Callable[[int, int], None]
ShouldStop = Callable[[], bool]

_VISIBLE = {" ": "␣", "\n": "⏎", "\t": "⇥", "\r": "␍", "\x7f": "␡", "\xa0": "⍽"}


def display(token: str) -> str:
    """The token with invisible characters made visible: space ␣, newline ⏎, tab ⇥, carriage return ␍,
    other control characters as their control pictures (␀..␟), other spaces and format characters as
    ⟨U+XXXX⟩."""
    if token.isprintable() and " " not in token:  # the common case: nothing to show
        return token
    out = []
    for ch in token:
        if ch in _VISIBLE:
            out.append(_VISIBLE[ch])
        elif ord(ch) < 0x20:
            out.append(chr(0x2400 + ord(ch)))
        elif ch.isspace() or unicodedata.category(ch) in ("Cf", "Cc", "Zl", "Zp"):
            out.append(f"⟨U+{ord(ch):04X}⟩")
        else:
            out.append(ch)
    return "".join(out)


def prepare_text(text: str, mode: str) -> str:
    """The text as the chosen preprocessing leaves it: ``d2l``, ``lower``, ``none`` as
    ``rnntui.data.corpus.preprocess`` (what language models train on); ``nmt`` as the translation pairs
    (``rnntui.data.translation.preprocess``, then runs of whitespace as one space)."""
    if mode == "nmt":
        from rnntui.data import translation

        return " ".join(translation.tokenize(translation.preprocess(text)))
    from rnntui.data.corpus import preprocess

    return preprocess(text, mode)


_CHUNK = 1 << 17  # characters: a regex over more holds the interpreter lock long enough to stall a UI (benchmarks/vocab_view.py)


def _is_letter(ch: str) -> bool:
    return ("a" <= ch <= "z") or ("A" <= ch <= "Z")


def prepared_pieces(text: str, mode: str, chunk: int = _CHUNK,
                    each: Callable[[int, int], None] | None = None) -> list[str]:
    """``prepare_text`` in pieces of about ``chunk`` characters, cut where no word spans two pieces: their
    concatenation, stripped (``mode`` d2l or lower), is ``prepare_text(text, mode)`` and their words are its
    words. Each piece is one short call, so a worker thread lets the UI run between them; ``each(done,
    total)`` is called after each piece with the characters done so far."""
    if mode not in ("d2l", "lower") or len(text) <= chunk:
        return [prepare_text(text, mode) if mode in ("none", "nmt") else _prepare_piece(text, mode)]
    # cut before a character that begins a run the preprocessing replaces (non-letters for d2l, whitespace
    # for lower) and after one it keeps: then no run and no word crosses a cut
    inside = (lambda ch: not _is_letter(ch)) if mode == "d2l" else str.isspace
    pieces, start = [], 0
    while start < len(text):
        cut = min(len(text), start + chunk)
        while cut < len(text) and not (inside(text[cut]) and not inside(text[cut - 1])):
            cut += 1
        pieces.append(_prepare_piece(text[start:cut], mode))
        start = cut
        if each is not None:
            each(start, len(text))
    return pieces


def _prepare_piece(text: str, mode: str) -> str:
    """``rnntui.data.corpus.preprocess`` without its final strip (d2l, lower)."""
    import re

    if mode == "d2l":
        return re.sub("[^A-Za-z]+", " ", text).lower()
    return re.sub(r"\s+", " ", text).lower()


def cut_tokens(text: str, token: str) -> list[str]:
    """``rnntui.data.corpus.tokenize``: characters, or whitespace-separated words."""
    from rnntui.data.corpus import tokenize

    return tokenize(text, token)


# --- what the caller asks for ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """Where the text comes from. ``kind``: ``"corpus"`` (``name``: ``timemachine``, ``pydoc`` or a path to
    a UTF-8 file) or ``"run"`` (``name``: a run folder with config.toml; ``side``: for a translation run,
    the ``"source"`` or ``"target"`` sentences)."""

    kind: str = "corpus"
    name: str = "timemachine"
    side: str = "source"

    @classmethod
    def corpus(cls, name: str) -> Source:
        return cls("corpus", str(name))

    @classmethod
    def run(cls, path: str | Path, side: str = "source") -> Source:
        return cls("run", str(path), side)

    def __post_init__(self) -> None:
        if self.kind not in ("corpus", "run"):
            raise ConfigError(f"a text source is a corpus or a run; got {self.kind!r}")
        if not self.name:
            raise ConfigError("give a corpus (timemachine, pydoc or a file path) or a run folder")
        if self.side not in ("source", "target"):
            raise ConfigError(f"side must be source or target; got {self.side!r}")


@dataclass(frozen=True)
class Settings:
    """The inspector's controls. ``part``: ``"all"`` (the whole text) or ``"train"`` (the part a model's
    vocabulary is built from: the text before the held-out last ``val_fraction``); ``max_tokens``: keep
    only the first N tokens (0: all), as ``data.max_tokens`` does for training."""

    token: str = "char"
    preprocess: str = "d2l"
    min_freq: int = 0
    reserved: tuple[str, ...] = ()
    part: str = "all"
    val_fraction: float = 0.1
    max_tokens: int = 0

    def __post_init__(self) -> None:
        if self.token not in TOKENS:
            raise ConfigError(f"token must be one of {', '.join(TOKENS)}; got {self.token!r}")
        if self.preprocess not in PREPROCESS:
            raise ConfigError(f"preprocess must be one of {', '.join(PREPROCESS)}; got {self.preprocess!r}")
        if isinstance(self.min_freq, bool) or not isinstance(self.min_freq, int) or self.min_freq < 0:
            raise ConfigError(f"min_freq must be an integer >= 0; got {self.min_freq!r}")
        if isinstance(self.reserved, str) or any(not isinstance(t, str) or not t for t in self.reserved):
            raise ConfigError(f"reserved tokens must be non-empty strings; got {self.reserved!r}")
        object.__setattr__(self, "reserved", tuple(self.reserved))
        if self.part not in PARTS:
            raise ConfigError(f"part must be one of {', '.join(PARTS)}; got {self.part!r}")
        if not (isinstance(self.val_fraction, (int, float)) and 0 < self.val_fraction < 0.9):
            raise ConfigError(f"val_fraction must be between 0 and 0.9 (exclusive); got {self.val_fraction!r}")
        if isinstance(self.max_tokens, bool) or not isinstance(self.max_tokens, int) or self.max_tokens < 0:
            raise ConfigError(f"max_tokens must be an integer >= 0; got {self.max_tokens!r}")

    def replace(self, **changes: Any) -> Settings:
        return replace(self, **changes)


# --- what comes back -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)  # many of them: no __dict__ each
class Row:
    """One vocabulary entry. ``count``: the occurrences in the counted text that the vocabulary maps to this
    index (the ``<unk>`` row counts every token folded into it); ``share`` = count / tokens counted;
    ``cumulative``: the shares of rows 0..index summed."""

    index: int
    token: str
    display: str
    count: int
    share: float
    cumulative: float


@dataclass(frozen=True)
class Found:
    """A find's answer. ``match``: ``"exact"`` (the token, or its display form), ``"folded"`` (the token
    occurs in the counted text but min_freq folds it into ``<unk>``: ``row`` is the ``<unk>`` row) or
    ``"prefix"`` (the first row, in index order, whose token starts with the query)."""

    query: str
    match: str
    row: Row
    count_in_text: int  # occurrences of the matched token itself in the counted text


@dataclass(frozen=True, slots=True)  # many of them: no __dict__ each
class Context:
    """One occurrence: ``position`` (token offset in the counted text), the text before and after it
    (``width`` characters, or words joined by spaces) and the token found there."""

    position: int
    left: str
    token: str
    right: str


@dataclass(frozen=True)
class KeywordInContext:
    """Up to ``limit`` occurrences of a token, spread evenly over the counted text, and how many there are
    (for ``<unk>``: occurrences of every token folded into it)."""

    token: str
    count: int
    contexts: tuple[Context, ...]


@dataclass(frozen=True, slots=True)  # many of them: no __dict__ each
class Piece:
    """One token of a tokenized line: its vocabulary index, and whether that is ``<unk>`` (index 0)."""

    token: str
    display: str
    index: int
    unk: bool


@dataclass(frozen=True)
class TokenizedLine:
    """A line cut as the settings cut the text: ``prepared`` is the line after preprocessing, ``pieces`` its
    tokens, ``decoded`` the indices turned back into text (unknown tokens read ``<unk>``); ``lossless``: the
    round trip gives ``prepared`` back."""

    text: str
    prepared: str
    pieces: tuple[Piece, ...]
    decoded: str
    num_unk: int
    lossless: bool


@dataclass(frozen=True)
class ZipfFit:
    """The rank-frequency series of the n-grams of order ``n`` (rank 1: the most frequent) and a least-
    squares line of log frequency on log rank over ranks ``rank_lo``..``rank_hi``: log f = exponent * log r
    + intercept (natural logs). ``ranks``/``freqs``: the series thinned to about log-evenly spaced ranks
    (always the first and the last), for a chart. ``exponent`` is None when fewer than two ranks exist."""

    n: int
    exponent: float | None
    intercept: float | None
    rank_lo: int
    rank_hi: int
    num_distinct: int
    ranks: tuple[int, ...]
    freqs: tuple[int, ...]
    rule: str


@dataclass(frozen=True)
class VocabReport:
    """Everything the view shows for one source and settings.

    Header: ``num_tokens`` tokens in the counted text (the part), ``num_distinct`` distinct tokens in it,
    ``vocab_size`` (``<unk>``, the reserved tokens, every token seen ``min_freq`` times or more),
    ``num_folded`` distinct tokens of the counted text that the vocabulary maps to ``<unk>`` (too rare for
    min_freq) and ``folded_count`` their occurrences.

    Held out: ``heldout_tokens`` tokens after the training part (for a translation run, the held-out
    sentences of the side); ``heldout_unk``: how many of them the vocabulary built from the *training part*
    (whatever ``part`` is counted) with these min_freq and reserved tokens maps to ``<unk>`` (index 0), and
    ``unk_rate`` = heldout_unk / heldout_tokens (None when nothing is held out). This is the share of
    held-out tokens a model with this vocabulary could never predict.

    ``rows``: the vocabulary by index. ``ngrams[n]``: the top n-grams of the counted text as
    ``((t1, ..., tn), count)``, most frequent first, ties in token order (n-grams never span two sentences of
    a translation run). ``zipf[n]``: see :class:`ZipfFit`. ``matches_run``: for a run, whether the
    vocabulary is the run's own (its settings, training part) and so equals the checkpoint's.
    ``timings``: seconds spent in each layer computed by this call (layers taken from the cache are absent).
    """

    source: Source
    settings: Settings
    label: str
    source_label: str
    part_label: str
    unit: str
    num_tokens: int
    num_distinct: int
    vocab_size: int
    num_folded: int
    folded_count: int
    heldout_tokens: int
    heldout_unk: int
    unk_rate: float | None
    rows: tuple[Row, ...]
    ngrams: dict[int, tuple[tuple[tuple[str, ...], int], ...]]
    num_ngrams: dict[int, int]
    zipf: dict[int, ZipfFit]
    matches_run: bool | None
    timings: dict[str, float]
    _tokens: Any = field(default=None, repr=False, compare=False)
    _vocab: Any = field(default=None, repr=False, compare=False)

    @property
    def itos(self) -> list[str]:
        """The vocabulary's index-to-token list (what a checkpoint stores)."""
        return list(self._vocab.vocab.idx_to_token)

    def find(self, query: str) -> Found | None:
        """The row of a token: the exact token (or its display form), else a token of the text folded into
        ``<unk>``, else the first row whose token starts with the query; None if nothing matches."""
        if not query:
            return None
        vocab, tok = self._vocab.vocab, self._tokens
        for token in dict.fromkeys((query, _undisplay(query))):
            if token in vocab.token_to_idx:
                return Found(query, "exact", self.rows[vocab.token_to_idx[token]], tok.count(token, self._vocab.stop))
        for token in dict.fromkeys((query, _undisplay(query))):
            count = tok.count(token, self._vocab.stop)
            if count:
                return Found(query, "folded", self.rows[0], count)
        for prefix in dict.fromkeys((query, _undisplay(query))):
            for row in self.rows:
                if row.token.startswith(prefix):
                    return Found(query, "prefix", row, tok.count(row.token, self._vocab.stop))
        return None

    def contexts(self, token: str, limit: int = 5, width: int | None = None) -> KeywordInContext:
        """Keyword in context: up to ``limit`` occurrences of ``token`` in the counted text, with ``width``
        characters (char tokens, default 30) or words (word tokens, default 6) on each side. ``<unk>``
        gives occurrences of the tokens folded into it."""
        tok, stop = self._tokens, self._vocab.stop
        if token == UNK:
            positions = np.flatnonzero(self._vocab.type_to_index[tok.ids[:stop]] == 0)
        else:
            type_id = tok.type_id(token)
            positions = np.empty(0, np.int64) if type_id is None else np.flatnonzero(tok.ids[:stop] == type_id)
        count = len(positions)
        if count > limit > 0:
            positions = positions[np.linspace(0, count - 1, limit).round().astype(np.int64)]
        elif limit <= 0:
            positions = positions[:0]
        width = width if width is not None else (30 if tok.token == "char" else 6)
        return KeywordInContext(token, count, tuple(tok.context(int(p), width) for p in positions))

    def tokenize(self, line: str) -> TokenizedLine:
        """"Tokenize this": ``line`` preprocessed and cut as these settings cut the text, each token with its
        index in this vocabulary, and the round trip back to text."""
        from rnntui.data.corpus import join_tokens

        s, vocab = self.settings, self._vocab.vocab
        prepared = prepare_text(line, s.preprocess)
        tokens = cut_tokens(prepared, s.token)
        ids = vocab[tokens]
        pieces = tuple(Piece(t, display(t), i, i == vocab.unk) for t, i in zip(tokens, ids))
        decoded = join_tokens(vocab.to_tokens(ids), s.token)
        return TokenizedLine(line, prepared, pieces, decoded, sum(p.unk for p in pieces),
                             decoded == join_tokens(tokens, s.token))

    def sequence(self) -> list[str]:
        """The counted text as this vocabulary sees it: each token, or ``<unk>`` where it is folded (for the
        training part with a run's own settings: exactly the token ids a model trains on, as strings)."""
        itos = np.array(self._vocab.vocab.idx_to_token, dtype=object)
        return itos[self._vocab.type_to_index[self._tokens.ids[: self._vocab.stop]]].tolist()

    def to_dict(self, top: int | None = None) -> dict[str, Any]:
        """The report as JSON-ready values (``rnntui vocab --json``); ``top`` rows of the vocabulary."""
        rows = self.rows if top is None else self.rows[:top]
        return {
            "source": {"kind": self.source.kind, "name": self.source.name, "side": self.source.side},
            "label": self.label,
            "source_label": self.source_label,
            "part": self.settings.part,
            "part_label": self.part_label,
            "settings": {"token": self.settings.token, "preprocess": self.settings.preprocess,
                         "min_freq": self.settings.min_freq, "reserved": list(self.settings.reserved),
                         "val_fraction": self.settings.val_fraction, "max_tokens": self.settings.max_tokens},
            "unit": self.unit,
            "num_tokens": self.num_tokens,
            "num_distinct": self.num_distinct,
            "vocab_size": self.vocab_size,
            "num_folded": self.num_folded,
            "folded_count": self.folded_count,
            "heldout_tokens": self.heldout_tokens,
            "heldout_unk": self.heldout_unk,
            "unk_rate": self.unk_rate,
            "matches_run": self.matches_run,
            "tokens": [[gram[0], count] for gram, count in self.ngrams[1]],
            "vocab": [[r.index, r.token, r.count, r.share, r.cumulative] for r in rows],
            "ngrams": {str(n): [[list(gram), count] for gram, count in grams] for n, grams in self.ngrams.items()},
            "num_ngrams": {str(n): v for n, v in self.num_ngrams.items()},
            "zipf": {str(n): z.exponent for n, z in self.zipf.items()},
            "zipf_fit": {str(n): {"exponent": z.exponent, "intercept": z.intercept, "rank_lo": z.rank_lo,
                                  "rank_hi": z.rank_hi, "num_distinct": z.num_distinct, "rule": z.rule,
                                  "ranks": list(z.ranks), "freqs": list(z.freqs)} for n, z in self.zipf.items()},
            "timings_s": self.timings,
        }


def _undisplay(text: str) -> str:
    """A display form read back: ␣ ⏎ ⇥ ␍ and the control pictures as the characters they stand for."""
    back = {v: k for k, v in _VISIBLE.items()}
    return "".join(back.get(ch, chr(ord(ch) - 0x2400) if 0x2400 <= ord(ch) < 0x2420 else ch) for ch in text)


# --- the layers ------------------------------------------------------------------------------------------


class _Steps:
    """Reports progress(done, total) in thousandths over named phases, and checks should_stop between steps."""

    TOTAL = 1000

    def __init__(self, progress: Progress | None, should_stop: ShouldStop | None) -> None:
        self.progress, self.should_stop, self.done = progress, should_stop, 0

    def check(self) -> None:
        if self.should_stop is not None and self.should_stop():
            raise Cancelled("stopped by request")

    def advance(self, amount: int) -> None:
        self.done = min(self.TOTAL, self.done + amount)
        if self.progress is not None:
            self.progress(self.done, self.TOTAL)
        self.check()

    def advance_to(self, done: int) -> None:
        self.advance(done - self.done)

    def finish(self) -> None:
        if self.progress is not None and self.done < self.TOTAL:
            self.done = self.TOTAL
            self.progress(self.TOTAL, self.TOTAL)


@dataclass
class _Text:
    """Layer 1: the source, read once. A text (``text``), or the sentences of one side of a translation
    run's pairs as word lists (``sentences``; the first ``num_train_sentences`` train)."""

    label: str
    text: str | None = None
    sentences: list[list[str]] | None = None
    num_train_sentences: int = 0
    run_config: Any = None  # the run's ExperimentConfig
    model_vocab: Vocab | None = None  # a translation run's vocabulary of this side, as load_pairs built it


class _Tokens:
    """Layer 2: the text cut into tokens. ``types``: the distinct tokens, sorted; ``ids[i]``: the index in
    ``types`` of token i, so that comparing ids compares tokens and an n-gram's code (ids in base V) sorts
    as its token tuple. ``seg[i]``: the sentence of token i (None for one text)."""

    def __init__(self, token: str, types: list[str], ids: np.ndarray, seg: np.ndarray | None,
                 chars: str | None, train_stop: int | None, seg_starts: np.ndarray | None) -> None:
        self.token = token
        self.types = types
        self.ids = ids  # (num_tokens,) int32: a 20 MB text's ids stay within a few tens of MB
        self.seg = seg  # (num_tokens,) int64 or None
        self.chars = chars  # char tokens: the token sequence as one string (word tokens are read off the ids)
        self.fixed_train_stop = train_stop  # translation runs: where the held-out sentences begin
        self.seg_starts = seg_starts  # (num_sentences + 1,) token offsets of the sentences, then the end
        self._ngrams_lock = threading.Lock()  # (a long count: the unigram counts do not wait for it)
        self._counts_lock = threading.Lock()
        self._counts: dict[int, np.ndarray] = {}
        self._ngrams: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}

    @property
    def num_tokens(self) -> int:
        return len(self.ids)

    def train_stop(self, val_fraction: float) -> int:
        """Where the training part ends (the held-out part begins)."""
        if self.fixed_train_stop is not None:
            return self.fixed_train_stop
        from rnntui.data.corpus import num_train_tokens

        return num_train_tokens(self.num_tokens, val_fraction)

    def type_id(self, token: str) -> int | None:
        i = bisect.bisect_left(self.types, token)
        return i if i < len(self.types) and self.types[i] == token else None

    def counts(self, stop: int) -> np.ndarray:
        """(V,) occurrences of each type among tokens [0, stop)."""
        counted = self._counts.get(stop)  # (a view asks from its UI thread: no lock once counted)
        if counted is not None:
            return counted
        with self._counts_lock:
            if stop not in self._counts:
                self._counts[stop] = np.bincount(self.ids[:stop], minlength=len(self.types))
            return self._counts[stop]

    def count(self, token: str, stop: int) -> int:
        type_id = self.type_id(token)
        return 0 if type_id is None else int(self.counts(stop)[type_id])

    def has_ngrams(self, stop: int, n: int) -> bool:
        with self._ngrams_lock:
            return (stop, n) in self._ngrams

    def ngrams(self, stop: int, n: int) -> tuple[np.ndarray, np.ndarray]:
        """(codes, counts) of the distinct n-grams among tokens [0, stop), most frequent first, ties in token
        order; a code holds the n ids in base V (or is an (m, n) array of ids when V**n overflows int64)."""
        with self._ngrams_lock:
            key = (stop, n)
            if key not in self._ngrams:
                seg = None if self.seg is None else self.seg[:stop]
                self._ngrams[key] = _count_ngrams(self.ids[:stop], seg, n, len(self.types))
            return self._ngrams[key]

    def decode(self, code: Any, n: int) -> tuple[str, ...]:
        V = len(self.types)
        if isinstance(code, np.ndarray):  # the overflow form: a row of ids
            return tuple(self.types[int(i)] for i in code)
        code, ids = int(code), []
        for _ in range(n):
            code, i = divmod(code, V)
            ids.append(i)
        return tuple(self.types[i] for i in reversed(ids))

    def context(self, position: int, width: int) -> Context:
        lo, hi = 0, self.num_tokens
        if self.seg_starts is not None:  # a sentence's context stays in its sentence
            s = int(self.seg[position])
            lo, hi = int(self.seg_starts[s]), int(self.seg_starts[s + 1])
        a, b = max(lo, position - width), min(hi, position + 1 + width)
        if self.chars is not None:
            return Context(position, self.chars[a:position], self.chars[position], self.chars[position + 1:b])
        words = [self.types[i] for i in self.ids[a:b].tolist()]
        return Context(position, " ".join(words[:position - a]), words[position - a], " ".join(words[position - a + 1:]))


@dataclass
class _VocabLayer:
    """Layer 3: a vocabulary and where each type lands in it."""

    vocab: Vocab
    stop: int  # the counted part: tokens [0, stop)
    type_to_index: np.ndarray  # (V,) vocabulary index of each type (0: <unk>)


def _count_ngrams(ids: np.ndarray, seg: np.ndarray | None, n: int, V: int) -> tuple[np.ndarray, np.ndarray]:
    m = len(ids) - n + 1
    if m <= 0 or V == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    valid = None if seg is None or n == 1 else seg[:m] == seg[n - 1:]  # inside one sentence
    if V ** n < 2 ** 62:
        codes = ids[:m].astype(np.int64)
        for k in range(1, n):
            codes = codes * V + ids[k:k + m]
        if valid is not None:
            codes = codes[valid]
        if V ** n <= 1 << 24:  # dense: a count per possible code
            counts = np.bincount(codes, minlength=V ** n)
            codes = np.flatnonzero(counts)
            counts = counts[codes]
        else:
            codes, counts = np.unique(codes, return_counts=True)
        order = np.lexsort((codes, -counts))  # by count, descending; ties by code = token order
        return codes[order], counts[order]
    rows = np.stack([ids[k:k + m] for k in range(n)], axis=1)  # (m, n): too many types for one int64 code
    if valid is not None:
        rows = rows[valid]
    rows, counts = np.unique(rows, axis=0, return_counts=True)
    order = np.lexsort(tuple(rows[:, k] for k in reversed(range(n))) + (-counts,))
    return rows[order], counts[order]


def _tokens_from_chars(pieces: list[str], segmented: bool, steps: _Steps, weight: int) -> _Tokens:
    """Char tokens of one text (one piece) or of sentences (one piece each), ids by code point."""
    chars = "".join(pieces)
    codes = np.frombuffer(chars.encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(np.int64)
    steps.advance(weight // 2)
    present = np.bincount(codes, minlength=1) if len(codes) else np.zeros(0, np.int64)
    type_codes = np.flatnonzero(present)
    table = np.zeros(len(present), np.int64)
    table[type_codes] = np.arange(len(type_codes))
    ids = table[codes].astype(np.int32)
    types = [chr(int(c)) for c in type_codes]  # code point order is Python's string order
    seg, seg_starts = _segments([len(p) for p in pieces]) if segmented else (None, None)
    steps.advance(weight - weight // 2)
    return _Tokens("char", types, ids, seg, chars, None, seg_starts)


def _tokens_from_words(words: list[str], lengths: list[int] | None, steps: _Steps, weight: int) -> _Tokens:
    """Word tokens, ids by sorted word; mapped in chunks so that a large text can report and be stopped."""
    index: dict[str, int] = {}
    first = np.empty(len(words), np.int32)
    chunk = 500_000
    num_chunks = max(1, math.ceil(len(words) / chunk))
    for c, start in enumerate(range(0, len(words), chunk)):
        part = words[start:start + chunk]
        setdefault = index.setdefault
        first[start:start + len(part)] = np.fromiter((setdefault(w, len(index)) for w in part), np.int32, len(part))
        steps.advance(weight * (c + 1) // num_chunks - weight * c // num_chunks)
    in_order = list(index)
    order = sorted(range(len(in_order)), key=in_order.__getitem__)
    rank = np.empty(len(order), np.int32)
    rank[order] = np.arange(len(order))
    types = [in_order[i] for i in order]
    seg, seg_starts = _segments(lengths) if lengths is not None else (None, None)
    return _Tokens("word", types, rank[first] if len(first) else first, seg, None, None, seg_starts)


def _segments(lengths: list[int]) -> tuple[np.ndarray, np.ndarray]:
    lengths_a = np.asarray(lengths, np.int64)
    seg = np.repeat(np.arange(len(lengths_a)), lengths_a)
    starts = np.concatenate([[0], np.cumsum(lengths_a)])
    return seg, starts


def _zipf(counts: np.ndarray, n: int, points: int) -> ZipfFit:
    """Rank-frequency series (``counts`` sorted descending) and its least-squares line in log-log."""
    R = len(counts)
    if R == 0:
        return ZipfFit(n, None, None, 0, 0, 0, (), (), "no n-grams")
    hi = int(np.searchsorted(-counts, -ZIPF_MIN_COUNT, side="right"))  # last rank counted >= ZIPF_MIN_COUNT
    lo = ZIPF_FIRST_RANK
    rule = f"ranks {ZIPF_FIRST_RANK} to the last rank counted at least {ZIPF_MIN_COUNT} times"
    if hi - lo + 1 < 10:
        lo, hi, rule = 1, R, "all ranks (too few n-grams seen twice from rank 10 on)"
    ranks = np.arange(lo, hi + 1)
    exponent = intercept = None
    if len(ranks) >= 2:
        slope, icept = np.polyfit(np.log(ranks), np.log(counts[lo - 1:hi].astype(np.float64)), 1)
        exponent, intercept = float(slope), float(icept)
    thin = np.unique(np.round(np.logspace(0, math.log10(R), max(2, points))).astype(np.int64)) if R > 1 else np.array([1])
    thin = np.unique(np.concatenate([thin, [1, R]]))
    return ZipfFit(n, exponent, intercept, int(lo), int(hi), R, tuple(int(r) for r in thin),
                   tuple(int(counts[r - 1]) for r in thin), rule)


# --- the inspector ---------------------------------------------------------------------------------------


class VocabInspector:
    """The inspector of one source; ``compute(settings)`` answers with a :class:`VocabReport`.

    Safe to call from worker threads: one computation runs at a time (a new one waits for the one before,
    which a UI stops through its ``should_stop``)."""

    def __init__(self, source: Source | str = "timemachine", data_dir: str | Path | None = None) -> None:
        self.source = source if isinstance(source, Source) else Source.corpus(source)
        self.data_dir = data_dir
        self._lock = threading.RLock()
        self._text: _Text | None = None
        self._tokens: dict[tuple[str, str, int], _Tokens] = {}
        self._vocabs: dict[tuple, _VocabLayer] = {}
        self._run_vocab: Vocab | None = None

    # the source

    def _load(self) -> _Text:
        if self._text is None:
            self._text = _read_source(self.source, self.data_dir)
        return self._text

    @property
    def is_pairs(self) -> bool:
        return self._load().sentences is not None

    def defaults(self) -> Settings:
        """The settings to start from: a run's own (its vocabulary, training part), else char tokens, d2l
        preprocessing, min_freq 0, the whole text."""
        t = self._load()
        if t.run_config is None:
            return Settings()
        cfg = t.run_config
        if cfg.task == "seq2seq":
            from rnntui.data.translation import RESERVED

            return Settings(token="word", preprocess="nmt", min_freq=cfg.pairs.min_freq, reserved=tuple(RESERVED),
                            part="train")
        d = cfg.data
        return Settings(token=d.token, preprocess=d.preprocess, min_freq=d.min_freq, part="train",
                        val_fraction=d.val_fraction, max_tokens=d.max_tokens)

    @property
    def run_config(self) -> Any:
        """A run's ExperimentConfig (None for a corpus)."""
        return self._load().run_config

    def run_settings(self) -> Settings | None:
        """A run's own settings (None for a corpus)."""
        return self.defaults() if self._load().run_config is not None else None

    # the layers

    def _tokenize(self, s: Settings, steps: _Steps, timings: dict[str, float]) -> _Tokens:
        t = self._load()
        key = (s.preprocess, s.token, 0 if t.sentences is not None else s.max_tokens)
        if key in self._tokens:
            steps.advance(500)
            self._tokens[key] = self._tokens.pop(key)  # the most recently used goes last
            return self._tokens[key]
        start = time.perf_counter()
        if t.sentences is not None:
            if s.preprocess != "nmt":
                raise ConfigError("a translation run's sentences are preprocessed as the pairs are (preprocess "
                                  "'nmt'); d2l, lower and none apply to texts")
            steps.advance(100)
            if s.token == "word":
                words = [w for sentence in t.sentences for w in sentence]
                tokens = _tokens_from_words(words, [len(x) for x in t.sentences], steps, 400)
            else:
                tokens = _tokens_from_chars([" ".join(x) for x in t.sentences], True, steps, 400)
            tokens.fixed_train_stop = int(tokens.seg_starts[t.num_train_sentences])
        else:
            base = steps.done
            pieces = prepared_pieces(t.text, s.preprocess, each=lambda d, n: steps.advance_to(base + 100 * d // n))
            steps.advance_to(base + 100)
            if s.token == "char":
                prepared = "".join(pieces)
                prepared = prepared.strip() if s.preprocess in ("d2l", "lower") else prepared
                tokens = _tokens_from_chars([prepared[: s.max_tokens] if s.max_tokens else prepared], False, steps, 400)
            else:
                words: list[str] = []
                base = steps.done
                for i, piece in enumerate(pieces, 1):
                    words.extend(piece.split())
                    steps.advance_to(base + 100 * i // len(pieces))
                tokens = _tokens_from_words(words[: s.max_tokens] if s.max_tokens else words, None, steps, 300)
        if tokens.num_tokens == 0:
            raise DataError(f"{t.label} has no tokens after preprocessing ({s.preprocess}); try preprocess none")
        if len(self._tokens) >= 4:  # a large text's tokenizations take memory; keep the latest few
            self._tokens.pop(next(iter(self._tokens)))
        self._tokens[key] = tokens
        timings["tokenize"] = time.perf_counter() - start
        return tokens

    def _vocabulary(self, s: Settings, tokens: _Tokens, stop: int, timings: dict[str, float], name: str) -> _VocabLayer:
        key = (s.preprocess, s.token, s.max_tokens, stop, s.min_freq, s.reserved)
        if key in self._vocabs:
            return self._vocabs[key]
        start = time.perf_counter()
        counts = tokens.counts(stop)
        nonzero = np.flatnonzero(counts)
        run_own = self._is_run_own(s, stop, tokens)
        if run_own:
            vocab = self._model_vocab()
        else:
            vocab = Vocab.from_counts({tokens.types[i]: int(counts[i]) for i in nonzero}, s.min_freq, s.reserved)
        tti = vocab.token_to_idx
        type_to_index = np.fromiter((tti.get(t, 0) for t in tokens.types), np.int64, len(tokens.types))
        layer = _VocabLayer(vocab, stop, type_to_index)
        if len(self._vocabs) > 64:  # a UI walks many min_freq values; keep the cache bounded
            self._vocabs.pop(next(iter(self._vocabs)))
        self._vocabs[key] = layer
        timings[name] = timings.get(name, 0.0) + time.perf_counter() - start
        return layer

    def _is_run_own(self, s: Settings, stop: int, tokens: _Tokens) -> bool:
        own = self.run_settings()
        if own is None:
            return False
        return (s.token, s.preprocess, s.min_freq, s.reserved, s.max_tokens) == (
            own.token, own.preprocess, own.min_freq, own.reserved, own.max_tokens) and (
            self.is_pairs or s.val_fraction == own.val_fraction) and stop == tokens.train_stop(s.val_fraction)

    def _model_vocab(self) -> Vocab:
        """The run's vocabulary, built by its training code."""
        if self._run_vocab is None:
            t = self._load()
            if t.model_vocab is not None:
                self._run_vocab = t.model_vocab
            else:
                from rnntui.data.corpus import load_lm_corpus

                self._run_vocab = load_lm_corpus(t.run_config.data, self.data_dir).vocab
        return self._run_vocab

    def compute(
        self, settings: Settings | None = None, *, top: int = 10, zipf_points: int = 64,
        progress: Progress | None = None, should_stop: ShouldStop | None = None,
    ) -> VocabReport:
        """The report for ``settings`` (default: :meth:`defaults`). ``top``: n-grams listed per order.
        ``progress(done, total)``: thousandths of the work, called as it goes (reading, preprocessing,
        tokenizing in chunks, counting each n-gram order); ``should_stop()`` is checked between steps and
        raises :class:`Cancelled`. Raises DataError for an unreadable source, ConfigError for bad settings."""
        if isinstance(top, bool) or not isinstance(top, int) or top < 0:
            raise ConfigError(f"top must be an integer >= 0; got {top!r}")
        steps = _Steps(progress, should_stop)
        with self._lock:
            steps.check()
            timings: dict[str, float] = {}
            start = time.perf_counter()
            fresh = self._text is None
            t = self._load()
            if fresh:
                timings["read"] = time.perf_counter() - start
            s = settings if settings is not None else self.defaults()
            steps.advance(50)
            tokens = self._tokenize(s, steps, timings)
            train_stop = tokens.train_stop(s.val_fraction)
            stop = tokens.num_tokens if s.part == "all" else train_stop
            ngram_stats = {}
            for n in NGRAM_ORDERS:
                start, cached = time.perf_counter(), tokens.has_ngrams(stop, n)
                ngram_stats[n] = tokens.ngrams(stop, n)
                if not cached:
                    timings["ngrams"] = timings.get("ngrams", 0.0) + time.perf_counter() - start
                steps.advance(120)
            layer = self._vocabulary(s, tokens, stop, timings, "vocab")
            steps.advance(30)
            train_layer = layer if stop == train_stop else self._vocabulary(s, tokens, train_stop, timings, "vocab")
            steps.advance(30)
            start = time.perf_counter()
            report = self._report(t, s, tokens, layer, train_layer, stop, train_stop, ngram_stats, top, zipf_points,
                                  timings)
            timings["report"] = time.perf_counter() - start
            steps.finish()
            return report

    def _report(self, t: _Text, s: Settings, tokens: _Tokens, layer: _VocabLayer, train_layer: _VocabLayer,
                stop: int, train_stop: int, ngram_stats: dict, top: int, zipf_points: int,
                timings: dict[str, float]) -> VocabReport:
        vocab = layer.vocab
        counts = tokens.counts(stop)
        num_tokens = int(stop)
        num_distinct = int(np.count_nonzero(counts))
        # occurrences per vocabulary index: every type's count lands on its index (folded ones on 0)
        per_index = np.bincount(layer.type_to_index, weights=counts, minlength=len(vocab)).astype(np.int64)
        shares = per_index / max(num_tokens, 1)
        cumulative = np.cumsum(shares)
        rows = tuple(Row(i, tok, display(tok), int(c), float(sh), float(cu))
                     for i, (tok, c, sh, cu) in enumerate(zip(vocab.idx_to_token, per_index.tolist(), shares.tolist(),
                                                              cumulative.tolist())))
        folded = (counts > 0) & (layer.type_to_index == vocab.unk)  # in the text, not in the vocabulary
        literal_unk = tokens.type_id(UNK)
        if literal_unk is not None:  # the text's own "<unk>" is the vocabulary's, not folded
            folded[literal_unk] = False
        held = tokens.counts(tokens.num_tokens) - tokens.counts(train_stop)
        heldout_tokens = int(held.sum())
        heldout_unk = int(held[train_layer.type_to_index == 0].sum())
        ngrams, num_ngrams, zipf = {}, {}, {}
        for n, (codes, cnts) in ngram_stats.items():
            ngrams[n] = tuple((tokens.decode(codes[i], n), int(cnts[i])) for i in range(min(top, len(cnts))))
            num_ngrams[n] = len(cnts)
            zipf[n] = _zipf(cnts, n, zipf_points)
        unit = ("characters" if s.token == "char" else "words")
        part_label = _part_label(t, s, tokens, stop, train_stop, unit)
        matches_run = None if t.run_config is None else self._is_run_own(s, stop, tokens)
        return VocabReport(
            self.source, s, f"{t.label} · {part_label}", t.label, part_label, unit, num_tokens, num_distinct,
            len(vocab), int(folded.sum()), int(counts[folded].sum()), heldout_tokens, heldout_unk,
            heldout_unk / heldout_tokens if heldout_tokens else None, rows, ngrams, num_ngrams, zipf, matches_run,
            timings, tokens, layer,
        )


def _part_label(t: _Text, s: Settings, tokens: _Tokens, stop: int, train_stop: int, unit: str) -> str:
    total = tokens.num_tokens
    cut = f" (first {s.max_tokens:,} kept)" if s.max_tokens and t.sentences is None else ""
    if t.sentences is not None:
        n_train, n_all = t.num_train_sentences, len(t.sentences)
        if s.part == "all":
            return (f"all sentences ({n_all:,}: {n_train:,} training, {n_all - n_train:,} held out), "
                    f"{total:,} {unit}")
        return f"training sentences ({n_train:,} of {n_all:,}), {stop:,} {unit}"
    if s.part == "all":
        return f"whole text, {total:,} {unit}{cut}"
    return (f"training part: the first {train_stop:,} of {total:,} {unit}{cut} "
            f"(the last {s.val_fraction:.0%} held out)")


def _read_source(source: Source, data_dir: str | Path | None) -> _Text:
    if source.kind == "corpus":
        from rnntui.data.corpus import read_corpus

        text, label = read_corpus(source.name, data_dir)
        if not text.strip():
            raise DataError(f"{label} is empty")
        return _Text(label, text=text)
    from rnntui.config import load_toml
    from rnntui.training.runs import CONFIG

    run_dir = Path(source.name)
    if not run_dir.is_dir():
        raise DataError(f"run folder not found: {run_dir}")
    if not (run_dir / CONFIG).is_file():
        raise DataError(f"{run_dir} has no {CONFIG}: not a run folder (give one written by `rnntui train`)")
    cfg = load_toml(run_dir / CONFIG)
    name = f"run {run_dir.name}"
    if cfg.task == "lm":
        from rnntui.data.corpus import read_corpus

        text, label = read_corpus(cfg.data.corpus, data_dir)
        return _Text(f"{name}: {label}", text=text, run_config=cfg)
    if cfg.task == "seq2seq":
        from rnntui.data.translation import load_pairs

        data = load_pairs(cfg.pairs, data_dir)
        side = 0 if source.side == "source" else 1
        sentences = [p[side] for p in data.train_pairs] + [p[side] for p in data.val_pairs]
        return _Text(f"{name}: {data.label}, {source.side} side", sentences=sentences,
                     num_train_sentences=len(data.train_pairs), run_config=cfg,
                     model_vocab=data.src_vocab if side == 0 else data.tgt_vocab)
    raise ConfigError(f"{run_dir} is a {cfg.task} run: it has no text or vocabulary to inspect")
