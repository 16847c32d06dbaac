"""Decoding made visible: streamed generation, surprise, the Sampling view's stepper, beam-search traces,
and the CLI twins (``generate --json/--show-steps``, the stdin REPL, ``translate --json/--show-beams``).

Oracles: the model run teacher-forced over the whole text in one pass (for every streamed, stepped and
scored probability), torch.softmax at the temperature, and the existing ``generate`` / ``beam_search``."""

from __future__ import annotations

import json
import math
import select
import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F

from conftest import cli_env, run_cli
from rnntui.config import ModelConfig
from rnntui.data.translation import BOS, EOS, PAD, encode_source
from rnntui.data.vocab import Vocab
from rnntui.decoding.generate import CHUNK, Stepper, continuations, generate, prefix_ids, stream, surprise
from rnntui.decoding.sampling import DecodeConfig, filter_distribution
from rnntui.decoding.translate import beam_search, beam_trace, compare, greedy, normalised_score
from rnntui.errors import ConfigError
from rnntui.models.lm import RNNLM
from rnntui.models.seq2seq import make_seq2seq
from rnntui.training.metrics_bleu import bleu

CHARS = " abcdefghijklmnopqrstuvwxyz"
STRATEGIES = [
    DecodeConfig("greedy"),
    DecodeConfig("temperature", temperature=0.7),
    DecodeConfig("top-k", temperature=1.3, top_k=4),
    DecodeConfig("top-p", temperature=0.9, top_p=0.6),
]


def _lm(kind: str = "lstm", impl: str = "torch", seed: int = 0, token: str = "char"):
    """A random language model with peaked distributions (so that argmax margins are clear)."""
    torch.manual_seed(seed)
    if token == "char":
        vocab = Vocab(list(CHARS))
        config = ModelConfig(kind=kind, impl=impl, num_hiddens=24)
    else:
        vocab = Vocab([f"w{i}" for i in range(3000)])
        config = ModelConfig(kind=kind, impl=impl, num_hiddens=24, embed_size=16)
    model = RNNLM(config, len(vocab))
    with torch.no_grad():
        model.output.weight.mul_(20 if impl == "scratch" else 6)
    return model, vocab


def _teacher_forced_logits(model, ids: list[int]) -> torch.Tensor:
    """(len(ids), vocab): the logits after each token, from one forward pass over the whole sequence."""
    model.eval()
    with torch.no_grad():
        logits, _ = model(torch.tensor([ids]), None)
    return logits[:, 0].double()


def _gen(seed: int = 3) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# ------------------------------------------------------------------------------------------- streaming


@pytest.mark.parametrize("decode", STRATEGIES, ids=lambda d: d.strategy)
@pytest.mark.parametrize("kind,impl", [("lstm", "torch"), ("gru", "scratch")])
def test_streamed_text_equals_generate(decode, kind, impl):
    model, vocab = _lm(kind, impl)
    want = generate(model, vocab, "the time ", 40, "char", decode, _gen())
    steps = list(stream(model, vocab, "the time ", 40, "char", decode, _gen()))
    assert "the time " + "".join(s.text for s in steps) == want.text
    assert [s.token for s in steps] == want.tokens and [s.index for s in steps] == list(range(40))


@pytest.mark.parametrize("decode", STRATEGIES, ids=lambda d: d.strategy)
def test_word_model_streams_as_generate(decode):
    model, vocab = _lm(token="word")
    want = generate(model, vocab, "w1 w2 w3", 15, "word", decode, _gen())
    steps = list(stream(model, vocab, "w1 w2 w3", 15, "word", decode, _gen()))
    assert "w1 w2 w3" + "".join(s.text for s in steps) == want.text
    assert all(len(s.top) == 10 for s in steps)


