"""Resuming a run (issue 16): bit for bit on the CPU, from an epoch boundary or from the step it stopped at."""

from __future__ import annotations

import json

import pytest
import torch

from conftest import tiny_config
from rnntui.errors import ConfigError, RunFolderError
from rnntui.training.checkpoint import load_checkpoint, save_checkpoint
from rnntui.training.experiment import CHECKPOINT, METRICS, train
from rnntui.training.history import load_history

VARIANTS = {
    "sgd": tiny_config(train={"epochs": 4}),
    # the optimizer's own state, and dropout drawing from torch's generator at every step
    "adam+dropout": tiny_config(model={"num_layers": 2, "dropout": 0.3},
                                train={"epochs": 4, "optimizer": "adam", "lr": 0.01}),
}


def weights(run) -> dict[str, torch.Tensor]:
    return load_checkpoint(run / CHECKPOINT).model.state_dict()


def same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def events(run) -> list[dict]:
    return [json.loads(line) for line in (run / METRICS).read_text().splitlines()]


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    runs = {}
    for name, config in VARIANTS.items():
        out = tmp_path_factory.mktemp(name)
        train(config, out)
        runs[name] = out
    return runs


@pytest.mark.parametrize("name", VARIANTS)
def test_stopped_at_an_epoch_boundary_and_resumed_ends_bit_for_bit_as_one_run(tmp_path, uninterrupted, name):
    config = VARIANTS[name]
    train(config.replace(train={"epochs": 2}), tmp_path)  # N epochs, finished
    end, _ = train(config, tmp_path, resume=True)  # on to 2N
    assert end.status == "finished" and end.epochs_done == 4
    assert same(weights(tmp_path), weights(uninterrupted[name]))
    ours, theirs = load_history(tmp_path / METRICS), load_history(uninterrupted[name] / METRICS)
    assert ours.step_loss == theirs.step_loss  # one history: every step once, in order, the same losses
    assert [e["epoch"] for e in ours.epochs] == [1, 2, 3, 4]
    assert ours.epoch_series("val_ppl") == theirs.epoch_series("val_ppl")


@pytest.mark.parametrize("name", VARIANTS)
def test_stopped_inside_an_epoch_resumes_from_that_step_bit_for_bit(tmp_path, uninterrupted, name):
    config = VARIANTS[name]
    steps = []
    end, _ = train(config, tmp_path, [lambda e: e.kind == "step" and steps.append(e)],
                   should_stop=lambda: len(steps) >= 1.5 * steps_per_epoch(uninterrupted[name]))
    assert end.status == "stopped" and steps[-1].epoch == 2 and 1 < steps[-1].step < steps[-1].steps_per_epoch
    end, _ = train(config, tmp_path, resume=True)
    assert end.status == "finished"
    assert same(weights(tmp_path), weights(uninterrupted[name]))
    ours = [e for e in events(tmp_path) if e["event"] == "step"]
    assert [e["global_step"] for e in ours] == list(range(1, len(ours) + 1))  # none twice, none lost
    assert [e["loss"] for e in ours] == [e["loss"] for e in events(uninterrupted[name]) if e["event"] == "step"]
    epochs = [e for e in events(tmp_path) if e["event"] == "epoch"]
    theirs = [e for e in events(uninterrupted[name]) if e["event"] == "epoch"]
    assert [e["train_loss"] for e in epochs] == [e["train_loss"] for e in theirs]  # the partial epoch's loss kept


def steps_per_epoch(run) -> int:
    return next(e["steps_per_epoch"] for e in events(run) if e["event"] == "start")


def test_a_killed_run_resumes_from_its_last_checkpoint_and_drops_the_lines_after_it(tmp_path, uninterrupted):
    config = VARIANTS["sgd"]
    train(config.replace(train={"epochs": 2}), tmp_path)
    with (tmp_path / METRICS).open("a") as f:  # what a run killed in epoch 3 leaves: steps, no end, a torn line
        for i in range(5):
            f.write(json.dumps({"event": "step", "epoch": 3, "step": i + 1, "global_step": 999 + i, "loss": 9.0,
                                "grad_norm": 1.0, "clipped": False, "tokens_per_s": 1.0, "elapsed_s": 1.0}) + "\n")
        f.write('{"event": "st')
    train(config, tmp_path, resume=True)
    history = load_history(tmp_path / METRICS)
    assert 9.0 not in history.step_loss and [e["epoch"] for e in history.epochs] == [1, 2, 3, 4]
    assert same(weights(tmp_path), weights(uninterrupted["sgd"]))


