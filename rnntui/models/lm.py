"""The language model: one-hot (or embedded) tokens in, a recurrent network, a linear layer out."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from rnntui.config import ModelConfig
from rnntui.models.scratch import SIGMA, ScratchRNN

TORCH_RNNS = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}


def make_rnn(config: ModelConfig, num_inputs: int) -> nn.Module:
    """A scratch stack or its torch.nn twin, both time-major."""
    if config.impl == "scratch":
        return ScratchRNN(config.kind, num_inputs, config.num_hiddens, config.num_layers, config.dropout)
    return TORCH_RNNS[config.kind](
        num_inputs, config.num_hiddens, num_layers=config.num_layers,
        dropout=config.dropout if config.num_layers > 1 else 0.0, bidirectional=config.bidirectional,
    )


class RNNLM(nn.Module):
    """Tokens (batch, steps) -> logits (steps, batch, vocab) and the new state."""

    def __init__(self, config: ModelConfig, vocab_size: int) -> None:
        super().__init__()
        self.config = config
        self.vocab_size = vocab_size
        self.embedding = nn.Embedding(vocab_size, config.embed_size) if config.embed_size else None
        self.rnn = make_rnn(config, config.embed_size or vocab_size)
        directions = 2 if config.bidirectional else 1
        self.output = nn.Linear(config.num_hiddens * directions, vocab_size)
        if config.impl == "scratch":  # the book's RNNLMScratch: W_hq ~ N(0, 0.01^2), b_q = 0
            nn.init.normal_(self.output.weight, std=SIGMA)
            nn.init.zeros_(self.output.bias)

    def forward(self, X: torch.Tensor, state=None):
        X = X.T  # (steps, batch)
        inputs = self.embedding(X) if self.embedding is not None else F.one_hot(X, self.vocab_size).float()
        outputs, state = self.rnn(inputs, state)  # (steps, batch, hiddens * directions)
        return self.output(outputs), state


def detach_state(state):
    """Cut the graph at a batch boundary (truncated BPTT) while keeping the values."""
    if state is None:
        return None
    if isinstance(state, tuple):
        return tuple(s.detach() for s in state)
    return state.detach()


def num_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
