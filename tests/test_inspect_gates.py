"""rnntui.inspect.gates: gates recomputed from the weights against the modules' own states, the book's
identities between them, units that respond to a pattern, and saturation on constructed cells."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from conftest import run_cli, tiny_config
from rnntui.config import ModelConfig
from rnntui.data.vocab import Vocab
from rnntui.errors import ConfigError, DataError
from rnntui.inspect import gates as Gt
from rnntui.inspect.gradients import Cancelled, LanguageModel
from rnntui.models.lm import RNNLM
from rnntui.training.checkpoint import save_checkpoint

VOCAB = Vocab(list("abcdefgh "))
HIDDENS = 8
TEXT = "a bad cab had a fad ache bead each deaf head"


def _lm(kind, impl="torch", num_layers=1, sigma=0.5, seed=0, hiddens=HIDDENS, **model) -> LanguageModel:
    torch.manual_seed(seed)
    net = RNNLM(ModelConfig(kind=kind, impl=impl, num_hiddens=hiddens, num_layers=num_layers, **model), len(VOCAB))
    with torch.no_grad():
        for p in net.parameters():
            p.normal_(0, sigma)
    return LanguageModel(net.eval(), VOCAB)


def _ids(text=TEXT) -> list[int]:
    return VOCAB[list(text)]


def _module_steps(lm, ids):
    """The module's own state after every step (run one step at a time): [(h_n, c_n or None)]."""
    x = torch.nn.functional.one_hot(torch.tensor(ids), len(VOCAB)).float().unsqueeze(1)
    state, states = None, []
    with torch.no_grad():
        for t in range(len(ids)):
            _, state = lm.model.rnn(x[t : t + 1], state)
            states.append(state if isinstance(state, tuple) else (state, None))
    return states


@pytest.mark.parametrize("kind,impl", [("gru", "torch"), ("lstm", "torch"), ("gru", "scratch"),
                                       ("lstm", "scratch"), ("rnn", "torch")])
@pytest.mark.parametrize("num_layers", [1, 2])
def test_recomputed_states_equal_the_modules(kind, impl, num_layers):
    lm = _lm(kind, impl, num_layers)
    ids = _ids()
    steps = _module_steps(lm, ids)
    for layer in range(num_layers):
        trace = Gt.gate_trace(lm, ids, layer=layer)
        assert tuple(trace.gates) == Gt.GATES[kind] and trace.layer == layer
        H = torch.tensor(trace.gates["H"])  # (steps, units)
        assert H.shape == (len(ids), HIDDENS)
        module_H = torch.stack([h[layer, 0] for h, _ in steps])
        torch.testing.assert_close(H, module_H, atol=1e-5, rtol=0)
        if kind == "lstm":
            module_C = torch.stack([c[layer, 0] for _, c in steps])
            torch.testing.assert_close(torch.tensor(trace.gates["C"]), module_C, atol=1e-5, rtol=0)
        assert trace.error < 1e-5
        assert H.abs().max() > 0.3  # the states are not trivially small


def test_the_gates_satisfy_the_books_equations():
    lstm = Gt.gate_trace(_lm("lstm"), _ids())
    g = {k: torch.tensor(v, dtype=torch.float64) for k, v in lstm.gates.items()}
    C_prev = torch.cat([torch.zeros(1, HIDDENS, dtype=torch.float64), g["C"][:-1]])
    torch.testing.assert_close(g["C"], g["F"] * C_prev + g["I"] * g["C_tilde"], atol=1e-6, rtol=0)
    torch.testing.assert_close(g["H"], g["O"] * torch.tanh(g["C"]), atol=1e-6, rtol=0)
    gru = Gt.gate_trace(_lm("gru"), _ids())
    g = {k: torch.tensor(v, dtype=torch.float64) for k, v in gru.gates.items()}
    H_prev = torch.cat([torch.zeros(1, HIDDENS, dtype=torch.float64), g["H"][:-1]])
    torch.testing.assert_close(g["H"], g["Z"] * H_prev + (1 - g["Z"]) * g["H_tilde"], atol=1e-6, rtol=0)


