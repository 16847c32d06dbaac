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


class TrainingDiverged(RnntuiError):
    """The loss became NaN or infinite."""
