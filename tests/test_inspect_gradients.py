"""rnntui.inspect.gradients: dL_T/dH_t, clipping, truncation and saliency against independent computations
(torch.nn cells written out step by step, finite differences, the module's own autograd), on tiny models."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from conftest import run_cli, tiny_config
from rnntui.config import ModelConfig
from rnntui.data.vocab import Vocab
from rnntui.errors import ConfigError, DataError
from rnntui.inspect import gradients as G
from rnntui.models.lm import RNNLM
from rnntui.models.scratch import ScratchRNN
from rnntui.training.checkpoint import save_checkpoint

VOCAB = Vocab(list("abcdefgh "))
HIDDENS = 6
KINDS = [("rnn", "scratch"), ("rnn", "torch"), ("gru", "scratch"), ("gru", "torch"), ("lstm", "scratch"),
         ("lstm", "torch")]


def _lm(kind="rnn", impl="torch", num_layers=1, sigma=0.5, seed=0, dtype=torch.float64, **model) -> G.LanguageModel:
    torch.manual_seed(seed)
    net = RNNLM(ModelConfig(kind=kind, impl=impl, num_hiddens=HIDDENS, num_layers=num_layers, **model), len(VOCAB))
    with torch.no_grad():  # weights large enough for gradients to travel some steps
        for p in net.parameters():
            p.normal_(0, sigma)
    return G.LanguageModel(net.to(dtype).eval(), VOCAB)


def _ids(n: int, seed: int = 1) -> list[int]:
    return torch.randint(1, len(VOCAB), (n,), generator=torch.Generator().manual_seed(seed)).tolist()


def _cells(lm: G.LanguageModel) -> list[nn.Module]:
    """torch.nn cells holding the model's weights, one per layer: an implementation apart from the engine's."""
    cfg = lm.model.config
    rnn = lm.model.rnn
    state = rnn.torch_state_dict() if isinstance(rnn, ScratchRNN) else rnn.state_dict()
    cls = {"rnn": nn.RNNCell, "gru": nn.GRUCell, "lstm": nn.LSTMCell}[cfg.kind]
    cells = []
    for layer in range(cfg.num_layers):
        cell = cls(len(VOCAB) if layer == 0 else HIDDENS, HIDDENS).double()
        with torch.no_grad():
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                getattr(cell, name).copy_(state[f"{name}_l{layer}"])
        cells.append(cell)
    return cells


def _hand_loss(lm, cells, ids, perturb=None):
    """L_T by the cells, step by step; every top-layer H_t keeps its gradient. ``perturb = (t, v)`` adds v to
    the top layer's H_t (0-based t)."""
    x = F.one_hot(torch.tensor(ids[:-1]), len(VOCAB)).double()  # (steps, vocab)
    lstm = lm.kind == "lstm"
    H = [torch.zeros(1, HIDDENS, dtype=torch.float64) for _ in cells]
    C = [torch.zeros(1, HIDDENS, dtype=torch.float64) for _ in cells]
    tops = []
    for t in range(x.shape[0]):
        inp = x[t : t + 1]
        for layer, cell in enumerate(cells):
            if lstm:
                H[layer], C[layer] = cell(inp, (H[layer], C[layer]))
            else:
                H[layer] = cell(inp, H[layer])
            inp = H[layer]
        if perturb is not None and perturb[0] == t:
            H[-1] = H[-1] + perturb[1]
        if H[-1].requires_grad:
            H[-1].retain_grad()
        tops.append(H[-1])
    loss = F.cross_entropy(lm.model.output(H[-1]), torch.tensor(ids[-1:]))
    return loss, tops


