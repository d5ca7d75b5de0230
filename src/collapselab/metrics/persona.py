"""Customer-persona diversity (Experiment 1, sec. 3.1 and 4.1)."""

from __future__ import annotations

import re

import numpy as np

from collapselab.metrics.registry import PaperValues, register
from collapselab.metrics.text import vader_compound

MBTI_TYPES = tuple(a + b + c + d for a in "EI" for b in "SN" for c in "TF" for d in "JP")
_SENTENCE_RE = re.compile(r"(?<=[.!?])\s+")


def _norm(value) -> str | None:
    """Case- and space-insensitive key for counting distinct string attributes."""
    if value is None:
        return None
    s = " ".join(str(value).split()).casefold()
    return s or None


def _parsed_only(parsed, n_total):
    if isinstance(parsed, dict):
        raise TypeError("parsed must be a list of dicts (or None), not a single dict")
    parsed = list(parsed)
    total = len(parsed) if n_total is None else int(n_total)
    if total == 0:
        raise ValueError("parsed: no generations to score (empty list and n_total 0)")
    if total < len(parsed):
        raise ValueError(f"n_total={n_total}: must be >= len(parsed)={len(parsed)}")
    ok = [p for p in parsed if p is not None]
    for p in ok:
        if not isinstance(p, dict):
            raise TypeError(f"parsed entries must be dict or None, got {type(p).__name__}")
    return ok, total


def persona_stats(parsed: list[dict | None], n_total: int | None = None) -> dict[str, float]:
    """Diversity statistics of generated personas (Experiment 1, sec. 3.1, 4.1).

    parsed: one entry per generation, a dict from ``parse_persona`` (keys first_name, last_name,
    gender, age, nationality, ethnicity, mbti, review) or None if it did not parse. n_total: the
    number of generations when ``parsed`` only lists some (default len(parsed)).
    Returns the DESIGN.md keys with the "persona/" prefix:
      parse_rate = parsed / n_total; n_* = distinct non-empty values (case/space-insensitive);
      mbti_coverage = distinct valid MBTI types / 16; age_min/max/sd over integer ages
      (population sd, ddof=0); female_share = share of parsed personas with gender "female"
      among those with a gender; sentiment_min/max/mean = VADER compound of non-empty reviews;
      review_chars_mean = mean review length in characters (missing review = 0 chars).
    Undefined values (no ages, no reviews, nothing parsed) are nan. review_kmeans_k needs
    embeddings and is computed by the probe (see ``review_sentences``).
    """
    ok, total = _parsed_only(parsed, n_total)
    out: dict[str, float] = {"persona/parse_rate": len(ok) / total}
    for key, name in (("first_name", "n_first_names"), ("last_name", "n_last_names"),
                      ("nationality", "n_nationalities"), ("ethnicity", "n_ethnicities")):
        out[f"persona/{name}"] = float(len({v for p in ok if (v := _norm(p.get(key))) is not None}))
    mbti = {str(p.get("mbti")).strip().upper() for p in ok if p.get("mbti") is not None}
    out["persona/mbti_coverage"] = len(mbti & set(MBTI_TYPES)) / 16
    ages = np.array([p["age"] for p in ok if isinstance(p.get("age"), (int, np.integer))
                     and not isinstance(p.get("age"), bool)], dtype=float)
    nan = float("nan")
    out["persona/age_min"] = float(ages.min()) if ages.size else nan
    out["persona/age_max"] = float(ages.max()) if ages.size else nan
    out["persona/age_sd"] = float(ages.std()) if ages.size else nan
    genders = [_norm(p.get("gender")) for p in ok if _norm(p.get("gender")) is not None]
    out["persona/female_share"] = sum(g == "female" for g in genders) / len(genders) if genders else nan
    reviews = [p.get("review") or "" for p in ok]
    nonempty = [r for r in reviews if r.strip()]
    sent = vader_compound(nonempty) if nonempty else np.array([])
    out["persona/sentiment_min"] = float(sent.min()) if sent.size else nan
    out["persona/sentiment_max"] = float(sent.max()) if sent.size else nan
    out["persona/sentiment_mean"] = float(sent.mean()) if sent.size else nan
    out["persona/review_chars_mean"] = float(np.mean([len(r) for r in reviews])) if reviews else nan
    return out


