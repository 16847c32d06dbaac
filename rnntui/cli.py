"""The ``rnntui`` command. Parsing imports nothing heavy: torch loads only when a command needs it.

    rnntui                       the playground (TUI)
    rnntui train --preset lstm   train headless, with a progress bar, metrics.jsonl and a checkpoint
    rnntui generate ...          continue a prefix with a trained checkpoint
    rnntui presets               list the presets (``--show NAME`` prints one as TOML)
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import time
from pathlib import Path
from typing import TextIO

from rnntui import __version__
from rnntui.clock import clock
from rnntui.errors import ConfigError, RnntuiError, RunFolderError

PROG = "rnntui"


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (and exit status 2)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


_APP_OPTIONS = ("--preset", "--device", "--runs-dir", "--data-dir")  # the playground's, each with a value


def _opens_the_app(argv: list[str]) -> bool:
    """Whether ``argv`` holds only the playground's own options (no command, no --help, nothing unknown)."""
    args = iter(argv)
    for arg in args:
        if arg in _APP_OPTIONS:
            next(args, None)
        elif arg.partition("=")[0] not in _APP_OPTIONS or "=" not in arg:
            return False
    return True


def _build_parser(commands: bool = True) -> argparse.ArgumentParser:
    """The command line; without ``commands``, only the playground's options (the subcommands' parsers are a
    part of the app's first frame: benchmarks/startup.py)."""
    parser = _Parser(prog=PROG, description="A terminal playground for recurrent neural networks.")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    parser.add_argument("--preset", help="open the playground with this preset loaded")
    parser.add_argument("--device", help="device for training in the playground: auto, cpu, cuda, cuda:N, mps")
    parser.add_argument("--runs-dir", metavar="DIR", help="where runs are kept (default: per-user data directory)")
    parser.add_argument("--data-dir", metavar="DIR", help="where downloaded data sets are cached (or RNNTUI_DATA_DIR)")
    if not commands:
        parser.set_defaults(command=None)
        return parser
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    train = sub.add_parser("train", help="train a model headless", description=(
        "Train a preset (optionally overridden by a TOML config file and flags). Writes metrics.jsonl, "
        "config.toml and checkpoint.pt to the output directory."))
    train.add_argument("--preset", help="a preset name (see `rnntui presets`)")
    train.add_argument("--config", metavar="FILE.toml", help="a TOML config; laid over the preset if both are given")
    train.add_argument("--epochs", type=int, help="number of epochs")
    train.add_argument("--device", help="auto (default), cpu, cuda, cuda:N or mps")
    train.add_argument("--seed", type=int, help="random seed (a CPU run with the same seed repeats exactly)")
    train.add_argument("--corpus", metavar="PATH", help="train on this UTF-8 text file (or 'timemachine', 'pydoc')")
    train.add_argument("--out", metavar="DIR", help="run directory (default: a new one under the runs directory)")
    train.add_argument("--data-dir", metavar="DIR", help="where downloaded data sets are cached (or RNNTUI_DATA_DIR)")
    train.add_argument("--quiet", action="store_true", help="no progress bar; only the epoch lines")
    train.add_argument("--resume", metavar="RUN_DIR", help="go on with this run, in its own folder, until it has "
                       "--epochs epochs in all (default: its configured number)")

    from rnntui.commands import modules

    for module in modules():
        module.add_parsers(sub, _Parser)

    runs = sub.add_parser("runs", help="list past runs, or compare some",
                          description="List the runs in the runs directory, or print the per-epoch curves of "
                          "several side by side (the TUI's Runs view, headless).")
    runs.add_argument("--runs-dir", metavar="DIR", help="default: the per-user runs directory or RNNTUI_RUNS_DIR")
    runs.add_argument("--compare", nargs="+", metavar="RUN", help="run folder names (or paths) to compare")
    runs.add_argument("--metric", help="the per-epoch metric to compare (default: val_ppl, val_bleu or test_mse)")

    presets = sub.add_parser("presets", help="list the presets", description="List the presets, or print one.")
    presets.add_argument("--show", metavar="NAME", help="print this preset as TOML (to copy and edit)")

    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = _build_parser(commands=not _opens_the_app(argv)).parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format=f"{PROG}: note: %(message)s", stream=sys.stderr)
    try:
        if args.command == "train":
            return _train(args)
        if args.command == "presets":
            return _presets(args)
        if args.command == "runs":
            return _runs(args)
        if getattr(args, "func", None) is not None:  # a command of rnntui.commands
            return args.func(args)
        return _tui(args)
    except ConfigError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except RnntuiError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"\n{PROG}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (``rnntui runs | head``): stop quietly, as cat does
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # Python's exit flush must not fail too
        return 141


