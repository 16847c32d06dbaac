"""Inside the cells: every gate's value per time step and unit over a text, the units that vary or
respond to a pattern most, and gate saturation (Karpathy et al. 2015, "Visualizing and Understanding
Recurrent Networks").

The gates are recomputed from the module's weights with the book's equations (torch.nn modules do not
expose them): scratch cells from their W_x*, W_h*, b_*; torch.nn from weight_ih/weight_hh/bias_* in
torch's gate order (GRU r, z, n; LSTM i, f, g, o). ``GateTrace.error`` is the largest difference between
the recomputed states and the module's own outputs. Results are plain lists: ``gates[name][step][unit]``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from rnntui.errors import ConfigError, DataError
from rnntui.inspect.gradients import (
    LanguageModel, Progress, ShouldStop, _analysing, _check_stop, _device, _ids, _inputs,
)

# what each kind records, in the book's order: gates, candidate, then the state(s)
GATES = {"rnn": ("H",), "gru": ("R", "Z", "H_tilde", "H"), "lstm": ("I", "F", "O", "C_tilde", "C", "H")}
SIGMOID_GATES = {"rnn": (), "gru": ("R", "Z"), "lstm": ("I", "F", "O")}  # values in (0, 1)
LABELS = {
    "R": "reset gate", "Z": "update gate", "H_tilde": "candidate hidden state", "I": "input gate",
    "F": "forget gate", "O": "output gate", "C_tilde": "input node (candidate memory)", "C": "memory cell",
    "H": "hidden state",
}
# the pre-activations each kind computes from X_t and H_{t-1}: scratch letters and torch.nn's row order
_SCRATCH = {"rnn": {"H": "h"}, "gru": {"R": "r", "Z": "z", "H_tilde": "h"},
            "lstm": {"I": "i", "F": "f", "O": "o", "C_tilde": "c"}}
_TORCH_ORDER = {"rnn": ("H",), "gru": ("R", "Z", "H_tilde"), "lstm": ("I", "F", "C_tilde", "O")}

Weights = dict[str, tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]]


def _layer_weights(rnn: nn.Module, kind: str, layer: int, direction: int) -> Weights:
    """Per pre-activation: (W_x (inputs, h), W_h (h, h), b_x (h,), b_h (h,)), right-multiplied as the book."""
    from rnntui.models.scratch import ScratchRNN

    if isinstance(rnn, ScratchRNN):
        cell = rnn.layers[layer]
        out = {}
        for gate, letter in _SCRATCH[kind].items():
            b = getattr(cell, f"b_{letter}")
            out[gate] = (getattr(cell, f"W_x{letter}"), getattr(cell, f"W_h{letter}"), b, torch.zeros_like(b))
        return out
    suffix = f"_l{layer}" + ("_reverse" if direction else "")
    W_ih, W_hh = getattr(rnn, "weight_ih" + suffix), getattr(rnn, "weight_hh" + suffix)
    zeros = W_ih.new_zeros(W_ih.shape[0])
    b_ih, b_hh = getattr(rnn, "bias_ih" + suffix, zeros), getattr(rnn, "bias_hh" + suffix, zeros)
    h = rnn.hidden_size
    return {gate: (W_ih[k * h : (k + 1) * h].T, W_hh[k * h : (k + 1) * h].T, b_ih[k * h : (k + 1) * h],
                   b_hh[k * h : (k + 1) * h]) for k, gate in enumerate(_TORCH_ORDER[kind])}


def _run_layer(kind: str, weights: Weights, X: torch.Tensor, H: torch.Tensor, C: torch.Tensor | None,
               reset_after: bool = True, act=torch.tanh, tick=None) -> dict[str, torch.Tensor]:
    """The book's equations over a sequence X (steps, batch, inputs) from state H (and C): every gate and
    state per step, each (steps, batch, hiddens). ``tick(steps_done)`` is called every 256 steps."""
    names = list(weights)
    h = H.shape[-1]
    XW = {g: torch.addmm(weights[g][2], X.reshape(-1, X.shape[-1]), weights[g][0]).view(X.shape[0], X.shape[1], h)
          for g in names}  # X_t W_x* + b_x*, all steps at once
    W_h = torch.cat([weights[g][1] for g in names], 1)  # (h, G h)
    b_h = torch.cat([weights[g][3] for g in names])
    record: dict[str, list[torch.Tensor]] = {g: [] for g in GATES[kind]}
    for t in range(X.shape[0]):
        if tick is not None and t % 256 == 0:
            tick(t)
        HW = dict(zip(names, torch.addmm(b_h, H, W_h).split(h, 1)))  # H_{t-1} W_h* + b_h*
        if kind == "rnn":
            H = act(XW["H"][t] + HW["H"])
        elif kind == "gru":
            R = torch.sigmoid(XW["R"][t] + HW["R"])
            Z = torch.sigmoid(XW["Z"][t] + HW["Z"])
            if reset_after:  # as torch.nn.GRU and the scratch default: R_t * (H_{t-1} W_hh + b_hh)
                H_tilde = torch.tanh(XW["H_tilde"][t] + R * HW["H_tilde"])
            else:  # the book's (R_t * H_{t-1}) W_hh
                H_tilde = torch.tanh(XW["H_tilde"][t] + (R * H) @ weights["H_tilde"][1] + weights["H_tilde"][3])
            H = Z * H + (1 - Z) * H_tilde
            record["R"].append(R), record["Z"].append(Z), record["H_tilde"].append(H_tilde)
        else:
            I = torch.sigmoid(XW["I"][t] + HW["I"])
            F_ = torch.sigmoid(XW["F"][t] + HW["F"])
            O = torch.sigmoid(XW["O"][t] + HW["O"])
            C_tilde = torch.tanh(XW["C_tilde"][t] + HW["C_tilde"])
            C = F_ * C + I * C_tilde
            H = O * torch.tanh(C)
            record["I"].append(I), record["F"].append(F_), record["O"].append(O)
            record["C_tilde"].append(C_tilde), record["C"].append(C)
        record["H"].append(H)
    return {g: torch.stack(v) for g, v in record.items()}


def _recompute(model: nn.Module, X: torch.Tensor, progress: Progress | None = None,
              should_stop: ShouldStop | None = None) -> tuple[list[list[dict[str, torch.Tensor]]], float]:
    """Every layer's and direction's gates for tokens X (batch, steps), from a zero state: ``[layer][direction]
    -> {gate: (steps, batch, hiddens)}``; and the largest difference between the recomputed H (every step of
    the top layer; the last step of every layer) and C (last step) and the module's own. ``progress(done,
    total)`` counts steps over all layers and directions; ``should_stop()`` raises Cancelled."""
    from rnntui.models.scratch import ScratchRNN

    cfg = model.config
    kind, rnn = cfg.kind, model.rnn
    directions = 2 if cfg.bidirectional else 1
    scratch = isinstance(rnn, ScratchRNN)
    act = torch.relu if getattr(rnn, "nonlinearity", "tanh") == "relu" else torch.tanh
    inputs = _inputs(model, X)  # (steps, batch, inputs)
    layers = []
    x = inputs
    steps, runs = X.shape[1], cfg.num_layers * directions
    for layer in range(cfg.num_layers):
        per_direction = []
        for d in range(directions):
            done = (layer * directions + d) * steps

            def tick(t: int, done: int = done) -> None:
                _check_stop(should_stop)
                if progress is not None:
                    progress(done + t, runs * steps)

            zeros = x.new_zeros(x.shape[1], cfg.num_hiddens)
            reset_after = getattr(rnn.layers[layer], "reset_after", True) if scratch else True
            seq = x if d == 0 else x.flip(0)  # the reverse direction reads the text backwards
            gates = _run_layer(kind, _layer_weights(rnn, kind, layer, d), seq, zeros,
                               zeros if kind == "lstm" else None, reset_after, act, tick)
            if d == 1:
                gates = {g: v.flip(0) for g, v in gates.items()}
            per_direction.append(gates)
        layers.append(per_direction)
        x = torch.cat([g["H"] for g in per_direction], -1)  # the next layer's input
    _check_stop(should_stop)
    outputs, state = rnn(inputs)
    if progress is not None:
        progress(runs * steps, runs * steps)
    H_n, C_n = state if isinstance(state, tuple) else (state, None)
    errors = [(x - outputs).abs().max()]
    for layer, per_direction in enumerate(layers):
        for d, gates in enumerate(per_direction):
            last = -1 if d == 0 else 0  # the reverse direction ends at the first token
            errors.append((gates["H"][last] - H_n[layer * directions + d]).abs().max())
            if C_n is not None:
                errors.append((gates["C"][last] - C_n[layer * directions + d]).abs().max())
    return layers, torch.stack(errors).max().item()


# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GateTrace:
    """Gates and states of one layer over a text: ``gates[name][step][unit]``."""

    tokens: list[str]
    kind: str
    impl: str
    layer: int
    direction: int  # 0 forward, 1 the reverse half of a bidirectional layer
    num_hiddens: int
    gates: dict[str, list[list[float]]]  # rnn: H; gru: R, Z, H_tilde, H; lstm: I, F, O, C_tilde, C, H
    error: float  # max |recomputed - module| over H and C

    def unit(self, gate: str, unit: int) -> list[float]:
        """One unit's value at every step."""
        return [step[unit] for step in self.gates[gate]]


