"""Confidence intervals: percentile bootstrap for per-completion and set-level metrics (re-centred over
item indices for statistics a resample biases, such as distinct counts), Wilson for shares."""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np
from tqdm.auto import tqdm


def wilson_ci(successes: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """Wilson score interval of a share ``successes / n`` (95% at the default z).

    (p + z^2/2n -+ z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n): unlike the bootstrap it stays
    inside [0, 1] and keeps a width at p = 0 or 1, where a resampled share has none.
    """
    if n < 1 or not 0 <= successes <= n:
        raise ValueError(f"wilson_ci: need 0 <= successes <= n and n >= 1, got {successes} of {n}")
    p, z2 = successes / n, z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * np.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))


def _check_boot(n_boot: int, alpha: float) -> None:
    if n_boot < 1:
        raise ValueError(f"n_boot={n_boot}: must be >= 1")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha={alpha}: must be in (0, 1)")


def bootstrap_ci(values, stat: Callable = np.mean, n_boot: int = 1000, alpha: float = 0.05,
                 seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap (1 - alpha) interval of ``stat`` over ``values``.

    values: [N] numbers; nan entries (e.g. completions with no tokens) are dropped first.
    Resamples N values with replacement ``n_boot`` times in one [n_boot, N] array and calls
    ``stat(samples, axis=1)`` (numpy reductions), falling back to one call per resample if
    ``stat`` takes no ``axis``. Returns (lo, hi) = the alpha/2 and 1 - alpha/2 percentiles.
    """
    _check_boot(n_boot, alpha)
    v = np.asarray(values, dtype=float).ravel()
    v = v[~np.isnan(v)]
    if v.size == 0:
        raise ValueError("values: need at least one non-nan value for a bootstrap interval")
    rng = np.random.default_rng(seed)
    samples = v[rng.integers(0, v.size, size=(n_boot, v.size))]
    try:
        stats = np.asarray(stat(samples, axis=1), dtype=float)
        if stats.shape != (n_boot,):
            raise TypeError
    except TypeError:
        stats = np.array([stat(s) for s in samples], dtype=float)
    lo, hi = np.percentile(stats, [100 * alpha / 2, 100 * (1 - alpha / 2)])
    return float(lo), float(hi)


def bootstrap_ci_texts(texts: Sequence[str], fn: Callable[[list[str]], float], n_boot: int = 200,
                       seed: int = 0, alpha: float = 0.05) -> tuple[float, float]:
    """Percentile bootstrap interval of a set-level text metric ``fn(texts) -> float``
    (distinct_n, self_bleu, compression_ratio, ...): resample the N texts with replacement,
    recompute ``fn`` on each resample, take the alpha/2 and 1 - alpha/2 percentiles.
    Note duplicates from resampling bias set-level diversity metrics downwards; compare
    intervals computed the same way, not against the point estimate alone."""
    _check_boot(n_boot, alpha)
    texts = list(texts)
    if not texts:
        raise ValueError("texts: need at least one text for a bootstrap interval")
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(texts), size=(n_boot, len(texts)))
    stats = np.array([float(fn([texts[i] for i in row]))
                      for row in tqdm(idx, desc="bootstrap", leave=False, disable=n_boot < 50)])
    lo, hi = np.nanpercentile(stats, [100 * alpha / 2, 100 * (1 - alpha / 2)])
    return float(lo), float(hi)


def index_bootstrap_ci(n: int, fn: Callable[[np.ndarray], Any], n_boot: int = 200, seed: int = 0,
                       alpha: float = 0.05, *, batched: bool = False,
                       bounds: tuple[float, float] | None = None,
                       grid: float | None = None) -> tuple[float, float]:
    """Re-centred percentile bootstrap (1 - alpha) interval of a set-level statistic ``fn(indices)``.

    Resamples the n item indices with replacement ``n_boot`` times. A resample repeats items, so
    set-level statistics (distinct counts, coverage, plug-in entropy, silhouette-chosen k, Vendi)
    run low on it: the raw percentiles sit below the full-set value. They are re-centred: the
    bootstrap median is moved onto the point estimate ``fn(arange(n))``, keeping the bootstrap
    spread (the same rule as ``probes.base.add_index_ci``, same resamples for the same seed).
    Intervals computed this way are comparable with each other (base vs aligned), not exact.
    ``batched``: ``fn`` maps all resamples at once, ``[n_boot, n]`` indices -> ``[n_boot]``.
    ``bounds``: (lo, hi) range of the statistic; the interval is clipped into it (e.g. a
    coverage <= 1). ``grid``: the step of a statistic that only takes values on a grid (1 for a
    count or a cluster k, 1/16 for the share of 16 MBTI types): re-centred percentiles fall between
    its values (41.98 nationalities), so the bounds are rounded outward onto it, which widens the
    interval by less than one step. Returns (lo, hi).
    """
    _check_boot(n_boot, alpha)
    if n < 1:
        raise ValueError(f"n={n}: need at least one item for a bootstrap interval")
    rng = np.random.default_rng(seed)
    if batched:
        point = float(np.asarray(fn(np.arange(n)[None, :]))[0])
        stats = np.asarray(fn(rng.integers(0, n, size=(n_boot, n))), dtype=float)
    else:
        point = float(fn(np.arange(n)))
        stats = np.array([fn(rng.integers(0, n, size=n)) for _ in range(n_boot)], dtype=float)
    lo, med, hi = np.nanpercentile(stats, [100 * alpha / 2, 50, 100 * (1 - alpha / 2)])
    lo, hi = point - (med - lo), point + (hi - med)
    if grid is not None:  # outward; the 1e-9 keeps a bound already on the grid (up to round-off) where it is
        lo, hi = np.floor(lo / grid + 1e-9) * grid, np.ceil(hi / grid - 1e-9) * grid
    if bounds is not None:
        lo, hi = (float(min(max(v, bounds[0]), bounds[1])) for v in (lo, hi))
    return float(lo), float(hi)
