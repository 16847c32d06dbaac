"""The least-squares affine AR(tau) oracle of the sine task, ``SineTask.forecasts()`` and ``rnntui forecast``."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from conftest import run_cli
from rnntui.config import ExperimentConfig, ModelConfig, SineConfig
from rnntui.data.sine import make_series
from rnntui.decoding.forecast import (
    affine_ar_fit, forecast_mse, k_step_mse, multi_step, oracle_iterated_mse, oracle_mse,
)
from rnntui.models.sine import SineMLP
from rnntui.training.sine_task import SineTask


def book_series(seed: int = 0, **cfg) -> np.ndarray:
    return make_series(SineConfig(**cfg), torch.Generator().manual_seed(seed)).numpy()


def pairs_by_hand(x: np.ndarray, tau: int, k: int, test_start: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows [x[t-tau+1], ..., x[t], 1] against x[t+k], for every target index t+k >= test_start."""
    rows, targets = [], []
    for target in range(len(x)):
        t = target - k  # the origin: the last value the predictor sees
        if target >= test_start and t - tau + 1 >= 0:
            rows.append([*x[t - tau + 1: t + 1], 1.0])
            targets.append(x[target])
    return np.array(rows, dtype=np.float64), np.array(targets, dtype=np.float64)


def affine_mse(x: np.ndarray, tau: int, k: int, test_start: int, weights, intercept: float) -> float:
    """Test MSE of the direct k-step affine predictor (weights oldest value first, intercept)."""
    design, targets = pairs_by_hand(x, tau, k, test_start)
    return float(np.mean((design @ np.array([*weights, intercept]) - targets) ** 2))


class AffineAR(nn.Module):
    """A window model whose next value is an affine function of the window, run by the forecast functions."""

    stateful = False

    def __init__(self, weights, intercept) -> None:
        super().__init__()
        self.linear = nn.Linear(len(weights), 1)
        with torch.no_grad():
            self.linear.weight.copy_(torch.tensor([weights]))
            self.linear.bias.fill_(intercept)

    def predict_next(self, window: torch.Tensor) -> torch.Tensor:
        return self.linear(window)


# --- the oracle against numpy's least squares ------------------------------------------------------


@pytest.mark.parametrize("tau,k", [(4, 1), (4, 3), (2, 16), (6, 64)])
def test_oracle_is_numpys_least_squares_on_the_test_targets(tau: int, k: int) -> None:
    x = book_series(3, num_points=300, num_train=150, tau=tau)
    test_start = 150 + tau
    design, targets = pairs_by_hand(x, tau, k, test_start)
    assert len(targets) == 300 - test_start  # every test target, whatever k
    coef = np.linalg.lstsq(design, targets, rcond=None)[0]
    weights, intercept = affine_ar_fit(x, tau, test_start, k)
    assert weights + [intercept] == pytest.approx(coef.tolist(), rel=1e-9, abs=1e-12)
    normal = np.linalg.solve(design.T @ design, design.T @ targets)  # the normal equations, another route
    assert weights + [intercept] == pytest.approx(normal.tolist(), rel=1e-6, abs=1e-9)
    expected = float(np.mean((design @ coef - targets) ** 2))
    assert oracle_mse(x, tau, [k], test_start)[k] == pytest.approx(expected, rel=1e-12)
    assert type(oracle_mse(torch.as_tensor(x), tau, [k], test_start)[k]) is float  # tensors go in too


def test_oracle_of_an_exact_ar1_process_is_its_known_error() -> None:
    """x_t = a x_{t-1} + c + e_t, e_t ~ N(0, s^2): the best k-step predictor is affine and errs by
    s^2 (1 - a^(2k)) / (1 - a^2); extra lags get no weight."""
    a, c, s, n = 0.8, 0.2, 0.1, 40_000
    rng = np.random.default_rng(0)
    x = np.empty(n)
    x[0] = c / (1 - a)
    for t in range(1, n):
        x[t] = a * x[t - 1] + c + s * rng.standard_normal()
    test_start = n // 2
    for tau in (1, 3):
        direct = oracle_mse(x, tau, [2, 5], test_start)
        iterated = oracle_iterated_mse(x, tau, [2, 5], test_start)
        for k in (1, 2, 5):
            known = s**2 * (1 - a ** (2 * k)) / (1 - a**2)
            assert direct[k] == pytest.approx(known, rel=0.04)
            assert iterated[k] == pytest.approx(known, rel=0.04)
        weights, intercept = affine_ar_fit(x, tau, test_start)
        assert weights == pytest.approx([0.0] * (tau - 1) + [a], abs=0.02)
        assert intercept == pytest.approx(c, abs=0.02)


