"""The real ``rnntui`` command in a real terminal (tmux): set up a tiny run with keys only, train, quit.

Checks what Pilot cannot: the app draws in a 120x40 terminal, reacts to the escape sequences a terminal
sends, and on quitting gives the terminal back as it found it (normal screen, cursor shown, no mouse
reporting), with exit status 0.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import SHARED_DATA, cli_env

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
    pytest.mark.skipif(not SHARED_DATA.is_dir(), reason=f"no shared data in {SHARED_DATA}"),
]

WIDTH, HEIGHT = 120, 40
SESSION = "rnntui"
PROMPT = "shell-ready>"


# The lstm preset's form in focus order, from the data source: (Tabs to the field, its label,
# what to type). The data source is a Select before these: "Python docs" (offline). All of them are on the
# first screen of the form (the run is quit long before its 50 epochs are done).
FIELDS = [
    (6, "batch_size", "16"),  # device, fields, token, preprocess, min_freq, batch_size
    (1, "num_steps", "10"),
    (3, "max_tokens", "20000"),  # sampling, val_fraction, max_tokens
    (3, "num_hiddens", "32"),  # kind, impl, num_hiddens
]
STATUS = r"epoch (\d+)/50 step (\d+)/(\d+)"


class Tmux:
    """A tmux server of our own (its own socket, no user config), killed at the end."""

    def __init__(self, tmp_path: Path) -> None:
        self.socket = tmp_path / "tmux.sock"
        self.env = {**cli_env(tmp_path), "TERM": "xterm-256color"}
        self.env.pop("ENV", None)

    def __call__(self, *args: str, check: bool = True) -> str:
        done = subprocess.run(["tmux", "-S", str(self.socket), "-f", "/dev/null", *args], env=self.env,
                              capture_output=True, text=True, timeout=20)
        if check and done.returncode != 0:
            raise AssertionError(f"tmux {' '.join(args)} failed: {done.stderr.strip()}")
        return done.stdout

    def keys(self, *keys: str, delay: float = 0.03) -> None:
        for key in keys:
            self("send-keys", "-t", SESSION, *(["-l", key] if len(key) == 1 else [key]))
            time.sleep(delay)

    def line(self, text: str) -> None:
        """Type a command line into the shell and run it."""
        self("send-keys", "-t", SESSION, "-l", text)
        self("send-keys", "-t", SESSION, "C-m")

    def cursor_line(self) -> str:
        """The line of the terminal's cursor: Textual puts it in the focused Input, also when hidden."""
        y = int(self("display-message", "-p", "-t", SESSION, "#{cursor_y}").strip())
        return self.screen().splitlines()[y]

    def focus_field(self, label: str, timeout: float = 10.0) -> None:
        """Wait until the focus is in the field ``label``. Textual hands a key to the widget that has the
        focus when the key is read: a letter sent right after a Tab can still reach the previous field.
        (The cursor goes where the field is when it gets the focus: scrolling the form leaves it behind.)"""
        deadline = time.monotonic() + timeout
        while not re.match(rf"\s*{label} ", self.cursor_line()):
            if time.monotonic() > deadline:
                raise AssertionError(f"the focus did not reach {label}; the cursor is on {self.cursor_line()!r}")
            time.sleep(0.05)

    def screen(self, styles: bool = False) -> str:
        """The visible text of the pane (with ``styles``, its colours and attributes too)."""
        return self("capture-pane", "-p", *(["-e"] if styles else []), "-t", SESSION)

    def flag(self, name: str) -> str:
        return self("display-message", "-p", "-t", SESSION, f"#{{{name}}}").strip()

    def wait_for(self, pattern: str, timeout: float = 30.0) -> re.Match:
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            found = re.search(pattern, screen)
            if found:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(f"no {pattern!r} on the screen after {timeout:g}s; it shows:\n{screen}")
            time.sleep(0.1)


@pytest.fixture
def tmux(tmp_path):
    server = Tmux(tmp_path)
    server("new-session", "-d", "-s", SESSION, "-x", str(WIDTH), "-y", str(HEIGHT), "sh")
    try:
        server.wait_for(r"(?m)[#$] ?$", timeout=10)  # sh's own prompt first: keys typed earlier echo out of order
        server.line(f"PS1='{PROMPT}'")  # (sh takes no PS1 from the environment as root)
        server.wait_for(rf"(?m){PROMPT}$", timeout=10)  # (the new prompt may follow the old one on its line)
        yield server
    finally:
        server("kill-server", check=False)


def body(screen: str) -> str:
    """The screen without its status line (the charts and the samples)."""
    return "\n".join(line for line in screen.splitlines() if "│ epoch " not in line)