@pytest.mark.parametrize("decode", STRATEGIES, ids=lambda d: d.strategy)
def test_every_step_is_the_models_distribution(decode):
    model, vocab = _lm()
    prefix = "a tale "
    steps = list(stream(model, vocab, prefix, 25, "char", decode, _gen(), top=len(vocab)))
    ids = vocab[list(prefix)] + [s.token_id for s in steps]
    logits = _teacher_forced_logits(model, ids)[len(prefix) - 1:]  # row i predicts generated token i
    temperature = 1.0 if decode.strategy == "greedy" else decode.temperature
    for s, row in zip(steps, logits):
        want = torch.softmax(row / temperature, 0)
        top = dict(s.top)
        assert sum(p for _, p in s.top) == pytest.approx(1.0, abs=1e-9)  # the whole vocabulary: sums to 1
        assert [p for _, p in s.top] == sorted(top.values(), reverse=True)
        assert [top[t] for t in vocab.idx_to_token] == pytest.approx(want.tolist(), abs=1e-5)
        assert s.prob_t1 == pytest.approx(torch.softmax(row, 0)[s.token_id].item(), abs=1e-5)
        assert s.entropy == pytest.approx(-(want * want.log()).sum().item(), abs=1e-4)
        _, kept, final = filter_distribution(row, decode)
        assert s.kept == kept.numel() and s.prob == pytest.approx(final[s.token_id].item(), abs=1e-5)
        if decode.strategy == "greedy":
            assert s.token == s.top[0][0] and s.kept == 1 and s.prob == 1.0
        if decode.strategy == "top-k":
            assert s.kept == 4


def test_tiny_temperature_is_greedy():
    model, vocab = _lm()
    greedy_text = generate(model, vocab, "the ", 30, "char", DecodeConfig("greedy")).text
    for strategy in ("temperature", "top-k", "top-p"):
        cold = "".join(s.text for s in stream(model, vocab, "the ", 30, "char",
                                              DecodeConfig(strategy, temperature=1e-6), _gen(9)))
        assert "the " + cold == greedy_text


def test_should_stop_ends_the_stream_and_the_prompt_is_checked_at_once():
    model, vocab = _lm()
    made = []
    for s in stream(model, vocab, "the ", 50, should_stop=lambda: len(made) >= 3):
        made.append(s)
    assert len(made) == 3
    assert list(stream(model, vocab, "the ", 50, should_stop=lambda: True)) == []
    with pytest.raises(ConfigError) as info:
        stream(model, vocab, "", 5)  # raised by the call, before any iteration
    assert "empty" in str(info.value) and "\n" not in str(info.value)
    word_model, word_vocab = _lm(token="word")
    with pytest.raises(ConfigError, match="at least one word"):
        stream(word_model, word_vocab, "   ", 5, "word")


def test_a_10000_character_prompt_with_emoji():
    model, vocab = _lm()
    prompt = ("the time machine \U0001F600 " * 600)[:10_000]
    assert len(prompt) > 2 * CHUNK
    steps = list(stream(model, vocab, prompt, 20, "char", DecodeConfig("top-k", top_k=3), _gen()))
    assert prompt + "".join(s.text for s in steps) == generate(
        model, vocab, prompt, 20, "char", DecodeConfig("top-k", top_k=3), _gen()).text
    scored = surprise(model, vocab, prompt)
    assert len(scored) == 10_000
    emoji = [s for s in scored if s.text == "\U0001F600"]
    assert emoji and all(s.unknown and s.token == "<unk>" for s in emoji)
    assert not any(s.unknown for s in scored if s.text != "\U0001F600")
    assert prefix_ids(vocab, prompt, "char", True)[1] == ["\U0001F600"]
    # read in chunks, scored as one pass would score it
    ids = vocab[list(prompt)]
    logp = torch.log_softmax(_teacher_forced_logits(model, ids), -1)
    want = logp[:-1].gather(1, torch.tensor(ids[1:])[:, None])[:, 0].exp().tolist()
    assert scored[0].prob is None and scored[0].surprisal is None
    assert [s.prob for s in scored[1:]] == pytest.approx(want, abs=1e-5)
    assert all(s.surprisal == pytest.approx(-math.log(s.prob)) for s in scored[1:50])


def test_surprise_reports_progress_stops_and_rejects_empty():
    model, vocab = _lm()
    seen = []
    text = "abc " * 400  # 1600 tokens: four chunks
    surprise(model, vocab, text, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(512, 1600), (1024, 1600), (1536, 1600), (1600, 1600)]
    stopped = surprise(model, vocab, text, should_stop=lambda: len(seen) >= 5,
                       progress=lambda done, total: seen.append((done, total)))
    assert len(stopped) == CHUNK + 1  # one chunk read: its tokens and the next one it predicts
    with pytest.raises(ConfigError, match="empty"):
        surprise(model, vocab, "")


