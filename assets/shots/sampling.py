"""The Sampling view: the recorded LSTM's next character after "time traveller", top-p, a few steps taken."""

from __future__ import annotations

import time

from screenshots import run_of

from rnntui.tui.model_choice import ModelChoice


async def settled(app, pilot) -> None:
    from rnntui.tui.widgets.token_bars import TokenBars

    view, bars = app.view("sampling"), app.query_one(TokenBars)
    deadline = time.monotonic() + 60
    while not (view.shown is not None and view.shown.version == view._version and bars.painted == bars.version
               and view.strip_state == view.shown.state):
        if time.monotonic() > deadline:
            raise RuntimeError("the Sampling view did not settle within a minute")
        await pilot.pause(0.05)
    await pilot.pause(0.3)


async def shoot(app, pilot, save) -> None:
    app.model_choice = ModelChoice("run", run_of(app, "lstm", checkpoint=True))
    await pilot.press("4")
    await settled(app, pilot)
    await pilot.press("g", "space", "g", "t", "t")  # greedy, sampled, greedy; T 0.8
    await settled(app, pilot)
    save("sampling")
