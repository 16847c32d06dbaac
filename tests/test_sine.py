"""The sine task (d2l, "Working with Sequences"): data, models, forecasts and training with the real Trainer."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest
import torch
from torch import nn

from rnntui.config import ExperimentConfig, ModelConfig, SineConfig
from rnntui.data.sine import load_sine, make_features, make_series, shuffled_batches, time_axis
from rnntui.decoding.forecast import forecast_mse, k_step, k_step_mse, multi_step, one_step
from rnntui.models.sine import LatentAR, SineMLP, build_sine_model
from rnntui.training.events import EpochEnded
from rnntui.training.sine_task import SineTask
from rnntui.training.trainer import Trainer

CPU = torch.device("cpu")


def sine_config(kind: str = "mlp", num_hiddens: int = 10, epochs: int = 5, **train) -> ExperimentConfig:
    """The book's settings: Adam, lr 0.01, 5 epochs, batch 16, T = 1000, tau = 4, 600 training pairs."""
    return ExperimentConfig(task="sine", model=ModelConfig(kind=kind, num_hiddens=num_hiddens)).replace(
        train={"optimizer": "adam", "lr": 0.01, "epochs": epochs, "seed": 0, "clip": 0.0, "device": "cpu", **train}
    )


def fit(config: ExperimentConfig) -> tuple[SineTask, Trainer]:
    torch.manual_seed(config.train.seed)
    task = SineTask(build_sine_model(config), config, CPU, config.train.seed)
    events: list = []
    trainer = Trainer(task, config.train, CPU, [events.append])
    assert trainer.fit().status == "finished"
    trainer.events = events
    return task, trainer


@pytest.fixture(scope="module")
def mlp_fit() -> tuple[SineTask, Trainer]:
    return fit(sine_config())


@pytest.fixture(scope="module")
def gru_fit() -> tuple[SineTask, Trainer]:
    return fit(sine_config("gru", num_hiddens=8, epochs=3, clip=1.0))


# --- data -------------------------------------------------------------------------------------------


def test_series_shape_and_noise_statistics() -> None:
    cfg = SineConfig()
    x = make_series(cfg, torch.Generator().manual_seed(0))
    assert x.shape == (1000,) and x.dtype == torch.float32
    residuals = x - torch.sin(0.01 * torch.arange(1, 1001, dtype=torch.float32))
    assert abs(residuals.mean().item()) < 0.03
    assert residuals.var().item() == pytest.approx(0.04, abs=0.005)  # noise 0.2: variance 0.04
    assert torch.equal(x, make_series(cfg, torch.Generator().manual_seed(0)))
    assert not torch.equal(x, make_series(cfg, torch.Generator().manual_seed(1)))
    clean = make_series(SineConfig(noise=0.0, num_points=50, num_train=30), torch.Generator().manual_seed(0))
    assert torch.allclose(clean, torch.sin(0.01 * time_axis(50)))
    assert time_axis(3).tolist() == [1.0, 2.0, 3.0]


def test_features_and_labels_are_aligned() -> None:
    x = make_series(SineConfig(), torch.Generator().manual_seed(0))
    tau = 4
    features, labels = make_features(x, tau)
    assert features.shape == (996, 4) and labels.shape == (996, 1)
    i = torch.arange(996)
    assert torch.equal(features[:, -1], x[i + tau - 1])
    assert torch.equal(labels[:, 0], x[i + tau])
    assert torch.equal(features[17], x[17:21])
    small_f, small_l = make_features(torch.arange(6.0), 2)
    assert small_f.tolist() == [[0, 1], [1, 2], [2, 3], [3, 4]]
    assert small_l.tolist() == [[2], [3], [4], [5]]
    with pytest.raises(ValueError):
        make_features(x, 1000)


def test_train_test_split_and_minibatches() -> None:
    data = load_sine(SineConfig(), torch.Generator().manual_seed(0))
    (train_f, train_l), (test_f, test_l) = data.train_pairs(), data.test_pairs()
    assert len(train_f) == len(train_l) == 600 and len(test_f) == len(test_l) == 396
    assert data.test_start == 604 and test_l[0, 0] == data.x[604]  # the first test target
    batches = shuffled_batches(train_f, train_l, 16, torch.Generator().manual_seed(0))
    assert len(batches) == 38 and [len(b[0]) for b in batches][-2:] == [16, 8]
    seen = torch.cat([f for f, _ in batches])
    assert sorted(map(tuple, seen.tolist())) == sorted(map(tuple, train_f.tolist()))  # each pair once
    assert not torch.equal(seen, train_f)  # shuffled
    label_of = {tuple(f): l for f, l in zip(train_f.tolist(), train_l.tolist())}
    for f, l in batches:  # pairs stay together
        assert [label_of[tuple(row)] for row in f.tolist()] == l.tolist()
    again = shuffled_batches(train_f, train_l, 16, torch.Generator().manual_seed(0))
    assert all(torch.equal(a[0], b[0]) for a, b in zip(batches, again))


