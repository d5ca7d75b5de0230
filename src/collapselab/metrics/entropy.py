"""Token-level entropy (Experiment 3, sec. 3.3, eqs. 3.1-3.2)."""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor


def _check_logits(logits: Tensor, temperature: float) -> None:
    if not isinstance(logits, Tensor):
        raise TypeError(f"logits must be a torch.Tensor, got {type(logits).__name__}")
    if logits.ndim == 0 or logits.shape[-1] == 0 or logits.numel() == 0:
        raise ValueError(f"logits must have shape [..., V] with V >= 1 and no empty dims, got {tuple(logits.shape)}")
    if not temperature > 0:
        raise ValueError(f"temperature={temperature}: must be > 0")


def _entropy_bits(p: Tensor) -> Tensor:
    # 0 * log 0 = 0: mask zero probabilities instead of letting log give -inf * 0 = nan.
    logp = torch.where(p > 0, torch.log2(p.clamp_min(torch.finfo(p.dtype).tiny)), torch.zeros_like(p))
    return -(p * logp).sum(-1)


def topk_entropy_bits(logits: Tensor, k: int = 5, temperature: float = 1.0) -> Tensor:
    """Shannon entropy (bits) of the renormalised top-k next-token probabilities, eq. 3.2.

    logits: [..., V] -> [...] float32, values in [0, log2 k].
    Pr(tok) = softmax(logits / T) over the full vocabulary (eq. 3.1); the k largest are kept and
    renormalised to sum 1; H = -sum_j p_j log2 p_j. -inf logits are fine (probability 0).
    If V < k, the whole vocabulary is used. A row of all -inf logits raises ValueError.
    """
    _check_logits(logits, temperature)
    if k < 1:
        raise ValueError(f"k={k}: must be >= 1")
    x = logits.detach().float() / temperature
    if torch.isneginf(x).all(-1).any():
        raise ValueError("logits: a row is all -inf (no token has probability > 0)")
    probs = torch.softmax(x, dim=-1)  # eq. 3.1 over the full vocabulary
    top = probs.topk(min(k, probs.shape[-1]), dim=-1).values
    top = top / top.sum(-1, keepdim=True)
    return _entropy_bits(top)  # eq. 3.2


def full_entropy_bits(logits: Tensor, temperature: float = 1.0) -> Tensor:
    """Shannon entropy (bits) of softmax(logits / T) over the full vocabulary.

    logits: [..., V] -> [...] float32, values in [0, log2 V]. Uses log_softmax for stability.
    """
    _check_logits(logits, temperature)
    x = logits.detach().float() / temperature
    if torch.isneginf(x).all(-1).any():
        raise ValueError("logits: a row is all -inf (no token has probability > 0)")
    logp = torch.log_softmax(x, dim=-1)
    p = logp.exp()
    plogp = torch.where(p > 0, p * logp, torch.zeros_like(p))
    return -plogp.sum(-1) / math.log(2)


def completion_means(per_token: Tensor | np.ndarray, mask: Tensor | np.ndarray) -> np.ndarray:
    """Average of a per-token value over each completion's generated tokens (sec. 3.3).

    per_token: [N, T] float, mask: [N, T] bool (True = generated token) -> np.ndarray [N] float64.
    A completion with no generated tokens gives nan. Values at masked-out positions are ignored,
    even if nan/inf.
    """
    v = per_token.detach().cpu().double().numpy() if isinstance(per_token, Tensor) else np.asarray(per_token, float)
    m = mask.detach().cpu().numpy() if isinstance(mask, Tensor) else np.asarray(mask)
    m = m.astype(bool)
    if v.ndim != 2 or v.shape[0] == 0:
        raise ValueError(f"per_token must have shape [N, T] with N >= 1, got {v.shape}")
    if m.shape != v.shape:
        raise ValueError(f"mask shape {m.shape} must equal per_token shape {v.shape}")
    counts = m.sum(1)
    sums = np.where(m, v, 0.0).sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