def test_a_noiseless_sine_is_predicted_exactly() -> None:
    """sin(w t) = 2 cos(w) sin(w (t-1)) - sin(w (t-2)): an exact AR(2), at every horizon."""
    x = np.sin(0.01 * np.arange(1, 1001))
    direct, iterated = oracle_mse(x, 2, [4, 64], 604), oracle_iterated_mse(x, 2, [4, 64], 604)
    assert max(direct.values()) < 1e-20 and max(iterated.values()) < 1e-16
    weights, intercept = affine_ar_fit(x, 2, 604)
    assert weights == pytest.approx([-1.0, 2 * math.cos(0.01)], abs=1e-6) and abs(intercept) < 1e-8
    assert oracle_mse(book_series(0, noise=0.2), 2, [1], 604)[1] > 0.03  # the noise is what it cannot predict


# --- the oracle is the best affine predictor of the window -----------------------------------------


BOOK = book_series(0)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-1.5, 1.5), min_size=4, max_size=4), st.floats(-1, 1), st.sampled_from([1, 4, 16, 64]))
def test_no_affine_predictor_beats_the_oracle(weights, intercept, k) -> None:
    assert affine_mse(BOOK, 4, k, 604, weights, intercept) >= oracle_mse(BOOK, 4, [k], 604)[k] - 1e-12


def test_the_oracle_beats_the_natural_affine_predictors() -> None:
    oracle = oracle_mse(BOOK, 4, [1, 4, 16, 64], 604)
    for k in (1, 4, 16, 64):
        weights, intercept = affine_ar_fit(BOOK, 4, 604, k)
        best = affine_mse(BOOK, 4, k, 604, weights, intercept)
        assert best == pytest.approx(oracle[k], rel=1e-9)
        # least squares on the training pairs (what a linear model learns), the last value, the window's mean
        design, targets = pairs_by_hand(BOOK[:604], 4, k, 4 + k - 1)
        train_fit = np.linalg.lstsq(design, targets, rcond=None)[0]
        others = [(train_fit[:4], train_fit[4]), ([0, 0, 0, 1], 0.0), ([0.25] * 4, 0.0)]
        others += [(np.array(weights) + d, intercept) for d in np.eye(4) * 0.01]  # a step off the optimum
        for w, b in others:
            assert affine_mse(BOOK, 4, k, 604, w, b) > oracle[k]


def test_the_direct_oracle_bounds_the_iterated_one_which_is_the_affine_models_k_step_mse() -> None:
    """Iterating an affine predictor gives an affine function of the window, so the direct fit bounds it;
    run through the forecast functions, the oracle's 1-step fit scores ``oracle_iterated_mse`` on the same
    targets as any model's ``k_step_mse``."""
    ks = [4, 16, 64]
    direct, iterated = oracle_mse(BOOK, 4, ks, 604), oracle_iterated_mse(BOOK, 4, ks, 604)
    assert direct[1] == iterated[1]
    assert all(direct[k] < iterated[k] for k in ks)
    model = AffineAR(*affine_ar_fit(BOOK, 4, 604))
    as_model = k_step_mse(model, torch.as_tensor(BOOK), 4, ks, 604)
    for k in (1, *ks):
        assert as_model[k] == pytest.approx(iterated[k], rel=1e-4)


def test_only_the_test_targets_and_their_windows_count() -> None:
    x, k = BOOK.copy(), 16
    before = oracle_mse(x, 4, [k], 604)[k]
    x[: 604 - 4 - k + 1] += 3.0  # values no window of a k-step test target reads
    assert oracle_mse(x, 4, [k], 604)[k] == pytest.approx(before, rel=1e-12)
    x[800] += 3.0
    assert oracle_mse(x, 4, [k], 604)[k] > before


def test_a_k_without_test_targets_is_nan() -> None:
    x = book_series(0, num_points=100, num_train=80)
    mse = oracle_mse(x, 4, [17, 30], 84)  # targets x[84..99]: a 30-step target needs a window at 84 - 33
    assert not math.isnan(mse[17]) and not math.isnan(mse[30])
    assert math.isnan(oracle_mse(x, 4, [97], 84)[97]) and math.isnan(oracle_iterated_mse(x, 4, [97], 84)[97])
    with pytest.raises(ValueError, match="no test target"):
        affine_ar_fit(x, 4, 84, 97)


# --- forecasts(): what the view draws -------------------------------------------------------------


