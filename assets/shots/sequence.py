"""The Sequence view: the recorded GRU (sine-rnn) on seed 0's draw, the recorded MLP (sine-mlp) beside it."""

from __future__ import annotations

import time

from screenshots import run_of


async def shoot(app, pilot, save) -> None:
    run_of(app, "sine-mlp", checkpoint=True)
    gru = run_of(app, "sine-rnn", checkpoint=True)  # recorded last: the latest finished sine run, shown by default
    await pilot.press("6")
    view = app.view("sequence")
    deadline = time.monotonic() + 60
    while not (view.forecasts is not None and view.partner is not None and view.model is not None
               and view.model.run_dir == gru):
        if time.monotonic() > deadline:
            raise RuntimeError("the Sequence view did not show the GRU beside the MLP within a minute")
        await pilot.pause(0.05)
    await pilot.pause(0.3)
    save("sequence")