def _tui(args: argparse.Namespace) -> int:
    from rnntui.presets import names

    preset = args.preset or "lstm"
    if preset not in names():
        raise ConfigError(f"unknown preset {preset!r}; choose from {', '.join(names())}")
    device = args.device or "auto"
    if device not in ("auto", "cpu"):  # an unavailable device is a one-line error before the screen opens
        from rnntui.training.trainer import resolve_device

        resolve_device(device)  # (this imports torch first; auto and cpu need nothing before the first frame)
    from rnntui.tui.app import RnntuiApp

    app = RnntuiApp(preset=preset, device=device, runs_dir=args.runs_dir, data_dir=args.data_dir,
                    when_warm=freeze_heap)
    app.run()
    return app.return_code or 0  # non-zero when the app crashed (Textual has printed the traceback)


def freeze_heap() -> None:
    """Everything alive once the app runs with torch imported (modules, widgets) goes out of the garbage
    collector's sight: a full collection then scans what was made since, not all of it, and a key press
    that meets one is not held up by it (benchmarks/tui.py: key press to frame)."""
    import gc

    gc.collect()
    gc.freeze()


def _presets(args: argparse.Namespace) -> int:
    from rnntui.presets import load_preset, names, preset_text

    if args.show:
        sys.stdout.write(preset_text(args.show))
        return 0
    rows = [(name, load_preset(name)) for name in names()]
    width = max(len(name) for name, _ in rows)
    for name, config in rows:
        print(f"{name:<{width}}  {config.description}")
    return 0


def _load_config(args: argparse.Namespace):
    from rnntui.config import ExperimentConfig, load_toml
    from rnntui.presets import load_preset

    if args.resume:
        given = [flag for flag, value in (("--preset", args.preset), ("--config", args.config),
                                          ("--corpus", args.corpus), ("--seed", args.seed), ("--out", args.out))
                 if value is not None]
        if given:
            raise ConfigError(f"--resume goes on with the run's own settings; {', '.join(given)} cannot change them")
        run = Path(args.resume)
        if not (run / "config.toml").is_file():
            raise ConfigError(f"no run to resume in {run}: it has no config.toml")
        config = load_toml(run / "config.toml")
        train = {k: v for k, v in {"epochs": args.epochs, "device": args.device}.items() if v is not None}
        return config.replace(train=train)
    if not args.preset and not args.config:
        raise ConfigError("give --preset NAME (see `rnntui presets`) or --config FILE.toml")
    config = load_preset(args.preset) if args.preset else ExperimentConfig()
    if args.config:
        config = load_toml(args.config, base=config)
    train = {k: v for k, v in {"epochs": args.epochs, "device": args.device, "seed": args.seed}.items() if v is not None}
    data = {"corpus": args.corpus} if args.corpus else {}
    return config.replace(train=train, data=data)


def _train(args: argparse.Namespace) -> int:
    config = _load_config(args)  # every option is checked before torch is even imported
    from rnntui.paths import runs_dir
    from rnntui.training.experiment import train
    from rnntui.training.runs import CHECKPOINT, METRICS, discard_if_empty, new_run_dir

    made = not args.out and not args.resume
    try:
        out = Path(args.resume or args.out) if not made else new_run_dir(runs_dir(), config.name)
    except OSError as exc:
        raise RunFolderError(f"cannot make a run folder in {runs_dir()}: {exc.strerror or exc}") from None
    progress = Progress(sys.stderr, quiet=args.quiet)
    stopped_by: list[int] = []  # SIGTERM (a scheduler's time limit, kill) and SIGHUP (a closed terminal)
    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), lambda signum, frame: stopped_by.append(signum))
    try:
        end, experiment = train(config, out, [progress], should_stop=lambda: bool(stopped_by),
                                data_dir=args.data_dir, resume=bool(args.resume))
    except KeyboardInterrupt:
        progress.clear()
        print(f"{PROG}: interrupted; checkpoint saved to {out / CHECKPOINT}", file=sys.stderr)
        return 130
    except BaseException:
        if made:
            discard_if_empty(out)  # bad data fails before anything is written
        raise
    finally:
        progress.clear()
    if stopped_by:
        name = signal.Signals(stopped_by[0]).name
        print(f"{PROG}: stopped by {name} after {end.epochs_done} epochs; checkpoint saved to {out / CHECKPOINT} "
              f"(go on with: rnntui train --resume {out})", file=sys.stderr)
        return 128 + stopped_by[0]
    best = ", ".join(f"best {k} {v:.4g}" for k, v in end.best.items() if not k.endswith("_loss"))
    print(f"{end.status} after {end.epochs_done} epochs in {end.elapsed_s:.0f}s"
          + (f" ({best})" if best else "") + f"; checkpoint {out / CHECKPOINT}, metrics {out / METRICS}")
    return 0


