"""The runs directory as the Runs view reads it: a run that is still training is read incrementally."""

from __future__ import annotations

import json
import re

from rnntui.config import ExperimentConfig, to_toml
from rnntui.training.history import load_history
from rnntui.training.runs import list_runs


def _step(i: int) -> str:
    return json.dumps({"event": "step", "epoch": 1, "step": i, "global_step": i, "steps_per_epoch": 100,
                       "loss": 3.0 - i / 100, "grad_norm": 1.0, "clipped": False, "tokens_per_s": 1000.0,
                       "elapsed_s": i / 10}) + "\n"


def test_a_growing_metrics_file_is_read_from_where_the_last_read_stopped(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.toml").write_text(to_toml(ExperimentConfig(name="grow")), encoding="utf-8")
    metrics = run / "metrics.jsonl"
    start = json.dumps({"event": "start", "epochs": 1, "steps_per_epoch": 100, "device": "cpu",
                        "num_params": 1, "description": "x"}) + "\n"
    metrics.write_text(start + _step(1) + _step(2) + _step(3)[:25], encoding="utf-8")  # a line mid-write
    cache: dict = {}
    [first] = list_runs(tmp_path, cache)
    assert first.history.step_loss == [2.99, 2.98] and first.status == "unfinished"
    offset = cache[run][2]
    assert offset == len((start + _step(1) + _step(2)).encode())  # the torn line waits

    with metrics.open("a", encoding="utf-8") as f:  # the rest of step 3, step 4, and the end
        f.write(_step(3)[25:] + _step(4) + json.dumps({"event": "end", "status": "finished", "epochs_done": 1,
                                                        "elapsed_s": 0.5}) + "\n")
    [second] = list_runs(tmp_path, cache)
    assert second.history.step_loss == [2.99, 2.98, 2.97, 2.96] and second.status == "finished"
    assert second.history.step_loss == load_history(metrics).step_loss  # the same as reading it whole

    assert list_runs(tmp_path, cache)[0] is second  # unchanged files: the cached summary itself

    metrics.write_text(start + _step(7), encoding="utf-8")  # rewritten (shorter): read again from the start
    [third] = list_runs(tmp_path, cache)
    assert third.history.step_loss == [2.93]


def test_the_smoothed_loss_grows_with_the_history_and_equals_a_fresh_computation():
    """The charts ask for the smoothed loss at every redraw: it is extended by the new steps only, and must
    equal the bias-corrected moving average computed over the whole history at once."""
    from rnntui.training.history import History

    def fresh(losses, weight=History.SMOOTHING):
        out, avg = [], 0.0
        for i, value in enumerate(losses, 1):
            avg = weight * avg + (1 - weight) * value
            out.append(avg / (1 - weight**i))
        return out

    history = History()
    assert history.smoothed_loss() == []
    losses = [3.0 - i / 50 + (0.3 if i % 7 == 0 else 0.0) for i in range(300)]
    for chunk in (losses[:1], losses[1:40], losses[40:41], losses[41:]):
        for loss in chunk:
            history.add(json.loads(_step(1)) | {"loss": loss})
        assert history.smoothed_loss() == fresh(losses[:len(history.step_loss)])
    assert history.smoothed_loss()[0] == losses[0]  # bias-corrected: the first value is the first loss


def test_new_run_dirs_are_never_handed_out_twice(tmp_path):
    from rnntui.training.runs import new_run_dir

    made = [new_run_dir(tmp_path / "runs", "lstm") for _ in range(5)]  # all in the same second, most likely
    assert len(set(made)) == 5 and all(p.is_dir() and not any(p.iterdir()) for p in made)
    assert all(re.fullmatch(r"lstm-\d{8}-\d{6}(-\d+)?", p.name) for p in made)  # the same second: -2, -3, ...


def test_best_of_takes_the_lowest_perplexity_and_the_highest_bleu():
    from rnntui.training.metrics import best_of

    epochs = [{"epoch": 1, "val_ppl": 9.0, "val_bleu": 0.2, "train_ppl": 3.0, "test_mse": None},
              {"epoch": 2, "val_ppl": 7.5, "val_bleu": 0.4, "test_mse": float("nan")},
              {"epoch": 3, "val_ppl": 8.0, "val_bleu": 0.3, "test_mse": 0.05}]
    assert best_of(epochs) == {"val_ppl": 7.5, "val_bleu": 0.4, "test_mse": 0.05}  # train_* is not held out
    assert best_of([]) == {}


def test_clock_reads_like_a_clock():
    from rnntui.clock import clock

    assert [clock(s) for s in (0, 59.9, 61, 3599, 3600, 3725, -5, float("nan"))] == [
        "0:00", "0:59", "1:01", "59:59", "1:00:00", "1:02:05", "0:00", "0:00"]


def test_damaged_run_folders_are_listed_as_unreadable_with_the_reason(tmp_path):
    """Garbage in metrics.jsonl, a missing config.toml, a checkpoint that is not one: listed, never a crash."""
    good = tmp_path / "good"
    good.mkdir()
    (good / "config.toml").write_text(to_toml(ExperimentConfig(name="good")), encoding="utf-8")
    (good / "metrics.jsonl").write_text(_step(1) + _step(2) + '{"event": "st', encoding="utf-8")  # torn: fine
    garbage = tmp_path / "garbage"
    garbage.mkdir()
    (garbage / "config.toml").write_text(to_toml(ExperimentConfig(name="garbage")), encoding="utf-8")
    (garbage / "metrics.jsonl").write_bytes(_step(1).encode() + b"\x00\xff not json\n" + _step(2).encode())
    no_config = tmp_path / "no-config"
    no_config.mkdir()
    (no_config / "metrics.jsonl").write_text(_step(1), encoding="utf-8")
    bad_config = tmp_path / "bad-config"
    bad_config.mkdir()
    (bad_config / "config.toml").write_text("[model]\nkind = 'transformer'\n", encoding="utf-8")
    bad_checkpoint = tmp_path / "bad-checkpoint"
    bad_checkpoint.mkdir()
    (bad_checkpoint / "config.toml").write_text(to_toml(ExperimentConfig(name="x")), encoding="utf-8")
    (bad_checkpoint / "checkpoint.pt").write_bytes(b"#!/bin/sh\nrm -rf /\n")
    (tmp_path / "empty").mkdir()  # not a run at all
    (tmp_path / "notes.txt").write_text("a file beside the runs", encoding="utf-8")

    runs = {run.name: run for run in list_runs(tmp_path)}
    assert set(runs) == {"good", "garbage", "no-config", "bad-config", "bad-checkpoint"}
    assert runs["good"].status == "unfinished" and not runs["good"].error
    assert runs["garbage"].status == "unreadable" and "1 line(s) are not events" in runs["garbage"].error
    assert runs["garbage"].history.step_loss == [2.99, 2.98]  # what could be read is kept
    assert runs["no-config"].error == "no config.toml" and runs["no-config"].config is None
    assert "config.toml" in runs["bad-config"].error and "transformer" in runs["bad-config"].error
    assert "checkpoint.pt is not a checkpoint" in runs["bad-checkpoint"].error
    for run in runs.values():
        assert len(run.cells()) == 8 and run.cells()[-1] == run.status  # a row for the table, whatever it holds
