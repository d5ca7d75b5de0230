"""Attractor states (sec. 5.1): does a perturbed generation return to the model's usual path?

Two views of "returning": token probabilities go back to their unperturbed level
(``recovery_tokens``), and the finished text lands inside one of the unperturbed clusters
(``cluster_radii`` + ``nearest_cluster``).
"""

from __future__ import annotations

import numpy as np

from collapselab.metrics.registry import register


def recovery_tokens(perturbed_logprobs, reference_level: float, window: int = 3,
                    tolerance: float = 0.5) -> int:
    """Tokens generated before the sampled-token log-probability recovers (sec. 5.1, Fig. 14).

    perturbed_logprobs: [T] log-probabilities (nats) of the sampled tokens after the perturbed
    prompt; reference_level: the model's typical sampled-token log-probability without the
    perturbation (e.g. the mean over unperturbed completions).
    Rule: the first t in 0..T-1 such that mean(perturbed_logprobs[t : t + window]) >=
    reference_level - tolerance (the window is truncated at the end of the sequence);
    returns T if there is no such t. 0 means the model was never pushed off its level.
    """
    lp = np.asarray(perturbed_logprobs, dtype=float).ravel()
    if lp.size == 0:
        raise ValueError("perturbed_logprobs is empty: need at least one generated token")
    if window < 1:
        raise ValueError(f"window={window}: must be >= 1")
    if tolerance < 0:
        raise ValueError(f"tolerance={tolerance}: must be >= 0")
    if np.isnan(lp).any() or not np.isfinite(reference_level):
        raise ValueError("perturbed_logprobs and reference_level must not be nan")
    threshold = reference_level - tolerance
    csum = np.concatenate([[0.0], np.cumsum(lp)])
    t = np.arange(lp.size)
    end = np.minimum(t + window, lp.size)
    with np.errstate(invalid="ignore"):
        means = (csum[end] - csum[t]) / (end - t)
    hit = np.flatnonzero(means >= threshold)
    return int(hit[0]) if hit.size else int(lp.size)


def _unit(x: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(x, axis=-1, keepdims=True)
    return np.divide(x, n, out=np.zeros_like(x), where=n > 0)


def cluster_radii(emb, labels, centroids, q: float = 0.9) -> np.ndarray:
    """Radius of each cluster: the q-quantile of its members' cosine distances (1 - cos) to its
    centroid. emb: [N, D], labels: [N] ints in 0..K-1, centroids: [K, D] -> [K]. A cluster with
    no members gets radius 0."""
    x = np.asarray(emb, float)
    lab = np.asarray(labels).ravel()
    c = np.asarray(centroids, float)
    if x.ndim != 2 or x.shape[0] == 0:
        raise ValueError(f"emb must have shape [N >= 1, D], got {x.shape}")
    if c.ndim != 2 or c.shape[0] == 0 or c.shape[1] != x.shape[1]:
        raise ValueError(f"centroids must have shape [K >= 1, {x.shape[1]}], got {c.shape}")
    if lab.shape != (x.shape[0],):
        raise ValueError(f"labels must have shape [{x.shape[0]}], got {lab.shape}")
    if (lab < 0).any() or (lab >= c.shape[0]).any():
        raise ValueError(f"labels must lie in 0..{c.shape[0] - 1}")
    if not 0 <= q <= 1:
        raise ValueError(f"q={q}: must be in [0, 1]")
    dist = 1.0 - (_unit(x) * _unit(c)[lab]).sum(1)
    return np.array([float(np.quantile(dist[lab == k], q)) if (lab == k).any() else 0.0
                     for k in range(c.shape[0])])


def nearest_cluster(emb, centroids, radii) -> int:
    """Index of the cluster whose centroid is nearest to ``emb`` by cosine distance (1 - cos),
    or -1 if that distance exceeds the cluster's radius (the text left every attractor).
    emb: [D], centroids: [K, D], radii: [K] -> int. Ties go to the lowest index."""
    e = np.asarray(emb, float).ravel()
    c = np.asarray(centroids, float)
    r = np.asarray(radii, float).ravel()
    if e.size == 0:
        raise ValueError("emb is empty")
    if c.ndim != 2 or c.shape[0] == 0 or c.shape[1] != e.size:
        raise ValueError(f"centroids must have shape [K >= 1, {e.size}], got {c.shape}")
    if r.shape != (c.shape[0],):
        raise ValueError(f"radii must have shape [{c.shape[0]}], got {r.shape}")
    dist = 1.0 - _unit(c) @ _unit(e)
    k = int(np.argmin(dist))
    return k if dist[k] <= r[k] + 1e-12 else -1


# --- registered keys (sec. 5.1); the probe applies the functions above to each perturbed generation
register(
    "attractor/recovery_rate", higher_is_better=False, probe="attractor", more_diverse=False, ci="bootstrap_mean",
    description="share of perturbed generations that return to an unperturbed cluster",
    derived="mean over perturbed generations of nearest_cluster(...) != -1 (probes/attractor.py)",
)
register(
    "attractor/recovery_tokens_mean", higher_is_better=False, probe="attractor", more_diverse=True,
    ci="bootstrap_mean",
    description="mean tokens until the sampled-token log-probability returns to its unperturbed level",
    derived="mean over perturbed generations of recovery_tokens(...) (probes/attractor.py)",
)