# --- registered keys (Experiment 1, sec. 3.1 and 4.1). persona_stats computes them as a group
# (its dict holds each key); the paper's numbers are from sec. 4.1 and Figs. 2-9.
def _stat(name: str, desc: str, *, hib: bool, div: bool | None = None, ci: str = "none",
          paper: PaperValues | None = None) -> None:
    register(f"persona/{name}", fn=persona_stats, higher_is_better=hib, probe="persona", description=desc,
             more_diverse=div, ci=ci, paper=paper)


_stat("parse_rate", "share of generations that parse as a persona", hib=True, ci="wilson")
_stat("n_first_names", "distinct first names among parsed personas", hib=True, div=True)
_stat("n_last_names", "distinct last names among parsed personas", hib=True, div=True)
_stat("n_nationalities", "distinct nationalities among parsed personas", hib=True, div=True, ci="index_bootstrap",
      # Fig. 2: the base model "generates a wide range of nationalities", the aligned one "only ... three"
      paper=PaperValues(1, "4.1, Fig. 2", "many", "3", -1))
_stat("n_ethnicities", "distinct ethnicities among parsed personas", hib=True, div=True)
_stat("mbti_coverage", "distinct valid MBTI types / 16", hib=True, div=True, ci="index_bootstrap",
      # Fig. 4: "all 16 personality types" vs "only six" (the paper counts types; this is the share of 16)
      paper=PaperValues(1, "4.1, Fig. 4", "16", "6", -1))
_stat("age_min", "youngest parsed age (years)", hib=False)
_stat("age_max", "oldest parsed age (years)", hib=True)
_stat("age_sd", "standard deviation of parsed ages (years)", hib=True, div=True, ci="bootstrap_stat",
      # Fig. 5: ages "from below 10 years old to nearly 70" vs "between 28 and 35" (ranges; the paper gives no sd)
      paper=PaperValues(1, "4.1, Fig. 5", "below 10 to ~70", "28 to 35", -1))
_stat("female_share", "share of parsed personas whose gender is female", hib=True, ci="wilson",
      # Fig. 6: "approximately 80% male" vs "nearly 100% female": the share rose (+1), and so did the
      # imbalance |share - 0.5| (0.3 -> 0.5) that the report shows
      paper=PaperValues(1, "4.1, Fig. 6", "~80% male", "~100% female", +1))
_stat("sentiment_min", "lowest VADER compound score of the reviews", hib=False, ci="bootstrap_stat",
      # Fig. 8: the base model's reviews range "from -0.75 to +0.97"; the aligned ones sit "almost entirely around +1"
      paper=PaperValues(1, "4.1, Fig. 8", "-0.75", "near +1", +1))
_stat("sentiment_max", "highest VADER compound score of the reviews", hib=True)
_stat("sentiment_mean", "mean VADER compound score of the reviews", hib=True, ci="bootstrap_mean")
_stat("review_chars_mean", "mean review length in characters", hib=True, ci="bootstrap_mean",
      # Fig. 7: "an average length of 457 characters for the aligned model and 109 for the base model"
      paper=PaperValues(1, "4.1, Fig. 7", "109", "457", +1))
register(
    "persona/review_kmeans_k", higher_is_better=True, probe="persona", more_diverse=True, ci="index_bootstrap",
    description="k-means clusters (by silhouette) of review-sentence embeddings",
    derived="k of best_kmeans(embed_texts(review_sentences(reviews))) (probes/persona.py)",
    # Fig. 9: "The optimal number of clusters is determined to be 14 for the base model and 6 for the aligned model"
    paper=PaperValues(1, "4.1, Fig. 9", "14", "6", -1),
)


