"""Choosing the Vocab view's text: The Time Machine, the built-in corpus, a file, or a run's data."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from rnntui.inspect.vocab import Source
from rnntui.training.runs import RunSummary, list_runs

CORPORA = (
    (Source.corpus("timemachine"), "The Time Machine (H. G. Wells), the book's text"),
    (Source.corpus("pydoc"), "Python's documentation: the built-in offline corpus"),
)


def run_sources(runs: list[RunSummary]) -> list[tuple[Source, str]]:
    """The runs whose data has a vocabulary: a language model's text, a translation run's two sides."""
    out = []
    for run in runs:
        cfg = run.config
        if cfg is None:
            continue
        if cfg.task == "lm":
            d = cfg.data
            out.append((Source.run(run.path), f"run {run.name}: {d.corpus}, {d.token} tokens, min_freq "
                                              f"{d.min_freq} ({run.model})"))
        elif cfg.task == "seq2seq":
            for side in ("source", "target"):
                out.append((Source.run(run.path, side), f"run {run.name}: translation pairs, {side} side "
                                                        f"(min_freq {cfg.pairs.min_freq})"))
    return out


class SourcePicker(ModalScreen[Source | None]):
    """Enter on a line takes that text; a path typed below takes that file; Esc keeps the text shown."""

    AUTO_FOCUS = "#source-options"
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="vocab.source-cancel")]

    @dataclass
    class RunsRead(Message):
        runs: list[RunSummary]

    def __init__(self, runs_dir: Path, current: Source) -> None:
        super().__init__()
        self.runs_dir, self.current = runs_dir, current
        self.choices: dict[str, Source] = {}

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("The text the Vocab view counts (a run: its data, with the settings it trained on):",
                         markup=False)
            yield OptionList(id="source-options")
            yield Input(placeholder="or a UTF-8 text file: path/to/book.txt, then Enter", id="source-file")
            yield Static("Enter takes a line, Esc keeps the text shown", id="source-hint", markup=False)

    def on_mount(self) -> None:
        for source, text in CORPORA:
            self._add(source, text)
        self._read_runs()

    def _add(self, source: Source, text: str) -> None:
        key = f"source-{len(self.choices)}"
        self.choices[key] = source
        self.query_one(OptionList).add_option(Option(("● " if source == self.current else "  ") + text, id=key))

    @work(thread=True, exit_on_error=False, description="listing the runs")
    def _read_runs(self) -> None:
        self.post_message(self.RunsRead(list_runs(self.runs_dir)))

    def on_source_picker_runs_read(self, message: RunsRead) -> None:
        found = run_sources(message.runs)
        for source, text in found:
            self._add(source, text)
        if not found:
            self.query_one(OptionList).add_option(Option(f"  (no language or translation run in {self.runs_dir})",
                                                         disabled=True))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.choices[event.option.id])

    def on_input_submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if not text:
            self.query_one("#source-hint", Static).update("type a file's path, or Esc")
            return
        # the view reads it (in a worker) and says in one line what is wrong with it, if anything is
        self.dismiss(Source.corpus(str(Path(text).expanduser())))

    def action_cancel(self) -> None:
        self.dismiss(None)
