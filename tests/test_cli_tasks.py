"""The sine and translation commands of the real CLI: train, then forecast / translate."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import TINY_PAIRS, cli_env

S2S_TOML = """\
name = "tiny-s2s"
task = "seq2seq"

[pairs]
source = "pairs.tsv"
num_examples = 80
num_steps = 6
batch_size = 16
val_examples = 2

[model]
kind = "gru"
embed_size = 8
num_hiddens = 16
num_layers = 1

[train]
optimizer = "adam"
lr = 0.01
epochs = 3
device = "cpu"

[sample]
sentences = ["go ."]
references = ["va !"]
"""


def _cli(cwd, *args, stdin=None):
    return subprocess.run([sys.executable, "-m", "rnntui", *args], cwd=cwd, env=cli_env(cwd), input=stdin,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def s2s_run(tmp_path_factory):
    d = tmp_path_factory.mktemp("s2s")
    (d / "pairs.tsv").write_text(TINY_PAIRS, encoding="utf-8")
    (d / "s2s.toml").write_text(S2S_TOML, encoding="utf-8")
    result = _cli(d, "train", "--config", "s2s.toml", "--out", "run", "--quiet")
    assert result.returncode == 0, result.stderr
    return d, result


def test_seq2seq_train_logs_loss_per_token_and_bleu(s2s_run):
    d, _ = s2s_run
    epochs = [json.loads(line) for line in (d / "run" / "metrics.jsonl").read_text().splitlines()]
    epochs = [e for e in epochs if e["event"] == "epoch"]
    assert [e["epoch"] for e in epochs] == [1, 2, 3]
    for e in epochs:
        assert e["train_loss"] > 0 and 0 <= e["val_bleu"] <= 1
    assert epochs[-1]["train_loss"] < epochs[0]["train_loss"]


def test_translate_arguments_stdin_reference_and_unknown_words(s2s_run):
    d, _ = s2s_run
    ckpt = str(d / "run" / "checkpoint.pt")
    args = _cli(d, "translate", "--checkpoint", ckpt, "go .", "zebra go .", "--reference", "va !", "--reference", "x")
    assert args.returncode == 0, args.stderr
    lines = args.stdout.splitlines()
    assert len(lines) == 2 and all("\tbleu " in line for line in lines)
    assert "zebra" in args.stderr and "<unk>" in args.stderr  # a note, not a crash
    stdin = _cli(d, "translate", "--checkpoint", ckpt, "--beam", "2", stdin="go .\n\ni lost .\n")
    assert stdin.returncode == 0, stdin.stderr
    assert len(stdin.stdout.splitlines()) == 2


@pytest.mark.parametrize("args,fragment", [
    (["translate", "--checkpoint", "run/checkpoint.pt", "   "], "empty"),
    (["translate", "--checkpoint", "run/checkpoint.pt", "--beam", "0", "go ."], "--beam"),
    (["translate", "--checkpoint", "run/checkpoint.pt", "go .", "--reference", "a", "--reference", "b"], "reference"),
    (["generate", "--checkpoint", "run/checkpoint.pt", "--prefix", "go"], "rnntui translate"),
    (["forecast", "--checkpoint", "run/checkpoint.pt"], "sine"),
])
def test_task_mismatches_and_bad_sentences_fail_with_one_line(s2s_run, args, fragment):
    d, _ = s2s_run
    result = _cli(d, *args)
    assert result.returncode != 0
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert fragment in result.stderr


def test_bad_pairs_file_names_the_line(tmp_path):
    (tmp_path / "pairs.tsv").write_text(TINY_PAIRS + "only one field\n", encoding="utf-8")
    (tmp_path / "s2s.toml").write_text(S2S_TOML, encoding="utf-8")
    result = _cli(tmp_path, "train", "--config", "s2s.toml", "--out", "run")
    assert result.returncode != 0 and "Traceback" not in result.stderr
    bad_line = len(TINY_PAIRS.splitlines()) + 1
    assert f"line {bad_line}" in result.stderr


def test_sine_train_prints_k_step_mse_and_forecast_reloads(tmp_path):
    result = _cli(tmp_path, "train", "--preset", "sine-mlp", "--epochs", "2", "--out", "run", "--quiet")
    assert result.returncode == 0, result.stderr
    assert "k=1" in result.stdout and "k=64" in result.stdout
    last = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()
            if '"epoch"' in line and '"event": "epoch"' in line][-1]
    forecast = _cli(tmp_path, "forecast", "--checkpoint", "run/checkpoint.pt", "--json", "f.json")
    assert forecast.returncode == 0, forecast.stderr
    arrays = json.loads((tmp_path / "f.json").read_text())
    assert len(arrays["series"]) == 1000 and len(arrays["one_step"]) == 996
    # the reloaded model predicts what the trained one did
    assert arrays["k_step_mse"]["64"] == pytest.approx(last["mse_k64"], rel=1e-5)
    assert f"k=1 {last['mse_k1']:.4f}" in forecast.stdout


def test_runs_lists_and_compares_like_the_runs_view(tmp_path):
    for name in ("mlp-a", "mlp-b"):
        result = _cli(tmp_path, "train", "--preset", "sine-mlp", "--epochs", "2", "--out", f"runs/{name}", "--quiet")
        assert result.returncode == 0, result.stderr
    listing = _cli(tmp_path, "runs", "--runs-dir", "runs")
    assert listing.returncode == 0, listing.stderr
    rows = listing.stdout.splitlines()
    assert rows[0].split()[:3] == ["run", "preset", "model"]
    assert {r.split()[0] for r in rows[1:]} == {"mlp-a", "mlp-b"}
    assert all("finished" in r and "2/2" in r for r in rows[1:])
    compare = _cli(tmp_path, "runs", "--runs-dir", "runs", "--compare", "mlp-a", "mlp-b")
    assert compare.returncode == 0, compare.stderr
    lines = compare.stdout.splitlines()
    assert "test_mse" in lines[0] and [line.split()[0] for line in lines[1:]] == ["1", "2"]
    a, b = (float(v) for v in lines[2].split()[1:3])
    assert a == pytest.approx(b)  # same preset, same seed: the same run
    missing = _cli(tmp_path, "runs", "--runs-dir", "runs", "--compare", "nope")
    assert missing.returncode != 0 and "no run 'nope'" in missing.stderr