# ------------------------------------------------------------------------------------------- stepper


@pytest.mark.parametrize("decode", STRATEGIES, ids=lambda d: d.strategy)
def test_stepper_distribution_rows(decode):
    model, vocab = _lm()
    view = Stepper(model, vocab, "the ").distribution(decode, top=len(vocab))
    rows = view.rows
    assert sum(r.prob for r in rows) == pytest.approx(1.0, abs=1e-9)
    assert rows[-1].cumulative == pytest.approx(1.0, abs=1e-9)
    assert [r.prob for r in rows] == sorted((r.prob for r in rows), reverse=True)
    assert all(math.isclose(r.cumulative, sum(q.prob for q in rows[: i + 1]), abs_tol=1e-12)
               for i, r in enumerate(rows))
    kept = [r for r in rows if r.kept]
    assert len(kept) == view.num_kept and rows[: view.num_kept] == kept  # kept ones are the most probable
    assert sum(r.renormalised for r in kept) == pytest.approx(1.0, abs=1e-9)
    assert all(r.renormalised == 0.0 for r in rows if not r.kept)
    assert all(r.renormalised == pytest.approx(r.prob / sum(q.prob for q in kept)) for r in kept)
    # the top-p nucleus is the smallest set whose mass reaches p
    n = view.top_p_cut
    assert rows[n - 1].cumulative >= decode.top_p - 1e-12
    assert n == 1 or rows[n - 2].cumulative < decode.top_p
    assert view.top_k_cut == decode.top_k
    probs = torch.tensor([r.prob for r in rows], dtype=torch.float64)
    assert view.entropy == pytest.approx(-(probs * probs.log()).sum().item())
    if decode.strategy == "top-p":
        assert view.num_kept == view.top_p_cut
    if decode.strategy == "top-k":
        assert view.num_kept == view.top_k_cut
    if decode.strategy == "greedy":
        assert view.num_kept == 1 and rows[0].renormalised == 1.0


def test_a_temperature_change_refilters_without_running_the_model():
    model, vocab = _lm()
    stepper = Stepper(model, vocab, "the ")
    calls = []
    handle = model.register_forward_hook(lambda *_: calls.append(1))
    try:
        cool = stepper.distribution(DecodeConfig("temperature", temperature=0.5), top=len(vocab))
        hot = stepper.distribution(DecodeConfig("temperature", temperature=2.0), top=len(vocab))
        assert calls == []
        stepper.greedy()
        assert len(calls) == 1
    finally:
        handle.remove()
    assert cool.entropy < hot.entropy
    logits = _teacher_forced_logits(model, vocab[list("the ")])[-1]
    assert {r.token: r.prob for r in hot.rows} == pytest.approx(
        dict(zip(vocab.idx_to_token, torch.softmax(logits / 2.0, 0).tolist())), abs=1e-6)


def test_branching_by_hand_continues_from_the_chosen_token_and_pop_restores():
    model, vocab = _lm()
    stepper = Stepper(model, vocab, "the ")
    full = DecodeConfig("temperature")
    before = stepper.distribution(full, top=len(vocab))
    least_likely = before.rows[-1].token  # a branch the sampler would almost never take
    assert stepper.push(least_likely) == least_likely
    assert stepper.path == [least_likely] and stepper.text == "the " + least_likely
    after = stepper.distribution(full, top=len(vocab))
    logits = _teacher_forced_logits(model, vocab[list("the " + least_likely)])[-1]
    assert {r.token: r.prob for r in after.rows} == pytest.approx(
        dict(zip(vocab.idx_to_token, torch.softmax(logits, 0).tolist())), abs=1e-6)
    stepper.push("q")
    assert stepper.pop() == "q" and stepper.distribution(full, top=len(vocab)) == after  # exactly
    assert stepper.pop() == least_likely and stepper.distribution(full, top=len(vocab)) == before
    assert stepper.pop() is None and stepper.path == []
    with pytest.raises(ConfigError, match="not in the vocabulary"):
        stepper.push("\U0001F600")
    with pytest.raises(ConfigError):
        stepper.push(len(vocab))


