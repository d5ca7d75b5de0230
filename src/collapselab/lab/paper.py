"""The paper's headline numbers, as data, and the side-by-side table with the lab's own.

Figures are those of Mohammadi (2024), Llama-2-7B base vs Llama-2-7B-chat at T = 1.0
(Experiments 1-3, sections 4.1-4.3). Each row names the lab metric that measures the same
thing and the direction alignment moved it in the paper; the lab's values and 95% CIs are
read from metrics.json files, never typed in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Headline:
    experiment: str
    what: str
    key: str  # lab metric key in metrics.json
    paper_base: str
    paper_aligned: str
    direction: int  # +1: alignment raised it in the paper, -1: lowered it
    transform: str = ""  # how the lab value is derived from the key, if not read as is
    note: str = ""


HEADLINES: tuple[Headline, ...] = (
    Headline("Exp 3", "mean top-5 token entropy, bits", "entropy/top5_bits_mean", "1.48 (sd 0.17)", "0.96 (sd 0.12)", -1),
    Headline("Exp 2", "mean pairwise TF-IDF cosine similarity", "semantic/tfidf_cos_mean", "0.16 (sd 0.03)",
             "0.35 (sd 0.06)", +1),
    Headline("Exp 2", "clusters of completion embeddings (k by silhouette)", "semantic/kmeans_k", "scattered",
             "4 distinct clusters", -1, note="the paper reports no k for the base model; fewer clusters = collapse"),
    Headline("Exp 1", "optimal k-means clusters of review sentences", "persona/review_kmeans_k", "14", "6", -1),
    Headline("Exp 1", "MBTI types among personas (of 16)", "persona/mbti_coverage", "16", "6", -1,
             transform="x16"),
    Headline("Exp 1", "distinct nationalities", "persona/n_nationalities", "many", "3", -1),
    Headline("Exp 1", "age spread (sd, years)", "persona/age_sd", "below 10 to ~70", "28 to 35", -1),
    Headline("Exp 1", "gender imbalance |female share - 0.5|", "persona/female_share", "~80% male",
             "~100% female", +1, transform="imbalance",
             note="the tiny world's annotator ignores gender, so no shift is expected unless coupled"),
    Headline("Exp 1", "review length, characters", "persona/review_chars_mean", "109", "457", +1),
    Headline("Exp 1", "lowest VADER sentiment of a review", "persona/sentiment_min", "-0.75", "near +1", +1),
)


def lab_value(metrics: dict[str, Any], h: Headline, suffix: str = "") -> float | None:
    """The lab's number for a headline row (``suffix`` ``_ci_lo``/``_ci_hi`` for its CI bounds)."""
    v = metrics.get(h.key + suffix)
    if v is None:
        return None
    v = float(v)
    if h.transform == "x16":
        return v * 16
    if h.transform == "imbalance":
        return abs(v - 0.5)
    return v


def _ci(metrics: dict[str, Any], h: Headline) -> tuple[float, float] | None:
    lo, hi = lab_value(metrics, h, "_ci_lo"), lab_value(metrics, h, "_ci_hi")
    if lo is None or hi is None:
        return None
    return (min(lo, hi), max(lo, hi)) if h.transform != "imbalance" else None


def verdict(base: float | None, aligned: float | None, h: Headline,
            base_ci: tuple[float, float] | None = None, aligned_ci: tuple[float, float] | None = None) -> str:
    """``reproduces`` / ``opposite`` / ``no change`` / ``n/a``: does alignment move it the paper's way?

    A move counts only if it is outside both 95% CIs when they are known (else any strict change).
    """
    if base is None or aligned is None:
        return "n/a"
    delta = aligned - base
    if base_ci and aligned_ci:
        separated = aligned_ci[0] > base_ci[1] or aligned_ci[1] < base_ci[0]
        if not separated:
            return "no clear change"
    if delta == 0:
        return "no change"
    return "reproduces" if (delta > 0) == (h.direction > 0) else "opposite"


def side_by_side(base: dict[str, Any], aligned: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows of the paper-vs-lab table: ``aligned`` maps a column label (e.g. "PPO b=0.005") to metrics."""
    rows = []
    for h in HEADLINES:
        b = lab_value(base, h)
        row = {"headline": h, "base": b, "base_ci": _ci(base, h), "aligned": {}}
        for label, m in aligned.items():
            a = lab_value(m, h)
            row["aligned"][label] = {
                "value": a,
                "ci": _ci(m, h),
                "verdict": verdict(b, a, h, row["base_ci"], _ci(m, h)),
            }
        rows.append(row)
    return rows