# --- models -----------------------------------------------------------------------------------------


def test_mlp_architecture_and_xavier_init() -> None:
    torch.manual_seed(0)
    model = build_sine_model(sine_config())
    assert isinstance(model, SineMLP)
    first, relu, last = model.net
    assert isinstance(relu, nn.ReLU)
    assert (first.in_features, first.out_features, last.in_features, last.out_features) == (4, 10, 10, 1)
    for layer in (first, last):
        bound = math.sqrt(6 / (layer.in_features + layer.out_features))  # Xavier-uniform
        assert layer.weight.abs().max() <= bound
        assert layer.weight.abs().max() > 0.5 * bound
    assert model.predict_next(torch.zeros(3, 4)).shape == (3, 1)
    assert sum(p.numel() for p in model.parameters()) == 4 * 10 + 10 + 10 + 1


def test_latent_model_shapes_and_builder() -> None:
    torch.manual_seed(0)
    config = ExperimentConfig(task="sine", model=ModelConfig(kind="lstm", num_hiddens=6, num_layers=2))
    model = build_sine_model(config)
    assert isinstance(model, LatentAR) and model.stateful and model.kind == "lstm"
    preds, state = model(torch.randn(3, 7))
    assert preds.shape == (3, 7) and state[0].shape == (2, 3, 6)
    assert model.predict_next(torch.randn(3, 4)).shape == (3, 1)
    scratch = LatentAR("gru", 5, impl="scratch")
    assert scratch(torch.randn(2, 4))[0].shape == (2, 4)


@pytest.mark.parametrize("kind,layers", [("gru", 1), ("lstm", 2), ("rnn", 2)])
def test_latent_forecasts_read_the_whole_history(kind: str, layers: int) -> None:
    """scan + rollout (one batch over all origins) agree with reading each prefix from a zero state."""
    torch.manual_seed(0)
    model = LatentAR(kind, 6, layers).eval()
    x = make_series(SineConfig(num_points=40, num_train=20), torch.Generator().manual_seed(0))
    ks = k_step(model, x, 4, (1, 3))
    assert ks[1] == pytest.approx(one_step(model, x, 4), abs=1e-6)
    with torch.no_grad():
        for j in (0, 9, 30):
            prefix = x[: 4 + j].unsqueeze(0)  # origin 3 + j
            assert ks[1][j] == pytest.approx(model(prefix)[0][0, -1].item(), abs=1e-5)
            preds, state = model(prefix)
            p1 = preds[:, -1:]
            p2, state = model(p1, state)
            p3, _ = model(p2, state)
            assert ks[3][j] == pytest.approx(p3[0, 0].item(), abs=1e-5)


# --- forecasts --------------------------------------------------------------------------------------


def test_k_step_feeds_predictions_back() -> None:
    torch.manual_seed(0)
    model = SineMLP(4, 10)
    x = make_series(SineConfig(), torch.Generator().manual_seed(0))
    ks = k_step(model, x, 4, (1, 2, 64))
    assert [len(ks[k]) for k in (1, 2, 64)] == [996, 995, 933]  # k-step entry j targets x[tau + k - 1 + j]
    assert ks[1] == one_step(model, x, 4)
    assert all(isinstance(v, float) for v in ks[2])
    with torch.no_grad():
        for i in (0, 500, 994):
            p1 = model(x[i: i + 4].unsqueeze(0))
            p2 = model(torch.cat([x[i + 1: i + 4].unsqueeze(0), p1], 1))
            assert ks[2][i] == pytest.approx(p2.item(), abs=1e-6)


def test_k_step_mse_is_over_the_test_targets() -> None:
    torch.manual_seed(0)
    model = SineMLP(4, 10)
    x = make_series(SineConfig(), torch.Generator().manual_seed(0))
    mse = k_step_mse(model, x, 4, (4, 16), 604)
    assert set(mse) == {1, 4, 16}  # the 1-step test MSE always comes with the rest
    preds = torch.tensor(k_step(model, x, 4, (4,))[4])  # entry j targets x[7 + j]
    assert mse[4] == pytest.approx(((preds[604 - 7:] - x[604:]) ** 2).mean().item(), rel=1e-5)
    assert mse[1] == pytest.approx(forecast_mse(one_step(model, x, 4), x, 4, 604), rel=1e-5)


def test_multi_step_feeds_back_after_start(mlp_fit, gru_fit) -> None:
    for task, _ in (mlp_fit, gru_fit):
        x, start = task.x.clone(), task.test_start
        preds = multi_step(task.model, x, 4, start)
        assert len(preds) == 996
        assert preds[: start - 4] == pytest.approx(one_step(task.model, x, 4)[: start - 4], abs=1e-6)
        changed = x.clone()
        changed[start:] += 5.0
        again = multi_step(task.model, changed, 4, start)
        assert again == preds  # no true value at or after start is used
        assert one_step(task.model, changed, 4)[start - 4:] != one_step(task.model, x, 4)[start - 4:]
        # the fed-back forecast drifts far from the series: worse than any k-step forecast's error
        assert forecast_mse(preds, x, 4, start) > task.last_mse[16]


