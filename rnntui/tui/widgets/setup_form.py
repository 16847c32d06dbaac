"""The experiment setup: a preset, its hyperparameters (validated as you type), data and device."""

from __future__ import annotations

import dataclasses
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input, Label, Select, Static

from rnntui import config as cfg
from rnntui.config import TASK_SECTIONS, ExperimentConfig, merge
from rnntui.errors import ConfigError

CHOICES: dict[str, tuple[str, ...]] = {
    "data.token": cfg.TOKENS, "data.preprocess": cfg.PREPROCESS, "data.sampling": cfg.SAMPLINGS,
    "model.kind": cfg.KINDS, "model.impl": cfg.IMPLS, "train.optimizer": cfg.OPTIMIZERS,
    "model.bidirectional": ("false", "true"), "train.cuda_graphs": cfg.CUDA_GRAPHS,
}
HIDDEN = {"train.device", "data.corpus"}  # shown as their own controls


def field_id(key: str) -> str:
    return "f-" + key.replace(".", "-").replace("_", "-")


def to_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return " | ".join(str(v) for v in value)
    return str(value)


def parse(text: str, kind: str) -> Any:
    """Text of a form field to the config's type; unparseable text stays a string (validation says why)."""
    text = text.strip()
    try:
        if kind == "int":
            return int(text)
        if kind == "float":
            return float(text)
        if kind == "bool":
            return {"true": True, "false": False}.get(text.lower(), text)
        if kind == "tuple[int, ...]":
            return [int(v) for v in text.replace("|", ",").split(",") if v.strip()]
        if kind == "tuple[str, ...]":
            return [v.strip() for v in text.split("|") if v.strip()]
    except ValueError:
        return text
    return text


