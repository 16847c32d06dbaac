"""The engine imports no UI library: only rnntui/tui/ may import textual, plotext or rich."""

from __future__ import annotations

import ast
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import rnntui
from conftest import REPO, cli_env

UI = ("textual", "textual_plotext", "plotext", "rich")
PACKAGE = Path(rnntui.__file__).resolve().parent

REQUIRED = [
    "rnntui", "rnntui.config", "rnntui.errors", "rnntui.paths", "rnntui.cli", "rnntui.presets",
    "rnntui.data.vocab", "rnntui.data.corpus", "rnntui.data.batches", "rnntui.data.download",
    "rnntui.models.scratch", "rnntui.models.lm",
    "rnntui.training.events", "rnntui.training.trainer", "rnntui.training.lm_task",
    "rnntui.training.checkpoint", "rnntui.training.experiment", "rnntui.training.metrics",
    "rnntui.decoding.sampling", "rnntui.decoding.generate",
]


def engine_modules() -> list[str]:
    """Every module of the package except the TUI and ``__main__`` (importing that runs the CLI)."""
    found = {
        info.name for info in pkgutil.walk_packages([str(PACKAGE)], prefix="rnntui.")
        if not info.name.startswith("rnntui.tui") and not info.name.endswith("__main__")
    }
    return sorted(found | set(REQUIRED))


def test_engine_modules_are_all_found():
    modules = engine_modules()
    assert set(REQUIRED) <= set(modules)
    assert not any(m.startswith("rnntui.tui") for m in modules)


def test_importing_the_engine_loads_no_ui_library(tmp_path):
    code = (
        "import importlib, json, sys\n"
        f"for name in {engine_modules()!r}:\n"
        "    importlib.import_module(name)\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {UI!r})))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=cli_env(tmp_path),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []


def test_the_check_would_notice_a_ui_import(tmp_path):
    """The subprocess check above is not vacuous: importing a UI library does show up in sys.modules."""
    probe = next((name for name in UI if _importable(name)), None)
    if probe is None:
        pytest.skip("no UI library installed to probe with")
    code = f"import sys, {probe}; print({probe!r} in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "True"


def _importable(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


def ui_imports(source: str) -> list[str]:
    """UI libraries a module imports: import statements, ``__import__("x")`` and ``import_module("x")``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if called in ("__import__", "import_module") and isinstance(node.args[0].value, str):
                names = [node.args[0].value]
        found += [n for n in names if n.split(".")[0] in UI]
    return found


def test_ui_import_finder_finds_them():
    assert ui_imports("import textual") == ["textual"]
    assert ui_imports("from textual.app import App") == ["textual.app"]
    assert ui_imports("def f():\n    import rich.console as c\n") == ["rich.console"]
    assert ui_imports("import importlib\nimportlib.import_module('plotext')") == ["plotext"]
    assert ui_imports("x = __import__('textual_plotext')") == ["textual_plotext"]
    assert ui_imports("import richer\nfrom . import rich\nimport torch") == []


def test_no_engine_source_imports_a_ui_library():
    files = [p for p in PACKAGE.rglob("*.py") if "tui" not in p.relative_to(PACKAGE).parts[:1]]
    assert PACKAGE / "cli.py" in files and PACKAGE / "models" / "scratch.py" in files
    offenders = {
        str(p.relative_to(REPO)): names
        for p in files
        if (names := ui_imports(p.read_text(encoding="utf-8")))
    }
    assert offenders == {}


def test_the_views_and_the_app_load_without_torch(tmp_path):
    """The app draws its first frame and mounts its views before torch is imported (a worker imports it
    last; ``benchmarks/startup.py``): no view module may import it when it is loaded."""
    code = (
        "import importlib, sys\n"
        "import rnntui.tui.app\n"
        "from rnntui.tui.views import VIEWS\n"
        "for entry in VIEWS:\n"
        "    entry.load()\n"
        "print(sorted(m for m in ('torch', 'numpy') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=cli_env(tmp_path),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "torch" not in result.stdout.strip().splitlines()[-1], result.stdout
