"""The shape of every tensor through the RNN encoder-decoder, measured by running the real modules
(forward hooks on ``rnntui.models.seq2seq.EncoderDecoder``), with what each dimension means.

The seed's example (vocab 10, embed 8, hidden 16, 2 GRU layers, batch 4, 7 steps) gives encoder outputs
(7, 4, 16): steps x batch x hiddens, and encoder state (2, 4, 16): layers x batch x hiddens. Each
dimension's meaning is the modules' layout (time-major inside the recurrent layers); ``Dim.expected`` is
the setting it should equal, so a label that does not fit the measured size shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from rnntui.errors import ConfigError

SEED_EXAMPLE = {"kind": "gru", "vocab_size": 10, "embed_size": 8, "num_hiddens": 16, "num_layers": 2,
                "batch_size": 4, "num_steps": 7}

# per tensor: label, dimensions as (meaning, setting), what it is; in the order of the forward pass
_ROWS = [
    ("source_tokens", "source tokens", [("batch", "batch_size"), ("steps", "num_steps")],
     "token indices, batch-major as the data loader gives them"),
    ("encoder_embeddings", "encoder embeddings", [("steps", "num_steps"), ("batch", "batch_size"),
                                                   ("embed", "src_embed")],
     "the embedding of every source token, time-major (the encoder transposes X)"),
    ("encoder_outputs", "encoder outputs", [("steps", "num_steps"), ("batch", "batch_size"),
                                             ("hiddens", "num_hiddens")],
     "H^(L)_1 .. H^(L)_T: the top layer's hidden state at every step"),
    ("encoder_state", "encoder state", [("layers", "num_layers"), ("batch", "batch_size"),
                                         ("hiddens", "num_hiddens")],
     "H^(1)_T .. H^(L)_T: every layer's hidden state at the last step"),
    ("encoder_memory", "encoder memory cell", [("layers", "num_layers"), ("batch", "batch_size"),
                                                ("hiddens", "num_hiddens")],
     "C^(1)_T .. C^(L)_T: every layer's memory cell at the last step (LSTM)"),
    ("context", "context", [("batch", "batch_size"), ("hiddens", "num_hiddens")],
     "the encoder's top-layer final state H^(L)_T, read by the decoder at every step"),
    ("decoder_initial_state", "decoder initial state", [("layers", "num_layers"), ("batch", "batch_size"),
                                                         ("hiddens", "num_hiddens")],
     "the decoder starts from the encoder's final state"),
    ("decoder_input_tokens", "decoder input tokens", [("batch", "batch_size"), ("steps", "tgt_steps")],
     "<bos> and the target shifted right (teacher forcing)"),
    ("decoder_embeddings", "decoder embeddings", [("steps", "tgt_steps"), ("batch", "batch_size"),
                                                   ("embed", "tgt_embed")],
     "the embedding of every decoder input token, time-major"),
    ("decoder_input", "decoder input", [("steps", "tgt_steps"), ("batch", "batch_size"),
                                         ("embed + hiddens", "decoder_features")],
     "embedding and context concatenated at every step: what the decoder's RNN reads"),
    ("decoder_outputs", "decoder outputs", [("steps", "tgt_steps"), ("batch", "batch_size"),
                                             ("hiddens", "num_hiddens")],
     "the decoder's top-layer hidden state at every step"),
    ("decoder_state", "decoder state", [("layers", "num_layers"), ("batch", "batch_size"),
                                         ("hiddens", "num_hiddens")],
     "every decoder layer's hidden state at the last step"),
    ("decoder_memory", "decoder memory cell", [("layers", "num_layers"), ("batch", "batch_size"),
                                                ("hiddens", "num_hiddens")],
     "every decoder layer's memory cell at the last step (LSTM)"),
    ("dense_outputs", "output layer", [("steps", "tgt_steps"), ("batch", "batch_size"), ("vocab", "tgt_vocab_size")],
     "a score for every target token at every step, time-major"),
    ("logits", "logits", [("batch", "batch_size"), ("steps", "tgt_steps"), ("vocab", "tgt_vocab_size")],
     "the scores transposed back to batch-major, for the loss"),
]


@dataclass(frozen=True)
class Dim:
    size: int  # measured
    meaning: str  # steps, batch, hiddens, layers, embed, vocab, embed + hiddens
    setting: str  # the setting it comes from, e.g. "num_hiddens"
    expected: int  # that setting's value


@dataclass(frozen=True)
class TensorShape:
    name: str  # a key: encoder_outputs, encoder_state, ...
    label: str
    shape: list[int]
    dims: list[Dim]
    note: str

    def describe(self) -> str:
        """E.g. "7 steps x 4 batch x 16 hiddens"."""
        return " x ".join(f"{d.size} {d.meaning}" for d in self.dims)


@dataclass(frozen=True)
class ShapeReport:
    settings: dict[str, int | str]  # kind, vocab sizes, embed_size, num_hiddens, num_layers, batch_size, steps
    rows: list[TensorShape]
    source: str  # what was measured: the seed's example, a preset or a checkpoint

    def shape(self, name: str) -> list[int]:
        for row in self.rows:
            if row.name == name:
                return row.shape
        raise KeyError(name)

    def shapes(self) -> dict[str, list[int]]:
        """{tensor name: shape list}, in the order of the forward pass."""
        return {row.name: row.shape for row in self.rows}


def measure(model, batch_size: int, num_steps: int, tgt_steps: int | None = None, source: str = "") -> ShapeReport:
    """Run an ``EncoderDecoder`` on a batch of (random) source and target tokens and record the shape of
    every tensor at the hooks' points: (batch_size, num_steps) sources, (batch_size, tgt_steps) targets."""
    from rnntui.models import evaluating

    for name, value in (("--batch-size", batch_size), ("--num-steps", num_steps)):
        if not isinstance(value, int) or value < 1:
            raise ConfigError(f"{name} must be an integer >= 1; got {value!r}")
    tgt_steps = num_steps if tgt_steps is None else tgt_steps
    enc, dec = model.encoder, model.decoder
    src_vocab, tgt_vocab = enc.embedding.num_embeddings, dec.dense.out_features
    rnn = enc.rnn
    kind = {"RNN": "rnn", "GRU": "gru", "LSTM": "lstm"}[type(rnn).__name__]
    settings: dict[str, int | str] = {
        "kind": kind, "src_vocab_size": src_vocab, "tgt_vocab_size": tgt_vocab, "num_hiddens": rnn.hidden_size,
        "num_layers": rnn.num_layers, "batch_size": batch_size, "num_steps": num_steps, "tgt_steps": tgt_steps,
        "src_embed": enc.embedding.embedding_dim, "tgt_embed": dec.embedding.embedding_dim,
        "decoder_features": dec.rnn.input_size,
    }
    seen: dict[str, torch.Size] = {}

    def state(prefix: str, value) -> None:
        if isinstance(value, tuple):
            seen[f"{prefix}_state"], seen[f"{prefix}_memory"] = value[0].shape, value[1].shape
        else:
            seen[f"{prefix}_state"] = value.shape

    def on_model(_, args):
        seen["source_tokens"], seen["decoder_input_tokens"] = args[0].shape, args[2].shape

    def on_decoder(_, args):
        context, rnn_state = args[1]
        seen["context"] = context.shape
        seen["decoder_initial_state"] = (rnn_state[0] if isinstance(rnn_state, tuple) else rnn_state).shape

    def on_encoder_rnn(_, args, out):
        seen["encoder_outputs"] = out[0].shape
        state("encoder", out[1])

    def on_decoder_rnn(_, args, out):
        seen["decoder_outputs"] = out[0].shape
        state("decoder", out[1])

    hooks = [
        model.register_forward_pre_hook(on_model),
        enc.embedding.register_forward_hook(lambda m, a, out: seen.__setitem__("encoder_embeddings", out.shape)),
        enc.rnn.register_forward_hook(on_encoder_rnn),
        dec.register_forward_pre_hook(on_decoder),
        dec.embedding.register_forward_hook(lambda m, a, out: seen.__setitem__("decoder_embeddings", out.shape)),
        dec.rnn.register_forward_pre_hook(lambda m, args: seen.__setitem__("decoder_input", args[0].shape)),
        dec.rnn.register_forward_hook(on_decoder_rnn),
        dec.dense.register_forward_hook(lambda m, a, out: seen.__setitem__("dense_outputs", out.shape)),
        model.register_forward_hook(lambda m, a, out: seen.__setitem__("logits", out.shape)),
    ]
    device = dec.dense.weight.device
    generator = torch.Generator().manual_seed(0)
    src = torch.randint(0, src_vocab, (batch_size, num_steps), generator=generator).to(device)
    dec_input = torch.randint(0, tgt_vocab, (batch_size, tgt_steps), generator=generator).to(device)
    try:
        with evaluating(model):
            model(src, None, dec_input)
    finally:
        for hook in hooks:
            hook.remove()
    rows = []
    for name, label, dims, note in _ROWS:
        if name not in seen:  # the memory cells exist for an LSTM only
            continue
        shape = list(seen[name])
        rows.append(TensorShape(name, label, shape, [
            Dim(size, meaning, setting, int(settings[setting])) for size, (meaning, setting) in zip(shape, dims)
        ], note))
    settings["embed_size"] = settings["src_embed"]
    return ShapeReport(settings, rows, source)


