"""``rnntui inspect``: look inside a language model (gradients through time, clipping, truncation,
saliency, gates) or an encoder-decoder (tensor shapes), headless: text by default, one JSON document with
``--json``. The engine is ``rnntui.inspect``; the Gradients view draws the same numbers."""

from __future__ import annotations

import argparse
import json
import math
import sys

from rnntui.errors import ConfigError

RAMP = " .:-=+*#%@"  # a value from low to high as a character, for text coloured by a unit


def _model_options(p: argparse.ArgumentParser, num_steps: int) -> None:
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--checkpoint", metavar="PATH", help="a language model's checkpoint.pt")
    which.add_argument("--preset", metavar="NAME", help="a preset's untrained model, initialised with its seed")
    text = p.add_mutually_exclusive_group()
    text.add_argument("--text", help="the text to read (preprocessed as the model's corpus)")
    text.add_argument("--num-steps", type=int, default=num_steps,
                      help=f"without --text: a window of this many steps of the corpus (default {num_steps})")
    p.add_argument("--offset", type=int, default=0, help="where the corpus window starts (default 0)")
    p.add_argument("--part", choices=("val", "train"), default="val",
                   help="the corpus part the window comes from: held out (val, default) or training")
    p.add_argument("--data-dir", metavar="DIR", help="where the data sets are cached (or RNNTUI_DATA_DIR)")
    p.add_argument("--json", action="store_true", help="print one JSON document")


def add_parsers(sub, parser_class) -> None:
    inspect = sub.add_parser(
        "inspect", help="look inside a model: gradients, clipping, truncation, saliency, gates, shapes",
        description="Measure what happens inside a recurrent network on a text, headless (the Gradients view's twin).")
    what = inspect.add_subparsers(dest="what", metavar="WHAT", parser_class=parser_class, required=True)

    p = what.add_parser("gradients", help="||dL_T/dH_t|| against the distance T - t",
                        description="The norm of the gradient of the last step's loss with respect to every earlier "
                        "hidden state (the top layer's), oldest first; for an RNN the spectral radius of W_hh.")
    _model_options(p, 35)
    p.add_argument("--scale", type=float, default=1.0, help="multiply the recurrent weights by this (on a copy; "
                   "e.g. 0.25 to 4: from vanishing to exploding)")
    p.set_defaults(func=run_gradients)

    p = what.add_parser("clip", help="one batch's gradient before and after clipping",
                        description="Clip one minibatch's gradient by global norm, as training does: the norm "
                        "before and after, the cosine between the two and the SGD step each implies.")
    _model_options(p, 0)
    p.add_argument("--clip", type=float, help="the threshold (default: the model's train.clip, else 1)")
    p.add_argument("--lr", type=float, help="the learning rate for the step size (default: the model's train.lr)")
    p.add_argument("--batch-size", type=int, help="rows of the batch (default: the model's data.batch_size)")
    p.set_defaults(func=run_clip)

    p = what.add_parser("truncation", help="dL/dW_hh in full against truncated at tau steps",
                        description="The recurrent weights' gradient by full backpropagation over the window "
                        "against backpropagation truncated at tau steps, and each step's term of the sum.")
    _model_options(p, 35)
    p.add_argument("--tau", type=int, action="append", metavar="TAU", help="a truncation length (repeat it; "
                   "default 5, 10 and 35)")
    p.add_argument("--loss", choices=("last", "mean"), default="last",
                   help="L_T, the last step's loss (default), or the mean over the steps (the training loss)")
    p.add_argument("--layer", type=int, help="whose W_hh (default the top layer)")
    p.set_defaults(func=run_truncation)

    p = what.add_parser("saliency", help="which earlier tokens a prediction depends on",
                        description="The norm of the gradient of one position's log-probability with respect to "
                        "every input (one-hot or embedding), and the share more than k tokens back.")
    _model_options(p, 35)
    p.add_argument("--position", type=int, help="the index of the predicted token (default the last)")
    p.add_argument("-k", type=int, default=10, help="report the share of the mass more than k tokens back (default 10)")
    p.set_defaults(func=run_saliency)

    p = what.add_parser("gates", help="gate and state values per step and unit",
                        description="Every gate's value (GRU: R, Z, H_tilde, H; LSTM: I, F, O, C_tilde, C, H) per "
                        "step and unit, recomputed from the module's weights; the most variable units, the unit "
                        "that responds most to a pattern, and gate saturation.")
    _model_options(p, 100)
    p.add_argument("--layer", type=int, help="which layer (default the top one)")
    p.add_argument("--gate", default="H", help="the gate or state to rank and show units of (default H)")
    p.add_argument("--unit", type=int, help="show the text shaded by this unit's value")
    p.add_argument("--pattern", help="find the unit that responds most where this occurs (e.g. ' ' or 'the')")
    p.add_argument("--top", type=int, default=10, help="how many of the most variable units to list (default 10)")
    p.add_argument("--saturation", action="store_true",
                   help="gate saturation over a long text: the held-out part (or --text)")
    p.add_argument("--saturation-steps", type=int, default=20000,
                   help="how many held-out tokens --saturation reads at most (default 20000)")
    p.set_defaults(func=run_gates)

    p = what.add_parser("shapes", help="tensor shapes through the encoder-decoder",
                        description="The shape of every tensor through the RNN encoder-decoder, measured by "
                        "running it, with what each dimension means. Without a checkpoint or preset: the seed's "
                        "example (vocab 10, embed 8, hidden 16, 2 GRU layers, batch 4, 7 steps).")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--checkpoint", metavar="PATH", help="a seq2seq checkpoint.pt")
    which.add_argument("--preset", metavar="NAME", help="a seq2seq preset (its vocabularies need its data)")
    p.add_argument("--kind", choices=("rnn", "gru", "lstm"), help="the recurrent layer (example: gru)")
    for name, default in (("vocab-size", 10), ("embed-size", 8), ("num-hiddens", 16), ("num-layers", 2),
                          ("batch-size", 4), ("num-steps", 7)):
        p.add_argument(f"--{name}", type=int, help=f"(example: {default})")
    p.add_argument("--data-dir", metavar="DIR", help="where the data sets are cached (or RNNTUI_DATA_DIR)")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.set_defaults(func=run_shapes)


