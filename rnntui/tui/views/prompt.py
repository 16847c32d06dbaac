"""The Prompt view (5): generate from a language model, translate with a seq2seq model (issue 12).

A language model continues the prompt token by token: a worker iterates ``decoding.generate.stream``
(the same draws as ``rnntui generate`` with the same seed and settings) and posts the tokens in small
batches, so the continuation grows on screen as it is drawn. ``c`` colours every token by the model's
probability of it (the prompt's scored by ``surprise`` once the continuation is done). A seq2seq model
translates with greedy and beam search side by side (``decoding.translate.compare``); ``go . => va !``
gives a reference and BLEU. Inference runs in a worker on a copy of the loaded weights; a checkpoint
rewritten since it was loaded (a run training) is read again first, one deleted is one line.

Keys: Enter goes to the prompt line (the view's letter keys work outside it, the typed letters inside);
Enter there generates (or translates); Esc stops a generation, or leaves the prompt line; up/down in it
recall earlier prompts.
"""

from __future__ import annotations

import copy
import threading
import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, ClassVar

from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Input, Static
from textual.worker import Worker, get_current_worker

from rnntui.errors import describe
from rnntui.tui.knobs import ALPHAS, BEAMS, DecodingKeys, decoding_bindings, stepped
from rnntui.tui.model_choice import LoadedModel, NoModel, one_thread
from rnntui.tui.views.inspector import InspectorView
from rnntui.tui.widgets.prompt_entries import GenerationEntry, TranslationEntry, legend
from rnntui.tui.widgets.prompt_input import PromptInput
from rnntui.tui.widgets.prompt_settings import Item, SettingsLine
from rnntui.tui.widgets.prompt_transcript import PromptTranscript

if TYPE_CHECKING:
    from rnntui.decoding.translate import Comparison

clock = time.perf_counter  # (the snapshot tests stop it: their entries show no measured times)
BATCH_S = 1 / 30  # tokens are posted to the UI at most this often (the first one at once)

LENGTHS = (10, 20, 50, 100, 200, 500, 1000, 2000)

LM_ACTIONS = {"strategy", "temperature", "top_k", "top_p", "length", "seed", "colour"}
S2S_ACTIONS = {"beam", "alpha"}


@dataclass(frozen=True)
class PromptSettings:
    """How the view generates (``rnntui generate``'s options) and translates (``rnntui translate``'s)."""

    strategy: str = "greedy"
    temperature: float = 1.0
    top_k: int = 10
    top_p: float = 0.9
    length: int = 100  # tokens to generate
    seed: int = 0
    beam: int = 3
    alpha: float = 0.75

    def describe(self) -> str:
        """``top-p 0.9, T 0.8, seed 0``: what decides the tokens (for an entry's footer)."""
        parts = [self.strategy]
        if self.strategy == "top-k":
            parts[0] += f" {self.top_k}"
        elif self.strategy == "top-p":
            parts[0] += f" {self.top_p:g}"
        if self.strategy != "greedy":
            parts += [f"T {self.temperature:g}", f"seed {self.seed}"]
        return ", ".join(parts)

    def cli_args(self) -> list[str]:
        """The same settings as ``rnntui generate`` options."""
        return ["--strategy", self.strategy, "--temperature", f"{self.temperature:g}", "--top-k", str(self.top_k),
                "--top-p", f"{self.top_p:g}", "--num-chars", str(self.length), "--seed", str(self.seed)]


def split_reference(text: str) -> tuple[str, str | None]:
    """``go . => va !`` -> (``go .``, ``va !``); no ``=>``: no reference."""
    if "=>" not in text:
        return text, None
    sentence, reference = text.split("=>", 1)
    return sentence, reference.strip()


def epoch_of(loaded: LoadedModel) -> str:
    info = loaded.checkpoint.info
    return f"epoch {info.get('epoch', '?')} of {loaded.checkpoint.config.train.epochs}"