def example_shapes(kind: str = "gru", vocab_size: int = 10, embed_size: int = 8, num_hiddens: int = 16,
                   num_layers: int = 2, batch_size: int = 4, num_steps: int = 7) -> ShapeReport:
    """The seed's example (defaults), or it with some settings changed: the same vocabulary on both sides."""
    from rnntui.models.seq2seq import make_seq2seq

    values = {"vocab_size": vocab_size, "num_hiddens": num_hiddens, "num_layers": num_layers}
    for name, value in values.items():
        if not isinstance(value, int) or value < 1:
            raise ConfigError(f"--{name.replace('_', '-')} must be an integer >= 1; got {value!r}")
    if not isinstance(embed_size, int) or embed_size < 0:
        raise ConfigError(f"--embed-size must be an integer >= 0 (0: one-hot); got {embed_size!r}")
    if kind not in ("rnn", "gru", "lstm"):
        raise ConfigError(f"--kind must be rnn, gru or lstm; got {kind!r}")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = make_seq2seq(kind, vocab_size, vocab_size, embed_size, num_hiddens, num_layers)
    seed = {"kind": kind, "vocab_size": vocab_size, "embed_size": embed_size, "num_hiddens": num_hiddens,
            "num_layers": num_layers, "batch_size": batch_size, "num_steps": num_steps} == SEED_EXAMPLE
    return measure(model, batch_size, num_steps, source="the seed's example" if seed else "the seed's example, changed")


