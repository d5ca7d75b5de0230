"""Softmax policies over K arms, vectorized over seeds; the closed-form KL-regularized optimum.

Arrays are ``[S, K]`` (seeds x arms) unless stated; everything is plain numpy. ``kl_optimum``
lives in ``collapselab.optimum`` (the project's one copy of that math) and is re-exported here.
"""

from __future__ import annotations

import numpy as np

from collapselab.optimum import kl_optimum  # noqa: F401 - re-exported: toy code imports it from here


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


def sample_categorical(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One draw per row of ``probs [S, K]`` by inverse CDF: returns arm indices ``[S]``."""
    u = rng.random((probs.shape[0], 1))
    idx = (np.cumsum(probs, axis=1) < u).sum(axis=1)
    return np.minimum(idx, probs.shape[1] - 1)
