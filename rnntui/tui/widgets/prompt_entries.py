"""What the Prompt view's transcript shows: one entry per prompt, as Rich renderables.

A generation is the prompt as the model read it (bold; tokens outside the vocabulary as ``<unk>``) and
the continuation as it streams in; with colour on, every token's background says how probable the model
found it (the first prompt token has nothing before it to predict it). A translation is the source as
read, and greedy search beside beam search, each hypothesis with log P, its length-normalised score and
BLEU against the reference when one was given.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rich.console import Group, RenderableType
from rich.style import Style
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from rnntui.decoding.translate import Comparison, Decoded

UNK = "<unk>"
SHOWN_PROMPT = 240  # prompt tokens shown in an entry (a pasted page shows its end: what the model goes on from)
MAX_LISTED = 8  # unknown tokens named in a note

PROMPT = Style(bold=True)
DIM = Style(dim=True)
UNK_MARK = Style(color="#ff87ff", bold=True, underline=True)  # always marked, colour or not
UNK_COLOUR = Style(color="#ffffff", bgcolor="#8700af", bold=True)
ERROR = Style(color="#ffaf00")
# Surprise bins: (lowest probability of the bin, its background, legend label); the likely tokens stay plain.
BINS: tuple[tuple[float, Style | None, str], ...] = (
    (0.5, None, "≥ 0.5"),
    (0.1, Style(color="#ffffff", bgcolor="#5f5f00"), "0.1–0.5"),
    (0.01, Style(color="#ffffff", bgcolor="#af5f00"), "0.01–0.1"),
    (0.0, Style(color="#ffffff", bgcolor="#af0000", bold=True), "< 0.01"),
)


def surprise_style(prob: float | None) -> Style | None:
    """The background of a token the model gave probability ``prob`` (None: nothing predicted it)."""
    if prob is None:
        return None
    for low, style, _ in BINS:
        if prob >= low:
            return style
    return BINS[-1][1]


def legend() -> Text:
    """The colours' key (one line at 80 columns)."""
    text = Text("P(token | before) at T=1: ", style=DIM)
    for _, style, label in BINS:
        text.append(f" {label} ", style or Style(underline=False))
        text.append(" ")
    text.append(f" {UNK} ", UNK_COLOUR)
    return text


def _listed(tokens: list[str]) -> str:
    shown = " ".join(repr(t) for t in tokens[:MAX_LISTED])
    return shown + (f" … and {len(tokens) - MAX_LISTED} more" if len(tokens) > MAX_LISTED else "")


@dataclass
class GenerationEntry:
    """One prompt to a language model and its continuation, as it grows."""

    prompt: str  # as typed
    token: str  # "char" or "word"
    read: list[str]  # the prompt's tokens as the model read them (lowercased when its data were)
    unknown: list[bool]  # per token of ``read``: not in the vocabulary (fed as <unk>)
    unknown_tokens: list[str]  # the distinct ones
    settings: str  # "top-p 0.9, T 0.8, seed 0"
    model: str  # "epoch 50 of 50"
    num_tokens: int  # asked for
    letters_only: bool = False  # the model's text was letters and spaces only (the d2l preprocessing)
    bidirectional: bool = False
    pieces: list[str] = field(default_factory=list)  # what each generated token appends
    probs: list[float] = field(default_factory=list)  # the model's probability of each (T = 1, nothing cut)
    prompt_probs: list[float | None] | None = None  # per prompt token, once scored
    status: str = "generating"  # generating | done | stopped | failed
    elapsed: float = 0.0  # seconds, prompt read and tokens generated
    batches: list[int] = field(default_factory=list)  # tokens that came with each repaint
    error: str = ""

    @property
    def continuation(self) -> str:
        """As ``rnntui generate`` continues the prompt (``prompt + continuation`` is what it prints)."""
        return "".join(self.pieces)

    @property
    def unit(self) -> str:
        return "chars" if self.token == "char" else "words"

    def render(self, colour: bool) -> RenderableType:
        text = Text()
        cut = max(0, len(self.read) - SHOWN_PROMPT)
        if cut:
            text.append("… ", DIM)
        for i in range(cut, len(self.read)):
            if self.token == "word" and i > cut:
                text.append(" ")
            if self.unknown[i]:
                text.append(UNK, UNK_COLOUR if colour else UNK_MARK)
                continue
            style = PROMPT
            if colour and self.prompt_probs is not None and i < len(self.prompt_probs):
                style = style + (surprise_style(self.prompt_probs[i]) or Style())
            text.append(self.read[i], style)
        for piece, prob in zip(self.pieces, self.probs):
            style = surprise_style(prob) if colour else None
            if self.token == "word" and piece.startswith(" "):
                text.append(" ")
                piece = piece[1:]
            text.append(piece, style)
        if self.status == "generating":
            text.append("▌", DIM)
        lines: list[RenderableType] = [text, Text("  " + self.footer(), style=ERROR if self.error else DIM)]
        for note in self.notes():
            lines.append(Text("  " + note, style=UNK_MARK if note.startswith("not in") else DIM))
        return Group(*lines)

    def footer(self) -> str:
        n, unit = len(self.pieces), self.unit
        if self.status == "generating":
            state = f"generating… {n} of {self.num_tokens} {unit}"
        elif self.status == "stopped":
            state = f"stopped after {n} of {self.num_tokens} {unit}"
        elif self.status == "failed":
            state = f"failed: {self.error}"
        else:
            rate = f" ({n / self.elapsed:,.0f} {unit}/s)" if self.elapsed > 0 and n else ""
            state = f"{n} {unit} in {self.elapsed:.2f} s{rate}"
        return f"{state} · {self.settings} · {self.model}"

    def notes(self) -> list[str]:
        notes = []
        if self.unknown_tokens:
            odd = any(not (c.isascii() and (c.isalpha() or c.isspace())) for t in self.unknown_tokens for c in t)
            hint = " (this model read letters and spaces only)" if self.letters_only and odd else ""
            notes.append(f"not in the vocabulary, read as {UNK}: {_listed(self.unknown_tokens)}{hint}")
        if len(self.read) > SHOWN_PROMPT:
            notes.append(f"a prompt of {len(self.read):,} {self.unit}: its last {SHOWN_PROMPT} are shown")
        if self.bidirectional:
            notes.append("a bidirectional model saw the next token while training: it cannot really predict one")
        return notes


