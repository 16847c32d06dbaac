"""Gradients through time, measured on a language model: how dL_T/dH_t shrinks (or grows) with the
distance T - t, what clipping and truncated backpropagation do to a gradient, and which earlier inputs
a prediction depends on (saliency, Distill's "connectivity").

The analyses take a ``LanguageModel`` (``load_lm``: a checkpoint's model, or a preset's untrained one at
its initialisation under the preset's seed) and token ids, run in eval mode (no dropout) and return
frozen dataclasses of plain numbers and strings. The model is never changed: gradients are taken with
``torch.autograd.grad`` (its ``.grad`` stay as they are) and the W_hh knob scales a copy.

To make every H_t a node of the graph, the recurrent module (scratch cells or torch.nn) is unrolled one
step at a time with its own weights (``_unroll``); ``GradientFlow.unroll_error`` says how far its logits
are from the module's own forward over the whole window. For a stack of layers, H_t is the top layer's.
"""

from __future__ import annotations

import contextlib
import copy
import math
import statistics
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

from rnntui.config import ExperimentConfig
from rnntui.data.vocab import Vocab
from rnntui.errors import ConfigError, DataError
from rnntui.inspect import Cancelled

REFERENCE_FACTOR = 0.5  # the seed's example: every step multiplies the gradient by about 0.5
DEFAULT_TAUS = (5, 10, 35)

Progress = Callable[[int, int], None]  # progress(done, total)
ShouldStop = Callable[[], bool]


def _check_stop(should_stop: ShouldStop | None) -> None:
    if should_stop is not None and should_stop():
        raise Cancelled("stopped by request")


# ---------------------------------------------------------------------------------------------------
# The model to inspect and its text


@dataclass
class LanguageModel:
    """A language model to inspect (a handle for the caller; the analyses return plain data).

    ``model`` is an ``RNNLM``; ``config`` (optional) says how text is preprocessed and where the corpus is."""

    model: nn.Module
    vocab: Vocab
    token: str = "char"
    config: ExperimentConfig | None = None
    label: str = ""
    trained: bool = True
    corpus: object = field(default=None, repr=False)  # the LMCorpus, once loaded

    @property
    def kind(self) -> str:
        return self.model.config.kind

    @property
    def impl(self) -> str:
        return self.model.config.impl

    @property
    def num_layers(self) -> int:
        return self.model.config.num_layers

    @property
    def bidirectional(self) -> bool:
        return bool(self.model.config.bidirectional)

    def encode(self, text: str) -> list[int]:
        """Token ids of a text, preprocessed as the model's corpus was (unknown tokens become <unk>)."""
        from rnntui.data.corpus import preprocess, tokenize

        mode = self.config.data.preprocess if self.config is not None else "d2l"
        tokens = tokenize(preprocess(text, mode), self.token)
        if not tokens:
            raise DataError("the text is empty after preprocessing (the model reads letters and spaces); give some words")
        return self.vocab[tokens]

    def unknown(self, text: str) -> list[str]:
        """The distinct tokens of a text that the vocabulary does not have (read as <unk>)."""
        from rnntui.data.corpus import preprocess, tokenize

        mode = self.config.data.preprocess if self.config is not None else "d2l"
        return list(dict.fromkeys(t for t in tokenize(preprocess(text, mode), self.token) if t not in self.vocab))

    def tokens(self, ids: Sequence[int]) -> list[str]:
        return self.vocab.to_tokens(list(ids))

    def load_corpus(self, data_dir: str | Path | None = None):
        """The model's corpus (read once): an ``LMCorpus``; a DataError when its text is not there."""
        if self.corpus is None:
            if self.config is None:
                raise ConfigError("this model has no corpus settings; give a text instead")
            from rnntui.data.corpus import load_lm_corpus

            self.corpus = load_lm_corpus(self.config.data, data_dir)
        return self.corpus

    def window(self, num_steps: int, offset: int | None = None, part: str = "val",
               data_dir: str | Path | None = None) -> list[int]:
        """``num_steps + 1`` consecutive token ids of the corpus (inputs, then the token the last step
        predicts), from ``offset`` in the held-out part (``part="val"``, default) or the training part."""
        corpus = self.load_corpus(data_dir)
        _at_least("--num-steps", num_steps, 1)
        num_train = len(corpus.train_ids)
        tokens = corpus.tokens[num_train:] if part == "val" else corpus.tokens[:num_train]
        offset = 0 if offset is None else offset
        if offset < 0 or offset + num_steps + 1 > len(tokens):
            raise ConfigError(f"the {'held-out' if part == 'val' else 'training'} part has {len(tokens):,} tokens; "
                              f"a window of {num_steps} steps from offset {offset} does not fit")
        return self.vocab[tokens[offset : offset + num_steps + 1]]

    def batch(self, batch_size: int, num_steps: int, data_dir: str | Path | None = None) -> list[list[int]]:
        """The first minibatch of the training part as sequential partitioning cuts it (offset 0): rows of
        ``num_steps + 1`` ids, X = row[:-1] and Y = row[1:]."""
        from rnntui.data.batches import seq_data_iter_sequential

        corpus = self.load_corpus(data_dir)
        _at_least("--batch-size", batch_size, 1)
        _at_least("--num-steps", num_steps, 1)
        ids = self.vocab[corpus.tokens[: len(corpus.train_ids)]]
        if (len(ids) - 1) // batch_size < num_steps:
            raise ConfigError(f"the training part ({len(ids):,} tokens) is too short for {batch_size} rows of "
                              f"{num_steps} steps")
        X, Y = next(seq_data_iter_sequential(torch.tensor(ids), batch_size, num_steps, offset=0))
        return torch.cat([X, Y[:, -1:]], 1).tolist()


