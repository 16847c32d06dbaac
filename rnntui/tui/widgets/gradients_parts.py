"""The Gradients view's texts, drawn from the engine's plain results: the "what to look at" line of each
part with its number, the panels beside the charts, the tables. Each function returns Rich ``Text``."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from rich.text import Text

from rnntui.tui.widgets.gradient_charts import kind_color, rgb_style


def g(x: float | None, digits: int = 3) -> str:
    """A number in brief: plain from 0.001 to 10,000, in e notation beyond."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "-"
    if x == 0:
        return "0"
    if 1e-3 <= abs(x) < 1e4:
        return f"{x:.{digits}g}"
    return f"{x:.{max(digits - 1, 1)}e}"


def pct(x: float) -> str:
    return f"{100 * x:.3g}%" if math.isfinite(x) else "-"


def key(out: Text, k: str, what: str, value: str = "", narrow: bool = False) -> None:
    """`` k  what value`` as the controls lines show a key (tighter in ``narrow``)."""
    out.append(k if narrow else f" {k} ", "bold reverse")
    if what:
        out.append(f" {what}")
    if value:
        out.append(f" {value}", "bold")
    out.append(" " if narrow else "  ")


# -- 1. flow through time -------------------------------------------------------------------------------


def decay(norms: Sequence[float]) -> float:
    """||dL_T/dH_1|| / ||dL_T/dH_T||: how much of the gradient reaches the oldest step."""
    return norms[0] / norms[-1] if norms and norms[-1] > 0 else math.nan


def flow_about(result, narrow: bool = False) -> Text:
    """The figure to look at: each line's factor per step (in its colour: the legend), what is left after
    T - 1 steps, the spectral radius of W_hh for an RNN."""
    f = result.flow
    T = len(f.norms)
    out = Text()
    lines = [(result.label, f, 0)] + [(label, other, i + 1) for i, (label, other) in enumerate(result.others)]
    for label, flow, i in lines:
        out.append("━ ", rgb_style(kind_color(label, i)))
        out.append(f"{label.split()[0] if narrow or i else label}", rgb_style(kind_color(label, i)))
        out.append(f" x{g(flow.per_step_factor)}", "bold")
        out.append(" per step  " if not narrow and len(lines) == 1 else "  ")
    out.append("┄ 0.5^(T-t)", "bold grey62")
    if len(lines) == 1 and not narrow:
        out.append(f"; after {T - 1} steps {g(decay(f.norms))} of ‖dL_T/dH_T‖ is left")
    elif len(lines) == 1:
        out.append(f"; {g(decay(f.norms))} left after {T - 1}")
    if f.spectral_radius is not None:
        out.append(f"; ρ(W_hh x{f.scale:g}) " if narrow else f"; spectral radius of W_hh (x{f.scale:g}) ")
        out.append(f"{f.spectral_radius:.3g}", "bold")
        if f.spectral_radius < 1:
            out.append(" < 1: vanishes" if narrow else " < 1: with tanh, the gradient vanishes")
        else:
            out.append(" >= 1: may explode" if narrow else " >= 1: it may explode (tanh's slope can still tame it)")
    elif f.scale != 1:
        out.append(f"; recurrent weights x{f.scale:g}")
    return out


def flow_panel(result) -> Text:
    """The legend and the figures of each line: its factor per step and what reaches the oldest step."""
    f = result.flow
    T = len(f.norms)
    out = Text()
    lines = [(result.label + (f" x{f.scale:g}" if f.scale != 1 else ""), f, 0)] + \
            [(label, other, i + 1) for i, (label, other) in enumerate(result.others)]
    out.append(f"{'line':<23}{'x/step':>7}{'oldest':>10}\n", "bold")
    for label, flow, i in lines:
        out.append("━━ ", rgb_style(kind_color(label, i)))
        out.append(f"{label if len(label) <= 20 else label[:19] + '…':<20}")
        out.append(f"{g(flow.per_step_factor):>7}{g(decay(flow.norms)):>10}\n")
    out.append("┄┄ ", "bold grey62")
    out.append(f"{'0.5^(T-t)':<20}{'0.5':>7}{g(0.5 ** (T - 1)):>10}\n")
    out.append("oldest: ‖dL_T/dH_1‖ / ‖dL_T/dH_T‖\n", "dim")
    if f.spectral_radius is not None:
        out.append("\nspectral radius of W_hh ")
        out.append(f"{f.spectral_radius:.4g}", "bold")
        if f.spectral_radii and len(f.spectral_radii) > 1:
            out.append(" (per layer " + ", ".join(f"{r:.3g}" for r in f.spectral_radii) + ")")
        out.append("\n< 1 with tanh: enough to vanish (Pascanu et al. 2013)\n" if f.spectral_radius < 1 else
                   "\n>= 1: the gradient can grow with T - t\n", "dim")
    if f.cell_norms is not None and T > 1:
        out.append("\nLSTM: ‖dL_T/dC_t‖ at T-t = 1 ")
        out.append(g(f.cell_norms[-2]), "bold")
        out.append(f", at {T - 1}: ")
        out.append(g(f.cell_norms[0]), "bold")
        out.append("\n(the memory cell's path, through the forget gates)\n", "dim")
    out.append(f"\nL_T = {f.loss:.3g} nats for {f.target!r}; {T} steps", "dim")
    if f.num_layers > 1:
        out.append(f"; the top layer's H_t (layer {f.layer})", "dim")
    out.append(f"\nunrolled step by step: logits within {f.unroll_error:.0e} of the module's", "dim")
    for note in result.notes:
        out.append(f"\n{note}", "yellow")
    return out


