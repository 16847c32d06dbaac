"""Beam search step by step (d2l.ai, "Beam Search"): per step the hypotheses kept, by log P, with their
tokens, log P and length-normalised score; the best candidates just below the cut greyed (pruned); finished
ones ending in <eos>; the chosen hypothesis starred and the hypotheses it grew from marked."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

if TYPE_CHECKING:  # (torch: the views are mounted before it is imported)
    from rnntui.decoding.translate import BeamHypothesis, BeamTrace

CHOSEN = "★"
ON_PATH = "│"


def chosen_path(trace: BeamTrace) -> set[tuple[int, int]]:
    """(step, position in kept) of the chosen hypothesis and of every hypothesis it extends."""
    step, pos = trace.chosen
    path: set[tuple[int, int]] = set()
    while step >= 0 and trace.steps:
        path.add((step, pos))
        parent = trace.steps[step].kept[pos].parent
        if parent is None:
            break
        step, pos = step - 1, parent
    return path


def beam_lines(trace: BeamTrace, width: int = 100) -> list[Text]:
    """The trace as lines of text: a header, then per step its kept and pruned hypotheses, then the final ones."""
    tokens_w = max(12, width - 40)
    lines = []
    if trace.final:
        best = trace.final[0]
        lines.append(Text.assemble(("chosen ", "bold"), (f"{CHOSEN} ", "bold yellow"),
                                   (" ".join(best.tokens) or "(nothing)", "bold"),
                                   f"   log P {best.log_prob:.3f}, score {best.score:.3f} at step {trace.chosen[0] + 1}"
                                   f" (the best score of {len(trace.final)} final hypotheses)", no_wrap=True))
    lines.append(Text(f"{'':6}{'':3}{'hypothesis':<{tokens_w}} {'log P':>8} {'score':>8}", style="dim"))
    path = chosen_path(trace)

    def row(step: int, pos: int | None, hyp: BeamHypothesis, pruned: bool) -> Text:
        label = f"step {step + 1}" if pos == 0 else ""
        on_path = pos is not None and (step, pos) in path
        mark = CHOSEN if (step, pos) == trace.chosen else (ON_PATH if on_path else " ")
        words = " ".join(hyp.tokens)
        if len(words) > tokens_w:
            words = "…" + words[-(tokens_w - 1):]
        note = "pruned" if pruned else ("finished" if hyp.finished else "")
        text = Text(no_wrap=True)
        text.append(f"{label:<6} ", "bold" if label else "")
        text.append(f"{mark} ", "bold yellow" if mark == CHOSEN else "yellow")
        style = "dim" if pruned else ("green" if hyp.finished else ("bold" if on_path else ""))
        text.append(f"{words:<{tokens_w}} {hyp.log_prob:8.3f} {hyp.score:8.3f}", style)
        if note:
            text.append(f"  {note}", "dim" if pruned else "green")
        if (step, pos) == trace.chosen:
            text.append("  chosen", "bold yellow")
        return text

    for step, beam in enumerate(trace.steps):
        for pos, hyp in enumerate(beam.kept):
            lines.append(row(step, pos, hyp, False))
        for hyp in beam.pruned:
            lines.append(row(step, None, hyp, True))
    lines.append(Text(""))
    lines.append(Text(f"final hypotheses, best first by log P / L^{trace.alpha:g}:", style="dim"))
    for i, hyp in enumerate(trace.final):
        text = Text(no_wrap=True)
        text.append(f"  {CHOSEN if i == 0 else ' '} ", "bold yellow")
        text.append(f"{' '.join(hyp.tokens) or '(nothing)':<{tokens_w}}", "bold" if i == 0 else "")
        text.append(f" {hyp.log_prob:8.3f} {hyp.score:8.3f}  L {len(hyp.tokens)}", "" if i == 0 else "dim")
        lines.append(text)
    return lines


class BeamSteps(VerticalScroll, can_focus=True):
    """The trace, scrollable by keys; drawn again for a new width (the scrollbar's arrival too)."""

    DEFAULT_CSS = "BeamSteps { height: 1fr; padding: 0 1; } BeamSteps > Static { width: auto; }"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._trace: BeamTrace | None = None
        self._width = 0  # the width the trace was drawn for

    def compose(self) -> ComposeResult:
        yield Static("", markup=False)

    def show(self, trace: BeamTrace | None, message: str = "") -> None:
        self._trace = trace
        if trace is None:
            self.query_one(Static).update(Text(message, style="dim"))
            return
        self._draw()
        self.scroll_home(animate=False)

    def _draw(self) -> None:
        self._width = max(self.content_size.width, 60)
        self.query_one(Static).update(Text("\n").join(beam_lines(self._trace, self._width)))

    def on_resize(self) -> None:
        if self._trace is not None and max(self.content_size.width, 60) != self._width:
            self._draw()
