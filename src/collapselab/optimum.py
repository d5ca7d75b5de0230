"""The closed-form optimum of KL-regularised RL, with typicality bias: the project's one copy of this math.

The objective behind the paper's eq. 5.2, ``max_pi E_pi[R] - beta KL(pi || pi0)``, has the maximiser

    pi*(y) = pi0(y) exp(R(y) / beta) / Z.

Typicality bias (Zhang et al. 2025, "Verbalized Sampling", arXiv 2510.01171, eq. 1): annotators
reward what the reference model finds typical, so the reward actually optimised is

    r(x, y) = r_true(x, y) + alpha log pi_ref(y | x),

and with pi0 = pi_ref the optimum becomes a sharpened reference (their eq. 3):

    pi*(y) ∝ pi_ref(y)^gamma exp(r_true(y) / beta),   gamma = 1 + alpha / beta.

Over samples y_i drawn from pi0 the same optimum is reached by self-normalised importance
weights ``w_i ∝ exp((r_i + alpha log pi_ref(y_i)) / beta)``, which is how the tiny world's truth
and the lab's prediction use it. numpy only (the toy imports it without torch).
"""

from __future__ import annotations

import numpy as np


def _check(beta: float, alpha: float) -> None:
    if not beta >= 0:  # also rejects NaN
        raise ValueError(f"beta={beta}: must be >= 0")
    if not alpha >= 0:
        raise ValueError(f"alpha={alpha}: must be >= 0 (typicality weight)")


def gamma(beta: float, alpha: float = 0.0) -> float:
    """The sharpening exponent on pi_ref, ``1 + alpha / beta`` (Verbalized Sampling, eq. 3).

    ``inf`` at ``beta = 0`` with ``alpha > 0``; ``1`` whenever ``alpha = 0`` (no typicality bias).
    """
    _check(beta, alpha)
    if alpha == 0:
        return 1.0
    return float("inf") if beta == 0 else 1.0 + alpha / beta


def kl_optimum(pi0: np.ndarray, rewards: np.ndarray, beta: float, alpha: float = 0.0) -> np.ndarray:
    """Maximiser of ``E_pi[R + alpha log pi0] - beta KL(pi || pi0)``: ``pi0^(1 + alpha/beta) exp(R/beta) / Z``.

    Computed in log space from the effective reward ``R_eff = R + alpha log pi0`` as
    ``softmax(log pi0 + (R_eff - max R_eff) / beta)``, so tiny betas neither overflow nor give NaN.
    ``beta = 0`` is the unregularised limit: all mass on the arm(s) of ``pi0``'s support that
    maximise ``R_eff``, split by ``pi0`` among ties (with ``alpha = 0``: the best arm(s) by ``R``).
    ``pi0``, ``rewards``: ``[K]``; returns ``[K]``, summing to 1.
    """
    _check(beta, alpha)
    pi0 = np.asarray(pi0, float)
    r = np.asarray(rewards, float)
    if pi0.shape != r.shape or pi0.ndim != 1:
        raise ValueError(f"pi0 {pi0.shape} and rewards {r.shape}: must be two [K] arrays")
    if (pi0 < 0).any() or not pi0.sum() > 0:
        raise ValueError(f"pi0={pi0.tolist()}: must be >= 0 with a positive sum")
    support = pi0 > 0
    with np.errstate(divide="ignore"):
        log_pi0 = np.log(pi0)
    r_eff = np.where(support, r if alpha == 0 else r + alpha * np.where(support, log_pi0, 0.0), -np.inf)
    best = r_eff.max()
    if beta == 0:
        w = np.where(r_eff == best, pi0, 0.0)
        return w / w.sum()
    z = log_pi0 + (r_eff - best) / beta  # pi0 exp(R_eff / beta) up to the constant exp(max / beta)
    z = z - z.max()
    e = np.exp(z)
    return e / e.sum()


def tilt_weights(
    rewards: np.ndarray, beta: float, log_ref: np.ndarray | None = None, alpha: float = 0.0
) -> tuple[np.ndarray, float]:
    """Self-normalised importance weights that turn samples from pi0 into samples from the KL optimum.

    ``w_i ∝ exp((r_i + alpha log_ref_i) / beta)`` (max-shifted), ``rewards``/``log_ref``: ``[N]``,
    ``log_ref`` the reference log-probability log pi_ref(y_i) of each sample (needed when
    ``alpha > 0``). ``beta = 0``: the indicator of the largest effective reward (ties share equally;
    the samples themselves carry pi0's split). NaN rewards (or NaN ``log_ref``) get weight 0.
    Returns ``(weights [N] summing to 1, effective sample size (sum w)^2 / sum w^2)``; all zeros
    and ESS 0 if no sample has a usable reward.
    """
    _check(beta, alpha)
    r = np.asarray(rewards, dtype=float)
    if alpha > 0:
        if log_ref is None:
            raise ValueError(f"alpha={alpha}: needs log_ref, the reference log-probability of each sample")
        lr = np.asarray(log_ref, dtype=float)
        if lr.shape != r.shape:
            raise ValueError(f"log_ref {lr.shape}: must match rewards {r.shape}")
        r = r + alpha * lr  # Verbalized Sampling eq. 1: r = r_true + alpha log pi_ref
    known = ~np.isnan(r)
    if not known.any():
        return np.zeros_like(r), 0.0
    top = r[known].max()  # np.nanmax without its all-NaN warning
    if beta == 0:
        w = (r == top).astype(float)
    else:
        with np.errstate(invalid="ignore"):
            w = np.exp((r - top) / beta)
    w = np.nan_to_num(w)
    if not w.sum() > 0:
        return w, 0.0
    ess = float(w.sum() ** 2 / (w**2).sum())
    return w / w.sum(), ess


def optimal_shares(
    groups, rewards: np.ndarray, beta: float, log_ref: np.ndarray | None = None, alpha: float = 0.0
) -> dict[str, float]:
    """Share of each group under the KL optimum, from samples of pi0: ``{group: share}``.

    ``groups[i]`` is sample i's attribute value and ``rewards[i]`` its reward (``[N]``, ``[N]``), so
    pi*(a) = sum_{i in a} w_i with ``w = tilt_weights(...)`` (= pi0(a) E[exp(R_eff / beta) | a] / Z;
    DESIGN.md "The tiny world").
    """
    w, _ = tilt_weights(rewards, beta, log_ref, alpha)
    groups = np.asarray(groups)
    return {str(g): float(w[groups == g].sum()) for g in sorted(set(groups.tolist()))}