def load_lm(checkpoint: str | Path | None = None, preset: str | None = None, config: ExperimentConfig | None = None,
            data_dir: str | Path | None = None) -> LanguageModel:
    """A checkpoint's language model, or the untrained model of a preset (or config) exactly as
    ``rnntui train`` initialises it (the same seed); a preset needs its corpus for the vocabulary."""
    if sum(x is not None for x in (checkpoint, preset, config)) != 1:
        raise ConfigError("give one of --checkpoint PATH or --preset NAME")
    if checkpoint is not None:
        from rnntui.training.checkpoint import load_checkpoint

        ckpt = load_checkpoint(checkpoint)
        if ckpt.config.task != "lm":
            raise ConfigError(f"{checkpoint} holds a {ckpt.config.task} model; this needs a language model "
                              "(rnn, gru, lstm presets)")
        epoch = ckpt.info.get("epoch")
        label = f"{ckpt.config.name}, {checkpoint}" + (f" (epoch {epoch})" if epoch is not None else "")
        return LanguageModel(ckpt.model.eval(), ckpt.vocab, ckpt.token, ckpt.config, label, trained=True)
    if preset is not None:
        from rnntui.presets import load_preset

        config = load_preset(preset)
    assert config is not None
    if config.task != "lm":
        raise ConfigError(f"{config.name} is a {config.task} experiment; this needs a language model "
                          "(rnn, gru, lstm presets)")
    from rnntui.data.corpus import load_lm_corpus
    from rnntui.training.checkpoint import build_model

    corpus = load_lm_corpus(config.data, data_dir)
    with torch.random.fork_rng(devices=[]):  # the caller's random state stays as it was
        torch.manual_seed(config.train.seed)  # as rnntui.training.experiment.prepare seeds it
        model = build_model(config, {"vocab": corpus.vocab})
    label = f"{config.name}, untrained (initialised with seed {config.train.seed})"
    return LanguageModel(model.eval(), corpus.vocab, corpus.token, config, label, trained=False, corpus=corpus)


# ---------------------------------------------------------------------------------------------------
# Running the network