def sine_task(seed: int = 0, **sine) -> SineTask:
    torch.manual_seed(0)
    config = ExperimentConfig(task="sine", model=ModelConfig(kind="mlp", num_hiddens=10)).replace(
        train={"seed": seed}, sine=sine)
    return SineTask(SineMLP(config.sine.tau, 10), config)


def test_forecasts_carry_the_draw_and_the_oracle() -> None:
    task = sine_task(seed=2, noise=0.3, k_steps=(4, 8))
    out = task.forecasts()
    x = task.data.x.numpy()
    assert out["seed"] == 2 and out["noise"] == 0.3 and out["num_points"] == 1000 and out["k_steps"] == [4, 8]
    assert np.array_equal(x, book_series(2, noise=0.3))
    assert out["oracle_mse"] == oracle_mse(x, 4, [4, 8], 604) and set(out["oracle_mse"]) == {1, 4, 8}
    assert out["oracle_iterated_mse"] == oracle_iterated_mse(x, 4, [4, 8], 604)
    for k in (1, 4, 8):
        assert out["oracle_ratio"][k] == pytest.approx(out["k_step_mse"][k] / out["oracle_mse"][k])
    assert out["multi_step_mse"] == forecast_mse(multi_step(task.model, task.x, 4, 604), task.x, 4, 604)
    noise = x[604:] - np.sin(0.01 * np.arange(605, 1001, dtype=np.float32))
    assert out["noise_mse"] == pytest.approx(float(np.mean(noise.astype(np.float64) ** 2)), rel=1e-5)
    assert SineTask(task.model, task.config, generator_seed=5).forecasts()["seed"] == 5


# --- rnntui forecast -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sine_run(tmp_path_factory):
    d = tmp_path_factory.mktemp("sine")
    result = run_cli(d, "train", "--preset", "sine-mlp", "--epochs", "2", "--seed", "3", "--out", "run", "--quiet")
    assert result.returncode == 0, result.stderr
    return d


def keyed(d: dict) -> dict:
    """JSON's string keys back to the ints of ``forecasts()``."""
    return {int(k): v for k, v in d.items()}


def test_forecast_prints_and_writes_the_oracle(sine_run) -> None:
    result = run_cli(sine_run, "forecast", "--checkpoint", "run/checkpoint.pt", "--json", "f.json")
    assert result.returncode == 0, result.stderr
    out = json.loads((sine_run / "f.json").read_text())
    lines = result.stdout.splitlines()
    assert lines[1].startswith("k-step-ahead test MSE: k=1 ") and lines[2].startswith("multi-step test MSE")
    oracle = keyed(out["oracle_mse"])
    assert set(oracle) == {1, 4, 16, 64}
    expected = ", ".join(f"k={k} {v:.4f}" for k, v in oracle.items())
    assert any(line.startswith("oracle (least-squares affine AR(4)") and line.endswith(expected) for line in lines)
    assert "refitted per k as a direct k-step regression" in result.stdout
    assert f"{keyed(out['oracle_ratio'])[1]:.3f}" in result.stdout and "test noise alone" in result.stdout
    # the JSON's oracle is the least squares of its own series, computed here from scratch
    x = np.array(out["series"])
    for k in oracle:
        design, targets = pairs_by_hand(x, 4, k, out["test_start"])
        coef = np.linalg.lstsq(design, targets, rcond=None)[0]
        assert oracle[k] == pytest.approx(float(np.mean((design @ coef - targets) ** 2)), rel=1e-9)
    assert out["seed"] == 3 and out["noise"] == 0.2 and out["num_train"] == 600 and out["tau"] == 4


def test_forecast_json_to_stdout_is_the_file_and_what_the_view_draws(sine_run) -> None:
    from rnntui.training.checkpoint import load_checkpoint

    result = run_cli(sine_run, "forecast", "--checkpoint", "run/checkpoint.pt", "--json", "-")
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)  # one JSON document, no text around it
    assert run_cli(sine_run, "forecast", "--checkpoint", "run/checkpoint.pt", "--json", "f2.json").returncode == 0
    assert printed == json.loads((sine_run / "f2.json").read_text())
    checkpoint = load_checkpoint(sine_run / "run" / "checkpoint.pt")
    view = SineTask(checkpoint.model, checkpoint.config).forecasts()  # the call the view makes
    for key in ("time", "series", "forecast_time", "one_step", "multi_step"):
        assert view[key] == printed[key]
    for key in ("k_step", "k_step_time", "k_step_mse", "oracle_mse", "oracle_iterated_mse"):
        assert view[key] == keyed(printed[key])
    for key in ("multi_step_mse", "noise_mse", "seed", "noise", "tau", "num_train", "test_start", "k_steps"):
        assert view[key] == printed[key]
