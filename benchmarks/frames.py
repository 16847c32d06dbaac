"""What the app benchmarks share: every frame the app puts out, timed, and percentiles.

Headless, Textual skips turning a frame into terminal codes; ``watch_frames`` does it, as a terminal needs
it, so that its time counts too. (It wraps ``App._display``, the one place every frame passes.)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def watch_frames(app, state: Callable[[], Any]) -> list[tuple]:
    """A list that gets, for every frame the app puts out, ``(when it was ready for the terminal, *state())``
    (``state`` returns a tuple) or ``(when, state())``."""
    frames: list[tuple] = []
    display = app._display

    def _display(screen, renderable) -> None:
        display(screen, renderable)
        if renderable is not None:
            if app.is_headless and hasattr(renderable, "render_segments"):
                renderable.render_segments(app.console)  # what the terminal driver would be sent
            seen = state()
            frames.append((time.perf_counter(), *seen) if isinstance(seen, tuple) else (time.perf_counter(), seen))

    app._display = _display
    return frames


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]