@contextlib.contextmanager
def _analysing(model: nn.Module) -> Iterator[None]:
    """Eval mode (no dropout), autograd on and one intra-op thread; the previous settings come back after.

    The analyses run a batch of one step by step, where more threads only add synchronisation: 2,000
    steps of torch.nn.LSTM(28, 256) took 0.11 s on one thread and 13 s on two busy cores."""
    was_training, threads = model.training, torch.get_num_threads()
    model.eval()
    torch.set_num_threads(1)
    try:
        with torch.enable_grad():
            yield
    finally:
        torch.set_num_threads(threads)
        model.train(was_training)


def _device(model: nn.Module) -> torch.device:
    return model.output.weight.device


def _inputs(model: nn.Module, X: torch.Tensor) -> torch.Tensor:
    """What the recurrent module reads: tokens (batch, steps) -> (steps, batch, inputs), one-hot or embedded."""
    X = X.T  # (steps, batch)
    if model.embedding is not None:
        return model.embedding(X)
    return F.one_hot(X, model.vocab_size).to(model.output.weight.dtype)


def _hidden(state):
    """H of a state: (layers, batch, hiddens); an LSTM's state is (H, C)."""
    return state[0] if isinstance(state, tuple) else state


def _unroll(model: nn.Module, inputs: torch.Tensor, weights: Callable[[int], dict] | None = None,
            should_stop: ShouldStop | None = None) -> tuple[list, torch.Tensor]:
    """The recurrent module run one step at a time with its own weights, so that every state is a node.

    Returns the state after each step (t = 1..T) and the logits of each step, computed from the top
    layer's H_t: (steps, batch, vocab). ``weights(t)`` gives parameter tensors to use at step t (through
    ``torch.func.functional_call``)."""
    states, logits, state = [], [], None
    for t in range(inputs.shape[0]):
        if t % 64 == 0:
            _check_stop(should_stop)
        x = inputs[t : t + 1]  # (1, batch, inputs)
        if weights is None:
            _, state = model.rnn(x, state)
        else:
            _, state = functional_call(model.rnn, weights(t), (x, state))
        states.append(state)
        logits.append(model.output(_hidden(state)[-1]))
    return states, torch.stack(logits)


def _check_unidirectional(lm: LanguageModel, what: str) -> None:
    if lm.bidirectional:
        raise ConfigError(f"{what} needs a unidirectional model: a bidirectional one also reads the text backwards, "
                          "so there is no single H_t to follow through time (choose an rnn, gru or lstm model)")


def _ids(ids: Sequence[int], vocab_size: int, least: int = 2) -> list[int]:
    ids = [int(i) for i in ids]
    if len(ids) < least:
        raise DataError(f"the text has {len(ids)} token(s); it needs at least {least}: the inputs and the token "
                        "the last step predicts")
    if any(i < 0 or i >= vocab_size for i in ids):
        raise DataError(f"token ids must be in [0, {vocab_size}); encode the text with the model's vocabulary")
    return ids


def _at_least(name: str, value: float, low: float) -> None:
    if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= low):
        raise ConfigError(f"{name} must be >= {low:g}; got {value!r}")


def _recurrent_names(model: nn.Module, layer: int) -> list[str]:
    """The names (in ``model.rnn``) of one layer's recurrent weights: W_hh, or all W_h* of a gated cell."""
    from rnntui.models.scratch import ScratchRNN

    rnn = model.rnn
    if isinstance(rnn, ScratchRNN):
        return [f"layers.{layer}.{name}" for name, _ in rnn.layers[layer].named_parameters() if name.startswith("W_h")]
    names = [f"weight_hh_l{layer}"] + ([f"weight_hh_l{layer}_reverse"] if rnn.bidirectional else [])
    return names


def _W_hh(model: nn.Module, layer: int) -> torch.Tensor:
    """An RNN layer's W_hh as a matrix (its eigenvalues do not depend on the layout)."""
    return dict(model.rnn.named_parameters())[_recurrent_names(model, layer)[0]]


