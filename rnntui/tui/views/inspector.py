"""The views that look inside a trained model (Sampling, Prompt, Sequence, Gradients): the shared model
choice, loaded in a worker when the view is shown, and one line that says which model it is, or why none."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Static

from rnntui.errors import describe
from rnntui.tui.model_choice import LoadedModel, NoModel, checkpoint_path, fits, load
from rnntui.tui.views.base import View


class InspectorView(View):
    """``model`` is what the view shows, once loaded; ``model_changed`` is called when it changes."""

    TASKS: ClassVar[tuple[str, ...]] = ("lm",)  # the models the view can show
    DEFAULT_TASKS: ClassVar[tuple[str, ...]] = ()  # the ones it takes by default (TASKS if empty)
    can_focus = True
    BINDINGS = [Binding("m", "pick_model", "Model", id="model.pick",
                        tooltip="choose the model the inspector views work on")]

    @dataclass
    class Loaded(Message):
        model: LoadedModel | None
        error: str
        request: int

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.model: LoadedModel | None = None
        self._requests = 0  # the latest load asked for; older answers are dropped
        self._stale = True  # the choice (or the live run) changed since the last load

    def compose(self) -> ComposeResult:
        yield from self.compose_about()
        yield Static("", classes="model-line", markup=False)
        yield from self.compose_body()

    def compose_body(self) -> ComposeResult:
        """The view's own widgets, under the model line."""
        return iter(())

    def on_mount(self) -> None:
        self.watch(self.app, "model_choice", self._choice_changed, init=False)
        self.watch(self.app, "live_run", self._live_changed, init=False)

    def _choice_changed(self) -> None:
        self._stale = True
        if self.is_on_screen:
            self.load_model()

    def _live_changed(self) -> None:
        if self.app.model_choice.kind == "live":  # a new epoch's checkpoint, or the run ended
            self._choice_changed()

    @property
    def is_on_screen(self) -> bool:
        return self.is_attached and self.region.area > 0

    def activate(self) -> None:
        super().activate()
        if self._stale or self.app.model_choice.kind == "default":  # a run may have finished meanwhile
            self.load_model()

    def load_model(self) -> None:
        self._stale = False
        self._requests += 1
        if self.model is None:
            self._line("loading the model…")
        app = self.app
        self._load(app.model_choice, app.live_run, app.runs_dir, app.runs_cache, self._requests)

    @work(thread=True, exclusive=True, exit_on_error=False, group="load-model", description="loading a model")
    def _load(self, choice, live, runs_dir, cache, request: int) -> None:
        try:
            path, run_dir = checkpoint_path(choice, self.DEFAULT_TASKS or self.TASKS, runs_dir, live, cache)
            model = load(path, run_dir)
            fits(model, self.TASKS, self.TITLE)
            self.post_message(self.Loaded(model, "", request))
        except Exception as error:  # noqa: BLE001 - a bad checkpoint is one line in the view
            self.post_message(self.Loaded(None, str(error) if isinstance(error, NoModel) else describe(error),
                                          request))

    def on_inspector_view_loaded(self, message: Loaded) -> None:
        message.stop()
        if message.request != self._requests:
            return
        if message.model is None:
            self._line(message.error, error=True)
        else:
            self._line(f"model: {message.model.label}   m: choose another")
        changed = (message.model is None) != (self.model is None) or (
            message.model is not None and self.model is not None
            and (message.model.path, message.model.stamp) != (self.model.path, self.model.stamp))
        self.model = message.model
        self.app.note_loaded(self.VIEW_ID, message.model.run_dir if message.model else None)
        if changed:
            self.model_changed(message.model)

    def model_changed(self, model: LoadedModel | None) -> None:
        """The view's model changed (None: there is none, and the model line says why)."""

    def _line(self, text: str, error: bool = False) -> None:
        line = self.query_one(".model-line", Static)
        line.update(text)
        line.set_class(error, "-error")

    def action_pick_model(self) -> None:
        self.app.action_pick_model()
