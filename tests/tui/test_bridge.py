"""The bridge between the training process and the UI: messages posted as Textual messages, keys passed on."""

from __future__ import annotations

from rnntui.tui.bridge import TrainingBridge
from rnntui.tui.messages import RunEvent, StepsLogged


class Target:
    def __init__(self) -> None:
        self.messages = []

    def post_message(self, message) -> bool:
        self.messages.append(message)
        return True


class Process:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def pause(self) -> None:
        self.calls.append("pause")

    def resume(self) -> None:
        self.calls.append("resume")

    def stop(self) -> None:
        self.calls.append("stop")


def test_messages_become_textual_messages_and_keys_reach_the_process():
    target, process = Target(), Process()
    bridge = TrainingBridge(target, process)
    points = [{"event": "step", "step": i, "loss": 2.0} for i in range(1, 4)]
    bridge.deliver({"event": "start", "epochs": 2})
    bridge.deliver({"event": "steps", "points": points})
    bridge.deliver({"event": "epoch", "epoch": 1, "train_ppl": 3.0})
    assert [type(m) for m in target.messages] == [RunEvent, StepsLogged, RunEvent]
    assert target.messages[1].points == points
    assert target.messages[2].event["train_ppl"] == 3.0
    bridge.pause()
    bridge.resume()
    bridge.stop()
    assert process.calls == ["pause", "resume", "stop"]
