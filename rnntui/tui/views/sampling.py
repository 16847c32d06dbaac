"""The Sampling view (4): how decoding strategies choose the next token (issue 12).

A language model reads a prefix (the model's own sample prefix by default; ``e`` edits it) and the view
shows its next-token distribution as bars: each token, its probability after the temperature, the
cumulative mass, the top-k cut and the top-p nucleus boundary, the excluded tokens greyed and the kept
ones with the probability they are sampled with; and the step's entropy. ``s`` changes the strategy,
``t/T``, ``k/K`` and ``p/P`` the temperature, k and p: the bars redraw at once (the cached logits are
filtered again; the model does not run). ``space`` samples the next token, ``g`` takes the greedy one,
Enter the one under the cursor (a branch), backspace steps back. A strip shows continuations of the
text so far at three temperatures. A translation model shows its beam search step by step instead
(``b/B`` beam size, ``a/A`` alpha).

All inference runs in one worker thread that holds the ``Stepper`` (``widgets/sampling_thread.py``), on
a copy of the loaded model's weights; while a run trains and the choice is the live run, each new
epoch's checkpoint is read again and the path so far taken again on it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input
from textual.worker import get_current_worker

from rnntui.tui.knobs import ALPHAS, BEAMS, DecodingKeys, decoding_bindings, stepped
from rnntui.tui.model_choice import LoadedModel
from rnntui.tui.views.inspector import InspectorView
from rnntui.tui.widgets.beam_steps import BeamSteps
from rnntui.tui.widgets.sampling_strip import ContinuationStrip, TextLine
from rnntui.tui.widgets.sampling_thread import (
    STRIP_TEMPERATURES,
    BeamsShown,
    Command,
    Failed,
    LanguageModel,
    Sentence,
    Settings,
    StepperThread,
    StepShown,
    StripShown,
)
from rnntui.tui.widgets.token_bars import TokenBars, visible

PATH_TAIL = 400  # prefix tokens the path line keeps (a pasted 10,000-character prefix shows its end)

LM_STEPS = {"sample", "greedy", "take", "back"}
LM_SETTINGS = {"strategy", "temperature", "top_k", "top_p", "seed"}
S2S_ACTIONS = {"beam", "alpha"}
KEY = Style(bold=True, color="#ffaf5f")
USED = Style(bold=True)
UNUSED = Style(dim=True)
HOW = {"sampled": Style(color="cyan", bold=True), "greedy": Style(color="green", bold=True),
       "picked": Style(color="magenta", bold=True)}
UNKNOWN = Style(color="white", bgcolor="red", bold=True)


class SamplingView(DecodingKeys, InspectorView):
    VIEW_ID = "sampling"
    TASKS = ("lm", "seq2seq")  # a translation model's beam search too
    DEFAULT_TASKS = ("lm",)
    ABOUT = ("The next token's probabilities after a prefix, and what greedy, T, top-k and top-p keep of them; "
             "step token by token. A translation model: its beam search.")
    BINDINGS: ClassVar = [
        Binding("space", "sample", "Sample", id="sampling.sample",
                tooltip="sample the next token with the strategy, and step on"),
        Binding("g", "greedy", "Greedy", id="sampling.greedy", tooltip="take the most probable token, and step on"),
        Binding("enter", "take", "Take", id="sampling.take",
                tooltip="take the token under the cursor (any: a branch), and step on"),
        Binding("backspace", "back", "Back", id="sampling.back", tooltip="step back one token"),
        Binding("e", "edit", "Edit", id="sampling.edit",
                tooltip="type the prefix (or, for a translation model, the sentence); Enter reads it"),
        Binding("escape", "leave", "Leave", id="sampling.leave",
                tooltip="leave the text line: the view's letter keys work again"),
        *decoding_bindings("sampling", show_strategy=True),
    ]

    @dataclass
    class Result(Message):
        """What the inference thread posted (a StepShown, StripShown, BeamsShown or Failed)."""

        result: object

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.settings = Settings()
        self.beam_size, self.alpha = 3, 0.75
        self.prefix: str | None = None  # the prefix read (None: the model's own, when one loads)
        self.sentence: str | None = None
        self.shown: StepShown | None = None  # the distribution on screen
        self.beams: BeamsShown | None = None
        self.strip_state = -1  # the text the strip's continuations follow
        self.prefix_tokens: list[str] = []
        self._thread = StepperThread()
        self._version = 0  # the latest command sent
        self._since = 0  # results of commands before this one are for a model no longer shown
        self._reading = False  # a prefix (or sentence) is being read
        self._run_dir = None  # the run folder of the model shown

    def compose_body(self) -> ComposeResult:
        yield TextLine(id="sampling-settings")
        yield Input(id="sampling-input", placeholder="", compact=True)
        yield TextLine(id="sampling-note")
        with Vertical(id="sampling-lm"):
            yield TextLine(id="sampling-path")
            yield TokenBars(id="sampling-bars")
            yield TextLine(id="sampling-entropy")
            yield ContinuationStrip(id="sampling-strip")
        yield BeamSteps(id="sampling-beams")

    def on_mount(self) -> None:
        super().on_mount()
        self.bars = self.query_one(TokenBars)
        self.input = self.query_one("#sampling-input", Input)
        self.strip = self.query_one(ContinuationStrip)
        self.beam_view = self.query_one(BeamSteps)
        self.bars.show(None, message="the next-token distribution shows here once a language model is loaded")
        self._show_settings()
        self._run_thread()

    @work(thread=True, exit_on_error=False, group="sampling-stepper", description="the sampling stepper")
    def _run_thread(self) -> None:
        worker = get_current_worker()
        self._thread.run(lambda: worker.is_cancelled, lambda result: self.post_message(self.Result(result)))

    def default_focus(self):
        return self.beam_view if self.task == "seq2seq" else self.bars  # not the text line: 1-7 switch views

    @property
    def task(self) -> str | None:
        return self.model.task if self.model is not None else None

    @property
    def typing(self) -> bool:
        field = getattr(self, "input", None)
        return field is not None and field.has_focus

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "leave":
            return self.typing
        if self.typing and action != "pick_model":
            return False if action in LM_STEPS | LM_SETTINGS | S2S_ACTIONS | {"edit"} else True
        if action in LM_STEPS:
            return self.task == "lm" and self.shown is not None and not self._reading
        if action in LM_SETTINGS:
            return self.task == "lm"
        if action in S2S_ACTIONS:
            return self.task == "seq2seq"
        if action == "edit":
            return self.model is not None
        if action == "pick_model":
            return not self.typing  # (m is a letter in the text line)
        return True

    # -- sending commands to the inference thread ------------------------------------------------------------
    def _send(self, kind: str, arg=None) -> int:
        self._version += 1
        self._thread.put(Command(kind, self._version, self.settings, arg))
        return self._version

    def _read_prefix(self, prefix: str, replay: tuple = ()) -> None:
        """Read ``prefix`` (and take ``replay``'s tokens again) with the loaded model, in the thread."""
        checkpoint = self.model.checkpoint
        self.prefix = prefix
        self._reading = True
        spec = LanguageModel((self.model.path, self.model.stamp), checkpoint.model, checkpoint.vocab,
                             checkpoint.token, checkpoint.config.data.preprocess != "none", prefix, replay)
        self._send("load", spec)
        self.strip.wait()
        self.refresh_bindings()

    def _translate(self, sentence: str) -> None:
        checkpoint = self.model.checkpoint
        self.sentence = sentence
        self._reading = True
        self._send("beams", Sentence((self.model.path, self.model.stamp), checkpoint.model, checkpoint.vocabs["src"],
                                     checkpoint.vocabs["tgt"], checkpoint.config.pairs.num_steps, sentence,
                                     self.beam_size, self.alpha))

    def model_changed(self, model: LoadedModel | None) -> None:
        self._since = self._version + 1
        previous, self.shown, self.beams = self.shown, None, None
        self.set_class(model is not None and model.task == "seq2seq", "-seq2seq")
        self._note("")
        if model is None:
            self.bars.show(None, message="no model: the line at the top says why (m chooses one)")
            self.strip.show("", [])
            self.beam_view.show(None, "no model")
            self._reading = False
        elif model.task == "seq2seq":
            sentences = model.checkpoint.config.sample.sentences
            sentence = self.sentence or (sentences[0] if sentences else "go .")
            self.input.value = sentence
            self.beam_view.show(None, "running beam search…")
            self._translate(sentence)
        else:
            config = model.checkpoint.config
            prefix = self.prefix or config.sample.prefix or "the "
            # the same run at a later epoch (a run training): the path so far is taken again
            same_run = previous is not None and model.run_dir is not None and model.run_dir == self._run_dir
            replay = tuple(zip(previous.path, previous.how)) if same_run else ()
            self.input.value = prefix
            self.bars.show(None, message="reading the prefix…")
            self._read_prefix(prefix, replay)
            if config.model.bidirectional:
                self._note("a bidirectional model saw the text after each token while it trained: its guesses "
                           "of the next token are poor (d2l 10.4)", warn=True)
        self._run_dir = model.run_dir if model is not None else None
        self._show_settings()
        self.refresh_bindings()
        if self.is_on_screen and not self.typing:
            self.default_focus().focus(scroll_visible=False)

    # -- keys -----------------------------------------------------------------------------------------------------
    def action_sample(self) -> None:
        self._send("sample")

    def action_greedy(self) -> None:
        self._send("greedy")

    def action_take(self) -> None:
        picked = self.bars.cursor_token
        if picked is not None:
            self._send("push", picked[0])

    def action_back(self) -> None:
        self._send("pop")

    def action_edit(self) -> None:
        self.input.focus()
        self.input.cursor_position = len(self.input.value)

    def action_leave(self) -> None:
        self.input.value = (self.sentence if self.task == "seq2seq" else self.prefix) or ""
        self.default_focus().focus()

    def _set(self, **changes) -> None:
        self.settings = replace(self.settings, **changes)
        self._show_settings()
        self._send("show")

    def action_beam(self, step: int) -> None:
        self.beam_size = stepped(BEAMS, self.beam_size, step)
        self._show_settings()
        if self.sentence is not None:
            self._translate(self.sentence)

    def action_alpha(self, step: int) -> None:
        self.alpha = stepped(ALPHAS, self.alpha, step)
        self._show_settings()
        if self.sentence is not None:
            self._translate(self.sentence)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self.model is None:
            self._note("no model to run: the line at the top says why (m chooses one)", warn=True)
            return
        text = event.value
        if self.task == "seq2seq":
            if not text.strip():
                self._note("type an English sentence to translate first (e.g. go .), then Enter", warn=True)
                return
            self.beam_view.show(None, "running beam search…")
            self._translate(text)
        else:
            word = self.model.checkpoint.token == "word"
            if not text or (word and not text.strip()):
                self._note(f"type a prefix first: at least one {'word' if word else 'character'} for the model to "
                           "continue, then Enter", warn=True)
                return
            self._read_prefix(text)
        self.default_focus().focus()

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        super().on_descendant_focus(event)
        self._placeholder()
        self.refresh_bindings()

    def on_descendant_blur(self, event: events.DescendantBlur) -> None:
        self.call_after_refresh(self._placeholder)
        self.call_after_refresh(self.refresh_bindings)

    # -- what the thread sends ------------------------------------------------------------------------------------
    def on_sampling_view_result(self, message: Result) -> None:
        message.stop()
        result = message.result
        if result.version < self._since:
            return  # for a model no longer shown
        if isinstance(result, StepShown):
            self._shown(result)
        elif isinstance(result, StripShown):
            if self.shown is not None and result.state == self.shown.state:
                self.strip_state = result.state
                self.strip.show(self._strip_title(result), result.columns, self.shown.token)
        elif isinstance(result, BeamsShown):
            self._reading = False
            self.beams = result
            self.beam_view.show(result.trace)
            self._show_source(result)
        elif isinstance(result, Failed):
            self._failed(result)

    def _shown(self, shown: StepShown) -> None:
        moved = self.shown is None or shown.state != self.shown.state
        if shown.loaded:
            self._reading = False
            self.prefix_tokens = shown.prefix_tokens or []
        self.shown = shown
        s = shown.settings
        self.bars.show(shown.summary, s.strategy, s.top_k, s.top_p, keep_cursor=not moved)
        self.query_one("#sampling-entropy", TextLine).text = self._entropy_line(shown)
        if moved:
            self._show_path()
            if self.strip_state != shown.state:
                self.strip.wait()
        if shown.note:
            self._note(shown.note)
        elif shown.loaded:
            self._unknown_note(shown)
        self.refresh_bindings()

    def _failed(self, failed: Failed) -> None:
        if failed.kind == "load":
            self._reading = False
            self.shown = None
            self.bars.show(None, message=failed.message)
            self.strip.show("", [])
            self.query_one("#sampling-path", TextLine).text = ""
            self.query_one("#sampling-entropy", TextLine).text = ""
            self.refresh_bindings()
        elif failed.kind == "beams":
            self._reading = False
            self.beams = None
            self.beam_view.show(None, failed.message)
        self._note(failed.message, warn=True)

    # -- the lines around the bars ------------------------------------------------------------------------------
    def _show_settings(self) -> None:
        text = Text(no_wrap=True, overflow="ellipsis")

        def item(keys: str, label: str, used: bool = True) -> None:
            if text:
                text.append("  ")
            text.append(keys, KEY)
            text.append(" " + label, USED if used else UNUSED)

        if self.task == "seq2seq":
            item("b/B", f"beam size {self.beam_size}")
            item("a/A", f"α {self.alpha:g}")
            item("e", "sentence")
            text.append("   score = log P / L^α", UNUSED)
        else:
            s = self.settings
            item("s", s.strategy)
            item("t/T", f"T {s.temperature:g}", s.strategy != "greedy")
            item("k/K", f"k {s.top_k}", s.strategy == "top-k")
            item("p/P", f"p {s.top_p:g}", s.strategy == "top-p")
            item("r", f"seed {s.seed}")
            item("e", "prefix")
        self.query_one("#sampling-settings", TextLine).text = text
        self._placeholder()

    def _placeholder(self) -> None:
        if self.task == "seq2seq":
            what = "an English sentence to translate"
        else:
            what = "a prefix for the model to continue"
        self.input.placeholder = (f"{what}; Enter reads it · Esc back to the keys" if self.typing
                                  else f"e: type {what}")

    def _note(self, text: str | Text, warn: bool = False) -> None:
        line = self.query_one("#sampling-note", TextLine)
        if not text and self.task == "lm":
            text = Text.assemble(("path: ", "dim"), ("sampled", HOW["sampled"]), " ", ("greedy", HOW["greedy"]), " ",
                                 ("picked", HOW["picked"]), ("   ↑↓ a token, enter takes it: a branch", "dim"))
        line.text = text if isinstance(text, Text) else Text(text, style="bold" if warn else "", no_wrap=True,
                                                             overflow="ellipsis")
        line.set_class(warn, "-warn")
        line.set_class(not warn, "-hint")

    def on_resize(self, event: events.Resize) -> None:
        self.set_class(event.size.height < 30, "-short")  # 80x24: the strip's title and the hints give way

    def _unknown_note(self, shown: StepShown) -> None:
        if shown.unknown:
            shown_tokens = " ".join(repr(t) for t in shown.unknown[:8]) + (" …" if len(shown.unknown) > 8 else "")
            self._note(f"not in the vocabulary, read as <unk> (marked): {shown_tokens}", warn=True)
        elif shown.replay_lost:
            self._note(f"{shown.replay_lost} token(s) of the path are not in this model's vocabulary: the path "
                       "stops before them", warn=True)
        else:
            self._note("")

    def _show_path(self) -> None:
        """The prefix's end (dim; unknown tokens marked), then the path: sampled, greedy and picked tokens."""
        shown = self.shown
        if shown is None:
            return
        word = shown.token == "word"
        unknown = set(shown.unknown)
        text = Text(no_wrap=True, overflow="ellipsis", justify="right")
        tail = self.prefix_tokens[-PATH_TAIL:]
        if len(self.prefix_tokens) > PATH_TAIL:
            text.append("…", "dim")
        for tok in tail:
            piece = visible(tok) if tok in ("\n", "\t") else tok
            text.append((" " if word else "") + piece, UNKNOWN if tok in unknown else Style(dim=True))
        for tok, how in zip(shown.path, shown.how):
            text.append((" " if word else "") + (visible(tok) if tok in ("\n", "\t", " ") else tok), HOW[how])
        text.append("▏", "bold")
        # the end of the text is what matters: keep the last cells that fit
        width = max(self.query_one("#sampling-path").content_size.width, 20)
        if text.cell_len > width:
            text = text[-(width - 1):]
            text = Text("…", "dim") + text
        step = len(shown.path)
        line = self.query_one("#sampling-path", TextLine)
        line.text = text
        line.tooltip = f"step {step}: cyan sampled, green greedy, magenta picked by hand"

    def _entropy_line(self, shown: StepShown) -> Text:
        import math

        summary = shown.summary
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(f"step {len(shown.path) + 1}  ", "bold")
        text.append(f"kept {summary.num_kept} of {summary.vocab_size}  ", "bold")
        text.append(f"entropy {summary.entropy:.2f} nats", "bold")
        text.append(f" ≈ {math.exp(summary.entropy):.1f} equally likely tokens; kept {summary.kept_entropy:.2f}")
        return text

    def _strip_title(self, strip: StripShown) -> str:
        unit = "words" if self.shown is not None and self.shown.token == "word" else "characters"
        temps = ", ".join(f"{t:g}" for t in STRIP_TEMPERATURES)
        return (f"the next {strip.num_tokens} {unit} at T {temps}: {strip.settings.strip_label()}, "
                f"seed {strip.settings.seed}")

    def _show_source(self, beams: BeamsShown) -> None:
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(f"beam size {beams.beam_size}, α {beams.alpha:g}: ", "dim")
        unknown = set(beams.unknown)
        for i, word in enumerate(beams.words):
            style = UNKNOWN if word in unknown else (Style(bold=True) if i < beams.num_read else Style(dim=True))
            text.append(word, style)
            text.append(" ")
        if beams.num_read < len(beams.words):
            text.append(f"(the encoder reads the first {beams.num_read})", "dim")
        if beams.unknown:
            text.append(f"  not in the vocabulary, read as <unk>: {' '.join(beams.unknown)}", "bold")
        self._note(text, warn=bool(beams.unknown))
