"""Time from launch to the first painted frame: ``rnntui`` against a minimal Textual app, in a real pty.

    python benchmarks/startup.py [--rounds 10] [--size 120x40] [--runs-listed 20]

Each round starts a fresh interpreter in a pseudo-terminal of the given size (TERM=xterm-256color), reads
what it writes, and takes the time from just before the fork to the moment the frame's last line has
arrived: the text of the screen's bottom row, the key bar's or the footer's "palette" (Textual writes a
frame top to bottom). For rnntui it also takes the time to the frame that shows the preset's fields,
which are mounted just after the first frame (as are the views out of sight and the dashboard). The minimal app (``--minimal``: a Header, one line of text, a Footer) is what any
Textual program costs on this machine. The two alternate (minimal, rnntui, minimal, ...), since this
machine's speed drifts within seconds; each rnntui launch is compared with the mean of the minimal
launches before and after it, and the median of those ratios is printed with the medians of each side.
The runs folder holds ``--runs-listed`` past runs (the first screen must not wait for them).
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import pty
import re
import select
import shutil
import signal
import statistics
import struct
import sys
import tempfile
import termios
import time
from pathlib import Path

MARKER = b"palette"  # the bottom row of both apps: the key bar's (or Footer's) command palette key
FORM_MARKER = b"num_hiddens"  # a field of the lstm preset's form, which follows the first frame
ANSI = re.compile(rb"\x1b\[[0-9;?<>=$]*[ -/]*[@-~]|\x1b[()][A-Za-z0-9]|\x1b[=>]|\x1b\][^\x07]*\x07")


def minimal_app() -> None:
    from textual.app import App
    from textual.widgets import Footer, Header, Static

    class Minimal(App):
        def compose(self):
            yield Header()
            yield Static("one line of text")
            yield Footer()

    Minimal().run()


def first_frame(argv: list[str], env: dict[str, str], size: tuple[int, int], timeout: float = 60.0,
                then: bytes | None = None) -> float | tuple[float, float]:
    """Seconds from launch to the first frame that shows ``MARKER``, through a pty of ``size`` (cols, rows);
    with ``then``, also to the first frame that shows that text too."""
    cols, rows = size
    start = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:  # the child: the pty is its terminal
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        os.execve(argv[0], argv, env)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    seen, first = b"", None
    try:
        while True:
            left = start + timeout - time.perf_counter()
            if left <= 0:
                raise TimeoutError(f"no first frame after {timeout:g}s: {ANSI.sub(b'', seen)[-400:]!r}")
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                continue
            try:
                chunk = os.read(fd, 1 << 16)
            except OSError:  # the child exited
                raise RuntimeError(f"the app exited before its first frame: {ANSI.sub(b'', seen)[-400:]!r}")
            seen += chunk
            if first is None and MARKER in ANSI.sub(b"", seen[-8192:]):
                first = time.perf_counter() - start
                if then is None:
                    return first
                seen = b""  # what comes next
            if first is not None and then in ANSI.sub(b"", seen):
                return first, time.perf_counter() - start
    finally:
        try:
            os.killpg(os.getpgid(pid), signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
        os.close(fd)


def fill_runs(folder: Path, count: int) -> None:
    """``count`` past runs, as rnntui writes them (a config and a metrics log of a few epochs)."""
    from rnntui.config import to_toml
    from rnntui.presets import load_preset

    config = load_preset("lstm")
    for i in range(count):
        run = folder / f"lstm-20261201-{i:06d}"
        run.mkdir(parents=True)
        (run / "config.toml").write_text(to_toml(config), encoding="utf-8")
        lines = [{"event": "start", "epochs": 5, "steps_per_epoch": 150, "device": "cpu", "num_params": 1,
                  "description": "x"}]
        for step in range(1, 751):
            lines.append({"event": "step", "epoch": 1 + (step - 1) // 150, "step": (step - 1) % 150 + 1,
                          "global_step": step, "steps_per_epoch": 150, "loss": 2.0, "grad_norm": 1.0,
                          "clipped": False, "tokens_per_s": 1e5, "elapsed_s": step / 100})
        lines += [{"event": "epoch", "epoch": e, "epochs": 5, "train_loss": 1.5, "val_ppl": 6.0,
                   "tokens_per_s": 1e5, "elapsed_s": e * 1.5} for e in range(1, 6)]
        lines.append({"event": "end", "status": "finished", "epochs_done": 5, "elapsed_s": 7.5})
        (run / "metrics.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--size", default="120x40", help="terminal size, COLSxROWS")
    parser.add_argument("--runs-listed", type=int, default=20, help="past runs in the runs folder")
    parser.add_argument("--minimal", action="store_true", help=argparse.SUPPRESS)  # run the minimal app
    args = parser.parse_args()
    if args.minimal:
        minimal_app()
        return
    size = tuple(int(v) for v in args.size.lower().split("x"))
    work = Path(tempfile.mkdtemp(prefix="rnntui-startup-"))
    try:
        fill_runs(work / "runs", args.runs_listed)
        env = {**os.environ, "TERM": "xterm-256color", "RNNTUI_RUNS_DIR": str(work / "runs"),
               "RNNTUI_DATA_URL": "http://127.0.0.1:9/", "COLUMNS": str(size[0]), "LINES": str(size[1])}
        env.pop("TEXTUAL_ANIMATIONS", None)
        # Python's bytecode cache, as a user's installation has it (pip compiles the packages it installs; an
        # editable checkout is compiled at its first launch), even where PYTHONDONTWRITEBYTECODE is set
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
        minimal = [sys.executable, str(Path(__file__).resolve()), "--minimal"]
        rnntui = [sys.executable, "-m", "rnntui", "--device", "cpu"]
        first_frame(minimal, env, size)  # the files into the page cache and the bytecode cache, for both sides
        first_frame(rnntui, env, size, then=FORM_MARKER)
        mins, apps, fulls, ratios = [first_frame(minimal, env, size)], [], [], []
        for i in range(args.rounds):
            app, full = first_frame(rnntui, env, size, then=FORM_MARKER)
            apps.append(app)
            fulls.append(full)
            mins.append(first_frame(minimal, env, size))
            ratios.append(apps[-1] / ((mins[-2] + mins[-1]) / 2))
            print(f"round {i + 1}: minimal {mins[-2] * 1000:.0f} ms, rnntui {apps[-1] * 1000:.0f} ms "
                  f"(its form complete at {full * 1000:.0f} ms), minimal {mins[-1] * 1000:.0f} ms: "
                  f"ratio {ratios[-1]:.2f}", flush=True)
        q = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else [ratios[0]] * 3
        print(f"\nfirst painted frame at {args.size}, {args.rounds} rounds, {args.runs_listed} past runs listed:")
        print(f"  minimal Textual app  median {statistics.median(mins) * 1000:.0f} ms")
        print(f"  rnntui               median {statistics.median(apps) * 1000:.0f} ms "
              f"(the preset's fields all drawn: median {statistics.median(fulls) * 1000:.0f} ms)")
        print(f"  ratio rnntui/minimal median {statistics.median(ratios):.2f} (quartiles {q[0]:.2f}-{q[2]:.2f})")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
