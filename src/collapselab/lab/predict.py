"""Predicted vs observed collapse of persona attributes.

The KL-regularised objective max_pi E[R] - beta KL(pi || pi0) has the closed-form optimum
pi*(y) = pi0(y) exp(R(y)/beta) / Z (the objective behind eq. 5.2; DPO optimises the same
target with the annotator's Bradley-Terry reward). Any attribute a of an answer therefore
has the marginal

    pi*(a) = pi0(a) E_{y ~ pi0}[exp(R(y)/beta) | a] / Z,

which we estimate from the reference model's own samples y_i (SFT persona samples) with
self-normalised importance weights w_i = exp(R(y_i)/beta): pi*(a) ~ sum_i w_i [a_i = a] / sum_i w_i.
Setting that beside the marginal observed after PPO / DPO at the same beta separates what the
objective asks for from what optimisation dynamics or reward-model error add (the paper's
"mode collapse" proper, section 5.2). The effective sample size of the weights is reported:
at small beta a handful of samples carry all the weight and the prediction is noisy.

With typicality bias (Zhang et al. 2025, arXiv 2510.01171, eq. 1) the reward optimised is
R + alpha log pi_ref, and the weights become w_i = exp((R(y_i) + alpha log pi_ref(y_i)) / beta),
a sharpening of pi_ref with exponent gamma = 1 + alpha / beta. The weights are computed by
``collapselab.optimum.tilt_weights`` (re-exported here).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np

from collapselab.optimum import gamma, tilt_weights

# attribute name -> function of a parsed persona (dict) returning its category or None
SENTIMENT_CUTS = (-0.05, 0.05)  # VADER compound: negative < -0.05 <= neutral <= 0.05 < positive


def _age_band(p: dict) -> str | None:
    a = p.get("age")
    if not isinstance(a, (int, float)):
        return None
    return "<25" if a < 25 else "25-39" if a < 40 else "40-59" if a < 60 else "60+"


def _mbti_letter(i: int, yes: str, no: str) -> Callable[[dict], str | None]:
    def f(p: dict) -> str | None:
        m = p.get("mbti")
        return None if not m or len(m) != 4 else (yes if m[i] == yes[0] else no)

    return f


def sentiment_class(compound: float) -> str:
    return "negative" if compound < SENTIMENT_CUTS[0] else "positive" if compound > SENTIMENT_CUTS[1] else "neutral"


ATTRIBUTES: dict[str, Callable[[dict], str | None]] = {
    "extraversion": _mbti_letter(0, "Extravert", "Introvert"),
    "feeling": _mbti_letter(2, "Feeler", "Thinker"),
    "age band": _age_band,
    "gender": lambda p: p.get("gender") or None,
    "nationality": lambda p: p.get("nationality") or None,
    "review sentiment": lambda p: p.get("_sentiment_class"),
}


def with_sentiment(parsed: list[dict | None]) -> list[dict | None]:
    """Add ``_sentiment_class`` (VADER of the review) to each parsed persona."""
    from collapselab.metrics import vader_compound

    ok = [p for p in parsed if p and p.get("review")]
    scores = vader_compound([p["review"] for p in ok]) if ok else []
    for p, s in zip(ok, scores, strict=True):
        p["_sentiment_class"] = sentiment_class(float(s))
    return parsed


def marginal(parsed: list[dict | None], attr: str, weights: np.ndarray | None = None) -> dict[str, float]:
    """Share of each value of ``attr`` among parsed personas (weighted if ``weights`` [N] given)."""
    fn = ATTRIBUTES[attr]
    acc: Counter = Counter()
    for i, p in enumerate(parsed):
        if not p:
            continue
        v = fn(p)
        if v is None:
            continue
        acc[v] += 1.0 if weights is None else float(weights[i])
    total = sum(acc.values())
    return {k: v / total for k, v in sorted(acc.items())} if total > 0 else {}


def predicted_vs_observed(
    ref_parsed: list[dict | None],
    ref_rewards: np.ndarray,
    observed: dict[str, tuple[float, list[dict | None]]],
    attributes: tuple[str, ...] = tuple(ATTRIBUTES),
    top: int = 6,
    ref_log_ref: np.ndarray | None = None,
    alpha: float = 0.0,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """One row per (attribute, aligned run): reference, predicted and observed marginals, TV gaps.

    ``ref_parsed``/``ref_rewards``: the reference (SFT) model's parsed persona samples and their
    reward-model scores (same order; None entries are unparsed). ``observed``: label ->
    (beta, parsed personas of the aligned model). Nationality is cut to the reference's ``top``
    values plus "other" so small samples give readable bars. ``ref_log_ref`` ``[N]``: log pi_ref of
    each reference sample, needed when the typicality weight ``alpha`` > 0; each row records
    ``alpha`` and ``gamma`` = 1 + alpha / beta, and ``tv_noise95``: the TV that sampling alone reaches
    in 95% of draws at these sample sizes (``tv_noise``; ``seed`` seeds it).
    """
    from collapselab.metrics import total_variation

    idx = [i for i, p in enumerate(ref_parsed) if p]
    parsed_ok = [ref_parsed[i] for i in idx]
    r = np.asarray(ref_rewards, dtype=float)[idx]
    log_ref = None if ref_log_ref is None else np.asarray(ref_log_ref, dtype=float)[idx]
    rows = []
    for attr in attributes:
        ref = marginal(parsed_ok, attr)
        if not ref:
            continue
        keep = set(sorted(ref, key=ref.get, reverse=True)[:top]) if attr == "nationality" else None

        def bucket(value: str, keep: set | None = keep) -> str:
            return value if keep is None or value in keep else "other"

        def cut(d: dict[str, float]) -> dict[str, float]:
            out: dict[str, float] = {}
            for k, v in d.items():
                out[bucket(k)] = out.get(bucket(k), 0.0) + v
            return out

        ref_values = [None if (v := ATTRIBUTES[attr](p)) is None else bucket(v) for p in parsed_ok]
        for label, (beta, parsed) in observed.items():
            w, ess = tilt_weights(r, beta, log_ref, alpha)
            pred = cut(marginal(parsed_ok, attr, w))
            obs = cut(marginal(parsed, attr))
            refc = cut(ref)
            keys = sorted(set(refc) | set(pred) | set(obs))
            vec = lambda d: np.array([d.get(k, 0.0) for k in keys])  # noqa: E731
            codes = np.array([-1 if v is None else keys.index(v) for v in ref_values])  # each sample's category
            n_obs = sum(1 for p in parsed if p and ATTRIBUTES[attr](p) is not None)
            rows.append({
                "attribute": attr,
                "run": label,
                "beta": beta,
                "alpha": alpha,
                "gamma": gamma(beta, alpha),
                "values": keys,
                "reference": refc,
                "predicted": pred,
                "observed": obs,
                "ess": ess,
                "tv_pred_obs": float(total_variation(vec(pred), vec(obs))) if obs else None,
                "tv_ref_obs": float(total_variation(vec(refc), vec(obs))) if obs else None,
                "tv_ref_pred": float(total_variation(vec(refc), vec(pred))),
                "n_observed": n_obs,
                "tv_noise95": tv_noise(codes, r, beta, log_ref, alpha, vec(pred), n_obs, seed=seed) if obs else None,
            })
    return rows


def tv_noise(codes: np.ndarray, rewards: np.ndarray, beta: float, log_ref: np.ndarray | None, alpha: float,
             pred: np.ndarray, n_obs: int, n_boot: int = 400, seed: int = 0, q: float = 95.0) -> float:
    """The TV(predicted, observed) that sampling alone produces: its ``q``-th percentile when both sides
    come from one distribution, the prediction ``pred [K]``.

    Each draw (a parametric bootstrap) resamples the reference samples with replacement and re-weights
    them (``tilt_weights``: the prediction's own noise, which grows as its ESS shrinks), draws ``n_obs``
    observed values from ``pred`` (the observed marginal's noise), and takes the TV of the two. ``codes
    [N]``: each reference sample's category index into ``pred`` (-1: the attribute is missing).
    A TV(predicted, observed) above this is more than the two sample sizes explain. It is meaningful only
    where the weights' ESS is not tiny: at an ESS near 1 every resample re-picks the same top sample, the
    prediction becomes a point mass, and the floor comes out near 0 (the report shows it from ESS 10 up).
    """
    from collapselab.metrics import total_variation

    rng = np.random.default_rng(seed)
    n, k = len(codes), len(pred)
    if n == 0 or n_obs == 0 or k == 0:
        return float("nan")
    p = np.clip(np.asarray(pred, dtype=float), 0, None)
    p = p / p.sum()
    tvs = []
    for _ in range(n_boot):
        idx = rng.integers(0, n, n)
        w, _ = tilt_weights(rewards[idx], beta, None if log_ref is None else log_ref[idx], alpha)
        c = codes[idx]
        ok = c >= 0
        mass = np.bincount(c[ok], weights=w[ok], minlength=k)
        if mass.sum() <= 0:
            continue
        obs = rng.multinomial(n_obs, p) / n_obs
        tvs.append(float(total_variation(mass / mass.sum(), obs)))
    return float(np.percentile(tvs, q)) if tvs else float("nan")


def learned_alpha(rewards: np.ndarray, quality: np.ndarray, log_ref: np.ndarray, n_boot: int = 1000,
                  seed: int = 0) -> dict[str, float] | None:
    """How much of the annotator's typicality term a reward model learned, read off its scores.

    The annotator prefers by r_quality + alpha log pi_ref (Verbalized Sampling eq. 1); a reward model that
    learned those labels scores R ~ a r_quality + b log pi_ref + c. The least-squares fit of R on the two
    terms over the same samples gives the alpha it learned, b / a (in the annotator's units: a = 1 when R is
    the labels' own reward). Returns {alpha, ci_lo, ci_hi, quality_coef, n} with a 95% percentile bootstrap
    interval over samples (``n_boot`` resamples, ``seed``), or None for fewer than 4 samples or a fit with
    a <= 0 (the reward model does not rank by quality, so b / a has no meaning).
    """
    r, q, lr = (np.asarray(x, dtype=float) for x in (rewards, quality, log_ref))
    if not (r.shape == q.shape == lr.shape):
        raise ValueError(f"learned_alpha: rewards {r.shape}, quality {q.shape}, log_ref {lr.shape} must match")
    n = len(r)
    if n < 4:
        return None

    def fit(idx: np.ndarray) -> tuple[float, float]:
        coef, *_ = np.linalg.lstsq(np.c_[q[idx], lr[idx], np.ones(len(idx))], r[idx], rcond=None)
        return float(coef[0]), float(coef[1])

    a, b = fit(np.arange(n))
    if not a > 0:
        return None
    rng = np.random.default_rng(seed)
    boots = [bb / aa for aa, bb in (fit(rng.integers(0, n, n)) for _ in range(n_boot)) if aa > 0]
    lo, hi = np.percentile(boots, [2.5, 97.5]) if boots else (float("nan"), float("nan"))
    return {"alpha": b / a, "ci_lo": float(lo), "ci_hi": float(hi), "quality_coef": a, "n": n}
