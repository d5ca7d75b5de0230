"""Customer-persona diversity (Experiment 1, sec. 3.1 and 4.1)."""

from __future__ import annotations

import re

import numpy as np

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
