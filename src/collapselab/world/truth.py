"""The world's ground truth: attribute distributions and sentiment given each attribute.

Attribute marginals and P(sentiment class | attribute) are computed exactly from the
generative tables in ``population``; quantities that go through the review grammar and
VADER (mean compound, review length) are estimated from ``truth_samples`` fresh personas
drawn from a separate random stream (never the stored documents).
"""

from __future__ import annotations

import functools
import json
from collections import defaultdict

import numpy as np

from collapselab.optimum import optimal_shares
from collapselab.world.population import (
    AGE_BANDS, AGES, CLASSES, GENDERS, NATIONALITIES, age_band, age_p, class_p, drive, mbti_letter_p, mbti_p,
    nationality_p, reseed_fakers,
)
from collapselab.world.annotator import Annotator
from collapselab.world.documents import document_stats
from collapselab.world.persona import format_persona
from collapselab.world.prompts import PERSONA_INSTRUCTION
from collapselab.world.reviews import profane_p

POSITIVE = ("positive", "delighted")
NEGATIVE = ("angry", "negative")
GROUPINGS = ("E/I", "T/F", "age_band", "nationality", "gender")
KL_BETAS = (0.05, 0.1, 0.2, 0.5, 1.0)  # betas (in units of the annotator's Bradley-Terry logit) for the optimum table


def group_of(rec: dict, grouping: str) -> str:
    """The group a persona record (or parsed persona) falls in under ``grouping``."""
    if grouping == "E/I":
        return rec["mbti"][0]
    if grouping == "T/F":
        return rec["mbti"][2]
    if grouping == "age_band":
        return age_band(int(rec["age"]))
    return str(rec[grouping])


def _class_tables(coupling: float) -> dict:
    """Exact P(class) and P(class | group) by enumerating nationality x age x (E/I, T/F) (other
    attributes do not enter the drive; gender is independent of everything, so P(c | g) = P(c)).
    E/I and T/F are not independent under the type table, so their joint comes from ``mbti_p``."""
    nat_p, ap = nationality_p(), age_p()
    ei_tf: dict[tuple[str, str], float] = defaultdict(float)
    for t, p in mbti_p().items():
        ei_tf[t[0], t[2]] += p
    acc: dict[str, dict[str, np.ndarray]] = defaultdict(lambda: defaultdict(lambda: np.zeros(len(CLASSES))))
    total = np.zeros(len(CLASSES))
    for nat, pn in nat_p.items():
        for age, pa in zip(AGES, ap):
            for (ei, tf), p_ax in ei_tf.items():
                pc = pn * pa * p_ax * class_p(drive(ei + "S" + tf + "J", int(age), nat), coupling)
                total += pc
                for grouping, g in (("E/I", ei), ("T/F", tf), ("age_band", age_band(int(age))), ("nationality", nat)):
                    acc[grouping][g] += pc
    out = {"all": dict(zip(CLASSES, total.tolist()))}
    for grouping, groups in acc.items():
        out[grouping] = {g: dict(zip(CLASSES, (v / v.sum()).tolist())) for g, v in groups.items()}
    out["gender"] = {g: out["all"] for g in GENDERS}
    return out


def _share(dist: dict, classes: tuple) -> float:
    return float(sum(dist[c] for c in classes))


def _sampled(cfg) -> dict:
    """Over ``truth_samples`` fresh personas: mean VADER compound, review chars, VADER>=0.05 share,
    annotator reward (score / temperature) per group, and the KL-optimum attribute shares per beta."""
    from collapselab.world.persona import generate_personas

    reseed_fakers(cfg.seed + 7919)
    recs = generate_personas(cfg.truth_samples, cfg.coupling, cfg.profanity_rate, np.random.default_rng([cfg.seed, 7919]))
    out: dict = {"n": len(recs)}
    vals = np.array([r["sentiment"] for r in recs])
    chars = np.array([len(r["review"]) for r in recs])
    out["vader_mean"] = {"all": float(vals.mean())}
    out["vader_positive_share"] = {"all": float((vals >= 0.05).mean())}
    out["review_chars_mean"] = {"all": float(chars.mean())}
    out["vader_quantiles"] = {q: float(np.quantile(vals, float(q))) for q in ("0.01", "0.05", "0.5", "0.95", "0.99")}
    ann = Annotator()
    reward = np.array([ann.score(PERSONA_INSTRUCTION, format_persona(r, header=False)) for r in recs]) / ann.temperature
    out["annotator_score_mean"] = {"all": float(reward.mean())}
    out["kl_optimum"] = {str(b): {} for b in KL_BETAS}
    for grouping in GROUPINGS:
        groups = np.array([group_of(r, grouping) for r in recs])
        for key, arr in (("vader_mean", vals), ("vader_positive_share", vals >= 0.05), ("review_chars_mean", chars),
                         ("annotator_score_mean", reward)):
            out[key][grouping] = {g: float(arr[groups == g].mean()) for g in sorted(set(groups))}
        for b in KL_BETAS:
            out["kl_optimum"][str(b)][grouping] = kl_optimal_shares(groups, reward, b)
    return out


