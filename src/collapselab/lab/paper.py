"""The paper table: which registered metrics it shows, in which order, and how.

The paper's numbers are Mohammadi (2024), Llama-2-7B base vs Llama-2-7B-chat at T = 1.0
(Experiments 1-3, sections 4.1-4.3). They live with the metric they describe, in its registration
(``collapselab.metrics.register(..., paper=PaperValues(...))``, each citing its section); this
module keeps only presentation: the row order, the "what" label, how the lab value is put on the
paper's scale (``transform``) and notes. The lab's values and 95% CIs are read from metrics.json
files, never typed in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from collapselab.metrics import METRICS, PaperValues


@dataclass(frozen=True)
class Headline:
    """One row of the paper table: the registered metric ``key`` and how to show it."""

    what: str
    key: str  # lab metric key in metrics.json; its registration holds the paper's values
    transform: str = ""  # how the lab value is put on the paper's scale, if not read as is
    note: str = ""
    # the evaluation setting (a dotted path in metrics.json's meta.config) that bounds the value from above:
    # k by silhouette is searched up to k_max, so a k of k_max says only "k_max or more"
    ceiling: str = ""

    def __post_init__(self) -> None:
        if self.transform not in ("", "x16", "imbalance"):
            raise ValueError(f"Headline {self.key!r}: transform={self.transform!r} (allowed: '', x16, imbalance)")
        if self.key not in METRICS or METRICS[self.key].paper is None:
            raise ValueError(f"Headline {self.key!r}: no registered metric with the paper's values "
                             "(register(..., paper=PaperValues(...)))")

    @property
    def paper(self) -> PaperValues:
        return METRICS[self.key].paper  # type: ignore[return-value] - checked in __post_init__

    @property
    def experiment(self) -> str:
        return f"Exp {self.paper.experiment}"

    @property
    def paper_base(self) -> str:
        return self.paper.base

    @property
    def paper_aligned(self) -> str:
        return self.paper.aligned

    @property
    def direction(self) -> int:
        """+1: alignment raised it in the paper, -1: lowered it (on the shown scale: the transforms
        here keep the paper's direction, see the female_share registration)."""
        return self.paper.direction


HEADLINES: tuple[Headline, ...] = (
    Headline("mean top-5 token entropy, bits", "entropy/top5_bits_mean"),
    Headline("mean pairwise TF-IDF cosine similarity", "semantic/tfidf_cos_mean"),
    Headline("clusters of completion embeddings (k by silhouette)", "semantic/kmeans_k",
             note="the paper reports no k for the base model; fewer clusters = collapse", ceiling="semantic.k_max"),
    Headline("optimal k-means clusters of review sentences", "persona/review_kmeans_k", ceiling="persona.k_max"),
    Headline("MBTI types among personas (of 16)", "persona/mbti_coverage", transform="x16"),
    Headline("distinct nationalities", "persona/n_nationalities"),
    Headline("age spread (sd, years)", "persona/age_sd"),
    Headline("gender imbalance |female share - 0.5|", "persona/female_share", transform="imbalance",
             note="the tiny world's annotator ignores gender, so no shift is expected unless coupled"),
    Headline("review length, characters", "persona/review_chars_mean"),
    Headline("lowest VADER sentiment of a review", "persona/sentiment_min"),
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


def config_number(metrics: dict[str, Any], dotted: str) -> float | None:
    """A numeric evaluation setting (``dotted``, e.g. ``persona.k_max``) from a metrics file's ``meta.config``, or
    None when the file does not say."""
    node: Any = metrics.get("meta", {}).get("config", {})
    for part in dotted.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return float(node) if isinstance(node, (int, float)) and not isinstance(node, bool) else None


def ceiling(metrics: dict[str, Any], h: Headline) -> float | None:
    """The largest value the row's metric could take in this evaluation (``h.ceiling`` read from
    ``meta.config``, e.g. ``persona.k_max``), or None when the row has no ceiling or the file does not say."""
    return config_number(metrics, h.ceiling) if h.ceiling else None


def censored(metrics: dict[str, Any], h: Headline, value: float | None) -> str | None:
    """"censored (k_max 10)" when ``value`` sits at the row's ceiling: the search stopped there, so the
    checkpoint's own optimum may lie higher, and a comparison that does not show the paper's move cannot
    tell "no change" from "not searched far enough". None otherwise."""
    top = ceiling(metrics, h)
    if top is None or value is None or value < top:
        return None
    return f"censored ({h.ceiling.rsplit('.', 1)[-1]} {top:g})"


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


# the persona parse rate below which a checkpoint's persona rows are a failed run, not a finding (issue #4's
# floor for every aligned run: a model that cannot write the persona format has collapsed in another sense)
PARSE_FLOOR = 0.85


def failed_run(m: dict[str, Any], h: Headline, base: dict[str, Any] | None = None) -> str | None:
    """"failed run (parse 0.43 < 0.85)" for a persona row of a checkpoint below ``PARSE_FLOOR``, "failed run (base
    parse 0.83 < 0.85)" for one compared with a ``base`` below it (a verdict against a broken base says nothing
    either), else None."""
    if not h.key.startswith("persona/"):
        return None
    for who, metrics in (("", m), ("base ", base or {})):
        parse = metrics.get("persona/parse_rate")
        if parse is not None and parse < PARSE_FLOOR:
            return f"failed run ({who}parse {parse:.2f} < {PARSE_FLOOR})"
    return None


def side_by_side(base: dict[str, Any], aligned: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows of the paper-vs-lab table: ``aligned`` maps a column label (e.g. "PPO b=0.005") to metrics.

    A persona row of a column that parses fewer than ``PARSE_FLOOR`` of its personas gets the verdict
    "failed run (...)" instead of a direction: its attribute counts describe a broken model; so does every
    column's persona row when the base parses fewer (the row's ``base_failed`` says so). A k row whose
    aligned value sits at the search's ``k_max`` gets "censored (k_max ...)" unless it reproduces."""
    rows = []
    for h in HEADLINES:
        b = lab_value(base, h)
        row = {"headline": h, "base": b, "base_ci": _ci(base, h), "base_failed": failed_run(base, h), "aligned": {}}
        for label, m in aligned.items():
            a = lab_value(m, h)
            v = failed_run(m, h, base) or verdict(b, a, h, row["base_ci"], _ci(m, h))
            if v in ("no clear change", "opposite"):  # at the ceiling these say nothing; a move the paper's way stands
                v = censored(m, h, a) or v
            row["aligned"][label] = {"value": a, "ci": _ci(m, h), "verdict": v}
        rows.append(row)
    return rows


def is_aligned(label: str) -> bool:
    """A column the paper table counts: every aligned run (PPO, DPO, rejection sampling); SFT is shown, not counted."""
    return label != "sft"


def rows_json(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``side_by_side``'s rows as plain data, what ``report/verdicts.json`` holds under "paper": per row its metric
    ``key``, what it shows, the paper's values and direction, the base value and interval (and ``base_failed``: the
    base's own "failed run (...)" on a persona row when it parses under the floor, else None), and per aligned column
    its value, interval and verdict (intervals as [lo, hi] or None)."""

    def pair(ci: tuple[float, float] | None) -> list[float] | None:
        return None if ci is None else [float(ci[0]), float(ci[1])]

    out = []
    for row in rows:
        h: Headline = row["headline"]
        out.append({"key": h.key, "what": h.what, "experiment": h.experiment, "direction": h.direction,
                    "paper_base": h.paper_base, "paper_aligned": h.paper_aligned,
                    "base": row["base"], "base_ci": pair(row["base_ci"]), "base_failed": row["base_failed"],
                    "aligned": {label: {"value": c["value"], "ci": pair(c["ci"]), "verdict": c["verdict"]}
                                for label, c in row["aligned"].items()}})
    return out