@dataclass
class TranslationEntry:
    """One sentence to a seq2seq model: greedy search beside beam search."""

    comparison: Comparison
    model: str  # "epoch 3 of 3"
    elapsed: float  # seconds, both searches

    def render(self, colour: bool = False) -> RenderableType:
        c = self.comparison
        head = Text("› ", DIM)
        for i, word in enumerate(c.source_tokens):
            if i:
                head.append(" ")
            unknown = word in c.unknown
            style = UNK_MARK if unknown else PROMPT
            if i >= c.num_read:
                style = style + DIM
            head.append(UNK if unknown else word, style)
        if c.reference is not None:
            head.append("  => ", DIM)
            head.append(" ".join(c.reference))
        beam_size, alpha = c.trace.beam_size, c.trace.alpha
        table = Table(box=None, expand=True, show_edge=False, pad_edge=False, padding=(0, 2, 0, 0))
        table.add_column("greedy search", ratio=1, header_style="bold")
        table.add_column(f"beam search, beam {beam_size}, α {alpha:g}", ratio=1, header_style="bold")
        beams = c.beam[:max(beam_size, 1)]
        for i in range(max(1, len(beams))):
            table.add_row(self._cell(c.greedy, "  ") if i == 0 else "",
                          self._cell(beams[i], "★ " if i == 0 else "  ") if i < len(beams) else "")
        lines: list[RenderableType] = [head, table]
        if len(c.beam) > len(beams):
            lines.append(Text(f"  (beam search ended with {len(c.beam)} hypotheses: its best {len(beams)} shown)",
                              style=DIM))
        lines.append(Text("  " + self.verdict(), style="italic"))
        footer = f"  {self.elapsed:.2f} s · score = log P / L^α · {self.model}"
        if c.reference is None:
            footer += " · BLEU: add => and a reference (go . => va !)"
        lines.append(Text(footer, style=DIM))
        if c.unknown:
            lines.append(Text(f"  not in the source vocabulary, read as {UNK}: {_listed(c.unknown)}", style=UNK_MARK))
        if c.num_read < len(c.source_tokens):
            lines.append(Text(f"  the encoder reads the first {c.num_read} of {len(c.source_tokens)} words "
                              "(the model's num_steps)", style=DIM))
        return Group(*lines)

    def verdict(self) -> str:
        """What beam search made of it, next to greedy search."""
        c = self.comparison
        if not c.beam:
            return "beam search found nothing"
        best, greedy = c.beam[0], c.greedy
        if best.tokens == greedy.tokens:
            return "beam search chose greedy search's translation"
        if best.score > greedy.score:
            return f"beam search found a translation that scores higher than greedy's ({best.score - greedy.score:+.3f})"
        return f"greedy's translation scores higher than beam search's choice ({greedy.score - best.score:+.3f})"

    def _cell(self, hyp: Decoded, mark: str) -> Text:
        text = Text()
        text.append(mark, "bold")
        text.append(" ".join(hyp.tokens) if hyp.tokens else "(nothing)", "bold" if mark.strip() else "")
        if not hyp.finished:
            text.append(" … (no <eos>)", DIM)
        figures = f"log P {hyp.log_prob:.3f} · score {hyp.score:.3f}"
        if hyp.bleu is not None:
            figures += f" · BLEU {hyp.bleu:.3f}"
        text.append("\n  " + figures, DIM)
        return text
