"""Choosing the model the inspector views work on: the default, the run training now, a run, or a file."""

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

from rnntui.training.runs import CHECKPOINT, RunSummary, list_runs
from rnntui.tui.model_choice import TASK_NAMES, LiveRun, ModelChoice


class ModelPicker(ModalScreen[ModelChoice | None]):
    """Enter on a line takes it; a path typed below takes that checkpoint file; Esc leaves the choice as it was."""

    AUTO_FOCUS = "#model-options"
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="model.cancel")]

    @dataclass
    class RunsRead(Message):
        runs: list[RunSummary]

    def __init__(self, runs_dir: Path, live: LiveRun | None, current: ModelChoice) -> None:
        super().__init__()
        self.runs_dir, self.live, self.current = runs_dir, live, current
        self.choices: dict[str, ModelChoice] = {}

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("The model the inspector views work on (Sampling, Prompt, Sequence, Gradients):",
                         markup=False)
            yield OptionList(id="model-options")
            yield Input(placeholder="or a checkpoint file: path/to/checkpoint.pt, then Enter", id="model-file")
            yield Static(f"now: {self.current.describe()}   Enter takes a line, Esc keeps it", id="model-hint",
                         markup=False)

    def on_mount(self) -> None:
        self._add(ModelChoice(), "default: the latest finished run that fits each view")
        if self.live is not None:
            self._add(ModelChoice("live"), f"the run training now: {self.live.run_dir.name} (its latest checkpoint, "
                                           f"{self.live.epoch} epochs so far)")
        self._read_runs()

    def _add(self, choice: ModelChoice, text: str) -> None:
        key = f"choice-{len(self.choices)}"
        self.choices[key] = choice
        self.query_one(OptionList).add_option(Option(text, id=key))

    @work(thread=True, exit_on_error=False, description="listing the runs")
    def _read_runs(self) -> None:
        self.post_message(self.RunsRead(list_runs(self.runs_dir)))

    def on_model_picker_runs_read(self, message: RunsRead) -> None:
        runs = [run for run in message.runs if (run.path / CHECKPOINT).is_file()]
        for run in runs:
            task = TASK_NAMES.get(run.config.task, run.config.task)
            self._add(ModelChoice("run", run.path), f"{run.name}  {run.model}  {task}  {run.status}  "
                                                    f"{run.epochs_done} epochs")
        options = self.query_one(OptionList)
        if not runs:
            options.add_option(Option(f"(no run with a checkpoint in {self.runs_dir})", disabled=True))
        chosen = list(self.choices.values())  # in the options' order
        options.highlighted = chosen.index(self.current) if self.current in chosen else 0  # where Up/Down start

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.choices[event.option.id])

    def on_input_submitted(self, event: Input.Submitted) -> None:
        path = Path(event.value.strip()).expanduser()
        if not path.is_file():
            self.query_one("#model-hint", Static).update(f"no file {path}: give a checkpoint.pt written by rnntui")
            return
        self.dismiss(ModelChoice("file", path.absolute()))

    def action_cancel(self) -> None:
        self.dismiss(None)
