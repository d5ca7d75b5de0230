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
    """The lab's number for a headline row (``suffix`` ``_ci_lo``/``_ci_hi``: a raw CI bound; use
    ``_ci`` for the interval, which handles transforms that do not map bounds to bounds)."""
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
    """The row's 95% interval on the lab-value scale (after ``transform``), or None without CI keys."""
    lo, hi = metrics.get(h.key + "_ci_lo"), metrics.get(h.key + "_ci_hi")
    if lo is None or hi is None:
        return None
    lo, hi = sorted((float(lo), float(hi)))
    if h.transform == "x16":
        return lo * 16, hi * 16
    if h.transform == "imbalance":  # the image of [lo, hi] under |x - 0.5|
        a, b = abs(lo - 0.5), abs(hi - 0.5)
        return (0.0 if lo <= 0.5 <= hi else min(a, b)), max(a, b)
    return lo, hi


def verdict(base: float | None, aligned: float | None, h: Headline,
            base_ci: tuple[float, float] | None = None, aligned_ci: tuple[float, float] | None = None) -> str:
    """Does alignment move the row the paper's way, beyond sampling noise?

    ``reproduces``: the aligned 95% interval lies wholly on the paper's side of the base interval
    (direction +1: aligned lo > base hi; -1: aligned hi < base lo); ``opposite``: wholly on the
    other side; ``no clear change``: the intervals overlap or touch; ``no interval``: a value
    lacks its interval (older metrics files), so no verdict, however large the move; ``n/a``:
    a value is missing. Every paper row carries an interval, each checkpoint's bootstrapped the
    same way, so the rule compares like with like even where a bootstrap is biased (counts).
    """
    if base is None or aligned is None:
        return "n/a"
    if base_ci is None or aligned_ci is None:
        return "no interval"
    if aligned_ci[0] > base_ci[1]:
        moved = +1
    elif aligned_ci[1] < base_ci[0]:
        moved = -1
    else:
        return "no clear change"
    return "reproduces" if moved == h.direction else "opposite"


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
