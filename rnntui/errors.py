"""User-facing errors: each carries a one-line message that the CLI and the TUI show as is."""

from __future__ import annotations


class RnntuiError(Exception):
    """Base class for errors caused by input (files, options, data), not by bugs."""


class ConfigError(RnntuiError):
    """An invalid hyperparameter, preset or option."""


class DataError(RnntuiError):
    """A missing, corrupt or unusable data file or corpus."""


class CheckpointError(RnntuiError):
    """A checkpoint that cannot be read: truncated, foreign or unsafe."""


class RunFolderError(RnntuiError):
    """A run folder that cannot be written (a full disk, a read-only folder) or resumed."""


class TrainingDiverged(RnntuiError):
    """The loss became NaN or infinite."""


def describe(error: BaseException) -> str:
    """One line for any error: ours as they are, out-of-memory with a hint, others as 'Type: first line'."""
    if isinstance(error, RnntuiError):
        return str(error)
    text = str(error)
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")  # the first with words
    if isinstance(error, MemoryError) or "out of memory" in text.lower():
        return f"out of memory: {first or 'MemoryError'}; try a smaller batch"
    if isinstance(error, KeyboardInterrupt):
        return "interrupted"
    return f"{type(error).__name__}: {first}" if first else type(error).__name__