@pytest.mark.parametrize("kind,impl", KINDS)
@pytest.mark.parametrize("num_layers", [1, 2])
def test_norms_match_hand_written_autograd(kind, impl, num_layers):
    lm = _lm(kind, impl, num_layers)
    ids = _ids(16)
    flow = G.gradient_flow(lm, ids)
    loss, tops = _hand_loss(lm, _cells(lm), ids)
    loss.backward()
    expected = [h.grad.norm().item() for h in tops]
    np.testing.assert_allclose(flow.norms, expected, rtol=1e-9, atol=1e-300)
    assert flow.loss == pytest.approx(loss.item(), rel=1e-12)
    assert flow.distances == list(range(14, -1, -1))
    assert flow.layer == num_layers - 1 and len(flow.layer_norms) == num_layers
    assert flow.layer_norms[-1] == flow.norms
    assert flow.unroll_error < 1e-12  # the step-by-step unroll gives the module's own logits
    assert min(flow.norms) > 0 and max(flow.norms) > 1e-3  # not trivially zero
    assert flow.tokens == VOCAB.to_tokens(ids[:-1]) and flow.target == VOCAB.to_tokens(ids[-1])


@pytest.mark.parametrize("kind,impl", [("rnn", "scratch"), ("gru", "torch"), ("lstm", "torch")])
def test_norms_match_finite_differences(kind, impl):
    lm = _lm(kind, impl, num_layers=2)
    ids = _ids(10, seed=4)
    flow = G.gradient_flow(lm, ids)
    cells = _cells(lm)
    eps = 1e-6
    with torch.no_grad():
        for t in (0, 4, 8):
            grad = []
            for unit in range(HIDDENS):
                e = torch.zeros(1, HIDDENS, dtype=torch.float64)
                e[0, unit] = eps
                up, _ = _hand_loss(lm, cells, ids, (t, e))
                down, _ = _hand_loss(lm, cells, ids, (t, -e))
                grad.append((up - down).item() / (2 * eps))
            assert flow.norms[t] == pytest.approx(float(np.linalg.norm(grad)), rel=1e-6)


def test_lstm_cell_norms_follow_the_memory_path():
    lm = _lm("lstm", "torch")
    ids = _ids(12)
    flow = G.gradient_flow(lm, ids)
    assert flow.cell_norms is not None and len(flow.cell_norms) == 11
    assert flow.cell_norms[-1] == 0  # L_T reads H_T only; C_T reaches no later step
    assert all(c > 0 for c in flow.cell_norms[:-1])
    assert G.gradient_flow(_lm("gru", "torch"), ids).cell_norms is None


def test_spectral_radius_and_the_scale_knob_on_a_copy():
    lm = _lm("rnn", "scratch", sigma=0.3)
    W = lm.model.rnn.layers[0].W_hh.detach().numpy()
    radius = float(np.abs(np.linalg.eigvals(W)).max())
    before = {k: v.clone() for k, v in lm.model.state_dict().items()}
    ids = _ids(20)
    flows = {s: G.gradient_flow(lm, ids, scale=s) for s in (0.25, 1.0, 4.0)}
    assert flows[1.0].spectral_radius == pytest.approx(radius, rel=1e-9)
    assert flows[0.25].spectral_radius == pytest.approx(radius / 4, rel=1e-9)
    assert flows[4.0].spectral_radius == pytest.approx(radius * 4, rel=1e-9)
    assert flows[0.25].scale == 0.25
    for k, v in lm.model.state_dict().items():  # the original is untouched
        assert torch.equal(v, before[k])
    # a smaller W_hh makes the gradient vanish faster
    assert flows[0.25].per_step_factor < flows[1.0].per_step_factor < flows[4.0].per_step_factor
    # the scaled copy's norms are those of a model whose W_hh was scaled by hand
    twin = _lm("rnn", "scratch", sigma=0.3)
    with torch.no_grad():
        twin.model.rnn.layers[0].W_hh.mul_(4)
    np.testing.assert_allclose(G.gradient_flow(twin, ids).norms, flows[4.0].norms, rtol=1e-12)
    # torch.nn layout: weight_hh is W_hh transposed, the same eigenvalues
    lm2 = _lm("rnn", "torch", num_layers=2)
    radii = [float(np.abs(np.linalg.eigvals(lm2.model.rnn.state_dict()[f"weight_hh_l{i}"].numpy())).max())
             for i in range(2)]
    flow2 = G.gradient_flow(lm2, ids)
    assert flow2.spectral_radii == pytest.approx(radii, rel=1e-9) and flow2.spectral_radius == flow2.spectral_radii[-1]
    assert G.gradient_flow(_lm("gru"), ids).spectral_radius is None


