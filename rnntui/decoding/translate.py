"""Translating with an encoder-decoder: greedy search and beam search (d2l.ai, "Beam Search").

Both decode at most ``num_steps`` tokens and stop at ``<eos>``. A hypothesis's score is the book's
length-normalised log-likelihood ``log P(y_1..y_L | c) / L^alpha``, where the tokens counted include the
final ``<eos>`` (its probability is part of P); the returned tokens leave ``<eos>`` out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from rnntui.data.translation import BOS, EOS, encode_source
from rnntui.data.vocab import Vocab
from rnntui.errors import ConfigError
from rnntui.models import evaluating

Hypothesis = tuple[list[str], float]  # (tokens without <eos>, length-normalised score)


@dataclass
class Translation:
    source: str
    tokens: list[str]  # the translation, without <eos>
    unknown: list[str] = field(default_factory=list)  # source words not in the vocabulary (read as <unk>)
    score: float = 0.0  # log P / L^alpha of the chosen hypothesis
    hypotheses: list[Hypothesis] = field(default_factory=list)  # beam search: all final ones, best first
    text: str = field(init=False)  # the tokens joined by spaces

    def __post_init__(self) -> None:
        self.text = " ".join(self.tokens)


def normalised_score(log_prob: float, length: int, alpha: float = 0.75) -> float:
    return log_prob / max(length, 1) ** alpha


def _device(model: torch.nn.Module) -> torch.device:
    return next(model.parameters()).device


def _as_batch(src_ids, src_valid_len, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    src = torch.as_tensor(src_ids, dtype=torch.long, device=device).reshape(1, -1)
    valid = torch.as_tensor(src_valid_len, dtype=torch.long, device=device).reshape(1)
    return src, valid


def greedy_batch(
    model, src: torch.Tensor, src_valid_len: torch.Tensor, tgt_vocab: Vocab, num_steps: int, alpha: float = 0.75
) -> list[Hypothesis]:
    """Greedy decoding of a batch of sources (batch, steps); one (tokens, score) per source."""
    device = _device(model)
    src, src_valid_len = src.to(device), src_valid_len.to(device)
    n, bos, eos = src.shape[0], tgt_vocab[BOS], tgt_vocab[EOS]
    with evaluating(model):
        state = model.begin(src, src_valid_len)
        dec_X = torch.full((n, 1), bos, dtype=torch.long, device=device)
        done = torch.zeros(n, dtype=torch.bool, device=device)
        log_p = torch.zeros(n, device=device)
        lengths = torch.zeros(n, dtype=torch.long, device=device)
        steps = []
        for _ in range(num_steps):
            logits, state = model.decoder(dec_X, state)
            lp = F.log_softmax(logits[:, 0].float(), dim=-1)
            best = lp.argmax(dim=-1)
            active = ~done
            log_p += torch.where(active, lp.gather(1, best[:, None])[:, 0], torch.zeros_like(log_p))
            lengths += active.long()
            steps.append(best)
            done |= best == eos
            if bool(done.all()):
                break
            dec_X = best[:, None]
    ids = torch.stack(steps, 1).tolist()
    out = []
    for row, lp_sum, length in zip(ids, log_p.tolist(), lengths.tolist()):
        row = row[:length]
        if row and row[-1] == eos:
            row = row[:-1]
        out.append((tgt_vocab.to_tokens(row), normalised_score(lp_sum, length, alpha)))
    return out


def greedy(model, src_ids, src_valid_len, tgt_vocab: Vocab, num_steps: int, alpha: float = 0.75) -> Hypothesis:
    """Greedy decoding of one source (ids padded to num_steps): (tokens, score)."""
    src, valid = _as_batch(src_ids, src_valid_len, _device(model))
    return greedy_batch(model, src, valid, tgt_vocab, num_steps, alpha)[0]


def _select(state, index: torch.Tensor):
    """Rows ``index`` of a decoder state ``(context (batch, h), rnn_state (layers, batch, h) or (h, c))``."""
    context, rnn_state = state
    if isinstance(rnn_state, tuple):
        rnn_state = tuple(s.index_select(1, index) for s in rnn_state)
    else:
        rnn_state = rnn_state.index_select(1, index)
    return context.index_select(0, index), rnn_state


def beam_search(
    model, src_ids, src_valid_len, tgt_vocab: Vocab, num_steps: int, beam_size: int = 2, alpha: float = 0.75
) -> list[Hypothesis]:
    """Beam search for one source. At every step the ``beam_size`` most likely continuations (by log P)
    of the live hypotheses are kept; one that ends in ``<eos>`` is final, the others live on until
    ``num_steps`` tokens. Returns every final hypothesis, best first by ``log P / L^alpha``.
    ``beam_size`` 1 is greedy search."""
    if not isinstance(beam_size, int) or beam_size < 1:
        raise ConfigError(f"the beam size must be an integer >= 1; got {beam_size!r}")
    device = _device(model)
    src, valid = _as_batch(src_ids, src_valid_len, device)
    bos, eos = tgt_vocab[BOS], tgt_vocab[EOS]
    final: list[tuple[list[int], float, int]] = []  # (ids with <eos> dropped, log P, L)
    with evaluating(model):
        state = model.begin(src, valid)
        seqs: list[list[int]] = [[]]
        log_p = torch.zeros(1, device=device)
        dec_X = torch.full((1, 1), bos, dtype=torch.long, device=device)
        for step in range(num_steps):
            logits, state = model.decoder(dec_X, state)
            lp = F.log_softmax(logits[:, 0].float(), dim=-1)  # (live, vocab)
            vocab_size = lp.shape[1]
            total = (log_p[:, None] + lp).reshape(-1)
            top = total.topk(min(beam_size, total.numel()))
            rows, keep_ids, keep_lp, keep_seqs = [], [], [], []
            for value, flat in zip(top.values.tolist(), top.indices.tolist()):
                row, token = divmod(flat, vocab_size)
                if token == eos:
                    final.append((seqs[row], value, step + 1))
                else:
                    rows.append(row)
                    keep_ids.append(token)
                    keep_lp.append(value)
                    keep_seqs.append(seqs[row] + [token])
            if not rows:
                break
            seqs = keep_seqs
            log_p = torch.tensor(keep_lp, device=device)
            state = _select(state, torch.tensor(rows, dtype=torch.long, device=device))
            dec_X = torch.tensor(keep_ids, dtype=torch.long, device=device)[:, None]
        else:  # ran out of steps: the live hypotheses are final too
            final += [(seq, value, num_steps) for seq, value in zip(seqs, log_p.tolist())]
    scored = [(tgt_vocab.to_tokens(seq), normalised_score(value, length, alpha)) for seq, value, length in final]
    return sorted(scored, key=lambda h: -h[1])


def translate(
    model, sentence: str, src_vocab: Vocab, tgt_vocab: Vocab, num_steps: int, beam: int = 1, alpha: float = 0.75
) -> Translation:
    """Translate a sentence (preprocessed as the training data: lowercase, spaced punctuation).
    Unknown words are read as ``<unk>`` and listed in ``unknown``; an empty sentence is a ConfigError."""
    if not isinstance(beam, int) or beam < 1:
        raise ConfigError(f"the beam size must be an integer >= 1; got {beam!r}")
    ids, valid_len, unknown = encode_source(sentence, src_vocab, num_steps)
    if beam == 1:
        tokens, score = greedy(model, ids, valid_len, tgt_vocab, num_steps, alpha)
        return Translation(sentence, tokens, unknown, score, [(tokens, score)])
    hypotheses = beam_search(model, ids, valid_len, tgt_vocab, num_steps, beam, alpha)
    tokens, score = hypotheses[0]
    return Translation(sentence, tokens, unknown, score, hypotheses)
