"""The bridge between the training thread and the UI: batching, pause and stop."""

from __future__ import annotations

import threading
import time

from rnntui.training.events import EpochEnded, FitStarted, StepEnded
from rnntui.tui.bridge import TrainingBridge
from rnntui.tui.messages import RunEvent, StepsLogged


class Target:
    def __init__(self) -> None:
        self.messages = []

    def post_message(self, message) -> bool:
        self.messages.append(message)
        return True


def _step(i: int) -> StepEnded:
    return StepEnded(1, i, i, 100, 2.0, 1.5, True, 1000.0, 0.1 * i)


def test_steps_are_batched_and_never_lost():
    target = Target()
    bridge = TrainingBridge(target, interval=3600)  # nothing is posted on time alone
    bridge(FitStarted(1, 100, "cpu", 10, "tiny"))
    for i in range(1, 51):
        bridge(_step(i))
    assert [type(m) for m in target.messages] == [RunEvent]  # steps wait for the interval (or an epoch)
    bridge(EpochEnded(1, 1, {"train_ppl": 3.0}, 1000.0, 5.0, "sample"))  # an epoch flushes the buffer first
    steps = [p["step"] for m in target.messages if isinstance(m, StepsLogged) for p in m.points]
    assert steps == list(range(1, 51))
    assert isinstance(target.messages[-1], RunEvent) and target.messages[-1].event["event"] == "epoch"
    assert all(isinstance(v, (int, float, str, bool)) for m in target.messages if isinstance(m, StepsLogged)
               for p in m.points for v in p.values())


def test_pause_blocks_the_trainer_until_resume_and_stop_releases_it():
    bridge = TrainingBridge(Target())
    assert bridge.should_stop() is False
    bridge.pause()
    answers = []
    worker = threading.Thread(target=lambda: answers.append(bridge.should_stop()))
    worker.start()
    time.sleep(0.2)
    assert worker.is_alive() and not answers  # blocked while paused
    bridge.resume()
    worker.join(2)
    assert answers == [False]
    bridge.pause()
    worker = threading.Thread(target=lambda: answers.append(bridge.should_stop()))
    worker.start()
    time.sleep(0.1)
    bridge.stop()  # stopping a paused run must not leave the thread waiting
    worker.join(2)
    assert not worker.is_alive() and answers == [False, True]
