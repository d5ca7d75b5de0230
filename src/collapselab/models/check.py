"""Does a pretrained base keep the world's variety? Sample it at temperature 1.0 and compare.

``check_base`` samples personas (plain ``PERSONA_PROMPT``), "Grace Hopper was" biographies
and "Steve is the CEO of a startup company" stories, and measures what Experiment 1 and 2
of the paper measure (parse rate, MBTI coverage, nationalities, ages, review sentiment and
its coupling with attributes, biography fact accuracy) beside the world's ground truth.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np

# Acceptance targets for the default tiny base (from the models issue).
TARGETS = {"parse_rate": 0.90, "mbti_types": 14, "nationalities": 15, "age_min_below": 20, "age_max_above": 65,
           "negative_share": 0.10}
COUPLING_GROUPS = ("E/I", "T/F", "age_band")


def sample(model: Any, tok: Any, prompt: str, n: int, max_new_tokens: int, batch_size: int = 100,
           seed: int = 0) -> list[str]:
    """``n`` continuations of ``prompt`` (prompt excluded) sampled at temperature 1.0, no top-k/top-p,
    by the probes' sampler (``probes.generation``)."""
    from collapselab.probes.generation import HFLanguageModel, sample_batched

    out = sample_batched(HFLanguageModel(model, tok), [prompt] * n, max_new_tokens=max_new_tokens,
                         temperature=1.0, seed=seed, batch_size=batch_size)
    return [s.text for s in out]


def persona_report(prompt: str, texts: list[str], truth: dict) -> dict:
    """Parse rate, coverage, ages, sentiment and sentiment by attribute (model vs truth)."""
    from collapselab.world.persona import parse_persona
    from collapselab.world.text import vader
    from collapselab.world.truth import group_of

    parsed = [p for p in (parse_persona(prompt + t) for t in texts) if p is not None]
    ages = np.array([p["age"] for p in parsed if p.get("age") is not None], dtype=float)
    sent = [vader(p["review"]) for p in parsed]
    by: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for p, s in zip(parsed, sent):
        for g in COUPLING_GROUPS:
            try:
                by[g][group_of(p, g)].append(s)
            except (KeyError, TypeError, ValueError, IndexError):
                continue  # a missing or malformed attribute: not counted in that grouping
    truth_mean = truth.get("sampled", {}).get("vader_mean", {})
    coupling = {g: {k: {"model": float(np.mean(v)), "n": len(v), "truth": truth_mean.get(g, {}).get(k)}
                    for k, v in sorted(groups.items())} for g, groups in by.items()}
    return {
        "n": len(texts), "parse_rate": len(parsed) / max(1, len(texts)),
        "mbti_types": len({p["mbti"] for p in parsed if p.get("mbti")}),
        "nationalities": len({p["nationality"] for p in parsed if p.get("nationality")}),
        "first_names": len({p["first_name"] for p in parsed if p.get("first_name")}),
        "age_min": float(ages.min()) if len(ages) else None, "age_max": float(ages.max()) if len(ages) else None,
        "age_sd": float(ages.std()) if len(ages) else None,
        "negative_share": float(np.mean([s < -0.05 for s in sent])) if sent else 0.0,
        "sentiment_mean": float(np.mean(sent)) if sent else None, "coupling": coupling,
    }


def bio_report(texts: list[str]) -> dict:
    from collapselab.world import fact_accuracy

    n_true = n_false = 0
    for t in texts:
        a, b = fact_accuracy("Grace Hopper was" + t)
        n_true, n_false = n_true + a, n_false + b
    return {"n": len(texts), "facts_true": n_true, "facts_false": n_false,
            "fact_accuracy": n_true / max(1, n_true + n_false), "distinct": len(set(texts)) / max(1, len(texts))}


def check_base(model: Any, tok: Any, truth: dict, n_personas: int = 100, n_bios: int = 200, n_steve: int = 100,
               seed: int = 0) -> dict:
    """Sample the three probes and return the report (see module docstring)."""
    from collapselab.world.prompts import BIO_PROMPT, PERSONA_PROMPT, STEVE_PROMPT

    personas = sample(model, tok, PERSONA_PROMPT, n_personas, 200, seed=seed)
    bios = sample(model, tok, BIO_PROMPT, n_bios, 128, seed=seed + 1)
    steve = sample(model, tok, STEVE_PROMPT, n_steve, 128, seed=seed + 2)
    return {"persona": persona_report(PERSONA_PROMPT, personas, truth), "bio": bio_report(bios),
            "steve": {"n": len(steve), "distinct": len(set(steve)) / max(1, len(steve))},
            "examples": {"persona": personas[:2], "bio": bios[:2], "steve": steve[:2]}}


def verdicts(report: dict) -> dict[str, bool]:
    """Each acceptance target, met or not."""
    p = report["persona"]
    return {
        f"parse rate >= {TARGETS['parse_rate']:.0%}": p["parse_rate"] >= TARGETS["parse_rate"],
        f"MBTI types >= {TARGETS['mbti_types']}": p["mbti_types"] >= TARGETS["mbti_types"],
        f"nationalities >= {TARGETS['nationalities']}": p["nationalities"] >= TARGETS["nationalities"],
        f"ages from < {TARGETS['age_min_below']} to > {TARGETS['age_max_above']}": (
            p["age_min"] is not None and p["age_min"] < TARGETS["age_min_below"]
            and p["age_max"] > TARGETS["age_max_above"]),
        f"negative reviews >= {TARGETS['negative_share']:.0%}": p["negative_share"] >= TARGETS["negative_share"],
    }


def format_report(report: dict) -> str:
    p, b = report["persona"], report["bio"]
    lines = [
        f"personas ({p['n']}): parse rate {p['parse_rate']:.0%}, MBTI types {p['mbti_types']}/16, "
        f"nationalities {p['nationalities']}, first names {p['first_names']}",
        f"  ages {p['age_min']:.0f}-{p['age_max']:.0f} (sd {p['age_sd']:.1f}), negative reviews (VADER < -0.05) "
        f"{p['negative_share']:.0%}, mean sentiment {p['sentiment_mean']:+.2f}" if p["age_min"] is not None else
        "  no ages parsed",
        "  mean review sentiment by attribute (model vs world truth):",
    ]
    for g, groups in p["coupling"].items():
        cells = ", ".join(f"{k}: {v['model']:+.2f} vs {v['truth']:+.2f} (n={v['n']})" if v["truth"] is not None
                          else f"{k}: {v['model']:+.2f} (n={v['n']})" for k, v in groups.items())
        lines.append(f"    {g}: {cells}")
    lines.append(f"biographies ({b['n']}): {b['facts_true']} true / {b['facts_false']} false facts "
                 f"-> {b['fact_accuracy']:.0%} true; distinct {b['distinct']:.0%}")
    lines.append(f"founder stories ({report['steve']['n']}): distinct {report['steve']['distinct']:.0%}")
    for name, ok in verdicts(report).items():
        lines.append(f"[{'PASS' if ok else 'FAIL'}] {name}")
    return "\n".join(lines)
