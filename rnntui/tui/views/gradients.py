"""The Gradients view (7): why gradients vanish or explode, what clipping and truncation do, which inputs a
prediction depends on, and inside the cells: gates over text, their saturation, tensor shapes and the
bidirectional trap (issues 13 and 14).

Nine parts, switched by single keys (the parts line). Each measures the view's model (the shared model
choice) with ``rnntui.inspect`` in a worker when what it depends on changed (the model, the window of
held-out text or a typed text, the part's settings); answers that came after a newer request are
dropped. ``rnntui inspect gradients|clip|truncation|saliency|gates|shapes`` prints the same numbers.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import ContentSwitcher, Input, Label, Static
from textual.worker import get_current_worker

from rnntui.errors import ConfigError, describe
from rnntui.tui.knobs import stepped
from rnntui.tui.model_choice import LoadedModel
from rnntui.tui.views.inspector import InspectorView
from rnntui.tui.widgets.gradient_charts import (
    COLORS, REFERENCE_COLOR, REFERENCE_LABEL, Line, SaturationChart, SeriesChart, kind_color,
)
from rnntui.tui.widgets.gates_heatmap import Heatmap
from rnntui.tui.gradients_jobs import WINDOWS, Window
from rnntui.tui.widgets.gradients_parts import key
from rnntui.tui.widgets.lines import LineInput, QuietScroll

# (part, key, title, short title)
PARTS = (("flow", "f", "Flow", "flow"), ("clip", "c", "Clipping", "clip"), ("truncation", "u", "Truncation", "trunc"),
         ("saliency", "s", "Saliency", "salien."), ("norms", "n", "Group norms", "norms"),
         ("gates", "g", "Gates", "gates"), ("saturation", "a", "Saturation", "satur."),
         ("shapes", "e", "Shapes", "shapes"), ("trap", "b", "Bi-LSTM", "bi-LSTM"))
TITLES = {part: title for part, _, title, _ in PARTS}
WINDOW_PARTS = ("flow", "truncation", "saliency", "gates")  # read the window of text (t, w, [ ])
ABOUTS = {  # (at 100 columns and more, in 80): what to look at; the line under it gives the number
    "flow": ("‖dL_T/dH_t‖ on a log axis against T - t: a straight line down is a gradient that shrinks by the "
             "same factor every step back (vanishing); up, exploding. +/- scale W_hh.",
             "‖dL_T/dH_t‖ (log) against T - t: a line down vanishes, up explodes."),
    "clip": ("Clipping by global norm rescales the whole gradient to at most θ: its length changes, its direction "
             "does not (cosine 1). +/- move θ; the chart is the run's norm per step against θ.",
             "Clipping rescales the gradient to at most θ; its direction stays (cosine 1)."),
    "truncation": ("dL/dW_hh is a sum over time steps; truncating at tau keeps the last tau terms and drops the "
                   "old ones. How small those are decides how far the truncated gradient is from the full one.",
                   "Truncation keeps dL/dW_hh's last tau terms: how small are the ones it drops?"),
    "saliency": ("How much the prediction at the cursor depends on each earlier token (Distill's connectivity): "
                 "←/→ move the cursor; the mass far back is what a long memory uses.",
                 "What the prediction at the cursor (←/→) depends on: colour = gradient norm."),
    "norms": ("Each parameter group's gradient norm while training (every train.grad_norms_every steps, before "
              "clipping): recurrent, input, bias, output, per layer; from the live or opened run.",
              "Per-group gradient norms while training (before clipping), per layer."),
    "gates": ("Every unit of a gate over the text (rows: units, columns: steps): ↑/↓ gate, ←/→ unit; p finds the "
              "unit that fires on a pattern you type (e.g. a space or 'the').",
              "Units (rows) x steps of a gate: ↑/↓ gate, ←/→ unit, p a pattern's unit."),
    "saturation": ("Each unit is a dot at (fraction of steps its gate is < 0.1, fraction > 0.9) over a long held-out "
                   "text (Karpathy et al. 2015): top-left always open, bottom-right always closed.",
                   "A dot per unit: x its share of steps < 0.1 (closed), y > 0.9 (open)."),
    "shapes": ("The shape of every tensor through the encoder-decoder, measured by running it: change a setting "
               "(Tab into the fields) and watch which dimension follows it.",
               "Every tensor's shape through the encoder-decoder; Tab into a setting."),
    "trap": ("A bidirectional LSTM and an LSTM trained the same way: the bi-LSTM's perplexity falls near 1, yet it "
             "cannot generate. The figures are those of the runs of the bi-lstm and lstm presets.",
             "bi-LSTM vs LSTM: perplexity near 1, yet it cannot generate."),
}
SCALES = (0.25, 0.5, 0.75, 0.9, 1.0, 1.1, 1.25, 1.5, 2.0, 3.0, 4.0)  # the W_hh knob
THRESHOLDS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 100.0)  # clipping θ
KS = (5, 10, 20, 35)  # saliency: the mass more than k tokens back
TAUS = (5, 10, 35)
SHAPE_FIELDS = (("kind", "kind"), ("vocab_size", "vocab"), ("embed_size", "embed"), ("num_hiddens", "hidden"),
                ("num_layers", "layers"), ("batch_size", "batch"), ("num_steps", "steps"))
SPANS = {"flow": (0, 35), "truncation": (0, 35), "saliency": (0, 100), "gates": (0, 100)}  # their first windows
PANELS = {"flow": ("flow-panel",), "clip": ("clip-panel",), "truncation": ("trunc-table",),  # each part's texts
          "saliency": ("sal-text", "sal-legend"), "norms": ("norms-table",), "gates": ("gates-text",),
          "shapes": ("shapes-table",), "trap": ("trap-text",)}
NARROW = 100  # columns: below this the panels go under the charts or leave
BUSY_AFTER_S = 0.3  # a part still computing after this long says so
NORMS_EVERY_S = 1.0  # how often the norms part looks at a live run's history


def brief(error: str) -> str:
    """An engine's refusal in one line: the long ones said shorter."""
    if "needs a unidirectional model" in error:
        what = error.split(" needs ", 1)[0]
        return (f"{what[:1].upper()}{what[1:]} needs a unidirectional model: a bidirectional one reads the text "
                "backwards too, so no single H_t runs through time (m: another model)")
    return " ".join(error.split())


