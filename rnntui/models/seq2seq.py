"""The book's RNN encoder-decoder (d2l.ai, "Sequence-to-Sequence Learning for Machine Translation").

The encoder embeds the source and runs a multi-layer GRU (or LSTM) over it; its final state initialises
the decoder, and its final top-layer hidden state is the *context* that is concatenated to the target
embedding at every decoder step. Tensors inside the recurrent layers are time-major (steps, batch, ...).
"""

from __future__ import annotations

import torch
from torch import nn

from rnntui.config import ModelConfig
from rnntui.errors import ConfigError

RNNS = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}

State = torch.Tensor | tuple[torch.Tensor, torch.Tensor]  # (layers, batch, hiddens), or (h, c) for an LSTM


def _embedding(vocab_size: int, embed_size: int) -> nn.Embedding:
    """A learned embedding, or (embed_size 0) fixed one-hot vectors."""
    if embed_size:
        return nn.Embedding(vocab_size, embed_size)
    one_hot = nn.Embedding(vocab_size, vocab_size)
    with torch.no_grad():
        one_hot.weight.copy_(torch.eye(vocab_size))
    one_hot.weight.requires_grad_(False)
    return one_hot


def _rnn(kind: str, num_inputs: int, num_hiddens: int, num_layers: int, dropout: float) -> nn.Module:
    return RNNS[kind](num_inputs, num_hiddens, num_layers=num_layers, dropout=dropout if num_layers > 1 else 0.0)


def top_hidden(state: State) -> torch.Tensor:
    """The top layer's hidden state (batch, hiddens)."""
    return (state[0] if isinstance(state, tuple) else state)[-1]


class Seq2SeqEncoder(nn.Module):
    """Source tokens (batch, steps) -> outputs (steps, batch, hiddens) and the final state."""

    def __init__(self, kind: str, vocab_size: int, embed_size: int, num_hiddens: int, num_layers: int,
                 dropout: float = 0.0) -> None:
        super().__init__()
        self.embedding = _embedding(vocab_size, embed_size)
        self.rnn = _rnn(kind, self.embedding.embedding_dim, num_hiddens, num_layers, dropout)

    def forward(self, src: torch.Tensor, src_valid_len: torch.Tensor | None = None) -> tuple[torch.Tensor, State]:
        # As the book, the encoder reads the padding too (src_valid_len is for attention, later).
        embs = self.embedding(src.T)  # (steps, batch, embed)
        return self.rnn(embs)


class Seq2SeqDecoder(nn.Module):
    """Target tokens (batch, steps) and a state -> logits (batch, steps, vocab) and the new state.

    The state is ``(context, rnn_state)``: the context (batch, hiddens) stays the encoder's final
    top-layer hidden state for the whole sequence, at training and at prediction time alike."""

    def __init__(self, kind: str, vocab_size: int, embed_size: int, num_hiddens: int, num_layers: int,
                 dropout: float = 0.0) -> None:
        super().__init__()
        self.embedding = _embedding(vocab_size, embed_size)
        self.rnn = _rnn(kind, self.embedding.embedding_dim + num_hiddens, num_hiddens, num_layers, dropout)
        self.dense = nn.Linear(num_hiddens, vocab_size)

    def init_state(self, enc_outputs: tuple[torch.Tensor, State]) -> tuple[torch.Tensor, State]:
        _, enc_state = enc_outputs
        return top_hidden(enc_state), enc_state

    def forward(self, tgt: torch.Tensor, state: tuple[torch.Tensor, State]) -> tuple[torch.Tensor, tuple]:
        context, rnn_state = state
        embs = self.embedding(tgt.T)  # (steps, batch, embed)
        ctx = context.unsqueeze(0).expand(embs.shape[0], -1, -1)  # (steps, batch, hiddens)
        outputs, rnn_state = self.rnn(torch.cat((embs, ctx), -1), rnn_state)
        return self.dense(outputs).transpose(0, 1), (context, rnn_state)  # (batch, steps, vocab)


class EncoderDecoder(nn.Module):
    """``forward(src, src_valid_len, dec_input) -> logits (batch, steps, tgt_vocab)`` (teacher forcing:
    ``dec_input`` is ``<bos>`` followed by the target shifted right)."""

    def __init__(self, encoder: Seq2SeqEncoder, decoder: Seq2SeqDecoder) -> None:
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder

    def begin(self, src: torch.Tensor, src_valid_len: torch.Tensor | None = None) -> tuple:
        """The decoder's initial state for a batch of sources."""
        return self.decoder.init_state(self.encoder(src, src_valid_len))

    def forward(self, src: torch.Tensor, src_valid_len: torch.Tensor | None, dec_input: torch.Tensor) -> torch.Tensor:
        logits, _ = self.decoder(dec_input, self.begin(src, src_valid_len))
        return logits


