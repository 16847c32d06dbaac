"""The scratch RNN, GRU and LSTM against their torch.nn twins, the book's GRU form, the LM head, init."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from rnntui.config import ModelConfig
from rnntui.models.lm import RNNLM, detach_state, num_parameters
from rnntui.models.scratch import GRULayer, LSTMLayer, RNNLayer, ScratchRNN

TORCH = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}
STEPS, BATCH, INPUTS, HIDDENS = 7, 3, 5, 6


def _randomize(module: nn.Module, seed: int = 0) -> None:
    """N(0, 0.5^2) for every parameter, biases included: far from the book's tiny init, so a wrong
    gate order or a missing term shows up."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.5)


def _pair(kind: str, num_layers: int):
    scratch = ScratchRNN(kind, INPUTS, HIDDENS, num_layers)
    _randomize(scratch)
    twin = TORCH[kind](INPUTS, HIDDENS, num_layers=num_layers)
    twin.load_state_dict(scratch.torch_state_dict())
    return scratch, twin


def _initial_state(kind: str, num_layers: int, seed: int = 1):
    g = torch.Generator().manual_seed(seed)
    H = torch.randn(num_layers, BATCH, HIDDENS, generator=g)
    if kind == "lstm":
        return H, torch.randn(num_layers, BATCH, HIDDENS, generator=g)
    return H


def _flat(state):
    return torch.cat([s.reshape(-1) for s in state]) if isinstance(state, tuple) else state.reshape(-1)


CASES = [(kind, layers, init) for kind in ("rnn", "gru", "lstm") for layers in (1, 2) for init in (False, True)]


@pytest.mark.parametrize("kind,num_layers,with_state", CASES)
def test_scratch_matches_torch_nn(kind, num_layers, with_state):
    scratch, twin = _pair(kind, num_layers)
    X = torch.randn(STEPS, BATCH, INPUTS, generator=torch.Generator().manual_seed(2))
    state = _initial_state(kind, num_layers) if with_state else None

    X1 = X.clone().requires_grad_()
    X2 = X.clone().requires_grad_()
    out1, state1 = scratch(X1, state)
    out2, state2 = twin(X2, state)

    assert out1.shape == out2.shape == (STEPS, BATCH, HIDDENS)
    assert type(state1) is type(state2)
    if kind == "lstm":
        assert all(a.shape == b.shape == (num_layers, BATCH, HIDDENS) for a, b in zip(state1, state2))
    else:
        assert state1.shape == state2.shape == (num_layers, BATCH, HIDDENS)
    torch.testing.assert_close(out1, out2, atol=1e-5, rtol=0)
    torch.testing.assert_close(_flat(state1), _flat(state2), atol=1e-5, rtol=0)
    # the outputs are not trivially small: the comparison means something
    assert out1.abs().max() > 0.3

    # gradients w.r.t. the inputs, through the outputs and the final state
    w = torch.randn(out1.shape, generator=torch.Generator().manual_seed(3))
    ((out1 * w).sum() + _flat(state1).sum()).backward()
    ((out2 * w).sum() + _flat(state2).sum()).backward()
    torch.testing.assert_close(X1.grad, X2.grad, atol=1e-5, rtol=0)
    assert X1.grad.abs().max() > 1e-3


@pytest.mark.parametrize("kind", ["rnn", "gru", "lstm"])
def test_initial_state_matters(kind):
    scratch, _ = _pair(kind, 1)
    X = torch.randn(STEPS, BATCH, INPUTS)
    out_zero, _ = scratch(X)
    out_state, _ = scratch(X, _initial_state(kind, 1))
    assert not torch.allclose(out_zero[0], out_state[0], atol=1e-3)
    zeros = torch.zeros(1, BATCH, HIDDENS)
    out_explicit, _ = scratch(X, (zeros, zeros) if kind == "lstm" else zeros)
    torch.testing.assert_close(out_zero, out_explicit)


def _book_gru(layer: GRULayer, X: torch.Tensor, H: torch.Tensor) -> torch.Tensor:
    """d2l 10.2, written out: H~ = tanh(X W_xh + (R * H) W_hh + b_h)."""
    outputs = []
    for X_t in X:
        R = torch.sigmoid(X_t @ layer.W_xr + H @ layer.W_hr + layer.b_r)
        Z = torch.sigmoid(X_t @ layer.W_xz + H @ layer.W_hz + layer.b_z)
        H_tilde = torch.tanh(X_t @ layer.W_xh + (R * H) @ layer.W_hh + layer.b_h)
        H = Z * H + (1 - Z) * H_tilde
        outputs.append(H)
    return torch.stack(outputs)


