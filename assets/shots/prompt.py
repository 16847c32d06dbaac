"""The Prompt view: the recorded LSTM continuing two prompts, coloured by how probable each character was."""

from __future__ import annotations

import time

from screenshots import run_of

from rnntui.tui.model_choice import ModelChoice


async def generated(app, pilot, prompt: str) -> None:
    view = app.view("prompt")
    before = view._request
    view.input.value = prompt
    await pilot.press("enter")
    deadline = time.monotonic() + 60
    while not (view._request > before and view._active is None):
        if time.monotonic() > deadline:
            raise RuntimeError("the Prompt view did not finish a generation within a minute")
        await pilot.pause(0.05)


async def shoot(app, pilot, save) -> None:
    app.model_choice = ModelChoice("run", run_of(app, "lstm", checkpoint=True))
    await pilot.press("5")
    view = app.view("prompt")
    deadline = time.monotonic() + 60
    while view.model is None:
        if time.monotonic() > deadline:
            raise RuntimeError("the Prompt view did not load the LSTM within a minute")
        await pilot.pause(0.05)
    await pilot.press("enter")  # into the prompt line
    await generated(app, pilot, "the time traveller ")
    await generated(app, pilot, "the morlocks ")
    await pilot.press("escape", "c")  # colour by probability
    await pilot.pause(0.3)
    save("prompt")