class PromptView(DecodingKeys, InspectorView):
    VIEW_ID = "prompt"
    TASKS = ("lm", "seq2seq")
    ABOUT = ("Type a prefix and watch the model continue it token by token (c: how probable each token was), "
             "or a sentence to compare greedy and beam search.")
    BINDINGS: ClassVar = [
        Binding("enter", "type", "Type", id="prompt.type",
                tooltip="type a prompt (Enter in it generates, or translates)"),
        Binding("escape", "stop", "Stop", id="prompt.stop", tooltip="stop the generation"),
        Binding("escape", "leave", "Leave", id="prompt.leave",
                tooltip="leave the prompt line: the view's letter keys work again"),
        Binding("c", "colour", "Colour", id="prompt.colour",
                tooltip="colour every token by the model's probability of it (surprise)"),
        Binding("l", "length(-1)", "Shorter", id="prompt.length-down", show=False,
                tooltip="generate fewer tokens"),
        Binding("L", "length(1)", "Longer", id="prompt.length-up", show=False, tooltip="generate more tokens"),
        *decoding_bindings("prompt"),
    ]

    # -- messages from the workers (plain data) -----------------------------------------------------------
    @dataclass
    class Started(Message):
        request: int
        entry: GenerationEntry

    @dataclass
    class Tokens(Message):
        request: int
        pieces: list[str]
        probs: list[float]

    @dataclass
    class Finished(Message):
        request: int
        stopped: bool
        elapsed: float
        prompt_probs: list[float | None] | None

    @dataclass
    class Translated(Message):
        request: int
        comparison: Comparison
        model: str
        elapsed: float

    @dataclass
    class Failed(Message):
        request: int
        error: str
        reload: bool  # the model went (or changed task): load the choice again

    @dataclass
    class Reloaded(Message):
        """A worker read the checkpoint again (it changed since it was loaded)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.settings = PromptSettings()
        self.colour = False
        self.entries: dict[int, GenerationEntry | TranslationEntry] = {}  # request -> its entry
        self._keys: dict[int, int] = {}  # request -> transcript key
        self._request = 0  # the latest prompt sent to a worker
        self._active: int | None = None  # the request generating now
        self._worker: Worker | None = None
        self._copies: tuple[tuple, object] | None = None  # ((path, stamp), the model's copy) workers run on
        self._copy_lock = threading.Lock()

    def compose_body(self) -> ComposeResult:
        yield SettingsLine(id="prompt-settings")
        yield PromptTranscript(id="prompt-transcript")
        yield Static(legend(), id="prompt-legend")
        yield Static("", id="prompt-status", markup=False)
        yield PromptInput(id="prompt-input")

    def on_mount(self) -> None:
        super().on_mount()
        self.transcript = self.query_one(PromptTranscript)
        self.input = self.query_one(PromptInput)
        self.query_one("#prompt-legend").display = False
        self._status("")
        self._show_settings()

    def default_focus(self):
        return self.transcript  # not the prompt line: the number keys still switch views

    @property
    def task(self) -> str | None:
        return self.model.task if self.model is not None else None

    @property
    def typing(self) -> bool:
        field = getattr(self, "input", None)  # (asked before it is mounted too)
        return field is not None and field.has_focus

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "type":
            return not self.typing
        if action == "stop":
            return self._active is not None
        if action == "leave":
            return self.typing and self._active is None
        if action in LM_ACTIONS:
            return self.task == "lm" and not self.typing
        if action in S2S_ACTIONS:
            return self.task == "seq2seq" and not self.typing
        if action == "pick_model":
            return not self.typing  # (m is a letter in the prompt line)
        return True

    # -- the lines around the transcript ------------------------------------------------------------------
    def _show_settings(self) -> None:
        s = self.settings
        if self.task == "seq2seq":
            items = [Item("b/B", f"beam {s.beam}"), Item("a/A", f"α {s.alpha:g}")]
            note = "sentence => reference gives BLEU"
        else:
            unit = "words" if self.model is not None and self.model.checkpoint.token == "word" else "chars"
            sampled = s.strategy != "greedy"
            items = [Item("s", f"strategy {s.strategy}"), Item("t/T", f"T {s.temperature:g}", sampled),
                     Item("k/K", f"top-k {s.top_k}", s.strategy == "top-k"),
                     Item("p/P", f"top-p {s.top_p:g}", s.strategy == "top-p"), Item("l/L", f"{s.length} {unit}"),
                     Item("r", f"seed {s.seed}", sampled), Item("c", f"colour {'on' if self.colour else 'off'}")]
            note = ""
        self.query_one(SettingsLine).show(items, note)
        self._placeholder()

    def _placeholder(self) -> None:
        if self.task == "seq2seq":
            what = "an English sentence (go . => va ! adds a reference)"
            done = "translates"
        else:
            what, done = "a prefix for the model to continue", "generates"
        if self.typing:
            self.input.placeholder = f"{what}; Enter {done} · ↑↓ earlier prompts · Esc back to the keys"
        else:
            self.input.placeholder = f"Enter: type {what} here"

    def _status(self, text: str, error: bool = False) -> None:
        status = self.query_one("#prompt-status", Static)
        status.update(text)
        status.set_class(error, "-error")
        status.display = bool(text)  # (no blank line under the transcript)

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        super().on_descendant_focus(event)
        self._placeholder()

    def on_descendant_blur(self, event: events.DescendantBlur) -> None:
        self.call_after_refresh(self._placeholder)

    def model_changed(self, model: LoadedModel | None) -> None:
        self._show_settings()
        self.refresh_bindings()

    # -- keys ------------------------------------------------------------------------------------------------
    def action_type(self) -> None:
        self.input.focus()

    def action_leave(self) -> None:
        self.transcript.focus()

    def _set(self, **changes) -> None:
        self.settings = replace(self.settings, **changes)
        self._show_settings()

    def action_length(self, step: int) -> None:
        self._set(length=stepped(LENGTHS, self.settings.length, step))

    def action_beam(self, step: int) -> None:
        self._set(beam=stepped(BEAMS, self.settings.beam, step))

    def action_alpha(self, step: int) -> None:
        self._set(alpha=stepped(ALPHAS, self.settings.alpha, step))

    def action_colour(self) -> None:
        self.colour = not self.colour
        self.query_one("#prompt-legend").display = self.colour
        self._show_settings()
        self.transcript.set_many({self._keys[request]: entry.render(self.colour)
                                  for request, entry in self.entries.items() if isinstance(entry, GenerationEntry)})

    def action_stop(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
        self._stop_entry()
        self._status("stopped")

    def _stop_entry(self) -> None:
        """The entry generating now stops where it is (what its worker still sends is dropped)."""
        request, self._active = self._active, None
        entry = self.entries.get(request) if request is not None else None
        if isinstance(entry, GenerationEntry) and entry.status == "generating":
            entry.status = "stopped"
            self._redraw(request)
        self.refresh_bindings()

    # -- a prompt -------------------------------------------------------------------------------------------
    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.submit(event.value)

    def submit(self, prompt: str) -> None:
        """Generate from (or translate) ``prompt`` in a worker; bad input is one line in the status."""
        if self.model is None:
            self._status("no model to run: the line at the top says why (m chooses one)", error=True)
            return
        seq2seq = self.task == "seq2seq"
        if not prompt.strip() and (seq2seq or self.model.checkpoint.token == "word" or not prompt):
            self._status("type an English sentence to translate first, e.g. go . (or go . => va ! for BLEU)"
                         if seq2seq else "type a prefix for the model to continue first (at least one "
                         f"{'word' if self.model.checkpoint.token == 'word' else 'character'}), then Enter",
                         error=True)
            return
        self.input.remember(prompt)
        self.input.value = ""
        self._stop_entry()  # a new prompt supersedes the one generating
        self._request += 1
        if seq2seq:
            self._status("translating…")
            self._worker = self._translate(self.model, prompt, self.settings, self._request)
        else:
            self._active = self._request
            self._status("generating… Esc stops")
            self._worker = self._generate(self.model, prompt, self.settings, self._request)
        self.refresh_bindings()

    def _current(self, loaded: LoadedModel) -> tuple[LoadedModel, object]:
        """(the loaded model, read again if its file changed since; a copy of its weights to run on)."""
        from rnntui.tui.model_choice import load

        try:
            stat = loaded.path.stat()
        except OSError:
            raise NoModel(f"checkpoint not found: {loaded.path} (deleted since it was chosen?): press m to "
                          "choose another") from None
        if (stat.st_mtime_ns, stat.st_size) != loaded.stamp:  # a new epoch of a run training, say
            fresh = load(loaded.path, loaded.run_dir)
            if fresh.task != loaded.task:
                raise NoModel(f"{loaded.path} now holds another kind of model: press m to choose again")
            loaded = fresh
            self.post_message(self.Reloaded())
        key = (loaded.path, loaded.stamp)
        with self._copy_lock:  # one copy per checkpoint version, shared by this view's workers
            if self._copies is None or self._copies[0] != key:
                self._copies = (key, copy.deepcopy(loaded.checkpoint.model))
            return loaded, self._copies[1]

    @work(thread=True, exclusive=True, exit_on_error=False, group="prompt-run", description="generating")
    def _generate(self, loaded: LoadedModel, prompt: str, settings: PromptSettings, request: int) -> None:
        worker = get_current_worker()

        def should_stop() -> bool:
            return worker.is_cancelled

        try:
            import torch

            from rnntui.data.corpus import tokenize
            from rnntui.decoding.generate import prefix_ids, stream, surprise
            from rnntui.decoding.sampling import DecodeConfig

            with one_thread():
                loaded, model = self._current(loaded)
                checkpoint = loaded.checkpoint
                vocab, token, config = checkpoint.vocab, checkpoint.token, checkpoint.config
                lowercase = config.data.preprocess != "none"  # as `rnntui generate` reads a prefix
                decode = DecodeConfig(settings.strategy, settings.temperature, settings.top_k, settings.top_p)
                _, unknown = prefix_ids(vocab, prompt, token, lowercase)  # (an empty prompt: one line)
                read = tokenize(prompt.lower() if lowercase else prompt, token)
                entry = GenerationEntry(
                    prompt=prompt, token=token, read=read, unknown=[t not in vocab for t in read],
                    unknown_tokens=unknown, settings=settings.describe(), model=epoch_of(loaded),
                    num_tokens=settings.length, letters_only=config.data.preprocess == "d2l",
                    bidirectional=config.model.bidirectional)
                self.post_message(self.Started(request, entry))
                generator = torch.Generator().manual_seed(settings.seed)  # as `rnntui generate --seed`
                start = clock()
                pieces: list[str] = []
                probs: list[float] = []
                posted = -BATCH_S
                for step in stream(model, vocab, prompt, settings.length, token, decode, generator,
                                   lowercase=lowercase, top=0, should_stop=should_stop):
                    pieces.append(step.text)
                    probs.append(step.prob_t1)
                    now = clock()
                    if now - posted >= BATCH_S:  # the first token at once, then a batch per repaint
                        self.post_message(self.Tokens(request, pieces, probs))
                        pieces, probs, posted = [], [], now
                if pieces:
                    self.post_message(self.Tokens(request, pieces, probs))
                elapsed = clock() - start
                scored = None
                if not worker.is_cancelled:  # the prompt's own probabilities, for the colours
                    scored = [s.prob for s in surprise(model, vocab, prompt, token, lowercase, should_stop)]
                    if len(scored) != len(read):
                        scored = None  # stopped half-way
                self.post_message(self.Finished(request, worker.is_cancelled, elapsed, scored))
        except Exception as error:  # noqa: BLE001 - bad input or a bad checkpoint is one line in the view
            self.post_message(self.Failed(request, describe(error), isinstance(error, NoModel)))

    @work(thread=True, exclusive=True, exit_on_error=False, group="prompt-run", description="translating")
    def _translate(self, loaded: LoadedModel, text: str, settings: PromptSettings, request: int) -> None:
        try:
            from rnntui.decoding.translate import compare

            loaded, model = self._current(loaded)
            checkpoint = loaded.checkpoint
            sentence, reference = split_reference(text)
            start = clock()
            with one_thread():
                comparison = compare(model, sentence, checkpoint.vocabs["src"], checkpoint.vocabs["tgt"],
                                     checkpoint.config.pairs.num_steps, settings.beam, settings.alpha, reference)
            self.post_message(self.Translated(request, comparison, epoch_of(loaded), clock() - start))
        except Exception as error:  # noqa: BLE001 - as above
            self.post_message(self.Failed(request, describe(error), isinstance(error, NoModel)))

    # -- what the workers send --------------------------------------------------------------------------
    def _redraw(self, request: int) -> None:
        entry = self.entries[request]
        self.transcript.set(self._keys[request], entry.render(self.colour))

    def _add(self, request: int, entry: GenerationEntry | TranslationEntry) -> None:
        self.entries[request] = entry
        self._keys[request] = self.transcript.add(entry.render(self.colour))
        kept = set(self.transcript.keys)  # the transcript drops its oldest entries
        for old in [r for r, key in self._keys.items() if key not in kept]:
            del self._keys[old], self.entries[old]

    def on_prompt_view_started(self, message: Started) -> None:
        message.stop()
        if message.request == self._active:
            self._add(message.request, message.entry)

    def on_prompt_view_tokens(self, message: Tokens) -> None:
        message.stop()
        entry = self.entries.get(message.request)
        if not isinstance(entry, GenerationEntry) or entry.status != "generating":
            return  # stopped, or superseded by a newer prompt
        entry.pieces += message.pieces
        entry.probs += message.probs
        entry.batches.append(len(message.pieces))
        self._redraw(message.request)
        self._status(f"generating… {len(entry.pieces)} of {entry.num_tokens} {entry.unit} · Esc stops")

    def on_prompt_view_finished(self, message: Finished) -> None:
        message.stop()
        entry = self.entries.get(message.request)
        if not isinstance(entry, GenerationEntry):
            return
        entry.elapsed = message.elapsed
        entry.prompt_probs = message.prompt_probs
        if entry.status == "generating":
            entry.status = "stopped" if message.stopped else "done"
        self._redraw(message.request)
        if message.request == self._active:
            self._active = None
            self._status("")
            self.refresh_bindings()

    def on_prompt_view_translated(self, message: Translated) -> None:
        message.stop()
        if message.request != self._request:
            return  # a newer sentence was sent meanwhile
        self._add(message.request, TranslationEntry(message.comparison, message.model, message.elapsed))
        self._status("")

    def on_prompt_view_failed(self, message: Failed) -> None:
        message.stop()
        if message.request != self._request:
            return
        entry = self.entries.get(message.request)
        if isinstance(entry, GenerationEntry):
            entry.status, entry.error = "failed", message.error
            self._redraw(message.request)
        if message.request == self._active:
            self._active = None
            self.refresh_bindings()
        self._status(message.error, error=True)
        if message.reload:
            self.load_model()

    def on_prompt_view_reloaded(self, message: Reloaded) -> None:
        message.stop()
        self.load_model()  # the model line says which epoch it is now
