"""Typicality bias in preference labels: fit alpha of Verbalized Sampling's eq. 1.

Zhang et al. 2025 (arXiv 2510.01171), eq. 1: the annotator's effective reward is

    r(x, y) = r_true(x, y) + alpha * log pi_ref(y | x)

and a Bradley-Terry annotator at temperature T picks A over B with

    P(A > B) = sigmoid((r(A) - r(B)) / T)
             = sigmoid((alpha / T) * delta_logp + (1 / T) * quality_delta)

so a logistic regression of the pick on the log-likelihood difference (with the quality
difference as a covariate, or among pairs of equal quality) estimates alpha / T. The model
has no intercept: swapping A and B flips the sign of every covariate and of the label.
Not a registered metric: it is a property of a set of labelled pairs, not of a checkpoint.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy.special import expit, log_expit

Z95 = 1.959963984540054  # standard normal 0.975 quantile
_SEPARATED = ("the picks are perfectly separated by the covariates, so the maximum-likelihood coefficient "
              "is infinite: add pairs (mixed picks at similar delta_logp) or drop quality_delta")


@dataclass(frozen=True)
class TypicalityFit:
    """A fitted typicality coefficient. ``alpha`` is already multiplied by ``temperature``."""

    alpha: float  # coefficient on delta_logp times the annotator temperature T (eq. 1's alpha)
    se: float  # its standard error (observed Fisher information), times T
    ci_low: float  # 95% Wald interval: alpha -+ 1.96 se
    ci_high: float
    p_value: float  # two-sided Wald test of alpha = 0
    n: int  # pairs
    temperature: float  # the annotator's Bradley-Terry temperature used to rescale
    quality_coef: float | None = None  # coefficient on quality_delta (estimates 1 / T), unscaled
    quality_se: float | None = None
    iterations: int = 0  # Newton steps taken

    @property
    def ci(self) -> tuple[float, float]:
        return self.ci_low, self.ci_high

    def to_dict(self) -> dict:
        return asdict(self)


def _as_1d(name: str, x, n: int | None = None) -> np.ndarray:
    a = np.asarray(x, dtype=float)
    if a.ndim != 1:
        raise ValueError(f"{name}: expected a 1-d sequence, got shape {a.shape}")
    if n is not None and a.size != n:
        raise ValueError(f"{name}: has {a.size} values, delta_logp has {n}; give one value per pair")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name}: has {int((~np.isfinite(a)).sum())} non-finite value(s) (nan or inf)")
    return a


def is_separated(X: np.ndarray, y: np.ndarray) -> bool:
    """Whether some b != 0 has s_i * x_i . b >= 0 for every pair (s_i = +1 if chosen first, else -1).

    Then the logistic likelihood keeps rising along b (complete or quasi-complete separation)
    and the maximum-likelihood coefficient is infinite. Checked exactly by the linear program
    max sum_i s_i x_i . b subject to s_i x_i . b >= 0 and -1 <= b <= 1 (Konis 2007): its
    optimum is > 0 iff the data are separated.
    """
    from scipy.optimize import linprog

    S = X * np.where(y == 1, 1.0, -1.0)[:, None]  # [N, K]
    scale = np.abs(S).max(axis=0)
    scale[scale == 0] = 1.0
    S = S / scale  # unit columns: the tolerance below means the same for nats and for reward units
    res = linprog(-S.sum(axis=0), A_ub=-S, b_ub=np.zeros(len(S)), bounds=[(-1, 1)] * S.shape[1], method="highs")
    return bool(res.status == 0 and -res.fun > 1e-7 * len(S))


def logistic_mle(X: np.ndarray, y: np.ndarray, max_iter: int = 100) -> tuple[np.ndarray, np.ndarray, int]:
    """Maximum-likelihood logistic regression without intercept, by Newton's method with step halving.

    X: [N, K] covariates, y: [N] labels in {0, 1}. Returns (coef [K], covariance [K, K] = the
    inverse observed Fisher information (X^T W X)^-1 at the optimum, iterations). Raises
    ValueError when the data are separated (no finite maximum).
    """
    if is_separated(X, y):
        raise ValueError(_SEPARATED)
    beta = np.zeros(X.shape[1])

    def loglik(b: np.ndarray) -> float:
        eta = X @ b
        return float(np.sum(y * log_expit(eta) + (1 - y) * log_expit(-eta)))

    ll = loglik(beta)
    for it in range(max_iter + 1):
        p = expit(X @ beta)
        grad = X.T @ (y - p)
        info = (X * (p * (1 - p))[:, None]).T @ X  # observed = expected information for the logit link
        if np.linalg.cond(info) > 1e12:
            raise ValueError("the covariates are collinear (or one is constant 0): the coefficients are not identified")
        step = np.linalg.solve(info, grad)
        if np.max(np.abs(step)) <= 1e-10 * (1 + np.max(np.abs(beta))):  # quadratic convergence: done
            return beta, np.linalg.inv(info), it
        t = 1.0
        while t > 1e-10:  # halve the step until the log-likelihood rises (it is concave)
            new_ll = loglik(beta + t * step)
            if new_ll >= ll - 1e-12 * max(1.0, abs(ll)):  # near the top a gain is below rounding: accept it
                break
            t /= 2
        beta, ll = beta + t * step, new_ll
    raise ValueError(f"logistic regression did not converge in {max_iter} Newton steps; "
                     "check the covariates for extreme values")


def fit_typicality(delta_logp, chose_first, quality_delta=None, temperature: float | None = None) -> TypicalityFit:
    """Fit alpha of eq. 1 by a Bradley-Terry (logistic) regression without intercept.

    delta_logp: [N] log pi_ref(A_i | x_i) - log pi_ref(B_i | x_i), nats (A = first answer).
    chose_first: [N] 1 if A was preferred, else 0.
    quality_delta: [N] r_true(A_i) - r_true(B_i), a covariate, or None (pairs of equal quality).
    temperature: the annotator's Bradley-Terry temperature T (default 1). The coefficient on
    delta_logp estimates alpha / T; it is multiplied by T (as is its SE) to give alpha.

    Model: P(A preferred) = sigmoid(a * delta_logp + c * quality_delta); alpha = a * T.
    The SE is from the observed Fisher information; the CI is the 95% Wald interval.
    """
    d = _as_1d("delta_logp", delta_logp)
    if d.size == 0:
        raise ValueError("delta_logp: no pairs given; need at least 2 labelled pairs")
    y = _as_1d("chose_first", chose_first, d.size)
    if not np.all((y == 0) | (y == 1)):
        raise ValueError("chose_first: every value must be 0 or 1 (1 = the first answer was preferred)")
    T = 1.0 if temperature is None else float(temperature)
    if not (np.isfinite(T) and T > 0):
        raise ValueError(f"temperature={temperature!r}: must be a finite number > 0")
    if d.size < 2:
        raise ValueError(f"delta_logp: {d.size} pair given; need at least 2 labelled pairs")
    if not np.any(d != 0):
        raise ValueError("delta_logp: every value is 0, so alpha is not identified; the answers' log-probs must differ")
    cols = [d]
    if quality_delta is not None:
        q = _as_1d("quality_delta", quality_delta, d.size)
        cols.append(q)
    X = np.column_stack(cols)
    coef, cov, iters = logistic_mle(X, y)
    se = np.sqrt(np.diag(cov))
    a, a_se = float(coef[0]) * T, float(se[0]) * T
    p_value = math.erfc(abs(coef[0] / se[0]) / math.sqrt(2))  # two-sided: 2 * P(Z > |z|)
    return TypicalityFit(
        alpha=a, se=a_se, ci_low=a - Z95 * a_se, ci_high=a + Z95 * a_se, p_value=p_value, n=int(d.size),
        temperature=T,
        quality_coef=float(coef[1]) if quality_delta is not None else None,
        quality_se=float(se[1]) if quality_delta is not None else None,
        iterations=iters,
    )
