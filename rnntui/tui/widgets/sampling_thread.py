"""The Sampling view's inference thread: the one thread that holds the ``Stepper`` (it is not thread-safe).

The view puts commands on a queue (read a prefix, take a token, step back, show the distribution again
under new settings, run a beam search); the thread takes every command waiting, applies them in order,
and posts one result for the lot: a key that changes the temperature re-filters the cached logits
(the model does not run), and ten presses queued behind a slow step cost one redraw. When the queue is
empty it draws the strip of continuations, and gives that up as soon as a new command arrives. Results
are plain data (the engine's frozen dataclasses); the model is a copy of the loaded one, made here.
"""

from __future__ import annotations

import copy
import queue
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rnntui.errors import ConfigError, describe

TOP = 20  # rows of the distribution shown
STRIP_TEMPERATURES = (0.5, 1.0, 1.5)
STRIP_TOKENS = {"char": 30, "word": 10}


@dataclass(frozen=True)
class Settings:
    """The decoding strategy and its knobs, as the view's keys set them."""

    strategy: str = "top-p"
    temperature: float = 1.0
    top_k: int = 10
    top_p: float = 0.9
    seed: int = 0

    def decode(self):
        from rnntui.decoding.sampling import DecodeConfig

        return DecodeConfig(self.strategy, self.temperature, self.top_k, self.top_p)

    def strip_decode(self):
        """What the strip samples with: the strategy's filter (plain temperature sampling for greedy)."""
        from rnntui.decoding.sampling import DecodeConfig

        strategy = self.strategy if self.strategy in ("top-k", "top-p") else "temperature"
        return DecodeConfig(strategy, 1.0, self.top_k, self.top_p)

    def strip_label(self) -> str:
        if self.strategy == "top-k":
            return f"top-k {self.top_k}"
        if self.strategy == "top-p":
            return f"top-p {self.top_p:g}"
        return "temperature sampling"


@dataclass(frozen=True)
class LanguageModel:
    """What a ``load`` command reads: the model (copied here), its vocabulary, and the prefix."""

    key: tuple  # (checkpoint path, stamp): the copy is made once per version of the checkpoint
    model: Any
    vocab: Any
    token: str
    lowercase: bool
    prefix: str
    replay: tuple[tuple[str, str], ...] = ()  # (token, how) taken again after the prefix (a reloaded model)


@dataclass(frozen=True)
class Sentence:
    key: tuple
    model: Any
    src_vocab: Any
    tgt_vocab: Any
    num_steps: int
    sentence: str
    beam_size: int
    alpha: float


@dataclass(frozen=True)
class Command:
    kind: str  # load | push | sample | greedy | pop | show | beams
    version: int
    settings: Settings = Settings()
    arg: Any = None  # load: LanguageModel; push: the token's index; beams: Sentence


@dataclass(frozen=True)
class StepShown:
    """The next-token distribution after the prefix and the path."""

    version: int
    state: int  # grows with every change of the text (prefix or path)
    summary: Any  # decoding.sampling.StepSummary
    settings: Settings
    path: list[str]
    how: list[str]  # per path token: sampled, greedy or picked
    token: str  # char or word
    loaded: bool  # the prefix was (re)read for this result
    prefix_tokens: list[str] | None  # the prefix as read, when loaded
    unknown: list[str] = field(default_factory=list)  # prefix tokens not in the vocabulary (read as <unk>)
    note: str = ""
    replay_lost: int = 0  # path tokens a reloaded model could not take again


@dataclass(frozen=True)
class StripShown:
    version: int
    state: int
    settings: Settings
    num_tokens: int
    columns: list[tuple[float, list[str]]]  # (temperature, the continuation's tokens)


@dataclass(frozen=True)
class BeamsShown:
    version: int
    trace: Any  # decoding.translate.BeamTrace
    words: list[str]  # the sentence's words, preprocessed
    num_read: int  # how many the encoder reads
    unknown: list[str]
    beam_size: int
    alpha: float


@dataclass(frozen=True)
class Failed:
    version: int
    kind: str
    message: str


