"""The runs directory as the Runs view reads it: a run that is still training is read incrementally."""

from __future__ import annotations

import json

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
