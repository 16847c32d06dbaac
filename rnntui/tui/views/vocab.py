"""The Vocab view (3): how text becomes numbers (issue 11).

One text at a time (The Time Machine, the built-in corpus, a user's file, or a run's data with the
settings it trained on), counted by ``rnntui.inspect.vocab`` in a worker at every change of a control;
the header says which text and which part is counted and its figures. Four parts, switched by keys:
the vocabulary (a table; ``/`` finds, Enter shows a token in context), "tokenize this", n-grams with
Zipf's law, and the minibatch plan of one epoch (``rnntui.inspect.batches``: the training code's own).
``rnntui vocab`` and ``rnntui batches`` print the same numbers.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

from rich.text import Text
from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import ContentSwitcher, Input, Static
from textual.worker import get_current_worker

from rnntui.errors import ConfigError, describe
from rnntui.inspect import Cancelled
from rnntui.inspect.vocab import PREPROCESS, Settings, Source, VocabInspector
from rnntui.tui.views.base import View
from rnntui.tui.widgets.lines import LineInput, QuietScroll
from rnntui.tui.widgets.vocab_parts import (
    ZipfChart,
    batch_text,
    fits_text,
    kwic_text,
    ngram_text,
    strip_text,
    tokenized_text,
)
from rnntui.tui.widgets.vocab_table import VocabTable

PARTS = (("vocab", "v", "Vocabulary"), ("tokenize", "t", "Tokenize this"), ("ngrams", "n", "N-grams and Zipf"),
         ("batches", "b", "Minibatches"))
ABOUTS = {  # (at 100 columns and more, in 80): what to look at in each part
    "vocab": ("Each distinct token gets an index, most frequent first; <unk> (0) takes every token seen fewer than "
              "min_freq times. Raise min_freq (+) and watch the vocabulary shrink and the held-out <unk> rate grow.",
              "An index per token, most frequent first; <unk> (0) takes the tokens seen fewer than min_freq times: "
              "raise it (+), the vocabulary shrinks."),
    "tokenize": ("Type a line: it is cut as the text was, each token over its index. Red tokens are not in the "
                 "vocabulary: they become <unk>, and the decoded round trip loses them. Esc leaves the line.",
                 "Type a line: each token over its index; red ones are not in the vocabulary and become <unk>. "
                 "Esc leaves the line."),
    "ngrams": ("Zipf's law: count falls as a power of rank, a straight line on log-log axes. Bigrams and trigrams "
               "fall more slowly (flatter, most seen once): why word n-gram models need smoothing.",
               "Zipf: count falls as a power of rank (a line on log-log axes); bigrams and trigrams fall slower: "
               "n-gram models need smoothing."),
    "batches": ("One epoch's minibatches, drawn by the training code. Sequential: row r of batch i+1 continues row r "
                "of batch i, so the state is carried (truncated BPTT); random: it is not. ←/→ step, e the example.",
                "One epoch's minibatches. Sequential: row r of batch i+1 continues row r of batch i (state carried); "
                "random: not. ←/→ step."),
}
KWIC_HINT = "Enter on a token: a few of its contexts in the text (keyword in context) show here."
SAMPLE_LINE = "The Time Traveller (for so it will be convenient to speak of him) was expounding a recondite matter"
MAX_INSPECTORS = 4  # one per text; a large file's tokens take memory
NARROW = 100  # columns: below this the parts stack their panels
PROGRESS_AFTER_S = 0.15  # a count that takes longer shows its progress


@dataclass(frozen=True)
class BatchSettings:
    """The minibatch controls. ``example``: d2l's sequence 0..34 in windows of 5, batches of 2."""

    sampling: str = "sequential"
    batch_size: int = 32
    num_steps: int = 35
    seed: int = 0
    example: bool = False