# --- training with the real Trainer -----------------------------------------------------------------


def least_squares_test_mse(task: SineTask) -> float:
    """The best linear AR(tau) model fitted on the training pairs, scored on the test pairs."""
    (f, l), (tf, tl) = task.data.train_pairs(), task.data.test_pairs()
    A = torch.cat([f, torch.ones(len(f), 1)], 1).double()
    w = torch.linalg.lstsq(A, l.double()).solution
    return ((torch.cat([tf, torch.ones(len(tf), 1)], 1).double() @ w - tl.double()) ** 2).mean().item()


def test_mlp_fit_reproduces_the_book(mlp_fit) -> None:
    task, trainer = mlp_fit
    metrics = trainer.history[-1].metrics
    assert set(metrics) == {"train_loss", "train_mse", "test_mse", "mse_k1", "mse_k4", "mse_k16", "mse_k64"}
    assert all(type(v) is float for v in metrics.values())
    assert metrics["test_mse"] == metrics["mse_k1"]
    # The irreducible error is the test noise's variance (0.04 in expectation; this draw has 0.0435);
    # averaging tau = 4 noisy values adds about 0.01 (the book: 0.0517). The fit is within a few
    # percent of the best linear AR(4) model and within 0.02 of the noise floor.
    noise = (task.data.x - torch.sin(0.01 * task.data.time))[task.test_start:]
    assert metrics["test_mse"] <= 1.08 * least_squares_test_mse(task)
    assert 0 < metrics["test_mse"] - noise.var().item() < 0.02
    assert metrics["test_mse"] < 0.062 and metrics["train_mse"] < 0.062
    mse = [metrics[f"mse_k{k}"] for k in (1, 4, 16, 64)]
    assert mse == sorted(mse) and mse[-1] > 3 * mse[0]  # errors compound as predictions are fed back
    assert trainer.history[-1].sample.startswith("k-step test MSE: k=1 0.0")
    assert "MLP (4 -> 10 -> 1)" in task.describe()
    assert len([e for e in trainer.events if isinstance(e, EpochEnded)]) == 5
    assert trainer.events[0].steps_per_epoch == 38


def test_forecasts_are_plain_lists(mlp_fit) -> None:
    task, trainer = mlp_fit
    out = task.forecasts()
    assert out["time"][:2] == [1, 2] and len(out["series"]) == 1000
    assert len(out["one_step"]) == len(out["multi_step"]) == len(out["forecast_time"]) == 996
    assert out["forecast_time"][0] == 5 and out["multi_step_start"] == out["test_start"] == 604
    for k in (1, 4, 16, 64):
        assert len(out["k_step"][k]) == len(out["k_step_time"][k]) == 1000 - 4 - k + 1
        assert out["k_step_time"][k][-1] == 1000
        assert out["k_step_mse"][k] == pytest.approx(trainer.history[-1].metrics[f"mse_k{k}"])

    def plain(value) -> bool:
        if isinstance(value, dict):
            return all(isinstance(k, (int, str)) and plain(v) for k, v in value.items())
        if isinstance(value, list):
            return all(plain(v) for v in value)
        return type(value) in (int, float)

    assert plain(out)


def test_latent_gru_trains_with_the_same_trainer(gru_fit) -> None:
    task, trainer = gru_fit
    assert task.latent and "latent GRU" in task.describe()
    assert task.steps_per_epoch() == trainer.events[0].steps_per_epoch == 36  # 572 windows of 32, batch 16
    windows = task.epoch_batches(torch.Generator().manual_seed(0))
    inputs, targets = torch.cat([b[0] for b in windows]), torch.cat([b[1] for b in windows])
    assert inputs.shape == (572, 32) and torch.equal(inputs[:, 1:], targets[:, :-1])
    # every window of the training part, once: the last one's last target is x[603], the last training target
    assert sorted(map(tuple, inputs.tolist())) == sorted(map(tuple, task.x.unfold(0, 32, 1)[:572].tolist()))
    first = trainer.history[0].metrics
    metrics = trainer.history[-1].metrics
    assert metrics["train_mse"] < first["train_mse"]
    assert metrics["test_mse"] < 0.07
    mse = [metrics[f"mse_k{k}"] for k in (1, 4, 16, 64)]
    assert mse == sorted(mse) and mse[-1] > 3 * mse[0]
    assert task.sample().startswith("k-step test MSE: k=1 ")


def test_engine_does_not_import_ui_libraries() -> None:
    code = (
        "import sys; import rnntui.training.sine_task, rnntui.decoding.forecast; "
        "bad = [m for m in ('textual', 'rich', 'plotext') if m in sys.modules]; "
        "assert not bad, bad"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