def attribute_distribution(parsed: list[dict | None], key: str) -> dict:
    """Empirical distribution {value: share} of one persona attribute (sec. 4.1).

    Only parsed personas with a non-None, non-empty value count; string values are compared
    case- and space-insensitively and reported in their first-seen spelling. Shares sum to 1;
    empty dict if no persona has the attribute. MBTI values are upper-cased. Empty list -> ValueError.
    """
    ok, _ = _parsed_only(parsed, None)
    counts: dict = {}
    spelling: dict = {}
    for p in ok:
        v = p.get(key)
        if v is None:
            continue
        if isinstance(v, str):
            k = _norm(v)
            if k is None:
                continue
            if key == "mbti":
                k, v = k.upper(), v.strip().upper()
            spelling.setdefault(k, " ".join(v.split()))
        else:
            k = v
            spelling.setdefault(k, v)
        counts[k] = counts.get(k, 0) + 1
    n = sum(counts.values())
    return {spelling[k]: c / n for k, c in counts.items()}


def review_sentences(reviews: list[str]) -> list[str]:
    """Split reviews into sentences (after . ! ?) for the review-sentence k-means (sec. 4.1)."""
    return [s.strip() for r in reviews for s in _SENTENCE_RE.split(r or "") if s.strip()]


def _sentence_key(s: str) -> str:
    return " ".join(s.split()).casefold()


def sentence_codes(per_review: list[list[str]]) -> list[np.ndarray]:
    """Each review's sentences as integer codes, equal codes for sentences equal up to case and spacing."""
    index: dict[str, int] = {}
    return [np.array([index.setdefault(_sentence_key(s), len(index)) for s in ss], dtype=np.int64)
            for ss in per_review]


def distinct_share_of(codes: list[np.ndarray], idx: np.ndarray) -> float:
    """Distinct sentence codes / sentences over the reviews ``idx`` (repeats count each time); nan: none."""
    c = np.concatenate([codes[i] for i in idx]) if len(idx) else np.array([], dtype=np.int64)
    return float(np.unique(c).size / c.size) if c.size else float("nan")


@register("persona/review_distinct_sentence_share", higher_is_better=True, probe="persona", more_diverse=True,
          ci="index_bootstrap", description="distinct review sentences / review sentences (case- and space-insensitive)")
def review_distinct_sentence_share(per_review: list[list[str]]) -> float:
    """How often the reviews repeat a sentence verbatim (sec. 4.1, Tables 2-3: the aligned model's review
    clusters hold "verbatim repetitions of sentences such as 'this machine is a game changer'").

    per_review: each review's sentences (``review_sentences([review])``). Sentences are compared
    case- and space-insensitively. Returns distinct sentences / all sentences, over all reviews
    (1: no sentence said twice; a repeated sentence lowers it by 1 / total each time it recurs);
    a ValueError when there is no sentence. Unlike the silhouette's k, it is not pushed up by duplicates:
    a duplicate is what it counts. It falls as more sentences are drawn from the same distribution,
    so compare checkpoints at similar sentence counts (or note when a lower share comes with fewer
    sentences). Worked example (the unit test): reviews ["Great. Love it."],
    ["great.", "Five stars."], ["Love it.", "Great."] hold 6 sentences, 3 distinct -> 0.5.
    """
    codes = sentence_codes(per_review)
    if not any(c.size for c in codes):
        raise ValueError("review_distinct_sentence_share: no sentence in any review (nothing to count)")
    return distinct_share_of(codes, np.arange(len(codes)))


# ------------------------------------------------------------------ attribute entropy (one number for sec. 4.1)
ENTROPY_ATTRIBUTES = ("first_name", "nationality", "ethnicity", "mbti", "age_band")


def world_category_counts() -> dict[str, int | None]:
    """How many categories the tiny world has per attribute of ``attribute_entropy_mean``.

    nationality 42 and ethnicity 14 (``world.population.NATIONALITIES``), MBTI 16, age band 5
    (``world.population.AGE_BANDS``); first name None: the world's Faker name lists hold
    thousands, more than any sample, so only the sample size bounds its entropy.
    """
    from collapselab.world.population import AGE_BANDS, NATIONALITIES

    ethnicities = {e for v in NATIONALITIES.values() for e in v[5]}
    return {"first_name": None, "nationality": len(NATIONALITIES), "ethnicity": len(ethnicities),
            "mbti": len(MBTI_TYPES), "age_band": len(AGE_BANDS)}