def spectral_radius(model: nn.Module, layer: int = -1) -> float:
    """max |eigenvalue| of an RNN layer's W_hh (Pascanu et al. 2013: below 1, with tanh, gradients vanish)."""
    layer = layer % model.config.num_layers
    W = _W_hh(model, layer).detach().double().cpu()
    return float(torch.linalg.eigvals(W).abs().max())


def scaled_copy(model: nn.Module, scale: float) -> nn.Module:
    """A copy of the model with every recurrent weight matrix multiplied by ``scale`` (the original is untouched)."""
    if not (isinstance(scale, (int, float)) and math.isfinite(scale) and scale > 0):
        raise ConfigError(f"--scale must be a number > 0 (e.g. 0.25 to 4); got {scale!r}")
    twin = copy.deepcopy(model)
    params = dict(twin.rnn.named_parameters())
    with torch.no_grad():
        for layer in range(twin.config.num_layers):
            for name in _recurrent_names(twin, layer):
                params[name].mul_(scale)
    return twin


# ---------------------------------------------------------------------------------------------------
# 1. Gradient flow through time


@dataclass(frozen=True)
class GradientFlow:
    """||dL_T/dH_t|| for every step t of a window, oldest first (distance T - t from T - 1 down to 0)."""

    tokens: list[str]  # the inputs x_1 .. x_T
    target: str  # the token that the last step predicts: L_T is its cross-entropy
    loss: float  # L_T (nats)
    norms: list[float]  # ||dL_T/dH_t||, t = 1..T, of the top layer's H_t
    distances: list[int]  # T - t, aligned with norms
    layer_norms: list[list[float]]  # [layer][t]: the same for every layer's H_t
    cell_norms: list[float] | None  # LSTM: ||dL_T/dC_t|| (top layer; 0 at t = T, where L_T reads only H_T)
    reference: list[float]  # the seed's 0.5^(T - t), times the norm at distance 0
    per_step_factor: float  # exp(slope) of log ||dL_T/dH_t|| against T - t, least squares: < 1 vanishes
    spectral_radius: float | None  # RNN: max |eigenvalue| of the top layer's W_hh (after the scale)
    spectral_radii: list[float] | None  # RNN: per layer
    scale: float  # the factor applied to the recurrent weights (on a copy)
    kind: str
    impl: str
    num_layers: int
    layer: int  # the layer whose H_t is in norms (the top one)
    unroll_error: float  # max |logit| difference: step-by-step unroll against the module's own forward

    def norm_at(self, distance: int) -> float:
        """||dL_T/dH_t|| at ``distance`` = T - t."""
        return self.norms[len(self.norms) - 1 - distance]


def fitted_factor(norms: Sequence[float]) -> float:
    """The per-step factor f of norms ~ c f^(T - t), by least squares on the logarithms (norms oldest first)."""
    points = [(len(norms) - 1 - i, math.log(n)) for i, n in enumerate(norms) if n > 0 and math.isfinite(n)]
    if len(points) < 2:
        return math.nan
    slope, _ = statistics.linear_regression([d for d, _ in points], [y for _, y in points])
    return math.exp(slope)


