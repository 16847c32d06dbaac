"""The rnntui playground: seven views in tabs, and what they share (the model to inspect, the run training).

The app only routes: number keys and tabs show a view, F5/F6/F8 reach the Train view from any view; help and
the palette are made from the views' bindings. Torch is imported after the first frame, in a worker.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path

from textual import events, work
from textual.actions import parse
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import ContentSwitcher, Header

from rnntui.tui.messages import TorchReady
from rnntui.tui.model_choice import LiveRun, ModelChoice
from rnntui.tui.views import ENTRIES, VIEWS
from rnntui.tui.views.base import View
from rnntui.tui.widgets.keybar import KeyBar
from rnntui.tui.widgets.view_tabs import ViewTabs


class RnntuiApp(App[None]):
    CSS_PATH = ["app.tcss", f"views/{VIEWS[0].view_id}.tcss"]  # the other views' follow the first frame
    TITLE = "rnntui"
    SUB_TITLE = "a playground for recurrent neural networks"
    BINDINGS = [
        *[Binding(view.key, f"show_view('{view.view_id}')", view.title, id=f"view.{view.view_id}",
                  show=view.view_id in ("train", "runs"), tooltip=f"show the {view.title} view") for view in VIEWS],
        Binding("f5", "in_view('train', 'start')", "Start training", id="train.start-anywhere", show=False,
                priority=True),
        Binding("f6", "in_view('train', 'toggle_pause')", "Pause or resume training", id="train.pause-anywhere",
                show=False, priority=True),
        Binding("f8", "in_view('train', 'stop')", "Stop training", id="train.stop-anywhere", show=False,
                priority=True),
        Binding("question_mark,f1", "help", "Help", id="app.help", tooltip="every key of every view"),
        Binding("q,ctrl+q", "quit", "Quit", id="app.quit", tooltip="quit; a run training is stopped and saved"),
    ]

    model_choice: reactive[ModelChoice] = reactive(ModelChoice)  # what the inspector views look at
    live_run: reactive[LiveRun | None] = reactive(None)  # the run the Train view is training
    loaded_runs: reactive[dict[str, Path | None]] = reactive(dict)  # view id -> the run folder of its model

    def __init__(self, preset: str = "lstm", device: str = "auto", runs_dir: str | Path | None = None,
                 data_dir: str | Path | None = None, when_warm: Callable[[], None] | None = None) -> None:
        super().__init__()
        if "TEXTUAL_ANIMATIONS" not in os.environ:
            self.animation_level = "none"  # no sliding tab underline: over SSH every frame is sent
        from rnntui.paths import runs_dir as default_runs_dir
        from rnntui.presets import names

        self.presets, self.initial_preset = names(), preset
        # until torch is imported (after the first frame), the devices that need no asking
        self.devices = [("auto (best available)", "auto"), ("CPU", "cpu")]
        if device not in ("auto", "cpu"):
            self.devices.append((device, device))  # checked by the command before the screen opened
        self.initial_device = device
        self.runs_dir = Path(runs_dir) if runs_dir else default_runs_dir()
        self.data_dir = data_dir
        self.runs_cache: dict = {}  # runs read before (``list_runs``), shared by the views
        self.when_warm = when_warm
        self.last_key = 0.0  # time.monotonic() of the last key press
        self.shown = ""  # the view on screen
        self.ready = False  # every view mounted (just after the first frame)
        self.warm = False  # torch imported (after that)

    @property
    def views(self) -> list[View]:
        return list(self.query_one("#views", ContentSwitcher).query_children(View))

    def view(self, view_id: str) -> View:
        return self.query_one(f"#views > #{view_id}", View)

    def compose(self) -> ComposeResult:
        yield Header()
        tabs = ViewTabs([(view.view_id, view.key, view.title) for view in VIEWS], id="view-tabs")
        tabs.active = self.shown = VIEWS[0].view_id
        yield tabs
        with ContentSwitcher(initial=VIEWS[0].view_id, id="views"):
            yield VIEWS[0].load()()  # the others are mounted after the first frame, which comes sooner
        yield KeyBar()

    def on_mount(self) -> None:
        self.call_after_refresh(self._after_first_frame)

    async def _after_first_frame(self) -> None:
        self._activate(VIEWS[0].view_id)
        await self.view(VIEWS[0].view_id).mount_rest()
        for entry in VIEWS[1:]:
            await self._mount_view(entry.view_id)
        self.ready = True  # every view mounted
        self.call_after_refresh(self._warm_up)  # torch last: its import holds the interpreter for a second

    async def _mount_view(self, view_id: str) -> None:
        switcher = self.query_one("#views", ContentSwitcher)
        if not switcher.query_children(f"#{view_id}"):
            css = [Path(__file__).parent / f"views/{name}.tcss" for name in ["inspector", *list(ENTRIES)[1:]]]
            if not self.stylesheet.has_source(str(css[0])):  # read now: parsed before the first frame, they
                self.stylesheet.read_all(css)  # would delay it (benchmarks/startup.py); they match only their views
                self.stylesheet.parse()
            view = next(entry for entry in VIEWS if entry.view_id == view_id).load()()
            view.display = False  # until shown (the switcher shows one child)
            await switcher.mount(view)

    @work(thread=True, exit_on_error=False, group="warm-up", description="importing torch")
    def _warm_up(self) -> None:
        from rnntui.training import trainer

        self.post_message(TorchReady(trainer.available_devices()))

    def on_torch_ready(self, message: TorchReady) -> None:
        self.devices = message.devices
        self.view("train").set_devices(message.devices)
        if self.when_warm is not None:
            self.when_warm()
        self.warm = True

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key):
            self.last_key = time.monotonic()  # the Train view's charts wait while keys are pressed
        await super().on_event(event)

    # -- routing ---------------------------------------------------------------------------------------
    async def action_show_view(self, view_id: str) -> None:
        await self._mount_view(view_id)  # (a key pressed before the views were all mounted)
        self.show_view(view_id)

    def show_view(self, view_id: str) -> None:
        """Show a mounted view, its focus and keys in the same frame."""
        self.query_one("#views", ContentSwitcher).current = view_id
        self._activate(view_id)

    def _activate(self, view_id: str) -> None:
        self.shown = view_id
        self.query_one(ViewTabs).active = view_id
        self.view(view_id).activate()

    async def action_in_view(self, view_id: str, action: str) -> None:
        view = self.view(view_id)
        if view.check_action(action, ()) is not False:
            await self.run_action(action, view)

    def on_runs_view_resume(self, event) -> None:
        self.view("train").resume_run(event.run)

    def on_runs_view_open(self, event) -> None:
        """A run opened in the Runs view: a sine run in the Sequence view, any other's charts in Train."""
        if event.run.config.task == "sine":
            self.model_choice = ModelChoice("run", event.run.path)
            self.show_view("sequence")
        else:
            self.view("train").open_run(event.run)

    def action_pick_model(self) -> None:
        from rnntui.tui.screens.model_picker import ModelPicker

        def chosen(choice: ModelChoice | None) -> None:
            if choice is not None:
                self.model_choice = choice
        self.push_screen(ModelPicker(self.runs_dir, self.live_run, self.model_choice), chosen)

    def note_loaded(self, view_id: str, run_dir: Path | None) -> None:
        """A view loaded the model of ``run_dir`` (None: none): the Runs view marks it."""
        if self.loaded_runs.get(view_id) != run_dir:
            self.loaded_runs = {**self.loaded_runs, view_id: run_dir}

    # -- help, palette, quit --------------------------------------------------------------------------
    def action_help(self) -> None:
        from rnntui.tui.screens.help import HelpScreen, help_sections

        self.push_screen(HelpScreen(help_sections(self, [entry.load() for entry in VIEWS])))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for view in self.views:
            yield SystemCommand(f"Show the {view.TITLE} view", view.ABOUT or f"key {view.KEY}",
                                partial(self.run_action, f"show_view('{view.VIEW_ID}')"))
            for binding in view.BINDINGS:
                if isinstance(binding, Binding) and view.check_action(*parse(binding.action)[1:]) is not False:
                    yield SystemCommand(f"{view.TITLE}: {binding.tooltip or binding.description}",
                                        f"key {binding.key.replace(',', ' or ')}",
                                        partial(self.run_in, view, binding.action))

    async def run_in(self, view: View, action: str) -> None:
        await self.action_show_view(view.VIEW_ID)
        await self.run_action(action, view)

    async def action_quit(self) -> None:
        """Quitting mid-run stops the run within one batch; it saves its checkpoint before we exit."""
        await self.view("train").stop_and_wait()
        self.exit()
