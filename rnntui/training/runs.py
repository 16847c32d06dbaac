"""The runs directory: one folder per run with config.toml, metrics.jsonl and checkpoint.pt."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from rnntui.config import ExperimentConfig, load_toml
from rnntui.errors import ConfigError
from rnntui.training.history import History, load_history

METRICS = "metrics.jsonl"
CONFIG = "config.toml"


@dataclass
class RunSummary:
    path: Path
    config: ExperimentConfig
    history: History
    status: str = "unknown"
    best: dict[str, float] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def model(self) -> str:
        m = self.config.model
        if self.config.task == "sine" and m.kind == "mlp":
            return f"MLP {m.num_hiddens}"
        layers = f"{m.num_layers}x" if m.num_layers > 1 else ""
        bi = "bi-" if m.bidirectional else ""
        impl = " scratch" if m.impl == "scratch" else ""
        return f"{layers}{bi}{m.kind.upper()}{impl} {m.num_hiddens}"

    @property
    def epochs_done(self) -> int:
        return len(self.history.epochs)

    @property
    def elapsed_s(self) -> float:
        h = self.history
        return float(h.end.get("elapsed_s") or (h.epochs[-1]["elapsed_s"] if h.epochs else 0.0))

    @property
    def device(self) -> str:
        return str(self.history.start.get("device", "?"))

    @property
    def headline(self) -> tuple[str, float] | None:
        """The held-out figure that ranks this run: val_ppl, val_bleu or test_mse."""
        for key in ("val_ppl", "val_bleu", "test_mse", "sample_bleu"):
            if key in self.best:
                return key, self.best[key]
        return None


def best_of(history: History) -> dict[str, float]:
    best: dict[str, float] = {}
    for event in history.epochs:
        for key, value in event.items():
            if key.startswith(("val_", "test_", "sample_")) and isinstance(value, (int, float)):
                better = max if "bleu" in key else min
                best[key] = better(best.get(key, value), value)
    return best


def read_run(path: str | Path) -> RunSummary:
    path = Path(path)
    config = load_toml(path / CONFIG)
    history = load_history(path / METRICS) if (path / METRICS).exists() else History()
    status = history.end.get("status", "running or interrupted") if history.end else "running or interrupted"
    return RunSummary(path, config, history, status, best_of(history))


def _stamp(path: Path) -> tuple:
    stamps = []
    for name in (CONFIG, METRICS):
        try:
            stat = (path / name).stat()
            stamps.append((stat.st_mtime_ns, stat.st_size))
        except OSError:
            stamps.append(None)
    return tuple(stamps)


def list_runs(directory: str | Path, cache: dict[Path, tuple[tuple, RunSummary]] | None = None) -> list[RunSummary]:
    """Every readable run under ``directory``, newest first; unreadable folders are skipped. With a
    ``cache`` (kept by the caller between calls), only runs whose files changed are read again."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    runs = []
    for path in sorted(directory.iterdir(), key=lambda p: p.stat().st_mtime, reverse=True):
        if not (path / CONFIG).is_file():
            continue
        stamp = _stamp(path)
        if cache is not None and path in cache and cache[path][0] == stamp:
            runs.append(cache[path][1])
            continue
        try:
            run = read_run(path)
        except (ConfigError, OSError):
            continue
        if cache is not None:
            cache[path] = (stamp, run)
        runs.append(run)
    return runs