def gradient_flow(lm: LanguageModel, ids: Sequence[int], scale: float = 1.0,
                  should_stop: ShouldStop | None = None) -> GradientFlow:
    """dL_T/dH_t over a window: ``ids`` are the inputs x_1..x_T followed by the token x_{T+1} that L_T scores.
    ``scale`` multiplies the recurrent weights of a copy; ``should_stop()`` (checked as it unrolls) raises
    Cancelled."""
    _check_unidirectional(lm, "gradient flow through time")
    ids = _ids(ids, lm.model.vocab_size)
    model = lm.model if scale == 1 else scaled_copy(lm.model, scale)
    device = _device(model)
    X = torch.tensor([ids[:-1]], device=device)  # (1, steps)
    y = torch.tensor([ids[-1]], device=device)
    with _analysing(model):
        inputs = _inputs(model, X)
        states, logits = _unroll(model, inputs, should_stop=should_stop)
        loss = F.cross_entropy(logits[-1], y)
        lstm = isinstance(states[0], tuple)
        nodes = [_hidden(s) for s in states] + ([s[1] for s in states] if lstm else [])
        grads = torch.autograd.grad(loss, nodes, allow_unused=True)
        grads = [torch.zeros_like(n) if g is None else g for n, g in zip(nodes, grads)]
        T = len(states)
        # in float64: the squares of a vanished float32 gradient (1e-23) would underflow to 0
        per_layer = torch.stack([torch.linalg.vector_norm(g.double(), dim=(1, 2)) for g in grads[:T]]).T
        cell = torch.stack([torch.linalg.vector_norm(g[-1].double()) for g in grads[T:]]) if lstm else None
        with torch.no_grad():
            outputs, _ = model.rnn(inputs)
            error = (model.output(outputs) - logits).abs().max()
    layer_norms = per_layer.tolist()
    norms = layer_norms[-1]
    radii = [spectral_radius(model, layer) for layer in range(lm.num_layers)] if lm.kind == "rnn" else None
    return GradientFlow(
        tokens=lm.tokens(ids[:-1]), target=lm.tokens(ids[-1:])[0], loss=loss.item(), norms=norms,
        distances=list(range(T - 1, -1, -1)), layer_norms=layer_norms,
        cell_norms=cell.tolist() if cell is not None else None,
        reference=[norms[-1] * REFERENCE_FACTOR ** d for d in range(T - 1, -1, -1)],
        per_step_factor=fitted_factor(norms), spectral_radius=radii[-1] if radii else None, spectral_radii=radii,
        scale=float(scale), kind=lm.kind, impl=lm.impl, num_layers=lm.num_layers, layer=lm.num_layers - 1,
        unroll_error=error.item(),
    )


# ---------------------------------------------------------------------------------------------------
# 2. Clipping


@dataclass(frozen=True)
class ClipEffect:
    """One minibatch's gradient before and after clipping by global norm (as the trainer clips)."""

    loss: float  # mean cross-entropy over the batch (nats per token)
    num_tokens: int
    threshold: float
    lr: float
    norm_before: float
    norm_after: float
    clipped: bool
    factor: float  # norm_after / norm_before
    cosine: float  # between the gradients before and after: 1 means the direction is kept
    step_before: float  # lr * norm_before: the length of the SGD step without clipping
    step_after: float  # lr * norm_after: with it
    groups_before: dict[str, float]  # group_grad_norms before clipping
    groups_after: dict[str, float]


def clip_effect(lm: LanguageModel, rows: Sequence[Sequence[int]], threshold: float, lr: float = 1.0) -> ClipEffect:
    """Clip one batch's gradient at ``threshold``: rows of ids, X = row[:-1], Y = row[1:] (a fresh state)."""
    if not (isinstance(threshold, (int, float)) and math.isfinite(threshold) and threshold > 0):
        raise ConfigError(f"--clip must be a number > 0; got {threshold!r}")
    if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
        raise ConfigError(f"--lr must be a number > 0; got {lr!r}")
    rows = [_ids(r, lm.model.vocab_size) for r in rows]
    if not rows or len({len(r) for r in rows}) != 1:
        raise DataError("a batch needs at least one row, all rows of the same length")
    model = copy.deepcopy(lm.model)  # clipping writes .grad; the caller's model keeps its own
    device = _device(model)
    batch = torch.tensor(rows, device=device)
    X, Y = batch[:, :-1], batch[:, 1:]
    params = [p for p in model.parameters() if p.requires_grad]
    with _analysing(model):
        for p in params:
            p.grad = None
        logits, _ = model(X)  # (steps, batch, vocab)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), Y.T.reshape(-1))
        loss.backward()
    before = [p.grad.detach().clone() for p in params if p.grad is not None]
    groups_before = group_grad_norms(model)
    norm_before = torch.nn.utils.clip_grad_norm_(params, threshold)  # the trainer's own call
    after = [p.grad.detach() for p in params if p.grad is not None]
    groups_after = group_grad_norms(model)
    with torch.no_grad():
        norm_after = torch.nn.utils.get_total_norm(after)
        # in float64: float32 norms of 10^5 numbers are off by ~1e-6, the size of what the cosine shows
        a, b = torch.cat([g.double().reshape(-1) for g in before]), torch.cat([g.double().reshape(-1) for g in after])
        cosine = a @ b / (torch.linalg.vector_norm(a) * torch.linalg.vector_norm(b))
    nb, na = norm_before.item(), norm_after.item()
    return ClipEffect(
        loss=loss.item(), num_tokens=Y.numel(), threshold=float(threshold), lr=float(lr), norm_before=nb,
        norm_after=na, clipped=nb > threshold, factor=na / nb if nb > 0 else 1.0, cosine=cosine.item(),
        step_before=lr * nb, step_after=lr * na, groups_before=groups_before, groups_after=groups_after,
    )


