"""What the Gradients view's workers compute, as plain functions of plain inputs (no UI here): the
language model of a loaded checkpoint, the text window each part reads, the RNN/GRU/LSTM overlay of the
flow chart, the figures of the bidirectional trap, per-group gradient norms of a run, tensor shapes.

Everything here runs in a worker thread; the engine (``rnntui.inspect``) does the measuring."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rnntui.errors import ConfigError

WINDOWS = (35, 100, 200)  # steps a window of the held-out text can hold (w cycles them)
SATURATION_STEPS = 10_000  # held-out tokens gate saturation reads ("a long text", read in a worker)
OVERLAY_KINDS = ("rnn", "gru", "lstm")
TRAP_PREFIX = "time traveller "
TRAP_TOKENS = 50

_lock = threading.Lock()
_models: dict[tuple, Any] = {}  # (checkpoint path, stamp) or ("preset", name) -> LanguageModel
_MAX_MODELS = 6
_flows: dict[tuple, Any] = {}  # (overlaid model's label, tokens) -> its GradientFlow: the W_hh knob moves only


@dataclass(frozen=True)
class Window:
    """The text the window parts read: a typed text, or ``num_steps`` + 1 tokens of the held-out part
    from ``offset`` (the inputs and the token the last step predicts)."""

    text: str | None = None
    offset: int = 0
    num_steps: int = WINDOWS[0]


def _keep(key: tuple, lm) -> None:
    _models[key] = lm
    while len(_models) > _MAX_MODELS:
        _models.pop(next(iter(_models)))


def language_model(model) -> Any:
    """The ``LanguageModel`` of a ``LoadedModel`` (a language model's checkpoint), kept while its file is
    unchanged, so that its corpus is read once."""
    from rnntui.inspect.gradients import LanguageModel
    from rnntui.tui.model_choice import TASK_NAMES

    ckpt = model.checkpoint
    if ckpt.config.task != "lm":
        raise ConfigError(f"the model is a {TASK_NAMES.get(ckpt.config.task, ckpt.config.task)}; this part needs a "
                          "language model (m: choose one)")
    key = (str(model.path), model.stamp)
    with _lock:
        lm = _models.get(key)
        if lm is None:
            lm = LanguageModel(ckpt.model, ckpt.vocab, ckpt.token, ckpt.config, model.label, trained=True)
            _keep(key, lm)
        return lm


def preset_model(preset: str, data_dir) -> Any:
    """A preset's untrained language model, as training initialises it (kept once made)."""
    from rnntui.inspect.gradients import load_lm

    key = ("preset", preset, str(data_dir))
    with _lock:
        lm = _models.get(key)
    if lm is None:
        lm = load_lm(preset=preset, data_dir=data_dir)
        with _lock:
            _keep(key, lm)
    return lm


_corpus_lock = threading.Lock()


def window_ids(lm, window: Window, data_dir) -> list[int]:
    """The token ids of ``window`` under ``lm``'s vocabulary (the corpus read once, under a lock)."""
    if window.text is not None:
        return lm.encode(window.text)
    with _corpus_lock:
        lm.load_corpus(data_dir)
    return lm.window(window.num_steps, window.offset, "val", data_dir)


def known_held_out(model) -> int | None:
    """The held-out part's length for a loaded model whose corpus was read already (else None)."""
    with _lock:
        lm = _models.get((str(model.path), model.stamp))
    corpus = lm.corpus if lm is not None else None
    return len(corpus.tokens) - len(corpus.train_ids) if corpus is not None else None


def held_out_length(lm, data_dir) -> int:
    with _corpus_lock:
        corpus = lm.load_corpus(data_dir)
    return len(corpus.tokens) - len(corpus.train_ids)


# -- 1. flow through time, overlaid ------------------------------------------------------------------


@dataclass(frozen=True)
class FlowResult:
    flow: Any  # GradientFlow of the view's model
    label: str  # e.g. "LSTM"
    others: list[tuple[str, Any]] = field(default_factory=list)  # (label, GradientFlow) overlaid
    notes: list[str] = field(default_factory=list)  # why a kind is missing from the overlay


def kind_label(lm) -> str:
    c = lm.model.config
    return ("bi-" if c.bidirectional else "") + c.kind.upper() + (" scratch" if c.impl == "scratch" else "")


def overlay_models(runs_dir: Path, cache, exclude_kind: str, data_dir) -> tuple[list[tuple[str, Any]], list[str]]:
    """One language model per other kind (RNN, GRU, LSTM): the latest finished unidirectional run of that
    kind in ``runs_dir``, else its preset's untrained model at its initialisation."""
    from rnntui.training.runs import CHECKPOINT, list_runs
    from rnntui.tui.model_choice import load

    runs = list_runs(runs_dir, cache) if runs_dir is not None else []
    found, notes = [], []
    for kind in OVERLAY_KINDS:
        if kind == exclude_kind:
            continue
        run = next((r for r in runs if r.status == "finished" and r.config is not None and r.config.task == "lm"
                    and r.config.model.kind == kind and not r.config.model.bidirectional
                    and (r.path / CHECKPOINT).is_file()), None)
        try:
            if run is not None:
                lm = language_model(load(run.path / CHECKPOINT, run.path))
                found.append((f"{kind.upper()} {run.name}", lm))
            else:
                found.append((f"{kind.upper()} untrained", preset_model(kind, data_dir)))
        except Exception as error:  # noqa: BLE001 - a kind that cannot be had is a note, not a failure
            from rnntui.errors import describe

            notes.append(f"{kind.upper()}: {describe(error)}")
    return found, notes


def flow(model, window: Window, scale: float, overlay: bool, runs_dir, cache, data_dir, should_stop) -> FlowResult:
    from rnntui.inspect.gradients import gradient_flow

    lm = language_model(model)
    ids = window_ids(lm, window, data_dir)
    main = gradient_flow(lm, ids, scale=scale, should_stop=should_stop)
    others, notes = [], []
    if overlay:
        tokens = lm.tokens(ids)
        models, notes = overlay_models(runs_dir, cache, lm.kind, data_dir)
        for label, other in models:
            if other.token != lm.token:
                notes.append(f"{label}: reads {other.token}s, this text is in {lm.token}s")
                continue
            key = (label, other.label, tuple(tokens))
            with _lock:
                other_flow = _flows.get(key)
            if other_flow is None:
                other_flow = gradient_flow(other, other.vocab[tokens], should_stop=should_stop)
                with _lock:
                    _flows[key] = other_flow
                    while len(_flows) > 3 * _MAX_MODELS:
                        _flows.pop(next(iter(_flows)))
            others.append((label, other_flow))
    return FlowResult(main, kind_label(lm), others, notes)


# -- 2. clipping ------------------------------------------------------------------------------------------


def clip(model, threshold: float, data_dir) -> Any:
    """``clip_effect`` on the first training batch the model's own settings cut (sequential, offset 0)."""
    from rnntui.inspect.gradients import clip_effect

    lm = language_model(model)
    d = lm.config.data
    with _corpus_lock:
        lm.load_corpus(data_dir)
    rows = lm.batch(d.batch_size, d.num_steps, data_dir)
    return clip_effect(lm, rows, threshold, lm.config.train.lr)


# -- 5. per-group gradient norms of a run ---------------------------------------------------------------


def run_history(run_dir: Path):
    from rnntui.training.history import load_history
    from rnntui.training.runs import METRICS

    path = Path(run_dir) / METRICS
    if not path.is_file():
        raise ConfigError(f"{Path(run_dir).name} has no {METRICS}")
    return load_history(path)


# -- 8. tensor shapes --------------------------------------------------------------------------------------


def shapes(settings: dict[str, Any] | None, model=None) -> Any:
    """The seed's example with ``settings`` laid over it, or a seq2seq ``model``'s (LoadedModel) shapes."""
    from rnntui.inspect import shapes as engine

    if model is not None:
        ckpt = model.checkpoint
        p = ckpt.config.pairs
        return engine.measure(ckpt.model, p.batch_size, p.num_steps, source=f"model {model.label}")
    return engine.example_shapes(**{**engine.SEED_EXAMPLE, **(settings or {})})


# -- 9. the bidirectional trap --------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrapSide:
    run: str  # the run folder's name
    epochs: int
    train_ppl: float
    val_ppl: float
    generated: str  # what it writes after the prefix
    source: str  # "checkpoint" (generated here, greedy) or "metrics" (its last epoch's sample)
    history: list[tuple[float, float]]  # (train_ppl, val_ppl) per epoch


@dataclass(frozen=True)
class Trap:
    prefix: str
    bi: TrapSide | None
    uni: TrapSide | None
    missing: list[str]  # the presets to train for the sides that are missing


def _trap_side(run, prefix: str, should_stop) -> TrapSide:
    from rnntui.training.runs import CHECKPOINT
    from rnntui.tui.model_choice import load

    h = run.history
    last = h.epochs[-1]
    generated, source = "", "metrics"
    checkpoint = run.path / CHECKPOINT
    if checkpoint.is_file() and not should_stop():
        from rnntui.decoding.generate import generate

        ckpt = load(checkpoint, run.path).checkpoint
        generated = generate(ckpt.model, ckpt.vocab, prefix, TRAP_TOKENS, ckpt.token).continuation
        source = "checkpoint"
    else:
        sample = str(last.get("sample", ""))
        run_prefix = run.config.sample.prefix
        generated = sample[len(run_prefix):] if sample.startswith(run_prefix) else sample
    return TrapSide(run.name, len(h.epochs), float(last.get("train_ppl", float("nan"))),
                    float(last.get("val_ppl", float("nan"))), generated, source,
                    [(float(e.get("train_ppl", float("nan"))), float(e.get("val_ppl", float("nan"))))
                     for e in h.epochs])


def trap(runs_dir: Path, cache, should_stop) -> Trap:
    """The latest finished runs of the ``bi-lstm`` and ``lstm`` presets (by their config's name), each
    continuing the same prefix greedily (from its checkpoint; else its last epoch's sample)."""
    from rnntui.training.runs import list_runs

    runs = list_runs(runs_dir, cache) if runs_dir is not None else []
    sides: dict[str, TrapSide | None] = {}
    prefix = TRAP_PREFIX
    for preset in ("bi-lstm", "lstm"):
        run = next((r for r in runs if r.status == "finished" and r.config is not None and r.config.task == "lm"
                    and r.config.name == preset and r.history.epochs), None)
        if run is not None and preset == "bi-lstm":
            prefix = run.config.sample.prefix.rstrip() + " "
        sides[preset] = _trap_side(run, prefix, should_stop) if run is not None else None
    missing = [p for p, side in sides.items() if side is None]
    return Trap(prefix, sides["bi-lstm"], sides["lstm"], missing)