def test_reference_series_and_fitted_factor():
    flow = G.gradient_flow(_lm("gru", "torch"), _ids(9))
    assert flow.reference == pytest.approx([flow.norms[-1] * 0.5 ** d for d in range(7, -1, -1)])
    assert flow.norm_at(0) == flow.norms[-1] and flow.norm_at(7) == flow.norms[0]
    norms = [3.0 * 0.7 ** d for d in range(20, -1, -1)]  # oldest first
    assert G.fitted_factor(norms) == pytest.approx(0.7)
    assert G.fitted_factor([1.0 * 1.3 ** d for d in range(5, -1, -1)]) == pytest.approx(1.3)
    assert math.isnan(G.fitted_factor([0.0, 0.0, 1.0]))


def test_gradient_flow_refuses_what_it_cannot_measure():
    with pytest.raises(ConfigError, match="bidirectional"):
        G.gradient_flow(_lm("lstm", "torch", bidirectional=True), _ids(8))
    with pytest.raises(DataError, match="at least 2"):
        G.gradient_flow(_lm(), _ids(1))
    with pytest.raises(ConfigError, match="scale"):
        G.gradient_flow(_lm(), _ids(5), scale=0)
    with pytest.raises(DataError, match="vocabulary"):
        G.gradient_flow(_lm(), [1, 2, 99])


# ---------------------------------------------------------------------------------------------------
# truncation


def _autograd_w_hh(lm, ids, cut=None, last_only=True):
    """dL/dW_hh through the module itself (one call per step), the state detached before step ``cut``."""
    rnn = lm.model.rnn
    W = rnn.weight_hh_l0
    x = F.one_hot(torch.tensor(ids[:-1]), len(VOCAB)).double().unsqueeze(1)  # (steps, 1, vocab)
    state, losses = None, []
    for t in range(x.shape[0]):
        if t == cut and state is not None:
            state = tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()
        out, state = rnn(x[t : t + 1], state)
        losses.append(F.cross_entropy(lm.model.output(out[0]), torch.tensor([ids[t + 1]])))
    loss = losses[-1] if last_only else torch.stack(losses).mean()
    (grad,) = torch.autograd.grad(loss, W)
    return grad, losses


@pytest.mark.parametrize("kind", ["rnn", "lstm"])
def test_truncation_last_step_loss_against_detached_backprop(kind):
    lm = _lm(kind, "torch")
    ids = _ids(13)
    T = 12
    result = G.truncation(lm, ids, taus=(3, 6, T, 20))
    full, _ = _autograd_w_hh(lm, ids)
    assert result.full_norm == pytest.approx(full.norm().item(), rel=1e-10)
    assert result.parameters == ["weight_hh_l0"] and len(result.contributions) == T
    for i, tau in enumerate(result.taus):
        truncated, _ = _autograd_w_hh(lm, ids, cut=T - tau)
        assert result.truncated_norms[i] == pytest.approx(truncated.norm().item(), rel=1e-10)
        rel = ((truncated - full).norm() / full.norm()).item()
        assert result.relative_differences[i] == pytest.approx(rel, rel=1e-8, abs=1e-14)
    # tau = window length (or more) is full backpropagation
    assert result.relative_differences[2] < 1e-14 and result.relative_differences[3] < 1e-14
    assert result.cosines[2] == pytest.approx(1.0, abs=1e-12)
    assert result.dropped_shares[2] == 0 and result.largest_dropped[2] == 0
    assert result.relative_differences[0] > result.relative_differences[1] > 0
    # what tau = 3 drops: the terms of the first 9 steps, each no larger than the largest one reported
    assert result.largest_dropped[0] == pytest.approx(max(result.contributions[:9]))
    assert result.dropped_shares[0] == pytest.approx(sum(result.contributions[:9]) / sum(result.contributions))
    assert result.contributions[0] == 0  # step 1 multiplies W_hh by H_0 = 0