# ---------------------------------------------------------------------------------------------------
# 3. Truncated backpropagation through time


@dataclass(frozen=True)
class Truncation:
    """dL/dW_hh by full backpropagation over a window against backpropagation truncated at tau steps.

    The full gradient is a sum over time steps: ``contributions[t]`` is the norm of the term of step t (the
    gradient through the W_hh that step t used). With ``loss = "last"`` (L_T, the default) truncation at
    tau keeps the terms of the last tau steps and drops the others; with ``loss = "mean"`` (the training
    loss, the mean of l_1..l_T) every term l_s keeps its last tau steps (the sum is cut at tau, d2l 9.7)."""

    tokens: list[str]
    loss_kind: str  # "last" or "mean"
    loss: float
    layer: int
    parameters: list[str]  # the recurrent weights measured (their gradients taken together)
    contributions: list[float]  # per step t = 1..T, oldest first; they add up (as vectors) to the full gradient
    full_norm: float
    taus: list[int]
    truncated_norms: list[float]  # per tau
    relative_differences: list[float]  # ||g_tau - g|| / ||g|| per tau
    cosines: list[float]  # cos(g_tau, g) per tau
    dropped_shares: list[float] | None  # "last": the dropped terms' share of the sum of all contribution norms
    largest_dropped: list[float] | None  # "last": the largest dropped term's norm (0 when nothing is dropped)


