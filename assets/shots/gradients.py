"""The Gradients view: the recorded RNN's dL_T/dH_t through time with the recorded GRU and LSTM overlaid
(``gradients``), and the recorded LSTM's memory cells over held-out text with the unit that responds most
to spaces (``gates``)."""

from __future__ import annotations

import time

from rnntui.tui.model_choice import ModelChoice
from screenshots import run_of


async def _until(pilot, condition, what: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"the Gradients view did not show {what} within {seconds:g} s")
        await pilot.pause(0.05)


async def _computed(pilot, view, what: str) -> None:
    await pilot.pause(0.1)
    await _until(pilot, lambda: not view.computing and (view.part in view.results or view.part in view.errors), what)
    if view.part in view.errors:
        raise RuntimeError(f"the Gradients view could not show {what}: {view.errors[view.part]}")
    await pilot.pause(0.5)  # past the busy line's timer


async def shoot(app, pilot, save) -> None:
    rnn = run_of(app, "rnn", checkpoint=True)
    run_of(app, "gru", checkpoint=True)
    lstm = run_of(app, "lstm", checkpoint=True)
    view = app.view("gradients")

    app.model_choice = ModelChoice("run", rnn)
    await pilot.press("7")
    await _until(pilot, lambda: view.model is not None and view.model.run_dir == rnn, "the recorded RNN")
    await _computed(pilot, view, "the RNN's gradient flow")
    await pilot.press("o")  # the recorded GRU and LSTM over it
    await _computed(pilot, view, "the GRU and LSTM overlaid")
    save("gradients")

    app.model_choice = ModelChoice("run", lstm)
    await _until(pilot, lambda: view.model is not None and view.model.run_dir == lstm, "the recorded LSTM")
    await pilot.press("g")
    await _computed(pilot, view, "the LSTM's gates")
    await pilot.press("up", "p", "space", "enter")  # the memory cell; the unit that differs most at spaces
    await _until(pilot, lambda: view.pattern is not None, "the unit that responds to spaces")
    await pilot.pause(0.5)
    save("gates")
