"""Tests for rnntui.decoding.sampling: greedy, temperature, top-k and top-p decoding."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rnntui.decoding.sampling import (
    STRATEGIES,
    DecodeConfig,
    StepDistribution,
    choose,
    filter_distribution,
)
from rnntui.errors import ConfigError

logits_lists = st.lists(
    st.floats(min_value=-20.0, max_value=20.0, allow_nan=False, allow_infinity=False),
    min_size=1,
    max_size=50,
)
temperatures = st.floats(min_value=0.05, max_value=5.0)
top_ks = st.integers(min_value=1, max_value=60)
top_ps = st.floats(min_value=1e-6, max_value=1.0)

FAST = settings(max_examples=100, deadline=None)


def _t(values: list[float]) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float32)


def _check_distribution(step: StepDistribution, vocab: int) -> None:
    """Shared invariants of every StepDistribution."""
    assert len(step.probs) == len(step.final) == vocab
    assert all(type(p) is float for p in step.probs + step.final)
    assert all(type(i) is int for i in step.kept) and type(step.token) is int
    assert abs(sum(step.probs) - 1.0) < 1e-9
    assert abs(sum(step.final) - 1.0) < 1e-9
    assert min(step.probs) >= 0.0 and min(step.final) >= 0.0
    kept = set(step.kept)
    assert len(kept) == len(step.kept) >= 1
    assert all(step.final[i] == 0.0 for i in range(vocab) if i not in kept)
    assert all(step.probs[i] > 0.0 for i in kept)
    # kept is in descending probability order
    kept_probs = [step.probs[i] for i in step.kept]
    assert kept_probs == sorted(kept_probs, reverse=True)
    assert step.token in kept


def _sorted_desc(probs: list[float]) -> list[float]:
    return sorted(probs, reverse=True)


# --- invariants over random logits -------------------------------------------------------------


@FAST
@given(
    logits=logits_lists,
    strategy=st.sampled_from(STRATEGIES),
    temperature=temperatures,
    top_k=top_ks,
    top_p=top_ps,
    seed=st.integers(min_value=0, max_value=2**31 - 1),
)
def test_distributions_are_valid(
    logits: list[float], strategy: str, temperature: float, top_k: int, top_p: float, seed: int
) -> None:
    config = DecodeConfig(strategy=strategy, temperature=temperature, top_k=top_k, top_p=top_p)
    step = choose(_t(logits), config, torch.Generator().manual_seed(seed))
    _check_distribution(step, len(logits))
    # final is probs renormalised over kept
    mass = sum(step.probs[i] for i in step.kept)
    for i in step.kept:
        expected = 1.0 if len(step.kept) == 1 else step.probs[i] / mass
        assert math.isclose(step.final[i], expected, rel_tol=1e-9, abs_tol=1e-12)


@FAST
@given(logits=logits_lists, temperature=temperatures, top_k=top_ks)
def test_top_k_keeps_the_k_largest(logits: list[float], temperature: float, top_k: int) -> None:
    config = DecodeConfig(strategy="top-k", temperature=temperature, top_k=top_k)
    probs, kept, final = filter_distribution(_t(logits), config)
    probs_l = probs.tolist()
    nonzero = sum(p > 0 for p in probs_l)
    assert len(kept) == min(top_k, len(logits), nonzero)
    # the kept probabilities are exactly the largest ones
    kept_probs = sorted((probs_l[i] for i in kept.tolist()), reverse=True)
    assert kept_probs == _sorted_desc(probs_l)[: len(kept)]


@FAST
@given(logits=logits_lists, top_k=top_ks)
def test_top_k_count_without_underflow(logits: list[float], top_k: int) -> None:
    # At T=1 with logits in [-20, 20] no probability underflows, so exactly min(k, vocab) are kept.
    _, kept, _ = filter_distribution(_t(logits), DecodeConfig(strategy="top-k", top_k=top_k))
    assert len(kept) == min(top_k, len(logits))


@FAST
@given(
    logits=logits_lists,
    temperature=temperatures,
    top_p=st.floats(min_value=1e-6, max_value=1.0, exclude_max=True),
)
def test_top_p_keeps_smallest_prefix(logits: list[float], temperature: float, top_p: float) -> None:
    # p = 1 is covered by test_top_p_one_keeps_all_nonzero: it keeps even tokens whose probability
    # is too small to change the float64 sum, so "minus its least probable" may still reach 1.0.
    config = DecodeConfig(strategy="top-p", temperature=temperature, top_p=top_p)
    probs, kept, _ = filter_distribution(_t(logits), config)
    probs_l, kept_l = probs.tolist(), kept.tolist()
    kept_probs = [probs_l[i] for i in kept_l]
    assert kept_probs == _sorted_desc(probs_l)[: len(kept_l)]  # a prefix of the sorted distribution
    assert sum(kept_probs) >= top_p - 1e-12
    assert sum(kept_probs[:-1]) < top_p


@FAST
@given(logits=logits_lists, temperature=temperatures)
def test_top_p_one_keeps_all_nonzero(logits: list[float], temperature: float) -> None:
    config = DecodeConfig(strategy="top-p", temperature=temperature, top_p=1.0)
    probs, kept, _ = filter_distribution(_t(logits), config)
    assert set(kept.tolist()) == {i for i, p in enumerate(probs.tolist()) if p > 0}


@FAST
@given(logits=logits_lists, temperature=temperatures)
def test_temperature_keeps_all_nonzero(logits: list[float], temperature: float) -> None:
    config = DecodeConfig(strategy="temperature", temperature=temperature)
    probs, kept, final = filter_distribution(_t(logits), config)
    assert set(kept.tolist()) == {i for i, p in enumerate(probs.tolist()) if p > 0}
    assert torch.allclose(final, probs, rtol=1e-12, atol=1e-15)


@FAST
@given(
    logits=logits_lists,
    seed=st.integers(min_value=0, max_value=2**31 - 1),
    strategy=st.sampled_from(("temperature", "top-k", "top-p")),
)
def test_tiny_temperature_is_greedy(logits: list[float], seed: int, strategy: str) -> None:
    values = sorted(_t(logits).tolist(), reverse=True)
    if len(values) > 1 and values[0] - values[1] <= 1e-2:
        return  # the top logit is not unique by a clear margin
    config = DecodeConfig(strategy=strategy, temperature=1e-4)
    step = choose(_t(logits), config, torch.Generator().manual_seed(seed))
    greedy = choose(_t(logits), DecodeConfig(strategy="greedy"))
    assert step.token == greedy.token == int(torch.argmax(_t(logits)))


@FAST
@given(logits=logits_lists, seed=st.integers(min_value=0, max_value=2**31 - 1))
def test_greedy_is_deterministic_argmax(logits: list[float], seed: int) -> None:
    x = _t(logits)
    config = DecodeConfig(strategy="greedy", temperature=3.0)
    first = choose(x, config, torch.Generator().manual_seed(seed))
    second = choose(x, config)
    assert first == second
    assert first.token == int(torch.argmax(x))  # argmax of the logits, first occurrence on ties
    assert first.kept == [first.token]
    assert first.final[first.token] == 1.0
    # greedy ignores the temperature: probs are softmax at T=1
    expected = torch.softmax(x.double(), dim=0).tolist()
    assert all(math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-15) for a, b in zip(first.probs, expected))


@FAST
@given(logits=logits_lists, temperature=temperatures, seed=st.integers(0, 2**31 - 1))
def test_top_k_one_is_greedy(logits: list[float], temperature: float, seed: int) -> None:
    x = _t(logits)
    config = DecodeConfig(strategy="top-k", top_k=1, temperature=temperature)
    step = choose(x, config, torch.Generator().manual_seed(seed))
    greedy = choose(x, DecodeConfig(strategy="greedy"))
    assert step.token == greedy.token
    assert step.kept == greedy.kept
    assert step.final == greedy.final


# --- sampling ------------------------------------------------------------------------------------

TRUE = [0.5, 0.3, 0.2]
N_SAMPLES = 20_000


def _frequencies(config: DecodeConfig, n: int = N_SAMPLES, seed: int = 1234) -> list[float]:
    logits = torch.tensor(TRUE, dtype=torch.float64).log()
    gen = torch.Generator().manual_seed(seed)
    counts = [0, 0, 0]
    for _ in range(n):
        counts[choose(logits, config, gen).token] += 1
    return [c / n for c in counts]


def test_temperature_sampling_matches_distribution() -> None:
    freqs = _frequencies(DecodeConfig(strategy="temperature", temperature=1.0))
    for got, want in zip(freqs, TRUE):
        assert abs(got - want) < 0.02


def test_top_k_two_never_samples_third() -> None:
    freqs = _frequencies(DecodeConfig(strategy="top-k", top_k=2), n=5_000)
    assert freqs[2] == 0.0
    assert abs(freqs[0] - 0.5 / 0.8) < 0.03
    assert abs(freqs[1] - 0.3 / 0.8) < 0.03


def test_top_p_sampling_stays_in_nucleus() -> None:
    # cumulative 0.5, 0.8, 1.0: p=0.7 keeps the first two
    config = DecodeConfig(strategy="top-p", top_p=0.7)
    probs, kept, final = filter_distribution(torch.tensor(TRUE).log(), config)
    assert kept.tolist() == [0, 1]
    assert _frequencies(config, n=2_000)[2] == 0.0


def test_same_generator_seed_reproduces() -> None:
    logits = torch.tensor(TRUE).log()
    config = DecodeConfig(strategy="temperature")
    runs = []
    for _ in range(2):
        gen = torch.Generator().manual_seed(7)
        runs.append([choose(logits, config, gen).token for _ in range(50)])
    assert runs[0] == runs[1]


# --- edge cases ----------------------------------------------------------------------------------


def test_neg_inf_logits_are_never_kept() -> None:
    logits = torch.tensor([-math.inf, 1.0, -math.inf, 0.0])
    for strategy in STRATEGIES:
        config = DecodeConfig(strategy=strategy, top_k=4, top_p=1.0)
        step = choose(logits, config, torch.Generator().manual_seed(0))
        _check_distribution(step, 4)
        assert step.probs[0] == step.probs[2] == 0.0
        assert set(step.kept) <= {1, 3}
    _, kept, _ = filter_distribution(logits, DecodeConfig(strategy="top-k", top_k=4))
    assert kept.tolist() == [1, 3]


def test_ties_are_broken_by_index() -> None:
    logits = torch.zeros(5)
    _, kept, _ = filter_distribution(logits, DecodeConfig(strategy="top-k", top_k=3))
    assert kept.tolist() == [0, 1, 2]
    _, kept, _ = filter_distribution(logits, DecodeConfig(strategy="top-p", top_p=0.4))
    assert kept.tolist() == [0, 1]  # 0.2 < 0.4 <= 0.4
    assert choose(logits, DecodeConfig()).token == 0


def test_order_follows_logits_when_probabilities_round_equal() -> None:
    # softmax gives [0.5, 0.5] in float64, but token 1 has the larger logit
    logits = torch.tensor([-1e-45, 0.0])
    assert choose(logits, DecodeConfig()).token == 1
    _, kept, _ = filter_distribution(logits, DecodeConfig(strategy="top-k", top_k=2))
    assert kept.tolist() == [1, 0]


def test_pos_inf_logit_takes_all_mass() -> None:
    step = choose(torch.tensor([0.0, math.inf, 3.0]), DecodeConfig(strategy="temperature"))
    assert step.probs == [0.0, 1.0, 0.0]
    assert step.kept == [1] and step.token == 1


def test_extreme_temperature_is_stable() -> None:
    logits = torch.tensor([20.0, -20.0, 19.99])
    step = choose(logits, DecodeConfig(strategy="top-p", temperature=1e-6, top_p=0.5))
    assert step.kept == [0] and step.token == 0
    _check_distribution(step, 3)


@pytest.mark.parametrize("bad", [torch.zeros(0), torch.zeros(2, 3), torch.tensor([0.0, math.nan])])
def test_bad_logits_raise_value_error(bad: torch.Tensor) -> None:
    with pytest.raises(ValueError):
        filter_distribution(bad, DecodeConfig())


def test_all_neg_inf_raises() -> None:
    with pytest.raises(ValueError, match="-inf"):
        choose(torch.full((3,), -math.inf), DecodeConfig())


# --- config validation ---------------------------------------------------------------------------


def test_default_config_is_valid_greedy() -> None:
    config = DecodeConfig()
    assert (config.strategy, config.temperature, config.top_k, config.top_p) == ("greedy", 1.0, 10, 0.9)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"temperature": 0.0}, "temperature must be > 0, got 0.0"),
        ({"temperature": -1.5}, "temperature must be > 0, got -1.5"),
        ({"temperature": math.nan}, "temperature must be > 0, got nan"),
        ({"temperature": math.inf}, "temperature must be finite, got inf"),
        ({"temperature": "hot"}, "temperature must be a number, got 'hot'"),
        ({"strategy": "x"}, "unknown strategy 'x'; choose from greedy, temperature, top-k, top-p"),
        ({"strategy": "top_k"}, "unknown strategy 'top_k'; choose from greedy, temperature, top-k, top-p"),
        ({"top_k": 0}, "top_k must be >= 1, got 0"),
        ({"top_k": -3}, "top_k must be >= 1, got -3"),
        ({"top_k": 2.5}, "top_k must be an integer, got 2.5"),
        ({"top_k": True}, "top_k must be an integer, got True"),
        ({"top_p": 0.0}, "top_p must be in (0, 1], got 0.0"),
        ({"top_p": 1.5}, "top_p must be in (0, 1], got 1.5"),
        ({"top_p": math.nan}, "top_p must be in (0, 1], got nan"),
        ({"top_p": None}, "top_p must be a number, got None"),
    ],
)
def test_invalid_config_raises(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        DecodeConfig(**kwargs)  # type: ignore[arg-type]
    assert str(info.value) == message
    assert "\n" not in str(info.value)


def test_config_is_frozen() -> None:
    config = DecodeConfig(strategy="top-k")
    with pytest.raises(AttributeError):
        config.top_k = 3  # type: ignore[misc]