@pytest.mark.parametrize("kind", ["gru", "lstm"])
def test_gates_lie_in_the_unit_interval(kind):
    trace = Gt.gate_trace(_lm(kind, sigma=1.0), _ids())
    for gate in Gt.SIGMOID_GATES[kind]:
        values = np.array(trace.gates[gate])
        assert values.min() > 0 and values.max() < 1
        assert values.max() - values.min() > 0.5  # spread out: the check is not vacuous
    candidate = np.array(trace.gates["C_tilde" if kind == "lstm" else "H_tilde"])
    assert candidate.min() > -1 and candidate.max() < 1


def test_reverse_half_of_a_bidirectional_layer():
    lm = _lm("lstm", bidirectional=True)
    ids = _ids()
    backward = Gt.gate_trace(lm, ids, direction=1)
    x = torch.nn.functional.one_hot(torch.tensor([ids]).T, len(VOCAB)).float()
    with torch.no_grad():
        outputs, _ = lm.model.rnn(x)
    torch.testing.assert_close(torch.tensor(backward.gates["H"]), outputs[:, 0, HIDDENS:], atol=1e-5, rtol=0)
    assert backward.direction == 1
    with pytest.raises(ConfigError, match="bidirectional"):
        Gt.gate_trace(_lm("lstm"), ids, direction=1)


def test_most_variable_units_and_unit_values():
    trace = Gt.gate_trace(_lm("lstm"), _ids())
    H = np.array(trace.gates["H"])
    top = Gt.most_variable_units(trace, "H", k=3)
    assert [u.unit for u in top] == list(np.argsort(-H.std(0))[:3])
    assert top[0].std == pytest.approx(H.std(0).max())
    assert trace.unit("H", top[0].unit) == list(H[:, top[0].unit])
    assert top[0].low == pytest.approx(H[:, top[0].unit].min())
    with pytest.raises(ConfigError, match="no gate"):
        Gt.most_variable_units(trace, "Z")


def test_pattern_positions():
    assert Gt.pattern_positions(list("the cat the"), "the") == [0, 1, 2, 8, 9, 10]
    assert Gt.pattern_positions(list("a  b"), " ") == [1, 2]
    assert Gt.pattern_positions(["the", "cat", "the"], "the", token="word") == [0, 2]
    assert Gt.pattern_positions(["the", "cat", "sat"], "cat sa", token="word") == [1, 2]
    assert Gt.pattern_positions(list("abc"), "x") == []


def test_the_unit_wired_to_spaces_is_found():
    lm = _lm("rnn", sigma=0.1)
    with torch.no_grad():  # H_t = tanh(x_t W_xh + b): unit 5 reads the space strongly, the others weakly
        lm.model.rnn.weight_hh_l0.zero_()
        lm.model.rnn.weight_ih_l0[5].zero_()
        lm.model.rnn.weight_ih_l0[5, VOCAB[" "]] = 3.0
    trace = Gt.gate_trace(lm, _ids())
    found = Gt.pattern_units(trace, " ")
    assert found.unit == 5 and found.effects[0] > 2
    assert found.positions == [i for i, c in enumerate(TEXT) if c == " "]
    assert found.means_on[0] == pytest.approx(np.tanh(3.0 + lm.model.rnn.bias_ih_l0[5].item()
                                                      + lm.model.rnn.bias_hh_l0[5].item()), abs=1e-6)
    with pytest.raises(DataError, match="does not occur"):
        Gt.pattern_units(trace, "zz")


