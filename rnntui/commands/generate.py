"""``rnntui generate``: continue a prefix with a trained language model.

With ``--prefix`` it prints the text (prefix and continuation) on one line. Without it, it reads prompts
from standard input, one a line, and prints one continuation a line as each is done (a pipe-friendly
REPL; a line break inside a continuation is printed as ``\\n``, a backslash as ``\\\\``).
``--show-steps`` adds each step's top tokens; ``--json`` prints one JSON object per prompt instead (one
document for ``--prefix``, JSON lines for standard input) with ``prefix``, ``continuation``, ``text``,
``unknown``, ``decode`` and ``steps``: per generated token ``index``, ``token``, ``prob``, ``prob_t1``,
``top`` ([[token, probability], ...], after temperature, descending), ``kept`` and ``entropy`` (nats).
"""

from __future__ import annotations

import argparse
import logging
import sys

from rnntui.errors import ConfigError


def add_parsers(sub, parser_class) -> None:
    gen = sub.add_parser("generate", help="continue a prefix with a trained model",
                         description="Warm up on the prefix, then generate token by token. Without --prefix, "
                                     "read prompts from standard input, one per line, and print one "
                                     "continuation per line.")
    gen.add_argument("--checkpoint", required=True, metavar="PATH", help="a checkpoint.pt written by `rnntui train`")
    gen.add_argument("--prefix", help="the text to continue (default: read prompts from standard input)")
    gen.add_argument("--num-chars", "--num-tokens", dest="num_tokens", type=int, default=100,
                     help="how many tokens (characters, or words for a word model) to generate (default 100)")
    gen.add_argument("--strategy", choices=("greedy", "temperature", "top-k", "top-p"), default="greedy")
    gen.add_argument("--temperature", type=float, default=1.0)
    gen.add_argument("--top-k", type=int, default=10)
    gen.add_argument("--top-p", type=float, default=0.9)
    gen.add_argument("--seed", type=int, default=0)
    gen.add_argument("--device", default="cpu")
    gen.add_argument("--show-steps", action="store_true",
                     help="also print each step's chosen token, probability, kept count, entropy and top tokens")
    gen.add_argument("--top", type=int, default=10, metavar="N",
                     help="how many of the most probable tokens a step shows (default 10)")
    gen.add_argument("--json", action="store_true", help="print JSON (with every step) instead of text")
    gen.set_defaults(func=run_generate)


def _step_line(step) -> str:
    top = "  ".join(f"{t!r} {p:.3f}" for t, p in step.top)
    return (f"  {step.index + 1:>4} {step.token!r:<8} p {step.prob:.3f} (T=1 {step.prob_t1:.3f})  "
            f"kept {step.kept:<4} H {step.entropy:.3f} nats | {top}")


def _one(checkpoint, prefix: str, decode, args, lowercase: bool) -> dict:
    """Generate from one prompt; returns the record printed as JSON (steps as TokenStep objects)."""
    import torch

    from rnntui.decoding.generate import generate, prefix_ids, stream

    generator = torch.Generator().manual_seed(args.seed)
    if not (args.json or args.show_steps):  # the plain path, unchanged
        result = generate(checkpoint.model, checkpoint.vocab, prefix, args.num_tokens, checkpoint.token, decode,
                          generator, lowercase=lowercase)
        return {"prefix": prefix, "continuation": result.continuation, "text": result.text, "steps": []}
    _, unknown = prefix_ids(checkpoint.vocab, prefix, checkpoint.token, lowercase)
    if unknown:
        logging.warning("not in the vocabulary, read as <unk>: %s", " ".join(repr(t) for t in unknown))
    steps = list(stream(checkpoint.model, checkpoint.vocab, prefix, args.num_tokens, checkpoint.token, decode,
                        generator, lowercase=lowercase, top=args.top))
    continuation = "".join(s.text for s in steps)
    return {"prefix": prefix, "continuation": continuation, "text": prefix + continuation, "unknown": unknown,
            "steps": steps}


def _as_json(record: dict, decode, seed: int) -> str:
    import json

    steps = [{"index": s.index, "token": s.token, "prob": s.prob, "prob_t1": s.prob_t1,
              "top": [[t, p] for t, p in s.top], "kept": s.kept, "entropy": s.entropy} for s in record["steps"]]
    return json.dumps({
        "prefix": record["prefix"], "continuation": record["continuation"], "text": record["text"],
        "unknown": record.get("unknown", []),
        "decode": {"strategy": decode.strategy, "temperature": decode.temperature, "top_k": decode.top_k,
                   "top_p": decode.top_p, "seed": seed},
        "steps": steps,
    }, ensure_ascii=False)


def run_generate(args: argparse.Namespace) -> int:
    from rnntui.decoding.sampling import DecodeConfig

    decode = DecodeConfig(args.strategy, args.temperature, args.top_k, args.top_p)
    if args.num_tokens < 0:
        raise ConfigError(f"--num-chars must be >= 0; got {args.num_tokens}")
    if args.top < 0:
        raise ConfigError(f"--top must be >= 0; got {args.top}")

    from rnntui.training.checkpoint import load_checkpoint
    from rnntui.training.trainer import resolve_device

    checkpoint = load_checkpoint(args.checkpoint, resolve_device(args.device))
    if checkpoint.config.task != "lm":
        raise ConfigError(f"{args.checkpoint} holds a {checkpoint.config.task} model; `generate` needs a language "
                          "model" + (" (use `rnntui translate`)" if checkpoint.config.task == "seq2seq" else ""))
    if checkpoint.config.model.bidirectional:
        logging.warning("this model is bidirectional: it saw the next token during training, so it cannot predict")
    lowercase = checkpoint.config.data.preprocess != "none"

    if args.prefix is not None:
        record = _one(checkpoint, args.prefix, decode, args, lowercase)
        if args.json:
            print(_as_json(record, decode, args.seed))
            return 0
        print(record["text"])
        for step in record["steps"]:
            print(_step_line(step))
        return 0

    prompts = 0
    for number, line in enumerate(iter(sys.stdin.readline, ""), 1):  # a line as soon as it comes
        prefix = line.rstrip("\r\n")
        if not prefix:
            continue  # a blank line: nothing to continue
        prompts += 1
        try:
            record = _one(checkpoint, prefix, decode, args, lowercase)
        except ConfigError as exc:  # one bad prompt (e.g. only spaces for a word model) does not end the REPL
            logging.warning("line %d: %s", number, exc)
            print("", flush=True)
            continue
        if args.json:
            print(_as_json(record, decode, args.seed), flush=True)
            continue
        continuation = record["continuation"]
        if checkpoint.token == "word":
            continuation = continuation.lstrip(" ")  # the space that joins it to the prompt
        print(continuation.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r"), flush=True)
        for step in record["steps"]:
            print(_step_line(step), flush=True)
    if not prompts:
        raise ConfigError("no prompt to continue: give --prefix TEXT or prompts on standard input, one per line")
    return 0
