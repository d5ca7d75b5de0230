"""A printable summary of a built world: counts, attribute coverage, sentiment, the coupling table."""

from __future__ import annotations

import numpy as np

from collapselab.world.truth import NEGATIVE, POSITIVE, group_of


def summarize(dd, truth: dict) -> dict:
    """Flat ``{"world/...": number}`` figures of the ``DatasetDict`` ``dd`` plus the coupling table
    (``"coupling_table"``: per grouping and group, n, observed and true positive share, mean VADER)."""
    docs = dd["documents"]
    kinds = np.array(docs["kind"])
    per = docs.select(np.flatnonzero(kinds == "persona").tolist()).to_list()
    s = np.array([r["sentiment"] for r in per])
    ages = np.array([r["age"] for r in per])
    cls = np.array([r["sentiment_class"] for r in per])
    out: dict = {
        "world/n_documents": len(docs), "world/n_instructions": len(dd["instructions"]),
        **{f"world/n_{k}": int((kinds == k).sum()) for k in ("persona", "bio", "steve")},
        "world/n_first_names": len({r["first_name"] for r in per}), "world/n_last_names": len({r["last_name"] for r in per}),
        "world/n_nationalities": len({r["nationality"] for r in per}), "world/n_ethnicities": len({r["ethnicity"] for r in per}),
        "world/n_mbti": len({r["mbti"] for r in per}), "world/age_min": int(ages.min()), "world/age_max": int(ages.max()),
        "world/age_sd": float(ages.std()), "world/female_share": float(np.mean([r["gender"] == "female" for r in per])),
        "world/sentiment_min": float(s.min()), "world/sentiment_max": float(s.max()), "world/sentiment_mean": float(s.mean()),
        "world/vader_negative_share": float((s <= -0.05).mean()),
        "world/negative_class_share": float(np.isin(cls, NEGATIVE).mean()),
        "world/negative_class_share_true": truth["negative_share"]["all"],
        "world/positive_class_share": float(np.isin(cls, POSITIVE).mean()),
        "world/positive_class_share_true": truth["positive_share"]["all"],
        "world/profane_share": float(np.mean([_profane(r["review"]) for r in per])),
        "world/review_chars_mean": float(np.mean([len(r["review"]) for r in per])),
        "world/review_chars_max": int(max(len(r["review"]) for r in per)),
    }
    table = {}
    for grouping in ("E/I", "T/F", "age_band"):
        groups = np.array([group_of(r, grouping) for r in per])
        table[grouping] = {
            g: {"n": int((groups == g).sum()), "positive_share": float(np.isin(cls[groups == g], POSITIVE).mean()),
                "positive_share_true": truth["positive_share"][grouping][g], "vader_mean": float(s[groups == g].mean())}
            for g in sorted(set(groups))
        }
    out["coupling_table"] = table
    for beta, groupings in truth["sampled"]["kl_optimum"].items():  # what full alignment at beta would do
        out[f"world/kl_optimum_E_share/beta_{beta}"] = groupings["E/I"].get("E", 0.0)
        out[f"world/kl_optimum_60plus_share/beta_{beta}"] = groupings["age_band"].get("60+", 0.0)
    # the harness's own metrics on fresh world documents (world.documents; the report's world column)
    out.update({f"world/documents/{k}": v for k, v in truth.get("documents", {}).items()})
    out["world/E_share"] = truth["attributes"]["mbti_letters"]["E"]
    out["world/60plus_share"] = truth["attributes"]["age_band"]["60+"]
    return out


def _profane(text: str) -> bool:
    from collapselab.world.text import profanity_count

    return profanity_count(text) > 0


def format_summary(summary: dict, coupling: float, seconds: float | None = None) -> str:
    """Human-readable lines for ``make_world``."""
    f = summary
    lines = [
        f"world: {f['world/n_documents']} documents ({f['world/n_persona']} personas, {f['world/n_bio']} bios, "
        f"{f['world/n_steve']} steve), {f['world/n_instructions']} instructions" + (f", built in {seconds:.1f} s" if seconds else ""),
        f"coverage: {f['world/n_first_names']} first names, {f['world/n_last_names']} last names, {f['world/n_nationalities']} "
        f"nationalities, {f['world/n_ethnicities']} ethnicities, {f['world/n_mbti']}/16 MBTI, ages {f['world/age_min']}-"
        f"{f['world/age_max']} (sd {f['world/age_sd']:.1f}), female {f['world/female_share']:.2f}",
        f"sentiment (VADER): {f['world/sentiment_min']:+.3f} .. {f['world/sentiment_max']:+.3f}, mean {f['world/sentiment_mean']:+.3f}; "
        f"negative share {f['world/vader_negative_share']:.3f} (VADER <= -0.05), negative classes {f['world/negative_class_share']:.3f} "
        f"(true {f['world/negative_class_share_true']:.3f}); profane {f['world/profane_share']:.3f}; review chars mean "
        f"{f['world/review_chars_mean']:.0f}, max {f['world/review_chars_max']}",
        f"coupling table (coupling={coupling}): group n  positive-share (true)  mean VADER",
    ]
    for grouping, groups in f["coupling_table"].items():
        for g, row in groups.items():
            lines.append(f"  {grouping:<9s} {g:<6s} {row['n']:>5d}  {row['positive_share']:.3f} ({row['positive_share_true']:.3f})  "
                         f"{row['vader_mean']:+.3f}")
    d = {k.removeprefix("world/documents/"): v for k, v in f.items() if k.startswith("world/documents/")}
    if d:
        lines.append(
            f"{d['n']:.0f} fresh documents of each kind, scored as the probes score models (the report's world column): "
            f"{16 * d['persona/mbti_coverage']:.0f}/16 MBTI, {d['persona/n_nationalities']:.0f} nationalities, age sd "
            f"{d['persona/age_sd']:.1f}, female {d['persona/female_share']:.3f}, review chars {d['persona/review_chars_mean']:.0f}, "
            f"lowest sentiment {d['persona/sentiment_min']:+.3f}; bios TF-IDF {d['semantic/tfidf_cos_mean']:.3f}; "
            f"stories TF-IDF {d['steve/tfidf_cos_mean']:.3f}, distinct-2 {d['steve/distinct_2']:.3f}, "
            f"{d['steve/words_mean']:.1f} words")
    betas = sorted(float(k.rsplit("_", 1)[1]) for k in f if k.startswith("world/kl_optimum_E_share/"))
    lines.append(f"KL optimum (annotator reward, pi0(a) E[exp(R/beta)|a] / Z): extravert share {f['world/E_share']:.2f} -> "
                 + ", ".join(f"{f[f'world/kl_optimum_E_share/beta_{b}']:.2f} (beta {b})" for b in betas)
                 + f"; over-60 share {f['world/60plus_share']:.2f} -> "
                 + ", ".join(f"{f[f'world/kl_optimum_60plus_share/beta_{b}']:.2f}" for b in betas))
    return "\n".join(lines)
