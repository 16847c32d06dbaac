"""Subcommands of ``rnntui`` that live in modules of their own.

Each module here has ``add_parsers(sub, parser_class)``: it adds its subparsers to ``sub`` (argparse's
subparsers object) and sets ``func`` on each (``parser.set_defaults(func=run)``), a function of the
parsed arguments that returns the exit status. ``rnntui.cli`` finds the modules itself. Parsing must
stay fast: torch and the engine are imported inside the functions, not at the top of the module.
"""

from __future__ import annotations

import importlib
import pkgutil


def modules() -> list:
    """The command modules, in name order."""
    return [importlib.import_module(f"{__name__}.{info.name}") for info in sorted(
        pkgutil.iter_modules(__path__), key=lambda info: info.name) if not info.name.startswith("_")]