def test_rnntui_in_tmux(tmux, tmp_path):
    runs = tmp_path / "runs"
    command = (f"{shlex.quote(sys.executable)} -m rnntui --device cpu --runs-dir {shlex.quote(str(runs))} "
               f"--preset lstm; echo EXIT=$?")
    tmux.line(command)
    tmux.wait_for(r"1 Train.*2 Runs", timeout=60)
    tmux.wait_for(r"(?m)^\s+preset lstm\s+▼$", timeout=10)  # the form (not the command line's --preset lstm)
    tmux.wait_for(r"(?m)^\s+token char\s+▼$", timeout=10)  # and the preset's fields in it
    assert tmux.flag("alternate_on") == "1"

    tmux.keys("Tab", "Enter")  # from the preset (the focus is in the form at start) to the data: open its list
    tmux.wait_for("a text file…", timeout=10)
    before = tmux.screen(styles=True)
    tmux.keys("Down")
    deadline = time.monotonic() + 5
    while tmux.screen(styles=True) == before and time.monotonic() < deadline:  # the highlight moved
        time.sleep(0.05)
    tmux.keys("Enter")
    tmux.wait_for(r"(?m)^\s+data Python docs", timeout=10)
    for tabs, label, value in FIELDS:
        tmux.keys(*["Tab"] * tabs)
        tmux.focus_field(label)
        tmux.keys(*value)  # replaces the field's text: an Input selects it all when it gets the focus
        tmux.wait_for(rf"(?m)^\s+{label} {value}\s*$", timeout=10)
    before = tmux.screen(styles=True)
    tmux.keys("BTab")  # to the impl Select, where 's' is a key and not a letter typed into a field
    deadline = time.monotonic() + 5
    while tmux.screen(styles=True) == before and time.monotonic() < deadline:  # the focus moved
        time.sleep(0.05)
    time.sleep(0.3)
    setup = tmux.screen()
    assert "must be" not in setup, f"the typed setup is invalid:\n{setup}"

    tmux.keys("s")
    status = tmux.wait_for(STATUS, timeout=30)
    screen = tmux.screen()
    assert "32 hidden" in screen and "Python documentation" in screen, screen  # what the keys set up
    assert "loss per step" in screen
    time.sleep(1.5)
    later = tmux.screen()
    later_status = re.search(STATUS, later)
    assert later_status and later_status.group(0) != status.group(0), "the status line did not move"
    assert body(later) != body(screen), "the charts did not change"

    # every view, while the run trains: each says what it shows; p in another view does not pause the run
    from rnntui.tui.views import VIEWS

    for entry in VIEWS[1:]:
        tmux.keys(entry.key)
        view = entry.load()
        about = view.OPENING or view.ABOUT
        if about:
            tmux.wait_for(re.escape(about.split(",")[0][:40]), timeout=10)
        if entry.view_id == "sampling":
            tmux.keys("p")
    tmux.keys("1")
    moving = tmux.wait_for(STATUS, timeout=10).group(0)
    time.sleep(1.5)
    assert re.search(STATUS, tmux.screen()).group(0) != moving, "the run stopped moving: p paused it"
    assert "PAUSED" not in tmux.screen()

    tmux.keys("q")
    tmux.wait_for(r"(?m)^EXIT=0\s*$", timeout=30)
    final = tmux.screen()
    # the terminal is back as it was: the shell's screen, not the app's
    assert tmux.flag("alternate_on") == "0"
    assert tmux.flag("cursor_flag") == "1"
    assert tmux.flag("mouse_any_flag") == "0" and tmux.flag("mouse_all_flag") == "0"
    assert "1 Train" not in final and "loss per step" not in final
    assert "Traceback" not in final and "Error" not in final, final  # (a crash too can end with status 0)
    assert final.rstrip().endswith(PROMPT), final

    # quitting mid-run kept the run: a checkpoint marked stopped
    from rnntui.training.checkpoint import load_checkpoint

    run_dirs = [p for p in runs.iterdir() if p.is_dir()]
    assert len(run_dirs) == 1
    checkpoint = load_checkpoint(run_dirs[0] / "checkpoint.pt")
    assert checkpoint.info["status"] == "stopped"
    assert checkpoint.config.model.num_hiddens == 32 and checkpoint.config.data.corpus == "pydoc"
    assert checkpoint.config.data.max_tokens == 20000 and checkpoint.config.data.batch_size == 16
    assert checkpoint.config.data.num_steps == 10 and checkpoint.config.train.epochs == 50


