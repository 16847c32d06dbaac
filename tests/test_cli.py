"""The real command line, run as ``python -m rnntui`` in fresh interpreters.

Hostile inputs must end with a non-zero status and exactly one line on stderr (no traceback). The
commands that import torch are started together (a module fixture), so the suite pays for the
interpreter start-ups once, in parallel, rather than one after the other.
"""

from __future__ import annotations

import os
import pickle
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import torch

from conftest import cli_env, run_cli

PRESETS = ["rnn-scratch", "rnn", "gru-scratch", "gru", "lstm-scratch", "lstm", "deep-lstm", "bi-lstm"]

TINY_TOML = """\
name = "tiny"
description = "a tiny LSTM for the CLI tests"
task = "lm"

[data]
corpus = "pydoc"
max_tokens = 8000
batch_size = 8
num_steps = 10

[model]
kind = "lstm"
num_hiddens = 32

[train]
epochs = 1
device = "cpu"
lr = 1.0

[sample]
num_tokens = 5
"""


def _popen(cwd: Path, args: list[str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "rnntui", *args], cwd=cwd, env=cli_env(cwd),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _run_all(cwd: Path, commands: dict[str, list[str]], timeout: float = 180) -> dict[str, tuple[int, str, str]]:
    procs = {name: _popen(cwd, args) for name, args in commands.items()}
    results = {}
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=timeout)
        results[name] = (proc.returncode, out, err)
    return results


def _one_error_line(rc: int, err: str) -> str:
    assert rc != 0
    assert "Traceback" not in err, err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert re.match(r"rnntui( [a-z]+)?: error: ", lines[0]), err  # argparse names the subcommand
    return lines[0]


# --- light commands: no torch ---------------------------------------------------------------------------


def test_help(tmp_path):
    result = run_cli(tmp_path, "--help")
    assert result.returncode == 0
    for command in ("train", "generate", "presets"):
        assert command in result.stdout
    assert result.stderr == ""