class StepperThread:
    """``put`` from the UI thread; ``run`` in one worker thread until ``cancelled()`` says so."""

    def __init__(self) -> None:
        self.commands: queue.Queue[Command] = queue.Queue()
        self.stepper = None
        self.how: list[str] = []
        self.state = 0
        self.seed: int | None = None
        self.generator = None
        self._copy: tuple[tuple, Any] | None = None  # (key, the model's copy)
        self._strip_done: tuple | None = None
        self._lowercase = True

    def put(self, command: Command) -> None:
        self.commands.put(command)

    def run(self, cancelled: Callable[[], bool], post: Callable[[object], None]) -> None:
        while not cancelled():
            try:
                batch = [self.commands.get(timeout=0.1)]
            except queue.Empty:
                continue
            while True:
                try:
                    batch.append(self.commands.get_nowait())
                except queue.Empty:
                    break
            self.handle(batch, post)
            self.draw_strip(batch[-1], post, lambda: cancelled() or not self.commands.empty())

    # -- commands --------------------------------------------------------------------------------------------
    def _model(self, key: tuple, model):
        """A copy of the loaded model (never the shared one), made once per checkpoint version."""
        if self._copy is None or self._copy[0] != key:
            self._copy = (key, copy.deepcopy(model))
        return self._copy[1]

    def handle(self, batch: list[Command], post: Callable[[object], None]) -> None:
        """Apply ``batch`` in order; post one StepShown for the lot (with the last command's settings),
        a Failed per command that failed, and the last beam search's result."""
        last = None
        loaded = False
        note = ""
        lost = 0
        beams = None
        for command in batch:
            if command.kind == "beams":
                beams = command
                continue
            try:
                if command.settings.seed != self.seed:
                    import torch

                    self.seed = command.settings.seed
                    self.generator = torch.Generator().manual_seed(self.seed)
                if command.kind == "load":
                    lost = self._load(command.arg)
                    loaded = True
                elif command.kind != "show":
                    note = self._step(command) or note
                last = command
            except Exception as error:  # noqa: BLE001 - bad input is one line in the view
                if command.kind == "load":
                    self.stepper, self.how, loaded = None, [], False
                    self.state += 1
                post(Failed(command.version, command.kind, describe(error)))
        if last is not None and self.stepper is not None:
            try:
                summary = self.stepper.distribution(last.settings.decode(), TOP)
                post(StepShown(
                    version=last.version, state=self.state, summary=summary, settings=last.settings,
                    path=self.stepper.path, how=list(self.how), token=self.stepper.token, loaded=loaded,
                    prefix_tokens=self._prefix_tokens() if loaded else None, unknown=list(self.stepper.unknown),
                    note=note, replay_lost=lost))
            except Exception as error:  # noqa: BLE001
                post(Failed(last.version, last.kind, describe(error)))
        if beams is not None:
            self._beams(beams, post)

    def _prefix_tokens(self) -> list[str]:
        from rnntui.data.corpus import tokenize

        s = self.stepper
        return tokenize(s.prefix.lower() if self._lowercase else s.prefix, s.token)

    def _load(self, spec: LanguageModel) -> int:
        """Read the prefix (a fresh Stepper), then take the replayed tokens again; returns how many could not
        be (not in this model's vocabulary)."""
        from rnntui.decoding.generate import Stepper

        model = self._model(spec.key, spec.model)
        self.stepper = None
        self.how = []
        self.state += 1
        stepper = Stepper(model, spec.vocab, spec.prefix, spec.token, spec.lowercase)
        self.stepper, self._lowercase = stepper, spec.lowercase
        for i, (token, how) in enumerate(spec.replay):
            if token not in spec.vocab:
                return len(spec.replay) - i
            stepper.push(token)
            self.how.append(how)
        return 0

    def _step(self, command: Command) -> str:
        """Take a token, or step back; returns a note for the view (empty if none)."""
        if self.stepper is None:
            raise ConfigError("no prefix read yet: press e and type one")
        if command.kind == "pop":
            if self.stepper.pop() is None:
                return "at the prefix: nothing to step back over"
            self.how.pop()
        elif command.kind == "push":
            self.stepper.push(int(command.arg))
            self.how.append("picked")
        elif command.kind == "greedy":
            self.stepper.greedy()
            self.how.append("greedy")
        elif command.kind == "sample":
            self.stepper.sample(command.settings.decode(), self.generator)
            self.how.append("greedy" if command.settings.strategy == "greedy" else "sampled")
        else:
            raise ValueError(f"unknown command {command.kind!r}")
        self.state += 1
        return ""

    def _beams(self, command: Command, post: Callable[[object], None]) -> None:
        from rnntui.data.translation import encode_source, preprocess, tokenize
        from rnntui.decoding.translate import beam_trace

        spec: Sentence = command.arg
        try:
            model = self._model(spec.key, spec.model)
            ids, valid_len, unknown = encode_source(spec.sentence, spec.src_vocab, spec.num_steps)
            words = tokenize(preprocess(spec.sentence))
            trace = beam_trace(model, ids, valid_len, spec.tgt_vocab, spec.num_steps, spec.beam_size, spec.alpha)
            post(BeamsShown(command.version, trace, words, min(len(words), spec.num_steps), unknown,
                            spec.beam_size, spec.alpha))
        except Exception as error:  # noqa: BLE001
            post(Failed(command.version, "beams", describe(error)))

    # -- the strip -------------------------------------------------------------------------------------------
    def draw_strip(self, last: Command, post: Callable[[object], None], interrupted: Callable[[], bool]) -> None:
        """The continuations of the text so far at STRIP_TEMPERATURES, unless they are drawn already for
        this text and these settings; given up (and drawn after the next commands) when ``interrupted()``."""
        stepper = self.stepper
        if stepper is None or last.kind == "beams":
            return
        settings = last.settings
        num_tokens = STRIP_TOKENS.get(stepper.token, 30)
        key = (self.state, settings.strip_decode(), settings.seed, num_tokens)
        if key == self._strip_done:
            return
        try:
            out = stepper.continuations(num_tokens, STRIP_TEMPERATURES, settings.strip_decode(), settings.seed,
                                        should_stop=interrupted)
        except Exception as error:  # noqa: BLE001
            post(Failed(last.version, "strip", describe(error)))
            return
        if len(out) < len(STRIP_TEMPERATURES) or any(len(c.tokens) < num_tokens for c in out):
            return  # cut short by a newer command: the strip is drawn after it instead
        self._strip_done = key
        post(StripShown(last.version, self.state, settings, num_tokens, [(c.temperature, c.tokens) for c in out]))
