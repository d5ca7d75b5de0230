"""Bootstrap intervals, attractor metrics (sec. 5.1) and the metric registry."""

import numpy as np
import pytest

from collapselab.metrics import (
    METRICS,
    bootstrap_ci,
    bootstrap_ci_texts,
    cluster_radii,
    distinct_n,
    higher_is_more_diverse,
    index_bootstrap_ci,
    nearest_cluster,
    recovery_tokens,
    register,
)

DESIGN_KEYS = """
entropy/top5_bits_mean entropy/top5_bits_sd entropy/full_bits_mean
semantic/tfidf_cos_mean semantic/tfidf_cos_sd semantic/embed_cos_mean semantic/kmeans_k semantic/vendi
persona/parse_rate persona/n_first_names persona/n_last_names persona/n_nationalities
persona/n_ethnicities persona/mbti_coverage persona/age_min persona/age_max persona/age_sd
persona/female_share persona/sentiment_min persona/sentiment_max persona/sentiment_mean
persona/review_chars_mean persona/review_kmeans_k
attractor/recovery_rate attractor/recovery_tokens_mean
lexical/distinct_1 lexical/distinct_2 lexical/self_bleu lexical/compression_ratio
quality/reward_mean quality/base_nll quality/toxicity_rate
""".split()


def test_bootstrap_hand_value():
    """Values [0, 1]: a resampled mean is 0, .5, 1 with probability 1/4, 1/2, 1/4, so its 30th
    and 70th percentiles (alpha = .6) both fall on 0.5."""
    assert bootstrap_ci([0.0, 1.0], n_boot=4000, alpha=0.6) == (0.5, 0.5)


def test_bootstrap_constant_nan_seed_and_fallback():
    assert bootstrap_ci([2.0, 2.0, float("nan"), 2.0]) == (2.0, 2.0)  # nan dropped
    v = np.random.default_rng(0).normal(size=200)
    lo, hi = bootstrap_ci(v, seed=1)
    assert lo < v.mean() < hi and hi - lo < 0.5
    assert bootstrap_ci(v, seed=1) == (lo, hi)
    # a stat without an axis argument falls back to one call per resample
    lo2, hi2 = bootstrap_ci(v, stat=lambda s: float(np.mean(s)), n_boot=200, seed=1)
    assert lo2 < v.mean() < hi2


def test_bootstrap_texts():
    """Identical texts: every resample has distinct-1 = 3/12 -> interval (0.25, 0.25)."""
    assert bootstrap_ci_texts(["x y z"] * 4, lambda t: distinct_n(t, 1), n_boot=20) == (0.25, 0.25)


def test_bootstrap_errors():
    with pytest.raises(ValueError, match="non-nan"):
        bootstrap_ci([])
    with pytest.raises(ValueError, match="at least one text"):
        bootstrap_ci_texts([], len)
    with pytest.raises(ValueError, match="alpha"):
        bootstrap_ci([1.0], alpha=1.5)


def test_recovery_tokens_hand_values():
    """threshold = ref - tol = -0.5 - 0.5 = -1. window 2: means from t=0: -4.5, -2.5, -0.75 ->
    recovers at t = 2. Never above -> T. Already at level -> 0. The last window is truncated:
    [-5, -5, -0.2] with window 3 gives -3.4, -2.6, -0.2 -> 2."""
    lp = [-5.0, -4.0, -1.0, -0.5, -0.4]
    assert recovery_tokens(lp, reference_level=-0.5, window=2, tolerance=0.5) == 2
    assert recovery_tokens([-9.0] * 4, reference_level=-0.5) == 4
    assert recovery_tokens([-0.1] * 4, reference_level=-0.5) == 0
    assert recovery_tokens(np.array([-5.0, -5.0, -0.2]), reference_level=-0.5, window=3) == 2
    with pytest.raises(ValueError, match="empty"):
        recovery_tokens([], reference_level=-1.0)


def test_cluster_radii_and_nearest_cluster():
    """Cluster 0 members at cosine distance 0 and 1 - .8 = .2 (q=1 -> radius .2); cluster 1 has
    one member at distance 0. [1, .1] is at distance .005 from centroid 0 -> 0; [1, 1] is
    .293 from either centroid, beyond radius .2 -> -1."""
    emb = np.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0]])
    centroids = np.array([[1.0, 0.0], [0.0, 1.0]])
    radii = cluster_radii(emb, [0, 0, 1], centroids, q=1.0)
    assert radii == pytest.approx([0.2, 0.0])
    assert nearest_cluster(np.array([1.0, 0.1]), centroids, radii) == 0
    assert nearest_cluster(np.array([0.0, 2.0]), centroids, radii) == 1
    assert nearest_cluster(np.array([1.0, 1.0]), centroids, radii) == -1
    with pytest.raises(ValueError, match="emb"):
        nearest_cluster(np.array([]), centroids, radii)
    with pytest.raises(ValueError, match="labels"):
        cluster_radii(emb, [0, 0, 2], centroids)


def test_registry_has_every_design_key_with_direction():
    assert set(DESIGN_KEYS) <= set(METRICS)
    assert all(METRICS[k].description for k in DESIGN_KEYS)
    assert higher_is_more_diverse("semantic/tfidf_cos_mean") is False
    assert higher_is_more_diverse("lexical/self_bleu") is False
    assert higher_is_more_diverse("entropy/top5_bits_mean") is True
    assert higher_is_more_diverse("eval/semantic/vendi") is True
    assert higher_is_more_diverse("quality/reward_mean") is None
    assert METRICS["quality/reward_mean"].higher_is_better is True
    with pytest.raises(KeyError, match="unknown metric"):
        higher_is_more_diverse("semantic/nope")


