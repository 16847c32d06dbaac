"""Text generation from a language model: warm up on a prefix, then decode token by token."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import torch

from rnntui.data.corpus import join_tokens, tokenize
from rnntui.data.vocab import Vocab
from rnntui.decoding.sampling import DecodeConfig, StepDistribution, choose
from rnntui.errors import ConfigError
from rnntui.models import evaluating

log = logging.getLogger(__name__)


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


def prefix_ids(vocab: Vocab, prefix: str, token: str, lowercase: bool) -> tuple[list[int], list[str]]:
    """Token ids of a prompt and the distinct tokens that were not in the vocabulary."""
    tokens = tokenize(prefix.lower() if lowercase else prefix, token)
    if not tokens:
        raise ConfigError("the prefix is empty; give at least one character")
    unknown = list(dict.fromkeys(t for t in tokens if t not in vocab))
    return vocab[tokens], unknown


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
    device = next(model.parameters()).device
    with evaluating(model):
        logits, state = model(torch.tensor([ids], device=device), None)  # warm-up over the whole prefix
        out: list[int] = []
        steps: list[StepDistribution] = []
        for _ in range(num_tokens):
            step = choose(logits[-1, 0].float().cpu(), decode, generator)
            out.append(step.token)
            if keep_steps:
                steps.append(step)
            logits, state = model(torch.tensor([[step.token]], device=device), state)
    tokens = vocab.to_tokens(out)
    continuation = join_tokens(tokens, token)
    if token == "word" and continuation:
        continuation = " " + continuation
    return Generation(prefix, continuation, tokens, steps, unknown)