def test_a_dropped_terminal_stops_the_run_and_leaves_no_process(tmux, tmp_path):
    """An SSH connection that drops hangs the terminal up (SIGHUP to the app): the run stops within a batch,
    saves its checkpoint as "stopped", and no process of it is left behind."""
    import os

    runs = tmp_path / "runs"
    tmux.line(f"cd {shlex.quote(str(tmp_path))} && {shlex.quote(sys.executable)} -m rnntui --device cpu "
              f"--runs-dir {shlex.quote(str(runs))} --preset lstm")  # (its processes work in tmp_path)
    tmux.wait_for(r"(?m)^\s+token char\s+▼$", timeout=60)  # the preset's fields are in
    tmux.keys("s")
    tmux.wait_for(r"epoch 1/50 step [1-9]", timeout=60)
    tmux("kill-server")  # the terminal goes away: its processes get SIGHUP

    def ours() -> list[int]:
        pids = []
        for entry in os.listdir("/proc"):
            try:
                if entry.isdigit() and os.readlink(f"/proc/{entry}/cwd").startswith(str(tmp_path)):
                    pids.append(int(entry))
            except OSError:
                continue
        return pids

    deadline = time.monotonic() + 60
    time.sleep(0.5)
    while ours() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert ours() == [], "a process of the app outlived its terminal"
    from rnntui.training.checkpoint import load_checkpoint

    [run] = [p for p in runs.iterdir() if p.is_dir()]
    if (run / "checkpoint.pt").is_file():  # (a run cut off in its first epoch has written none yet)
        assert load_checkpoint(run / "checkpoint.pt").info["status"] == "stopped"
    from rnntui.training.history import load_history

    assert load_history(run / "metrics.jsonl").end.get("status") == "stopped"


def test_the_inspector_views_at_80x24_with_real_models(tmux, tmp_path):
    """A tiny language model and a sine run trained before the app opens: in an 80x24 terminal the Prompt
    view continues a prompt typed into it, the Sampling view shows the next token's bars, the Vocab view
    recounts in words, the Sequence view scores the sine run against the oracle."""
    from conftest import tiny_config
    from rnntui.presets import load_preset
    from rnntui.training.experiment import train

    runs = tmp_path / "runs"
    train(load_preset("sine-mlp").replace(train={"epochs": 1, "device": "cpu"}), runs / "sine", data_dir=SHARED_DATA)
    train(tiny_config(), runs / "tiny-lm", data_dir=SHARED_DATA)  # the newest: the LM views' default
    tmux("resize-window", "-t", SESSION, "-x", "80", "-y", "24")
    tmux.line(f"{shlex.quote(sys.executable)} -m rnntui --device cpu --runs-dir {shlex.quote(str(runs))}; "
              "echo EXIT=$?")
    tmux.wait_for(r"1 Train.*2 Runs", timeout=60)

    tmux.keys("5")
    tmux.wait_for(r"model: tiny-lm \(LSTM 32", timeout=30)
    tmux.keys("Enter")  # into the prompt line
    time.sleep(0.3)
    tmux.keys(*"the ", "Enter")
    done = tmux.wait_for(r"(?m)^\s*(\d+) chars in [\d.]+ s", timeout=30)  # the continuation's line under it
    assert int(done.group(1)) > 0
    screen = tmux.screen()
    assert re.search(r"(?m)^\s*the \S", screen), screen  # the prompt, continued on its line

    tmux.keys("Escape")  # the letter keys are the view's again
    time.sleep(0.3)  # (an Esc followed at once by a key is read as alt+key, as in any terminal app)
    tmux.keys("4")
    tmux.wait_for(r"kept \d+ of 28", timeout=30)  # the bars of the next character, of the 28 in its vocabulary
    tmux.keys("g")  # a greedy step
    tmux.wait_for(r"step 2", timeout=30)

    tmux.keys("3")
    tmux.wait_for(r"token\s+char", timeout=30)
    tmux.keys("w")
    tmux.wait_for(r"token\s+word", timeout=30)

    tmux.keys("6")
    tmux.wait_for(r"1-step test MSE: the oracle", timeout=30)

    tmux.keys("7")  # the gradient through time of the language model, with its factor per step
    tmux.wait_for(r"‖dL_T/dH_t‖ against T - t", timeout=30)
    tmux.wait_for(r"LSTM ?x\d\.\d+", timeout=30)
    tmux.keys("g")  # its gates over the text
    tmux.wait_for(r"unit \d+ of H", timeout=30)

    tmux.keys("q")
    tmux.wait_for(r"(?m)^EXIT=0\s*$", timeout=30)
    assert "Traceback" not in tmux.screen()