def _gates(lm: LanguageModel, ids: Sequence[int], layer: int | None, direction: int, progress: Progress | None,
           should_stop: ShouldStop | None) -> tuple[dict, float, int]:
    kind = lm.kind
    layer = lm.num_layers - 1 if layer is None else layer
    if not 0 <= layer < lm.num_layers:
        raise ConfigError(f"--layer must be between 0 and {lm.num_layers - 1}; got {layer}")
    if direction not in ((0, 1) if lm.bidirectional else (0,)):
        raise ConfigError("--direction 1 (the reverse half) needs a bidirectional model")
    ids = _ids(ids, lm.model.vocab_size, least=1)
    with _analysing(lm.model), torch.no_grad():
        layers, error = _recompute(lm.model, torch.tensor([ids], device=_device(lm.model)), progress, should_stop)
    gates = {g: v[:, 0] for g, v in layers[layer][direction].items()}  # (steps, hiddens)
    assert tuple(gates) == GATES[kind]
    return gates, error, layer


def gate_trace(lm: LanguageModel, ids: Sequence[int], layer: int | None = None, direction: int = 0,
               progress: Progress | None = None, should_stop: ShouldStop | None = None) -> GateTrace:
    """Every gate's value per step and unit for a text (ids) read from a zero state; the top layer by default."""
    gates, error, layer = _gates(lm, ids, layer, direction, progress, should_stop)
    return GateTrace(
        tokens=lm.tokens(ids), kind=lm.kind, impl=lm.impl, layer=layer, direction=direction,
        num_hiddens=lm.model.config.num_hiddens, gates={g: v.tolist() for g, v in gates.items()}, error=error,
    )