def _category(p: dict, attr: str):
    """The category of one parsed persona for ``attr`` (None: missing or invalid)."""
    if attr == "age_band":
        from collapselab.world.population import age_band

        age = p.get("age")
        ok = isinstance(age, (int, np.integer)) and not isinstance(age, bool)
        return age_band(int(age)) if ok else None
    if attr == "mbti":
        m = p.get("mbti")
        m = str(m).strip().upper() if m is not None else None
        return m if m in MBTI_TYPES else None
    return _norm(p.get(attr))


def attribute_codes(parsed: list[dict | None]) -> dict[str, np.ndarray]:
    """Integer category codes per ``ENTROPY_ATTRIBUTES`` entry: {attr: [N] int, -1 = missing}.

    One entry per generation (None, i.e. unparsed, is -1 everywhere), so a bootstrap can resample
    generations by index. Strings compare case- and space-insensitively (as ``persona_stats``),
    MBTI counts only the 16 valid types, ages map to the world's ``age_band``. Empty -> ValueError.
    """
    parsed = parsed if isinstance(parsed, dict) else list(parsed)
    _parsed_only(parsed, None)  # validates (empty -> ValueError); the codes keep every position
    out = {}
    for attr in ENTROPY_ATTRIBUTES:
        index: dict = {}
        cats = [None if p is None else _category(p, attr) for p in parsed]
        out[attr] = np.array([-1 if c is None else index.setdefault(c, len(index)) for c in cats], dtype=np.int64)
    return out


def attribute_entropy_rows(codes: dict[str, np.ndarray], idx: np.ndarray,
                           n_categories: dict[str, int | None] | None = None) -> np.ndarray:
    """``attribute_entropy_mean`` of each row of generation indices ``idx`` [B, n] -> [B] (nan: no
    attribute observed). ``codes`` from ``attribute_codes``; one vectorised pass for a bootstrap."""
    k_world = {**world_category_counts(), **(n_categories or {})}
    idx = np.atleast_2d(np.asarray(idx, dtype=np.int64))
    b = idx.shape[0]
    per_attr = []
    for attr in ENTROPY_ATTRIBUTES:
        c = codes[attr][idx]  # [B, n]
        n_cat = int(codes[attr].max()) + 1 if codes[attr].size else 0
        if n_cat == 0:
            per_attr.append(np.full(b, np.nan))
            continue
        rows = np.broadcast_to(np.arange(b)[:, None], c.shape)
        valid = c >= 0
        counts = np.bincount(rows[valid] * n_cat + c[valid], minlength=b * n_cat).reshape(b, n_cat)
        n = counts.sum(1).astype(float)  # [B] personas with this attribute
        p = counts / np.maximum(n, 1)[:, None]
        h = -np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0).sum(1)
        k = k_world.get(attr)
        # ln min(n, K): the most entropy n draws over K categories can show; K grows to the
        # observed d when a sample holds values the world lacks, so a term never passes 1
        cap = n if k is None else np.minimum(n, np.maximum(k, (counts > 0).sum(1)))
        denom = np.log(np.maximum(cap, 1.0))
        v = np.where(denom > 0, h / np.where(denom > 0, denom, 1.0), 0.0)  # n = 1: 0
        per_attr.append(np.where(n > 0, v, np.nan))
    stacked = np.stack(per_attr, 1)  # [B, n_attributes]
    seen = (~np.isnan(stacked)).sum(1)
    return np.where(seen > 0, np.nansum(stacked, 1) / np.maximum(seen, 1), np.nan)


@register("persona/attribute_entropy_mean", higher_is_better=True, probe="persona", more_diverse=True,
          ci="index_bootstrap",
          description="mean normalised entropy (0-1) of first name, nationality, ethnicity, MBTI and age band")