def checkpoint_shapes(path: str | Path, batch_size: int | None = None, num_steps: int | None = None) -> ShapeReport:
    """The shapes of a seq2seq checkpoint's model, for its own batch size and num_steps unless given."""
    from rnntui.training.checkpoint import load_checkpoint

    ckpt = load_checkpoint(path)
    if ckpt.config.task != "seq2seq":
        raise ConfigError(f"{path} holds a {ckpt.config.task} model; shapes shows an encoder-decoder (seq2seq)")
    p = ckpt.config.pairs
    return measure(ckpt.model, batch_size or p.batch_size, num_steps or p.num_steps, source=f"checkpoint {path}")


def config_shapes(config, src_vocab_size: int | None = None, tgt_vocab_size: int | None = None,
                  batch_size: int | None = None, num_steps: int | None = None, data_dir=None) -> ShapeReport:
    """The shapes of a seq2seq config's model; the vocabulary sizes come from its data unless given."""
    from rnntui.models.seq2seq import build_seq2seq

    if config.task != "seq2seq":
        raise ConfigError(f"{config.name} is a {config.task} experiment; shapes shows an encoder-decoder "
                          "(seq2seq-gru, seq2seq-gru-big)")
    if src_vocab_size is None or tgt_vocab_size is None:
        from rnntui.data.translation import load_pairs

        data = load_pairs(config.pairs, data_dir)
        src_vocab_size = src_vocab_size or len(data.src_vocab)
        tgt_vocab_size = tgt_vocab_size or len(data.tgt_vocab)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.train.seed)
        model = build_seq2seq(config, src_vocab_size, tgt_vocab_size)
    p = config.pairs
    return measure(model, batch_size or p.batch_size, num_steps or p.num_steps, source=f"preset {config.name}")