@dataclass(frozen=True)
class UnitStat:
    unit: int
    std: float
    mean: float
    low: float  # minimum over the steps
    high: float  # maximum


def most_variable_units(trace: GateTrace, gate: str = "H", k: int = 10) -> list[UnitStat]:
    """The ``k`` units whose ``gate`` value varies most over the text (standard deviation), most first."""
    values = _values(trace, gate)
    std = values.std(0, unbiased=False)
    order = torch.argsort(std, descending=True)[:k].tolist()
    return [UnitStat(u, std[u].item(), values[:, u].mean().item(), values[:, u].min().item(),
                     values[:, u].max().item()) for u in order]


def _values(trace: GateTrace, gate: str) -> torch.Tensor:
    if gate not in trace.gates:
        raise ConfigError(f"a {trace.kind.upper()} has no gate {gate!r}; choose from {', '.join(trace.gates)}")
    return torch.tensor(trace.gates[gate], dtype=torch.float64)  # (steps, units)


def pattern_positions(tokens: Sequence[str], pattern: str, token: str = "char") -> list[int]:
    """The steps (token indices) covered by the occurrences of ``pattern`` in the text of ``tokens``."""
    if not pattern:
        raise ConfigError("the pattern is empty; give some text, e.g. ' ' or 'the'")
    joiner = "" if token == "char" else " "
    spans, offset = [], 0
    for t in tokens:
        spans.append((offset, offset + len(t)))
        offset += len(t) + len(joiner)
    text = joiner.join(tokens)
    covered: set[int] = set()
    for match in re.finditer(re.escape(pattern), text):
        a, b = match.span()
        covered.update(i for i, (s, e) in enumerate(spans) if s < b and e > a)
    return sorted(covered)


@dataclass(frozen=True)
class PatternUnits:
    """The units whose value differs most where a pattern occurs from elsewhere."""

    pattern: str
    gate: str
    positions: list[int]  # the steps where the pattern occurs
    units: list[int]  # most responsive first (by |effect|)
    effects: list[float]  # (mean on the pattern - mean elsewhere) / the unit's standard deviation
    means_on: list[float]
    means_off: list[float]

    @property
    def unit(self) -> int:
        """The unit that responds most."""
        return self.units[0]


