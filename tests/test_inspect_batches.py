"""The minibatch plan (rnntui.inspect.batches) and the refactor of rnntui.data.batches behind it.

Training must draw exactly the batches it drew before the start offsets moved into ``batch_starts``: the
pre-refactor iterators are copied below as the oracle. The plan must be what training sees: it is
compared with ``lm_batches`` and with the batches of a prepared experiment (the trainer's generator).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import torch
from conftest import run_cli, tiny_config
from hypothesis import given, settings
from hypothesis import strategies as st

from rnntui.data.batches import (
    batch_starts,
    lm_batches,
    seq_data_iter_random,
    seq_data_iter_sequential,
)
from rnntui.errors import ConfigError
from rnntui.inspect.batches import plan_batches, seed_example, time_machine_example

# --- rnntui/data/batches.py before the refactor (commit dae7451), verbatim but for the names ---------------


def _old_offset(num_steps, generator):
    return int(torch.randint(0, num_steps, (1,), generator=generator))


def old_sequential(corpus, batch_size, num_steps, generator=None, offset=None) -> Iterator:
    if offset is None:
        offset = _old_offset(num_steps, generator)
    num_tokens = ((len(corpus) - offset - 1) // batch_size) * batch_size
    Xs = corpus[offset : offset + num_tokens].view(batch_size, -1)
    Ys = corpus[offset + 1 : offset + 1 + num_tokens].view(batch_size, -1)
    for i in range(0, (Xs.shape[1] // num_steps) * num_steps, num_steps):
        yield Xs[:, i : i + num_steps], Ys[:, i : i + num_steps]


def old_random(corpus, batch_size, num_steps, generator=None) -> Iterator:
    corpus = corpus[_old_offset(num_steps, generator) :]
    num_subseqs = (len(corpus) - 1) // num_steps
    starts = torch.arange(0, num_subseqs * num_steps, num_steps)
    starts = starts[torch.randperm(num_subseqs, generator=generator)]
    steps = torch.arange(num_steps)
    for i in range(0, (num_subseqs // batch_size) * batch_size, batch_size):
        index = starts[i : i + batch_size, None] + steps
        yield corpus[index], corpus[index + 1]


def old_lm_batches(corpus, batch_size, num_steps, sampling, generator=None):
    if sampling == "sequential":
        return old_sequential(corpus, batch_size, num_steps, generator)
    if sampling == "random":
        return old_random(corpus, batch_size, num_steps, generator)
    raise ValueError(f"unknown sampling {sampling!r}")


# ---------------------------------------------------------------------------------------------------------


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _same(a: list, b: list) -> None:
    assert len(a) == len(b)
    for (Xa, Ya), (Xb, Yb) in zip(a, b):
        assert Xa.dtype == Xb.dtype and torch.equal(Xa, Xb) and torch.equal(Ya, Yb)


@settings(max_examples=200, deadline=None)
@given(length=st.integers(1, 500), batch_size=st.integers(1, 9), num_steps=st.integers(1, 13),
       seed=st.integers(0, 2**31 - 1), sampling=st.sampled_from(["sequential", "random"]),
       epochs=st.integers(1, 3))
def test_training_batches_are_bit_identical_to_before_the_refactor(length, batch_size, num_steps, seed, sampling,
                                                                    epochs):
    if sampling == "random" and length < num_steps:
        return  # both raise (randperm of a negative count); not a corpus training accepts
    corpus = torch.randint(0, 50, (length,), generator=_gen(seed + 1))  # token ids that repeat, as text does
    new_gen, old_gen = _gen(seed), _gen(seed)
    for _ in range(epochs):  # the trainer draws every epoch from one generator
        _same(list(lm_batches(corpus, batch_size, num_steps, sampling, new_gen)),
              list(old_lm_batches(corpus, batch_size, num_steps, sampling, old_gen)))
        assert torch.equal(new_gen.get_state(), old_gen.get_state())  # the next epoch starts the same


@pytest.mark.parametrize("seed", [0, 1, 7, 42, 12345])
@pytest.mark.parametrize("sampling", ["sequential", "random"])
def test_the_books_settings_on_a_long_corpus_match_the_old_code(seed, sampling):
    corpus = torch.randint(0, 28, (156_085,), generator=_gen(99))  # The Time Machine's training part, in size
    new_gen, old_gen = _gen(seed), _gen(seed)
    for _ in range(2):
        _same(list(lm_batches(corpus, 32, 35, sampling, new_gen)), list(old_lm_batches(corpus, 32, 35, sampling, old_gen)))
    it_new = seq_data_iter_random(corpus, 4, 9, _gen(seed)) if sampling == "random" else \
        seq_data_iter_sequential(corpus, 4, 9, _gen(seed))
    it_old = old_random(corpus, 4, 9, _gen(seed)) if sampling == "random" else old_sequential(corpus, 4, 9, _gen(seed))
    _same(list(it_new), list(it_old))


@settings(max_examples=100, deadline=None)
@given(length=st.integers(1, 300), batch_size=st.integers(1, 6), num_steps=st.integers(2, 10), offset=st.integers(0, 9))
def test_explicit_offset_as_evaluation_uses_it(length, batch_size, num_steps, offset):
    corpus = torch.arange(length) * 3
    _same(list(seq_data_iter_sequential(corpus, batch_size, num_steps, offset=offset)),
          list(old_sequential(corpus, batch_size, num_steps, offset=offset)))


@settings(max_examples=150, deadline=None)
@given(length=st.integers(2, 400), batch_size=st.integers(1, 8), num_steps=st.integers(1, 12),
       seed=st.integers(0, 2**31 - 1), sampling=st.sampled_from(["sequential", "random"]))
def test_plan_equals_what_lm_batches_yields(length, batch_size, num_steps, seed, sampling):
    if length < num_steps:
        return
    tokens = [f"t{i}" for i in range(length)]  # a token names its position
    plan = plan_batches(tokens, batch_size, num_steps, sampling, seed, token="word")
    batches = list(lm_batches(torch.arange(length), batch_size, num_steps, sampling, _gen(seed)))
    assert plan.num_batches == len(batches)
    for i, (X, Y) in enumerate(batches):
        b = plan.batch(i)
        assert list(b.starts) == X[:, 0].tolist()
        assert list(b.X) == [" ".join(f"t{p}" for p in row) for row in X.tolist()]
        assert list(b.Y) == [" ".join(f"t{p}" for p in row) for row in Y.tolist()]
    assert plan.covered == len(batches) * batch_size * num_steps


@pytest.mark.parametrize("sampling", ["sequential", "random"])
def test_plan_equals_the_trainers_first_epoch(sampling):
    from rnntui.inspect.vocab import Settings, VocabInspector
    from rnntui.training.experiment import prepare

    config = tiny_config(data={"sampling": sampling, "min_freq": 3}, train={"seed": 5})
    experiment = prepare(config)
    batches = experiment.task.epoch_batches(experiment.trainer.generator)  # epoch 1, as Trainer.fit draws it
    d = config.data
    report = VocabInspector(d.corpus).compute(Settings(token=d.token, preprocess=d.preprocess, min_freq=d.min_freq,
                                                       part="train", val_fraction=d.val_fraction,
                                                       max_tokens=d.max_tokens))
    plan = plan_batches(report.sequence(), d.batch_size, d.num_steps, sampling, config.train.seed)
    vocab = experiment.corpus.vocab
    assert plan.num_batches == len(batches) > 10
    for i, (X, Y) in enumerate(batches):
        b = plan.batch(i)
        assert list(b.X) == ["".join(vocab.to_tokens(row)) for row in X.tolist()]
        assert list(b.Y) == ["".join(vocab.to_tokens(row)) for row in Y.tolist()]
    # epoch 2 of the plan is the trainer's second draw from the same generator
    second = experiment.task.epoch_batches(experiment.trainer.generator)
    plan2 = plan_batches(report.sequence(), d.batch_size, d.num_steps, sampling, config.train.seed, epoch=2)
    assert [list(plan2.batch(i).X) for i in range(3)] == [
        ["".join(vocab.to_tokens(row)) for row in X.tolist()] for X, _ in second[:3]]


def test_sequential_rows_continue_and_random_rows_do_not():
    tokens = list("the time machine by h g wells i the time traveller for so it will be convenient to speak")
    seq = plan_batches(tokens, 3, 4, "sequential", seed=2)
    assert seq.num_batches >= 3 and seq.state_carries
    for i in range(1, seq.num_batches):
        prev, cur = seq.batch(i - 1), seq.batch(i)
        assert cur.continues == (True,) * 3
        # the text goes on: the row's next window starts right after the last one ends
        assert all(s == p + 4 for s, p in zip(cur.starts, prev.starts))
    rnd = plan_batches(tokens, 3, 4, "random", seed=2)
    assert not rnd.state_carries
    for i in range(1, rnd.num_batches):
        cur, prev = rnd.batch(i), rnd.batch(i - 1)
        assert cur.continues == tuple(s == p + 4 for s, p in zip(cur.starts, prev.starts))
    assert seq.batch(0).continues is None


@pytest.mark.parametrize("sampling", ["sequential", "random"])
def test_the_seeds_example_in_one_call(sampling):
    # lecture notes and d2l: the sequence 0..34, windows of 5, two rows a batch: three batches x1, x2, x3
    plan = seed_example(sampling, seed=0)
    assert (plan.num_tokens, plan.batch_size, plan.num_steps, plan.num_batches) == (35, 2, 5, 3)
    batches = list(lm_batches(torch.arange(35), 2, 5, sampling, _gen(0)))
    for b, (X, Y) in zip(plan.batches(), batches):
        assert list(b.X) == [" ".join(map(str, row)) for row in X.tolist()]
        assert list(b.Y) == [" ".join(map(str, row)) for row in Y.tolist()]
        for s, x in zip(b.starts, b.X):
            assert x == " ".join(str(p) for p in range(s, s + 5))  # a token is its position
    assert plan.state_carries == (sampling == "sequential")
    assert 0 <= plan.offset < 5
    # every token of the strip lies in at most one window; the ones before the offset in none
    owners = plan.owners(35)
    assert owners[: plan.offset] == (None,) * plan.offset
    for p, owner in enumerate(owners):
        if owner is not None:
            b, r = owner
            assert plan.starts[b][r] <= p < plan.starts[b][r] + 5
    assert sum(o is not None for o in owners) == plan.covered == 30


def test_the_example_on_text_and_on_the_time_machine(data_dir):
    text = "the time machine by h g wells i the"
    plan = seed_example("sequential", 0, text)
    assert all(x == text[s:s + 5] and y == text[s + 1:s + 6] for b in plan.batches() for s, x, y in zip(b.starts, b.X, b.Y))
    assert time_machine_example("sequential", 0, data_dir).batches() == plan.batches()


def test_bad_plan_arguments_are_one_line_config_errors():
    tokens = list("abcdefghij" * 5)
    for kwargs, fragment in [({"sampling": "shuffled"}, "sampling"), ({"batch_size": 0}, "batch_size"),
                             ({"num_steps": -1}, "num_steps"), ({"seed": -3}, "seed"), ({"epoch": 0}, "epoch")]:
        args = {"batch_size": 2, "num_steps": 5, "sampling": "random", **kwargs}
        with pytest.raises(ConfigError, match=fragment):
            plan_batches(tokens, **args)
    with pytest.raises(ConfigError, match="has 4 batches"):
        plan_batches(tokens, 2, 5, "sequential").batch(4)
    with pytest.raises(ValueError):
        batch_starts(10, 2, 3, "shuffled")


# --- the command --------------------------------------------------------------------------------------------


def test_batches_cli_json_is_what_training_draws(tmp_path):
    from rnntui.config import DataConfig
    from rnntui.data.corpus import load_lm_corpus

    result = run_cli(tmp_path, "batches", "--corpus", "pydoc", "--token", "word", "--sampling", "random",
                     "--batch-size", "4", "--num-steps", "7", "--seed", "3", "--max-batches", "3", "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    # the oracle: the training code itself on the same data
    corpus = load_lm_corpus(DataConfig(corpus="pydoc", token="word", batch_size=4, num_steps=7))
    batches = list(lm_batches(corpus.train_ids, 4, 7, "random", _gen(3)))
    assert out["num_batches"] == len(batches) and len(out["batches"]) == 3
    for got, (X, Y) in zip(out["batches"], batches):
        assert got["X"] == [" ".join(corpus.vocab.to_tokens(row)) for row in X.tolist()]
        assert got["Y"] == [" ".join(corpus.vocab.to_tokens(row)) for row in Y.tolist()]
        assert len(got["starts"]) == 4
    assert out["state_carries"] is False and out["sampling"] == "random"


@pytest.mark.slow  # fresh interpreters importing torch
def test_batches_cli_text_example_and_bad_input(tmp_path):
    result = run_cli(tmp_path, "batches", "--example")
    assert result.returncode == 0, result.stderr
    assert "continues row r of batch i: yes" in result.stdout
    assert result.stdout.count("batch ") >= 3 and '"4 5 6 7 8"' in result.stdout  # offset 4 with seed 0
    bad = run_cli(tmp_path, "batches", "--corpus", "pydoc", "--batch-size", "0")
    assert bad.returncode == 2 and "batch_size" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("sampling", ["sequential", "random"])
def test_training_losses_are_those_of_the_old_batches(tmp_path, monkeypatch, sampling):
    from rnntui.training import lm_task
    from rnntui.training.experiment import train

    def losses(out):
        with open(out / "metrics.jsonl", encoding="utf-8") as f:
            events = [json.loads(line) for line in f]
        return [e["loss"] for e in events if e["event"] == "step"], [e["val_loss"] for e in events if e["event"] == "epoch"]

    config = tiny_config(data={"sampling": sampling}, train={"epochs": 2, "seed": 3})
    train(config, tmp_path / "new")
    monkeypatch.setattr(lm_task, "lm_batches", old_lm_batches)
    monkeypatch.setattr(lm_task, "seq_data_iter_sequential", old_sequential)
    train(config, tmp_path / "old")
    new, old = losses(tmp_path / "new"), losses(tmp_path / "old")
    assert len(new[0]) > 50 and new == old  # every step's loss and every held-out loss, exactly
