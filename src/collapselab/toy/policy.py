"""Softmax policies over K arms, vectorized over seeds, and the closed-form KL-regularized optimum.

Arrays are ``[S, K]`` (seeds x arms) unless stated; everything is plain numpy.
"""

from __future__ import annotations

import numpy as np


def softmax(logits: np.ndarray) -> np.ndarray:
    """``[..., K]`` logits -> ``[..., K]`` probabilities (max-shifted for stability)."""
    z = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def log_softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def entropy_bits(probs: np.ndarray) -> np.ndarray:
    """Shannon entropy in bits over the last axis: ``[..., K] -> [...]`` (0 log 0 = 0)."""
    p = np.asarray(probs, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * np.log2(np.where(p > 0, p, 1.0)), 0.0)
    return -terms.sum(axis=-1)


def total_variation(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """``0.5 * sum |p - q|`` over the last axis."""
    return 0.5 * np.abs(np.asarray(p, float) - np.asarray(q, float)).sum(axis=-1)


def kl_optimum(pi0: np.ndarray, rewards: np.ndarray, beta: float) -> np.ndarray:
    """Maximiser of ``E_pi[R] - beta * KL(pi || pi0)`` (the objective behind eq. 5.2): ``pi0 exp(R/beta) / Z``.

    ``beta = 0`` gives the unregularised limit: all mass on the best arm(s), split by ``pi0``.
    ``pi0``, ``rewards``: ``[K]``; returns ``[K]``.
    """
    pi0 = np.asarray(pi0, float)
    r = np.asarray(rewards, float)
    if beta < 0:
        raise ValueError(f"beta={beta}: must be >= 0")
    if beta == 0:
        w = np.where(r == r.max(), pi0, 0.0)
        return w / w.sum()
    return softmax(np.log(pi0) + r / beta)


def sample_categorical(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One draw per row of ``probs [S, K]`` by inverse CDF: returns arm indices ``[S]``."""
    u = rng.random((probs.shape[0], 1))
    idx = (np.cumsum(probs, axis=1) < u).sum(axis=1)
    return np.minimum(idx, probs.shape[1] - 1)
