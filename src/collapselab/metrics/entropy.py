"""Token-level entropy (Experiment 3, sec. 3.3, eqs. 3.1-3.2)."""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor

from collapselab.metrics.registry import PaperValues, register


def _check_logits(logits: Tensor, temperature: float) -> None:
    if not isinstance(logits, Tensor):
        raise TypeError(f"logits must be a torch.Tensor, got {type(logits).__name__}")
    if logits.ndim == 0 or logits.shape[-1] == 0 or logits.numel() == 0:
        shape = tuple(logits.shape)
        raise ValueError(f"logits must have shape [..., V] with no empty dimension, got {shape}")
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
    Computed without materialising the full softmax: softmax is monotone, and the renormalised
    top-k of softmax(l / T) equals softmax over the top-k logits / T (the partition cancels).
    """
    _check_logits(logits, temperature)
    if k < 1:
        raise ValueError(f"k={k}: must be >= 1")
    top_logits = logits.detach().topk(min(k, logits.shape[-1]), dim=-1).values.float()
    if torch.isneginf(top_logits[..., 0]).any():
        raise ValueError("logits: a row is all -inf (no token has probability > 0)")
    top = torch.softmax(top_logits / temperature, dim=-1)  # eq. 3.1, renormalised over the top k
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
    if isinstance(per_token, Tensor):
        v = per_token.detach().cpu().double().numpy()
    else:
        v = np.asarray(per_token, float)
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


# --- registered keys (Experiment 3, sec. 3.3 and 4.3): the probe averages the per-token values
# above over each completion's generated tokens (completion_means), then over completions
register(
    "entropy/top5_bits_mean", higher_is_better=True, probe="entropy", more_diverse=True, ci="bootstrap_mean",
    description="mean over completions of each completion's average renormalised top-5 entropy (bits, eq. 3.2)",
    derived="mean over completions of completion_means(topk_entropy_bits(logits, 5)) (probes/entropy.py)",
    # sec. 4.3, Fig. 11: "mean entropy of 1.48 (STD = 0.17) ... aligned model 0.96 (STD = 0.12)"
    paper=PaperValues(3, "4.3, Fig. 11", "1.48 (sd 0.17)", "0.96 (sd 0.12)", -1),
)
register(
    "entropy/top5_bits_sd", higher_is_better=False, probe="entropy",
    description="sd over completions of the per-completion average top-5 entropy (bits)",
    derived="sd over completions of completion_means(topk_entropy_bits(logits, 5)) (probes/entropy.py)",
)
register(
    "entropy/full_bits_mean", higher_is_better=True, probe="entropy", more_diverse=True, ci="bootstrap_mean",
    description="mean over completions of the average full-vocabulary next-token entropy (bits)",
    derived="mean over completions of completion_means(full_entropy_bits(logits)) (probes/entropy.py)",
)
register(
    "entropy/sampled_bits_mean", higher_is_better=True, probe="entropy", more_diverse=True, ci="bootstrap_mean",
    description="mean over completions of the average entropy (bits) of the distribution each token was drawn "
                "from, after the decoding group's truncation, mixing and temperature (= full_bits_mean for plain "
                "untruncated sampling)",
    derived="mean over completions of completion_means(Sample.sampled_bits) (probes/entropy.py; "
            "probes.decoding.entropy_bits per token)",
)
# not in the paper: a fluency check beside eq. 3.2. A model that breaks its language (a policy drifting far from
# its reference at a small KL beta) is uncertain at the broken tokens, so its top-5 entropy can rise while its
# diversity does not
register(
    "entropy/base_nll", higher_is_better=False, probe="entropy", ci="bootstrap_mean",
    description="mean per-token negative log-likelihood (nats) of the Steve completions under the base model "
                "(a pretrained base: under itself); high values mark disfluent text, whose token entropy "
                "measures breakage rather than variety",
    derived="mean over completions of the base model's continuation_nll(prompt, completion) (probes/entropy.py)",
)