def xavier_init(module: nn.Module) -> None:
    """The book's ``init_seq2seq``: Xavier-uniform weights for Linear layers and recurrent layers."""
    if isinstance(module, nn.Linear):
        nn.init.xavier_uniform_(module.weight)
    if isinstance(module, (nn.RNN, nn.GRU, nn.LSTM)):
        for name, param in module.named_parameters():
            if "weight" in name:
                nn.init.xavier_uniform_(param)


def _check(kind: str, impl: str = "torch") -> None:
    if kind not in RNNS:
        raise ConfigError(f"model.kind = {kind!r} cannot be a seq2seq encoder-decoder; use gru or lstm (or rnn)")
    if impl != "torch":
        raise ConfigError("model.impl = 'scratch' is not available for seq2seq; use 'torch'")


def make_seq2seq(kind: str, src_vocab_size: int, tgt_vocab_size: int, embed_size: int, num_hiddens: int,
                 num_layers: int, dropout: float = 0.0) -> EncoderDecoder:
    _check(kind)
    model = EncoderDecoder(
        Seq2SeqEncoder(kind, src_vocab_size, embed_size, num_hiddens, num_layers, dropout),
        Seq2SeqDecoder(kind, tgt_vocab_size, embed_size, num_hiddens, num_layers, dropout),
    )
    model.apply(xavier_init)
    return model


def build_seq2seq(config, src_vocab_size: int, tgt_vocab_size: int) -> EncoderDecoder:
    """The encoder-decoder of an ExperimentConfig (or a bare ModelConfig), Xavier-initialised."""
    m: ModelConfig = getattr(config, "model", config)
    _check(m.kind, m.impl)
    return make_seq2seq(m.kind, src_vocab_size, tgt_vocab_size, m.embed_size, m.num_hiddens, m.num_layers,
                        m.dropout)


def shape_report(vocab_size: int = 10, embed_size: int = 8, num_hiddens: int = 16, num_layers: int = 2,
                 batch_size: int = 4, num_steps: int = 7, kind: str = "gru") -> list[tuple[str, tuple[int, ...]]]:
    """The tensor shapes at every stage of a tiny forward pass (the same vocabulary on both sides).

    The book's example (vocab 10, embed 8, hidden 16, 2 layers, batch 4, 7 steps) gives encoder outputs
    (7, 4, 16), encoder state (2, 4, 16) and decoder logits (4, 7, 10)."""
    model = make_seq2seq(kind, vocab_size, vocab_size, embed_size, num_hiddens, num_layers).eval()
    enc, dec = model.encoder, model.decoder
    X = torch.zeros((batch_size, num_steps), dtype=torch.long)
    rows: list[tuple[str, tuple[int, ...]]] = [("source tokens (batch, steps)", tuple(X.shape))]
    with torch.no_grad():
        embs = enc.embedding(X.T)
        rows.append(("encoder embeddings (steps, batch, embed)", tuple(embs.shape)))
        enc_outputs, enc_state = enc.rnn(embs)
        rows.append(("encoder outputs (steps, batch, hiddens)", tuple(enc_outputs.shape)))
        if isinstance(enc_state, tuple):
            rows.append(("encoder state (layers, batch, hiddens)", tuple(enc_state[0].shape)))
            rows.append(("encoder memory cell (layers, batch, hiddens)", tuple(enc_state[1].shape)))
        else:
            rows.append(("encoder state (layers, batch, hiddens)", tuple(enc_state.shape)))
        context, rnn_state = dec.init_state((enc_outputs, enc_state))
        rows.append(("context: top-layer final state (batch, hiddens)", tuple(context.shape)))
        rows.append(("target tokens (batch, steps)", tuple(X.shape)))
        dembs = dec.embedding(X.T)
        rows.append(("decoder embeddings (steps, batch, embed)", tuple(dembs.shape)))
        inputs = torch.cat((dembs, context.unsqueeze(0).expand(dembs.shape[0], -1, -1)), -1)
        rows.append(("decoder inputs: embedding + context (steps, batch, embed + hiddens)", tuple(inputs.shape)))
        dec_outputs, dec_state = dec.rnn(inputs, rnn_state)
        rows.append(("decoder outputs (steps, batch, hiddens)", tuple(dec_outputs.shape)))
        h = dec_state[0] if isinstance(dec_state, tuple) else dec_state
        rows.append(("decoder state (layers, batch, hiddens)", tuple(h.shape)))
        logits = dec.dense(dec_outputs).transpose(0, 1)
        rows.append(("logits (batch, steps, vocab)", tuple(logits.shape)))
    return rows
