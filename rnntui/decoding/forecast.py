"""Forecasts of a series, as in d2l's "Working with Sequences": 1-step, multi-step and k-step ahead.

Indices are 0-based positions in ``x`` (``x[i]`` is the book's x_{i+1}). A forecast from *origin* t
knows the true values up to ``x[t]`` and predicts ``x[t+1], x[t+2], ...``, feeding each prediction back
as an input for the next. The context of an origin depends on the model:

* a window model (``SineMLP``) sees the last ``tau`` values ``x[t-tau+1 .. t]``;
* a latent model (``LatentAR``, ``model.stateful``) sees its state after reading ``x[0 .. t]``.

Origins run from ``tau - 1`` (the first full window) on, so both kinds predict the same targets.
The public functions return plain lists and floats (for charts and events), never tensors.

The oracle (``oracle_mse``, ``oracle_iterated_mse``) is the least-squares affine AR(tau) predictor, tau
weights and an intercept, fitted by numpy on the test targets it is scored on: no affine function of the
last tau values does better there, whatever it was trained on.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import torch
from torch import nn

from rnntui.models import evaluating
from rnntui.models.sine import select_states


def _series(model: nn.Module, x) -> torch.Tensor:
    param = next(model.parameters(), None)
    device = param.device if param is not None else torch.device("cpu")
    return torch.as_tensor(x, dtype=torch.float32, device=device).reshape(-1)


def rollout(model: nn.Module, x: torch.Tensor, tau: int, origins: torch.Tensor, steps: int) -> torch.Tensor:
    """(len(origins), steps): for each origin t, the predictions of x[t+1 .. t+steps], each fed back.

    Needs ``tau - 1 <= t < len(x)``. Runs as one batch over the origins (under the caller's grad mode).
    """
    origins = origins.to(x.device)
    if len(origins) == 0 or steps < 1:
        return x.new_zeros(len(origins), max(steps, 0))
    if int(origins.min()) < tau - 1 or int(origins.max()) >= len(x):
        raise ValueError(f"origins must lie in [{tau - 1}, {len(x) - 1}]")
    if getattr(model, "stateful", False):
        preds, states = model.scan(x[: int(origins.max()) + 1])
        return model.rollout(preds[origins], select_states(states, origins), steps)
    window = x[origins.unsqueeze(1) + torch.arange(1 - tau, 1, device=x.device)]  # (n, tau)
    out = []
    for _ in range(steps):
        pred = model.predict_next(window)  # (n, 1)
        out.append(pred)
        window = torch.cat([window[:, 1:], pred], 1)
    return torch.cat(out, 1)


def one_step(model: nn.Module, x, tau: int) -> list[float]:
    """1-step-ahead predictions from the true past: entry j predicts ``x[tau + j]``, j = 0 .. T-tau-1."""
    with evaluating(model):
        x = _series(model, x)
        origins = torch.arange(tau - 1, len(x) - 1)
        return rollout(model, x, tau, origins, 1)[:, 0].tolist()


def multi_step(model: nn.Module, x, tau: int, start: int) -> list[float]:
    """Predictions for ``x[tau .. T-1]`` (entry j is ``x[tau + j]``, aligned with ``one_step``): before
    ``start`` the 1-step predictions; from ``start`` on (the book's n_train + tau = 604) each prediction is
    fed back, so that no true value at or after ``start`` is used."""
    with evaluating(model):
        x = _series(model, x)
        T = len(x)
        if not tau <= start <= T:
            raise ValueError(f"start must be between tau = {tau} and T = {T}; got {start}")
        before = rollout(model, x, tau, torch.arange(tau - 1, start - 1), 1)[:, 0]
        after = rollout(model, x, tau, torch.tensor([start - 1]), T - start)[0]
        return torch.cat([before, after]).tolist()


def k_step_index(num_points: int, tau: int, k: int) -> range:
    """The positions in ``x`` that the k-step-ahead predictions target: tau + k - 1 .. T - 1."""
    return range(tau + k - 1, num_points)


def _k_step_tensors(model: nn.Module, x: torch.Tensor, tau: int, ks: Iterable[int]) -> dict[int, torch.Tensor]:
    ks = sorted(set(ks))
    if not ks or ks[0] < 1:
        raise ValueError(f"ks must be integers >= 1; got {ks}")
    T = len(x)
    origins = torch.arange(tau - 1, T - 1)  # every window whose next value exists
    max_k = min(ks[-1], T - tau)  # no k beyond that has a target
    preds = rollout(model, x, tau, origins, max_k)  # (T - tau, max_k)
    # origin tau-1+i, k steps ahead, targets x[tau+i+k-1]: needs i <= T - tau - k
    return {k: preds[: T - tau - k + 1, k - 1] if k <= max_k else x.new_zeros(0) for k in ks}


def k_step(model: nn.Module, x, tau: int, ks: Iterable[int]) -> dict[int, list[float]]:
    """k-step-ahead predictions for each k: from every window (origin t = tau-1 .. T-2) predict k steps,
    feeding predictions back. ``k_step(...)[k][j]`` predicts ``x[tau + k - 1 + j]`` (the book's plot of
    ``features[:, tau + k - 1]``; see ``k_step_index``); k = 1 is ``one_step``."""
    with evaluating(model):
        x = _series(model, x)
        return {k: v.tolist() for k, v in _k_step_tensors(model, x, tau, ks).items()}


def _mse(preds: torch.Tensor, targets: torch.Tensor) -> float:
    if len(targets) == 0:
        return math.nan
    return torch.mean((preds - targets) ** 2).item()


def k_step_mse(model: nn.Module, x, tau: int, ks: Iterable[int], test_start: int) -> dict[int, float]:
    """MSE of the k-step-ahead predictions against the truth over the test targets ``x[test_start:]``
    (test_start = num_train + tau: values the model never trained to predict), for each k and always for
    k = 1 (the 1-step test MSE, the book's test loss). NaN where a k has no test target."""
    with evaluating(model):
        x = _series(model, x)
        T = len(x)
        preds = _k_step_tensors(model, x, tau, {1, *ks})
        result = {}
        for k, p in preds.items():
            first = tau + k - 1
            skip = max(test_start - first, 0)
            result[k] = _mse(p[skip:], x[first + skip: T])
        return result


def forecast_mse(predictions: list[float], x, first: int, test_start: int) -> float:
    """MSE of a prediction list whose entry j targets ``x[first + j]``, over targets at or after
    ``test_start`` (e.g. the multi-step forecast: ``forecast_mse(multi_step(...), x, tau, start)``)."""
    x = torch.as_tensor(x, dtype=torch.float32).reshape(-1).cpu()
    preds = torch.as_tensor(predictions, dtype=torch.float32)
    skip = max(test_start - first, 0)
    return _mse(preds[skip:], x[first + skip: first + len(preds)])


# --- the least-squares affine AR(tau) oracle ---------------------------------------------------------


def _as_float64(x) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=np.float64).reshape(-1)


def _oracle_pairs(x: np.ndarray, tau: int, k: int, test_start: int) -> tuple[np.ndarray, np.ndarray]:
    """(design (n, tau + 1), targets (n,)): the window ``x[j : j + tau]`` and a 1, against
    ``x[j + tau + k - 1]``, for every target at or after ``test_start`` (the targets of ``k_step_mse``)."""
    first = max(test_start - tau - k + 1, 0)
    last = len(x) - tau - k  # the last window with a k-step target
    if last < first:
        return np.zeros((0, tau + 1)), np.zeros(0)
    j = np.arange(first, last + 1)
    windows = x[j[:, None] + np.arange(tau)]  # (n, tau), oldest value first
    return np.hstack([windows, np.ones((len(j), 1))]), x[j + tau + k - 1]


def affine_ar_fit(x, tau: int, test_start: int, k: int = 1) -> tuple[list[float], float]:
    """The least-squares direct k-step affine predictor on the test targets: (weights, intercept), with
    ``x[t + k] ~ sum_i weights[i] * x[t - tau + 1 + i] + intercept`` (weights oldest value first).
    Raises ValueError when there are no test targets for this k."""
    design, targets = _oracle_pairs(_as_float64(x), tau, k, test_start)
    if len(targets) == 0:
        raise ValueError(f"no test target {k} steps after a full window of {tau} values")
    coef = np.linalg.lstsq(design, targets, rcond=None)[0]  # (tau + 1,)
    return [float(w) for w in coef[:tau]], float(coef[tau])


def oracle_mse(x, tau: int, ks: Iterable[int], test_start: int) -> dict[int, float]:
    """The oracle's test MSE for each k (and always k = 1), over the test targets of ``k_step_mse``.

    For each k the affine predictor is refitted as a direct k-step regression (``affine_ar_fit``: the
    window ``x[t-tau+1 .. t]`` against ``x[t + k]``), so ``oracle_mse[k]`` is the least MSE that any affine
    function of the last tau values reaches on those targets k steps ahead; k = 1 is the 1-step oracle.
    A model can go below it only by being nonlinear in the window or by seeing more than tau values (the
    latent model's state). NaN where a k has no test target (a fit with fewer targets than tau + 1
    parameters is exact: 0)."""
    x = _as_float64(x)
    result = {}
    for k in sorted({1, *ks}):
        design, targets = _oracle_pairs(x, tau, k, test_start)
        if len(targets) == 0:
            result[k] = math.nan
            continue
        coef = np.linalg.lstsq(design, targets, rcond=None)[0]
        result[k] = float(np.mean((design @ coef - targets) ** 2))
    return result


def oracle_iterated_mse(x, tau: int, ks: Iterable[int], test_start: int) -> dict[int, float]:
    """The test MSE for each k (and k = 1) of the 1-step oracle (``affine_ar_fit`` with k = 1) iterated
    k steps, each prediction fed back as the MLP's are: the linear twin of ``k_step_mse``. Not a bound
    for k > 1 (``oracle_mse`` is); equal to it at k = 1. NaN where a k has no test target."""
    x = _as_float64(x)
    ks = sorted({1, *ks})
    weights, intercept = affine_ar_fit(x, tau, test_start, 1)
    w = np.asarray(weights)
    result = {}
    for k in ks:
        design, targets = _oracle_pairs(x, tau, k, test_start)
        if len(targets) == 0:
            result[k] = math.nan
            continue
        window = design[:, :tau]  # (n, tau)
        for _ in range(k):
            pred = window @ w + intercept  # (n,)
            window = np.hstack([window[:, 1:], pred[:, None]])
        result[k] = float(np.mean((pred - targets) ** 2))
    return result
