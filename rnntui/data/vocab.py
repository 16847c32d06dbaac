"""Vocabulary and n-gram frequency tables (d2l's ``Vocab``, with the same API shape)."""

from __future__ import annotations

import collections
from collections.abc import Iterable, Mapping, Sequence

UNK = "<unk>"


def _flatten(tokens: Iterable) -> list[str]:
    tokens = list(tokens)
    if tokens and isinstance(tokens[0], (list, tuple)):
        return [t for line in tokens for t in line]
    return tokens


class Vocab:
    """Maps tokens to indices and back.

    ``<unk>`` is index 0, then the reserved tokens in the order given, then every token seen at least
    ``min_freq`` times, most frequent first (ties broken by the token, so the order is reproducible).
    Unknown tokens map to ``<unk>``.
    """

    def __init__(
        self,
        tokens: Iterable = (),
        min_freq: int = 0,
        reserved_tokens: Sequence[str] = (),
    ) -> None:
        counter = collections.Counter(_flatten(tokens))
        # Most frequent first; ties broken by the token itself so that a vocabulary is reproducible.
        self.token_freqs: list[tuple[str, int]] = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))
        self.min_freq = min_freq
        self.reserved_tokens = list(dict.fromkeys(t for t in reserved_tokens if t != UNK))
        itos = [UNK, *self.reserved_tokens]
        seen = set(itos)
        for token, freq in self.token_freqs:
            if freq >= min_freq and token not in seen:
                itos.append(token)
                seen.add(token)
        self.idx_to_token: list[str] = itos
        self.token_to_idx: dict[str, int] = {t: i for i, t in enumerate(itos)}

    @classmethod
    def from_itos(cls, itos: Sequence[str]) -> Vocab:
        """Rebuild a vocabulary from its index-to-token list (as stored in a checkpoint)."""
        if not itos or itos[0] != UNK:
            raise ValueError("a vocabulary list must start with <unk>")
        vocab = cls.__new__(cls)
        vocab.token_freqs = []
        vocab.min_freq = 0
        vocab.reserved_tokens = []
        vocab.idx_to_token = list(itos)
        vocab.token_to_idx = {t: i for i, t in enumerate(itos)}
        if len(vocab.token_to_idx) != len(itos):
            raise ValueError("a vocabulary list must not repeat tokens")
        return vocab

    @classmethod
    def from_counts(
        cls, counts: Mapping[str, int], min_freq: int = 0, reserved_tokens: Sequence[str] = ()
    ) -> Vocab:
        """The vocabulary that ``Vocab(tokens, min_freq, reserved_tokens)`` builds, from the tokens' counts
        (``collections.Counter(tokens)``) instead of the tokens: the same order and indices, without a pass
        over the text (what the inspector needs when only ``min_freq`` or the reserved tokens change)."""
        vocab = cls.__new__(cls)
        # Counter(tokens) holds no zero counts; a zero here would otherwise pass min_freq 0.
        vocab.token_freqs = sorted(((t, int(c)) for t, c in counts.items() if c > 0), key=lambda kv: (-kv[1], kv[0]))
        vocab.min_freq = min_freq
        vocab.reserved_tokens = list(dict.fromkeys(t for t in reserved_tokens if t != UNK))
        itos = [UNK, *vocab.reserved_tokens]
        seen = set(itos)
        for token, freq in vocab.token_freqs:
            if freq >= min_freq and token not in seen:
                itos.append(token)
                seen.add(token)
        vocab.idx_to_token = itos
        vocab.token_to_idx = {t: i for i, t in enumerate(itos)}
        return vocab

    def __len__(self) -> int:
        return len(self.idx_to_token)

    def __contains__(self, token: str) -> bool:
        return token in self.token_to_idx

    def __getitem__(self, tokens):
        """Index of a token, or a list of indices for a list (or tuple) of tokens."""
        if isinstance(tokens, (list, tuple)):
            return [self.__getitem__(t) for t in tokens]
        return self.token_to_idx.get(tokens, self.unk)

    def to_tokens(self, indices):
        """Token of an index, or a list of tokens for a list of indices."""
        if hasattr(indices, "tolist"):
            indices = indices.tolist()
        if isinstance(indices, (list, tuple)):
            return [self.idx_to_token[int(i)] for i in indices]
        return self.idx_to_token[int(indices)]

    @property
    def unk(self) -> int:
        return 0

    def __repr__(self) -> str:
        head = ", ".join(repr(t) for t in self.idx_to_token[:8])
        return f"Vocab(size={len(self)}, [{head}{', ...' if len(self) > 8 else ''}])"


def ngram_freqs(tokens: Sequence[str], n: int) -> list[tuple[tuple[str, ...], int]]:
    """Frequencies of the n-grams of a token sequence, most frequent first (the Zipf view)."""
    if n < 1:
        raise ValueError("n must be >= 1")
    grams = zip(*(tokens[i:] for i in range(n)))
    counter = collections.Counter(grams)
    return sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))
