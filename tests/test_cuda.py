"""On a CUDA GPU (skipped where there is none, as in CI): the scratch cells against cuDNN's, a run on the
GPU and its checkpoint read back on a CPU, the training process (the app's) on the GPU, the device list."""

from __future__ import annotations

import pytest
import torch

from conftest import tiny_config
from rnntui.training.checkpoint import load_checkpoint
from rnntui.training.events import EpochEnded, FitStarted
from rnntui.training.experiment import train
from rnntui.training.process import TrainingProcess, child_processes
from rnntui.training.trainer import available_devices, resolve_device
from test_models import CASES, _initial_state, _pair, BATCH, INPUTS, STEPS

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")]


@pytest.fixture(autouse=True)
def full_float32():
    """cuDNN's RNNs may use TF32 on recent GPUs (10 bits of mantissa): compare in full float32."""
    saved = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    yield
    torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = saved


def _to(state, device):
    if state is None:
        return None
    return tuple(s.to(device) for s in state) if isinstance(state, tuple) else state.to(device)


@pytest.mark.parametrize("kind,num_layers,with_state", CASES)
def test_scratch_matches_cudnn_with_copied_weights(kind, num_layers, with_state):
    scratch, twin = _pair(kind, num_layers)
    scratch, twin = scratch.cuda(), twin.cuda()
    X = torch.randn(STEPS, BATCH, INPUTS, generator=torch.Generator().manual_seed(2)).cuda()
    state = _to(_initial_state(kind, num_layers), "cuda") if with_state else None
    X1, X2 = X.clone().requires_grad_(), X.clone().requires_grad_()
    out1, state1 = scratch(X1, state)
    out2, state2 = twin(X2, state)
    # cuDNN sums in its own order: two tanh layers differed by 1.3e-5 on an H200 (1e-5 holds on the CPU)
    torch.testing.assert_close(out1, out2, atol=5e-5, rtol=1e-4)
    for a, b in zip(state1 if isinstance(state1, tuple) else (state1,), state2 if isinstance(state2, tuple) else (state2,)):
        torch.testing.assert_close(a, b, atol=5e-5, rtol=1e-4)
    (out1.square().sum()).backward()
    (out2.square().sum()).backward()
    torch.testing.assert_close(X1.grad, X2.grad, atol=1e-4, rtol=1e-4)
    assert out1.device.type == "cuda"


@pytest.mark.parametrize("impl", ["torch", "scratch"])
def test_a_run_on_the_gpu_and_its_checkpoint_on_a_cpu(tmp_path, impl):
    seen = []
    config = tiny_config(model={"impl": impl}, train={"device": "cuda"})
    end, _ = train(config, tmp_path / "run", [seen.append])
    assert end.status == "finished"
    assert [e.device for e in seen if isinstance(e, FitStarted)][0].startswith("cuda")
    epochs = [e for e in seen if isinstance(e, EpochEnded)]
    assert len(epochs) == 2 and epochs[-1].metrics["val_ppl"] < epochs[0].metrics["val_ppl"] * 1.05
    checkpoint = load_checkpoint(tmp_path / "run" / "checkpoint.pt")  # onto the CPU
    assert all(t.device.type == "cpu" for t in checkpoint.model.state_dict().values())


def test_the_apps_training_process_uses_the_gpu(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    seen: list[dict] = []
    end = TrainingProcess(tiny_config(train={"device": "cuda", "epochs": 1}), tmp_path / "run").run(seen.append)
    assert end.status == "finished"
    assert next(m for m in seen if m["event"] == "start")["device"].startswith("cuda")
    assert child_processes() == []


def test_devices_offered_are_the_ones_that_exist():
    names = [name for _, name in available_devices()]
    assert names[:2] == ["auto", "cpu"] and f"cuda:{torch.cuda.device_count() - 1}" in names
    assert resolve_device("auto").type == "cuda"


# -- CUDA graphs (issue 17) -------------------------------------------------------------------------------

GRAPH_CASES = [("lstm", "torch", "sequential"), ("gru", "torch", "sequential"), ("rnn", "torch", "random"),
               ("lstm", "scratch", "sequential"), ("gru", "scratch", "sequential"), ("rnn", "scratch", "sequential")]


def _losses(config, out):
    steps, starts = [], []
    end, _ = train(config, out, [lambda e: e.kind == "step" and steps.append((e.loss, e.grad_norm)),
                                 lambda e: isinstance(e, FitStarted) and starts.append(e.description)])
    return end, steps, starts[0]


@pytest.mark.parametrize("kind,impl,sampling", GRAPH_CASES)
def test_a_graphed_run_equals_the_eager_run(tmp_path, kind, impl, sampling):
    """The same run with and without CUDA graphs: the same losses and gradient norms step by step (float
    tolerance), the same final weights, the carried state and the clipping inside the graph."""
    base = tiny_config(model={"kind": kind, "impl": impl}, data={"sampling": sampling},
                       train={"epochs": 2, "device": "cuda", "clip": 0.5})
    graphed_end, graphed, described = _losses(base.replace(train={"cuda_graphs": "true"}), tmp_path / "g")
    eager_end, eager, eagerly = _losses(base.replace(train={"cuda_graphs": "false"}), tmp_path / "e")
    assert "CUDA graphs on" in described and "CUDA graphs off" in eagerly
    assert len(graphed) == len(eager) > 10
    for (lg, ng), (le, ne) in zip(graphed, eager):
        assert lg == pytest.approx(le, rel=2e-4, abs=1e-5) and ng == pytest.approx(ne, rel=2e-3, abs=1e-5)
    a, b = (load_checkpoint(p / "checkpoint.pt").model.state_dict() for p in (tmp_path / "g", tmp_path / "e"))
    assert all(torch.allclose(a[k], b[k], rtol=1e-3, atol=1e-4) for k in a)


def test_auto_turns_graphs_on_for_cuda_runs_and_says_so(tmp_path):
    starts = []
    train(tiny_config(train={"epochs": 1, "device": "cuda"}), tmp_path,
          [lambda e: isinstance(e, FitStarted) and starts.append(e)])
    assert "CUDA graphs on" in starts[0].description


def test_a_graphed_run_stops_within_one_batch_and_catches_a_diverging_loss(tmp_path):
    from rnntui.errors import TrainingDiverged

    steps = []
    end, _ = train(tiny_config(train={"epochs": 50, "device": "cuda", "cuda_graphs": "true"}), tmp_path / "s",
                   [lambda e: e.kind == "step" and steps.append(e)], should_stop=lambda: len(steps) >= 12)
    assert end.status == "stopped" and len(steps) == 12
    with pytest.raises(TrainingDiverged):
        train(tiny_config(train={"epochs": 5, "device": "cuda", "cuda_graphs": "true", "lr": 1e6, "clip": 0}),
              tmp_path / "d")