# Attribute shares under the KL-regularised optimum pi*(y) ∝ pi0(y) exp(R(y) / beta), from samples of
# pi0 (pi0(a) E[exp(R / beta) | a] / Z; DESIGN.md "The tiny world"). The math lives in collapselab.optimum.
kl_optimal_shares = optimal_shares


def ground_truth(cfg) -> dict:
    """Everything known about the world ``cfg`` generates (JSON-able; saved as ``truth.json``).

    Keys: ``attributes`` (gender, age, age_band, nationality, ethnicity, ethnicity_given_nationality,
    mbti, mbti_letters), ``sentiment_class`` (all, and per grouping E/I, T/F, age_band, nationality,
    gender: P(class | group)), ``positive_share`` / ``negative_share`` (same groupings), ``profane_share``,
    ``sampled`` (VADER means, review lengths, annotator reward means, ``kl_optimum``: per beta and
    grouping, the attribute shares the KL-regularised optimum predicts after alignment), ``coupling``,
    ``documents`` (the evaluation harness's metrics on fresh world documents, ``world.documents``).
    """
    key = tuple(getattr(cfg, k) for k in ("seed", "coupling", "profanity_rate", "truth_samples"))
    return json.loads(_ground_truth_json(key))


@functools.lru_cache(maxsize=8)
def _ground_truth_json(key: tuple) -> str:
    """Cached by the fields that matter (the truth takes a few seconds); a copy per caller."""
    from types import SimpleNamespace

    return json.dumps(_compute(SimpleNamespace(**dict(zip(("seed", "coupling", "profanity_rate", "truth_samples"), key)))))


def _compute(cfg) -> dict:
    nat_p = nationality_p()
    eth_given = {n: {e: p / sum(v[5].values()) for e, p in v[5].items()} for n, v in NATIONALITIES.items()}
    eth: dict[str, float] = defaultdict(float)
    for n, pn in nat_p.items():
        for e, p in eth_given[n].items():
            eth[e] += pn * p
    ap = age_p()
    bands = {name: float(ap[(AGES >= lo) & (AGES <= hi)].sum()) for lo, hi, name in AGE_BANDS}
    letters = mbti_letter_p()
    classes = _class_tables(cfg.coupling)
    pos = {"all": _share(classes["all"], POSITIVE)}
    neg = {"all": _share(classes["all"], NEGATIVE)}
    for grouping in GROUPINGS:
        pos[grouping] = {g: _share(d, POSITIVE) for g, d in classes[grouping].items()}
        neg[grouping] = {g: _share(d, NEGATIVE) for g, d in classes[grouping].items()}
    return {
        "coupling": cfg.coupling,
        "attributes": {
            "gender": dict(GENDERS),
            "age": {str(int(a)): float(p) for a, p in zip(AGES, ap)},
            "age_mean": float((AGES * ap).sum()),
            "age_sd": float(np.sqrt(((AGES - (AGES * ap).sum()) ** 2 * ap).sum())),
            "age_band": bands,
            "nationality": nat_p,
            "ethnicity": dict(sorted(eth.items(), key=lambda kv: -kv[1])),
            "ethnicity_given_nationality": eth_given,
            "mbti": mbti_p(),
            "mbti_letters": letters,
        },
        "sentiment_class": classes,
        "positive_share": pos,
        "negative_share": neg,
        "profane_share": float(sum(classes["all"][c] * profane_p(i, cfg.profanity_rate) for i, c in enumerate(CLASSES))),
        "sampled": _sampled(cfg),
        "documents": document_stats(cfg),
    }