def test_help_does_not_import_torch(tmp_path):
    code = (
        "import sys\n"
        "from rnntui.cli import main\n"
        "try:\n"
        "    main(['--help'])\n"
        "except SystemExit as exc:\n"
        "    assert exc.code == 0, exc.code\n"
        "for cmd in (['presets'], ['presets', '--show', 'lstm'], ['train', '--preset', 'nope']):\n"
        "    main(cmd)\n"
        "heavy = sorted(m for m in ('torch', 'numpy') if m in sys.modules)\n"
        "print('HEAVY', heavy)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=cli_env(tmp_path),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "HEAVY []" in result.stdout, result.stdout


def test_presets_lists_every_task(tmp_path):
    result = run_cli(tmp_path, "presets")
    assert result.returncode == 0, result.stderr
    names = [line.split()[0] for line in result.stdout.splitlines() if line.strip()]
    assert [n for n in names if n in PRESETS] == PRESETS  # the language models in the book's order
    assert {"sine-mlp", "sine-rnn", "seq2seq-gru"} <= set(names)
    for line in result.stdout.splitlines():
        assert len(line.split(None, 1)) == 2, f"no description: {line!r}"


@pytest.mark.parametrize("name", ["lstm", "bi-lstm"])
def test_presets_show_prints_toml(tmp_path, name):
    result = run_cli(tmp_path, "presets", "--show", name)
    assert result.returncode == 0, result.stderr
    values = tomllib.loads(result.stdout)
    assert values["name"] == name
    assert values["model"]["kind"] == "lstm"
    assert values["model"]["bidirectional"] is (name == "bi-lstm")
    assert {"data", "model", "train", "sample"} <= set(values)


@pytest.mark.parametrize("args,fragment", [
    (["--preset", "nope"], "unknown preset 'nope'"),
    (["--device", "cuda:7"], "cuda:7"),
])
def test_bare_rnntui_checks_its_options_before_opening_the_playground(tmp_path, args, fragment):
    # (the playground itself is driven in a real terminal by tests/test_tmux.py)
    result = run_cli(tmp_path, *args, timeout=60)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and fragment in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("args,fragment", [
    (["train", "--preset", "nope"], "unknown preset 'nope'"),
    (["train", "--preset", "lstm", "--epochs", "-1"], "train.epochs"),
    (["train"], "--preset"),
    (["train", "--preset", "lstm", "--epochs", "two"], "invalid int value"),
    (["generate", "--checkpoint", "x.pt", "--prefix", "a", "--strategy", "bogus"], "bogus"),
    (["generate", "--prefix", "a"], "--checkpoint"),
    (["presets", "--show", "nope"], "unknown preset"),
    (["--bogus"], "unrecognized arguments: --bogus"),
    (["--preset"], "--preset: expected one argument"),
    (["--preset=lstm", "nope"], "invalid choice: 'nope'"),
])
def test_usage_errors_are_one_line(tmp_path, args, fragment):
    result = run_cli(tmp_path, *args)
    line = _one_error_line(result.returncode, result.stderr)
    assert fragment in line
    assert result.stdout == ""


# --- hostile inputs that get as far as torch --------------------------------------------------------------


class _RunsCode:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {shlex.quote(str(self.marker))}",))


@pytest.fixture(scope="module")
def real_checkpoint(tmp_path_factory) -> Path:
    """A small, valid checkpoint written by the engine (untrained: no need to train for these tests)."""
    from rnntui.config import ExperimentConfig
    from rnntui.data.vocab import Vocab
    from rnntui.training.checkpoint import build_model, save_checkpoint

    config = ExperimentConfig(name="c").replace(model={"num_hiddens": 16})
    vocab = Vocab(list("the time machine by h g wells"))
    path = tmp_path_factory.mktemp("ckpt") / "checkpoint.pt"
    return save_checkpoint(path, config, build_model(config, {"vocab": vocab}), {"vocab": vocab}, "char")


@pytest.fixture(scope="module")
def hostile_corpora(tmp_path_factory):
    d = tmp_path_factory.mktemp("corpora")
    (d / "empty.txt").write_bytes(b"")
    (d / "binary.txt").write_bytes(b"the time machine\x00\x01\x02" * 200)
    (d / "latin1.txt").write_bytes(b"\xff\xfe" + "caf\u00e9 na\u00efve r\u00e9sum\u00e9 ".encode("latin-1") * 200)
    return _run_all(d, {
        "empty corpus": ["train", "--preset", "lstm", "--corpus", str(d / "empty.txt")],
        "binary corpus": ["train", "--preset", "lstm", "--corpus", str(d / "binary.txt")],
        "non-utf8 corpus": ["train", "--preset", "lstm", "--corpus", str(d / "latin1.txt")],
    })


@pytest.mark.parametrize("name,fragment", [
    ("empty corpus", "empty"),
    ("binary corpus", "binary"),
    ("non-utf8 corpus", "UTF-8"),
])
def test_hostile_corpus_fails_with_one_line(hostile_corpora, name, fragment):
    rc, out, err = hostile_corpora[name]
    line = _one_error_line(rc, err)
    assert fragment in line


@pytest.fixture(scope="module")
def hostile_checkpoints(tmp_path_factory, real_checkpoint):
    d = tmp_path_factory.mktemp("checkpoints")
    payload = torch.load(real_checkpoint, weights_only=True)
    payload["info"] = {"epoch": _RunsCode(d / "pwned-torch")}
    torch.save(payload, d / "evil.pt")
    (d / "raw.pt").write_bytes(pickle.dumps({"format": "rnntui-checkpoint", "x": _RunsCode(d / "pwned-raw")}))
    data = real_checkpoint.read_bytes()
    (d / "half.pt").write_bytes(data[: len(data) // 2])
    results = _run_all(d, {
        "code-running checkpoint": ["generate", "--checkpoint", str(d / "evil.pt"), "--prefix", "the"],
        "raw pickle": ["generate", "--checkpoint", str(d / "raw.pt"), "--prefix", "the"],
        "truncated checkpoint": ["generate", "--checkpoint", str(d / "half.pt"), "--prefix", "the"],
        "temperature 0": ["generate", "--checkpoint", str(real_checkpoint), "--prefix", "the",
                          "--strategy", "temperature", "--temperature", "0"],
    })
    return d, results


@pytest.mark.parametrize("name,fragment", [
    ("code-running checkpoint", "refused"),
    ("raw pickle", "checkpoint"),
    ("truncated checkpoint", "not an rnntui checkpoint"),
    ("temperature 0", "temperature"),
])
def test_hostile_checkpoint_or_option_fails_with_one_line(hostile_checkpoints, name, fragment):
    d, results = hostile_checkpoints
    rc, out, err = results[name]
    assert not (d / "pwned-torch").exists() and not (d / "pwned-raw").exists()
    line = _one_error_line(rc, err)
    assert fragment in line
    assert out == ""


# --- a tiny end-to-end run ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    d = tmp_path_factory.mktemp("e2e")
    (d / "tiny.toml").write_text(TINY_TOML, encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "rnntui", "train", "--config", "tiny.toml", "--out", "run",
                          "--quiet"], cwd=d, env=cli_env(d), capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    ckpt = str(d / "run" / "checkpoint.pt")
    results = _run_all(d, {
        "plain": ["generate", "--checkpoint", ckpt, "--prefix", "the ", "--num-chars", "20"],
        "euro": ["generate", "--checkpoint", ckpt, "--prefix", "the \u20ac ", "--num-chars", "20"],
    })
    return d, run, results


@pytest.mark.slow
def test_train_end_to_end(trained):
    d, run, _ = trained
    assert "epoch 1/1" in run.stdout
    assert "finished after 1 epochs" in run.stdout
    for name in ("checkpoint.pt", "metrics.jsonl", "config.toml"):
        assert (d / "run" / name).is_file(), name
    assert tomllib.loads((d / "run" / "config.toml").read_text())["data"]["max_tokens"] == 8000
    assert "Traceback" not in run.stderr


@pytest.mark.slow
def test_generate_continues_the_prefix(trained):
    _, _, results = trained
    rc, out, err = results["plain"]
    assert rc == 0, err
    line = out.rstrip("\n")
    assert "\n" not in line
    assert line.startswith("the ")
    assert len(line) == len("the ") + 20
    assert "Traceback" not in err


@pytest.mark.slow
def test_generate_with_unknown_character_notes_unk(trained):
    _, _, results = trained
    rc, out, err = results["euro"]
    assert rc == 0, err
    line = out.rstrip("\n")
    assert line.startswith("the \u20ac ")
    assert len(line) == len("the \u20ac ") + 20
    assert "<unk>" in err and "\u20ac" in err
    assert "Traceback" not in err


def test_a_reader_that_goes_away_ends_the_output_quietly(tmp_path):
    """``rnntui presets | head -1``, the reader gone before rnntui writes: no traceback."""
    process = _popen(tmp_path, ["presets"])
    process.stdout.close()  # nobody reads: the first write fails with EPIPE
    _, err = process.communicate(timeout=60)
    assert process.returncode == 141
    assert "Traceback" not in err and "BrokenPipe" not in err


def test_two_runs_started_together_get_a_folder_each(tmp_path):
    """Without --out, each run makes its own folder (two runs in the same second once shared one and wrote
    into each other's metrics.jsonl and checkpoint)."""
    import json

    env = cli_env(tmp_path)
    command = [sys.executable, "-m", "rnntui", "train", "--preset", "sine-mlp", "--epochs", "1", "--quiet"]
    runs = [subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(2)]
    for run in runs:
        _, err = run.communicate(timeout=120)
        assert run.returncode == 0, err
    folders = sorted((tmp_path / "runs").iterdir())
    assert len(folders) == 2
    for folder in folders:
        events = [json.loads(line)["event"] for line in (folder / "metrics.jsonl").read_text().splitlines()]
        assert events.count("start") == 1 and events.count("end") == 1  # one run in each
        assert (folder / "checkpoint.pt").is_file()


def test_runs_lists_a_damaged_run_as_unreadable(tmp_path):
    runs = tmp_path / "runs"
    (runs / "broken").mkdir(parents=True)
    (runs / "broken" / "metrics.jsonl").write_text("not json\n", encoding="utf-8")
    result = run_cli(tmp_path, "runs")
    assert result.returncode == 0, result.stderr
    assert "unreadable" in result.stdout and "broken: unreadable: no config.toml" in result.stdout