def test_truncation_of_the_mean_loss_cuts_every_term():
    lm = _lm("gru", "torch")
    ids = _ids(9)
    T, tau = 8, 3
    result = G.truncation(lm, ids, taus=(tau, T), loss="mean")
    full, _ = _autograd_w_hh(lm, ids, last_only=False)
    assert result.full_norm == pytest.approx(full.norm().item(), rel=1e-10)
    # d2l 9.7: each l_s backpropagates through its last tau steps only
    expected = torch.zeros_like(full)
    for s in range(T):
        cut_ids = ids[: s + 2]
        grad, _ = _autograd_w_hh(lm, cut_ids, cut=max(s + 1 - tau, 0))
        expected += grad / T
    assert result.truncated_norms[0] == pytest.approx(expected.norm().item(), rel=1e-10)
    assert result.relative_differences[0] == pytest.approx(((expected - full).norm() / full.norm()).item(), rel=1e-8)
    assert result.relative_differences[1] < 1e-12
    assert result.dropped_shares is None
    steps = []
    G.truncation(lm, ids, taus=(2,), loss="mean", progress=lambda done, total: steps.append((done, total)))
    assert steps[-1] == (T, T)
    with pytest.raises(G.Cancelled):
        G.truncation(lm, ids, loss="mean", should_stop=lambda: True)
    with pytest.raises(G.Cancelled):
        G.gradient_flow(lm, ids, should_stop=lambda: True)


def test_truncation_of_a_scratch_gated_layer_takes_all_its_recurrent_weights():
    lm = _lm("lstm", "scratch", num_layers=2)
    result = G.truncation(lm, _ids(10), taus=(9,))
    assert result.parameters == [f"layers.1.W_h{g}" for g in "ifoc"] and result.layer == 1
    assert result.relative_differences == [pytest.approx(0, abs=1e-14)]
    with pytest.raises(ConfigError, match="tau"):
        G.truncation(lm, _ids(10), taus=(0,))
    with pytest.raises(ConfigError, match="layer"):
        G.truncation(lm, _ids(10), layer=2)


# ---------------------------------------------------------------------------------------------------
# clipping


def test_clipping_keeps_the_direction_and_the_models_own_gradient():
    lm = _lm("lstm", "torch", dtype=torch.float32)
    rows = [_ids(11, seed=s) for s in range(4)]
    effect = G.clip_effect(lm, rows, threshold=0.1, lr=2.0)
    # the oracle: the same loss through the model's own forward and autograd
    batch = torch.tensor(rows)
    logits, _ = lm.model(batch[:, :-1])
    loss = F.cross_entropy(logits.reshape(-1, len(VOCAB)), batch[:, 1:].T.reshape(-1))
    grads = torch.autograd.grad(loss, list(lm.model.parameters()))
    norm = torch.sqrt(sum(g.double().square().sum() for g in grads)).item()
    assert effect.norm_before == pytest.approx(norm, rel=1e-5)
    assert effect.norm_before > 0.1 and effect.clipped
    assert effect.norm_after == pytest.approx(0.1, rel=1e-4)
    assert effect.cosine == pytest.approx(1.0, abs=1e-6)
    assert effect.step_before == pytest.approx(2.0 * effect.norm_before)
    assert effect.step_after == pytest.approx(2.0 * effect.norm_after)
    assert effect.factor == pytest.approx(effect.norm_after / effect.norm_before)
    assert effect.num_tokens == 40 and effect.loss == pytest.approx(loss.item(), rel=1e-6)
    total = math.sqrt(sum(v * v for v in effect.groups_before.values()))
    assert total == pytest.approx(effect.norm_before, rel=1e-5)
    assert all(effect.groups_after[k] == pytest.approx(v * effect.factor, rel=1e-4)
               for k, v in effect.groups_before.items())
    assert all(p.grad is None for p in lm.model.parameters())  # the caller's model has no .grad written

    loose = G.clip_effect(lm, rows, threshold=1e6)
    assert not loose.clipped and loose.norm_after == pytest.approx(loose.norm_before) and loose.factor == 1.0
    with pytest.raises(ConfigError, match="clip"):
        G.clip_effect(lm, rows, threshold=-1)


