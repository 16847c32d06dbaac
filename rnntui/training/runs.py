"""The runs directory: one folder per run with config.toml, metrics.jsonl and checkpoint.pt."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from rnntui.config import ExperimentConfig, load_toml
from rnntui.errors import ConfigError
from rnntui.training.history import History, read_more

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

    def cells(self) -> tuple[str, ...]:
        """The row the Runs view and ``rnntui runs`` show: name, preset, model, epochs, best held-out
        figure, time, device, status."""
        head = self.headline
        minutes, seconds = divmod(int(self.elapsed_s), 60)
        return (self.name, self.config.name, self.model, f"{self.epochs_done}/{self.config.train.epochs}",
                f"{head[0]} {head[1]:.4g}" if head else "-", f"{minutes}:{seconds:02d}", self.device, self.status)


CELL_TITLES = ("run", "preset", "model", "epochs", "best held-out", "time", "device", "status")


def comparable_metric(runs: list[RunSummary]) -> str:
    """The per-epoch metric every one of ``runs`` has, held-out figures first."""
    return next((k for k in ("val_ppl", "val_bleu", "test_mse", "train_ppl", "train_loss")
                 if all(k in r.history.metric_keys() for r in runs)), "train_loss")


def best_of(history: History) -> dict[str, float]:
    best: dict[str, float] = {}
    for event in history.epochs:
        for key, value in event.items():
            if key.startswith(("val_", "test_", "sample_")) and isinstance(value, (int, float)):
                better = max if "bleu" in key else min
                best[key] = better(best.get(key, value), value)
    return best


def read_run(path: str | Path) -> RunSummary:
    return _read(Path(path))[0]


def _read(path: Path, previous: RunSummary | None = None, offset: int = 0) -> tuple[RunSummary, int]:
    """The run's summary, reading metrics.jsonl from ``offset`` on into ``previous``'s history if given."""
    config = previous.config if previous is not None else load_toml(path / CONFIG)
    history = previous.history if previous is not None else History()
    if (path / METRICS).exists():
        offset = read_more(history, path / METRICS, offset)
    status = history.end.get("status", "unfinished") if history.end else "unfinished"  # running, or killed
    return RunSummary(path, config, history, status, best_of(history)), offset


def _stamp(path: Path) -> tuple:
    stamps = []
    for name in (CONFIG, METRICS):
        try:
            stat = (path / name).stat()
            stamps.append((stat.st_mtime_ns, stat.st_size))
        except OSError:
            stamps.append(None)
    return tuple(stamps)


def list_runs(directory: str | Path, cache: dict[Path, tuple] | None = None) -> list[RunSummary]:
    """Every readable run under ``directory``, newest first; unreadable folders are skipped. With a
    ``cache`` (kept by the caller between calls), only runs whose files changed are read again, and a
    metrics.jsonl that only grew (a run still training) is read from where the last call stopped."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    runs = []
    for path in sorted(directory.iterdir(), key=lambda p: p.stat().st_mtime, reverse=True):
        if not (path / CONFIG).is_file():
            continue
        stamp = _stamp(path)
        cached = cache.get(path) if cache is not None else None
        if cached is not None and cached[0] == stamp:
            runs.append(cached[1])
            continue
        # same config, metrics.jsonl no shorter than what was read: a run that went on writing
        grew = cached is not None and cached[0][0] == stamp[0] and stamp[1] is not None and stamp[1][1] >= cached[2]
        try:
            run, offset = _read(path, cached[1], cached[2]) if grew else _read(path)
        except (ConfigError, OSError):
            continue
        if cache is not None:
            cache[path] = (stamp, run, offset)
        runs.append(run)
    return runs
