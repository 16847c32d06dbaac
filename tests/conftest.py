"""Shared helpers: where the real data files are, tiny configs, and running the CLI in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

# The models here are tiny: one thread is as fast, and does not thrash when other processes share the CPU.
torch.set_num_threads(1)

REPO = Path(__file__).resolve().parents[1]
# The read-only copies of the d2l data files (timemachine.txt, fra-eng.zip), next to the repository.
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"

needs_shared_data = pytest.mark.skipif(
    not (SHARED_DATA / "timemachine.txt").is_file(), reason=f"no shared data files in {SHARED_DATA}"
)


@pytest.fixture
def data_dir(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point RNNTUI_DATA_DIR at the shared data (skip when it is not there)."""
    if not (SHARED_DATA / "timemachine.txt").is_file():
        pytest.skip(f"no shared data files in {SHARED_DATA}")
    monkeypatch.setenv("RNNTUI_DATA_DIR", str(SHARED_DATA))
    return SHARED_DATA


def tiny_config(**sections):
    """A config that trains in well under a second on a CPU: the built-in corpus, cut short."""
    from rnntui.config import ExperimentConfig

    base = ExperimentConfig(name="tiny").replace(
        data={"corpus": "pydoc", "max_tokens": 20000, "batch_size": 8, "num_steps": 10},
        model={"kind": "lstm", "impl": "torch", "num_hiddens": 32},
        train={"epochs": 2, "device": "cpu", "seed": 0, "lr": 1.0, "clip": 1.0},
        sample={"prefix": "the ", "num_tokens": 10},
    )
    return base.replace(**sections) if sections else base


TINY_PAIRS = "\n".join(
    f"{en}\t{fr}" for en, fr in [("Go.", "Va !"), ("Hi.", "Salut !"), ("Run!", "Cours !"), ("Go.", "Bouge !"),
                                 ("I lost.", "J'ai perdu."), ("Hi.", "Salut."), ("Run!", "Courez !")] * 12
) + "\nI won.\tJ'ai gagné.\nWow!\tÇa alors !\n"


def tiny_s2s_config(pairs: Path | str, **sections):
    """A GRU encoder-decoder on ``pairs`` (a file of TINY_PAIRS) that trains in about a second."""
    from rnntui.config import ExperimentConfig

    base = ExperimentConfig(name="tiny-s2s", task="seq2seq").replace(
        pairs={"source": str(pairs), "num_examples": 80, "num_steps": 6, "batch_size": 16, "val_examples": 2},
        model={"kind": "gru", "embed_size": 8, "num_hiddens": 16, "num_layers": 1},
        train={"optimizer": "adam", "lr": 0.01, "epochs": 3, "device": "cpu", "seed": 0},
        sample={"sentences": ["go ."], "references": ["va !"]},
    )
    return base.replace(**sections) if sections else base


def cli_env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["RNNTUI_DATA_DIR"] = str(SHARED_DATA)
    env["RNNTUI_RUNS_DIR"] = str(tmp_path / "runs")
    env["RNNTUI_DATA_URL"] = "http://127.0.0.1:9/"
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("PYTHONWARNINGS", None)
    env["OMP_NUM_THREADS"] = "1"
    return env


IN_PROCESS = {"generate", "translate", "forecast", "inspect", "vocab", "batches", "presets", "runs"}


def run_cli(tmp_path: Path, *args: str, timeout: float = 120, input: str = "") -> subprocess.CompletedProcess:
    """``rnntui ARGS`` run in ``tmp_path`` with ``cli_env``'s environment, text output captured. The commands
    that only read and print (``IN_PROCESS``) run here, through ``rnntui.cli.main`` (a fresh interpreter
    costs its imports, two seconds a call); ``train``, the playground and anything else in a fresh one
    (signals, child processes, progress bars, exit paths)."""
    if args and args[0] in IN_PROCESS:
        return _run_main(tmp_path, list(args), input)
    return subprocess.run(
        [sys.executable, "-m", "rnntui", *args], cwd=tmp_path, env=cli_env(tmp_path),
        capture_output=True, text=True, timeout=timeout, input=input,
    )


def _run_main(tmp_path: Path, args: list[str], input: str) -> subprocess.CompletedProcess:
    import contextlib
    import io
    import logging

    from rnntui.cli import main

    out, err = io.StringIO(), io.StringIO()
    root = logging.getLogger()
    handlers = root.handlers[:]
    with pytest.MonkeyPatch.context() as mp, contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        for name, value in cli_env(tmp_path).items():
            if name.startswith("RNNTUI_"):
                mp.setenv(name, value)
        mp.chdir(tmp_path)
        mp.setattr(sys, "stdin", io.StringIO(input))
        root.handlers = []  # (main's logging.basicConfig writes its notes to this call's stderr)
        try:
            code = main(args)
        except SystemExit as exc:  # argparse: --help, a usage error
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            if isinstance(exc.code, str):
                err.write(exc.code)
        finally:
            root.handlers = handlers
    return subprocess.CompletedProcess(["rnntui", *args], code or 0, out.getvalue(), err.getvalue())
