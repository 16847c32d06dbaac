"""Training in a child process (what the TUI does): messages, pause, stop, failures, a vanished child."""

from __future__ import annotations

import threading
import time

import pytest

from conftest import tiny_config
from rnntui.errors import describe
from rnntui.training.checkpoint import load_checkpoint
from rnntui.training.events import EpochEnded, FitStarted, GradNormsLogged, StepEnded
from rnntui.training.history import load_history
from rnntui.training.process import TrainingFailed, TrainingProcess, _Relay, child_processes


class Pipe:
    def __init__(self, broken: bool = False) -> None:
        self.sent: list[dict] = []
        self.broken = broken

    def send(self, message: dict) -> None:
        if self.broken:
            raise BrokenPipeError(32, "Broken pipe")
        self.sent.append(message)


def _step(i: int) -> StepEnded:
    return StepEnded(1, i, i, 100, 2.0, 1.5, True, 1000.0, 0.1 * i)


def test_relay_batches_steps_in_time_and_never_loses_one():
    pipe, stop = Pipe(), threading.Event()
    relay = _Relay(pipe, stop, interval=3600)  # nothing is sent on time alone
    relay(FitStarted(1, 100, "cpu", 10, "tiny"))
    for i in range(1, 51):
        relay(_step(i))
        if i % 10 == 0:  # the per-group gradient norms travel with the steps, in order
            relay(GradNormsLogged(1, i, i, {"layer0.recurrent": 0.5, "output": 0.25}))
    assert [m["event"] for m in pipe.sent] == ["start"]  # the steps wait for the interval (or an epoch)
    relay(EpochEnded(1, 1, {"train_ppl": 3.0}, 1000.0, 5.0, "sample"))  # an epoch sends them first
    assert [m["event"] for m in pipe.sent] == ["start", "steps", "epoch"]
    points = pipe.sent[1]["points"]
    assert [p["step"] for p in points if p["event"] == "step"] == list(range(1, 51))
    assert [(p["global_step"], p["norms"]["output"]) for p in points if p["event"] == "grads"] == [
        (i, 0.25) for i in range(10, 51, 10)]
    assert points.index(next(p for p in points if p["event"] == "grads")) == 10  # after step 10
    assert pipe.sent[2]["train_ppl"] == 3.0  # the epoch's metrics, flattened as in metrics.jsonl
    assert all(isinstance(v, (int, float, str, bool, dict)) for p in pipe.sent[1]["points"] for v in p.values())


def test_relay_stops_the_run_when_the_parent_is_gone():
    stop = threading.Event()
    relay = _Relay(Pipe(broken=True), stop, interval=0)
    relay(_step(1))
    assert stop.is_set()


@pytest.fixture
def workdir(tmp_path, monkeypatch, data_dir):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_a_run_in_a_child_process_pauses_resumes_and_stops_with_its_checkpoint(workdir):
    process = TrainingProcess(tiny_config(train={"epochs": 1000}), "run")  # relative to this directory
    seen: list[dict] = []
    marks: dict[str, int] = {}

    def control() -> None:
        def steps() -> int:
            return sum(p["event"] == "step" for m in list(seen) if m["event"] == "steps" for p in m["points"])

        while steps() < 20:
            time.sleep(0.02)
        process.pause()
        time.sleep(0.3)  # the child sends what it had, then waits
        marks["paused"] = steps()
        time.sleep(0.6)
        marks["still_paused"] = steps()
        assert process.paused
        process.resume()
        while steps() < marks["still_paused"] + 20:
            time.sleep(0.02)
        process.stop()

    controller = threading.Thread(target=control)
    controller.start()
    end = process.run(seen.append)
    controller.join(5)
    assert end.status == "stopped" and "stopped by request" in end.message
    assert marks["still_paused"] == marks["paused"] > 0  # nothing trained while paused
    events = [m["event"] for m in seen]
    assert events[0] == "start" and events[-1] == "end" and "steps" in events
    points = [p for m in seen if m["event"] == "steps" for p in m["points"] if p["event"] == "step"]
    assert [p["global_step"] for p in points] == list(range(1, len(points) + 1))  # none lost, none twice
    run = workdir / "run"
    assert load_checkpoint(run / "checkpoint.pt").info["status"] == "stopped"
    assert len(load_history(run / "metrics.jsonl").step_loss) == len(points)
    assert not process.process.is_alive() and child_processes() == []


def test_a_failing_run_raises_its_one_line_reason(workdir):
    (workdir / "empty.txt").write_text("", encoding="utf-8")
    process = TrainingProcess(tiny_config(data={"corpus": "empty.txt"}), workdir / "run")  # the parent's cwd
    with pytest.raises(TrainingFailed, match="is empty") as failure:
        process.run(lambda message: None)
    assert "\n" not in str(failure.value)
    assert process.process.exitcode == 0 and child_processes() == []


def test_a_child_that_dies_is_reported(workdir):
    process = TrainingProcess(tiny_config(train={"epochs": 1000}), workdir / "run")

    def deliver(message: dict) -> None:
        if message["event"] == "steps":
            process.process.kill()

    with pytest.raises(TrainingFailed, match="ended without a result"):
        process.run(deliver)
    assert child_processes() == []


@pytest.mark.parametrize("error,line", [
    (RuntimeError("\n        An attempt has been made to start a new process\n        more text"),
     "RuntimeError: An attempt has been made to start a new process"),
    (ValueError(""), "ValueError"),
    (MemoryError(), "out of memory: MemoryError; try a smaller batch"),
    (RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB"),
     "out of memory: CUDA out of memory. Tried to allocate 2.00 GiB; try a smaller batch"),
])
def test_describe_gives_one_line_with_words(error, line):
    """A run's failure reaches the app as one line: the first line that says something (multiprocessing's
    errors begin with a blank line, which once showed as a bare 'RuntimeError')."""
    assert describe(error) == line
