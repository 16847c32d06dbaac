"""The trainer and the language-model task, on a tiny LSTM over the built-in corpus (CPU, seconds)."""

from __future__ import annotations

import json
import math
import re

import pytest
import torch
import torch.nn.functional as F

from conftest import tiny_config
from rnntui.config import load_toml
from rnntui.errors import TrainingDiverged
from rnntui.training import lm_task
from rnntui.training.checkpoint import load_checkpoint
from rnntui.training.events import EpochEnded, FitEnded, FitStarted, StepEnded
from rnntui.training.experiment import CHECKPOINT, CONFIG, METRICS, prepare, train
from rnntui.training.metrics import perplexity


class Recorder:
    def __init__(self) -> None:
        self.events = []

    def __call__(self, event) -> None:
        self.events.append(event)

    def of(self, cls):
        return [e for e in self.events if isinstance(e, cls)]


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """One two-epoch run shared by the tests that only read its results."""
    out = tmp_path_factory.mktemp("run")
    rec = Recorder()
    config = tiny_config()
    end, experiment = train(config, out, [rec])
    return config, out, rec, end, experiment


def _read_jsonl(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_train_writes_metrics_config_and_checkpoint(tiny_run):
    config, out, rec, end, experiment = tiny_run
    assert end.status == "finished" and end.epochs_done == 2
    lines = _read_jsonl(out / METRICS)
    kinds = [line["event"] for line in lines]
    assert kinds[0] == "start" and kinds[-1] == "end"
    epochs = [line for line in lines if line["event"] == "epoch"]
    assert [e["epoch"] for e in epochs] == [1, 2]
    for e in epochs:
        for key in ("event", "epoch", "train_ppl", "val_ppl", "tokens_per_s"):
            assert key in e, key
        assert math.isfinite(e["train_ppl"]) and 1 < e["train_ppl"] < len(experiment.corpus.vocab)
        assert math.isfinite(e["val_ppl"]) and e["val_ppl"] > 1
        assert e["tokens_per_s"] > 0
        assert e["train_ppl"] == pytest.approx(math.exp(e["train_loss"]))
    steps = [line for line in lines if line["event"] == "step"]
    assert len(steps) == sum(1 for e in rec.events if isinstance(e, StepEnded))
    assert [s["global_step"] for s in steps] == list(range(1, len(steps) + 1))
    assert lines[-1]["status"] == "finished"
    # it learned something in two epochs
    assert epochs[1]["train_ppl"] < epochs[0]["train_ppl"] < 20

    assert load_toml(out / CONFIG) == config
    ckpt = load_checkpoint(out / CHECKPOINT)
    assert ckpt.config == config
    assert ckpt.vocab.idx_to_token == experiment.corpus.vocab.idx_to_token
    assert ckpt.info["epoch"] == 2 and ckpt.info["status"] == "finished"
    for k, v in experiment.model.state_dict().items():
        assert torch.equal(ckpt.model.state_dict()[k], v.cpu()), k


def _plain(value) -> bool:
    if type(value) in (int, float, str, bool):
        return True
    return type(value) is dict and all(type(k) is str and type(v) is float for k, v in value.items())


def test_events_carry_only_plain_values(tiny_run):
    _, _, rec, _, _ = tiny_run
    assert [type(e) for e in rec.events[:2]] == [FitStarted, StepEnded]
    assert type(rec.events[-1]) is FitEnded
    assert len(rec.of(EpochEnded)) == 2
    for event in rec.events:
        for key, value in vars(event).items():
            assert _plain(value), (type(event).__name__, key, type(value))
        json.dumps(event.to_dict(), allow_nan=True)
    step = rec.of(StepEnded)[0]
    assert type(step.loss) is float and type(step.grad_norm) is float and type(step.clipped) is bool


def test_same_seed_same_metrics_on_cpu(tiny_run, tmp_path):
    config, _, rec, _, experiment = tiny_run
    rec2 = Recorder()
    _, experiment2 = train(config, tmp_path / "again", [rec2])
    assert [e.loss for e in rec2.of(StepEnded)] == [e.loss for e in rec.of(StepEnded)]
    assert [e.grad_norm for e in rec2.of(StepEnded)] == [e.grad_norm for e in rec.of(StepEnded)]
    m1 = [{k: v for k, v in e.metrics.items()} for e in rec.of(EpochEnded)]
    m2 = [{k: v for k, v in e.metrics.items()} for e in rec2.of(EpochEnded)]
    assert m1 == m2
    assert [e.sample for e in rec.of(EpochEnded)] == [e.sample for e in rec2.of(EpochEnded)]
    for k, v in experiment.model.state_dict().items():
        assert torch.equal(experiment2.model.state_dict()[k], v), k


def test_different_seed_different_losses(tiny_run, tmp_path):
    config, _, rec, _, _ = tiny_run
    rec2 = Recorder()
    train(config.replace(train={"seed": 1, "epochs": 1}), tmp_path / "other", [rec2])
    assert [e.loss for e in rec2.of(StepEnded)][:20] != [e.loss for e in rec.of(StepEnded)][:20]


@pytest.mark.parametrize("k", [1, 7])
def test_should_stop_stops_within_one_batch(tmp_path, k):
    rec = Recorder()
    config = tiny_config(data={"max_tokens": 5000})
    end, _ = train(config, tmp_path, [rec], should_stop=lambda: len(rec.of(StepEnded)) >= k)
    assert len(rec.of(StepEnded)) == k
    assert end.status == "stopped" and end.epochs_done == 0
    assert rec.of(EpochEnded) == []
    assert rec.events[-1] is end
    lines = _read_jsonl(tmp_path / METRICS)
    assert lines[-1]["event"] == "end" and lines[-1]["status"] == "stopped"
    assert sum(1 for line in lines if line["event"] == "step") == k
    ckpt = load_checkpoint(tmp_path / CHECKPOINT)
    assert ckpt.info["status"] == "stopped"


def _check_diverged_message(message: str) -> None:
    assert "\n" not in message
    assert re.search(r"epoch \d+, step \d+", message), message
    assert "learning rate" in message and "clipping" in message
    assert "train.lr" in message and "train.clip" in message


def test_huge_learning_rate_diverges(tmp_path):
    rec = Recorder()
    config = tiny_config(data={"max_tokens": 5000}, train={"lr": 1e38, "clip": 0.0, "epochs": 1})
    with pytest.raises(TrainingDiverged) as info:
        train(config, tmp_path, [rec])
    message = str(info.value)
    _check_diverged_message(message)
    assert "1e+38" in message
    end = rec.events[-1]
    assert isinstance(end, FitEnded) and end.status == "failed" and end.message == message
    # it stopped at the step that went bad: no step event for it
    bad_step = int(re.search(r"step (\d+)", message).group(1))
    assert len(rec.of(StepEnded)) == bad_step - 1
    assert _read_jsonl(tmp_path / METRICS)[-1]["status"] == "failed"


def test_nan_loss_diverges_and_keeps_last_good_checkpoint(tmp_path, monkeypatch):
    """A NaN in epoch 2, step 3: TrainingDiverged names that step; epoch 1's checkpoint survives."""
    original = lm_task.LanguageModelTask.training_step
    steps_per_epoch = []

    def poisoned(self, batch):
        loss, n = original(self, batch)
        steps_per_epoch.append(1)
        if len(steps_per_epoch) == poisoned.bad_at:
            loss = loss * float("nan")
        return loss, n

    rec = Recorder()
    config = tiny_config(data={"max_tokens": 5000})
    poisoned.bad_at = 10**9
    monkeypatch.setattr(lm_task.LanguageModelTask, "training_step", poisoned)
    train(config.replace(train={"epochs": 1}), tmp_path / "probe", [rec])
    per_epoch = len(rec.of(StepEnded))  # the first epoch's batch count (it depends on the seeded offset)
    assert per_epoch > 3

    rec = Recorder()
    steps_per_epoch.clear()
    poisoned.bad_at = per_epoch + 3
    with pytest.raises(TrainingDiverged) as info:
        train(config, tmp_path / "run", [rec])
    message = str(info.value)
    _check_diverged_message(message)
    assert "epoch 2, step 3" in message and "nan" in message
    assert len(rec.of(EpochEnded)) == 1
    ckpt = load_checkpoint(tmp_path / "run" / CHECKPOINT)
    assert ckpt.info["epoch"] == 1
    assert all(torch.isfinite(v).all() for v in ckpt.model.state_dict().values())


def _record_incoming_states(model, monkeypatch):
    seen = []
    forward = model.forward

    def spy(X, state=None):
        seen.append(state)
        return forward(X, state)

    monkeypatch.setattr(model, "forward", spy)
    return seen


def test_sequential_sampling_carries_detached_state(monkeypatch):
    experiment = prepare(tiny_config(data={"max_tokens": 5000}))
    task = experiment.task
    seen = _record_incoming_states(task.model, monkeypatch)
    batches = task.epoch_batches(torch.Generator().manual_seed(0))
    assert task.state is None
    loss, n = task.training_step(batches[0])
    assert n == 8 * 10 and loss.requires_grad
    H, C = task.state
    assert H.shape == C.shape == (1, 8, 32)
    task.training_step(batches[1])
    assert seen[0] is None
    H_in, C_in = seen[1]
    assert not H_in.requires_grad and H_in.grad_fn is None and C_in.grad_fn is None
    assert torch.equal(H_in, H.detach()) and torch.equal(C_in, C.detach())
    assert H_in.abs().sum() > 0
    task.epoch_batches(torch.Generator().manual_seed(1))  # a new epoch starts fresh
    assert task.state is None


def test_random_sampling_starts_each_batch_fresh(monkeypatch):
    experiment = prepare(tiny_config(data={"max_tokens": 5000, "sampling": "random"}))
    task = experiment.task
    seen = _record_incoming_states(task.model, monkeypatch)
    batches = task.epoch_batches(torch.Generator().manual_seed(0))
    for batch in batches[:3]:
        task.training_step(batch)
        assert task.state is not None
    assert seen == [None, None, None]


def test_perplexity_of_uniform_logits_is_vocab_size():
    for V in (2, 28, 1000):
        logits = torch.zeros(64, V)
        targets = torch.randint(0, V, (64,))
        loss = F.cross_entropy(logits, targets).item()
        assert abs(perplexity(loss) - V) < 1e-4 * V
    assert perplexity(0.0) == 1.0
    assert perplexity(1e6) == math.inf


def test_uniform_model_has_validation_perplexity_vocab_size():
    experiment = prepare(tiny_config(data={"max_tokens": 5000}))
    model = experiment.model
    with torch.no_grad():
        model.output.weight.zero_()
        model.output.bias.zero_()
    metrics = experiment.task.evaluate()
    V = len(experiment.corpus.vocab)
    assert metrics["val_ppl"] == pytest.approx(V, rel=1e-4)
    assert metrics["val_loss"] == pytest.approx(math.log(V), rel=1e-5)


@pytest.mark.parametrize("clip", [0.05, 1e6, 0.0])
def test_grad_norm_is_pre_clip_and_clipped_flag(monkeypatch, clip):
    experiment = prepare(tiny_config(data={"max_tokens": 5000}, train={"clip": clip}))
    params = [p for p in experiment.model.parameters()]
    pre, post = [], []

    def norm() -> float:
        return math.sqrt(sum(float(p.grad.double().pow(2).sum()) for p in params if p.grad is not None))

    original = torch.nn.utils.clip_grad_norm_

    def spy_clip(parameters, max_norm, *args, **kwargs):
        pre.append(norm())
        return original(parameters, max_norm, *args, **kwargs)

    monkeypatch.setattr(torch.nn.utils, "clip_grad_norm_", spy_clip)
    optimizer = experiment.trainer.optimizer
    step = optimizer.step
    monkeypatch.setattr(optimizer, "step", lambda *a, **k: (post.append(norm()), step(*a, **k))[1])
    rec = Recorder()
    experiment.trainer.callbacks.append(rec)
    experiment.trainer.fit(should_stop=lambda: len(rec.of(StepEnded)) >= 5)

    events = rec.of(StepEnded)
    assert len(events) == len(pre) == len(post) == 5
    for event, before, after in zip(events, pre, post):
        assert event.grad_norm == pytest.approx(before, rel=1e-5)
        if clip == 0.05:
            assert before > clip and event.clipped is True
            assert after == pytest.approx(clip, rel=1e-3)
        else:
            assert event.clipped is False
            assert after == pytest.approx(before, rel=1e-6)


def test_time_machine_from_the_shared_data_directory(data_dir):
    """RNNTUI_DATA_DIR points at the shared copy: the book's corpus loads offline, as the book counts it."""
    from rnntui.config import DataConfig
    from rnntui.data.corpus import load_lm_corpus

    corpus = load_lm_corpus(DataConfig(corpus="timemachine"))
    assert len(corpus.vocab) == 28  # <unk>, space and 26 letters
    assert corpus.vocab.idx_to_token[:4] == ["<unk>", " ", "e", "t"]
    assert abs(len(corpus.tokens) - 173428) <= 1  # d2l: 173,428 (it keeps a trailing space)
    assert len(corpus.val_ids) == int(len(corpus.tokens) * 0.1)
    assert "".join(corpus.tokens[:15]) == "the time machin"
    words = load_lm_corpus(DataConfig(corpus="timemachine", token="word"))
    assert len(words.tokens) == 32775
    assert words.vocab.idx_to_token[1:4] == ["the", "i", "and"]


@pytest.mark.parametrize("every", [3, 0])
def test_gradient_norms_per_parameter_group_are_logged_every_n_steps(tmp_path, every):
    """A "grads" event every N steps: each group's norm before clipping; together they are the step's norm."""
    from rnntui.training.history import load_history

    config = tiny_config(train={"epochs": 1, "grad_norms_every": every, "clip": 0.5})
    train(config, tmp_path)
    history = load_history(tmp_path / METRICS)
    if not every:
        assert history.grad_groups == []
        return
    steps = len(history.step_loss)
    assert [e["global_step"] for e in history.grad_groups] == list(range(every, steps + 1, every))
    for event in history.grad_groups:
        assert set(event["norms"]) == {"layer0.input", "layer0.recurrent", "layer0.bias", "output"}
        total = math.sqrt(sum(v * v for v in event["norms"].values()))
        assert total == pytest.approx(history.grad_norm[event["global_step"] - 1], rel=1e-5)  # before clipping
    assert any(history.clipped[e["global_step"] - 1] for e in history.grad_groups)  # (clipping did happen)


def test_cuda_graphs_setting_reads_words_and_toml_booleans_and_explains_itself_on_the_cpu(tmp_path, caplog):
    """train.cuda_graphs: auto, true or false (TOML's booleans too); on a CPU the run is eager and, when
    graphs were asked for, a line says why they are off."""
    from rnntui.config import load_toml
    from rnntui.errors import ConfigError
    from rnntui.training.graphs import graph_plan

    (tmp_path / "on.toml").write_text("[train]\ncuda_graphs = true\n", encoding="utf-8")
    assert load_toml(tmp_path / "on.toml").train.cuda_graphs == "true"
    with pytest.raises(ConfigError, match="train.cuda_graphs must be one of auto, true, false"):
        tiny_config(train={"cuda_graphs": "sometimes"})
    cpu = torch.device("cpu")
    assert graph_plan("auto", cpu, [1]) == (None, "CUDA graphs off: the run is on the CPU")
    assert graph_plan("true", cpu, [1])[1] == "CUDA graphs off: they need a CUDA device"
    assert graph_plan("false", torch.device("cuda"), [1])[0] is None
    # on a GPU the commonest batch shape is replayed; too many shapes turn "auto" off
    batches = [(torch.zeros(4, 5), torch.zeros(4, 5))] * 9 + [(torch.zeros(2, 5), torch.zeros(2, 5))]
    assert graph_plan("auto", torch.device("cuda"), batches) == (
        ((4, 5), (4, 5)), "CUDA graphs on (1 batch(es) of another shape run eagerly)")
    mixed = [(torch.zeros(i, 5),) for i in range(1, 6)]
    assert graph_plan("auto", torch.device("cuda"), mixed)[0] is None
    assert graph_plan("true", torch.device("cuda"), mixed)[0] == ((1, 5),)

    rec = Recorder()
    end, _ = train(tiny_config(train={"epochs": 1, "cuda_graphs": "true"}), tmp_path / "run", [rec])
    assert end.status == "finished" and "they need a CUDA device" in caplog.text
    assert "CUDA graphs" not in rec.of(FitStarted)[0].description  # (CPU runs read as before)
