"""The language-model task: next-token prediction on a corpus, with truncated BPTT."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from rnntui.config import ExperimentConfig
from rnntui.data.batches import lm_batches, num_sequential_batches, seq_data_iter_sequential
from rnntui.data.corpus import LMCorpus
from rnntui.decoding.generate import generate
from rnntui.models.lm import RNNLM, detach_state
from rnntui.training.metrics import perplexity


class LanguageModelTask:
    """Sequential partitioning carries the state from batch to batch (detached: truncated BPTT);
    random sampling starts every batch from a fresh state."""

    def __init__(self, model: RNNLM, corpus: LMCorpus, config: ExperimentConfig, device: torch.device) -> None:
        self.model = model
        self.corpus = corpus
        self.config = config
        self.device = device
        self.train_ids = corpus.train_ids.to(device)
        self.val_ids = corpus.val_ids.to(device)
        self.state = None

    def describe(self) -> str:
        m = self.config.model
        layers = f"{m.num_layers}-layer " if m.num_layers > 1 else ""
        bi = "bidirectional " if m.bidirectional else ""
        return f"{layers}{bi}{m.kind.upper()} ({m.impl}), {m.num_hiddens} hidden; {self.corpus.describe()}"

    def steps_per_epoch(self) -> int:
        d = self.config.data
        return num_sequential_batches(len(self.train_ids), d.batch_size, d.num_steps)

    def epoch_batches(self, generator: torch.Generator) -> list[tuple[torch.Tensor, torch.Tensor]]:
        self.state = None
        d = self.config.data
        return list(lm_batches(self.train_ids, d.batch_size, d.num_steps, d.sampling, generator))

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor]) -> tuple[torch.Tensor, int]:
        X, Y = batch
        state = detach_state(self.state) if self.config.data.sampling == "sequential" else None
        logits, self.state = self.model(X, state)  # (steps, batch, vocab)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), Y.T.reshape(-1))
        return loss, Y.numel()

    def epoch_metrics(self, train_loss: float) -> dict[str, float]:
        return {"train_ppl": perplexity(train_loss)}

    @torch.no_grad()
    def evaluate(self) -> dict[str, float]:
        """Perplexity on the held-out text, read in order with the state carried across batches."""
        d = self.config.data
        batch_size = max(1, min(d.batch_size, (len(self.val_ids) - 1) // d.num_steps))
        state, nll, count = None, 0.0, 0
        for X, Y in seq_data_iter_sequential(self.val_ids, batch_size, d.num_steps, offset=0):
            logits, state = self.model(X, state)
            nll += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), Y.T.reshape(-1), reduction="sum").item()
            count += Y.numel()
        mean = nll / max(count, 1)
        return {"val_loss": mean, "val_ppl": perplexity(mean)}

    def sample(self) -> str:
        s = self.config.sample
        if not s.num_tokens or not s.prefix.strip():
            return ""
        return generate(self.model, self.corpus.vocab, s.prefix, s.num_tokens, self.corpus.token,
                        lowercase=self.config.data.preprocess != "none").text
