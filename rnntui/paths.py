"""Per-user directories: where runs are kept and where downloaded data is cached (standard library only)."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def _user_base(kind: str) -> Path:
    """This platform's per-user folder for ``kind``: "data" (kept) or "cache" (can be fetched again)."""
    home = Path.home()
    if sys.platform == "darwin":
        return home / "Library" / ("Application Support" if kind == "data" else "Caches")
    if sys.platform.startswith("win"):
        variable, default = ("APPDATA", "Roaming") if kind == "data" else ("LOCALAPPDATA", "Local")
        value = os.environ.get(variable)
        return Path(value) if value else home / "AppData" / default
    variable, default = ("XDG_DATA_HOME", ".local/share") if kind == "data" else ("XDG_CACHE_HOME", ".cache")
    value = os.environ.get(variable, "")
    return Path(value) if os.path.isabs(value) else home / default  # the XDG spec: relative paths are invalid


def runs_dir() -> Path:
    """Where runs are kept: RNNTUI_RUNS_DIR, else the per-user data directory + /rnntui/runs."""
    if os.environ.get("RNNTUI_RUNS_DIR"):
        return Path(os.environ["RNNTUI_RUNS_DIR"]).expanduser()
    return _user_base("data") / "rnntui" / "runs"


def data_dir() -> Path:
    """Where data sets are cached: RNNTUI_DATA_DIR, else the per-user cache directory (not created)."""
    if os.environ.get("RNNTUI_DATA_DIR"):
        return Path(os.environ["RNNTUI_DATA_DIR"]).expanduser()
    base = _user_base("cache") / "rnntui"
    return base / "Cache" if sys.platform.startswith("win") else base
