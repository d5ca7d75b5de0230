"""The closed-form KL optimum with typicality bias: by hand, its limits, and its sample-based estimator."""

import math

import numpy as np
import pytest

from collapselab.optimum import gamma, kl_optimum, optimal_shares, tilt_weights

PI0 = np.array([0.49, 0.49, 0.02])  # the toy's arms: Jeepiti, Chats and Giggles, Chad-Chat
R = np.array([1.0, 0.4, 1.5])


def test_typicality_sharpens_pi0_by_hand():
    """pi0 = (1/2, 1/4, 1/4), flat R, beta = 1, alpha = 1: gamma = 1 + 1/1 = 2, so pi* ∝ pi0^2 =
    (0.25, 0.0625, 0.0625), whose sum is 0.375: pi* = (0.25, 0.0625, 0.0625) / 0.375 = (2/3, 1/6, 1/6)."""
    assert gamma(1.0, 1.0) == 2.0
    assert kl_optimum([0.5, 0.25, 0.25], [0.0, 0.0, 0.0], 1.0, alpha=1.0) == pytest.approx([2 / 3, 1 / 6, 1 / 6])
    # with a reward too: R = (0, ln 2, 0) doubles arm 1: (0.25, 0.125, 0.0625) / 0.4375 = (4/7, 2/7, 1/7)
    assert kl_optimum([0.5, 0.25, 0.25], [0.0, math.log(2), 0.0], 1.0, alpha=1.0) == pytest.approx([4 / 7, 2 / 7, 1 / 7])


def test_alpha_zero_is_the_plain_optimum():
    for beta in (0.05, 0.1, 0.5, 2.0):
        plain = PI0 * np.exp(R / beta) / (PI0 * np.exp(R / beta)).sum()  # pi0 exp(R/beta) / Z
        assert kl_optimum(PI0, R, beta) == pytest.approx(plain, rel=1e-12)
        assert kl_optimum(PI0, R, beta, alpha=0.0) == pytest.approx(plain, rel=1e-12)
        # alpha > 0 is the same closed form with exponent gamma on pi0
        a = 0.3
        sharp = PI0 ** (1 + a / beta) * np.exp(R / beta)
        assert kl_optimum(PI0, R, beta, alpha=a) == pytest.approx(sharp / sharp.sum(), rel=1e-9)
        assert gamma(beta, 0.0) == 1.0 and gamma(beta, a) == pytest.approx(1 + a / beta)


def test_beta_zero_limits():
    # no typicality: all mass on the best arm (Chad-Chat), however rare under pi0
    assert kl_optimum(PI0, R, 0.0).tolist() == [0.0, 0.0, 1.0]
    # ties split by pi0
    assert kl_optimum([0.6, 0.3, 0.1], [1.0, 1.0, 0.0], 0.0) == pytest.approx([2 / 3, 1 / 3, 0.0])
    # typicality: argmax of R + alpha log pi0; 1.5 + log 0.02 = -2.41 < 1 + log 0.49 = 0.29, so Jeepiti wins
    assert kl_optimum(PI0, R, 0.0, alpha=1.0).tolist() == [1.0, 0.0, 0.0]
    assert gamma(0.0, 1.0) == math.inf and gamma(0.0, 0.0) == 1.0
    # beta = 0 is the limit of small betas, with and without alpha (log space: no overflow, no NaN)
    for a in (0.0, 1.0):
        tiny = kl_optimum(PI0, R, 1e-300, alpha=a)
        assert np.isfinite(tiny).all() and tiny == pytest.approx(kl_optimum(PI0, R, 0.0, alpha=a))
    assert kl_optimum([0.6, 0.3, 0.1], [1.0, 1.0, 0.0], 1e-300) == pytest.approx([2 / 3, 1 / 3, 0.0])


@pytest.mark.parametrize("call, name", [
    (lambda: kl_optimum(PI0, R, -0.1), "beta=-0.1"),
    (lambda: kl_optimum(PI0, R, 0.1, alpha=-1.0), "alpha=-1.0"),
    (lambda: tilt_weights(R, -1.0), "beta=-1.0"),
    (lambda: tilt_weights(R, 0.1, alpha=-0.5), "alpha=-0.5"),
    (lambda: tilt_weights(R, 0.1, alpha=0.5), "alpha=0.5: needs log_ref"),
    (lambda: gamma(0.1, -2.0), "alpha=-2.0"),
])
def test_negative_arguments_are_named(call, name):
    with pytest.raises(ValueError, match=name):
        call()


def test_tilt_weights_over_the_arms_equal_the_discrete_optimum():
    """Samples = each arm once, carrying pi0 as a prior weight: the tilted weights times pi0,
    renormalised, are exactly kl_optimum, with and without typicality."""
    for beta in (0.0, 0.05, 0.2, 1.0):
        for a in (0.0, 0.5):
            w, _ = tilt_weights(R, beta, np.log(PI0), alpha=a)
            assert (w * PI0) / (w * PI0).sum() == pytest.approx(kl_optimum(PI0, R, beta, alpha=a), abs=1e-12)


def test_tilt_weights_on_samples_from_pi0_estimate_the_optimum():
    rng = np.random.default_rng(0)
    arms = rng.choice(3, size=200_000, p=PI0)  # samples from pi0
    for beta, a in ((0.2, 0.0), (0.5, 0.2)):
        shares = optimal_shares(arms, R[arms], beta, np.log(PI0)[arms], alpha=a)
        assert [shares[str(k)] for k in range(3)] == pytest.approx(kl_optimum(PI0, R, beta, alpha=a), abs=0.01)


def test_tilt_weights_nan_and_ess():
    # rewards 0, 0, ln 2 at beta 1: weights 1, 1, 2 -> (1/4, 1/4, 1/2); ESS = 4^2 / 6 = 8/3
    w, ess = tilt_weights([0.0, 0.0, math.log(2)], 1.0)
    assert w == pytest.approx([0.25, 0.25, 0.5]) and ess == pytest.approx(8 / 3)
    # a NaN reward gets weight 0; beta 0 is the indicator of the best sample(s)
    w, ess = tilt_weights([0.0, np.nan, 1.0, 1.0], 0.0)
    assert w.tolist() == [0.0, 0.0, 0.5, 0.5] and ess == 2.0
    w, _ = tilt_weights([0.0, np.nan, 1.0], 1.0)
    assert w[1] == 0.0 and w.sum() == pytest.approx(1.0)
    # nothing usable: zero weights and ESS 0, no NaN
    w, ess = tilt_weights([np.nan, np.nan], 1.0)
    assert w.tolist() == [0.0, 0.0] and ess == 0.0


def test_optimal_shares_by_hand_with_typicality():
    """groups a, a, b, flat rewards, log_ref = (ln 1/2, ln 1/2, ln 1/4), alpha = beta = 1: weights
    1/2, 1/2, 1/4 -> a gets 1 / 1.25 = 0.8 (alpha = 0 leaves the sample shares 2/3, 1/3)."""
    g, r, lr = ["a", "a", "b"], [0.0, 0.0, 0.0], np.log([0.5, 0.5, 0.25])
    assert optimal_shares(g, r, 1.0, lr, alpha=1.0) == pytest.approx({"a": 0.8, "b": 0.2})
    assert optimal_shares(g, r, 1.0) == pytest.approx({"a": 2 / 3, "b": 1 / 3})
