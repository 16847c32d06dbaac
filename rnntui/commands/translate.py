"""``rnntui translate``: translate sentences with a trained seq2seq model."""

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
    tr.add_argument("sentences", nargs="*", metavar="SENTENCE")
    tr.set_defaults(func=run_translate)


def run_translate(args: argparse.Namespace) -> int:
    if args.beam < 1:
        raise ConfigError(f"--beam must be >= 1; got {args.beam}")
    sentences = args.sentences or [line.rstrip("\n") for line in sys.stdin if line.strip()]
    if not sentences:
        raise ConfigError("no sentence to translate: give sentences as arguments or on standard input")
    if args.reference and len(args.reference) != len(sentences):
        raise ConfigError(f"{len(sentences)} sentence(s) but {len(args.reference)} --reference(s); give one each")
    from rnntui.data.translation import preprocess, tokenize
    from rnntui.decoding.translate import translate
    from rnntui.training.checkpoint import load_checkpoint
    from rnntui.training.metrics_bleu import bleu
    from rnntui.training.trainer import resolve_device

    checkpoint = load_checkpoint(args.checkpoint, resolve_device(args.device))
    if checkpoint.config.task != "seq2seq":
        raise ConfigError(f"{args.checkpoint} holds a {checkpoint.config.task} model; `translate` needs a seq2seq one")
    src, tgt = checkpoint.vocabs["src"], checkpoint.vocabs["tgt"]
    for i, sentence in enumerate(sentences):
        result = translate(checkpoint.model, sentence, src, tgt, checkpoint.config.pairs.num_steps,
                           beam=args.beam, alpha=args.alpha)
        if result.unknown:
            logging.warning("not in the vocabulary, read as <unk>: %s", " ".join(result.unknown))
        line = result.text
        if args.reference:
            line += f"\tbleu {bleu(result.tokens, tokenize(preprocess(args.reference[i])), k=2):.3f}"
        print(line, flush=True)
    return 0
