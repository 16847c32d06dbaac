"""Text generation from a language model: warm up on a prefix, then decode token by token.

* ``stream`` yields one plain record per token as it is drawn (for a UI worker that shows tokens as they
  come); ``generate`` collects the same tokens (one decoding loop serves both, so with the same seed and
  settings they give the same text).
* ``Stepper`` holds the model state after a prefix and a path of chosen tokens, for stepping through the
  next-token distribution by hand; ``continuations`` samples a few continuations at different temperatures.
* ``surprise`` gives the model's probability of each token of a text, teacher-forced (for colouring).

Everything handed out is plain data (str, int, float, lists, frozen dataclasses), never tensors.
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace

import torch

from rnntui.data.corpus import join_tokens, tokenize
from rnntui.data.vocab import UNK, Vocab
from rnntui.decoding.sampling import (
    DecodeConfig,
    StepDistribution,
    StepSummary,
    entropy,
    filter_distribution,
    summarise,
)
from rnntui.errors import ConfigError
from rnntui.models import evaluating

log = logging.getLogger(__name__)

# Prompt tokens per forward pass: bounds the one-hot inputs and the logits of a long (pasted) prompt.
CHUNK = 512


@dataclass
class Generation:
    prefix: str
    continuation: str
    tokens: list[str]  # the generated tokens
    steps: list[StepDistribution] = field(default_factory=list)  # per step, when asked for
    unknown: list[str] = field(default_factory=list)  # prefix tokens not in the vocabulary (fed as <unk>)

    @property
    def text(self) -> str:
        return self.prefix + self.continuation


@dataclass(frozen=True)
class TokenStep:
    """One generated token, as ``stream`` yields it."""

    index: int  # 0-based position in the continuation
    token: str  # the chosen token
    token_id: int
    text: str  # what it appends to the text: the token, or " " + token for a word model
    prob: float  # its probability under the distribution it was drawn from (after temperature and filter)
    prob_t1: float  # the model's own probability of it (softmax at T=1, nothing filtered)
    top: list[tuple[str, float]]  # the most probable tokens after temperature, descending
    kept: int  # how many tokens the strategy kept
    entropy: float  # nats, of the distribution after temperature (T=1 for greedy)


@dataclass(frozen=True)
class TokenSurprise:
    """The model's probability of one token of a given text, knowing the tokens before it."""

    index: int  # 0-based position in the text's tokens
    text: str  # the token as read (lowercased when the model's data were)
    token: str  # as the model reads it: the same, or "<unk>"
    unknown: bool  # not in the vocabulary
    prob: float | None  # P(token | tokens before); None for the first token (nothing predicts it)
    surprisal: float | None  # -ln prob, nats


@dataclass(frozen=True)
class Continuation:
    temperature: float
    text: str  # the continuation, as Generation.continuation
    tokens: list[str]


def _check_num_tokens(num_tokens: int) -> None:
    if not isinstance(num_tokens, int) or isinstance(num_tokens, bool) or num_tokens < 0:
        raise ConfigError(f"the number of tokens to generate must be an integer >= 0; got {num_tokens!r}")


def _read(text: str, token: str, lowercase: bool) -> list[str]:
    tokens = tokenize(text.lower() if lowercase else text, token)
    if not tokens:
        if token == "word":
            raise ConfigError("the prefix has no words; give at least one word")
        raise ConfigError("the prefix is empty; give at least one character")
    return tokens


def prefix_ids(vocab: Vocab, prefix: str, token: str, lowercase: bool) -> tuple[list[int], list[str]]:
    """Token ids of a prompt and the distinct tokens that were not in the vocabulary."""
    tokens = _read(prefix, token, lowercase)
    unknown = list(dict.fromkeys(t for t in tokens if t not in vocab))
    return vocab[tokens], unknown


def _device(model: torch.nn.Module) -> torch.device:
    return next(model.parameters()).device


def _warm_up(model: torch.nn.Module, ids: list[int], should_stop: Callable[[], bool] | None = None):
    """(logits after the last token (vocab,), state) after reading ``ids`` in chunks of CHUNK; None if
    stopped. The caller holds ``evaluating(model)``."""
    device = _device(model)
    state = None
    for start in range(0, len(ids), CHUNK):
        if should_stop is not None and should_stop():
            return None
        logits, state = model(torch.tensor([ids[start: start + CHUNK]], device=device), state)  # (steps, 1, vocab)
    return logits[-1, 0], state


