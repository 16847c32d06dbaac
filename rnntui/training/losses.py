"""Losses over padded sequences."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def valid_mask(valid_len: torch.Tensor, num_steps: int) -> torch.Tensor:
    """(batch, num_steps) bool: True at positions before each sequence's valid length."""
    return torch.arange(num_steps, device=valid_len.device)[None, :] < valid_len[:, None]


def masked_cross_entropy(
    logits: torch.Tensor, labels: torch.Tensor, valid_len: torch.Tensor
) -> tuple[torch.Tensor, int]:
    """(mean cross-entropy per non-pad token as a 0-d tensor, number of non-pad tokens).

    ``logits`` (batch, steps, vocab), ``labels`` (batch, steps), ``valid_len`` (batch,). The mean is the
    true one: the sum of the per-token losses at valid positions divided by their count, once (the book's
    ``MaskedSoftmaxCELoss`` also averages over all steps first, d2l-en issue #2076). Pad positions do not
    contribute, whatever their logits."""
    per_token = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1), reduction="none")
    mask = valid_mask(valid_len, labels.shape[1]).reshape(-1)
    count = int(mask.sum().item())
    total = torch.where(mask, per_token, torch.zeros_like(per_token)).sum()
    return total / max(count, 1), count