class SetupForm(Widget):
    """Emits ``SetupForm.Changed`` with a valid config, or with the reason why it is not valid."""

    class Changed(Message):
        def __init__(self, config: ExperimentConfig | None, error: str) -> None:
            super().__init__()
            self.config = config
            self.error = error

    def __init__(self, presets: list[str], preset: str, devices: list[tuple[str, str]], device: str,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.presets = presets
        self.preset = preset
        self.devices = devices
        self.device = device
        self.base: ExperimentConfig | None = None
        self.config: ExperimentConfig | None = None
        self.error = ""
        self._loading = True
        self._echoes: dict[str, str] = {}  # field id -> the value it was mounted with (its Changed is no edit)
        self._revalidating = False

    def compose(self) -> ComposeResult:
        with Horizontal(classes="row"):
            yield Label("preset")
            yield Select([(p, p) for p in self.presets], value=self.preset, allow_blank=False, id="preset",
                         compact=True)
        with Horizontal(classes="row", id="corpus-row"):
            yield Label("data")
            yield Select([("The Time Machine (download)", "timemachine"),
                          ("Python docs (built-in, offline)", "pydoc"), ("a text file…", "file")],
                         value="timemachine", allow_blank=False, id="corpus", compact=True)
        with Horizontal(classes="row", id="path-row"):
            yield Label("file path")
            yield Input(placeholder="path to a UTF-8 text file", id="corpus-path", compact=True)
        with Horizontal(classes="row"):
            yield Label("device")
            yield Select(self.devices, value=self.device, allow_blank=False, id="device", compact=True)
        yield Static("", id="setup-error")
        yield VerticalScroll(id="fields")

    def on_mount(self) -> None:
        # the preset's fields follow the first frame (each row costs the first paint a few ms:
        # benchmarks/startup.py); the preset, data and device rows are in it
        self.call_after_refresh(self.load_preset, self.preset)

    def set_devices(self, devices: list[tuple[str, str]]) -> None:
        """The devices torch found (it is imported after the first frame); the choice stays if it is there."""
        select = self.query_one("#device", Select)
        current = select.value
        self.devices = devices
        select.set_options(devices)
        names = [name for _, name in devices]
        select.value = current if current in names else names[0]

    def load_preset(self, name: str) -> None:
        from rnntui.presets import load_preset

        self.preset = name
        self.base = load_preset(name)
        self._loading = True  # the new fields post Changed as they mount: validate once, after
        self._echoes = {}
        fields = self.query_one("#fields", VerticalScroll)
        fields.remove_children()
        rows: list[Widget] = []
        for section in TASK_SECTIONS[self.base.task]:
            rows.append(Static(f"[{section}]", classes="section", markup=False))
            values = getattr(self.base, section)
            for f in dataclasses.fields(values):
                key = f"{section}.{f.name}"
                if key in HIDDEN:
                    continue
                value = getattr(values, f.name)
                if key in CHOICES:
                    widget: Widget = Select([(c, c) for c in CHOICES[key]], value=to_text(value), allow_blank=False,
                                            id=field_id(key), compact=True)
                else:
                    widget = Input(to_text(value), id=field_id(key), compact=True)
                widget.tooltip = f"{key} ({f.type})"
                self._echoes[field_id(key)] = to_text(value)
                rows.append(Horizontal(Label(f.name), widget, classes="row"))
        fields.mount_all(rows)
        corpus = self.base.data.corpus if self.base.task == "lm" else "timemachine"
        self.query_one("#corpus-row").display = self.base.task == "lm"
        select = self.query_one("#corpus", Select)
        select.value = corpus if corpus in ("timemachine", "pydoc") else "file"
        if select.value == "file":
            self.query_one("#corpus-path", Input).value = corpus
        self.call_after_refresh(self._loaded)

    def _loaded(self) -> None:
        self._loading = False
        self.validate()

    def values(self) -> dict[str, Any]:
        """The form as nested plain values (only what differs from nothing: every shown field)."""
        assert self.base is not None
        out: dict[str, dict[str, Any]] = {}
        shown = {widget.id: widget for widget in self.query("Input, Select") if widget.id}  # one walk, not one a field
        for section in TASK_SECTIONS[self.base.task]:
            section_values = getattr(self.base, section)
            for f in dataclasses.fields(section_values):
                key = f"{section}.{f.name}"
                if key in HIDDEN:
                    continue
                widget = shown.get(field_id(key))
                if widget is None:
                    continue
                text = widget.value if isinstance(widget, Input) else str(widget.value)
                out.setdefault(section, {})[f.name] = parse(text, f.type if isinstance(f.type, str) else f.type.__name__)
        out.setdefault("train", {})["device"] = str(self.query_one("#device", Select).value)
        if self.base.task == "lm":
            corpus = str(self.query_one("#corpus", Select).value)
            if corpus == "file":
                corpus = self.query_one("#corpus-path", Input).value.strip() or "<no file given>"
            out.setdefault("data", {})["corpus"] = corpus
        return out

    def validate(self) -> None:
        if self.base is None:
            return
        for widget in self.query(".-invalid"):  # Inputs and Selects: a rule across fields marks a Select
            widget.remove_class("-invalid")
        self.query_one("#path-row").display = (
            self.base.task == "lm" and self.query_one("#corpus", Select).value == "file")
        try:
            self.config = merge(self.base, self.values())
            self.error = ""
        except ConfigError as exc:
            self.config, self.error = None, str(exc)
            key = self.error.split(" ", 1)[0]
            for widget in self.query(f"#{field_id(key)}"):
                widget.add_class("-invalid")
        self.query_one("#setup-error", Static).update(self.error)
        self.post_message(self.Changed(self.config, self.error))

    @on(Select.Changed, "#preset")
    def _preset_changed(self, event: Select.Changed) -> None:
        if event.value != self.preset:
            self.load_preset(str(event.value))

    @on(Input.Changed)
    @on(Select.Changed, "#fields Select, #device, #corpus")
    def _field_changed(self, event: Input.Changed | Select.Changed) -> None:
        if self._loading:
            return
        if self._echoes.get(event.control.id) == str(event.value):
            del self._echoes[event.control.id]  # a field just mounted: one validation after them all
            if not self._revalidating:
                self._revalidating = True
                self.call_after_refresh(self._revalidate)
            return
        self._echoes.clear()  # an edit: every change from now on is one
        self.validate()

    def _revalidate(self) -> None:
        self._revalidating = False
        self.validate()
