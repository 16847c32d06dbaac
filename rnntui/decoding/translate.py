"""Translating with an encoder-decoder: greedy search and beam search (d2l.ai, "Beam Search").

Both decode at most ``num_steps`` tokens and stop at ``<eos>``. A hypothesis's score is the book's
length-normalised log-likelihood ``log P(y_1..y_L | c) / L^alpha``, where the tokens counted include the
final ``<eos>`` (its probability is part of P); the returned tokens leave ``<eos>`` out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from rnntui.data.translation import BOS, EOS, encode_source, preprocess, tokenize
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


def _greedy_raw(model, src: torch.Tensor, src_valid_len: torch.Tensor, tgt_vocab: Vocab, num_steps: int):
    """Greedy decoding of a batch: per source (ids up to and with <eos>, log P, L = tokens counted)."""
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
    return [(row[:length], lp_sum, length) for row, lp_sum, length in zip(ids, log_p.tolist(), lengths.tolist())]


def greedy_batch(
    model, src: torch.Tensor, src_valid_len: torch.Tensor, tgt_vocab: Vocab, num_steps: int, alpha: float = 0.75
) -> list[Hypothesis]:
    """Greedy decoding of a batch of sources (batch, steps); one (tokens, score) per source."""
    eos = tgt_vocab[EOS]
    out = []
    for row, lp_sum, length in _greedy_raw(model, src, src_valid_len, tgt_vocab, num_steps):
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


@dataclass(frozen=True)
class BeamHypothesis:
    """One hypothesis of a beam-search step, as plain data."""

    tokens: list[str]  # the target tokens so far, ending in "<eos>" when finished
    log_prob: float  # log P of those tokens (natural log)
    score: float  # log P / L^alpha, L = len(tokens)
    finished: bool  # ended with <eos>
    parent: int | None  # index of the hypothesis it extends in the previous step's ``kept`` (None at step 1)


@dataclass(frozen=True)
class BeamStep:
    """What beam search kept and pruned at one step (one more target token)."""

    kept: list[BeamHypothesis]  # the beam_size best continuations by log P, best first; finished ones leave the beam
    pruned: list[BeamHypothesis]  # the best continuations just below the cut, best first (for greying)


@dataclass(frozen=True)
class BeamTrace:
    """A whole beam search: ``steps[t]`` is step t + 1; ``final`` every final hypothesis, best first by score
    (as beam_search returns them); ``chosen`` = (step, position in that step's kept) of ``final[0]``."""

    steps: list[BeamStep]
    final: list[BeamHypothesis]
    chosen: tuple[int, int]
    beam_size: int
    alpha: float

    @property
    def hypotheses(self) -> list[Hypothesis]:
        """``final`` as beam_search's (tokens without <eos>, score) pairs."""
        return [(h.tokens[:-1] if h.finished else list(h.tokens), h.score) for h in self.final]


def _beam(model, src_ids, src_valid_len, tgt_vocab: Vocab, num_steps: int, beam_size: int, alpha: float,
          num_pruned: int | None):
    """Beam search; returns (final: [(ids without <eos>, log P, L, (step, position))], steps or None).
    ``num_pruned`` None: no record of the steps; else up to that many pruned candidates per step."""
    if not isinstance(beam_size, int) or beam_size < 1:
        raise ConfigError(f"the beam size must be an integer >= 1; got {beam_size!r}")
    device = _device(model)
    src, valid = _as_batch(src_ids, src_valid_len, device)
    bos, eos = tgt_vocab[BOS], tgt_vocab[EOS]
    record = num_pruned is not None
    final: list[tuple[list[int], float, int, tuple[int, int]]] = []
    steps: list[tuple[list, list]] = []  # per step: kept and pruned as (ids, log P, finished, parent)
    with evaluating(model):
        state = model.begin(src, valid)
        seqs: list[list[int]] = [[]]
        where: list[int | None] = [None]  # each live row's position in the previous step's kept
        log_p = torch.zeros(1, device=device)
        dec_X = torch.full((1, 1), bos, dtype=torch.long, device=device)
        for step in range(num_steps):
            logits, state = model.decoder(dec_X, state)
            lp = F.log_softmax(logits[:, 0].float(), dim=-1)  # (live, vocab)
            vocab_size = lp.shape[1]
            total = (log_p[:, None] + lp).reshape(-1)
            top = total.topk(min(beam_size, total.numel()))
            rows, keep_ids, keep_lp, keep_seqs, keep_where = [], [], [], [], []
            kept_rec = []
            for value, flat in zip(top.values.tolist(), top.indices.tolist()):
                row, token = divmod(flat, vocab_size)
                kept_rec.append((seqs[row] + [token], value, token == eos, where[row]))
                if token == eos:
                    final.append((seqs[row], value, step + 1, (step, len(kept_rec) - 1)))
                else:
                    rows.append(row)
                    keep_ids.append(token)
                    keep_lp.append(value)
                    keep_seqs.append(seqs[row] + [token])
                    keep_where.append(len(kept_rec) - 1)
            if record:
                pruned_rec = []
                if num_pruned > 0:
                    taken = set(top.indices.tolist())
                    more = total.topk(min(len(taken) + num_pruned, total.numel()))
                    for value, flat in zip(more.values.tolist(), more.indices.tolist()):
                        if flat in taken or len(pruned_rec) == num_pruned:
                            continue
                        row, token = divmod(flat, vocab_size)
                        pruned_rec.append((seqs[row] + [token], value, token == eos, where[row]))
                steps.append((kept_rec, pruned_rec))
            if not rows:
                break
            seqs, where = keep_seqs, keep_where
            log_p = torch.tensor(keep_lp, device=device)
            state = _select(state, torch.tensor(rows, dtype=torch.long, device=device))
            dec_X = torch.tensor(keep_ids, dtype=torch.long, device=device)[:, None]
        else:  # ran out of steps: the live hypotheses are final too
            final += [(seq, value, num_steps, (num_steps - 1, pos))
                      for seq, value, pos in zip(seqs, log_p.tolist(), where)]
    return final, (steps if record else None)


def beam_search(
    model, src_ids, src_valid_len, tgt_vocab: Vocab, num_steps: int, beam_size: int = 2, alpha: float = 0.75
) -> list[Hypothesis]:
    """Beam search for one source. At every step the ``beam_size`` most likely continuations (by log P)
    of the live hypotheses are kept; one that ends in ``<eos>`` is final, the others live on until
    ``num_steps`` tokens. Returns every final hypothesis, best first by ``log P / L^alpha``.
    ``beam_size`` 1 is greedy search."""
    final, _ = _beam(model, src_ids, src_valid_len, tgt_vocab, num_steps, beam_size, alpha, None)
    scored = [(tgt_vocab.to_tokens(seq), normalised_score(value, length, alpha)) for seq, value, length, _ in final]
    return sorted(scored, key=lambda h: -h[1])


def beam_trace(
    model, src_ids, src_valid_len, tgt_vocab: Vocab, num_steps: int, beam_size: int = 2, alpha: float = 0.75,
    num_pruned: int | None = None,
) -> BeamTrace:
    """The same search as ``beam_search``, with its steps: per step the hypotheses kept (tokens, log P,
    score, finished, parent) and up to ``num_pruned`` (default ``beam_size``) of the best candidates that
    fell below the cut; the final hypotheses best first and which one is chosen."""
    num_pruned = beam_size if num_pruned is None else num_pruned
    if not isinstance(num_pruned, int) or num_pruned < 0:
        raise ConfigError(f"num_pruned must be an integer >= 0; got {num_pruned!r}")
    final, steps = _beam(model, src_ids, src_valid_len, tgt_vocab, num_steps, beam_size, alpha, num_pruned)

    def hyp(ids, value, finished, parent) -> BeamHypothesis:
        return BeamHypothesis(tgt_vocab.to_tokens(ids), value, normalised_score(value, len(ids), alpha),
                              finished, parent)

    trace_steps = [BeamStep([hyp(*k) for k in kept], [hyp(*p) for p in pruned]) for kept, pruned in steps]
    ranked = sorted(final, key=lambda f: -normalised_score(f[1], f[2], alpha))  # stable, as beam_search
    final_hyps = [trace_steps[s].kept[pos] if s >= 0 else BeamHypothesis([], value, 0.0, False, None)
                  for _, value, _, (s, pos) in ranked]  # s < 0: num_steps 0, nothing decoded
    return BeamTrace(trace_steps, final_hyps, ranked[0][3], beam_size, alpha)


@dataclass(frozen=True)
class Decoded:
    """One translation hypothesis for display."""

    tokens: list[str]  # without <eos>
    log_prob: float
    length: int  # L of the score: the tokens, plus <eos> when finished
    score: float  # log P / L^alpha
    finished: bool  # ended with <eos> (else it ran out of num_steps)
    bleu: float | None  # against the reference, when one is given


@dataclass(frozen=True)
class Comparison:
    """Greedy and beam search on one sentence, side by side (the Prompt view of a seq2seq model)."""

    source: str
    source_tokens: list[str]  # the preprocessed words
    num_read: int  # how many of them the encoder reads (the source is cut at num_steps)
    unknown: list[str]  # words not in the source vocabulary (read as <unk>)
    reference: list[str] | None  # the reference's tokens, when given
    greedy: Decoded
    beam: list[Decoded]  # beam search's final hypotheses, best first: beam[0] is its translation
    trace: BeamTrace


def compare(
    model, sentence: str, src_vocab: Vocab, tgt_vocab: Vocab, num_steps: int, beam_size: int = 3,
    alpha: float = 0.75, reference: str | None = None, num_pruned: int | None = None,
) -> Comparison:
    """Translate ``sentence`` greedily and by beam search (with its trace); BLEU (k=2) of each hypothesis
    when a ``reference`` is given. An empty sentence or reference is a ConfigError."""
    from rnntui.training.metrics_bleu import bleu

    ids, valid_len, unknown = encode_source(sentence, src_vocab, num_steps)
    words = tokenize(preprocess(sentence))
    ref = None
    if reference is not None:
        ref = tokenize(preprocess(reference))
        if not ref:
            raise ConfigError("the reference translation is empty; give at least one word or leave it out")
    eos = tgt_vocab[EOS]

    def decoded(tokens: list[str], log_prob: float, length: int, finished: bool) -> Decoded:
        return Decoded(tokens, log_prob, length, normalised_score(log_prob, length, alpha), finished,
                       bleu(tokens, ref, k=2) if ref is not None else None)

    src, valid = _as_batch(ids, valid_len, _device(model))
    row, log_p, length = _greedy_raw(model, src, valid, tgt_vocab, num_steps)[0]
    finished = bool(row) and row[-1] == eos
    greedy_hyp = decoded(tgt_vocab.to_tokens(row[:-1] if finished else row), log_p, length, finished)
    trace = beam_trace(model, ids, valid_len, tgt_vocab, num_steps, beam_size, alpha, num_pruned)
    beam = [decoded(h.tokens[:-1] if h.finished else list(h.tokens), h.log_prob, len(h.tokens), h.finished)
            for h in trace.final]
    return Comparison(sentence, words, min(len(words), num_steps), unknown, ref, greedy_hyp, beam, trace)


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
