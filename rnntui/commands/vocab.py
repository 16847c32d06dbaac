"""``rnntui vocab`` and ``rnntui batches``: the Vocab view's headless twins.

``vocab`` counts a text (The Time Machine, the built-in corpus, a file, or a run's data) and prints the
header figures, the vocabulary, the top n-grams and the Zipf exponents; ``batches`` prints the minibatch
plan of one epoch (random sampling or sequential partitioning) as training draws it.
"""

from __future__ import annotations

import argparse
import json

from rnntui.errors import ConfigError

ORDER_NAMES = {1: "unigram", 2: "bigram", 3: "trigram"}


def add_parsers(sub, parser_class) -> None:
    voc = sub.add_parser("vocab", help="tokens, vocabulary, n-grams and Zipf's law of a text",
                         description="Cut a text into tokens as training does and print the vocabulary, the "
                         "top unigrams, bigrams and trigrams, and the Zipf exponent of each (the Vocab view, "
                         "headless). Counts the whole text, or with --part train the part a model's "
                         "vocabulary is built from.")
    _source_options(voc)
    voc.add_argument("--side", choices=("source", "target"), default="source",
                     help="a translation run: the source or the target sentences (default source)")
    voc.add_argument("--reserved", nargs="*", metavar="TOK", help="reserved tokens, after <unk> "
                     "(default: none; a translation run's <pad> <bos> <eos>)")
    voc.add_argument("--part", choices=("all", "train"), help="count the whole text (default) or the training "
                     "part (a run's default)")
    voc.add_argument("--top", type=int, default=10, help="vocabulary rows and n-grams to list (default 10)")
    voc.add_argument("--find", metavar="TOKEN", help="also show this token's row (exact, else by prefix) and "
                     "a few of its contexts")
    voc.add_argument("--tokenize", metavar="TEXT", help="also cut this text into tokens as the settings do")
    voc.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    voc.set_defaults(func=run_vocab)

    bat = sub.add_parser("batches", help="the minibatch plan of one epoch, as training draws it",
                         description="Which windows of the training text each minibatch holds: the start "
                         "offset of every row's X window and X and Y as text, for random sampling or "
                         "sequential partitioning with a seed, drawn by the code that trains.")
    _source_options(bat)
    bat.add_argument("--sampling", choices=("sequential", "random"),
                     help="sequential partitioning (default; a run's own) or random sampling")
    bat.add_argument("--batch-size", type=int, help="rows per batch (default 32; a run's own; --example 2)")
    bat.add_argument("--num-steps", type=int, help="tokens per window (default 35; a run's own; --example 5)")
    bat.add_argument("--seed", type=int, help="the training seed (default 0; a run's own)")
    bat.add_argument("--epoch", type=int, default=1, help="which epoch's batches (default 1)")
    bat.add_argument("--max-batches", type=int, default=5, help="batches to print (default 5; 0: all)")
    bat.add_argument("--example", nargs="?", const="numbers", choices=("numbers", "timemachine"),
                     help="d2l's example: 35 tokens in windows of 5, batches of 2; the numbers 0..34 "
                     "(default) or the first 35 characters of The Time Machine")
    bat.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    bat.set_defaults(func=run_batches)


def _source_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--corpus", metavar="NAME|PATH", help="timemachine (default), pydoc or a UTF-8 text file")
    parser.add_argument("--run", metavar="RUN_DIR", help="a run folder: its data and settings (its vocabulary)")
    parser.add_argument("--token", choices=("char", "word"), help="characters (default) or words")
    parser.add_argument("--preprocess", choices=("d2l", "lower", "none", "nmt"),
                        help="d2l (default: non-letters to spaces, lowercase), lower, none, or nmt (the "
                        "translation pairs' preprocessing)")
    parser.add_argument("--min-freq", type=int, help="tokens seen fewer times map to <unk> (default 0)")
    parser.add_argument("--val-fraction", type=float, help="the held-out end of the text (default 0.1)")
    parser.add_argument("--data-dir", metavar="DIR", default=argparse.SUPPRESS,
                        help="where downloaded data sets are cached (or RNNTUI_DATA_DIR)")


def _inspector(args: argparse.Namespace):
    from rnntui.inspect.vocab import Source, VocabInspector

    if args.corpus and args.run:
        raise ConfigError("give --corpus or --run, not both")
    side = getattr(args, "side", "source")
    source = Source.run(args.run, side) if args.run else Source.corpus(args.corpus or "timemachine")
    return VocabInspector(source, getattr(args, "data_dir", None))


def _changes(args: argparse.Namespace, part: str | None) -> dict:
    """The settings given as flags, checked (a bad value fails before any text is read)."""
    from rnntui.inspect.vocab import Settings

    changes = {k: v for k, v in {
        "token": args.token, "preprocess": args.preprocess, "min_freq": args.min_freq,
        "val_fraction": args.val_fraction, "part": part,
        "reserved": tuple(args.reserved) if getattr(args, "reserved", None) is not None else None,
    }.items() if v is not None}
    Settings(**changes)
    return changes