def test_stepping_greedy_or_sampled_walks_the_path_generate_takes():
    model, vocab = _lm()
    decode = DecodeConfig("top-p", temperature=1.2, top_p=0.8)
    stepper, gen = Stepper(model, vocab, "the "), _gen(5)
    for _ in range(20):
        stepper.sample(decode, gen)
    assert stepper.text == generate(model, vocab, "the ", 20, "char", decode, _gen(5)).text
    greedy_stepper = Stepper(model, vocab, "the ")
    for _ in range(10):
        top = greedy_stepper.distribution(DecodeConfig("greedy")).rows[0].token
        assert greedy_stepper.greedy() == top
    assert greedy_stepper.text == generate(model, vocab, "the ", 10).text


@pytest.mark.parametrize("impl", ["torch", "scratch"])
def test_continuations_at_temperatures_are_seeded_generations(impl):
    model, vocab = _lm(impl=impl)
    decode = DecodeConfig("top-k", top_k=6)
    out = continuations(model, vocab, "the ", 25, (0.5, 1.0, 1.5), decode=decode, seed=11)
    assert [c.temperature for c in out] == [0.5, 1.0, 1.5]
    for c in out:
        want = generate(model, vocab, "the ", 25, "char", DecodeConfig("top-k", c.temperature, 6), _gen(11))
        assert c.text == want.continuation and c.tokens == want.tokens
    assert continuations(model, vocab, "the ", 25, (0.5, 1.0), decode=decode, seed=11) == out[:2]
    with pytest.raises(ConfigError, match="temperature"):
        continuations(model, vocab, "the ", 5, (0.0,))


# ------------------------------------------------------------------------------------------- beams


def _s2s(seed: int, kind: str = "gru"):
    torch.manual_seed(seed)
    vocab = Vocab([[f"w{i}" for i in range(9)] * 2], min_freq=1, reserved_tokens=[PAD, BOS, EOS])
    model = make_seq2seq(kind, len(vocab), len(vocab), 8, 16, 2, dropout=0.1)
    with torch.no_grad():  # make <eos> likely enough that some hypotheses end early
        model.decoder.dense.bias[vocab[EOS]] += 1.5
    return model, vocab


def _log_p(model, vocab, ids, valid, tokens: list[str]) -> float:
    """log P of target tokens, teacher-forced."""
    out = vocab[tokens]
    model.eval()
    with torch.no_grad():
        logits = model(torch.tensor([ids]), torch.tensor([valid]), torch.tensor([[vocab[BOS]] + out[:-1]]))
    return F.log_softmax(logits[0].double(), -1).gather(1, torch.tensor(out)[:, None]).sum().item()


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("beam_size", [2, 3])
def test_beam_trace_is_the_search_step_by_step(seed, beam_size):
    model, vocab = _s2s(seed, "lstm" if seed % 2 else "gru")
    ids, valid, _ = encode_source("w4 w5 w1", vocab, 6)
    trace = beam_trace(model, ids, valid, vocab, 6, beam_size, alpha=0.75)
    assert trace.hypotheses == beam_search(model, ids, valid, vocab, 6, beam_size, 0.75)
    live = [None]
    for t, step in enumerate(trace.steps):
        assert 1 <= len(step.kept) <= beam_size and len(step.pruned) <= beam_size
        values = [h.log_prob for h in step.kept]
        assert values == sorted(values, reverse=True)
        assert all(p.log_prob <= values[-1] + 1e-6 for p in step.pruned)
        for h in step.kept + step.pruned:
            assert len(h.tokens) == t + 1 and h.finished == (h.tokens[-1] == EOS)
            assert h.parent in live  # it extends a live hypothesis of the previous step
            if h.parent is not None:
                assert h.tokens[:-1] == trace.steps[t - 1].kept[h.parent].tokens
            assert h.log_prob == pytest.approx(_log_p(model, vocab, ids, valid, h.tokens), abs=1e-4)
            assert h.score == pytest.approx(normalised_score(h.log_prob, t + 1, 0.75))
        live = [i for i, h in enumerate(step.kept) if not h.finished]
    s, pos = trace.chosen
    assert trace.steps[s].kept[pos] == trace.final[0]
    assert trace.final[0].score == max(h.score for h in trace.final)