def test_register_rejects_duplicates_and_bad_prefix():
    with pytest.raises(ValueError, match="already registered"):
        register("semantic/vendi", higher_is_better=True, probe="semantic", description="x")
    with pytest.raises(ValueError, match="probe prefix"):
        register("other/thing", higher_is_better=True, probe="semantic", description="x")


def test_wilson_hand_values():
    from collapselab.metrics import wilson_ci

    # 86 of 100, z = 1.96: centre (0.86 + 0.019208) / 1.038416 = 0.846680,
    # half 1.96 * sqrt(0.001204 + 0.00009604) / 1.038416 = 0.068056
    lo, hi = wilson_ci(86, 100, z=1.96)
    assert (lo, hi) == (pytest.approx(0.778624, abs=1e-5), pytest.approx(0.914736, abs=1e-5))
    # 0 of 10: centre = half = (z^2/20) / (1 + z^2/10) = 0.19208 / 1.38416 = 0.138770 -> [0, 0.27754]
    lo, hi = wilson_ci(0, 10, z=1.96)
    assert lo == pytest.approx(0.0, abs=1e-12) and hi == pytest.approx(0.277540, abs=1e-5)
    with pytest.raises(ValueError, match="successes"):
        wilson_ci(3, 2)


def test_index_bootstrap_recentres_a_count_by_hand():
    """Distinct values among 3 distinct items: a resample of 3 shows 1 value with probability
    3/27, 2 with 18/27, 3 with 6/27, so the raw 2.5 / 50 / 97.5 percentiles are 1, 2, 3: the raw
    interval [1, 3] sits below the observed 3 (biased low). Re-centred on the observed value:
    [3 - (2 - 1), 3 + (3 - 2)] = [2, 4], clipped to the possible range [0, 3] -> [2, 3]."""
    items = np.array([0, 1, 2])

    def distinct(idx):
        return np.array([len(set(items[r].tolist())) for r in np.atleast_2d(idx)], dtype=float)

    assert index_bootstrap_ci(3, distinct, n_boot=2000, seed=0, batched=True) == (2.0, 4.0)
    assert index_bootstrap_ci(3, distinct, n_boot=2000, seed=0, batched=True, bounds=(0, 3)) == (2.0, 3.0)
    # one call per resample draws the same resamples
    per = index_bootstrap_ci(3, lambda idx: distinct(idx)[0], n_boot=2000, seed=0)
    assert per == (2.0, 4.0)
    # identical items: zero width; errors name the argument
    assert index_bootstrap_ci(5, lambda idx: 1.0, n_boot=10) == (1.0, 1.0)
    with pytest.raises(ValueError, match="n=0"):
        index_bootstrap_ci(0, distinct)
    with pytest.raises(ValueError, match="n_boot"):
        index_bootstrap_ci(3, distinct, n_boot=0)


def test_index_bootstrap_rounds_a_grid_statistic_outward_by_hand():
    """A count whose re-centred percentiles fall between counts. Point 3; resample values 1, 2, 3, 5:
    linear percentiles 2.5 / 50 / 97.5 = 1 + 0.075 = 1.075, 2.5, 3 + 0.925 * 2 = 4.85, re-centred
    [3 - (2.5 - 1.075), 3 + (4.85 - 2.5)] = [1.575, 5.35]; on the grid of whole counts [1, 6], on
    1/16 [25/16, 86/16] = [1.5625, 5.375]; then clipped to bounds."""
    def fn(idx):  # the point first (one row), then the four resamples
        return np.array([3.0]) if len(idx) == 1 else np.array([1.0, 2.0, 3.0, 5.0])

    assert index_bootstrap_ci(3, fn, n_boot=4, batched=True) == pytest.approx((1.575, 5.35))
    assert index_bootstrap_ci(3, fn, n_boot=4, batched=True, grid=1.0) == (1.0, 6.0)
    assert index_bootstrap_ci(3, fn, n_boot=4, batched=True, grid=1 / 16) == (1.5625, 5.375)
    assert index_bootstrap_ci(3, fn, n_boot=4, batched=True, grid=1.0, bounds=(2, 5)) == (2.0, 5.0)
    # a bound on the grid up to round-off stays where it is: the distinct-count case above, [2, 4]
    items = np.array([0, 1, 2])

    def distinct(idx):
        return np.array([len(set(items[r].tolist())) for r in np.atleast_2d(idx)], dtype=float) * (0.1 * 3) / 0.3

    assert index_bootstrap_ci(3, distinct, n_boot=2000, seed=0, batched=True, grid=1.0) == (2.0, 4.0)


def test_kmeans_k_bootstrap_on_separated_clusters():
    """Three tight, far-apart clusters: every resample's silhouette choice is k = 3, so the
    re-centred interval is [3, 3]; the k-means bootstrap the probes run, at test size."""
    from collapselab.metrics import best_kmeans

    rng = np.random.default_rng(0)
    centres = np.eye(3, 8) * 10
    emb = np.concatenate([c + 0.01 * rng.normal(size=(6, 8)) for c in centres])
    ci = index_bootstrap_ci(len(emb), lambda idx: best_kmeans(emb[idx], k_min=2, k_max=3, seed=0)[0],
                            n_boot=3, seed=0, bounds=(1, 3))
    assert ci == (3.0, 3.0)