def test_gru_book_form_differs_from_torch_nn():
    after = GRULayer(INPUTS, HIDDENS, reset_after=True)
    _randomize(after)
    book = GRULayer(INPUTS, HIDDENS, reset_after=False)
    book.load_state_dict(after.state_dict())
    twin = nn.GRU(INPUTS, HIDDENS)
    twin.load_state_dict({f"{k}_l0": v for k, v in after.torch_state_dict().items()})

    X = torch.randn(STEPS, BATCH, INPUTS)
    H0 = torch.randn(BATCH, HIDDENS)
    out_book, H_book = book(X, H0)
    out_after, _ = after(X, H0)
    out_twin, _ = twin(X, H0[None])

    assert out_book.shape == (STEPS, BATCH, HIDDENS) and H_book.shape == (BATCH, HIDDENS)
    torch.testing.assert_close(out_after, out_twin, atol=1e-5, rtol=0)
    assert (out_book - out_twin).abs().max() > 1e-3  # the flag changes the computation
    with torch.no_grad():
        torch.testing.assert_close(out_book, _book_gru(book, X, H0), atol=1e-5, rtol=0)
    torch.testing.assert_close(H_book, out_book[-1])
    with pytest.raises(ValueError):
        book.torch_state_dict()


@pytest.mark.parametrize("kind", ["rnn", "gru", "lstm"])
@pytest.mark.parametrize("embed_size", [0, 4])
@pytest.mark.parametrize("impl", ["torch", "scratch"])
def test_rnnlm_shapes(kind, embed_size, impl):
    vocab, batch, steps, hiddens = 11, 3, 5, 8
    model = RNNLM(ModelConfig(kind=kind, impl=impl, num_hiddens=hiddens, embed_size=embed_size), vocab)
    X = torch.randint(0, vocab, (batch, steps))
    logits, state = model(X)
    assert logits.shape == (steps, batch, vocab)
    if kind == "lstm":
        assert [s.shape for s in state] == [(1, batch, hiddens)] * 2
    else:
        assert state.shape == (1, batch, hiddens)
    assert (model.embedding is not None) == bool(embed_size)
    logits2, _ = model(X[:, :1], state)  # the state feeds back in
    assert logits2.shape == (1, batch, vocab)
    detached = detach_state(state)
    assert all(not s.requires_grad for s in (detached if isinstance(detached, tuple) else (detached,)))
    assert detach_state(None) is None


def test_rnnlm_one_hot_means_one_hot():
    """With one-hot inputs, the first layer sees exactly vocab_size features."""
    model = RNNLM(ModelConfig(kind="rnn", impl="torch", num_hiddens=4), 9)
    assert model.rnn.input_size == 9
    seen = []
    model.rnn.register_forward_hook(lambda m, inp, out: seen.append(inp[0]))
    model(torch.tensor([[3, 1]]))
    x = seen[0]
    assert x.shape == (2, 1, 9)
    assert torch.equal(x.sum(-1), torch.ones(2, 1)) and x[0, 0, 3] == 1 and x[1, 0, 1] == 1


@pytest.mark.parametrize("num_layers", [1, 2])
def test_bidirectional_doubles_output_features(num_layers):
    hiddens, vocab = 8, 10
    model = RNNLM(ModelConfig(kind="lstm", num_hiddens=hiddens, num_layers=num_layers, bidirectional=True), vocab)
    assert model.output.in_features == 2 * hiddens
    seen = []
    model.rnn.register_forward_hook(lambda m, inp, out: seen.append(out[0]))
    logits, (H, C) = model(torch.randint(0, vocab, (3, 4)))
    assert seen[0].shape == (4, 3, 2 * hiddens)
    assert logits.shape == (4, 3, vocab)
    assert H.shape == C.shape == (2 * num_layers, 3, hiddens)
    uni = RNNLM(ModelConfig(kind="lstm", num_hiddens=hiddens, num_layers=num_layers), vocab)
    assert uni.output.in_features == hiddens
    assert num_parameters(model) > num_parameters(uni)


@pytest.mark.parametrize("kind", ["rnn", "gru", "lstm"])
def test_scratch_init_follows_the_book(kind):
    torch.manual_seed(0)
    rnn = ScratchRNN(kind, 200, 100, num_layers=2)
    for name, p in rnn.named_parameters():
        p = p.detach()
        leaf = name.rsplit(".", 1)[-1]
        if leaf.startswith("b_"):
            assert torch.count_nonzero(p) == 0, name
        else:
            assert leaf.startswith("W_"), name
            assert abs(float(p.std()) - 0.01) < 0.001, (name, float(p.std()))
            assert abs(float(p.mean())) < 0.001, name
    lm = RNNLM(ModelConfig(kind=kind, impl="scratch", num_hiddens=100), 60)
    assert abs(float(lm.output.weight.detach().std()) - 0.01) < 0.002
    assert torch.count_nonzero(lm.output.bias) == 0