# ---------------------------------------------------------------------------------------------------


def _load(args):
    from rnntui.inspect.gradients import load_lm

    return load_lm(checkpoint=args.checkpoint, preset=args.preset, data_dir=args.data_dir)


def _text_ids(lm, args, default_steps: int | None = None) -> tuple[list[int], str]:
    """The ids to read and a line saying where they come from."""
    if args.text is not None:
        unknown = lm.unknown(args.text)
        ids = lm.encode(args.text)
        note = f"the given text ({len(ids)} tokens)"
        if unknown:
            note += "; not in the vocabulary, read as <unk>: " + " ".join(repr(t) for t in unknown)
        return ids, note
    steps = args.num_steps or default_steps
    ids = lm.window(steps, args.offset, args.part, args.data_dir)
    part = "held-out" if args.part == "val" else "training"
    return ids, f"{steps + 1} tokens of the {part} part from offset {args.offset}"


def _plain(value):
    """JSON-ready: non-finite floats become null."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _dump(document: dict) -> None:
    json.dump(_plain(document), sys.stdout, allow_nan=False)
    sys.stdout.write("\n")


def _describe(lm) -> str:
    c = lm.model.config
    layers = f"{c.num_layers} layers" if c.num_layers > 1 else "1 layer"
    bi = "bidirectional " if c.bidirectional else ""
    return f"{lm.label}: {bi}{c.kind.upper()} ({c.impl}), {layers}, {c.num_hiddens} hidden"


def _show(token: str) -> str:
    return repr(token)[1:-1] if token != " " else "␣"


def _g(x: float | None) -> str:
    return "-" if x is None or (isinstance(x, float) and not math.isfinite(x)) else f"{x:.3g}"


def run_gradients(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from rnntui.inspect.gradients import gradient_flow

    lm = _load(args)
    ids, where = _text_ids(lm, args)
    flow = gradient_flow(lm, ids, scale=args.scale)
    if args.json:
        _dump({"model": lm.label, "window": where, **asdict(flow)})
        return 0
    print(_describe(lm))
    print(f"window: {where}; L_T = {flow.loss:.4g} nats for predicting {flow.target!r}")
    layer = f"the top layer's (layer {flow.layer} of {flow.num_layers}) " if flow.num_layers > 1 else ""
    print(f"||dL_T/dH_t|| for {layer}H_t, oldest first; the seed's 0.5^(T-t) beside it, from the same start")
    if flow.spectral_radius is not None:
        print(f"spectral radius of W_hh (x{flow.scale:g}): {flow.spectral_radius:.4g}"
              + ("  (< 1: with tanh, gradients vanish)" if flow.spectral_radius < 1 else ""))
    elif flow.scale != 1:
        print(f"recurrent weights scaled x{flow.scale:g}")
    print(f"fitted per-step factor: {_g(flow.per_step_factor)}  (unrolled step by step; max logit difference "
          f"from the module's forward {flow.unroll_error:.1g})")
    print(f"{'T-t':>4}  {'token':<5}  {'norm':>10}  {'0.5^(T-t)':>10}" + ("  ||dL_T/dC_t||" if flow.cell_norms else ""))
    for i, (d, token, norm, ref) in enumerate(zip(flow.distances, flow.tokens, flow.norms, flow.reference)):
        cell = f"  {flow.cell_norms[i]:>10.3e}" if flow.cell_norms else ""
        print(f"{d:>4}  {_show(token):<5}  {norm:>10.3e}  {ref:>10.3e}{cell}")
    return 0


def run_clip(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from rnntui.inspect.gradients import clip_effect

    lm = _load(args)
    train = lm.config.train
    threshold = args.clip if args.clip is not None else (train.clip if train.clip > 0 else 1.0)
    lr = args.lr if args.lr is not None else train.lr
    if args.text is not None:
        rows, where = [lm.encode(args.text)], "the given text (one row)"
    else:
        batch_size = args.batch_size or lm.config.data.batch_size
        num_steps = args.num_steps or lm.config.data.num_steps
        rows = lm.batch(batch_size, num_steps, args.data_dir)
        where = f"the first training batch: {batch_size} rows of {num_steps} steps"
    effect = clip_effect(lm, rows, threshold, lr)
    if args.json:
        _dump({"model": lm.label, "batch": where, **asdict(effect)})
        return 0
    print(_describe(lm))
    print(f"batch: {where}; loss {effect.loss:.4g} nats per token")
    print(f"gradient norm before clipping {effect.norm_before:.4g}, after {effect.norm_after:.4g} "
          f"(threshold {effect.threshold:g}: {'clipped' if effect.clipped else 'not clipped'}, x{effect.factor:.3g})")
    print(f"cosine between the two: {effect.cosine:.9f} (1: the direction is kept)")
    print(f"SGD step length lr * norm (lr {effect.lr:g}): {effect.step_before:.4g} unclipped, {effect.step_after:.4g} clipped")
    width = max(len(k) for k in effect.groups_before)
    print(f"{'group':<{width}}  {'before':>10}  {'after':>10}")
    for name, before in effect.groups_before.items():
        print(f"{name:<{width}}  {before:>10.4g}  {effect.groups_after[name]:>10.4g}")
    return 0


def run_truncation(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from rnntui.inspect.gradients import DEFAULT_TAUS, truncation

    lm = _load(args)
    ids, where = _text_ids(lm, args)
    result = truncation(lm, ids, taus=args.tau or DEFAULT_TAUS, loss=args.loss, layer=args.layer)
    if args.json:
        _dump({"model": lm.label, "window": where, **asdict(result)})
        return 0
    T = len(result.contributions)
    print(_describe(lm))
    what = "L_T (the last step's loss)" if result.loss_kind == "last" else "the mean loss over the steps"
    print(f"window: {where}; dL/dW of {', '.join(result.parameters)} for {what} = {result.loss:.4g}")
    print(f"full backpropagation over {T} steps: ||g|| = {result.full_norm:.4g}")
    for i, tau in enumerate(result.taus):
        line = (f"tau {tau:>3}: ||g_tau|| = {result.truncated_norms[i]:.4g}, relative difference "
                f"{result.relative_differences[i]:.3g}, cosine {result.cosines[i]:.6f}")
        if result.dropped_shares is not None:
            line += (f"; drops {max(T - tau, 0)} terms, {100 * result.dropped_shares[i]:.3g}% of the terms' norm, "
                     f"the largest {result.largest_dropped[i]:.3g}")
        print(line)
    print("each step's term of the sum (its W_hh's gradient), oldest first:")
    for t, (token, c) in enumerate(zip(result.tokens, result.contributions), 1):
        print(f"{t:>4}  {_show(token):<5}  {c:.3e}")
    return 0


def run_saliency(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from rnntui.inspect.gradients import saliency

    lm = _load(args)
    ids, where = _text_ids(lm, args)
    result = saliency(lm, ids, position=args.position, k=args.k)
    if args.json:
        _dump({"model": lm.label, "text": where, **asdict(result)})
        return 0
    print(_describe(lm))
    print(f"text: {where}; log P({result.target!r} at position {result.position}) = {result.log_prob:.4g}")
    print(f"||d log P / d x_j|| ({result.wrt} inputs); {100 * result.mass_beyond_k:.3g}% of the earlier mass lies "
          f"more than {result.k} tokens back" + (f"; {100 * result.future_share:.3g}% on the predicted token and "
                                                 "after it (the model reads the future)" if result.future_share > 0
                                                 else ""))
    top = max(result.norms) or 1.0
    print(_shade(result.tokens, [n / top for n in result.norms]))
    for j, (token, norm, d) in enumerate(zip(result.tokens, result.norms, result.distances)):
        if d > 0 or norm > 0:
            print(f"{j:>4}  {_show(token):<5}  {d:>4}  {norm:.3e}")
    return 0


def _shade(tokens: list[str], values: list[float]) -> str:
    """The text on one line and, under it, each token's value in [0, 1] as a character of RAMP."""
    text = "".join(t if len(t) == 1 else f"[{t}]" for t in tokens)
    marks = "".join(RAMP[min(len(RAMP) - 1, max(0, int(v * (len(RAMP) - 1) + 0.5)))] * (len(t) if len(t) == 1
                    else len(t) + 2) for t, v in zip(tokens, values))
    return f"{text}\n{marks}"