def attribute_entropy_mean(parsed: list[dict | None], n_categories: dict[str, int | None] | None = None) -> float:
    """Persona diversity as one number in [0, 1] (Experiment 1, sec. 4.1): the mean normalised
    entropy of first name, nationality, ethnicity, MBTI type and age band.

    For each attribute, over the n parsed personas that state it (d distinct values, empirical
    shares p): H = -sum p ln p, divided by ln min(n, K) where K = max(K_world, d) and K_world is
    the world's number of categories (``world_category_counts``: nationality 42, ethnicity 14,
    MBTI 16, age band 5; first name unbounded, so its normaliser is ln n). ln min(n, K) is the
    largest entropy n draws over K categories can show, so every term lies in [0, 1] and 1
    means "as spread as the sample size and the world allow"; d > K_world (values the world
    lacks, e.g. a real model's extra nationalities) raises K instead of pushing the term past 1.
    n = 1 gives 0; attributes no persona states are left out of the mean; none stated -> nan.
    The normaliser depends on n, so compare checkpoints at equal sample sizes (the probe's
    truth value is computed at the checkpoint's own n for that reason).
    ``n_categories`` overrides K_world for the attributes it names (None: unbounded).
    Empty input -> ValueError.

    Worked example (the unit test): 4 personas stating only MBTI INTJ, INTJ, ENFP, ENFP and
    nationality A, A, A, B. MBTI: H = ln 2, K = 16, ln min(4, 16) = ln 4 -> 0.5. Nationality:
    H = -(.75 ln .75 + .25 ln .25) = 0.562335, ln min(4, 42) = ln 4 = 1.386294 -> 0.405639.
    Mean of the two stated attributes: 0.452820.
    """
    codes = attribute_codes(parsed)
    n = len(next(iter(codes.values())))
    return float(attribute_entropy_rows(codes, np.arange(n)[None, :], n_categories)[0])


def distinct_rows(codes: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Distinct categories (codes >= 0) in each row of generation indices ``idx`` [B, n] -> [B]."""
    idx = np.atleast_2d(np.asarray(idx, dtype=np.int64))
    c = np.asarray(codes, dtype=np.int64)[idx]
    n_cat = int(codes.max()) + 1 if len(codes) and codes.max() >= 0 else 0
    if n_cat == 0:
        return np.zeros(idx.shape[0])
    b = idx.shape[0]
    rows = np.broadcast_to(np.arange(b)[:, None], c.shape)
    valid = c >= 0
    seen = np.bincount(rows[valid] * n_cat + c[valid], minlength=b * n_cat).reshape(b, n_cat) > 0
    return seen.sum(1).astype(float)


def persona_set_intervals(parsed: list[dict | None], n_boot: int = 1000, seed: int = 0,
                          alpha: float = 0.05) -> dict[str, float]:
    """(1 - alpha) intervals of the set-level persona statistics, resampling generations.

    parsed: one entry per generation (None: unparsed; resampled too, so parse-rate noise is in
    the interval). Returns ``<key>_ci_lo`` / ``<key>_ci_hi`` for ``persona/n_nationalities``,
    ``persona/mbti_coverage`` and ``persona/attribute_entropy_mean`` (left out when nothing
    parsed). Re-centred bootstrap (``stats.index_bootstrap_ci``): a resample repeats generations
    and so shows fewer distinct values; the raw percentiles of a count are biased low, so they
    are moved onto the observed value, and every checkpoint is treated alike. The count's bounds
    are whole counts (the coverage's, multiples of 1/16), rounded outward. Vectorised over
    resamples (milliseconds for 1000 resamples of 100). Empty -> ValueError.
    """
    from collapselab.metrics.stats import index_bootstrap_ci

    codes = attribute_codes(parsed)
    n = len(codes["mbti"])
    # (statistic, its range, its grid: counts and the share of 16 types have integer-count bounds)
    stats = {
        "persona/n_nationalities": (lambda idx: distinct_rows(codes["nationality"], idx), (0.0, float(n)), 1.0),
        "persona/mbti_coverage": (lambda idx: distinct_rows(codes["mbti"], idx) / len(MBTI_TYPES), (0.0, 1.0),
                                  1.0 / len(MBTI_TYPES)),
    }
    if any((c >= 0).any() for c in codes.values()):
        stats["persona/attribute_entropy_mean"] = (lambda idx: attribute_entropy_rows(codes, idx), (0.0, 1.0), None)
    out = {}
    for key, (fn, bounds, grid) in stats.items():
        lo, hi = index_bootstrap_ci(n, fn, n_boot, seed, alpha, batched=True, bounds=bounds, grid=grid)
        out[f"{key}_ci_lo"], out[f"{key}_ci_hi"] = lo, hi
    return out
