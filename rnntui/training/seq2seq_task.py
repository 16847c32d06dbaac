"""The translation task: an encoder-decoder trained with teacher forcing on sentence pairs."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from pathlib import Path

import torch

from rnntui.config import ExperimentConfig
from rnntui.data.translation import BOS, TranslationData, load_pairs, preprocess, tokenize
from rnntui.decoding.translate import Translation, greedy_batch, translate
from rnntui.models.seq2seq import EncoderDecoder, build_seq2seq
from rnntui.training.losses import masked_cross_entropy
from rnntui.training.metrics_bleu import bleu, corpus_bleu
from rnntui.training.trainer import resolve_device

BLEU_K = 2

Batch = tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]  # src, src_valid_len, tgt, tgt_valid_len


def teacher_forcing_input(tgt: torch.Tensor, bos: int) -> torch.Tensor:
    """``<bos>`` followed by the target shifted right by one (its last token dropped)."""
    start = torch.full((tgt.shape[0], 1), bos, dtype=tgt.dtype, device=tgt.device)
    return torch.cat((start, tgt[:, :-1]), dim=1)


class Seq2SeqTask:
    """Shuffled minibatches of pairs; the loss is the masked mean cross-entropy per target token."""

    def __init__(self, model: EncoderDecoder, data: TranslationData, config: ExperimentConfig,
                 device: torch.device) -> None:
        self.model = model
        self.data = data
        self.config = config
        self.device = device
        self.bos = data.tgt_vocab[BOS]
        self.arrays = tuple(a.to(device) for a in (data.src, data.src_valid_len, data.tgt, data.tgt_valid_len))
        self.val_arrays = tuple(a.to(device) for a in data.val_arrays()) if data.val_pairs else None

    def describe(self) -> str:
        m = self.config.model
        layers = f"{m.num_layers}-layer " if m.num_layers > 1 else ""
        embed = f"embed {m.embed_size}" if m.embed_size else "one-hot inputs"
        return (f"{layers}{m.kind.upper()} encoder-decoder, {embed}, {m.num_hiddens} hidden, "
                f"dropout {m.dropout:g}; {self.data.describe()}")

    def steps_per_epoch(self) -> int:
        return math.ceil(self.data.num_train / self.config.pairs.batch_size)

    def epoch_batches(self, generator: torch.Generator) -> list[Batch]:
        order = torch.randperm(self.data.num_train, generator=generator).to(self.device)
        size = self.config.pairs.batch_size
        return [tuple(a[idx] for a in self.arrays) for idx in order.split(size)]

    def _loss(self, batch: Batch) -> tuple[torch.Tensor, int]:
        src, src_len, tgt, tgt_len = batch
        logits = self.model(src, src_len, teacher_forcing_input(tgt, self.bos))
        return masked_cross_entropy(logits, tgt, tgt_len)

    def training_step(self, batch: Batch) -> tuple[torch.Tensor, int]:
        return self._loss(batch)

    def epoch_metrics(self, train_loss: float) -> dict[str, float]:
        return {}  # train_loss is already the mean loss per target token

    @torch.no_grad()
    def evaluate(self) -> dict[str, float]:
        """val_bleu (greedy, k = 2) and val_loss on the held-out pairs; without them, sample_bleu over the
        sample sentences that have references (nothing when there are none)."""
        if self.val_arrays is None:
            scored = [(t.tokens, ref) for t, ref in self._sample_translations() if ref is not None]
            return {"sample_bleu": corpus_bleu(scored, BLEU_K)} if scored else {}
        size = self.config.pairs.batch_size
        nll, count, preds = 0.0, 0, []
        for start in range(0, len(self.val_arrays[0]), size):
            batch = tuple(a[start: start + size] for a in self.val_arrays)
            loss, n = self._loss(batch)
            nll += loss.item() * n
            count += n
            preds += greedy_batch(self.model, batch[0], batch[1], self.data.tgt_vocab, self.data.num_steps)
        pairs = [(tokens, ref) for (tokens, _), (_, ref) in zip(preds, self.data.val_pairs)]
        return {"val_bleu": corpus_bleu(pairs, BLEU_K), "val_loss": nll / max(count, 1)}

    def translate(self, sentence: str, beam: int = 1) -> Translation:
        return translate(self.model, sentence, self.data.src_vocab, self.data.tgt_vocab, self.data.num_steps, beam)

    def _sample_translations(self) -> list[tuple[Translation, list[str] | None]]:
        s = self.config.sample
        refs = list(s.references) or [None] * len(s.sentences)
        out = []
        for sentence, ref in zip(s.sentences, refs):
            if not sentence.strip():
                continue
            out.append((self.translate(sentence), None if ref is None else tokenize(preprocess(ref))))
        return out

    def sample(self) -> str:
        """The sample sentences' translations: ``go . => va ! (bleu 1.000) | ...``."""
        parts = []
        for t, ref in self._sample_translations():
            text = f"{' '.join(tokenize(preprocess(t.source)))} => {t.text}"
            if ref is not None:
                text += f" (bleu {bleu(t.tokens, ref, BLEU_K):.3f})"
            parts.append(text)
        return " | ".join(parts)


@dataclass
class Seq2SeqParts:
    device: torch.device
    data: TranslationData
    model: EncoderDecoder
    task: Seq2SeqTask


def build_seq2seq_experiment_parts(config: ExperimentConfig, data_dir: str | Path | None = None) -> Seq2SeqParts:
    """Load the pairs and build the model under the config's seed (a CPU run repeats exactly)."""
    device = resolve_device(config.train.device)
    torch.manual_seed(config.train.seed)
    random.seed(config.train.seed)
    data = load_pairs(config.pairs, data_dir)
    model = build_seq2seq(config, len(data.src_vocab), len(data.tgt_vocab)).to(device)
    return Seq2SeqParts(device, data, model, Seq2SeqTask(model, data, config, device))