def run_gates(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from rnntui.inspect.gates import gate_trace, most_variable_units, pattern_units, saturation

    lm = _load(args)
    ids, where = _text_ids(lm, args)
    trace = gate_trace(lm, ids, layer=args.layer)
    if args.gate not in trace.gates:
        raise ConfigError(f"a {trace.kind.upper()} has no gate {args.gate!r}; choose from {', '.join(trace.gates)}")
    if args.top < 1:
        raise ConfigError(f"--top must be >= 1; got {args.top}")
    variable = most_variable_units(trace, args.gate, args.top)
    found = pattern_units(trace, args.pattern, args.gate, token=lm.token) if args.pattern else None
    unit = args.unit if args.unit is not None else (found.unit if found else variable[0].unit)
    if not 0 <= unit < trace.num_hiddens:
        raise ConfigError(f"--unit must be between 0 and {trace.num_hiddens - 1}; got {unit}")
    sat = None
    if args.saturation:
        if args.text is not None:
            sat_ids = ids
        else:
            corpus = lm.load_corpus(args.data_dir)
            held_out = len(corpus.tokens) - len(corpus.train_ids)
            if args.saturation_steps < 2:
                raise ConfigError(f"--saturation-steps must be >= 2; got {args.saturation_steps}")
            sat_ids = lm.window(min(args.saturation_steps, held_out) - 1, 0, "val", args.data_dir)  # N tokens
        sat = saturation(lm, sat_ids, layer=args.layer)
    if args.json:
        document = {"model": lm.label, "text": where, **asdict(trace), "unit": unit,
                    "most_variable": [asdict(u) for u in variable]}
        if found:
            document["pattern"] = asdict(found)
        if sat:
            document["saturation"] = asdict(sat)
        _dump(document)
        return 0
    print(_describe(lm))
    print(f"text: {where}; layer {trace.layer}; gates recomputed from the weights (max difference from the "
          f"module {trace.error:.1g})")
    print(f"most variable units of {args.gate}: " + ", ".join(f"{u.unit} (std {u.std:.3g}, {u.low:.2f}..{u.high:.2f})"
                                                               for u in variable))
    if found:
        print(f"pattern {found.pattern!r} at {len(found.positions)} steps; units that respond most: " + ", ".join(
            f"{u} ({e:+.2f} std: {on:.2f} on, {off:.2f} off)"
            for u, e, on, off in zip(found.units, found.effects, found.means_on, found.means_off)))
    values = trace.unit(args.gate, unit)
    lo, hi = min(values), max(values)
    print(f"unit {unit} of {args.gate} over the text ({lo:.3g} '{RAMP[0]}' .. {hi:.3g} '{RAMP[-1]}'):")
    print(_shade(trace.tokens, [(v - lo) / (hi - lo) if hi > lo else 0.0 for v in values]))
    if sat:
        print(f"saturation (< {sat.low:g}, > {sat.high:g}) {sat.reading}")
        for gate, f in sat.fractions.items():
            mean_low, mean_high = sum(f["low"]) / len(f["low"]), sum(f["high"]) / len(f["high"])
            print(f"  {gate}: mean fraction of steps below {sat.low:g} {mean_low:.3f}, above {sat.high:g} {mean_high:.3f}")
    return 0


def run_shapes(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from rnntui.inspect import shapes

    model_options = {"kind": args.kind, "vocab_size": args.vocab_size, "embed_size": args.embed_size,
                     "num_hiddens": args.num_hiddens, "num_layers": args.num_layers}
    given = {k: v for k, v in model_options.items() if v is not None}
    if args.checkpoint:
        if given:
            raise ConfigError(f"--{next(iter(given)).replace('_', '-')} cannot change a checkpoint's model; "
                              "leave it out (--batch-size and --num-steps may change)")
        report = shapes.checkpoint_shapes(args.checkpoint, args.batch_size, args.num_steps)
    elif args.preset:
        from rnntui.presets import load_preset

        config = load_preset(args.preset)
        if config.task != "seq2seq":
            raise ConfigError(f"{args.preset} is a {config.task} preset; shapes shows an encoder-decoder "
                              "(seq2seq-gru, seq2seq-gru-big)")
        model = {k: v for k, v in given.items() if k != "vocab_size"}
        config = config.replace(model=model) if model else config
        report = shapes.config_shapes(config, args.vocab_size, args.vocab_size, args.batch_size, args.num_steps,
                                      args.data_dir)
    else:
        example = {**shapes.SEED_EXAMPLE, **given,
                   **{k: v for k, v in (("batch_size", args.batch_size), ("num_steps", args.num_steps)) if v}}
        report = shapes.example_shapes(**example)
    if args.json:
        _dump({"source": report.source, "settings": report.settings, **report.shapes(),
               "rows": [asdict(row) for row in report.rows]})
        return 0
    s = report.settings
    print(f"{report.source}: {str(s['kind']).upper()} encoder-decoder, vocab {s['src_vocab_size']} -> "
          f"{s['tgt_vocab_size']}, embed {s['src_embed']}, {s['num_hiddens']} hidden, {s['num_layers']} layers, "
          f"batch {s['batch_size']}, {s['num_steps']} steps")
    width = max(len(r.label) for r in report.rows)
    shape_width = max(len(str(tuple(r.shape))) for r in report.rows)
    for r in report.rows:
        print(f"{r.label:<{width}}  {str(tuple(r.shape)):<{shape_width}}  {r.describe():<36}  {r.note}")
    return 0