BOOK_NAMES = {
    RNNLayer: {"W_xh", "W_hh", "b_h"},
    GRULayer: {"W_xz", "W_hz", "b_z", "W_xr", "W_hr", "b_r", "W_xh", "W_hh", "b_h"},
    LSTMLayer: {"W_xi", "W_hi", "b_i", "W_xf", "W_hf", "b_f", "W_xo", "W_ho", "b_o", "W_xc", "W_hc", "b_c"},
}


@pytest.mark.parametrize("layer_cls", list(BOOK_NAMES))
def test_scratch_parameters_carry_the_books_names(layer_cls):
    layer = layer_cls(5, 7)
    params = dict(layer.named_parameters())
    assert set(params) == BOOK_NAMES[layer_cls]
    for name, p in params.items():
        if name.startswith("W_x"):
            assert p.shape == (5, 7), name
        elif name.startswith("W_h"):
            assert p.shape == (7, 7), name
        else:
            assert p.shape == (7,), name


def test_scratch_stack_state_dict_names():
    names = set(ScratchRNN("lstm", 5, 7, num_layers=2).state_dict())
    assert {"layers.0.W_xi", "layers.0.W_hc", "layers.1.b_o", "layers.1.W_xf"} <= names
    assert len(names) == 24


# --- gradients: the hand-written BPTT of the scratch LSTM and the autograd of the others ---------------

_GATE_ORDER = {"rnn": "h", "gru": "rzh", "lstm": "ifco"}  # torch.nn's order of the book's gates


@pytest.mark.parametrize("kind", ["rnn", "gru", "lstm"])
@pytest.mark.parametrize("num_layers", [1, 2])
def test_scratch_weight_gradients_match_torch_nn(kind, num_layers):
    torch.manual_seed(1)
    scratch = ScratchRNN(kind, 5, 6, num_layers)
    with torch.no_grad():
        for p in scratch.parameters():
            p.normal_(0, 0.5)
    twin = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}[kind](5, 6, num_layers)
    twin.load_state_dict(scratch.torch_state_dict())
    X = torch.randn(7, 3, 5)
    H0 = torch.randn(num_layers, 3, 6)
    state = (H0, torch.randn(num_layers, 3, 6)) if kind == "lstm" else H0
    target = torch.randn(7, 3, 6)
    for model in (scratch, twin):
        out, final = model(X, state)
        finals = final if isinstance(final, tuple) else (final,)
        (((out - target) ** 2).sum() + sum((f**3).sum() for f in finals)).backward()
    for i, layer in enumerate(scratch.layers):
        W_x = torch.cat([getattr(layer, f"W_x{g}").grad for g in _GATE_ORDER[kind]], 1).T
        W_h = torch.cat([getattr(layer, f"W_h{g}").grad for g in _GATE_ORDER[kind]], 1).T
        b = torch.cat([getattr(layer, f"b_{g}").grad for g in _GATE_ORDER[kind]])
        torch.testing.assert_close(W_x, getattr(twin, f"weight_ih_l{i}").grad, atol=1e-4, rtol=1e-4)
        torch.testing.assert_close(W_h, getattr(twin, f"weight_hh_l{i}").grad, atol=1e-4, rtol=1e-4)
        torch.testing.assert_close(b, getattr(twin, f"bias_ih_l{i}").grad, atol=1e-4, rtol=1e-4)


def test_lstm_bptt_passes_gradcheck():
    from rnntui.models.scratch import LSTMSequence

    torch.manual_seed(0)
    XW = torch.randn(5, 3, 8, dtype=torch.double, requires_grad=True)
    W_h = torch.randn(2, 8, dtype=torch.double, requires_grad=True)
    H0 = torch.randn(3, 2, dtype=torch.double, requires_grad=True)
    C0 = torch.randn(3, 2, dtype=torch.double, requires_grad=True)
    assert torch.autograd.gradcheck(LSTMSequence.apply, (XW, W_h, H0, C0))


def test_lstm_packed_recurrent_matmul_matches_plain_matmul(monkeypatch):
    """The float32 CPU path packs W_h for MKL once per sequence; the fallback is a plain addmm.
    Both must give the same outputs and gradients (the sizes are the presets', batch 32 x 256)."""
    import rnntui.models.scratch as scratch_module

    torch.manual_seed(0)
    layer = ScratchRNN("lstm", 28, 256)
    X = torch.randn(9, 32, 28)

    def run():
        layer.zero_grad(set_to_none=True)
        out, (H, C) = layer(X)
        (out.square().sum() + H.sum() + C.sum()).backward()
        return [out, H, C, *(p.grad for p in layer.parameters())]

    fast = run()
    monkeypatch.setattr(scratch_module, "_MKL_PACKING", False)
    plain = run()
    for a, b in zip(fast, plain):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4)
    if torch.backends.mkl.is_available():
        assert scratch_module._mkl_packing_works()  # the fast path is what the presets run here
