"""fit_typicality: recovery of alpha on synthetic Bradley-Terry picks, a closed-form case, errors."""

import numpy as np
import pytest

from collapselab.metrics.typicality import fit_typicality, is_separated


def _bt_pairs(alpha: float, n: int = 4000, seed: int = 0):
    """delta_logp ~ N(0, 2) (sd 2), quality_delta ~ N(0, 1), picks ~ Bernoulli(sigmoid(alpha * delta + quality))."""
    rng = np.random.default_rng(seed)
    d, q = rng.normal(0, 2, n), rng.normal(0, 1, n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(alpha * d + q)))).astype(int)
    return d, y, q


@pytest.mark.parametrize("alpha", [0.0, 0.3, 1.0])
def test_recovers_alpha_on_synthetic_bradley_terry_pairs(alpha):
    """With the quality covariate the 95% CI holds the true alpha (and 0 when alpha = 0), the
    quality coefficient is near the Bradley-Terry 1 / T = 1, and the CI is a few SEs wide."""
    d, y, q = _bt_pairs(alpha)
    fit = fit_typicality(d, y, quality_delta=q)
    assert fit.ci_low < alpha < fit.ci_high
    assert fit.ci == (fit.ci_low, fit.ci_high)
    assert fit.ci_high - fit.ci_low == pytest.approx(2 * 1.959964 * fit.se)
    assert 0.01 < fit.se < 0.05 and fit.n == 4000
    assert abs(fit.quality_coef - 1.0) < 3 * fit.quality_se
    if alpha > 0:
        assert fit.p_value < 1e-10


def test_temperature_rescales_coefficient_and_se():
    """Labels from sigmoid((alpha * delta + quality) / T) with alpha = 0.6, T = 2: the raw coefficient
    is alpha / T = 0.3; passing temperature=2 gives back alpha, and the SE doubles with it."""
    rng = np.random.default_rng(1)
    d, q = rng.normal(0, 2, 4000), rng.normal(0, 1, 4000)
    y = (rng.random(4000) < 1 / (1 + np.exp(-(0.6 * d + q) / 2))).astype(int)
    raw, scaled = fit_typicality(d, y, q), fit_typicality(d, y, q, temperature=2.0)
    assert raw.ci_low < 0.3 < raw.ci_high and scaled.ci_low < 0.6 < scaled.ci_high
    assert scaled.alpha == pytest.approx(2 * raw.alpha) and scaled.se == pytest.approx(2 * raw.se)
    assert scaled.quality_coef == pytest.approx(raw.quality_coef)  # estimates 1 / T, left unscaled
    assert abs(raw.quality_coef - 0.5) < 3 * raw.quality_se


def test_closed_form_single_covariate_value():
    """n = 10 pairs, all with delta_logp = +1, 7 picks of the first answer. The likelihood is
    p^7 (1 - p)^3 with p = sigmoid(a), maximised at p = 7/10, so a = log(7/3) = 0.847298.
    The observed information is sum x^2 p (1 - p) = 10 * 0.7 * 0.3 = 2.1, so
    se = 1 / sqrt(2.1) = sqrt(1/7 + 1/3) = 0.690066, and the CI is 0.847298 -+ 1.959964 * 0.690066
    = (-0.505206, 2.199801). Swapping A and B in 4 of the pairs (delta -> -1, pick -> 1 - pick)
    describes the same picks, so it gives the same fit."""
    fit = fit_typicality(np.ones(10), [1] * 7 + [0] * 3)
    assert fit.alpha == pytest.approx(0.847298, abs=1e-6)
    assert fit.se == pytest.approx(0.690066, abs=1e-6)
    assert fit.ci == pytest.approx((-0.505206, 2.199801), abs=1e-6)
    assert fit.quality_coef is None and fit.n == 10
    swapped = fit_typicality(np.r_[np.ones(6), -np.ones(4)], [1] * 4 + [0] * 2 + [0] * 3 + [1])
    assert swapped.alpha == pytest.approx(fit.alpha, abs=1e-9) and swapped.se == pytest.approx(fit.se, abs=1e-9)


def test_pair_order_does_not_matter():
    d, y, q = _bt_pairs(0.3, n=500, seed=2)
    perm = np.random.default_rng(0).permutation(500)
    a, b = fit_typicality(d, y, q), fit_typicality(d[perm], y[perm], q[perm])
    assert a.alpha == pytest.approx(b.alpha, abs=1e-9) and a.se == pytest.approx(b.se, abs=1e-9)


@pytest.mark.parametrize(
    "args, kwargs, match",
    [
        (([], []), {}, "no pairs"),
        (([1.0, 2.0, 3.0], [1, 0]), {}, "chose_first: has 2 values, delta_logp has 3"),
        (([1.0, -2.0], [1, 0]), {"quality_delta": [0.5]}, "quality_delta: has 1 values"),
        (([1.0, -2.0], [1, 2]), {}, "must be 0 or 1"),
        (([1.0, float("nan")], [1, 0]), {}, "non-finite"),
        (([0.0, 0.0, 0.0], [1, 0, 1]), {}, "every value is 0"),
        (([1.0, -2.0, 3.0], [1, 0, 1]), {}, "perfectly separated"),
        (([1.0, -2.0, 3.0, -1.0], [1, 0, 0, 1]), {"temperature": 0.0}, "temperature=0.0"),
    ],
)
def test_errors_are_one_line(args, kwargs, match):
    with pytest.raises(ValueError, match=match) as e:
        fit_typicality(*args, **kwargs)
    assert "\n" not in str(e.value)


def test_separation_needs_both_covariates():
    """delta_logp alone does not separate these picks, but delta_logp with quality does (every pick
    has quality_delta - delta_logp > 0 when A won, < 0 when B won): the fit says to drop quality."""
    d = np.array([1.0, -1.0, 2.0, -2.0])
    y = np.array([1, 1, 0, 0])
    q = np.array([2.0, 0.0, 1.0, -3.0])
    assert not is_separated(d[:, None], y) and is_separated(np.column_stack([d, q]), y)
    assert np.isfinite(fit_typicality(d, y).alpha)
    with pytest.raises(ValueError, match="drop quality_delta"):
        fit_typicality(d, y, q)