def test_clipping_cosine_is_one_for_a_full_size_model():
    # 256 hidden units: float32 norms of its 270,000 gradient entries were off by 3e-6 in the cosine
    torch.manual_seed(0)
    net = RNNLM(ModelConfig(kind="lstm", num_hiddens=256), len(VOCAB))
    with torch.no_grad():
        for p in net.parameters():
            p.normal_(0, 0.3)
    lm = G.LanguageModel(net.eval(), VOCAB)
    rows = [_ids(36, seed=s) for s in range(8)]
    for threshold in (1e-3, 1e9):
        assert G.clip_effect(lm, rows, threshold).cosine == pytest.approx(1.0, abs=1e-6)


# ---------------------------------------------------------------------------------------------------
# saliency


def test_saliency_matches_autograd_through_written_out_cells():
    lm = _lm("gru", "scratch", num_layers=2)
    ids = _ids(14)
    position = 10
    result = G.saliency(lm, ids, position=position, k=3)
    x = F.one_hot(torch.tensor(ids), len(VOCAB)).double().requires_grad_()  # (steps, vocab)
    cells = _cells(lm)
    H = [torch.zeros(1, HIDDENS, dtype=torch.float64) for _ in cells]
    for t in range(position):
        inp = x[t : t + 1]
        for layer, cell in enumerate(cells):
            H[layer] = inp = cell(inp, H[layer])
    log_prob = F.log_softmax(lm.model.output(H[-1]), -1)[0, ids[position]]
    (grad,) = torch.autograd.grad(log_prob, x)
    expected = grad.norm(dim=1).tolist()
    np.testing.assert_allclose(result.norms, expected, rtol=1e-9, atol=1e-300)
    assert result.log_prob == pytest.approx(log_prob.item(), rel=1e-12)
    assert result.wrt == "one-hot" and result.target == VOCAB.to_tokens(ids[position])
    assert all(n == 0 for n in result.norms[position:]) and result.future_share == 0  # causal
    assert result.distances[position - 1] == 1 and result.distances[0] == position
    far = sum(expected[j] for j in range(position) if position - j > 3)
    assert result.mass_beyond_k == pytest.approx(far / sum(expected[:position]))


def test_saliency_of_a_bidirectional_model_shows_it_reads_the_future():
    lm = _lm("lstm", "torch", bidirectional=True)
    result = G.saliency(lm, _ids(12), position=6)
    assert result.norms[6] > 0 and result.future_share > 0.05


def test_saliency_with_respect_to_embeddings_and_its_errors():
    lm = _lm("lstm", "torch", embed_size=4)
    ids = _ids(8)
    result = G.saliency(lm, ids)
    assert result.wrt == "embedding" and result.position == 7 and len(result.norms) == 8
    X = torch.tensor([ids])
    emb = lm.model.embedding(X.T).detach().requires_grad_()
    outputs, _ = lm.model.rnn(emb)
    log_prob = F.log_softmax(lm.model.output(outputs[6, 0]), -1)[ids[7]]
    (grad,) = torch.autograd.grad(log_prob, emb)
    np.testing.assert_allclose(result.norms, grad[:, 0].norm(dim=1).tolist(), rtol=1e-9, atol=1e-300)
    with pytest.raises(ConfigError, match="position"):
        G.saliency(lm, ids, position=0)
    with pytest.raises(ConfigError, match="position"):
        G.saliency(lm, ids, position=8)


