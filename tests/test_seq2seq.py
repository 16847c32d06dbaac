"""Machine translation: the pairs, the encoder-decoder, the masked loss, BLEU, greedy and beam search,
and a short fit with the real trainer (CPU, seconds)."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from rnntui.config import ExperimentConfig, PairsConfig
from rnntui.data.translation import (
    BOS, EOS, PAD, encode_source, load_pairs, preprocess, tokenize,
)
from rnntui.data.vocab import Vocab
from rnntui.decoding.translate import Translation, beam_search, greedy, greedy_batch, normalised_score, translate
from rnntui.errors import ConfigError, DataError
from rnntui.models.seq2seq import build_seq2seq, make_seq2seq, shape_report
from rnntui.training.events import EpochEnded
from rnntui.training.losses import masked_cross_entropy
from rnntui.training.metrics_bleu import bleu, corpus_bleu
from rnntui.training.seq2seq_task import build_seq2seq_experiment_parts, teacher_forcing_input
from rnntui.training.trainer import Trainer

# ---------------------------------------------------------------------------------------------- data


def test_preprocess_as_the_book():
    assert preprocess("Go.\u202fHi!") == "go . hi !"
    assert preprocess("Wait,\xa0what?") == "wait , what ?"
    assert preprocess("Cours\u202f!") == "cours !"  # already spaced: no double space
    assert preprocess(".Hi") == ".hi"  # nothing is inserted at the very start
    assert tokenize(preprocess("I'm  home.")) == ["i'm", "home", "."]


def _write(tmp_path, text, name="pairs.tsv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


PAIRS_2 = "Go.\tVa !\nHi.\tSalut !\nGo.\tVa !\nRun!\tCours !\n"
PAIRS_3 = "".join(f"{line}\tCC-BY 2.0 (France) Attribution: tatoeba.org #{i}\n"
                  for i, line in enumerate(PAIRS_2.splitlines()))


@pytest.mark.parametrize("text", [PAIRS_2, PAIRS_3], ids=["2-columns", "3-columns"])
def test_user_file_two_or_three_columns(tmp_path, text):
    data = load_pairs(PairsConfig(source=_write(tmp_path, text), num_examples=0, num_steps=4, min_freq=2))
    assert data.num_train == 4 and data.val_pairs == []
    assert data.train_pairs[0] == (["go", "."], ["va", "!"])
    assert data.train_pairs[3] == (["run", "!"], ["cours", "!"])
    sv, tv = data.src_vocab, data.tgt_vocab
    assert sv.idx_to_token[:4] == ["<unk>", PAD, BOS, EOS]
    assert "go" in sv and "run" not in sv  # min_freq 2
    assert "attribution:" not in sv and "attribution:" not in tv  # the third column is ignored
    assert data.src[0].tolist() == [sv["go"], sv["."], sv[EOS], sv[PAD]]
    assert data.src_valid_len.tolist() == [3, 3, 3, 3]
    assert data.tgt[3].tolist() == [tv["<unk>"], tv["!"], tv[EOS], tv[PAD]]
    assert data.tgt_valid_len.tolist() == [3, 3, 3, 3]


def test_truncate_and_held_out_split(tmp_path):
    lines = ["a b c d e f.\tun deux trois quatre cinq six ."] * 3 + ["x y.\tz w ."] * 2
    data = load_pairs(PairsConfig(source=_write(tmp_path, "\n".join(lines)), num_examples=3, num_steps=4,
                                  min_freq=1, val_examples=2))
    assert data.src.shape == (3, 4) and data.src_valid_len.tolist() == [4, 4, 4]  # truncated, no <eos> left
    assert data.val_pairs == [(["x", "y", "."], ["z", "w", "."])] * 2
    assert "x" not in data.src_vocab  # the vocabulary comes from the training pairs only
    src, src_len, tgt, tgt_len = data.val_arrays()
    assert src[0].tolist() == [0, 0, data.src_vocab["."], data.src_vocab[EOS]] and src_len.tolist() == [4, 4]


REPEATS = (
    "Go.\tVa !\n"
    "Hi.\tSalut !\n"
    "Run!\tCours !\n"
    "Run\u202f!\tCourez !\n"  # the third training source again, once preprocessed ("run !")
    "GO.\tAllez !\n"  # the first training source again, in other case
    "Wow!\tÇa alors !\n"
    "Wow!\tWaouh !\n"  # repeats a held-out source only: kept
    "Fire!\tAu feu !\n"
    "Help!\tÀ l'aide !\n"
)


def test_held_out_sources_never_occur_in_training(tmp_path):
    path = _write(tmp_path, REPEATS)
    data = load_pairs(PairsConfig(source=path, num_examples=3, num_steps=5, min_freq=1, val_examples=3))
    assert data.num_train == 3 and [s for s, _ in data.train_pairs] == [["go", "."], ["hi", "."], ["run", "!"]]
    # "run !" and "go ." are skipped; taking goes on until three unseen-source pairs are collected
    assert data.val_pairs == [(["wow", "!"], ["ça", "alors", "!"]), (["wow", "!"], ["waouh", "!"]),
                              (["fire", "!"], ["au", "feu", "!"])]
    assert "courez" not in data.tgt_vocab and "allez" not in data.tgt_vocab  # the skipped ones do not train
    src, _, tgt, _ = data.val_arrays()
    assert src.shape == tgt.shape == (3, 5)
    assert "3 training pairs, 3 held out" in data.describe()


def test_held_out_set_is_short_when_the_file_ends(tmp_path):
    path = _write(tmp_path, REPEATS)
    data = load_pairs(PairsConfig(source=path, num_examples=3, num_steps=5, min_freq=1, val_examples=6))
    assert data.num_train == 3  # 9 pairs - 6 held out leaves exactly the 3 asked for
    assert [s for s, _ in data.val_pairs] == [["wow", "!"], ["wow", "!"], ["fire", "!"], ["help", "!"]]
    # every pair after the training ones repeats a training source: nothing is held out
    only_repeats = _write(tmp_path, "Go.\tVa !\nHi.\tSalut !\nGo.\tAllez !\nHi.\tBonjour !\n", "r.tsv")
    data = load_pairs(PairsConfig(source=only_repeats, num_examples=2, min_freq=1, val_examples=2))
    assert data.num_train == 2 and data.val_pairs == []
    src, src_len, _, _ = data.val_arrays()
    assert src.shape == (0, data.num_steps) and src_len.shape == (0,)


def test_fra_eng_held_out_skips_repeated_sources(data_dir):
    # pairs 1000 and 1001 of the file are both "Who is it?" (with different translations)
    data = load_pairs(PairsConfig(num_examples=1000, num_steps=10, val_examples=200), data_dir)
    assert data.train_pairs[-1][0] == ["who", "is", "it", "?"]
    assert len(data.val_pairs) == 200
    train_sources = {tuple(s) for s, _ in data.train_pairs}
    assert not any(tuple(s) in train_sources for s, _ in data.val_pairs)
    assert data.val_pairs[0][0] != ["who", "is", "it", "?"]


def test_bad_line_names_its_number(tmp_path):
    path = _write(tmp_path, "Go.\tVa !\n\nHi.\tSalut !\nno tab here\nRun!\tCours !\n")
    with pytest.raises(DataError, match=r"line 4\b"):
        load_pairs(PairsConfig(source=path))
    with pytest.raises(DataError, match=r"line 2\b.*empty field"):
        load_pairs(PairsConfig(source=_write(tmp_path, "Go.\tVa !\nHi.\t \n", "b.tsv")))
    with pytest.raises(DataError, match=r"line 1\b.*4 tab-separated"):
        load_pairs(PairsConfig(source=_write(tmp_path, "a\tb\tc\td\n", "c.tsv")))


def test_unreadable_files(tmp_path):
    (tmp_path / "empty.tsv").write_text(" \n\n", encoding="utf-8")
    (tmp_path / "bin.tsv").write_bytes(b"go\t\x00va\n")
    (tmp_path / "latin1.tsv").write_bytes("café\tcafé\n".encode("latin-1"))
    for name, message in [("empty.tsv", "is empty"), ("bin.tsv", "binary"), ("latin1.tsv", "not valid UTF-8"),
                          ("missing.tsv", "not found")]:
        with pytest.raises(DataError, match=message) as info:
            load_pairs(PairsConfig(source=str(tmp_path / name)))
        assert "\n" not in str(info.value)
    with pytest.raises(DataError, match="leaves none to train on"):
        load_pairs(PairsConfig(source=_write(tmp_path, PAIRS_2), val_examples=4))


def test_fra_eng_as_the_book(data_dir):
    data = load_pairs(PairsConfig(num_examples=600, num_steps=10), data_dir)
    assert data.num_train == 600 and data.src.shape == data.tgt.shape == (600, 10)
    assert data.train_pairs[0] == (["go", "."], ["va", "!"])
    assert data.train_pairs[2] == (["run", "!"], ["cours", "!"])  # "Cours\u202f!"
    assert data.src_valid_len[0].item() == 3
    assert len(data.src_vocab) == 184  # the book's len(src_vocab) for 600 pairs


def test_encode_source_reports_unknown_words():
    vocab = Vocab([["go", ".", "go", "."]], min_freq=1, reserved_tokens=[PAD, BOS, EOS])
    ids, valid, unknown = encode_source("Go Zorp.", vocab, 6)
    assert ids == [vocab["go"], 0, vocab["."], vocab[EOS], vocab[PAD], vocab[PAD]] and valid == 4
    assert unknown == ["zorp"]
    with pytest.raises(ConfigError, match="empty"):
        encode_source("   ", vocab, 6)


# ---------------------------------------------------------------------------------------------- BLEU


def test_bleu_against_hand_computation():
    # p1 = 3/4, p2 = 1/3 (only "il est" matches), no brevity penalty
    assert round(bleu("il est riche .".split(), "il est calme .".split(), k=2), 3) == 0.658
    assert bleu("il est riche .".split(), "il est calme .".split()) == pytest.approx(
        (3 / 4) ** 0.5 * (1 / 3) ** 0.25)
    assert round(bleu("je suis en retard ?".split(), "je suis chez moi .".split()), 3) == 0.447
    assert bleu("va !".split(), "va !".split()) == 1.0
    assert bleu("j'ai perdu .".split(), "j'ai perdu .".split(), k=3) == 1.0
    assert bleu("a b c".split(), "x y z".split()) == 0.0
    assert bleu([], "va !".split()) == 0.0


def test_bleu_brevity_penalty_and_clipping():
    # all n-grams of the short prediction match; only exp(1 - 4/2) is left
    assert bleu("il est".split(), "il est calme .".split()) == pytest.approx(math.exp(1 - 4 / 2))
    assert bleu("il est calme . !".split(), "il est calme .".split()) < 1  # longer: precision, no penalty
    # clipped counts: "le le le" matches "le" once only (longer than the label: no penalty)
    assert bleu("le le le".split(), "le chat".split(), k=1) == pytest.approx((1 / 3) ** 0.5)
    assert corpus_bleu([("va !".split(), "va !".split()), ("a".split(), "b".split())]) == pytest.approx(0.5)
    assert corpus_bleu([]) == 0.0


# ---------------------------------------------------------------------------------------------- loss


def test_masked_loss_is_the_true_mean_over_valid_tokens():
    torch.manual_seed(0)
    logits = torch.randn(3, 5, 7)
    labels = torch.randint(0, 7, (3, 5))
    valid = torch.tensor([5, 2, 0])
    loss, n = masked_cross_entropy(logits, labels, valid)
    terms = [-F.log_softmax(logits[b, t], -1)[labels[b, t]] for b in range(3) for t in range(valid[b])]
    assert n == 7
    assert loss.item() == pytest.approx(sum(t.item() for t in terms) / 7, rel=1e-6)
    changed = logits.clone()
    changed[1, 2:] = 100 * torch.randn(3, 7)  # pad positions of row 1, all of row 2
    changed[2] = -50.0
    assert masked_cross_entropy(changed, labels, valid)[0].item() == pytest.approx(loss.item(), rel=1e-6)


# ---------------------------------------------------------------------------------------------- model


def test_shape_report_of_the_books_example():
    rows = dict(shape_report(vocab_size=10, embed_size=8, num_hiddens=16, num_layers=2, batch_size=4,
                             num_steps=7, kind="gru"))
    assert rows["encoder outputs (steps, batch, hiddens)"] == (7, 4, 16)
    assert rows["encoder state (layers, batch, hiddens)"] == (2, 4, 16)
    assert rows["decoder inputs: embedding + context (steps, batch, embed + hiddens)"] == (7, 4, 24)
    assert rows["logits (batch, steps, vocab)"] == (4, 7, 10)
    lstm = dict(shape_report(10, 8, 16, 2, 4, 7, kind="lstm"))
    assert lstm["encoder memory cell (layers, batch, hiddens)"] == (2, 4, 16)
    assert all(isinstance(s, tuple) and all(type(d) is int for d in s) for s in rows.values())


@pytest.mark.parametrize("kind", ["gru", "lstm"])
def test_decoding_step_by_step_matches_teacher_forcing(kind):
    torch.manual_seed(0)
    model = make_seq2seq(kind, 11, 13, 8, 16, 2).eval()
    src, tgt = torch.randint(0, 11, (3, 6)), torch.randint(0, 13, (3, 6))
    logits = model(src, torch.full((3,), 6), tgt)
    state = model.begin(src)
    for t in range(6):
        step, state = model.decoder(tgt[:, t: t + 1], state)
        assert torch.allclose(step[:, 0], logits[:, t], atol=1e-5)


def test_build_seq2seq_follows_the_config():
    config = ExperimentConfig(task="seq2seq").replace(
        model={"kind": "gru", "embed_size": 32, "num_hiddens": 32, "num_layers": 2, "dropout": 0.1})
    model = build_seq2seq(config, 184, 201)
    assert model.encoder.rnn.num_layers == 2 and model.encoder.rnn.dropout == 0.1
    assert model.decoder.rnn.input_size == 64 and model.decoder.dense.out_features == 201
    one_hot = build_seq2seq(config.replace(model={"embed_size": 0}), 5, 6)
    assert one_hot.encoder.embedding.weight.equal(torch.eye(5)) and not one_hot.encoder.embedding.weight.requires_grad
    with pytest.raises(ConfigError, match="scratch"):
        build_seq2seq(config.replace(model={"impl": "scratch"}), 5, 6)


# ---------------------------------------------------------------------------------------------- decoding


def _random_model(seed: int, kind: str = "gru"):
    torch.manual_seed(seed)
    vocab = Vocab([[f"w{i}" for i in range(9)] * 2], min_freq=1, reserved_tokens=[PAD, BOS, EOS])
    model = make_seq2seq(kind, len(vocab), len(vocab), 8, 16, 2, dropout=0.1)
    with torch.no_grad():  # make <eos> likely enough that some hypotheses end early
        model.decoder.dense.bias[vocab[EOS]] += 1.5
    return model, vocab


@pytest.mark.parametrize("seed", range(6))
def test_beam_one_is_greedy(seed):
    model, vocab = _random_model(seed, "lstm" if seed % 2 else "gru")
    ids, valid, _ = encode_source("w1 w2 w3", vocab, 8)
    tokens, score = greedy(model, ids, valid, vocab, 8)
    hyps = beam_search(model, ids, valid, vocab, 8, beam_size=1)
    assert len(hyps) == 1 and hyps[0][0] == tokens and hyps[0][1] == pytest.approx(score, abs=1e-5)
    assert model.training  # decoding restores the mode
    batch = greedy_batch(model, torch.tensor([ids, ids]), torch.tensor([valid, valid]), vocab, 8)
    assert [b[0] for b in batch] == [tokens, tokens]


@pytest.mark.parametrize("seed", range(4))
def test_beam_search_orders_hypotheses_by_normalised_score(seed):
    model, vocab = _random_model(seed)
    ids, valid, _ = encode_source("w4 w5", vocab, 6)
    hyps = beam_search(model, ids, valid, vocab, 6, beam_size=3, alpha=0.75)
    scores = [s for _, s in hyps]
    assert len(hyps) >= 3 and scores == sorted(scores, reverse=True)
    # each score is log P / L^0.75 of its tokens (+ <eos> when it ended), recomputed by teacher forcing
    for tokens, score in hyps:
        out = vocab[tokens] + ([vocab[EOS]] if len(tokens) < 6 else [])
        model.eval()
        logits = model(torch.tensor([ids]), torch.tensor([valid]),
                       torch.tensor([[vocab[BOS]] + out[:-1]]))
        log_p = F.log_softmax(logits[0], -1).gather(1, torch.tensor(out)[:, None]).sum().item()
        assert score == pytest.approx(normalised_score(log_p, len(out), 0.75), abs=1e-4)
    with pytest.raises(ConfigError, match="beam"):
        beam_search(model, ids, valid, vocab, 6, beam_size=0)


def test_translate_reports_unknown_words_and_rejects_empty():
    model, vocab = _random_model(0)
    t = translate(model, "W1 zorp w2", vocab, vocab, 8, beam=2)
    assert isinstance(t, Translation) and t.unknown == ["zorp"] and t.text == " ".join(t.tokens)
    assert t.source == "W1 zorp w2" and t.score == t.hypotheses[0][1] and isinstance(t.score, float)
    assert EOS not in t.tokens
    with pytest.raises(ConfigError, match="empty"):
        translate(model, "", vocab, vocab, 8)


# ---------------------------------------------------------------------------------------------- training


def test_teacher_forcing_input():
    tgt = torch.tensor([[5, 6, 3, 1], [7, 3, 1, 1]])
    assert teacher_forcing_input(tgt, 2).tolist() == [[2, 5, 6, 3], [2, 7, 3, 1]]


def test_short_fit_with_the_trainer_lowers_the_loss(data_dir):
    config = ExperimentConfig(name="tiny-mt", task="seq2seq").replace(
        pairs={"num_examples": 200, "val_examples": 20, "num_steps": 8, "batch_size": 32},
        model={"kind": "gru", "embed_size": 16, "num_hiddens": 32, "num_layers": 2, "dropout": 0.1},
        train={"optimizer": "adam", "lr": 0.01, "epochs": 6, "clip": 1.0, "seed": 0, "device": "cpu"},
        sample={"sentences": ["go .", "i lost ."], "references": ["va !", "j'ai perdu ."]},
    )
    parts = build_seq2seq_experiment_parts(config, data_dir)
    task = parts.task
    assert task.steps_per_epoch() == 7 and "GRU encoder-decoder" in task.describe()
    epochs: list[EpochEnded] = []
    def keep(event) -> None:
        if isinstance(event, EpochEnded):
            epochs.append(event)

    end = Trainer(task, config.train, parts.device, [keep]).fit()
    assert end.status == "finished"
    losses = [e.metrics["train_loss"] for e in epochs]
    assert losses[-1] < 0.8 * losses[0]
    last = epochs[-1]
    assert set(last.metrics) == {"train_loss", "val_bleu", "val_loss"}
    assert 0 <= last.metrics["val_bleu"] <= 1 and math.isfinite(last.metrics["val_loss"])
    assert last.sample.startswith("go . => ") and " | i lost . => " in last.sample and "(bleu " in last.sample
    assert all(type(v) is float for v in last.metrics.values())
    # without held-out pairs, the sample sentences are scored instead
    no_val = build_seq2seq_experiment_parts(config.replace(pairs={"val_examples": 0}), data_dir).task
    assert set(no_val.evaluate()) == {"sample_bleu"}