def pattern_units(trace: GateTrace, pattern: str, gate: str = "H", k: int = 5, token: str = "char") -> PatternUnits:
    """Rank the units by how differently they behave on the steps where ``pattern`` occurs (e.g. " ", "the")."""
    values = _values(trace, gate)
    positions = pattern_positions(trace.tokens, pattern, token)
    if not positions:
        raise DataError(f"the pattern {pattern!r} does not occur in the text")
    if len(positions) == values.shape[0]:
        raise DataError(f"the pattern {pattern!r} covers the whole text; nothing to compare it with")
    on = torch.zeros(values.shape[0], dtype=torch.bool)
    on[positions] = True
    mean_on, mean_off = values[on].mean(0), values[~on].mean(0)
    effect = (mean_on - mean_off) / values.std(0, unbiased=False).clamp_min(1e-12)
    order = torch.argsort(effect.abs(), descending=True)[:k]
    return PatternUnits(pattern, gate, positions, order.tolist(), effect[order].tolist(), mean_on[order].tolist(),
                        mean_off[order].tolist())


# ---------------------------------------------------------------------------------------------------
# Saturation


@dataclass(frozen=True)
class Saturation:
    """Per sigmoid gate, each unit's fraction of steps with the gate below ``low`` (closed) and above
    ``high`` (open) over a text: Karpathy et al.'s scatter, one point per unit at (low, high)."""

    kind: str
    layer: int
    num_steps: int
    low: float
    high: float
    fractions: dict[str, dict[str, list[float]]]  # gate -> {"low": [per unit], "high": [per unit]}
    mostly_open: dict[str, int]  # units with the gate > high on more than half the steps
    mostly_closed: dict[str, int]  # units with the gate < low on more than half the steps
    never_saturated: dict[str, int]  # units saturated (either way) on under 10% of the steps
    reading: str


_OPEN_MEANS = {"F": "keep their memory cell", "I": "write every candidate", "O": "show their cell",
               "Z": "keep H_{t-1} and ignore the input", "R": "use the whole past state"}
_CLOSED_MEANS = {"F": "forget at every step", "I": "never write", "O": "hide their cell",
                 "Z": "take the candidate (forget H_{t-1})", "R": "ignore the past state"}


def _saturation_of(gates: dict[str, torch.Tensor], kind: str, low: float = 0.1, high: float = 0.9,
                  layer: int = 0) -> Saturation:
    """Saturation fractions of gate tensors {name: (steps, units)} (the sigmoid gates of ``kind``)."""
    if not SIGMOID_GATES[kind]:
        raise ConfigError("an RNN has no gates; saturation needs a GRU or an LSTM model")
    if not 0 < low < high < 1:
        raise ConfigError(f"the thresholds must satisfy 0 < low < high < 1; got {low}, {high}")
    fractions, opened, closed, never = {}, {}, {}, {}
    steps = 0
    for g in SIGMOID_GATES[kind]:
        v = gates[g]
        steps = v.shape[0]
        lo, hi = (v < low).double().mean(0), (v > high).double().mean(0)
        fractions[g] = {"low": lo.tolist(), "high": hi.tolist()}
        opened[g], closed[g] = int((hi > 0.5).sum()), int((lo > 0.5).sum())
        never[g] = int(((lo + hi) < 0.1).sum())
    units = next(iter(gates.values())).shape[1]
    parts = []
    for g in SIGMOID_GATES[kind]:
        part = (f"{g} ({LABELS[g]}): {opened[g]} of {units} units mostly open (> {high:g}), {closed[g]} mostly "
                f"closed (< {low:g}), {never[g]} rarely saturated")
        if opened[g] * 2 > units:
            part += f": most {_OPEN_MEANS[g]}"
        elif closed[g] * 2 > units:
            part += f": most {_CLOSED_MEANS[g]}"
        parts.append(part)
    reading = f"over {steps:,} steps, " + "; ".join(parts)
    return Saturation(kind, layer, steps, low, high, fractions, opened, closed, never, reading)


def saturation(lm: LanguageModel, ids: Sequence[int], low: float = 0.1, high: float = 0.9, layer: int | None = None,
               direction: int = 0, progress: Progress | None = None, should_stop: ShouldStop | None = None) -> Saturation:
    """Gate saturation over a (long) text, without per-step lists (``progress``, ``should_stop`` as gate_trace)."""
    gates, _, layer = _gates(lm, ids, layer, direction, progress, should_stop)
    return _saturation_of(gates, lm.kind, low, high, layer)

