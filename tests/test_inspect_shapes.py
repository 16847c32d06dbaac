"""rnntui.inspect.shapes: tensor shapes through the encoder-decoder, measured by running it, against the
seed's tables (output 7x4x16, state 2x4x16) and against the settings each dimension is said to be."""

from __future__ import annotations

import json

import pytest

from conftest import run_cli
from rnntui.config import ExperimentConfig
from rnntui.data.vocab import Vocab
from rnntui.errors import ConfigError
from rnntui.inspect import shapes
from rnntui.models.seq2seq import make_seq2seq
from rnntui.training.checkpoint import save_checkpoint


def _meanings(report, name):
    return [d.meaning for d in next(r for r in report.rows if r.name == name).dims]


def test_the_seeds_example_gives_the_seeds_tables():
    report = shapes.example_shapes()
    assert report.source == "the seed's example"
    assert report.shape("encoder_outputs") == [7, 4, 16]  # steps x batch x hiddens
    assert _meanings(report, "encoder_outputs") == ["steps", "batch", "hiddens"]
    assert report.shape("encoder_state") == [2, 4, 16]  # layers x batch x hiddens
    assert _meanings(report, "encoder_state") == ["layers", "batch", "hiddens"]
    assert report.shape("encoder_embeddings") == [7, 4, 8]
    assert report.shape("context") == [4, 16]
    assert report.shape("decoder_input") == [7, 4, 8 + 16]  # embedding and context concatenated
    assert report.shape("decoder_outputs") == [7, 4, 16]
    assert report.shape("logits") == [4, 7, 10]
    assert "encoder_memory" not in report.shapes()  # a GRU has no memory cell
    assert list(report.shapes())[:4] == ["source_tokens", "encoder_embeddings", "encoder_outputs", "encoder_state"]


@pytest.mark.parametrize("settings", [
    {}, {"kind": "lstm"}, {"num_layers": 3, "batch_size": 5, "num_steps": 9}, {"embed_size": 0, "vocab_size": 13},
    {"kind": "rnn", "num_hiddens": 8, "embed_size": 8},  # embed = hiddens: the labels still say which is which
])
def test_every_dimension_is_the_setting_it_is_said_to_be(settings):
    report = shapes.example_shapes(**{**shapes.SEED_EXAMPLE, **settings})
    for row in report.rows:
        assert len(row.dims) == len(row.shape)
        for dim in row.dims:
            assert dim.size == dim.expected, (row.name, dim)


def test_shapes_follow_the_settings_because_they_are_measured():
    report = shapes.example_shapes(kind="lstm", num_layers=3, batch_size=5, num_steps=9, embed_size=0)
    assert report.shape("encoder_outputs") == [9, 5, 16]
    assert report.shape("encoder_state") == [3, 5, 16] and report.shape("encoder_memory") == [3, 5, 16]
    assert report.shape("encoder_embeddings") == [9, 5, 10]  # embed_size 0: one-hot vectors of the vocabulary
    assert report.shape("decoder_memory") == [3, 5, 16]
    assert report.source == "the seed's example, changed"
    first = next(r for r in report.rows if r.name == "encoder_state")
    assert first.describe() == "3 layers x 5 batch x 16 hiddens"


def test_a_model_with_different_vocabularies_and_target_length():
    model = make_seq2seq("gru", 11, 17, 6, 12, 1)
    report = shapes.measure(model, batch_size=3, num_steps=5, tgt_steps=8)
    assert report.shape("source_tokens") == [3, 5] and report.shape("decoder_input_tokens") == [3, 8]
    assert report.shape("encoder_outputs") == [5, 3, 12] and report.shape("decoder_outputs") == [8, 3, 12]
    assert report.shape("logits") == [3, 8, 17]
    assert all(d.size == d.expected for r in report.rows for d in r.dims)
    assert shapes.measure(model, 3, 5, 8).shapes() == report.shapes()


def test_a_configs_model_and_errors():
    config = ExperimentConfig(name="s2s", task="seq2seq").replace(
        model={"kind": "lstm", "embed_size": 4, "num_hiddens": 6, "num_layers": 2},
        pairs={"batch_size": 3, "num_steps": 5})
    report = shapes.config_shapes(config, src_vocab_size=9, tgt_vocab_size=7)
    assert report.shape("encoder_state") == [2, 3, 6] and report.shape("logits") == [3, 5, 7]
    with pytest.raises(ConfigError, match="encoder-decoder"):
        shapes.config_shapes(ExperimentConfig(name="lm"), 9, 7)
    with pytest.raises(ConfigError, match="num-steps"):
        shapes.example_shapes(num_steps=0)
    with pytest.raises(ConfigError, match="kind"):
        shapes.example_shapes(kind="transformer")


def test_cli_shapes_json_gives_the_seeds_example(tmp_path):
    result = run_cli(tmp_path, "inspect", "shapes", "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["encoder_outputs"] == [7, 4, 16] and doc["encoder_state"] == [2, 4, 16]
    assert doc["settings"]["num_layers"] == 2 and doc["rows"][2]["dims"][0]["meaning"] == "steps"
    text = run_cli(tmp_path, "inspect", "shapes", "--num-layers", "3")
    assert text.returncode == 0, text.stderr
    assert "(3, 4, 16)  3 layers x 4 batch x 16 hiddens" in text.stdout


@pytest.mark.slow
def test_cli_shapes_of_a_checkpoint_and_errors(tmp_path):
    config = ExperimentConfig(name="s2s", task="seq2seq").replace(
        model={"kind": "gru", "embed_size": 4, "num_hiddens": 6, "num_layers": 1}, pairs={"batch_size": 3, "num_steps": 5})
    src, tgt = Vocab(["a", "b", "c"], reserved_tokens=["<pad>", "<bos>", "<eos>"]), Vocab(["x", "y"])
    model = make_seq2seq("gru", len(src), len(tgt), 4, 6, 1)
    path = save_checkpoint(tmp_path / "s2s.pt", config, model, {"src": src, "tgt": tgt}, "word")
    result = run_cli(tmp_path, "inspect", "shapes", "--checkpoint", str(path), "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["encoder_outputs"] == [5, 3, 6] and doc["logits"] == [3, 5, len(tgt)]
    bad = run_cli(tmp_path, "inspect", "shapes", "--checkpoint", str(path), "--num-hiddens", "8")
    assert bad.returncode == 2 and "cannot change a checkpoint" in bad.stderr
    lm = run_cli(tmp_path, "inspect", "shapes", "--preset", "lstm")
    assert lm.returncode == 2 and "encoder-decoder" in lm.stderr and lm.stderr.count("\n") == 1