class Progress:
    """Progress bar on a terminal (at most 10 redraws a second) and one line per epoch on stdout."""

    def __init__(self, stream: TextIO, quiet: bool = False) -> None:
        self.stream = stream
        self.live = stream.isatty() and not quiet
        self.last_draw = 0.0
        self.total_steps = 0
        self.drawn = False
        self.unit = "tok"

    def __call__(self, event) -> None:
        kind = event.kind
        if kind == "start":
            self.total_steps = event.epochs * event.steps_per_epoch
            self.unit = event.unit
            print(f"{event.description}\n{event.num_params:,} parameters on {event.device}", flush=True)
        elif kind == "step" and self.live:
            now = time.monotonic()
            if now - self.last_draw >= 0.1 or event.step == event.steps_per_epoch:
                self.last_draw = now
                self._draw(event)
        elif kind == "epoch":
            self.clear()
            m = event.metrics
            shown = [k for k in ("train_ppl", "val_ppl") if k in m] or [
                k for k in ("train_loss", "val_loss", "val_bleu", "sample_bleu", "train_mse", "test_mse") if k in m]
            figures = "  ".join(f"{k} {m[k]:.4g}" for k in shown)
            print(f"epoch {event.epoch}/{event.epochs}  {figures}  {event.tokens_per_s:,.0f} {self.unit}/s"
                  + (f"  | {event.sample}" if event.sample else ""), flush=True)
        elif kind == "end" and event.status == "failed":
            self.clear()

    def _draw(self, e) -> None:
        import math

        frac = e.step / max(e.steps_per_epoch, 1)
        done = (e.epoch - 1 + frac)
        total_epochs = self.total_steps / max(e.steps_per_epoch, 1)
        eta = e.elapsed_s / max(done, 1e-9) * max(total_epochs - done, 0)

        bar = "#" * int(20 * frac) + "-" * (20 - int(20 * frac))
        ppl = f"  ppl {math.exp(min(e.loss, 50)):.2f}" if self.unit == "tok" else ""
        line = (f"\repoch {e.epoch} [{bar}] {e.step}/{e.steps_per_epoch}  loss {e.loss:.4g}{ppl}  "
                f"{e.tokens_per_s:,.0f} {self.unit}/s  ETA {clock(eta)} ")
        self.stream.write(line)
        self.stream.flush()
        self.drawn = True

    def clear(self) -> None:
        if self.drawn:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self.drawn = False


def _runs(args: argparse.Namespace) -> int:
    from rnntui.paths import runs_dir
    from rnntui.training.runs import CELL_TITLES, CONFIG, comparable_metric, list_runs, read_run

    directory = Path(args.runs_dir) if args.runs_dir else runs_dir()
    if not args.compare:
        runs = list_runs(directory)
        rows = [CELL_TITLES, *(run.cells() for run in runs)]
        if len(rows) == 1:
            print(f"no runs in {directory}")
            return 0
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        for row in rows:
            print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
        for run in runs:
            if run.error:
                print(f"{run.name}: unreadable: {run.error}")
        return 0
    chosen = []
    for name in args.compare:
        path = Path(name) if Path(name).is_dir() else directory / name
        if not (path / CONFIG).is_file():
            raise ConfigError(f"no run {name!r} in {directory}")
        run = read_run(path)
        if run.config is None:
            raise ConfigError(f"{name} is unreadable: {run.error}")
        chosen.append(run)
    metric = args.metric or comparable_metric(chosen)
    series = [r.history.epoch_series(metric) for r in chosen]
    widths = [max(len(r.name), 10) for r in chosen]  # a figure is at most 10 characters (.4g)
    print("epoch  " + "  ".join(r.name.ljust(w) for r, w in zip(chosen, widths)).rstrip() + f"   ({metric})")
    for epoch in range(max(len(s) for s in series)):
        cells = [(f"{s[epoch]:.4g}" if epoch < len(s) else "-").ljust(w) for s, w in zip(series, widths)]
        print((f"{epoch + 1:<5}  " + "  ".join(cells)).rstrip())
    return 0
