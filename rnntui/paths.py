"""Per-user directories (no imports beyond the standard library)."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def runs_dir() -> Path:
    """Where runs are kept: RNNTUI_RUNS_DIR, else the per-user data directory + /rnntui/runs."""
    if os.environ.get("RNNTUI_RUNS_DIR"):
        return Path(os.environ["RNNTUI_RUNS_DIR"]).expanduser()
    if sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    elif os.name == "nt":
        base = Path(os.environ.get("APPDATA") or Path.home() / "AppData" / "Roaming")
    else:
        xdg = os.environ.get("XDG_DATA_HOME", "")
        base = Path(xdg) if os.path.isabs(xdg) else Path.home() / ".local" / "share"
    return base / "rnntui" / "runs"
