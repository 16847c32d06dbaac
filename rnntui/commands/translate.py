"""``rnntui translate``: translate sentences with a trained seq2seq model.

One line per sentence: the translation (and ``\\tbleu X`` with ``--reference``). ``--show-beams`` adds the
beam tree under each line: per step the hypotheses kept (``*`` marks the chosen one, ``<eos>`` the finished
ones) and the best pruned candidates. ``--json`` prints JSON lines instead, one object per sentence as it
is done: ``source``, ``translation``, ``tokens``, ``score``, ``unknown``, ``bleu`` (with a reference),
``hypotheses`` (the final ones, best first: ``tokens``, ``score``), ``beams`` (per step, the hypotheses
kept: ``tokens`` (ending in ``<eos>`` when finished), ``log_prob``, ``score``, ``finished``, ``parent``),
``pruned`` (per step, the same for the best candidates cut) and ``chosen`` ([step, position] in ``beams``).
"""

from __future__ import annotations

import argparse
import logging
import sys

from rnntui.errors import ConfigError


def add_parsers(sub, parser_class) -> None:
    tr = sub.add_parser("translate", help="translate sentences with a trained seq2seq model",
                        description="Translate each sentence (or each line of standard input when none is given).")
    tr.add_argument("--checkpoint", required=True, metavar="PATH", help="a seq2seq checkpoint.pt")
    tr.add_argument("--beam", type=int, default=1, help="beam size (1: greedy)")
    tr.add_argument("--alpha", type=float, default=0.75, help="length normalisation: score = log P / L^alpha")
    tr.add_argument("--reference", action="append", metavar="TEXT",
                    help="a reference translation, once per sentence in order: prints BLEU (k=2) too")
    tr.add_argument("--device", default="cpu")
    tr.add_argument("--show-beams", action="store_true",
                    help="also print the beam search step by step: hypotheses kept, pruned and chosen")
    tr.add_argument("--json", action="store_true",
                    help="print one JSON object per sentence (JSON lines) with the beams of every step")
    tr.add_argument("sentences", nargs="*", metavar="SENTENCE")
    tr.set_defaults(func=run_translate)


def _hyp(h) -> dict:
    return {"tokens": h.tokens, "log_prob": h.log_prob, "score": h.score, "finished": h.finished,
            "parent": h.parent}


def _tree(trace) -> list[str]:
    chosen_step, chosen_pos = trace.chosen
    lines = []
    for t, step in enumerate(trace.steps):
        lines.append(f"  step {t + 1}")
        for pos, h in enumerate(step.kept):
            mark = "*" if (t, pos) == (chosen_step, chosen_pos) else " "
            lines.append(f"   {mark} {' '.join(h.tokens):<40} log P {h.log_prob:8.3f}  score {h.score:8.3f}")
        for h in step.pruned:
            lines.append(f"   - {' '.join(h.tokens):<40} log P {h.log_prob:8.3f}  (pruned)")
    return lines


def run_translate(args: argparse.Namespace) -> int:
    if args.beam < 1:
        raise ConfigError(f"--beam must be >= 1; got {args.beam}")
    sentences = args.sentences or [line.rstrip("\n") for line in sys.stdin if line.strip()]
    if not sentences:
        raise ConfigError("no sentence to translate: give sentences as arguments or on standard input")
    if args.reference and len(args.reference) != len(sentences):
        raise ConfigError(f"{len(sentences)} sentence(s) but {len(args.reference)} --reference(s); give one each")
    from rnntui.data.translation import encode_source, preprocess, tokenize
    from rnntui.decoding.translate import beam_trace, translate
    from rnntui.training.checkpoint import load_checkpoint
    from rnntui.training.metrics_bleu import bleu
    from rnntui.training.trainer import resolve_device

    checkpoint = load_checkpoint(args.checkpoint, resolve_device(args.device))
    if checkpoint.config.task != "seq2seq":
        raise ConfigError(f"{args.checkpoint} holds a {checkpoint.config.task} model; `translate` needs a seq2seq one")
    src, tgt = checkpoint.vocabs["src"], checkpoint.vocabs["tgt"]
    num_steps = checkpoint.config.pairs.num_steps
    for i, sentence in enumerate(sentences):
        result = translate(checkpoint.model, sentence, src, tgt, num_steps, beam=args.beam, alpha=args.alpha)
        if result.unknown:
            logging.warning("not in the vocabulary, read as <unk>: %s", " ".join(result.unknown))
        score_bleu = None
        if args.reference:
            score_bleu = bleu(result.tokens, tokenize(preprocess(args.reference[i])), k=2)
        trace = None
        if args.show_beams or args.json:
            ids, valid_len, _ = encode_source(sentence, src, num_steps)
            trace = beam_trace(checkpoint.model, ids, valid_len, tgt, num_steps, args.beam, args.alpha)
        if args.json:
            import json

            record = {
                "source": sentence, "translation": result.text, "tokens": result.tokens, "score": result.score,
                "unknown": result.unknown,
                "hypotheses": [{"tokens": tokens, "score": score} for tokens, score in result.hypotheses],
                "beams": [[_hyp(h) for h in step.kept] for step in trace.steps],
                "pruned": [[_hyp(h) for h in step.pruned] for step in trace.steps],
                "chosen": list(trace.chosen), "beam_size": args.beam, "alpha": args.alpha,
            }
            if score_bleu is not None:
                record["bleu"] = score_bleu
            print(json.dumps(record, ensure_ascii=False), flush=True)
            continue
        line = result.text
        if score_bleu is not None:
            line += f"\tbleu {score_bleu:.3f}"
        print(line, flush=True)
        if trace is not None:
            print("\n".join(_tree(trace)), flush=True)
    return 0