# -- 2. clipping ----------------------------------------------------------------------------------------------


def clip_about(effect) -> Text:
    out = Text()
    if effect.clipped:
        out.append(f"Clipped at {effect.threshold:g}: ‖g‖ {g(effect.norm_before)} → {g(effect.norm_after)}", "bold")
    else:
        out.append(f"Not clipped at {effect.threshold:g}: ‖g‖ {g(effect.norm_before)} stays", "bold")
    out.append("; cosine(before, after) = ")
    out.append(f"{effect.cosine:.7f}", "bold")
    if effect.clipped:
        out.append(": the direction is kept, only the step shrinks "
                   f"(lr·‖g‖ = {g(effect.step_before)} → {g(effect.step_after)}).")
    else:
        out.append(f": nothing to rescale (the step lr·‖g‖ = {g(effect.step_before)}); - lowers θ below ‖g‖.")
    return out


def clip_panel(effect, narrow: bool = False) -> Text:
    out = Text()
    rows = (("threshold θ", f"{effect.threshold:g}"), ("‖g‖ before", g(effect.norm_before, 5)),
            ("‖g‖ after", g(effect.norm_after, 5)), ("factor", g(effect.factor, 4)),
            ("cosine", f"{effect.cosine:.9f}"), ("step lr·‖g‖" if narrow else f"step lr·‖g‖ (lr {effect.lr:g})",
                                                 f"{g(effect.step_before)} → {g(effect.step_after)}"))
    for name, value in rows:
        out.append(f"{name:<{18 if narrow else 22}}")
        out.append(value + "\n", "bold")
    out.append(f"one batch: {effect.num_tokens:,} tokens, loss {effect.loss:.3g}\n", "dim")
    width = max((len(k) for k in effect.groups_before), default=5)
    col, digits = (7, 2) if narrow else (9, 3)
    out.append(f"\n{'group':<{width}} {'before':>{col}} {'after':>{col}}\n", "bold")
    for name, before in effect.groups_before.items():
        out.append(f"{name:<{width}} {g(before, digits):>{col}} {g(effect.groups_after.get(name), digits):>{col}}\n")
    return out


def clipped_line(history, source: str, narrow: bool = False) -> str:
    """How often a run clipped while training (the Train view's grad-norm chart says the same)."""
    if history is None or not history.clipped:
        return ""
    if narrow:
        return f"training clipped {pct(history.clipped_fraction)} of {len(history.clipped):,} steps (view 1)"
    clip = history.start.get("clip") if history.start else None
    return (f"{source}: {pct(history.clipped_fraction)} of its {len(history.clipped):,} steps were clipped"
            + (f" at {clip:g}" if isinstance(clip, (int, float)) and clip else "") + " (its grad norm chart, view 1)")


# -- 3. truncation -----------------------------------------------------------------------------------------------


def truncation_about(result) -> Text:
    T = len(result.contributions)
    out = Text()
    i = 0
    out.append(f"tau {result.taus[i]} ", "bold")
    if result.dropped_shares is not None:
        out.append(f"drops the {max(T - result.taus[i], 0)} oldest of {T} terms, ")
        out.append(pct(result.dropped_shares[i]), "bold")
        out.append(" of their norm (the largest ")
        out.append(g(result.largest_dropped[i]), "bold")
        out.append("); ")
    out.append("the truncated gradient is ")
    out.append(pct(result.relative_differences[i]), "bold")
    out.append(" from the full one (tau = T: 0).")
    return out


