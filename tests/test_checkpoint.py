"""Checkpoints: round trip, atomic writes, and hostile files that must give a one-line CheckpointError."""

from __future__ import annotations

import os
import pickle
import shlex
from pathlib import Path

import pytest
import torch

from rnntui.config import ExperimentConfig
from rnntui.data.vocab import Vocab
from rnntui.decoding.generate import generate
from rnntui.decoding.sampling import DecodeConfig
from rnntui.errors import CheckpointError
from rnntui.training import checkpoint as ckpt_mod
from rnntui.training.checkpoint import FORMAT, VERSION, build_model, load_checkpoint, save_checkpoint

TEXT = "the time traveller for so it will be convenient to speak of him was expounding a recondite matter to us"


def _config(**model) -> ExperimentConfig:
    return ExperimentConfig(name="ckpt").replace(model={"kind": "gru", "num_hiddens": 16, **model})


def _model(config: ExperimentConfig, vocab: Vocab, seed: int = 0):
    torch.manual_seed(seed)
    model = build_model(config, {"vocab": vocab})
    with torch.no_grad():  # large random weights, so greedy decoding is not one repeated token
        for p in model.parameters():
            p.normal_(0, 0.8)
    return model


@pytest.fixture
def saved(tmp_path):
    config = _config()
    vocab = Vocab(list(TEXT))
    model = _model(config, vocab)
    path = save_checkpoint(tmp_path / "checkpoint.pt", config, model, {"vocab": vocab}, "char", {"epoch": 3, "note": "x"})
    return path, config, vocab, model


def _greedy(model, vocab, prefix="the "):
    return generate(model, vocab, prefix, 40, "char", DecodeConfig("greedy")).text


@pytest.mark.parametrize("kind,impl", [("gru", "torch"), ("lstm", "scratch"), ("rnn", "scratch")])
def test_round_trip_same_weights_same_text(tmp_path, kind, impl):
    config = _config(kind=kind, impl=impl, num_layers=2, embed_size=4 if impl == "torch" else 0)
    vocab = Vocab(list(TEXT))
    model = _model(config, vocab)
    before = _greedy(model, vocab)
    assert len(set(before[4:])) > 1
    path = save_checkpoint(tmp_path / "sub" / "c.pt", config, model, {"vocab": vocab}, "char", {"epoch": 3})
    loaded = load_checkpoint(path)
    assert loaded.config == config
    assert loaded.vocab.idx_to_token == vocab.idx_to_token
    assert loaded.token == "char" and loaded.info == {"epoch": 3}
    assert not loaded.model.training
    state, again = model.state_dict(), loaded.model.state_dict()
    assert state.keys() == again.keys()
    for k in state:
        assert torch.equal(state[k], again[k]), k
    assert _greedy(loaded.model, loaded.vocab) == before
    # a different model generates differently: the comparison above means something
    assert _greedy(_model(config, vocab, seed=1), vocab) != before


def test_save_is_atomic(saved, monkeypatch):
    path, config, vocab, model = saved
    before = path.read_bytes()
    files_before = sorted(os.listdir(path.parent))

    def broken_save(obj, f, *args, **kwargs):
        f.write(b"PK\x03\x04 half a checkpoint")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(torch, "save", broken_save)
    other = _model(config, vocab, seed=5)
    with pytest.raises(OSError):
        save_checkpoint(path, config, other, {"vocab": vocab}, "char")
    assert path.read_bytes() == before
    assert sorted(os.listdir(path.parent)) == files_before  # no temporary file left behind
    assert load_checkpoint(path).info["epoch"] == 3