def test_a_checkpoint_from_before_resuming_goes_on_from_its_weights_with_a_warning(tmp_path, caplog):
    config = VARIANTS["sgd"]
    train(config.replace(train={"epochs": 1}), tmp_path)
    old = load_checkpoint(tmp_path / CHECKPOINT)  # written again as older versions wrote it: no resume state
    save_checkpoint(tmp_path / CHECKPOINT, old.config, old.model, old.vocabs, old.token, old.info)
    assert load_checkpoint(tmp_path / CHECKPOINT).resume is None
    end, _ = train(config.replace(train={"epochs": 2}), tmp_path, resume=True)
    assert end.status == "finished" and end.epochs_done == 2
    assert "predates resuming" in caplog.text
    assert [e["epoch"] for e in load_history(tmp_path / METRICS).epochs] == [1, 2]


def test_nothing_to_resume_is_one_line(tmp_path):
    with pytest.raises(RunFolderError, match="no checkpoint.pt"):
        train(VARIANTS["sgd"], tmp_path / "empty", resume=True)
    train(VARIANTS["sgd"].replace(train={"epochs": 1}), tmp_path / "done")
    before = (tmp_path / "done" / METRICS).read_bytes()
    with pytest.raises(ConfigError, match="has 1 epochs done: give more"):
        train(VARIANTS["sgd"].replace(train={"epochs": 1}), tmp_path / "done", resume=True)
    assert (tmp_path / "done" / METRICS).read_bytes() == before  # the finished run is left as it was


@pytest.mark.parametrize("signame,code", [("SIGTERM", 143), ("SIGHUP", 129)])
def test_a_signal_stops_rnntui_train_like_ctrl_c_and_the_run_resumes(tmp_path, signame, code):
    """A batch scheduler's time limit (SIGTERM), a closed terminal (SIGHUP): the run stops within a batch,
    saves its checkpoint, ends "stopped" with exit code 128 + the signal's number, and goes on with --resume."""
    import signal
    import subprocess
    import sys
    import time

    from conftest import cli_env, run_cli
    from rnntui.config import to_toml

    (tmp_path / "tiny.toml").write_text(to_toml(tiny_config(train={"epochs": 500})), encoding="utf-8")
    run = tmp_path / "run"
    child = subprocess.Popen([sys.executable, "-m", "rnntui", "train", "--config", "tiny.toml", "--out", str(run),
                              "--quiet"], cwd=tmp_path, env=cli_env(tmp_path), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not ((run / METRICS).is_file() and (run / METRICS).read_text().count('"epoch": 2,') > 2):
        assert time.monotonic() < deadline and child.poll() is None, "the run did not get going"
        time.sleep(0.1)
    child.send_signal(getattr(signal, signame))
    _, err = child.communicate(timeout=60)
    assert child.returncode == code, err
    assert f"stopped by {signame}" in err and "--resume" in err and "Traceback" not in err
    assert load_checkpoint(run / CHECKPOINT).info["status"] == "stopped"
    assert load_history(run / METRICS).end["status"] == "stopped"
    done = load_checkpoint(run / CHECKPOINT).info["epoch"]

    resumed = run_cli(tmp_path, "train", "--resume", str(run), "--epochs", str(done + 1), "--quiet")
    assert resumed.returncode == 0, resumed.stderr
    history = load_history(run / METRICS)
    assert history.end["status"] == "finished" and len(history.epochs) == done + 1
    steps = [json.loads(line)["global_step"] for line in (run / METRICS).read_text().splitlines()
             if '"event": "step"' in line]
    assert steps == list(range(1, len(steps) + 1))


@pytest.mark.parametrize("errno_name", ["ENOSPC", "EROFS"])
def test_a_full_or_read_only_disk_fails_the_run_in_one_line_and_keeps_the_last_checkpoint(tmp_path, monkeypatch,
                                                                                          errno_name):
    import errno
    import os

    import rnntui.training.checkpoint as checkpoint_module

    real_replace, calls = os.replace, []

    def replace(src, dst):  # the second checkpoint (after epoch 2) finds the disk full / read-only
        if str(dst).endswith(CHECKPOINT):
            calls.append(dst)
            if len(calls) >= 2:
                raise OSError(getattr(errno, errno_name), os.strerror(getattr(errno, errno_name)))
        return real_replace(src, dst)

    monkeypatch.setattr(checkpoint_module.os, "replace", replace)
    with pytest.raises(RunFolderError) as failure:
        train(VARIANTS["sgd"], tmp_path)
    message = str(failure.value)
    assert len(message.splitlines()) == 1 and os.strerror(getattr(errno, errno_name)) in message
    assert "last checkpoint" in message
    kept = load_checkpoint(tmp_path / CHECKPOINT)  # intact and loadable: the one after epoch 1
    assert kept.info["epoch"] == 1 and kept.resume is not None
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]  # no half-written file left


def test_a_runs_folder_that_cannot_be_made_is_one_line(tmp_path):
    from conftest import cli_env
    import subprocess
    import sys

    (tmp_path / "runs").write_text("a file where the runs folder should be")
    env = {**cli_env(tmp_path), "RNNTUI_RUNS_DIR": str(tmp_path / "runs")}
    done = subprocess.run([sys.executable, "-m", "rnntui", "train", "--preset", "sine-mlp", "--epochs", "1"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "cannot make a run folder" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