def truncation_table(result, narrow: bool = False) -> Text:
    T = len(result.contributions)
    out = Text(no_wrap=True, overflow="ellipsis")
    if narrow:  # beside the chart: tau, how far from the full gradient, what it drops
        out.append(f"full ‖g‖ {g(result.full_norm, 4)}\n", "bold")
        out.append(f"{'tau':>4} {'rel diff':>9} {'cosine':>8}\n", "bold")
        for i, tau in enumerate(result.taus):
            out.append(f"{tau:>4} {g(result.relative_differences[i]):>9} {result.cosines[i]:>8.5f}\n")
        if result.dropped_shares is not None:
            out.append("\ndropped terms' share\n", "bold")
            for i, tau in enumerate(result.taus):
                out.append(f"{tau:>4} {pct(result.dropped_shares[i]):>9}\n")
        return out
    out.append(f"full: ‖g‖ = {g(result.full_norm, 4)} over {T} steps\n", "bold")
    last = result.dropped_shares is not None
    out.append(f"{'tau':>4} {'‖g_tau‖':>9} {'rel diff':>9} {'cosine':>9}" + (f" {'dropped':>8}" if last else "") + "\n",
               "bold")
    for i, tau in enumerate(result.taus):
        out.append(f"{tau:>4} {g(result.truncated_norms[i]):>9} {g(result.relative_differences[i]):>9} "
                   f"{result.cosines[i]:>9.6f}")
        if last:
            out.append(f" {pct(result.dropped_shares[i]):>8}")
        out.append("\n")
    what = "L_T, the last step's loss" if result.loss_kind == "last" else "the mean loss (training's)"
    out.append(f"\nloss: {what}; dL/dW of {', '.join(result.parameters)}\n", "dim")
    out.append("each step's term: the gradient through the W_hh that step used; truncation at tau keeps the "
               "terms left of its line (T - t < tau)" if result.loss_kind == "last" else
               "each step's term as in full backpropagation; truncation cuts every l_s's sum at tau", "dim")
    return out


# -- 4. saliency ------------------------------------------------------------------------------------------------


def saliency_about(result) -> Text:
    out = Text()
    out.append(f"log P({result.target!r} at {result.position}) = {result.log_prob:.3g}", "bold")
    out.append(f": the earlier tokens coloured by ‖d log P / d x_j‖ ({result.wrt}); ")
    out.append(pct(result.mass_beyond_k), "bold")
    out.append(f" of the mass lies more than k = {result.k} tokens back")
    if result.future_share > 0:
        out.append(f"; {pct(result.future_share)} on the predicted token and after it: this model reads the future",
                   "bold yellow")
    out.append(".")
    return out


def saliency_nearest(result, count: int = 6) -> Text:
    """The nearest earlier tokens with their norms (the numbers behind the colours)."""
    out = Text(no_wrap=True, overflow="ellipsis")
    out.append("back ", "bold")
    for j in range(result.position - 1, max(result.position - 1 - count, -1), -1):
        tok = result.tokens[j]
        out.append(f" {result.position - j}:{tok if tok != ' ' else '␣'} ", "dim")
        out.append(g(result.norms[j], 2))
    return out


# -- 5. per-group gradient norms during training -----------------------------------------------------------------


def group_series(events: Sequence[dict[str, Any]]) -> dict[str, tuple[list[float], list[float]]]:
    """{group: (global steps, norms)} from "grads" events."""
    series: dict[str, tuple[list[float], list[float]]] = {}
    for e in events:
        step = float(e.get("global_step", 0))
        for name, value in (e.get("norms") or {}).items():
            xs, ys = series.setdefault(name, ([], []))
            xs.append(step)
            ys.append(float(value) if value is not None else math.nan)
    return series


def norms_about(series: dict[str, tuple[list[float], list[float]]], narrow: bool = False) -> Text:
    out = Text()
    last = {k: ys[-1] for k, (_, ys) in series.items() if ys}
    rec = {k: v for k, v in last.items() if k.endswith("recurrent")}
    inp = {k: v for k, v in last.items() if k.endswith("input")}
    if narrow:
        if rec and inp:
            r, i = max(rec.values()), max(inp.values())
            out.append("last step: recurrent / input ")
            out.append(f"x{g(r / i) if i > 0 else '-'}", "bold")
        top = max(last, key=lambda k: last[k], default=None)
        if top is not None:
            out.append("; the largest ")
            out.append(f"{top} {g(last[top])}", "bold")
        return out
    if rec and inp:
        r, i = max(rec.values()), max(inp.values())
        out.append(f"At the last logged step the recurrent weights' gradient is {g(r)}, the input weights' {g(i)}: ")
        out.append(f"x{g(r / i) if i > 0 else '-'}", "bold")
    top = max(last, key=lambda k: last[k], default=None)
    if top is not None:
        out.append(("; " if rec and inp else "") + "the largest: ")
        out.append(f"{top} {g(last[top])}", "bold")
    out.append(". A group that falls decades below the others stops learning; one that leaps gets clipped.")
    return out