def truncation(lm: LanguageModel, ids: Sequence[int], taus: Sequence[int] = DEFAULT_TAUS, loss: str = "last",
               layer: int | None = None, progress: Progress | None = None,
               should_stop: ShouldStop | None = None) -> Truncation:
    """Full against truncated dL/dW_hh of one layer (default the top one) over a window of ids (inputs, then
    the last target). "mean" runs one backward pass per time step, reported by ``progress(done, total)``;
    ``should_stop()`` raises Cancelled."""
    _check_unidirectional(lm, "truncated backpropagation through time")
    if loss not in ("last", "mean"):
        raise ConfigError(f"--loss must be last or mean; got {loss!r}")
    taus = [int(t) for t in taus]
    if not taus or any(t < 1 for t in taus):
        raise ConfigError(f"every --tau must be an integer >= 1; got {taus}")
    ids = _ids(ids, lm.model.vocab_size)
    model = lm.model
    layer = lm.num_layers - 1 if layer is None else layer
    if not 0 <= layer < lm.num_layers:
        raise ConfigError(f"--layer must be between 0 and {lm.num_layers - 1}; got {layer}")
    names = _recurrent_names(model, layer)
    params = dict(model.rnn.named_parameters())
    device = _device(model)
    X = torch.tensor([ids[:-1]], device=device)
    Y = torch.tensor(ids[1:], device=device)
    T = X.shape[1]
    full = {n: torch.zeros_like(params[n]) for n in names}
    kept = {tau: {n: torch.zeros_like(params[n]) for n in names} for tau in taus}
    contrib_sq = [torch.zeros((), device=device, dtype=torch.float64) for _ in range(T)]
    phase = {"s": None}  # None: the full backward; s: the backward of l_s alone ("mean")

    def hook(t: int, name: str):
        def record(grad: torch.Tensor) -> None:
            s = phase["s"]
            if s is None:
                full[name] += grad
                contrib_sq[t] += grad.double().square().sum()
                if loss == "last":
                    for tau in taus:
                        if t >= T - tau:
                            kept[tau][name] += grad
            else:
                for tau in taus:
                    if s - t < tau:
                        kept[tau][name] += grad
        return record

    def weights(t: int) -> dict[str, torch.Tensor]:
        step = {}
        for name in names:
            view = params[name].view_as(params[name])  # a node of its own for step t, no copy
            view.register_hook(hook(t, name))
            step[name] = view
        return step

    with _analysing(model):
        _, logits = _unroll(model, _inputs(model, X), weights, should_stop)
        losses = F.cross_entropy(logits[:, 0], Y, reduction="none")  # (steps,)
        objective = losses[-1] if loss == "last" else losses.mean()
        torch.autograd.grad(objective, [params[n] for n in names], retain_graph=loss == "mean")
        if loss == "mean":
            for s in range(T):
                _check_stop(should_stop)
                phase["s"] = s
                torch.autograd.grad(losses[s] / T, [params[n] for n in names], retain_graph=s < T - 1)
                if progress is not None:
                    progress(s + 1, T)

    def flat(grads: dict[str, torch.Tensor]) -> torch.Tensor:
        return torch.cat([grads[n].reshape(-1) for n in names]).double()

    g = flat(full)
    g_norm = torch.linalg.vector_norm(g)
    contributions = torch.stack(contrib_sq).sqrt()
    truncated, rel, cos = [], [], []
    for tau in taus:
        g_tau = flat(kept[tau])
        n_tau = torch.linalg.vector_norm(g_tau)
        truncated.append(n_tau)
        rel.append(torch.linalg.vector_norm(g_tau - g) / g_norm)
        cos.append(g_tau @ g / (n_tau * g_norm))
    dropped_shares = largest = None
    if loss == "last":
        total = contributions.sum()
        dropped_shares = [(contributions[: max(T - tau, 0)].sum() / total).item() for tau in taus]
        largest = [contributions[: T - tau].max().item() if tau < T else 0.0 for tau in taus]
    objective_value = losses[-1] if loss == "last" else losses.mean()
    return Truncation(
        tokens=lm.tokens(ids[:-1]), loss_kind=loss, loss=objective_value.item(), layer=layer, parameters=names,
        contributions=contributions.tolist(), full_norm=g_norm.item(), taus=taus,
        truncated_norms=torch.stack(truncated).tolist(), relative_differences=torch.stack(rel).tolist(),
        cosines=torch.stack(cos).tolist(), dropped_shares=dropped_shares, largest_dropped=largest,
    )


# ---------------------------------------------------------------------------------------------------
# 4. Saliency


@dataclass(frozen=True)
class Saliency:
    """How much the log-probability of the token at ``position`` depends on every input of the text."""

    tokens: list[str]  # the whole text
    position: int  # index (into tokens) of the token whose log-probability is differentiated
    target: str
    log_prob: float  # log P(tokens[position] | what the model read)
    wrt: str  # "one-hot" or "embedding": the input vectors differentiated against
    norms: list[float]  # ||d log P / d x_j|| for every position j of the text
    distances: list[int]  # position - j (1: the token just before)
    k: int
    mass_beyond_k: float  # share of the earlier positions' norm sum that lies more than k tokens back
    future_share: float  # share of the whole norm sum at positions >= position (0 for a causal model)