class VocabView(View):
    VIEW_ID = "vocab"
    ABOUT = ("How text becomes numbers: tokens, the vocabulary (<unk>, reserved tokens, min_freq), n-gram "
             "frequencies and Zipf's law, and how minibatches cut the text.")
    OPENING = ABOUTS["vocab"][0]  # the part it opens on
    can_focus = True  # the n-gram and minibatch parts have nothing else to focus
    BINDINGS = [
        *[Binding(key, f"part('{part}')", title, id=f"vocab.part-{part}", show=False,
                  tooltip=f"show the {title.lower()} part") for part, key, title in PARTS],
        Binding("o", "choose_source", "Text", id="vocab.source",
                tooltip="choose the text: The Time Machine, the built-in corpus, a file, or a run's data"),
        Binding("w", "toggle_token", "Token", id="vocab.token", tooltip="cut the text into characters or words"),
        Binding("p", "cycle_preprocess", "Preprocess", id="vocab.preprocess", show=False,
                tooltip="preprocessing: d2l (letters only, lowercase), lower, none"),
        Binding("plus,equals_sign", "min_freq(1)", "min_freq", id="vocab.min-freq-up", show=False,
                tooltip="raise min_freq by one (rarer tokens become <unk>)"),
        Binding("minus", "min_freq(-1)", "min_freq", id="vocab.min-freq-down", show=False,
                tooltip="lower min_freq by one"),
        Binding("f", "edit('min_freq')", "min_freq", id="vocab.min-freq", show=False,
                tooltip="type min_freq (up/down step it)"),
        Binding("r", "edit('reserved')", "Reserved", id="vocab.reserved", show=False,
                tooltip="type the reserved tokens, after <unk> (e.g. <pad> <bos> <eos>)"),
        Binding("a", "toggle_part", "Whole/train", id="vocab.counted",
                tooltip="count the whole text or the training part (what a model's vocabulary is built from)"),
        Binding("slash", "edit('find')", "Find", id="vocab.find", tooltip="find a token in the vocabulary"),
        Binding("s", "toggle_sampling", "Sampling", id="vocab.sampling",
                tooltip="minibatches: sequential partitioning or random sampling"),
        Binding("k", "edit('batch')", "Size", id="vocab.batch-size",
                tooltip="type batch size, num_steps and seed (e.g. 32 35 0)"),
        Binding("d", "next_seed", "Seed+1", id="vocab.seed", tooltip="draw the minibatches with the next seed"),
        Binding("e", "toggle_example", "Example", id="vocab.example",
                tooltip="the book's example: the sequence 0..34 in windows of 5, batches of 2"),
        Binding("right,l", "step(1)", "Next", id="vocab.next-batch", tooltip="the next minibatch"),
        Binding("left,h", "step(-1)", "Prev", id="vocab.prev-batch", tooltip="the minibatch before"),
    ]
    PART_ACTIONS = {"edit": None, "toggle_sampling": "batches", "next_seed": "batches", "toggle_example": "batches",
                    "step": "batches"}

    @dataclass
    class Computed(Message):
        request: int
        report: Any  # VocabReport, or None with ``error``
        error: str

    @dataclass
    class Counting(Message):
        request: int
        done: int
        total: int

    @dataclass
    class Planned(Message):
        request: int
        plan: Any  # BatchPlan, or None with ``error``
        error: str

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.part = "vocab"
        self.source = Source.corpus("timemachine")  # the text shown (or asked for first)
        self.settings: Settings | None = None  # the settings of the report shown
        self.wanted: tuple[Source, Settings | None] = (self.source, None)  # the last asked for
        self.report = None  # the VocabReport shown
        self.error = ""  # the last request's failure, one line
        self.requests = 0  # the latest count asked for; older answers are dropped
        self.shown_request = 0  # the request whose report is on screen (benchmarks/vocab_view.py)
        self.counting = False
        self._inspectors: dict[Source, VocabInspector] = {}
        self._drawn: dict[str, Any] = {}  # part -> the key of what it shows
        self.kwic_token: str | None = None
        self.prompt_kind = ""
        # minibatches
        self.batch = BatchSettings()
        self.plan = None
        self.plan_error = ""
        self.batch_index = 0
        self.plan_requests = 0
        self._plan_asked: tuple | None = None

    # -- layout ----------------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Static("", id="vocab-head", markup=False)
        yield Static("", id="vocab-status", markup=False)
        yield LineInput(id="vocab-prompt")
        yield Static("", id="vocab-parts-line", markup=False)
        with ContentSwitcher(initial="part-vocab", id="vocab-parts"):
            with Vertical(id="part-vocab"):
                yield Static(ABOUTS["vocab"][0], classes="part-about", id="about-vocab", markup=False)
                yield Static("", id="vocab-note", markup=False)
                with Horizontal(id="vocab-body"):
                    yield VocabTable(id="vocab-table")
                    yield Static(KWIC_HINT, id="kwic", markup=False)
            with Vertical(id="part-tokenize"):
                yield Static(ABOUTS["tokenize"][0], classes="part-about", id="about-tokenize", markup=False)
                yield LineInput(SAMPLE_LINE, placeholder="type a line to cut into tokens", id="tokenize-input")
                yield Static("", id="tokenize-out", markup=False)
            with Vertical(id="part-ngrams"):
                yield Static(ABOUTS["ngrams"][0], classes="part-about", id="about-ngrams", markup=False)
                yield Static("", id="ngram-list", markup=False)
                yield Static("", id="zipf-fits", markup=False)
                yield ZipfChart(id="zipf-chart")
            with Vertical(id="part-batches"):
                yield Static(ABOUTS["batches"][0], classes="part-about", id="about-batches", markup=False)
                yield Static("", id="batch-line", markup=False)
                yield Static("", id="batch-strip", markup=False)
                yield Static("", id="batch-carry", markup=False)
                with QuietScroll(id="batch-scroll"):
                    yield Static("", id="batch-rows", markup=False)

    def on_mount(self) -> None:
        self.table = self.query_one(VocabTable)
        self.query_one("#vocab-prompt").display = False
        self._parts_line()
        self._head()

    def on_resize(self, event: events.Resize) -> None:
        narrow = event.size.width < NARROW
        if narrow != self.has_class("-narrow"):
            self.set_class(narrow, "-narrow")
            for part, texts in ABOUTS.items():
                self.query_one(f"#about-{part}", Static).update(texts[1 if narrow else 0])
            self._head()
        self._drawn.clear()  # texts are cut to the width
        self.call_after_refresh(self._refresh_part)

    def default_focus(self):
        if self.part == "vocab":
            return self.table
        if self.part == "tokenize":
            return self.query_one("#tokenize-input")
        return self

    def activate(self) -> None:
        super().activate()
        if self.report is None and not self.counting and not self.error:
            self.recompute(self.source, None)  # the first visit counts The Time Machine

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "edit" and parameters and parameters[0] == "find":
            return self.part == "vocab"
        if action == "edit" and parameters and parameters[0] == "batch":
            return self.part == "batches"
        part = self.PART_ACTIONS.get(action)
        if part is not None:
            return self.part == part and (part != "batches" or self.report is not None)  # (plans cut a text counted)
        return True

    # -- asking for a count ----------------------------------------------------------------------------
    def _inspector(self, source: Source) -> VocabInspector:
        inspector = self._inspectors.pop(source, None)
        if inspector is None:
            inspector = VocabInspector(source, self.app.data_dir)
        self._inspectors[source] = inspector  # the most recently used last
        while len(self._inspectors) > MAX_INSPECTORS:
            self._inspectors.pop(next(iter(self._inspectors)))
        return inspector

    def recompute(self, source: Source, settings: Settings | None) -> None:
        """Count ``source`` with ``settings`` (None: the source's own defaults) in a worker; the answer
        replaces what is shown unless a later request came first."""
        self.requests += 1
        self.wanted = (source, settings)
        self.counting = True
        if source != self.source or self.report is None:
            self._status(f"reading {source.name}…")
        self._count(self._inspector(source), settings, self.requests)

    @work(thread=True, exclusive=True, exit_on_error=False, group="vocab-count", description="counting tokens")
    def _count(self, inspector: VocabInspector, settings: Settings | None, request: int) -> None:
        worker = get_current_worker()
        started, last = time.monotonic(), [0.0]

        def progress(done: int, total: int) -> None:
            now = time.monotonic()
            if now - started > PROGRESS_AFTER_S and now - last[0] > 0.1:
                last[0] = now
                self.post_message(self.Counting(request, done, total))

        try:
            report = inspector.compute(settings, top=10, progress=progress, should_stop=lambda: worker.is_cancelled)
        except Cancelled:
            return
        except Exception as error:  # noqa: BLE001 - a bad text or setting is one line in the view
            self.post_message(self.Computed(request, None, describe(error)))
            return
        self.post_message(self.Computed(request, report, ""))

    def on_vocab_view_counting(self, message: Counting) -> None:
        message.stop()
        if message.request == self.requests:
            name = self.wanted[0].name
            self._status(f"counting {name}… {100 * message.done // max(message.total, 1)}%  (the keys still work)")

    def on_vocab_view_computed(self, message: Computed) -> None:
        message.stop()
        if message.request != self.requests:
            return  # a later request is on its way
        self.counting = False
        if message.report is None:
            wanted_source = self.wanted[0]
            self.wanted = (self.source, self.settings)  # back to what is shown
            shown = f"; still showing {self.report.source_label}" if self.report is not None else \
                "; o: choose another text"
            self.error = message.error + (shown if wanted_source != self.source or self.report is None else "")
            self._status(self.error, error=True)
            self._head()
            return
        self.error = ""
        self._status("")
        self._show(message.report, message.request)

    def _show(self, report, request: int) -> None:
        new_source = report.source != self.source or self.report is None
        self.report, self.settings, self.source = report, report.settings, report.source
        self.wanted = (self.source, self.settings)
        self.shown_request = request
        if new_source:
            self.batch = self._batch_defaults()
            self.batch_index = 0
            self.kwic_token = None
        self._head()
        self.refresh_bindings()  # (the minibatch keys wait for a text counted)
        self.table.set_rows(report.rows, report.settings.reserved)
        self._drawn.clear()
        self._refresh_part()

    def _changed(self, **changes: Any) -> None:
        source, settings = self.wanted
        if settings is None:
            settings = self.settings
        if settings is None:
            return  # the first count is on its way: its settings come with it
        try:
            new = settings.replace(**changes)
        except ConfigError as error:
            self._status(str(error), error=True)
            return
        self.recompute(source, new)

    # -- the header ------------------------------------------------------------------------------------
    def _status(self, text: str, error: bool = False) -> None:
        line = self.query_one("#vocab-status", Static)
        line.update(text)
        line.set_class(bool(text), "-shown")
        line.set_class(error, "-error")

    def _head(self) -> None:
        """Which text and part is counted, the controls with their keys, and the figures (item 2): three
        lines (their short forms below 100 columns)."""
        r, s = self.report, self.settings
        narrow = self.has_class("-narrow")
        out = Text()
        if not narrow:
            out.append("text ", style="bold")
        if r is None:
            out.append(f"{self.source.name}: counting…" if not self.error else "none counted")
        else:
            out.append(r.source_label)
            out.append(" · ", style="dim")
            out.append(r.part_label, style="bold")
        if not narrow:  # the key bar shows them below 100 columns
            for key, what in (("o", "text"), ("a", "whole/training part")):
                out.append("  ")
                out.append(f" {key} ", style="bold reverse")
                out.append(f" {what}")
        if s is not None:
            out.append("\n")
            for key, name, value in (("w", "token", s.token), ("p", "preprocess", s.preprocess),
                                     ("-/+", "min_freq", str(s.min_freq)),
                                     ("r", "reserved", " ".join(s.reserved) or "none")):
                out.append(f" {key} ", style="bold reverse")
                out.append(f" {name} ")
                out.append(value, style="bold")
                out.append("  ")
            if r is not None and r.matches_run is not None:
                if narrow:
                    out.append("✓ run's own" if r.matches_run else "≠ run's", style="green" if r.matches_run else "yellow")
                else:
                    out.append("the run's own vocabulary (= its checkpoint's)" if r.matches_run else
                               "not the run's vocabulary (settings changed)",
                               style="green" if r.matches_run else "yellow")
        if r is not None:
            out.append("\n")
            if narrow:
                figures = ((r.num_distinct, " distinct · vocabulary "), (r.vocab_size, " · "),
                           (r.num_folded, " → <unk>"))
            else:
                figures = ((r.num_tokens, f" {r.unit} · "), (r.num_distinct, " distinct · vocabulary "),
                           (r.vocab_size, " · min_freq folds "),
                           (r.num_folded, f" into <unk> ({r.folded_count:,} times)"))
            for value, label in figures:
                out.append(f"{value:,}", style="bold")
                out.append(label)
            if r.heldout_tokens:
                out.append(" · held-out <unk> ")
                out.append(f"{100 * r.unk_rate:.2f}%", style="bold")
            else:
                out.append(" · nothing held out")
        self.query_one("#vocab-head", Static).update(out)

    def _parts_line(self) -> None:
        out = Text()
        for part, key, title in PARTS:
            out.append(f" {key} ", style="bold reverse")
            out.append(f" {title} ", style="bold underline" if part == self.part else "")
            out.append("  ")
        self.query_one("#vocab-parts-line", Static).update(out)

    # -- the parts -------------------------------------------------------------------------------------
    def action_part(self, part: str) -> None:
        if part == self.part:
            return
        self.part = part
        self.query_one("#vocab-parts", ContentSwitcher).current = f"part-{part}"
        self._parts_line()
        self._last_focus = None
        target = self.default_focus()
        if target is not None:
            target.focus(scroll_visible=False)
        self.refresh_bindings()
        self._refresh_part()

    def _refresh_part(self) -> None:
        """Draw what the part on screen shows, if its inputs changed since it was drawn."""
        if self.report is None:
            return
        getattr(self, f"_draw_{self.part}")()

    def _width(self, widget_id: str) -> int:
        width = self.query_one(widget_id).content_region.width
        return width if width > 0 else max(20, self.size.width - 2)

    def _draw_vocab(self) -> None:
        r = self.report
        key = (id(r), self.kwic_token, self._width("#kwic"))
        if self._drawn.get("vocab") == key:
            return
        self._drawn["vocab"] = key
        note = self.query_one("#vocab-note", Static)
        kwic = self.query_one("#kwic", Static)
        found = r.find(self.kwic_token) if self.kwic_token is not None else None
        if found is None or found.match != "exact" or found.row.token != self.kwic_token:
            self.kwic_token = None  # not in this vocabulary (any more)
            note.update(f"{len(r.rows):,} rows · ↑↓ PgUp PgDn move · / find · Enter: a token in context")
            kwic.update(KWIC_HINT)
            self.remove_class("-kwic")
            return
        note.update(f"index {found.row.index:,}: {found.row.display} · ↑↓ and Enter: another token · / find")
        kwic.update(kwic_text(r.contexts(self.kwic_token, limit=5), self._width("#kwic")))
        self.add_class("-kwic")

    def on_vocab_table_chosen(self, message: VocabTable.Chosen) -> None:
        message.stop()
        self.kwic_token = message.row.token
        self._draw_vocab()

    def _draw_tokenize(self) -> None:
        text = self.query_one("#tokenize-input", Input).value
        key = (id(self.report), text, self._width("#tokenize-out"))
        if self._drawn.get("tokenize") == key:
            return
        self._drawn["tokenize"] = key
        self.query_one("#tokenize-out", Static).update(
            tokenized_text(self.report.tokenize(text), self._width("#tokenize-out")))

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "tokenize-input" and self.report is not None:
            event.stop()
            self._draw_tokenize()
        elif event.input.id == "vocab-prompt" and self.prompt_kind == "find":
            event.stop()
            self._find(event.value, final=False)

    def _draw_ngrams(self) -> None:
        r = self.report
        s = r.settings
        height = self.size.height
        top = 10 if height >= 30 else 5 if height >= 24 else 3
        key = (r.source, s.token, s.preprocess, s.part, s.max_tokens, top, self.size.width)
        if self._drawn.get("ngrams") == key:
            return
        self._drawn["ngrams"] = key
        self.query_one("#ngram-list", Static).update(ngram_text(r.ngrams, s.token, top, r.num_ngrams))
        self.query_one("#zipf-fits", Static).update(fits_text(r.zipf, narrow=self.has_class("-narrow")))
        self.query_one(ZipfChart).show_fits(r.zipf, r.unit)

    # -- the controls ----------------------------------------------------------------------------------
    def action_toggle_token(self) -> None:
        s = self.wanted[1] or self.settings
        if s is not None:
            self._changed(token="word" if s.token == "char" else "char")

    def action_cycle_preprocess(self) -> None:
        s = self.wanted[1] or self.settings
        if s is None:
            return
        modes = [m for m in PREPROCESS if m != "nmt"] if s.preprocess != "nmt" else list(PREPROCESS)
        self._changed(preprocess=modes[(modes.index(s.preprocess) + 1) % len(modes)])

    def action_min_freq(self, delta: int) -> None:
        s = self.wanted[1] or self.settings
        if s is not None:
            self._changed(min_freq=max(0, s.min_freq + delta))

    def action_toggle_part(self) -> None:
        s = self.wanted[1] or self.settings
        if s is not None:
            self._changed(part="train" if s.part == "all" else "all")

    def action_choose_source(self) -> None:
        from rnntui.tui.widgets.vocab_source import SourcePicker

        def chosen(source: Source | None) -> None:
            if source is not None:
                self.choose(source)

        self.app.push_screen(SourcePicker(self.app.runs_dir, self.source), chosen)

    def choose(self, source: Source) -> None:
        """Count another text: a run with its own settings; a corpus with the controls as they are."""
        if source.kind == "run":
            self.recompute(source, None)
            return
        s = self.wanted[1] or self.settings or Settings()
        nmt = s.preprocess == "nmt"
        self.recompute(source, Settings(token=s.token, preprocess="d2l" if nmt else s.preprocess,
                                        min_freq=s.min_freq, reserved=() if nmt else s.reserved))

    # -- the prompt line (min_freq, reserved tokens, find, batch sizes) --------------------------------
    PROMPTS = {
        "min_freq": "min_freq: tokens seen fewer times become <unk> (up/down step, Enter applies, Esc cancels)",
        "reserved": "reserved tokens after <unk>, separated by spaces (e.g. <pad> <bos> <eos>); Enter applies",
        "find": "find a token (as shown, ␣ for a space); Enter shows it in context, Esc closes",
        "batch": "batch size, num_steps and seed, e.g. 32 35 0; Enter applies",
    }

    def action_edit(self, kind: str) -> None:
        s = self.wanted[1] or self.settings
        if s is None and kind in ("min_freq", "reserved"):
            return
        value = {"min_freq": lambda: str(s.min_freq), "reserved": lambda: " ".join(s.reserved), "find": lambda: "",
                 "batch": lambda: f"{self.batch.batch_size} {self.batch.num_steps} {self.batch.seed}"}[kind]()
        prompt = self.query_one("#vocab-prompt", LineInput)
        self.prompt_kind = kind
        prompt.placeholder = self.PROMPTS[kind]
        prompt.border_title = self.PROMPTS[kind]
        prompt.value = value
        prompt.display = True
        prompt.focus()

    def _close_prompt(self) -> None:
        prompt = self.query_one("#vocab-prompt", LineInput)
        prompt.display = False
        self.prompt_kind = ""
        self._last_focus = None
        target = self.default_focus()
        if target is not None:
            target.focus(scroll_visible=False)

    def on_line_input_left(self, message: LineInput.Left) -> None:
        message.stop()
        if message.input.id == "vocab-prompt":
            self._close_prompt()
        else:
            self.focus()

    def on_line_input_bumped(self, message: LineInput.Bumped) -> None:
        message.stop()
        if message.input.id == "vocab-prompt" and self.prompt_kind == "min_freq":
            try:
                value = max(0, int(message.input.value or 0) + message.delta)
            except ValueError:
                value = 0
            message.input.value = str(value)
            self._changed(min_freq=value)  # applied as it steps

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "vocab-prompt":
            return
        event.stop()
        kind, value = self.prompt_kind, event.value.strip()
        if kind == "find":
            self._find(value, final=True)
            self._close_prompt()
            return
        if kind == "min_freq":
            if not value.isdigit():
                self._status(f"min_freq must be an integer >= 0; got {value!r}", error=True)
                return
            self._changed(min_freq=int(value))
        elif kind == "reserved":
            self._changed(reserved=tuple(dict.fromkeys(value.split())))
        elif kind == "batch":
            parts = value.split()
            if len(parts) != 3 or not all(p.isdigit() for p in parts) or int(parts[0]) < 1 or int(parts[1]) < 1:
                self._status(f"give three integers: batch size >= 1, num_steps >= 1, seed >= 0; got {value!r}",
                             error=True)
                return
            self.batch = replace(self.batch, batch_size=int(parts[0]), num_steps=int(parts[1]), seed=int(parts[2]),
                                 example=False)
            self.batch_index = 0
            self._refresh_part()
        self._status("")
        self._close_prompt()

    def _find(self, query: str, final: bool) -> None:
        """Move the cursor to the token (as typed, as shown, else the first that starts so); Enter shows it
        in context."""
        if self.report is None or not query:
            return
        found = self.report.find(query)
        note = self.query_one("#vocab-note", Static)
        if found is None:
            note.update(f"find {query!r}: no such token, and no token starts with it")
            return
        row = found.row
        self.table.move_to(row.index)
        what = {"exact": "found", "prefix": "the first token starting with it",
                "folded": "in the text, but min_freq folds it into <unk>"}[found.match]
        message = (f"find {query!r}: {what}: index {row.index:,} ({row.display}), {found.count_in_text:,} in "
                   "the counted text")
        if final and found.match != "folded":
            self.kwic_token = row.token
            self._drawn.pop("vocab", None)
            self._draw_vocab()
        note.update(message)

    # -- minibatches -----------------------------------------------------------------------------------
    def _batch_defaults(self) -> BatchSettings:
        cfg = self._inspector(self.source).run_config if self.source.kind == "run" else None
        if cfg is not None and cfg.task == "lm":
            d = cfg.data
            return BatchSettings(d.sampling, d.batch_size, d.num_steps, cfg.train.seed)
        return replace(BatchSettings(), example=self.batch.example)

    def action_toggle_sampling(self) -> None:
        self.batch = replace(self.batch, sampling="random" if self.batch.sampling == "sequential" else "sequential")
        self.batch_index = 0
        self._draw_batches()

    def action_next_seed(self) -> None:
        self.batch = replace(self.batch, seed=self.batch.seed + 1)
        self.batch_index = 0
        self._draw_batches()

    def action_toggle_example(self) -> None:
        self.batch = replace(self.batch, example=not self.batch.example)
        self.batch_index = 0
        self._draw_batches()

    def action_step(self, delta: int) -> None:
        if self.plan is None or not self.plan.num_batches:
            return
        self.batch_index = max(0, min(self.plan.num_batches - 1, self.batch_index + delta))
        self._draw_plan()

    def _plan_key(self) -> tuple:
        s = self.report.settings
        return (self.batch,) if self.batch.example else (self.report.source, replace(s, part="train"), self.batch)

    def _draw_batches(self) -> None:
        key = self._plan_key()
        if key == self._plan_asked:
            self._draw_plan()  # the same plan (at another width, say)
            return
        self._plan_asked = key
        self.plan_requests += 1
        if self.plan is None:
            self.query_one("#batch-line", Static).update("drawing the minibatches…")
        self._make_plan(self._inspector(self.report.source), self.report.settings, self.batch, self.plan_requests)

    @work(thread=True, exclusive=True, exit_on_error=False, group="vocab-plan", description="drawing minibatches")
    def _make_plan(self, inspector: VocabInspector, settings: Settings, batch: BatchSettings, request: int) -> None:
        from rnntui.inspect.batches import plan_batches, seed_example

        try:
            if batch.example:
                plan = seed_example(batch.sampling, batch.seed)
            else:
                cfg = inspector.run_config
                if cfg is not None and cfg.task != "lm":
                    raise ConfigError(f"this is a {cfg.task} run: minibatch plans are for language models "
                                      "(e: the book's example)")
                report = inspector.compute(settings.replace(part="train"), top=0)
                plan = plan_batches(report.sequence(), batch.batch_size, batch.num_steps, batch.sampling,
                                    batch.seed, 1, report.settings.token, report.label)
                if not plan.num_batches:
                    raise ConfigError(f"the training part ({plan.num_tokens:,} tokens) holds no batch of "
                                      f"{batch.batch_size} x {batch.num_steps}; k: smaller ones")
        except Exception as error:  # noqa: BLE001 - one line in the part
            self.post_message(self.Planned(request, None, describe(error)))
            return
        self.post_message(self.Planned(request, plan, ""))

    def on_vocab_view_planned(self, message: Planned) -> None:
        message.stop()
        if message.request != self.plan_requests:
            return
        self.plan, self.plan_error = message.plan, message.error
        if self.plan is not None:
            self.batch_index = min(self.batch_index, max(0, self.plan.num_batches - 1))
        self._draw_plan()

    def _draw_plan(self) -> None:
        line = self.query_one("#batch-line", Static)
        strip = self.query_one("#batch-strip", Static)
        carry = self.query_one("#batch-carry", Static)
        rows = self.query_one("#batch-rows", Static)
        plan, b = self.plan, self.batch
        if plan is None:
            line.update(Text(self.plan_error or "drawing the minibatches…", style="bold red" if self.plan_error else ""))
            for widget in (strip, carry, rows):
                widget.update("")
            return
        narrow = self.has_class("-narrow")
        how = "sequential partitioning" if plan.sampling == "sequential" else "random sampling"
        head = Text()
        sizes = (f"{plan.batch_size} × {plan.num_steps}, seed {plan.seed}" if narrow else
                 f"batch_size {plan.batch_size} · num_steps {plan.num_steps} · seed {plan.seed}")
        for key, what in (("s", how), ("k", sizes), ("d", "seed+1"),
                          ("e", "example" + (" (on)" if b.example else ""))):
            head.append(f" {key} ", style="bold reverse")
            head.append(f" {what}  ")
        head.append("\n")
        head.append(f"{plan.label}: " if b.example else "training part: ", style="dim")
        head.append(f"{plan.num_tokens:,} tokens → {plan.num_batches:,} batches of {plan.batch_size} × "
                    f"{plan.num_steps}, offset {plan.offset}")
        if not narrow:
            head.append(f", {plan.covered:,} tokens in X windows")
        line.update(head)
        width = self._width("#batch-strip")
        pairs = 3 if self.size.height >= 30 else 1
        limit = min(plan.num_tokens, width * pairs)  # enough tokens to fill the lines (a token takes a cell or more)
        strip.update(strip_text(plan.head(limit), plan.owners(limit), plan.token, width, self.batch_index, pairs))
        current = plan.batch(self.batch_index)
        text = Text()
        text.append(f"batch {self.batch_index} of {plan.num_batches}" + (": " if narrow else " (←/→): "), style="bold")
        if plan.sampling == "sequential":
            text.append("row r of batch i+1 continues row r of batch i", style="bold green")
            text.append(" (state carried)" if narrow else ": the hidden state is carried from batch to batch "
                        "(truncated BPTT)")
        else:
            text.append("row r of batch i+1 does not continue row r of batch i", style="bold red")
            text.append(" (fresh state)" if narrow else ": each batch starts from a fresh state")
        if current.continues is not None and not narrow:
            text.append(f"; here {sum(current.continues)} of {len(current.continues)} rows continue", style="dim")
        carry.update(text)
        rows.update(batch_text(current, self._width("#batch-rows")))