def _pick(x: torch.Tensor, decode: DecodeConfig, generator: torch.Generator | None):
    """(token, probs, kept, final) for one step's CPU logits: ``choose``'s rule without its lists."""
    probs, kept, final = filter_distribution(x, decode)
    if decode.strategy == "greedy":
        token = int(kept[0].item())
    else:
        token = int(torch.multinomial(final, 1, generator=generator).item())
    return token, probs, kept, final


def _decode(model, last, state, num_tokens, decode, generator, should_stop=None, guard=True) -> Iterator[tuple]:
    """Per generated token (index, token, logits, probs, kept, final), from the logits ``last`` and the
    ``state`` after the prefix. ``guard``: each step runs in its own ``evaluating(model)``, so that
    nothing leaks to the caller between tokens; else the caller holds it around the whole loop."""
    device = _device(model)
    step_mode = evaluating if guard else contextlib.nullcontext
    for i in range(num_tokens):
        if should_stop is not None and should_stop():
            return
        x = last.float().cpu()
        token, probs, kept, final = _pick(x, decode, generator)
        yield i, token, x, probs, kept, final
        if i + 1 < num_tokens:
            with step_mode(model):
                logits, state = model(torch.tensor([[token]], device=device), state)
            last = logits[-1, 0]


def _piece(tok: str, token: str) -> str:
    """What a token appends to the text (Generation.continuation joins words with a leading space)."""
    return tok if token == "char" else " " + tok


def generate(
    model: torch.nn.Module,
    vocab: Vocab,
    prefix: str,
    num_tokens: int,
    token: str = "char",
    decode: DecodeConfig = DecodeConfig(),
    generator: torch.Generator | None = None,
    lowercase: bool = True,
    keep_steps: bool = False,
) -> Generation:
    """Continue ``prefix`` by ``num_tokens`` tokens. Unknown prompt tokens become ``<unk>`` with a warning."""
    ids, unknown = prefix_ids(vocab, prefix, token, lowercase)
    if unknown:
        log.warning("not in the vocabulary, read as <unk>: %s", " ".join(repr(t) for t in unknown))
    out: list[int] = []
    steps: list[StepDistribution] = []
    with evaluating(model):  # once around the loop: a guard per step is a cost per token
        last, state = _warm_up(model, ids)  # warm-up over the whole prefix
        for _, tok, _, probs, kept, final in _decode(model, last, state, num_tokens, decode, generator, guard=False):
            out.append(tok)
            if keep_steps:
                steps.append(StepDistribution(probs=probs.tolist(), kept=kept.tolist(), final=final.tolist(),
                                              token=tok))
    tokens = vocab.to_tokens(out)
    continuation = join_tokens(tokens, token)
    if token == "word" and continuation:
        continuation = " " + continuation
    return Generation(prefix, continuation, tokens, steps, unknown)


def stream(
    model: torch.nn.Module,
    vocab: Vocab,
    prefix: str,
    num_tokens: int,
    token: str = "char",
    decode: DecodeConfig = DecodeConfig(),
    generator: torch.Generator | None = None,
    lowercase: bool = True,
    top: int = 10,
    should_stop: Callable[[], bool] | None = None,
) -> Iterator[TokenStep]:
    """An iterator of one ``TokenStep`` per generated token, drawn as ``generate`` draws them (same seed and
    settings, same tokens): ``prefix + "".join(s.text for s in stream(...))`` is ``generate(...).text``.

    The prompt is checked at once (an empty one is a ConfigError); the warm-up on it and every step run
    as the iterator is advanced (in the caller's thread: a UI's worker). ``should_stop()`` is asked before
    the warm-up, between its chunks and before every token; when it says True the iterator ends.
    Unknown prompt tokens are read as ``<unk>`` silently: ``prefix_ids`` or ``surprise`` lists them."""
    ids, _ = prefix_ids(vocab, prefix, token, lowercase)
    _check_num_tokens(num_tokens)
    if not isinstance(top, int) or top < 0:
        raise ConfigError(f"top must be an integer >= 0; got {top!r}")
    return _stream(model, vocab, ids, num_tokens, token, decode, generator, top, should_stop)


