"""``rnntui generate``: continue a prefix with a trained language model."""

from __future__ import annotations

import argparse
import logging

from rnntui.errors import ConfigError


def add_parsers(sub, parser_class) -> None:
    gen = sub.add_parser("generate", help="continue a prefix with a trained model",
                         description="Warm up on the prefix, then generate token by token.")
    gen.add_argument("--checkpoint", required=True, metavar="PATH", help="a checkpoint.pt written by `rnntui train`")
    gen.add_argument("--prefix", required=True, help="the text to continue")
    gen.add_argument("--num-chars", "--num-tokens", dest="num_tokens", type=int, default=100,
                     help="how many tokens (characters, or words for a word model) to generate (default 100)")
    gen.add_argument("--strategy", choices=("greedy", "temperature", "top-k", "top-p"), default="greedy")
    gen.add_argument("--temperature", type=float, default=1.0)
    gen.add_argument("--top-k", type=int, default=10)
    gen.add_argument("--top-p", type=float, default=0.9)
    gen.add_argument("--seed", type=int, default=0)
    gen.add_argument("--device", default="cpu")
    gen.set_defaults(func=run_generate)


def run_generate(args: argparse.Namespace) -> int:
    from rnntui.decoding.sampling import DecodeConfig

    decode = DecodeConfig(args.strategy, args.temperature, args.top_k, args.top_p)
    if args.num_tokens < 0:
        raise ConfigError(f"--num-chars must be >= 0; got {args.num_tokens}")
    import torch

    from rnntui.decoding.generate import generate
    from rnntui.training.checkpoint import load_checkpoint
    from rnntui.training.trainer import resolve_device

    checkpoint = load_checkpoint(args.checkpoint, resolve_device(args.device))
    if checkpoint.config.task != "lm":
        raise ConfigError(f"{args.checkpoint} holds a {checkpoint.config.task} model; `generate` needs a language "
                          "model" + (" (use `rnntui translate`)" if checkpoint.config.task == "seq2seq" else ""))
    if checkpoint.config.model.bidirectional:
        logging.warning("this model is bidirectional: it saw the next token during training, so it cannot predict")
    result = generate(checkpoint.model, checkpoint.vocab, args.prefix, args.num_tokens, checkpoint.token, decode,
                      torch.Generator().manual_seed(args.seed),
                      lowercase=checkpoint.config.data.preprocess != "none")
    print(result.text)
    return 0