def test_save_interrupted_leaves_previous_file(saved, monkeypatch):
    path, config, vocab, model = saved
    before = path.read_bytes()

    def interrupted(obj, f, *args, **kwargs):
        f.write(b"partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(path, config, model, {"vocab": vocab}, "char")
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def _expect_checkpoint_error(path: Path, *fragments: str) -> str:
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(path)
    message = str(info.value)
    assert message and "\n" not in message
    assert "Traceback" not in message
    for fragment in fragments:
        assert fragment in message, message
    return message


class _RunsCode:
    """Unpickling this calls os.system: a checkpoint must never get this far."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {shlex.quote(str(self.marker))}",))


def test_code_running_torch_file_is_refused(tmp_path, saved):
    path, *_ = saved
    marker = tmp_path / "pwned"
    payload = torch.load(path, weights_only=True)
    payload["info"] = {"epoch": _RunsCode(marker)}
    evil = tmp_path / "evil.pt"
    torch.save(payload, evil)
    _expect_checkpoint_error(evil, "refused")
    assert not marker.exists()
    # the file really is dangerous: an unsafe load runs the command
    control = tmp_path / "control"
    payload["info"] = {"epoch": _RunsCode(control)}
    torch.save(payload, tmp_path / "control.pt")
    torch.load(tmp_path / "control.pt", weights_only=False)
    assert control.exists()


# torch warns about the protocol of a plain pickle on stderr; tests/test_cli.py covers what a user sees.
@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_raw_pickle_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.pt"
    for protocol in (2, pickle.DEFAULT_PROTOCOL, pickle.HIGHEST_PROTOCOL):
        evil.write_bytes(pickle.dumps({"format": FORMAT, "x": _RunsCode(marker)}, protocol=protocol))
        _expect_checkpoint_error(evil)
        assert not marker.exists()


def test_truncated_checkpoint(tmp_path, saved):
    path, *_ = saved
    data = path.read_bytes()
    half = tmp_path / "half.pt"
    half.write_bytes(data[: len(data) // 2])
    _expect_checkpoint_error(half, "not an rnntui checkpoint")


def test_random_bytes(tmp_path):
    junk = tmp_path / "junk.pt"
    noise = torch.randint(0, 256, (4096,), generator=torch.Generator().manual_seed(0))
    junk.write_bytes(bytes(noise.tolist()))
    _expect_checkpoint_error(junk)


def test_empty_file(tmp_path):
    empty = tmp_path / "empty.pt"
    empty.write_bytes(b"")
    _expect_checkpoint_error(empty)


def test_missing_file_and_directory(tmp_path):
    _expect_checkpoint_error(tmp_path / "nope.pt", "not found")
    _expect_checkpoint_error(tmp_path, "not found")


def test_plain_dict_without_header(tmp_path):
    plain = tmp_path / "plain.pt"
    torch.save({"weight": torch.zeros(3), "lr": 0.1}, plain)
    _expect_checkpoint_error(plain, FORMAT)
    torch.save([1, 2, 3], plain)
    _expect_checkpoint_error(plain, FORMAT)


def test_other_version(tmp_path, saved):
    path, *_ = saved
    payload = torch.load(path, weights_only=True)
    payload["version"] = VERSION + 1
    torch.save(payload, tmp_path / "v2.pt")
    _expect_checkpoint_error(tmp_path / "v2.pt", "version")


def _tampered(tmp_path: Path, path: Path, **changes) -> Path:
    payload = torch.load(path, weights_only=True)
    payload.update(changes)
    out = tmp_path / "tampered.pt"
    torch.save(payload, out)
    return out


def test_state_dict_that_does_not_fit_its_config(tmp_path, saved):
    path, config, *_ = saved
    payload = torch.load(path, weights_only=True)
    bigger = _config(num_hiddens=32).to_dict()
    _expect_checkpoint_error(_tampered(tmp_path, path, config=bigger), "damaged")
    other_kind = _config(kind="lstm").to_dict()
    _expect_checkpoint_error(_tampered(tmp_path, path, config=other_kind), "damaged")
    shorter_vocab = {"vocab": payload["vocabs"]["vocab"][:-1]}
    _expect_checkpoint_error(_tampered(tmp_path, path, vocabs=shorter_vocab), "damaged")
    missing = {k: v for k, v in payload["model_state"].items() if not k.startswith("output.")}
    _expect_checkpoint_error(_tampered(tmp_path, path, model_state=missing), "damaged")


def test_bad_config_values_in_checkpoint(tmp_path, saved):
    path, config, *_ = saved
    bad = config.to_dict()
    bad["model"]["num_hiddens"] = -4
    _expect_checkpoint_error(_tampered(tmp_path, path, config=bad), "num_hiddens")
    _expect_checkpoint_error(_tampered(tmp_path, path, vocabs={"vocab": ["a", "b"]}))
    _expect_checkpoint_error(_tampered(tmp_path, path, model_state=[1, 2]))


def test_config_that_is_not_a_table(tmp_path, saved):
    path, *_ = saved
    _expect_checkpoint_error(_tampered(tmp_path, path, config=[]))


def test_info_that_is_not_a_table(tmp_path, saved):
    path, *_ = saved
    _expect_checkpoint_error(_tampered(tmp_path, path, info=[1]))


def test_vocab_of_non_strings(tmp_path, saved):
    path, config, vocab, model = saved
    ints = ["<unk>", *range(1, len(vocab))]
    _expect_checkpoint_error(_tampered(tmp_path, path, vocabs={"vocab": ints}))


def test_weights_only_load_is_used(monkeypatch, saved):
    """The loader asks torch for the restricted unpickler (belt and braces with the hostile-file tests)."""
    path, *_ = saved
    calls = []
    real = torch.load

    def spy(*args, **kwargs):
        calls.append(kwargs.get("weights_only"))
        return real(*args, **kwargs)

    monkeypatch.setattr(ckpt_mod.torch, "load", spy)
    load_checkpoint(path)
    assert calls == [True]