def _settings(args: argparse.Namespace, inspector, part: str | None):
    return inspector.defaults().replace(**_changes(args, part))


# --- vocab -----------------------------------------------------------------------------------------------


def run_vocab(args: argparse.Namespace) -> int:
    if args.top < 0:
        raise ConfigError(f"--top must be >= 0; got {args.top}")
    _changes(args, args.part)
    inspector = _inspector(args)
    report = inspector.compute(_settings(args, inspector, args.part), top=args.top)
    found = report.find(args.find) if args.find else None
    kwic = report.contexts(found.row.token if found and found.match != "folded" else args.find) if args.find else None
    line = report.tokenize(args.tokenize) if args.tokenize is not None else None
    if args.json:
        out = report.to_dict(args.top)
        if args.find:
            out["find"] = None if found is None else {
                "query": found.query, "match": found.match, "index": found.row.index, "token": found.row.token,
                "count_in_text": found.count_in_text,
                "contexts": [[c.position, c.left, c.token, c.right] for c in kwic.contexts], "occurrences": kwic.count}
        if line is not None:
            out["tokenize"] = {"text": line.text, "prepared": line.prepared, "decoded": line.decoded,
                               "lossless": line.lossless, "num_unk": line.num_unk,
                               "pieces": [[p.token, p.index, p.unk] for p in line.pieces]}
        print(json.dumps(out))
        return 0
    print("\n".join(_vocab_text(report, args.top)))
    if args.find:
        print()
        print("\n".join(_find_text(args.find, found, kwic)))
    if line is not None:
        print()
        print("\n".join(_tokenize_text(line)))
    return 0


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.2f}%"


def _vocab_text(r, top: int) -> list[str]:
    s = r.settings
    reserved = " ".join(s.reserved) if s.reserved else "none"
    lines = [
        r.label,
        f"token {s.token}, preprocess {s.preprocess}, min_freq {s.min_freq}, reserved {reserved}"
        + ("" if r.matches_run is None else f"; the run's own vocabulary: {'yes' if r.matches_run else 'no'}"),
        (f"{r.num_tokens:,} {r.unit} counted, {r.num_distinct:,} distinct; vocabulary {r.vocab_size:,}; "
         f"min_freq folds {r.num_folded:,} distinct tokens ({r.folded_count:,} occurrences) into <unk>"),
        (f"held out: {r.heldout_tokens:,} {r.unit}, <unk> rate {_pct(r.unk_rate)} ({r.heldout_unk:,} that the "
         f"training part's vocabulary maps to <unk>)") if r.heldout_tokens else "held out: nothing",
        "",
        f"vocabulary (first {min(top, len(r.rows)):,} of {len(r.rows):,})",
    ]
    rows = [("index", "token", "count", "share", "cumulative")] + [
        (str(x.index), x.display, f"{x.count:,}", _pct(x.share), _pct(x.cumulative)) for x in r.rows[:top]]
    lines += _table(rows, right=(0, 2, 3, 4))
    if top:
        lines += ["", "most frequent n-grams"]
        head, cols = ["#"], []
        for n in sorted(r.ngrams):
            head += [ORDER_NAMES.get(n, f"{n}-gram"), "count"]
            cols.append(r.ngrams[n])
        body = []
        for i in range(max((len(c) for c in cols), default=0)):
            cells = [str(i + 1)]
            for c in cols:
                gram, count = c[i] if i < len(c) else ((), None)
                joiner = "" if r.settings.token == "char" else " "
                cells += [joiner.join(_visible_gram(gram, r.settings.token)), "" if count is None else f"{count:,}"]
            body.append(tuple(cells))
        lines += _table([tuple(head)] + body, right=(0,) + tuple(range(2, 2 * len(cols) + 1, 2)))
    lines += ["", "Zipf: log frequency = exponent * log rank + c (least squares)"]
    for n, z in sorted(r.zipf.items()):
        exp = "-" if z.exponent is None else f"{z.exponent:.3f}"
        lines.append(f"  {ORDER_NAMES.get(n, n)}: exponent {exp} over ranks {z.rank_lo:,}-{z.rank_hi:,} of "
                     f"{z.num_distinct:,} ({z.rule})")
    return lines


def _visible_gram(gram: tuple[str, ...], token: str) -> list[str]:
    from rnntui.inspect.vocab import display

    return [display(t) for t in gram]


def _find_text(query: str, found, kwic) -> list[str]:
    if found is None:
        return [f"find {query!r}: no such token, and no token starts with it"]
    row = found.row
    what = {"exact": "found", "prefix": "first token starting with it", "folded": "folded into <unk> by min_freq"}
    lines = [(f"find {query!r}: {what[found.match]}: index {row.index}, token {row.display!r}, "
              f"{found.count_in_text:,} in the counted text")]
    lines.append(f"{kwic.count:,} occurrences; {len(kwic.contexts)} in context:")
    for c in kwic.contexts:
        lines.append(f"  {c.position:>9,}  {_visible(c.left):>40} [{_visible(c.token)}] {_visible(c.right)}")
    return lines