def _stream(model, vocab, ids, num_tokens, token, decode, generator, top, should_stop) -> Iterator[TokenStep]:
    with evaluating(model):
        warm = _warm_up(model, ids, should_stop)
    if warm is None:
        return
    last, state = warm
    itos = vocab.idx_to_token
    t1 = decode.strategy == "greedy" or decode.temperature == 1.0  # probs are already the T=1 ones
    for i, tok, x, probs, kept, final in _decode(model, last, state, num_tokens, decode, generator, should_stop):
        values, indices = torch.topk(probs, min(top, probs.numel()))  # descending
        prob_t1 = probs[tok] if t1 else torch.log_softmax(x.double(), 0)[tok].exp()
        yield TokenStep(
            index=i,
            token=itos[tok],
            token_id=tok,
            text=_piece(itos[tok], token),
            prob=float(final[tok].item()),
            prob_t1=float(prob_t1.item()),
            top=[(itos[j], p) for j, p in zip(indices.tolist(), values.tolist())],
            kept=kept.numel(),
            entropy=entropy(probs),
        )


def surprise(
    model: torch.nn.Module,
    vocab: Vocab,
    text: str,
    token: str = "char",
    lowercase: bool = True,
    should_stop: Callable[[], bool] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[TokenSurprise]:
    """One ``TokenSurprise`` per token of ``text`` (tokenized as a prompt): the model's probability of it
    after the tokens before it (teacher forcing, read in chunks of CHUNK, so a long text works). Tokens
    not in the vocabulary are read, and reported, as ``<unk>``. ``progress(done, total)`` after each
    chunk; when ``should_stop()`` says True the tokens scored so far are returned. An empty text is a
    ConfigError."""
    tokens = _read(text, token, lowercase)
    ids = vocab[tokens]
    n = len(ids)
    log_probs: list[float] = []
    device = _device(model)
    with evaluating(model):
        state = None
        for start in range(0, n, CHUNK):
            if should_stop is not None and should_stop():
                break
            chunk = ids[start: start + CHUNK]
            logits, state = model(torch.tensor([chunk], device=device), state)  # (steps, 1, vocab)
            targets = ids[start + 1: start + 1 + len(chunk)]  # position j predicts token j + 1
            if targets:
                lp = torch.log_softmax(logits[: len(targets), 0].float(), -1)  # (targets, vocab)
                log_probs += lp.gather(1, torch.tensor(targets, device=device)[:, None])[:, 0].tolist()
            if progress is not None:
                progress(min(start + CHUNK, n), n)
    out = []
    for i in range(min(n, len(log_probs) + 1)):
        lp = log_probs[i - 1] if i > 0 else None
        unknown = tokens[i] not in vocab
        out.append(TokenSurprise(
            index=i, text=tokens[i], token=UNK if unknown else tokens[i], unknown=unknown,
            prob=math.exp(lp) if lp is not None else None, surprisal=-lp if lp is not None else None,
        ))
    return out


class Stepper:
    """The model's state after a prefix and a path of chosen tokens, for the Sampling view.

    ``distribution(decode)`` re-filters the cached logits of the next step (the model does not run, so
    a change of temperature, k or p is cheap); ``push`` runs the model one token on from the cached
    state (a sampled, the greedy, or any hand-picked token: branching); ``pop`` steps back, restoring
    the previous logits and state exactly. Not thread-safe: use it from one worker."""

    def __init__(self, model: torch.nn.Module, vocab: Vocab, prefix: str, token: str = "char",
                 lowercase: bool = True) -> None:
        ids, self.unknown = prefix_ids(vocab, prefix, token, lowercase)
        self.model, self.vocab, self.token, self.prefix = model, vocab, token, prefix
        with evaluating(model):
            last, state = _warm_up(model, ids)
        self._logits = last.float().cpu()  # (vocab,) of the next step
        self._state = state
        self._stack: list[tuple[torch.Tensor, object]] = []  # (logits, state) before each pushed token
        self._path: list[int] = []

    @property
    def path(self) -> list[str]:
        """The tokens chosen so far."""
        return self.vocab.to_tokens(self._path)

    @property
    def continuation(self) -> str:
        """The path as text, as Generation.continuation."""
        return "".join(_piece(t, self.token) for t in self.path)

    @property
    def text(self) -> str:
        return self.prefix + self.continuation

    def distribution(self, decode: DecodeConfig = DecodeConfig(), top: int = 20) -> StepSummary:
        """The next step's top tokens under ``decode``: probability after temperature, cumulative mass,
        kept or excluded, renormalised probability; the top-k and top-p cuts; the entropy (nats)."""
        return summarise(self._logits, decode, top, self.vocab.idx_to_token)

    def push(self, token: str | int) -> str:
        """Append ``token`` (a vocabulary token or its index) to the path and run the model one step;
        returns the token."""
        if isinstance(token, str):
            if token not in self.vocab:
                raise ConfigError(f"{token!r} is not in the vocabulary; pick one of the listed tokens")
            idx = self.vocab[token]
        elif isinstance(token, int) and not isinstance(token, bool) and 0 <= token < len(self.vocab):
            idx = token
        else:
            raise ConfigError(f"a token index must lie in [0, {len(self.vocab) - 1}]; got {token!r}")
        with evaluating(self.model):
            logits, state = self.model(torch.tensor([[idx]], device=_device(self.model)), self._state)
        self._stack.append((self._logits, self._state))
        self._logits, self._state = logits[-1, 0].float().cpu(), state
        self._path.append(idx)
        return self.vocab.to_tokens(idx)

    def sample(self, decode: DecodeConfig, generator: torch.Generator | None = None) -> str:
        """Draw the next token under ``decode`` (as ``generate`` would) and push it; returns it."""
        return self.push(_pick(self._logits, decode, generator)[0])

    def greedy(self) -> str:
        """Push the most probable next token; returns it."""
        return self.sample(DecodeConfig("greedy"))

    def pop(self) -> str | None:
        """Step back one token (the previous logits and state come back); returns it, None at the prefix."""
        if not self._path:
            return None
        self._logits, self._state = self._stack.pop()
        return self.vocab.to_tokens(self._path.pop())

    def continuations(
        self,
        num_tokens: int = 30,
        temperatures: Sequence[float] = (0.5, 1.0, 1.5),
        decode: DecodeConfig = DecodeConfig("temperature"),
        seed: int = 0,
        should_stop: Callable[[], bool] | None = None,
    ) -> list[Continuation]:
        """``continuations`` of the text so far (prefix and path), from the cached state: no warm-up, and
        a hand-picked token (even ``<unk>``) counts as itself; the path does not change. When
        ``should_stop()`` says True, the continuations done so far are returned (the current one cut short)."""
        _check_num_tokens(num_tokens)
        configs = [replace(decode, temperature=t) for t in temperatures]  # validates each temperature
        out: list[Continuation] = []
        with evaluating(self.model):
            for t, config in zip(temperatures, configs):
                if should_stop is not None and should_stop():
                    break
                generator = torch.Generator().manual_seed(seed)
                steps = _decode(self.model, self._logits, self._state, num_tokens, config, generator, should_stop,
                                guard=False)
                tokens = self.vocab.to_tokens([tok for _, tok, *_ in steps])
                text = join_tokens(tokens, self.token)
                out.append(Continuation(float(t), " " + text if self.token == "word" and text else text, tokens))
        return out


def continuations(
    model: torch.nn.Module,
    vocab: Vocab,
    prefix: str,
    num_tokens: int = 30,
    temperatures: Sequence[float] = (0.5, 1.0, 1.5),
    token: str = "char",
    decode: DecodeConfig = DecodeConfig("temperature"),
    seed: int = 0,
    lowercase: bool = True,
    should_stop: Callable[[], bool] | None = None,
) -> list[Continuation]:
    """One continuation of ``prefix`` per temperature, each drawn with ``decode`` at that temperature from a
    generator seeded with ``seed``: entry i is ``generate(..., replace(decode, temperature=T_i),
    torch.Generator().manual_seed(seed))``'s continuation. The warm-up on the prefix runs once. When
    ``should_stop()`` says True, the continuations done so far are returned (the current one cut short)."""
    ids, _ = prefix_ids(vocab, prefix, token, lowercase)
    _check_num_tokens(num_tokens)
    configs = [replace(decode, temperature=t) for t in temperatures]  # validates each temperature
    out: list[Continuation] = []
    with evaluating(model):
        warm = _warm_up(model, ids, should_stop)
        if warm is None:
            return out
        last, state = warm  # recurrent layers return new state tensors, so the warm state can be shared
        for t, config in zip(temperatures, configs):
            if should_stop is not None and should_stop():
                break
            generator = torch.Generator().manual_seed(seed)
            steps = _decode(model, last, state, num_tokens, config, generator, should_stop, guard=False)
            tokens = vocab.to_tokens([tok for _, tok, *_ in steps])
            text = join_tokens(tokens, token)
            out.append(Continuation(float(t), " " + text if token == "word" and text else text, tokens))
    return out
