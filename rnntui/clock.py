"""Durations as people read them on a clock: the dashboard, the runs table and the CLI's progress bar."""

from __future__ import annotations

import math


def clock(seconds: float) -> str:
    """``m:ss`` under an hour, ``h:mm:ss`` from then on (negative and non-finite durations read 0:00)."""
    seconds = int(seconds) if math.isfinite(seconds) and seconds > 0 else 0
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"
