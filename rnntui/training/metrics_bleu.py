"""BLEU as the book defines it (d2l.ai, "Sequence-to-Sequence Learning", Evaluation of Predicted Sequences)."""

from __future__ import annotations

import collections
import math
from collections.abc import Iterable, Sequence


def bleu(pred_tokens: Sequence[str], label_tokens: Sequence[str], k: int = 2) -> float:
    """exp(min(0, 1 - len_label / len_pred)) * prod_{n=1..k} p_n^(1/2^n), with p_n the clipped n-gram
    precision of the prediction. An empty prediction scores 0. Where the book divides by zero (a
    prediction shorter than n tokens has no n-grams), that order is left out of the product."""
    len_pred, len_label = len(pred_tokens), len(label_tokens)
    if len_pred == 0:
        return 0.0
    score = math.exp(min(0.0, 1 - len_label / len_pred))
    for n in range(1, k + 1):
        num_grams = len_pred - n + 1
        if num_grams <= 0:
            break
        label_grams = collections.Counter(tuple(label_tokens[i: i + n]) for i in range(len_label - n + 1))
        matches = 0
        for i in range(num_grams):
            gram = tuple(pred_tokens[i: i + n])
            if label_grams[gram] > 0:
                matches += 1
                label_grams[gram] -= 1
        score *= math.pow(matches / num_grams, math.pow(0.5, n))
    return score


def corpus_bleu(pairs: Iterable[tuple[Sequence[str], Sequence[str]]], k: int = 2) -> float:
    """The mean sentence BLEU over (prediction tokens, reference tokens) pairs (0 for no pairs)."""
    scores = [bleu(pred, label, k) for pred, label in pairs]
    return sum(scores) / len(scores) if scores else 0.0