def test_saturation_on_constructed_gates():
    lm = _lm("lstm", hiddens=3)
    rnn = lm.model.rnn
    i, f, o = slice(0, 3), slice(3, 6), slice(9, 12)  # torch.nn.LSTM's rows: i, f, g, o
    with torch.no_grad():
        for p in rnn.parameters():
            p.zero_()
        rnn.bias_ih_l0[f] = torch.tensor([10.0, -10.0, 0.0])  # unit 0 always keeps, 1 always forgets, 2 half
        rnn.weight_ih_l0[0, VOCAB["a"]] = 20.0  # the input gate of unit 0 opens on 'a' only
        rnn.bias_ih_l0[i] = torch.tensor([-10.0, 0.0, 3.0])  # sigma(3) = 0.95: unit 2 always open
        rnn.bias_ih_l0[o] = 0.0
    ids = _ids()
    share_a = TEXT.count("a") / len(TEXT)
    sat = Gt.saturation(lm, ids)
    assert sat.num_steps == len(TEXT) and set(sat.fractions) == {"I", "F", "O"}
    assert sat.fractions["F"] == {"low": [0.0, 1.0, 0.0], "high": [1.0, 0.0, 0.0]}
    assert sat.fractions["I"]["high"] == pytest.approx([share_a, 0.0, 1.0])
    assert sat.fractions["I"]["low"] == pytest.approx([1 - share_a, 0.0, 0.0])
    assert sat.fractions["O"] == {"low": [0.0] * 3, "high": [0.0] * 3}
    assert sat.mostly_open == {"I": 1, "F": 1, "O": 0} and sat.mostly_closed == {"I": 1, "F": 1, "O": 0}
    assert sat.never_saturated == {"I": 1, "F": 1, "O": 3}
    assert "F (forget gate): 1 of 3 units mostly open" in sat.reading and sat.reading.count(";") == 2
    with pytest.raises(ConfigError, match="no gates"):
        Gt.saturation(_lm("rnn"), ids)


def test_saturation_of_a_gru_reads_its_two_gates():
    seen = []
    lm = _lm("gru", sigma=3.0, num_layers=2)
    sat = Gt.saturation(lm, _ids() * 7, progress=lambda done, total: seen.append((done, total)))
    assert seen[0] == (0, 2 * 7 * len(TEXT)) and seen[-1] == (2 * 7 * len(TEXT),) * 2
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    with pytest.raises(Cancelled):
        Gt.gate_trace(lm, _ids(), should_stop=lambda: True)
    assert set(sat.fractions) == {"R", "Z"}
    assert all(0 <= v <= 1 for f in sat.fractions.values() for part in f.values() for v in part)
    assert sum(sat.mostly_open.values()) + sum(sat.mostly_closed.values()) > 0  # large weights saturate


@pytest.fixture(scope="module")
def lstm_checkpoint(tmp_path_factory):
    from rnntui.data.corpus import load_lm_corpus
    from rnntui.training.checkpoint import build_model

    config = tiny_config(model={"kind": "lstm", "impl": "torch", "num_hiddens": 12})
    vocab = load_lm_corpus(config.data).vocab
    torch.manual_seed(0)
    model = build_model(config, {"vocab": vocab})
    path = tmp_path_factory.mktemp("ckpt") / "checkpoint.pt"
    save_checkpoint(path, config, model, {"vocab": vocab}, "char", {"epoch": 1})
    return path


def test_cli_gates_json(tmp_path, lstm_checkpoint):
    result = run_cli(tmp_path, "inspect", "gates", "--checkpoint", str(lstm_checkpoint), "--text",
                     "the cat and the hat", "--pattern", "the", "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["tokens"] == list("the cat and the hat")
    assert list(doc["gates"]) == ["I", "F", "O", "C_tilde", "C", "H"]
    assert all(len(v) == 19 and all(len(step) == 12 for step in v) for v in doc["gates"].values())
    assert doc["pattern"]["positions"] == [0, 1, 2, 12, 13, 14] and doc["unit"] == doc["pattern"]["units"][0]
    assert doc["error"] < 1e-5


@pytest.mark.slow
def test_cli_gates_text_and_saturation(tmp_path, lstm_checkpoint):
    result = run_cli(tmp_path, "inspect", "gates", "--checkpoint", str(lstm_checkpoint), "--num-steps", "30",
                     "--unit", "3", "--saturation", "--saturation-steps", "500")
    assert result.returncode == 0, result.stderr
    assert "unit 3 of H" in result.stdout and "over 500 steps" in result.stdout
    bad = run_cli(tmp_path, "inspect", "gates", "--checkpoint", str(lstm_checkpoint), "--text", "abc", "--gate", "Z")
    assert bad.returncode == 2 and "no gate 'Z'" in bad.stderr and bad.stderr.count("\n") == 1