@pytest.mark.parametrize("seed", range(4))
def test_beam_size_one_is_greedy_side_by_side(seed):
    model, vocab = _s2s(seed)
    result = compare(model, "w2 w3 zebra", vocab, vocab, 8, beam_size=1, reference="w1 w2 .")
    tokens, score = greedy(model, *encode_source("w2 w3 zebra", vocab, 8)[:2], vocab, 8)
    assert result.greedy.tokens == tokens == result.beam[0].tokens
    assert result.greedy.score == pytest.approx(score) and result.beam[0].score == pytest.approx(score, abs=1e-5)
    assert all(len(step.kept) == 1 for step in result.trace.steps)
    assert result.unknown == ["zebra"] and result.source_tokens == ["w2", "w3", "zebra"]
    ref = ["w1", "w2", "."]
    assert result.reference == ref
    for h in [result.greedy, *result.beam]:
        assert h.bleu == pytest.approx(bleu(h.tokens, ref, k=2))
        assert h.score == pytest.approx(normalised_score(h.log_prob, h.length, 0.75))
        assert h.length == len(h.tokens) + (1 if h.finished else 0)
    wide = compare(model, "w2 w3", vocab, vocab, 8, beam_size=3)
    assert wide.greedy.bleu is None and [h.score for h in wide.beam] == sorted(
        (h.score for h in wide.beam), reverse=True)
    with pytest.raises(ConfigError, match="empty"):
        compare(model, "  ", vocab, vocab, 8)


# ------------------------------------------------------------------------------------------- the CLI

LM_TOML = """\
name = "tiny-steps"
task = "lm"

[data]
corpus = "pydoc"
max_tokens = 8000
batch_size = 8
num_steps = 10

[model]
kind = "lstm"
num_hiddens = 32

[train]
epochs = 1
device = "cpu"
lr = 1.0

[sample]
num_tokens = 5
"""

PAIRS = "\n".join(
    f"{en}\t{fr}" for en, fr in [("Go.", "Va !"), ("Hi.", "Salut !"), ("Run!", "Cours !"), ("Go.", "Bouge !"),
                                 ("I lost.", "J'ai perdu."), ("Hi.", "Salut."), ("Run!", "Courez !")] * 12
) + "\n"