def norms_table(series: dict[str, tuple[list[float], list[float]]], colors: dict[str, tuple[int, int, int]],
                narrow: bool = False) -> Text:
    out = Text(no_wrap=True, overflow="ellipsis")
    width = max((len(k) for k in series), default=5)
    if narrow:  # beside the chart: the legend and the last values
        out.append(f"   {'group':<{width}} {'last':>7}\n", "bold")
        for name, (_, ys) in series.items():
            out.append("━━ ", rgb_style(colors[name]))
            out.append(f"{name:<{width}} {g(ys[-1] if ys else None):>7}\n")
        return out
    out.append(f"   {'group':<{width}} {'last':>8} {'median':>8} {'max':>8}\n", "bold")
    for name, (_, ys) in series.items():
        finite = sorted(y for y in ys if math.isfinite(y))
        median = finite[len(finite) // 2] if finite else math.nan
        out.append("━━ ", rgb_style(colors[name]))
        last, top = g(ys[-1] if ys else None), g(finite[-1] if finite else None)
        out.append(f"{name:<{width}} {last:>8} {g(median):>8} {top:>8}\n")
    return out


# -- 6. gates ------------------------------------------------------------------------------------------------------


def unit_about(trace, gate: str, unit: int, rank: int | None, pattern=None, narrow: bool = False) -> Text:
    from rnntui.inspect.gates import LABELS

    values = trace.unit(gate, unit)
    out = Text()
    out.append(f"unit {unit} of {gate}" + ("" if narrow else f" ({LABELS.get(gate, gate)})"), "bold")
    if rank is not None:
        out.append(f", {ordinal(rank + 1)} most variable" if narrow else f", the {ordinal(rank + 1)} most variable")
    out.append(f": {g(min(values))} to {g(max(values))}" if narrow else
               f": from {g(min(values))} to {g(max(values))}, mean {g(sum(values) / len(values))}")
    if pattern is not None:
        i = pattern.units.index(unit) if unit in pattern.units else None
        if i is not None:
            out.append(f"; on {pattern.pattern!r} {pattern.means_on[i]:.2f}, elsewhere {pattern.means_off[i]:.2f} "
                       f"({pattern.effects[i]:+.2f} std)", "bold")
    return out


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def saturation_about(sat, narrow: bool = False) -> Text:
    """Per gate: how many units are mostly open, mostly closed, rarely saturated."""
    out = Text()
    units = len(next(iter(sat.fractions.values()))["low"])
    if narrow:
        for i, gate in enumerate(sat.fractions):
            out.append(("  " if i else "") + f"{gate} ", "bold")
            out.append(f"{sat.mostly_open[gate]} open, {sat.mostly_closed[gate]} closed")
        out.append(f" (of {units} units)", "dim")
        return out
    for i, gate in enumerate(sat.fractions):
        if i:
            out.append("  ")
        out.append(f"{gate} ", "bold")
        out.append(f"{sat.mostly_open[gate]} mostly open, {sat.mostly_closed[gate]} mostly closed, "
                   f"{sat.never_saturated[gate]} rarely saturated")
    out.append(f" (of {units} units, over {sat.num_steps:,} steps)", "dim")
    return out


# -- 8. shapes ------------------------------------------------------------------------------------------------------


def shapes_table(report, width: int) -> Text:
    out = Text(no_wrap=True, overflow="ellipsis")
    label_w = max(len(r.label) for r in report.rows)
    shape_w = max(len(str(r.shape)) for r in report.rows)
    dims_w = max(len(r.describe()) for r in report.rows)
    note_w = width - label_w - shape_w - dims_w - 6
    if note_w <= 10:  # no room for the notes: the dimensions take it
        dims_w = min(dims_w, width - label_w - shape_w - 4)
    out.append(f"{'tensor':<{label_w}}  {'shape':<{shape_w}}  {'each dimension':<{dims_w}}" +
               ("  what it is" if note_w > 10 else "") + "\n", "bold")
    for r in report.rows:
        main = r.name in ("encoder_outputs", "encoder_state")
        out.append(f"{r.label:<{label_w}}  ", "bold" if main else "")
        out.append(f"{str(r.shape):<{shape_w}}  ", "bold green" if main else "bold")
        out.append(f"{r.describe()[:dims_w]:<{dims_w}}")
        if note_w > 10:
            out.append(f"  {r.note if len(r.note) <= note_w else r.note[:note_w - 1] + '…'}", "dim")
        out.append("\n")
    return out


def shapes_about(report, narrow: bool = False) -> Text:
    out = Text()
    names = {r.name: r for r in report.rows}
    for i, name in enumerate(("encoder_outputs", "encoder_state")):
        r = names.get(name)
        if r is None:
            continue
        if i:
            out.append("; ")
        out.append(f"{r.label.split()[-1] if narrow else r.label} ")
        out.append(str(r.shape), "bold")
        out.append(f": {('×' if narrow else ' x ').join(d.meaning for d in r.dims)}")
    if not narrow:
        out.append(". The outputs hold every step of the top layer; the state every layer at the last step.")
    return out


# -- 9. the bidirectional trap --------------------------------------------------------------------------------------


def trap_about(trap) -> Text:
    out = Text()
    if trap.bi is None or trap.uni is None:
        out.append("Train the ", "")
        out.append(" and ".join(trap.missing), "bold")
        out.append(" preset" + ("s" if len(trap.missing) > 1 else "") + " (view 1) to set them side by side.")
        return out
    out.append(f"bi-LSTM train perplexity {trap.bi.train_ppl:.3g}", "bold")
    out.append(f" against the LSTM's {trap.uni.train_ppl:.3g}: it sees the next character; generating, it writes ")
    out.append(repr(trap.bi.generated[:24]), "bold")
    out.append(".")
    return out


WHY = ("Why: its backward half reads the text from the end, so at step t it has already read x_{t+1}, the token it "
       "is asked to predict: training (and held-out) perplexity fall towards 1.\n"
       "Generating, there is no future to read: the backward half sees only the token just fed, and the model "
       "writes what it never learnt to predict.")


def trap_text(trap, width: int, narrow: bool = False) -> Text:
    out = Text()
    if trap.bi is None and trap.uni is None:
        out.append("No finished run of the bi-lstm or the lstm preset in the runs folder: train both (view 1, "
                   "preset bi-lstm, then lstm; the same data and epochs), then come back.\n\n", "bold")
        out.append(WHY)
        return out
    name_w = 20
    col = max(14, min(28, (width - name_w - 2) // 2))
    out.append(f"{'':<{name_w}}{'bi-LSTM':<{col}}{'LSTM':<{col}}\n", "bold")
    rows = (("run", lambda s: s.run), ("epochs", lambda s: str(s.epochs)),
            ("train perplexity", lambda s: f"{s.train_ppl:.4g}"), ("held-out perplexity", lambda s: f"{s.val_ppl:.4g}"))
    for name, what in rows:
        out.append(f"{name:<{name_w}}")
        for side in (trap.bi, trap.uni):
            text = what(side) if side is not None else "-"
            text = text if len(text) < col else text[: col - 2] + "…"
            out.append(f"{text:<{col}}", "bold" if name.endswith("perplexity") and side else "")
        out.append("\n")
    if trap.bi is not None and trap.uni is not None and trap.uni.epochs > trap.bi.epochs >= 1:
        tr, va = trap.uni.history[trap.bi.epochs - 1]
        out.append(f"(the LSTM at epoch {trap.bi.epochs}: train {tr:.4g}, held-out {va:.4g})\n", "dim")
    sources = {side.source for side in (trap.bi, trap.uni) if side is not None}
    how = ("greedy, from the checkpoints" if sources == {"checkpoint"} else "each run's last epoch's sample"
           if sources == {"metrics"} else "greedy from a checkpoint, else the last epoch's sample")
    out.append(f"\nfrom {trap.prefix!r}", "bold")
    out.append(f" ({how}):\n", "dim")
    for name, side in (("bi-LSTM", trap.bi), ("LSTM", trap.uni)):
        out.append(f"{name:<8} ", "bold")
        if side is None:
            out.append(f"(no run: train the {'bi-lstm' if name == 'bi-LSTM' else 'lstm'} preset)\n", "dim")
            continue
        out.append(trap.prefix, "dim")
        room = width - 9 - len(trap.prefix)
        shown = side.generated if not narrow or len(side.generated) <= room else side.generated[: room - 1] + "…"
        out.append(shown + "\n", "bold yellow" if name == "bi-LSTM" else "bold green")
    out.append("\n" + WHY)
    return out
