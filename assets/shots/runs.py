"""The Runs view: the recorded RNN, GRU and LSTM runs, their held-out perplexity overlaid."""

from __future__ import annotations

from screenshots import run_of


async def shoot(app, pilot, save) -> None:
    await pilot.press("2")
    await pilot.pause(0.3)
    table = app.query_one("#runs-table")
    names = [str(table.get_row_at(i)[2]) for i in range(table.row_count)]
    for preset in ("lstm", "gru", "rnn"):
        table.move_cursor(row=names.index(run_of(app, preset).name))
        await pilot.press("space")
    await pilot.press("c")
    await pilot.pause(0.5)
    save("runs-compare")