def saliency(lm: LanguageModel, ids: Sequence[int], position: int | None = None, k: int = 10) -> Saliency:
    """The gradient of log P(x_position) with respect to every input vector (one-hot or embedding) of the text.

    The whole text is read, so a bidirectional model shows how much it looks at the token it predicts."""
    ids = _ids(ids, lm.model.vocab_size)
    n = len(ids)
    position = n - 1 if position is None else position
    if not 1 <= position <= n - 1:
        raise ConfigError(f"--position must be between 1 and {n - 1} (the text has {n} tokens); got {position}")
    _at_least("-k", k, 0)
    model = lm.model
    X = torch.tensor([ids], device=_device(model))
    with _analysing(model):
        inputs = _inputs(model, X).detach().requires_grad_()  # (steps, 1, inputs)
        outputs, _ = model.rnn(inputs)
        log_prob = F.log_softmax(model.output(outputs[position - 1, 0]), -1)[ids[position]]
        (grad,) = torch.autograd.grad(log_prob, inputs)
    norms = torch.linalg.vector_norm(grad[:, 0].double(), dim=-1)
    earlier = norms[:position]
    distances = list(range(position, position - n, -1))
    far = sum(v for v, d in zip(earlier.tolist(), distances) if d > k)
    earlier_sum, later_sum = earlier.sum().item(), norms[position:].sum().item()
    total = earlier_sum + later_sum
    return Saliency(
        tokens=lm.tokens(ids), position=position, target=lm.tokens([ids[position]])[0], log_prob=log_prob.item(),
        wrt="embedding" if model.embedding is not None else "one-hot", norms=norms.tolist(), distances=distances,
        k=int(k), mass_beyond_k=far / earlier_sum if earlier_sum > 0 else 0.0,
        future_share=later_sum / total if total > 0 else 0.0,
    )


# ---------------------------------------------------------------------------------------------------
# 5. Per-group gradient norms (for the trainer, every N steps)


def _group(name: str) -> str:
    """The group of a parameter: "<module>.layer<k>.input|recurrent|bias" for recurrent layers, else its module."""
    parts = name.split(".")
    if "rnn" in parts:
        i = parts.index("rnn")
        prefix = ".".join(parts[:i])
        rest = parts[i + 1 :]
        if rest[0] == "layers" and len(rest) == 3:  # scratch: layers.<k>.W_x* / W_h* / b_*
            layer, pname = rest[1], rest[2]
            role = "input" if pname.startswith("W_x") else "recurrent" if pname.startswith("W_h") else "bias"
        else:  # torch.nn: weight_ih_l<k>, weight_hh_l<k>, bias_ih_l<k>, bias_hh_l<k> (and _reverse)
            pname = rest[0]
            layer = pname.split("_l")[-1].split("_")[0]
            role = "input" if "weight_ih" in pname else "recurrent" if "weight_hh" in pname else "bias"
        return ".".join(p for p in (prefix, f"layer{layer}", role) if p)
    return ".".join(parts[:-1]) or name


def group_grad_norms(model: nn.Module) -> dict[str, float]:
    """The norm of the gradient already on the parameters (.grad), per group: for each recurrent layer
    ``layer<k>.input`` (W_x*), ``layer<k>.recurrent`` (W_h*), ``layer<k>.bias``; then ``output`` and
    ``embedding``. Parameters without a gradient are left out; the groups' norms combine (root of the sum
    of squares) to the global norm that clipping uses. One device sync per call."""
    names, norms = group_grad_norm_tensor(model)
    return dict(zip(names, norms.tolist())) if names else {}


def group_grad_norm_tensor(model: nn.Module) -> tuple[list[str], torch.Tensor | None]:
    """``group_grad_norms`` without the device sync: the group names and a tensor of their norms (what a
    captured CUDA graph computes at every step, to be read when wanted)."""
    groups: dict[str, list[torch.Tensor]] = {}
    for name, p in model.named_parameters():
        if p.grad is not None:
            groups.setdefault(_group(name), []).append(p.grad.detach())
    if not groups:
        return [], None
    return list(groups), torch.stack([torch.nn.utils.get_total_norm(grads) for grads in groups.values()])
