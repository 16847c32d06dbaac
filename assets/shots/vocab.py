"""The Vocab view: The Time Machine's words with min_freq 2 and a token in context, then n-grams and Zipf."""

from __future__ import annotations

import time


async def until(pilot, condition, what: str) -> None:
    deadline = time.monotonic() + 60
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"the Vocab view did not show {what} within a minute")
        await pilot.pause(0.05)


async def shoot(app, pilot, save) -> None:
    await pilot.press("3")
    view = app.view("vocab")
    await until(pilot, lambda: view.report is not None, "The Time Machine")
    for key in ("w", "plus", "plus"):  # words, min_freq 2
        await pilot.press(key)
        await until(pilot, lambda: not view.counting, "the count")
    await pilot.press("down", "down", "down", "down", "enter")  # "of", in context
    await pilot.pause(0.3)
    save("vocab")
    await pilot.press("minus", "minus")
    await until(pilot, lambda: not view.counting, "the count")
    await pilot.press("n")
    await pilot.pause(0.5)
    save("vocab-zipf")