S2S_TOML = """\
name = "tiny-s2s"
task = "seq2seq"

[pairs]
source = "pairs.tsv"
num_examples = 80
num_steps = 6
batch_size = 16
val_examples = 2

[model]
kind = "gru"
embed_size = 8
num_hiddens = 16
num_layers = 1

[train]
optimizer = "adam"
lr = 0.01
epochs = 3
device = "cpu"

[sample]
sentences = ["go ."]
references = ["va !"]
"""


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    d = tmp_path_factory.mktemp("steps")
    (d / "lm.toml").write_text(LM_TOML, encoding="utf-8")
    (d / "pairs.tsv").write_text(PAIRS, encoding="utf-8")
    (d / "s2s.toml").write_text(S2S_TOML, encoding="utf-8")
    procs = [subprocess.Popen([sys.executable, "-m", "rnntui", "train", "--config", cfg, "--out", out, "--quiet"],
                              cwd=d, env=cli_env(d), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for cfg, out in (("lm.toml", "lm"), ("s2s.toml", "s2s"))]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    return d, str(d / "lm" / "checkpoint.pt"), str(d / "s2s" / "checkpoint.pt")


SAMPLING = ["--strategy", "top-p", "--top-p", "0.8", "--temperature", "0.9", "--seed", "4", "--num-chars", "30"]


@pytest.mark.slow
def test_generate_json_and_show_steps(checkpoints):
    d, lm, _ = checkpoints
    plain = run_cli(d, "generate", "--checkpoint", lm, "--prefix", "the \u20ac", *SAMPLING)
    as_json = run_cli(d, "generate", "--checkpoint", lm, "--prefix", "the \u20ac", *SAMPLING, "--json")
    shown = run_cli(d, "generate", "--checkpoint", lm, "--prefix", "the \u20ac", *SAMPLING, "--show-steps")
    for result in (plain, as_json, shown):
        assert result.returncode == 0, result.stderr
        assert "<unk>" in result.stderr and "Traceback" not in result.stderr
    doc = json.loads(as_json.stdout)
    assert {"prefix", "continuation", "steps"} <= doc.keys()
    assert doc["prefix"] == "the \u20ac" and doc["unknown"] == ["\u20ac"]
    assert doc["prefix"] + doc["continuation"] == plain.stdout.rstrip("\n")  # the same text as plain generate
    assert len(doc["steps"]) == 30 and "".join(s["token"] for s in doc["steps"]) == doc["continuation"]
    for step in doc["steps"]:
        assert {"token", "top", "kept", "entropy"} <= step.keys()
        probs = [p for _, p in step["top"]]
        assert len(step["top"]) == 10 and probs == sorted(probs, reverse=True) and sum(probs) <= 1 + 1e-9
        assert 1 <= step["kept"] and step["entropy"] >= 0
    lines = shown.stdout.splitlines()
    assert lines[0] == plain.stdout.rstrip("\n") and len(lines) == 31
    assert repr(doc["steps"][0]["token"]) in lines[1] and "kept" in lines[1] and "nats" in lines[1]


@pytest.mark.slow
def test_generate_reads_prompts_from_stdin_one_line_each(checkpoints):
    d, lm, _ = checkpoints
    proc = subprocess.Popen([sys.executable, "-m", "rnntui", "generate", "--checkpoint", lm, *SAMPLING],
                            cwd=d, env=cli_env(d), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        proc.stdin.write("the \n")
        proc.stdin.flush()
        ready, _, _ = select.select([proc.stdout], [], [], 120)
        assert ready, "no answer to the first prompt while stdin stays open: the line was not flushed"
        first = proc.stdout.readline()
        proc.stdin.write("\nof a \n")
        proc.stdin.close()
        rest = proc.stdout.read()
        proc.wait(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 0, proc.stderr.read()
    lines = [first.rstrip("\n"), *rest.splitlines()]
    assert len(lines) == 2  # the blank line is skipped
    for prompt, line in zip(("the ", "of a "), lines):
        one = run_cli(d, "generate", "--checkpoint", lm, "--prefix", prompt, *SAMPLING)
        assert prompt + line == one.stdout.rstrip("\n") and len(line) == 30
    empty = run_cli(d, "generate", "--checkpoint", lm)  # stdin is empty
    assert empty.returncode == 2 and len(empty.stderr.strip().splitlines()) == 1
    assert "--prefix" in empty.stderr and "standard input" in empty.stderr


@pytest.mark.slow
def test_translate_json_and_show_beams(checkpoints):
    d, _, s2s = checkpoints
    args = ["translate", "--checkpoint", s2s, "--beam", "2", "go .", "i lost .",
            "--reference", "va !", "--reference", "j'ai perdu ."]
    plain, as_json, shown = (run_cli(d, *args), run_cli(d, *args, "--json"), run_cli(d, *args, "--show-beams"))
    for result in (plain, as_json, shown):
        assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert [r["source"] for r in records] == ["go .", "i lost ."]
    for record, line in zip(records, plain.stdout.splitlines()):
        assert {"source", "translation", "score", "beams"} <= record.keys()
        assert line == f"{record['translation']}\tbleu {record['bleu']:.3f}"
        assert record["hypotheses"][0]["score"] == record["score"]
        for t, step in enumerate(record["beams"]):
            assert 1 <= len(step) <= 2
            for hyp in step:
                assert {"tokens", "score", "finished"} <= hyp.keys() and len(hyp["tokens"]) == t + 1
                assert hyp["finished"] == (hyp["tokens"][-1] == "<eos>")
        s, pos = record["chosen"]
        chosen = record["beams"][s][pos]
        assert [t for t in chosen["tokens"] if t != "<eos>"] == record["tokens"]
        assert chosen["score"] == pytest.approx(record["score"])
    lines = shown.stdout.splitlines()
    assert lines[0] == plain.stdout.splitlines()[0] and lines[1] == "  step 1"
    assert sum(line.lstrip().startswith("*") for line in lines) == 2  # one chosen hypothesis per sentence
    assert plain.stdout.splitlines()[1] in lines
