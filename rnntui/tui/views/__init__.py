"""The views of the playground, in tab order: the one place their ids, titles and keys are written.

A view's class lives in the module named here and is imported when the view is mounted: the first frame
waits for the Train view alone (``benchmarks/startup.py``), and the others follow it.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass


@dataclass(frozen=True)
class ViewEntry:
    view_id: str
    title: str
    key: str
    cls: str  # the View subclass in rnntui.tui.views.<view_id>

    def load(self) -> type:
        return getattr(importlib.import_module(f"{__name__}.{self.view_id}"), self.cls)


VIEWS: tuple[ViewEntry, ...] = (
    ViewEntry("train", "Train", "1", "TrainView"),
    ViewEntry("runs", "Runs", "2", "RunsView"),
    ViewEntry("vocab", "Vocab", "3", "VocabView"),
    ViewEntry("sampling", "Sampling", "4", "SamplingView"),
    ViewEntry("prompt", "Prompt", "5", "PromptView"),
    ViewEntry("sequence", "Sequence", "6", "SequenceView"),
    ViewEntry("gradients", "Gradients", "7", "GradientsView"),
)
ENTRIES = {entry.view_id: entry for entry in VIEWS}