def _binding(keys: str, action: str, title: str, id: str, tooltip: str, show: bool = False) -> Binding:
    return Binding(keys, action, title, id=f"gradients.{id}", show=show, tooltip=tooltip)


class GradientsView(InspectorView):
    VIEW_ID = "gradients"
    TASKS = ("lm", "seq2seq")  # a seq2seq model for the shapes part
    DEFAULT_TASKS = ("lm",)
    ABOUT = ("How far back a recurrent network's gradient reaches: dL/dH_t shrinks (or grows) by a factor per "
             "step, which clipping and truncated backpropagation tame; and inside the cells: gates over text.")
    OPENING = ABOUTS["flow"][0]  # the part it opens on
    BINDINGS = [
        *[_binding(k, f"part('{part}')", title, f"part-{part}", f"show the {title.lower()} part")
          for part, k, title, _ in PARTS],
        _binding("t", "edit('text')", "Text", "text", "type a text to read (empty: back to the held-out text)",
                 show=True),
        _binding("w", "window", "Window", "window", "the window of held-out text: 35, 100 or 200 steps"),
        _binding("left_square_bracket", "move(-1)", "Earlier", "earlier", "the window before, in the held-out text"),
        _binding("right_square_bracket", "move(1)", "Later", "later", "the next window of the held-out text"),
        _binding("plus,equals_sign", "scale(1)", "W_hh up", "scale-up", "scale the recurrent weights up (x0.25 to x4)"),
        _binding("minus", "scale(-1)", "W_hh down", "scale-down", "scale the recurrent weights down"),
        _binding("o", "overlay", "Overlay", "overlay",
                 "overlay RNN, GRU and LSTM: the latest run of each kind, else its preset untrained"),
        _binding("plus,equals_sign", "threshold(1)", "θ up", "clip-up", "raise the clipping threshold θ"),
        _binding("minus", "threshold(-1)", "θ down", "clip-down", "lower the clipping threshold θ"),
        _binding("l", "loss", "Loss", "loss", "truncation: the last step's loss or the mean loss (training's)"),
        _binding("left", "position(-1)", "Cursor left", "cursor-left", "saliency: the prediction one token earlier"),
        _binding("right", "position(1)", "Cursor right", "cursor-right", "saliency: the prediction one token later"),
        _binding("k", "next_k", "k", "k", "saliency: how far back counts as far (k = 5, 10, 20, 35 tokens)"),
        _binding("left", "unit(-1)", "Unit left", "unit-prev", "gates: the unit before (in the order shown)"),
        _binding("right", "unit(1)", "Unit right", "unit-next", "gates: the next unit (in the order shown)"),
        _binding("up", "gate(-1)", "Gate up", "gate-prev", "gates: the gate before"),
        _binding("down", "gate(1)", "Gate down", "gate-next", "gates: the next gate"),
        _binding("v", "order", "Order", "order", "gates: the units by how much they vary, or all in order"),
        _binding("p", "edit('pattern')", "Pattern", "pattern",
                 "gates: type a pattern; the unit that fires most on it is picked"),
        _binding("x", "example", "Example", "example", "shapes: the seed's example, or the seq2seq model chosen"),
        _binding("pageup", "page(-1)", "Page up", "page-up", "scroll the part's text (or table) up a page"),
        _binding("pagedown", "page(1)", "Page down", "page-down", "scroll the part's text (or table) down a page"),
        _binding("escape", "leave_field", "Leave field", "leave-field",
                 "the focus back to the view, where its keys work"),
    ]
    # the part an action works in (None: every part; WINDOW: the parts that read the window)
    ACTION_PARTS: ClassVar[dict[str, Any]] = {
        "edit": None, "window": WINDOW_PARTS, "move": WINDOW_PARTS, "scale": ("flow",), "overlay": ("flow",),
        "threshold": ("clip",), "loss": ("truncation",), "position": ("saliency",), "next_k": ("saliency",),
        "unit": ("gates",), "gate": ("gates",), "order": ("gates",), "example": ("shapes",),
        "page": ("saliency", "gates", "shapes", "trap"),
    }

    @dataclass
    class Computed(Message):
        part: str
        request: int
        result: Any
        error: str

    @dataclass
    class Progress(Message):
        part: str
        request: int
        done: int
        total: int

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.part = "flow"
        self.text: str | None = None  # a typed text the window parts read (None: the held-out text)
        self.spans = dict(SPANS)  # part -> (offset, num_steps) of its window of held-out text
        self.scale = 1.0
        self.overlay = False
        self.threshold: float | None = None  # None: the model's own train.clip (else 1)
        self.loss = "last"
        self.position: int | None = None  # saliency: the predicted token's index (None: the last)
        self.k = 10
        self.gate: str | None = None  # gates: the one shown (None: H)
        self.unit: int | None = None  # gates: the unit picked (None: the most variable)
        self.order = "variable"
        self.pattern = None  # PatternUnits of the last pattern typed
        self.shape_settings: dict[str, Any] = {}  # laid over the seed's example
        self.shapes_from_model = True  # a seq2seq model's own shapes, when the model is one
        self.results: dict[str, Any] = {}
        self.errors: dict[str, str] = {}
        self.asked: dict[str, Any] = {}  # part -> the inputs of the request on its way or shown
        self.requests: dict[str, int] = {}
        self.computing: dict[str, str] = {}  # part -> what is being computed
        self.prompt_kind = ""
        self.norms_source = ""  # where the per-group norms come from
        self._norms_drawn: tuple | None = None
        self._asked_at: dict[str, float] = {}  # part -> time.monotonic() of its request
        self._built: dict[str, Any] = {}  # the parts whose widgets are mounted (or mounting: their AwaitMount)

    # -- layout ----------------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Static("", classes="model-line", markup=False)
        yield Static("", id="grad-parts-line", markup=False)
        yield Static("", id="grad-status", markup=False)
        yield LineInput(id="grad-prompt")
        with ContentSwitcher(initial="part-flow", id="grad-parts"):
            for part, *_ in PARTS:  # each part's widgets are mounted when it is first shown (_build)
                yield Vertical(*(self._part_body(part) if part == self.part else ()), id=f"part-{part}")
        self._built[self.part] = None

    def _part_body(self, part: str) -> list[Widget]:
        """The widgets of ``part``: its heading (what to look at, its figures, its keys), then its own."""
        about = ABOUTS[part][1 if self.narrow else 0]
        heading = [Static(about, id=f"about-{part}", classes="part-about", markup=False),
                   Static("", id=f"figure-{part}", classes="part-figure", markup=False),
                   Static("", id=f"keys-{part}", classes="part-keys", markup=False)]
        if part == "flow":
            body = [Horizontal(SeriesChart(id="flow-chart"), Static("", id="flow-panel", classes="side"),
                               classes="part-body")]
        elif part == "clip":
            body = [Horizontal(Static("", id="clip-panel", classes="side"), SeriesChart(id="clip-chart"),
                               classes="part-body")]
        elif part == "truncation":
            body = [Horizontal(SeriesChart(id="trunc-chart"), Static("", id="trunc-table", classes="side"),
                               classes="part-body")]
        elif part == "saliency":
            body = [QuietScroll(Static("", id="sal-text"), id="sal-scroll"), Static("", id="sal-legend"),
                    SeriesChart(id="sal-chart")]
        elif part == "norms":
            body = [Horizontal(SeriesChart(id="norms-chart"), Static("", id="norms-table", classes="side"),
                               classes="part-body")]
        elif part == "gates":
            body = [QuietScroll(Static("", id="gates-text"), id="gates-scroll"), Heatmap(id="gates-heat")]
        elif part == "saturation":
            body = [Horizontal(*(SaturationChart(id=f"sat-{i}") for i in range(3)), classes="part-body",
                               id="sat-charts")]
        elif part == "shapes":
            from rnntui.inspect.shapes import SEED_EXAMPLE

            values = {**SEED_EXAMPLE, **self.shape_settings}
            fields = [w for name, label in SHAPE_FIELDS for w in
                      (Label(label), Input(str(values[name]), id=f"shape-{name.replace('_', '-')}", compact=True))]
            body = [Horizontal(*fields, id="shape-controls"),
                    QuietScroll(Static("", id="shapes-table"), id="shapes-scroll")]
        else:  # trap
            body = [QuietScroll(Static("", id="trap-text"), id="trap-scroll")]
        return heading + body

    async def _build(self, part: str) -> None:
        """Mount ``part``'s widgets, the first time it is shown (a key pressed again meanwhile waits too)."""
        if part not in self._built:
            self._built[part] = self.query_one(f"#part-{part}").mount_all(self._part_body(part))
        mounting = self._built[part]
        if mounting is not None:
            await mounting

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#grad-prompt").display = False
        self._parts_line()
        self._keys_line()
        self.set_interval(NORMS_EVERY_S, self._follow_norms)

    def on_resize(self, event: events.Resize) -> None:
        narrow = event.size.width < NARROW
        if narrow != self.has_class("-narrow"):
            self.set_class(narrow, "-narrow")
            for part in self._built:
                self.query_one(f"#about-{part}", Static).update(ABOUTS[part][1 if narrow else 0])
            self._parts_line()
            self._keys_line()
        self.call_after_refresh(self._draw)

    @property
    def narrow(self) -> bool:
        return self.has_class("-narrow")

    def default_focus(self):
        return self  # the view's keys work at once; Tab reaches the shape settings

    def activate(self) -> None:
        super().activate()
        self._refresh_part()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        parts = self.ACTION_PARTS.get(action)
        if action == "edit" and parameters:
            parts = WINDOW_PARTS if parameters[0] == "text" else ("gates",)
        if parts is not None and self.part not in parts:
            return False  # another part's: the key falls through to the binding of this part
        return True

    # -- the parts line, the keys line, the status line ------------------------------------------------
    def _parts_line(self) -> None:
        out = Text(no_wrap=True, overflow="ellipsis")
        for part, k, title, short in PARTS:
            if self.narrow:
                out.append(k, "bold reverse")
                out.append(short + " ", "bold underline" if part == self.part else "")
            else:
                out.append(f" {k} ", "bold reverse")
                out.append(f"{title}", "bold underline" if part == self.part else "")
                out.append(" ")
        self.query_one("#grad-parts-line", Static).update(out)

    def window(self, part: str | None = None) -> Window:
        """The text ``part`` (default the one shown) reads."""
        offset, steps = self.spans.get(part or self.part, (0, WINDOWS[0]))
        return Window(self.text, offset, steps)

    def _window_keys(self, out: Text) -> None:
        n = self.narrow
        offset, steps = self.spans.get(self.part, (0, WINDOWS[0]))
        if self.text is not None:
            key(out, "t", "text", "yours" + ("" if n else f" ({len(self.text)} characters)"), n)
            key(out, "w", "held-out", "", n)
        else:
            key(out, "w", "" if n else "window", f"{steps} steps" if n else f"{steps}", n)
            key(out, "[ ]", "from", f"{offset:,}", n)
            key(out, "t", "text", "", n)

    def _keys_line(self) -> None:
        part, n = self.part, self.narrow
        out = Text(no_wrap=True, overflow="ellipsis")
        if part in WINDOW_PARTS:
            self._window_keys(out)
        if part == "flow":
            key(out, "+/-", "W_hh", f"x{self.scale:g}", n)
            key(out, "o", "overlay", "on" if self.overlay else "off", n)
        elif part == "clip":
            from rnntui.tui.widgets.gradients_parts import clipped_line

            key(out, "+/-", "θ", f"{self._threshold():g}", n)
            history, source = self._run_history(ask=False)
            out.append(clipped_line(history, source, n) or ("" if n else "one batch: the first the model's settings "
                                                         "cut from the training text"), "dim")
        elif part == "truncation":
            key(out, "l", "loss", "L_T" if self.loss == "last" else "mean", n)
        elif part == "saliency":
            key(out, "←/→", "cursor", str(self._position_shown()), n)
            key(out, "k", "k", str(self.k), n)
        elif part == "gates":
            unit = self._unit_shown()
            key(out, "↑/↓", "" if n else "gate", self._gate_shown(), n)
            key(out, "←/→", "unit", str(unit) if unit is not None else "-", n)
            key(out, "v", "" if n else "units", ("varied" if n else "most variable") if self.order == "variable"
                else "all", n)
            key(out, "p", "pattern", repr(self.pattern.pattern) if self.pattern is not None else "", n)
        elif part == "saturation":
            from rnntui.tui.gradients_jobs import SATURATION_STEPS

            out.append(f"{SATURATION_STEPS:,} held-out tokens at most; < 0.1 closed, > 0.9 open" if n else
                       f"over the first {SATURATION_STEPS:,} tokens of the held-out text (all of it, if shorter); "
                       "closed: < 0.1, open: > 0.9", "dim")
        elif part == "shapes":
            if self._seq2seq_model() is not None:
                key(out, "x", "source", "the model" if self.shapes_from_model else "the seed's example", n)
            else:
                key(out, "x", "the seed's example", "", n)
                out.append("m: a seq2seq run shows its own  " if not n else "", "dim")
            key(out, "Tab", "settings", "", n)
            key(out, "Esc", "back", "", n)
        elif part == "norms":
            out.append(self.norms_source or "no run: train one (1), or open one (2)", "dim")
        elif part == "trap":
            out.append("the latest finished runs of the bi-lstm and lstm presets in the runs folder", "dim")
        self.query_one(f"#keys-{part}", Static).update(out)

    def _status(self) -> None:
        """The line under the parts: the part's error, or what it is computing."""
        line = self.query_one("#grad-status", Static)
        error = self.errors.get(self.part, "")
        busy = self.computing.get(self.part, "")
        if busy and time.monotonic() - self._asked_at.get(self.part, 0.0) < BUSY_AFTER_S:
            busy = ""  # a quick answer shows no line (the layout would jump twice)
        line.update(error or busy)
        line.set_class(bool(error or busy), "-shown")
        line.set_class(bool(error), "-error")

    def _figure(self, part: str, text: Text | str) -> None:
        if part in self._built:
            self.query_one(f"#figure-{part}", Static).update(text)

    # -- switching parts ------------------------------------------------------------------------------------
    async def action_part(self, part: str) -> None:
        if part == self.part:
            return
        await self._build(part)
        self.part = part
        self.query_one("#grad-parts", ContentSwitcher).current = f"part-{part}"
        self._parts_line()
        self._keys_line()
        if self.prompt_kind:
            self._close_prompt()
        self.refresh_bindings()
        self._refresh_part()

    def model_changed(self, model: LoadedModel | None) -> None:
        self.results.clear()
        self.errors.clear()
        self.asked.clear()
        self.computing.clear()
        for part in self.requests:  # answers on their way are the old model's
            self.requests[part] += 1
        self.position, self.unit, self.pattern, self.threshold = None, None, None, None
        self.spans = {part: (0, steps) for part, (_, steps) in self.spans.items()}  # another model, another text
        self._norms_drawn = None
        for part, *_ in PARTS:
            self._clear_part(part)
        self._keys_line()
        self._refresh_part()

    # -- asking for a part's numbers -------------------------------------------------------------------------
    def _inputs(self, part: str) -> tuple | None:
        """What the part's numbers depend on (None: nothing to compute: no model)."""
        m = self.model
        stamp = (str(m.path), m.stamp) if m is not None else None
        if part == "shapes":
            source = stamp if self._seq2seq_model() is not None and self.shapes_from_model else None
            return ("shapes", source, tuple(sorted(self.shape_settings.items())))
        if part == "trap":
            return ("trap", str(self.app.runs_dir))
        if part == "norms":
            return None  # read from a run's history, not computed
        if m is None:
            return None
        if part == "flow":
            return (part, stamp, self.window(part), self.scale, self.overlay)
        if part == "clip":
            return (part, stamp, self._threshold())
        if part == "truncation":
            return (part, stamp, self.window(part), self.loss)
        if part == "saliency":
            return (part, stamp, self.window(part), self.position, self.k)
        if part in ("gates", "saturation"):
            return (part, stamp, self.window(part) if part == "gates" else None)
        return None

    def _refresh_part(self) -> None:
        """Ask for the part's numbers if what they depend on changed; draw what is there."""
        if not self.is_attached:
            return
        part = self.part
        if part == "clip":
            self._run_history()  # the run's steps, for the chart beside the batch
        inputs = self._inputs(part)
        if inputs is not None and (inputs != self.asked.get(part) or part == "trap" and part not in self.computing):
            self.asked[part] = inputs
            self._ask(part)
        self._status()
        self._draw()

    def _ask(self, part: str) -> None:
        self.requests[part] = request = self.requests.get(part, 0) + 1
        self._asked_at[part] = time.monotonic()
        self.set_timer(BUSY_AFTER_S + 0.05, self._status)
        self.computing[part] = f"computing the {TITLES[part].lower()} part…"
        app = self.app
        args = dict(model=self.model, window=self.window(part), data_dir=app.data_dir, runs_dir=app.runs_dir,
                    cache=app.runs_cache, request=request)
        if part == "flow":
            self._run_flow(scale=self.scale, overlay=self.overlay, **args)
        elif part == "clip":
            self._run_clip(threshold=self._threshold(), **args)
        elif part == "truncation":
            self._run_truncation(loss=self.loss, **args)
        elif part == "saliency":
            self._run_saliency(position=self.position, k=self.k, **args)
        elif part == "gates":
            self._run_gates(**args)
        elif part == "saturation":
            self.computing[part] = "reading a long held-out text… (the keys still work)"
            self._run_saturation(**args)
        elif part == "shapes":
            model = self._seq2seq_model() if self.shapes_from_model else None
            self._run_shapes(settings=dict(self.shape_settings), shapes_model=model, request=request)
        elif part == "trap":
            self.computing[part] = "reading the runs and generating from each…"
            self._run_trap(runs_dir=app.runs_dir, cache=app.runs_cache, request=request)

    def _answer(self, part: str, request: int, compute) -> None:
        """Run ``compute(should_stop, progress)`` (in the worker) and post its result or its one-line error."""
        from rnntui.inspect import Cancelled
        from rnntui.tui.model_choice import one_thread

        worker = get_current_worker()

        def progress(done: int, total: int) -> None:
            self.post_message(self.Progress(part, request, done, total))

        try:
            with one_thread():
                result = compute(lambda: worker.is_cancelled, progress)
        except Cancelled:
            return
        except Exception as error:  # noqa: BLE001 - a model or text the part cannot use is one line
            self.post_message(self.Computed(part, request, None, describe(error)))
            return
        self.post_message(self.Computed(part, request, result, ""))

    @work(thread=True, exclusive=True, exit_on_error=False, group="gradients-flow",
          description="gradient flow through time")
    def _run_flow(self, model, window, scale, overlay, data_dir, runs_dir, cache, request) -> None:
        from rnntui.tui import gradients_jobs as jobs

        self._answer("flow", request, lambda stop, progress: jobs.flow(model, window, scale, overlay, runs_dir, cache,
                                                                       data_dir, stop))

    @work(thread=True, exclusive=True, exit_on_error=False, group="gradients-clip", description="clipping one batch")
    def _run_clip(self, model, threshold, data_dir, request, **_) -> None:
        from rnntui.tui import gradients_jobs as jobs

        self._answer("clip", request, lambda stop, progress: jobs.clip(model, threshold, data_dir))

    @work(thread=True, exclusive=True, exit_on_error=False, group="gradients-truncation",
          description="truncated backpropagation")
    def _run_truncation(self, model, window, loss, data_dir, request, **_) -> None:
        from rnntui.inspect.gradients import truncation
        from rnntui.tui import gradients_jobs as jobs

        def compute(stop, progress):
            lm = jobs.language_model(model)
            ids = jobs.window_ids(lm, window, data_dir)
            T = len(ids) - 1
            taus = sorted({t for t in TAUS if t < T} | {T})
            return truncation(lm, ids, taus, loss, progress=progress, should_stop=stop)

        self._answer("truncation", request, compute)

    @work(thread=True, exclusive=True, exit_on_error=False, group="gradients-saliency", description="saliency")
    def _run_saliency(self, model, window, position, k, data_dir, request, **_) -> None:
        from rnntui.inspect.gradients import saliency
        from rnntui.tui import gradients_jobs as jobs

        def compute(stop, progress):
            lm = jobs.language_model(model)
            ids = jobs.window_ids(lm, window, data_dir)
            at = None if position is None else min(max(position, 1), len(ids) - 1)
            return saliency(lm, ids, at, k)

        self._answer("saliency", request, compute)

    @work(thread=True, exclusive=True, exit_on_error=False, group="gradients-gates", description="gates over text")
    def _run_gates(self, model, window, data_dir, request, **_) -> None:
        from rnntui.inspect.gates import gate_trace, most_variable_units
        from rnntui.tui import gradients_jobs as jobs

        def compute(stop, progress):
            lm = jobs.language_model(model)
            trace = gate_trace(lm, jobs.window_ids(lm, window, data_dir), should_stop=stop)
            order = {gate: [u.unit for u in most_variable_units(trace, gate, trace.num_hiddens)]
                     for gate in trace.gates}
            return GatesResult(trace, order, lm.token)

        self._answer("gates", request, compute)

    @work(thread=True, exclusive=True, exit_on_error=False, group="gradients-pattern", description="a pattern's unit")
    def _run_pattern(self, result, pattern: str, gate: str, request: int) -> None:
        from rnntui.inspect.gates import pattern_units

        self._answer("pattern", request, lambda stop, progress: pattern_units(result.trace, pattern, gate,
                                                                             token=result.token))

    @work(thread=True, exclusive=True, exit_on_error=False, group="gradients-saturation",
          description="gate saturation")
    def _run_saturation(self, model, data_dir, request, **_) -> None:
        from rnntui.inspect.gates import saturation
        from rnntui.tui import gradients_jobs as jobs

        def compute(stop, progress):
            lm = jobs.language_model(model)
            if lm.kind == "rnn":
                raise ConfigError("an RNN has no gates; saturation needs a GRU or an LSTM model (m)")
            steps = min(jobs.SATURATION_STEPS, jobs.held_out_length(lm, data_dir))
            ids = jobs.window_ids(lm, Window(None, 0, steps - 1), data_dir)
            return saturation(lm, ids, progress=progress, should_stop=stop)

        self._answer("saturation", request, compute)

    @work(thread=True, exclusive=True, exit_on_error=False, group="gradients-shapes", description="tensor shapes")
    def _run_shapes(self, settings, shapes_model, request) -> None:
        from rnntui.tui import gradients_jobs as jobs

        self._answer("shapes", request, lambda stop, progress: jobs.shapes(settings, shapes_model))

    @work(thread=True, exclusive=True, exit_on_error=False, group="gradients-trap",
          description="the bidirectional trap")
    def _run_trap(self, runs_dir, cache, request) -> None:
        from rnntui.tui import gradients_jobs as jobs

        self._answer("trap", request, lambda stop, progress: jobs.trap(runs_dir, cache, stop))

    def on_gradients_view_progress(self, message: Progress) -> None:
        message.stop()
        if message.request == self.requests.get(message.part) and message.part in self.computing:
            what = self.computing[message.part].split("…")[0]
            done = 100 * message.done // max(message.total, 1)
            self.computing[message.part] = f"{what}… {done}% (the keys still work)"
            self._status()

    def on_gradients_view_computed(self, message: Computed) -> None:
        message.stop()
        part = message.part
        if message.request != self.requests.get(part):
            return  # a later request is on its way
        self.computing.pop(part, None)
        if part == "pattern":
            self._pattern_found(message.result, message.error)
            return
        if message.error:
            self.errors[part] = brief(message.error)
            self.results.pop(part, None)
            self._clear_part(part)
        else:
            self.errors.pop(part, None)
            self.results[part] = message.result
            self._after_result(part, message.result)
        if part == self.part or part == "norms" and self.part == "clip":
            self._status()
            self._keys_line()
            self._draw()

    def _after_result(self, part: str, result) -> None:
        if part == "saliency":
            self.position = result.position
            self.asked[part] = self._inputs(part)  # the position it chose: the same request, not a new one
        elif part == "gates":
            if self.gate not in result.trace.gates:
                self.gate = None
            if self.unit is not None and self.unit >= result.trace.num_hiddens:
                self.unit = None

    def _clear_part(self, part: str) -> None:
        """A part whose request failed (or whose model changed) shows nothing but the line saying why."""
        self._figure(part, "")
        if part not in self._built:
            return
        for name in PANELS.get(part, ()):
            self.query_one(f"#{name}", Static).update("")
        for chart in self.query(f"#part-{part} SeriesChart"):
            chart.set_lines([])
        for chart in self.query(f"#part-{part} SaturationChart"):
            chart.set_points("", [], [])
        if part == "gates":
            self.query_one(Heatmap).show(None)

    # -- drawing -------------------------------------------------------------------------------------------------
    def _draw(self) -> None:
        if not self.is_attached:
            return
        if self.part == "norms":
            self._show_norms()
            return
        result = self.results.get(self.part)
        if result is not None:
            getattr(self, f"_draw_{self.part}")(result)

    def _draw_flow(self, result) -> None:
        from rnntui.tui.widgets.gradients_parts import flow_about, flow_panel

        f = result.flow
        lines = [Line(result.label + (f" x{f.scale:g}" if f.scale != 1 else ""), f.distances, f.norms,
                      kind_color(result.label, 0))]
        lines += [Line(label, other.distances, other.norms, kind_color(label, i + 1))
                  for i, (label, other) in enumerate(result.others)]
        lines.append(Line(REFERENCE_LABEL, f.distances, f.reference, REFERENCE_COLOR))
        self.query_one("#flow-chart", SeriesChart).set_lines(
            lines, title="‖dL_T/dH_t‖ against T - t (log)", xlabel="T - t: steps back from the loss", legend=False)
        self._figure("flow", flow_about(result, self.narrow))
        self.query_one("#flow-panel", Static).update(flow_panel(result))

    def _draw_clip(self, effect) -> None:
        from rnntui.tui.widgets.gradients_parts import clip_about, clip_panel

        history, _ = self._run_history()
        self._keys_line()
        self._figure("clip", clip_about(effect))
        self.query_one("#clip-panel", Static).update(clip_panel(effect, self.narrow))
        chart = self.query_one("#clip-chart", SeriesChart)
        if history is not None and history.grad_norm:
            steps = list(range(1, len(history.grad_norm) + 1))
            chart.set_lines([Line("‖g‖ per step", steps, history.grad_norm, COLORS[2], connect=False)],
                            title=f"the run's ‖g‖ per step, θ = {effect.threshold:g}", xlabel="step",
                            hlines=[effect.threshold], legend=False)
        else:
            chart.set_lines([], title="no run's steps to show (train one: view 1)")

    def _draw_truncation(self, result) -> None:
        from rnntui.tui.widgets.gradients_parts import truncation_about, truncation_table

        T = len(result.contributions)
        distances = list(range(T - 1, -1, -1))
        cuts = [tau - 0.5 for tau in result.taus if tau < T]
        self.query_one("#trunc-chart", SeriesChart).set_lines(
            [Line("term of step t", distances, result.contributions, COLORS[0], connect=False)],
            title="each step's term of dL/dW_hh (log); lines: tau", xlabel="T - t", vlines=cuts, legend=False)
        self._figure("truncation", truncation_about(result))
        self.query_one("#trunc-table", Static).update(truncation_table(result, self.narrow))

    def _draw_saliency(self, result) -> None:
        from rnntui.tui.widgets.gates_heatmap import norm_legend, saliency_text
        from rnntui.tui.widgets.gradients_parts import saliency_about, saliency_nearest

        word = self._token() == "word"
        self._figure("saliency", saliency_about(result))
        self.query_one("#sal-text", Static).update(saliency_text(result.tokens, result.norms, result.position, word))
        earlier = [n for n in result.norms[: result.position] if math.isfinite(n)]
        legend = norm_legend(max(earlier, default=0.0))
        legend.append("\n")
        legend.append_text(saliency_nearest(result))
        self.query_one("#sal-legend", Static).update(legend)
        xs = [d for d in result.distances[: result.position]]
        self.query_one("#sal-chart", SeriesChart).set_lines(
            [Line("‖d log P / d x_j‖", xs, result.norms[: result.position], COLORS[0])],
            title="‖d log P / d x_j‖ against the distance back (log)", xlabel="tokens back",
            vlines=[result.k + 0.5], legend=False)

    def _draw_gates(self, result) -> None:
        from rnntui.tui.widgets.gates_heatmap import Scale, unit_text
        from rnntui.tui.widgets.gradients_parts import unit_about

        trace = result.trace
        gate = self._gate_shown()
        units = self._units(result, gate)
        unit = self._unit_shown()
        word = result.token == "word"
        self.query_one(Heatmap).show(dict(gates=trace.gates, gate=gate, units=units, selected=unit,
                                          tokens=trace.tokens, word=word))
        values = trace.unit(gate, unit)
        marks = set(self.pattern.positions) if self.pattern is not None and self.pattern.gate == gate else None
        text = Text()
        text.append_text(Scale(gate, values).legend())
        text.append(f"  unit {unit} over the text" + (" (the pattern underlined)" if marks else "") + "\n", "dim")
        text.append_text(unit_text(trace.tokens, values, gate, marks, word))
        self.query_one("#gates-text", Static).update(text)
        rank = result.order[gate].index(unit) if unit in result.order[gate] else None
        about = unit_about(trace, gate, unit, rank, self.pattern if self.pattern is not None
                           and self.pattern.gate == gate else None, self.narrow)
        if trace.error > 1e-4:
            about.append(f" (recomputed gates differ from the module's by {trace.error:.0e})", "yellow")
        self._figure("gates", about)

    def _draw_saturation(self, sat) -> None:
        from rnntui.tui.widgets.gradients_parts import saturation_about

        from rnntui.inspect.gates import LABELS

        gates = list(sat.fractions)
        for i in range(3):
            chart = self.query_one(f"#sat-{i}", SaturationChart)
            chart.display = i < len(gates)
            if i < len(gates):
                g = gates[i]
                wide = chart.size.width >= 30 or not chart.size.width
                title = f"{g}: {LABELS[g]}, ↑ open" if wide else f"{g} ({LABELS[g].split()[0]}), ↑ open"
                chart.set_points(title, sat.fractions[g]["low"], sat.fractions[g]["high"], COLORS[i])
        self._figure("saturation", saturation_about(sat, self.narrow))

    def _draw_shapes(self, report) -> None:
        from rnntui.tui.widgets.gradients_parts import shapes_about, shapes_table

        self.query_one("#shape-controls").display = report.source.startswith("the seed")
        table = self.query_one("#shapes-table", Static)
        width = (table.content_region.width or max(40, self.size.width - 2)) - 1  # the scrollbar's column
        body = Text(no_wrap=True, overflow="ellipsis")
        s = report.settings
        body.append(f"{report.source}: {str(s['kind']).upper()} encoder-decoder, vocab {s['src_vocab_size']}, embed "
                    f"{s['src_embed']}, {s['num_hiddens']} hidden, {s['num_layers']} layers, batch {s['batch_size']}, "
                    f"{s['num_steps']} steps\n\n", "dim")
        body.append_text(shapes_table(report, width))
        table.update(body)
        self._figure("shapes", shapes_about(report, self.narrow))

    def _draw_trap(self, trap) -> None:
        from rnntui.tui.widgets.gradients_parts import trap_about, trap_text

        text = self.query_one("#trap-text", Static)
        width = text.content_region.width or max(40, self.size.width - 2)
        text.update(trap_text(trap, width, self.narrow))
        self._figure("trap", trap_about(trap))

    # -- per-group norms during training -------------------------------------------------------------------------
    def _history_source(self):
        """(History or None, what it is, a run folder to read it from): the run training now, else the
        run the Train view shows (opened from the Runs view, or trained last), else the view's model's run."""
        app = self.app
        train = app.view("train")
        dash = getattr(train, "dashboard", None)
        live = app.live_run
        session = train.session
        if live is not None and dash is not None and session is not None and session.run_dir == live.run_dir:
            return dash.history, f"the run training now ({live.run_dir.name})", None
        if dash is not None and dash.history.start:  # a run opened there, or the one trained last
            name = dash.session.run_dir.name if dash.session is not None else dash.title
            return dash.history, f"the run in the Train view ({name})", None
        m = self.model
        if m is not None and m.run_dir is not None:
            return None, f"the model's run ({m.run_dir.name})", m.run_dir
        return None, "", None

    def _run_history(self, ask: bool = True):
        """(the History the norms and clip parts draw from, or None; what it is). A run folder's is read in a
        worker (asked for here when its metrics changed); until it comes, None."""
        history, source, run_dir = self._history_source()
        self.norms_source = source
        if history is None and run_dir is not None and not ask:
            return self.results.get("norms"), source
        if history is None and run_dir is not None:
            key_ = ("norms", str(run_dir), self._metrics_stamp(run_dir))
            if self.asked.get("norms") != key_:
                self.asked["norms"] = key_
                self.requests["norms"] = request = self.requests.get("norms", 0) + 1
                self.computing["norms"] = f"reading {run_dir.name}'s metrics…"
                self._read_norms(run_dir, request)
            history = self.results.get("norms")
        return history, source

    def _show_norms(self) -> None:
        history, source = self._run_history()
        if history is None and "norms" in self.computing:
            return  # its metrics are being read
        self._draw_norms(history, source)

    @staticmethod
    def _metrics_stamp(run_dir) -> tuple:
        try:
            stat = (run_dir / "metrics.jsonl").stat()
            return stat.st_mtime_ns, stat.st_size
        except OSError:
            return ()

    @work(thread=True, exclusive=True, exit_on_error=False, group="gradients-norms", description="reading a run")
    def _read_norms(self, run_dir, request: int) -> None:
        from rnntui.tui import gradients_jobs as jobs

        self._answer("norms", request, lambda stop, progress: jobs.run_history(run_dir))

    def _draw_norms(self, history, source: str) -> None:
        from rnntui.tui.widgets.gradients_parts import group_series, norms_about, norms_table

        events = history.grad_groups if history is not None else []
        drawn = (id(history), len(events), self.narrow, source, self.errors.get("norms"))
        if drawn == self._norms_drawn:
            return
        self._norms_drawn = drawn
        self._keys_line()
        chart = self.query_one("#norms-chart", SeriesChart)
        table = self.query_one("#norms-table", Static)
        if not events:
            chart.set_lines([], title="per-group gradient norms per step")
            table.update("")
            if history is None:
                self._figure("norms", "" if self.errors.get("norms") else
                             "No run to read: train one (view 1), or open one (view 2).")
            else:
                self._figure("norms", Text("This run logged no per-group gradient norms (trained before they were "
                                           "logged, or with train.grad_norms_every = 0): train one in view 1.",
                                           "yellow"))
            return
        series = group_series(events)
        colors = {name: COLORS[i % len(COLORS)] for i, name in enumerate(series)}
        chart.set_lines([Line(name, xs, ys, colors[name]) for name, (xs, ys) in series.items()],
                        title="per-group ‖grad‖ (log), before clipping", xlabel="step", legend=False)
        table.update(norms_table(series, colors, self.narrow))  # the legend
        self._figure("norms", norms_about(series, self.narrow))

    def _follow_norms(self) -> None:
        """Once a second while the norms part is shown: a live run's new steps."""
        if self.part == "norms" and self.is_on_screen:
            self._show_norms()

    # -- the controls -------------------------------------------------------------------------------------------
    def _threshold(self) -> float:
        if self.threshold is not None:
            return self.threshold
        clip = self.model.checkpoint.config.train.clip if self.model is not None else 0
        return clip if clip and clip > 0 else 1.0

    def _token(self) -> str:
        return self.model.checkpoint.token if self.model is not None else "char"

    def _seq2seq_model(self) -> LoadedModel | None:
        return self.model if self.model is not None and self.model.task == "seq2seq" else None

    def _window_changed(self) -> None:
        self.position, self.pattern = None, None
        self.requests["pattern"] = self.requests.get("pattern", 0) + 1  # an answer on its way read the old text
        self._keys_line()
        self._refresh_part()

    def action_window(self) -> None:
        offset, steps = self.spans[self.part]
        if self.text is None:
            steps = WINDOWS[(WINDOWS.index(steps) + 1) % len(WINDOWS)] if steps in WINDOWS else WINDOWS[0]
        self.text = None  # w, [ and ] read the held-out text again
        self.spans[self.part] = (offset, steps)
        self._window_changed()

    def action_move(self, step: int) -> None:
        from rnntui.tui.gradients_jobs import known_held_out

        offset, steps = self.spans[self.part]
        if self.text is None:
            offset = max(0, offset + step * (steps + 1))
            held_out = known_held_out(self.model) if self.model is not None else None
            if held_out and offset + steps + 1 > held_out:
                offset = max(0, held_out - steps - 1)
        self.text = None
        self.spans[self.part] = (offset, steps)
        self._window_changed()

    def action_scale(self, step: int) -> None:
        self.scale = stepped(SCALES, self.scale, step, log=True)
        self._keys_line()
        self._refresh_part()

    def action_overlay(self) -> None:
        self.overlay = not self.overlay
        self._keys_line()
        self._refresh_part()

    def action_threshold(self, step: int) -> None:
        self.threshold = stepped(THRESHOLDS, self._threshold(), step, log=True)
        self._keys_line()
        self._refresh_part()

    def action_loss(self) -> None:
        self.loss = "mean" if self.loss == "last" else "last"
        self._keys_line()
        self._refresh_part()

    def _position_shown(self) -> int | str:
        result = self.results.get("saliency")
        if self.position is not None:
            return self.position
        return result.position if result is not None else "last"

    def action_position(self, step: int) -> None:
        result = self.results.get("saliency")
        if result is None:
            return
        n = len(result.tokens)
        current = self.position if self.position is not None else result.position
        self.position = min(max(current + step, 1), n - 1)
        self._keys_line()
        self._refresh_part()

    def action_next_k(self) -> None:
        self.k = KS[(KS.index(self.k) + 1) % len(KS)] if self.k in KS else KS[0]
        self._keys_line()
        self._refresh_part()

    # gates
    def _gate_shown(self) -> str:
        result = self.results.get("gates")
        if result is None:
            return self.gate or "H"
        gates = list(result.trace.gates)
        return self.gate if self.gate in gates else "H"

    def _units(self, result, gate: str) -> list[int]:
        return result.order[gate] if self.order == "variable" else list(range(result.trace.num_hiddens))

    def _unit_shown(self) -> int | None:
        result = self.results.get("gates")
        if result is None:
            return None
        if self.unit is not None:
            return self.unit
        return result.order[self._gate_shown()][0]

    def _forget_pattern_error(self) -> None:
        if self.errors.get("gates", "").startswith("pattern:"):
            del self.errors["gates"]
            self._status()

    def action_unit(self, step: int) -> None:
        result = self.results.get("gates")
        if result is None:
            return
        self._forget_pattern_error()
        units = self._units(result, self._gate_shown())
        at = units.index(self._unit_shown())
        self.unit = units[min(max(at + step, 0), len(units) - 1)]
        self._keys_line()
        self._draw()

    def action_gate(self, step: int) -> None:
        result = self.results.get("gates")
        if result is None:
            return
        self._forget_pattern_error()
        gates = list(result.trace.gates)
        self.gate = gates[(gates.index(self._gate_shown()) + step) % len(gates)]
        self._keys_line()
        self._draw()

    def action_order(self) -> None:
        self.order = "index" if self.order == "variable" else "variable"
        self._keys_line()
        self._draw()

    def _pattern_found(self, found, error: str) -> None:
        if found is None:
            self.errors["gates"] = f"pattern: {error}"
        else:
            self.errors.pop("gates", None)
            self.pattern = found
            self.unit = found.unit
        if self.part == "gates":
            self._status()
            self._keys_line()
            self._draw()

    # shapes
    def _fill_shape_fields(self) -> None:
        from rnntui.inspect.shapes import SEED_EXAMPLE

        values = {**SEED_EXAMPLE, **self.shape_settings}
        for name, _ in SHAPE_FIELDS:
            self.query_one(f"#shape-{name.replace('_', '-')}", Input).value = str(values[name])

    @on(Input.Changed, "#shape-controls Input")
    def _shape_changed(self, event: Input.Changed) -> None:
        event.stop()
        from rnntui.inspect.shapes import SEED_EXAMPLE

        settings: dict[str, Any] = {}
        bad = []
        for name, _ in SHAPE_FIELDS:
            widget = self.query_one(f"#shape-{name.replace('_', '-')}", Input)
            text = widget.value.strip()
            ok = text in ("rnn", "gru", "lstm") if name == "kind" else text.isdigit() and (
                int(text) >= (0 if name == "embed_size" else 1))
            widget.set_class(not ok, "-invalid")
            if not ok:
                bad.append(name)
            elif (text if name == "kind" else int(text)) != SEED_EXAMPLE[name]:
                settings[name] = text if name == "kind" else int(text)
        if bad:
            self.errors["shapes"] = (f"{', '.join(bad)}: kind is rnn, gru or lstm; the sizes are whole numbers >= 1 "
                                     "(embed 0: one-hot)")
            self._status()
            return
        self.errors.pop("shapes", None)
        if settings != self.shape_settings:
            self.shape_settings = settings
            self._refresh_part()
        else:
            self._status()

    def action_example(self) -> None:
        if self._seq2seq_model() is not None and not self.shapes_from_model:
            self.shapes_from_model = True
        else:
            self.shapes_from_model = False
            self.shape_settings = {}
            self._fill_shape_fields()  # (the part is shown: its fields are there)
        self._keys_line()
        self._refresh_part()

    def action_leave_field(self) -> None:
        self.focus()

    def action_page(self, step: int) -> None:
        for scroll in self.query_one(f"#part-{self.part}").query(QuietScroll):
            (scroll.scroll_page_down if step > 0 else scroll.scroll_page_up)(animate=False)

    # -- the prompt line (a text, a pattern) ----------------------------------------------------------------
    PROMPTS = {
        "text": "a text to read (preprocessed as the model's corpus); Enter applies, empty: the held-out text",
        "pattern": "a pattern (e.g. a space, 'the', 'e'); Enter picks the unit that differs most where it occurs",
    }

    def action_edit(self, kind: str) -> None:
        prompt = self.query_one("#grad-prompt", LineInput)
        self.prompt_kind = kind
        prompt.border_title = self.PROMPTS[kind]
        prompt.placeholder = self.PROMPTS[kind]
        prompt.value = (self.text or "") if kind == "text" else (self.pattern.pattern if self.pattern else "")
        prompt.display = True
        prompt.focus()

    def _close_prompt(self) -> None:
        prompt = self.query_one("#grad-prompt", LineInput)
        prompt.display = False
        self.prompt_kind = ""
        self.focus()

    def on_line_input_left(self, message: LineInput.Left) -> None:
        message.stop()
        self._close_prompt()

    @on(Input.Submitted, "#grad-prompt")
    def _prompt_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        kind, value = self.prompt_kind, event.value
        self._close_prompt()
        if kind == "text":
            self.text = value if value.strip() else None
            self._window_changed()
        elif kind == "pattern" and value:
            result = self.results.get("gates")
            if result is None:
                return
            self.requests["pattern"] = request = self.requests.get("pattern", 0) + 1
            self._run_pattern(result, value, self._gate_shown(), request)


@dataclass(frozen=True)
class GatesResult:
    trace: Any  # GateTrace
    order: dict[str, list[int]]  # gate -> every unit, the most variable first
    token: str  # char or word