def _tokenize_text(line) -> list[str]:
    return [
        f"tokenize {line.text!r}",
        f"  preprocessed: {line.prepared!r}",
        "  tokens: " + " | ".join(f"{p.display}:{p.index}" + ("!" if p.unk else "") for p in line.pieces),
        f"  decoded: {line.decoded!r} ({line.num_unk} <unk>; round trip {'exact' if line.lossless else 'lossy'})",
    ]


def _visible(text: str) -> str:
    """Text for one line of a table: newlines, tabs and other control characters made visible."""
    from rnntui.inspect.vocab import display

    return "".join(ch if ch == " " else display(ch) for ch in text)


def _table(rows: list[tuple[str, ...]], right: tuple[int, ...] = ()) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))).rstrip()
            for r in rows]


# --- batches ---------------------------------------------------------------------------------------------


def run_batches(args: argparse.Namespace) -> int:
    if args.max_batches < 0:
        raise ConfigError(f"--max-batches must be >= 0 (0: all); got {args.max_batches}")
    from rnntui.inspect.batches import (
        EXAMPLE_BATCH_SIZE,
        EXAMPLE_NUM_STEPS,
        check_arguments,
        plan_batches,
        seed_example,
        time_machine_example,
    )

    if args.example:
        if args.corpus or args.run:
            raise ConfigError("--example brings its own text; drop --corpus/--run")
        if (args.batch_size or EXAMPLE_BATCH_SIZE, args.num_steps or EXAMPLE_NUM_STEPS) != (
                EXAMPLE_BATCH_SIZE, EXAMPLE_NUM_STEPS):
            raise ConfigError(f"--example is batch size {EXAMPLE_BATCH_SIZE}, num_steps {EXAMPLE_NUM_STEPS}; "
                              "for others give --corpus")
        sampling, seed = args.sampling or "sequential", 0 if args.seed is None else args.seed
        plan = seed_example(sampling, seed) if args.example == "numbers" else \
            time_machine_example(sampling, seed, getattr(args, "data_dir", None))
    else:
        inspector = _inspector(args)
        cfg = inspector.run_config
        if cfg is not None and cfg.task != "lm":
            raise ConfigError(f"{args.run} is a {cfg.task} run; minibatch plans are for language models")
        d = cfg.data if cfg is not None else None
        sampling = args.sampling or (d.sampling if d else "sequential")
        batch_size = args.batch_size if args.batch_size is not None else (d.batch_size if d else 32)
        num_steps = args.num_steps if args.num_steps is not None else (d.num_steps if d else 35)
        seed = args.seed if args.seed is not None else (cfg.train.seed if cfg is not None else 0)
        check_arguments(sampling, batch_size, num_steps, seed, args.epoch)  # before the text is read
        report = inspector.compute(_settings(args, inspector, "train"), top=0)
        plan = plan_batches(report.sequence(), batch_size, num_steps, sampling, seed, args.epoch,
                            report.settings.token, report.label)
    limit = args.max_batches or None
    if args.json:
        print(json.dumps(plan.to_dict(limit)))
        return 0
    print("\n".join(_batches_text(plan, limit)))
    return 0


def _batches_text(plan, limit: int | None) -> list[str]:
    how = "sequential partitioning" if plan.sampling == "sequential" else "random sampling"
    lines = [
        plan.label,
        (f"{plan.num_tokens:,} tokens; {how}, batch_size {plan.batch_size}, num_steps {plan.num_steps}, seed "
         f"{plan.seed}, epoch {plan.epoch}: {plan.num_batches:,} batches, offset {plan.offset}, "
         f"{plan.covered:,} tokens in X windows"),
        ("row r of batch i+1 continues row r of batch i: yes, the state can be carried (truncated BPTT)"
         if plan.state_carries else
         "row r of batch i+1 continues row r of batch i: no, each batch starts from a fresh state"),
    ]
    for b in plan.batches(limit):
        lines += ["", f"batch {b.index}" + ("" if b.continues is None else
                                            f" (continues the batch before in {sum(b.continues)} of "
                                            f"{len(b.continues)} rows)")]
        rows = [("row", "start", "X", "Y")] + [
            (str(r), f"{s:,}", f'"{_visible(x)}"', f'"{_visible(y)}"') for r, (s, x, y) in
            enumerate(zip(b.starts, b.X, b.Y))]
        lines += _table(rows, right=(0, 1))
    shown = plan.num_batches if limit is None else min(limit, plan.num_batches)
    if shown < plan.num_batches:
        lines += ["", f"... {plan.num_batches - shown:,} more batches (--max-batches 0 prints all)"]
    return lines