# ---------------------------------------------------------------------------------------------------
# per-group gradient norms


def test_group_grad_norms_per_layer_and_role():
    lm = _lm("lstm", "torch", num_layers=2, dtype=torch.float32)
    model = lm.model
    assert G.group_grad_norms(model) == {}  # no gradient yet
    logits, _ = model(torch.tensor([_ids(9)]))
    logits.square().mean().backward()
    groups = G.group_grad_norms(model)
    assert set(groups) == {f"layer{i}.{r}" for i in range(2) for r in ("input", "recurrent", "bias")} | {"output"}
    rnn = model.rnn
    assert groups["layer1.recurrent"] == pytest.approx(rnn.weight_hh_l1.grad.norm().item(), rel=1e-6)
    bias = torch.cat([rnn.bias_ih_l0.grad, rnn.bias_hh_l0.grad])
    assert groups["layer0.bias"] == pytest.approx(bias.norm().item(), rel=1e-6)
    out = torch.cat([model.output.weight.grad.reshape(-1), model.output.bias.grad])
    assert groups["output"] == pytest.approx(out.norm().item(), rel=1e-6)
    total = torch.nn.utils.clip_grad_norm_(model.parameters(), math.inf).item()
    assert math.sqrt(sum(v * v for v in groups.values())) == pytest.approx(total, rel=1e-5)


def test_group_grad_norms_names_scratch_and_embedding_groups_alike():
    lm = _lm("gru", "scratch", dtype=torch.float32)
    model = lm.model
    logits, _ = model(torch.tensor([_ids(9)]))
    logits.sum().backward()
    groups = G.group_grad_norms(model)
    assert set(groups) == {"layer0.input", "layer0.recurrent", "layer0.bias", "output"}
    cell = model.rnn.layers[0]
    W_h = torch.cat([cell.W_hr.grad, cell.W_hz.grad, cell.W_hh.grad])
    assert groups["layer0.recurrent"] == pytest.approx(W_h.norm().item(), rel=1e-6)
    emb = _lm("lstm", "torch", embed_size=3, bidirectional=True, dtype=torch.float32).model
    emb(torch.tensor([_ids(5)]))[0].sum().backward()
    groups = G.group_grad_norms(emb)
    assert "embedding" in groups and "layer0.recurrent" in groups and len(groups) == 5  # both directions together


# ---------------------------------------------------------------------------------------------------
# loading, and the command line


def test_a_presets_untrained_model_is_the_one_training_starts_from():
    from rnntui.training.experiment import prepare

    config = tiny_config(model={"kind": "rnn", "impl": "scratch", "num_hiddens": 8})
    torch.manual_seed(123)
    state = torch.random.get_rng_state()
    lm = G.load_lm(config=config)
    assert torch.equal(torch.random.get_rng_state(), state)  # the caller's random state is kept
    assert not lm.trained and "untrained" in lm.label
    start = prepare(config).model
    for (k, v), (k2, v2) in zip(lm.model.state_dict().items(), start.state_dict().items()):
        assert k == k2 and torch.equal(v, v2)
    window = lm.window(10, offset=3)
    corpus = lm.load_corpus()
    num_train = len(corpus.train_ids)
    assert lm.tokens(window) == corpus.tokens[num_train + 3 : num_train + 14]
    rows = lm.batch(4, 5)
    assert len(rows) == 4 and all(len(r) == 6 for r in rows)
    assert lm.encode("The, time!") == lm.vocab[list("the time")]  # preprocessed as the corpus
    with pytest.raises(ConfigError, match="does not fit"):
        lm.window(10, offset=10**7)
    with pytest.raises(DataError, match="empty"):
        lm.encode("123 ...")


