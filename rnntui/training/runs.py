"""The runs directory: one folder per run with config.toml, metrics.jsonl and checkpoint.pt."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from rnntui.clock import clock
from rnntui.config import ExperimentConfig, load_toml
from rnntui.errors import ConfigError
from rnntui.training.history import History, read_more
from rnntui.training.metrics import best_of

# the files of a run folder
METRICS = "metrics.jsonl"
CONFIG = "config.toml"
CHECKPOINT = "checkpoint.pt"


def new_run_dir(runs_dir: str | Path, name: str) -> Path:
    """A new, empty run folder ``NAME-YYYYmmdd-HHMMSS`` under ``runs_dir``, made here and now, so that no two
    runs ever share one (two started in the same second: the second gets ``-2``, and so on)."""
    runs_dir = Path(runs_dir)
    runs_dir.mkdir(parents=True, exist_ok=True)
    stem = f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"
    for suffix in range(1, 10_000):
        path = runs_dir / (stem if suffix == 1 else f"{stem}-{suffix}")
        try:
            path.mkdir()  # atomic: exactly one process creates it
            return path
        except FileExistsError:
            continue
    raise FileExistsError(f"no free run folder name for {stem} in {runs_dir}")


def model_name(config: ExperimentConfig) -> str:
    """The model in brief, as the runs table shows it: ``2xLSTM scratch 256``, ``MLP 10``."""
    m = config.model
    if config.task == "sine" and m.kind == "mlp":
        return f"MLP {m.num_hiddens}"
    layers = f"{m.num_layers}x" if m.num_layers > 1 else ""
    bi = "bi-" if m.bidirectional else ""
    impl = " scratch" if m.impl == "scratch" else ""
    return f"{layers}{bi}{m.kind.upper()}{impl} {m.num_hiddens}"


@dataclass
class RunSummary:
    path: Path
    config: ExperimentConfig | None  # None: the run is unreadable (``error`` says why)
    history: History
    status: str = "unknown"
    best: dict[str, float] = field(default_factory=dict)
    error: str = ""  # why the run folder is "unreadable": a missing or bad config, a damaged file

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def model(self) -> str:
        return model_name(self.config) if self.config is not None else "-"

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
        config = self.config
        return (self.name, config.name if config else "-", self.model,
                f"{self.epochs_done}/{config.train.epochs if config else '?'}",
                f"{head[0]} {head[1]:.4g}" if head else "-", clock(self.elapsed_s), self.device, self.status)


CELL_TITLES = ("run", "preset", "model", "epochs", "best held-out", "time", "device", "status")


def comparable_metric(runs: list[RunSummary]) -> str:
    """The per-epoch metric every one of ``runs`` has, held-out figures first."""
    return next((k for k in ("val_ppl", "val_bleu", "test_mse", "train_ppl", "train_loss")
                 if all(k in r.history.metric_keys() for r in runs)), "train_loss")


def discard_if_empty(path: str | Path) -> None:
    """Remove a run folder that a failed start left empty (a bad corpus fails before anything is written)."""
    try:
        Path(path).rmdir()  # only an empty folder goes
    except OSError:
        pass


def latest_run(directory: str | Path, tasks: tuple[str, ...], cache: dict | None = None) -> RunSummary | None:
    """The most recent finished run of one of ``tasks`` ("lm", "seq2seq", "sine") that has its checkpoint."""
    return next((run for run in list_runs(directory, cache) if run.status == "finished" and run.config
                 and run.config.task in tasks and (run.path / CHECKPOINT).is_file()), None)


def read_run(path: str | Path) -> RunSummary:
    return _read(Path(path))[0]


def _read(path: Path, previous: RunSummary | None = None, offset: int = 0) -> tuple[RunSummary, int]:
    """The run's summary, reading metrics.jsonl from ``offset`` on into ``previous``'s history if given.
    A run folder that cannot be read whole is "unreadable", with the reason; what could be read is kept."""
    config, error = (previous.config, previous.error) if previous is not None else (None, "")
    if previous is None:
        try:
            if not (path / CONFIG).is_file():
                raise FileNotFoundError
            config = load_toml(path / CONFIG)
        except FileNotFoundError:
            error = f"no {CONFIG}"
        except (ConfigError, OSError, UnicodeDecodeError, ValueError) as exc:
            error = f"{CONFIG}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
    history = previous.history if previous is not None else History()
    try:
        if (path / METRICS).exists():
            offset = read_more(history, path / METRICS, offset)
    except OSError as exc:
        error = error or f"{METRICS}: {exc.strerror or exc}"
    if history.bad_lines and not error:
        error = f"{METRICS}: {history.bad_lines} line(s) are not events (a damaged file)"
    if not error and not _looks_like_a_checkpoint(path / CHECKPOINT):
        error = f"{CHECKPOINT} is not a checkpoint (a damaged or foreign file)"
    status = history.end.get("status", "unfinished") if history.end else "unfinished"  # running, or killed
    return RunSummary(path, config if not error or config else None, history, "unreadable" if error else status,
                      best_of(history.epochs), error), offset


def _looks_like_a_checkpoint(path: Path) -> bool:
    """True when there is none yet, or it begins as torch.save's zip files do (reading no more of it)."""
    try:
        with path.open("rb") as f:
            return f.read(4) == b"PK\x03\x04"
    except FileNotFoundError:
        return True
    except OSError:
        return False


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
    """Every run folder under ``directory``, newest first (damaged ones as "unreadable"). With a
    ``cache`` (kept by the caller between calls), only runs whose files changed are read again, and a
    metrics.jsonl that only grew (a run still training) is read from where the last call stopped."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    runs = []
    for path in sorted(directory.iterdir(), key=lambda p: p.stat().st_mtime, reverse=True):
        if not path.is_dir() or not any((path / name).exists() for name in (CONFIG, METRICS, CHECKPOINT)):
            continue
        stamp = _stamp(path)
        cached = cache.get(path) if cache is not None else None
        if cached is not None and cached[0] == stamp:
            runs.append(cached[1])
            continue
        # same config, metrics.jsonl no shorter than what was read: a run that went on writing
        grew = cached is not None and cached[0][0] == stamp[0] and stamp[1] is not None and stamp[1][1] >= cached[2]
        run, offset = _read(path, cached[1], cached[2]) if grew else _read(path)
        if cache is not None:
            cache[path] = (stamp, run, offset)
        runs.append(run)
    return runs
