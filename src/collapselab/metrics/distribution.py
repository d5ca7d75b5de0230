"""Distances between categorical distributions: a model's persona attributes vs ground truth."""

from __future__ import annotations

import numpy as np


def _aligned(p, q) -> tuple[np.ndarray, np.ndarray]:
    """Turn two dicts (union of keys, missing = 0) or two equal-length arrays into normalised
    probability vectors."""
    if isinstance(p, dict) != isinstance(q, dict):
        raise TypeError("p and q must both be dicts or both be arrays")
    if isinstance(p, dict):
        keys = list(dict.fromkeys([*p, *q]))
        a = np.array([float(p.get(k, 0.0)) for k in keys])
        b = np.array([float(q.get(k, 0.0)) for k in keys])
    else:
        a, b = np.asarray(p, float).ravel(), np.asarray(q, float).ravel()
        if a.shape != b.shape:
            raise ValueError(f"p and q must have the same length, got {a.size} and {b.size}")
    return _normalise(a, "p"), _normalise(b, "q")


def _normalise(a: np.ndarray, name: str) -> np.ndarray:
    if a.size == 0:
        raise ValueError(f"{name} is empty")
    if not np.isfinite(a).all() or (a < 0).any():
        raise ValueError(f"{name} must be finite and non-negative")
    s = a.sum()
    if s <= 0:
        raise ValueError(f"{name} has total mass 0")
    return a / s


def total_variation(p, q) -> float:
    """Total-variation distance 0.5 * sum |p - q| in [0, 1].

    p, q: dicts {category: mass} (union of keys, missing = 0) or equal-length arrays.
    Both are normalised to sum 1 first.
    """
    a, b = _aligned(p, q)
    return float(0.5 * np.abs(a - b).sum())


def kl_divergence(p, q, eps: float = 1e-9) -> float:
    """KL(p || q) in nats: sum_i p_i ln(p_i / q_i), 0 ln 0 = 0.

    q is smoothed as (q + eps) / sum(q + eps) so a category q misses gives a large finite value
    rather than inf. p, q: dicts or arrays as in ``total_variation``.
    """
    if eps < 0:
        raise ValueError(f"eps={eps}: must be >= 0")
    a, b = _aligned(p, q)
    b = (b + eps) / (b + eps).sum()
    m = a > 0
    with np.errstate(divide="ignore"):
        return float(max(0.0, (a[m] * np.log(a[m] / b[m])).sum()))


def coverage(p_model, p_true) -> float:
    """Share of the true support (categories with p_true > 0) that the model gives mass > 0.

    Unweighted: every true category counts once. Dicts or equal-length arrays.
    """
    a, b = _aligned(p_model, p_true)
    support = b > 0
    return float((a[support] > 0).mean())


def normalized_entropy(p) -> float:
    """Shannon entropy of p divided by log(number of categories), in [0, 1].

    p: dict or array (normalised first); zero-mass categories count towards the number of
    categories. One category -> 0.0.
    """
    a = _normalise(np.asarray(list(p.values()) if isinstance(p, dict) else p, float).ravel(), "p")
    if a.size == 1:
        return 0.0
    nz = a[a > 0]
    return float(-(nz * np.log(nz)).sum() / np.log(a.size))