@pytest.fixture(scope="module")
def rnn_checkpoint(tmp_path_factory):
    from rnntui.data.corpus import load_lm_corpus
    from rnntui.training.checkpoint import build_model

    config = tiny_config(model={"kind": "rnn", "impl": "torch", "num_hiddens": 16})
    vocab = load_lm_corpus(config.data).vocab
    torch.manual_seed(0)
    model = build_model(config, {"vocab": vocab})
    path = tmp_path_factory.mktemp("ckpt") / "checkpoint.pt"
    save_checkpoint(path, config, model, {"vocab": vocab}, "char", {"epoch": 1})
    return path


def test_cli_gradients_json(tmp_path, rnn_checkpoint):
    result = run_cli(tmp_path, "inspect", "gradients", "--checkpoint", str(rnn_checkpoint), "--text",
                     "the time traveller", "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["tokens"] == list("the time travelle") and doc["target"] == "r"
    assert len(doc["norms"]) == 17 and all(n > 0 for n in doc["norms"])
    assert 0 < doc["spectral_radius"] < 10
    text = run_cli(tmp_path, "inspect", "gradients", "--checkpoint", str(rnn_checkpoint), "--num-steps", "12",
                   "--scale", "2")
    assert text.returncode == 0, text.stderr
    assert "spectral radius of W_hh (x2)" in text.stdout and len(text.stdout.splitlines()) == 6 + 12


@pytest.mark.slow
def test_cli_clip_truncation_saliency(tmp_path, rnn_checkpoint):
    ckpt = str(rnn_checkpoint)
    clip = run_cli(tmp_path, "inspect", "clip", "--checkpoint", ckpt, "--clip", "0.01", "--batch-size", "4",
                   "--num-steps", "8", "--json")
    assert clip.returncode == 0, clip.stderr
    doc = json.loads(clip.stdout)
    assert doc["clipped"] and doc["num_tokens"] == 32 and abs(doc["cosine"] - 1) < 1e-6
    trunc = run_cli(tmp_path, "inspect", "truncation", "--checkpoint", ckpt, "--num-steps", "10", "--tau", "3",
                    "--tau", "10", "--json")
    assert trunc.returncode == 0, trunc.stderr
    doc = json.loads(trunc.stdout)
    assert doc["taus"] == [3, 10] and len(doc["contributions"]) == 10 and doc["relative_differences"][1] == 0
    sal = run_cli(tmp_path, "inspect", "saliency", "--checkpoint", ckpt, "--text", "the time machine", "--position",
                  "9", "-k", "2", "--json")
    assert sal.returncode == 0, sal.stderr
    doc = json.loads(sal.stdout)
    assert doc["position"] == 9 and doc["target"] == "m" and len(doc["norms"]) == 16 and doc["k"] == 2


@pytest.mark.slow
def test_cli_errors_are_one_line(tmp_path, rnn_checkpoint):
    bad = run_cli(tmp_path, "inspect", "gradients", "--checkpoint", str(rnn_checkpoint), "--text", "x", "--json")
    assert bad.returncode == 1 and bad.stderr.count("\n") == 1 and "at least 2" in bad.stderr
    scale = run_cli(tmp_path, "inspect", "gradients", "--checkpoint", str(rnn_checkpoint), "--scale", "-1")
    assert scale.returncode == 2 and "--scale" in scale.stderr and scale.stderr.count("\n") == 1
    neither = run_cli(tmp_path, "inspect", "saliency")
    assert neither.returncode == 2 and "--checkpoint" in neither.stderr
    missing = run_cli(tmp_path, "inspect", "clip", "--checkpoint", str(tmp_path / "nope.pt"))
    assert missing.returncode == 1 and "not found" in missing.stderr
