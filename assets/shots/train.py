"""The Train view: the setup form, and the dashboard of the recorded LSTM run part of the way through."""

from __future__ import annotations

import json
from types import SimpleNamespace

from screenshots import run_of


async def shoot(app, pilot, save) -> None:
    from rnntui.tui.session import RunState

    save("train-setup")
    # the LSTM run 30 epochs of 50 in: its recorded events fed to the dashboard as they had arrived live
    view = app.view("train")
    lines = (run_of(app, "lstm") / "metrics.jsonl").read_text(encoding="utf-8").splitlines()
    events = [json.loads(line) for line in lines]
    stop_at = sum(e["event"] == "epoch" for e in events) * 3 // 5
    view.show_part("dashboard")
    session = SimpleNamespace(state=RunState.RUNNING, active=True, paused=False)  # as it was while training
    view.dashboard.reset("lstm", 1.0, session)
    view.session = session  # (its keys: pause and stop)
    view.refresh_bindings()
    for event in events:
        if event["event"] == "step":
            view.dashboard.add_points([event])
        else:
            view.dashboard.add_event(event)
        if event["event"] == "epoch" and event["epoch"] == stop_at:
            break
    await pilot.pause()
    view.dashboard.refresh_charts(everything=True)
    await pilot.pause(0.5)
    save("train-dashboard")
    view.session = None
