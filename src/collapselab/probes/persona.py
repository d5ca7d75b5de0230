"""Experiment 1 (sec. 3.1, 4.1): customer personas with a review of the paper's product.

One persona per generation (never many in one context), except under
``prompt_format=verbalized``, which asks for k at once with their probabilities (Zhang et al.
2025; ``probes.verbalized``: k slots per answer, failures counted). Plain format continues
``PERSONA_PROMPT``; chat format sends ``PERSONA_INSTRUCTION`` through the tokenizer's chat
template (footnote 3). Attributes come from ``world.persona.parse_persona``; generations that
do not parse are counted (``persona/n_unparsed``, ``persona/parse_rate``), never dropped
silently. Review sentences are embedded and clustered (optimal k, Figure 9); for the tiny
world the attribute distributions are compared to the ground truth (total variation), and
``persona/attribute_entropy_mean`` to its value on the world's own personas.

Intervals: every value the paper table shows has one. Set-level statistics (distinct counts,
MBTI coverage, attribute entropy, review k) resample generations by index
(``metrics.index_bootstrap_ci``). A resample repeats generations, so it holds fewer distinct
values than the sample: the raw bootstrap of a count or an entropy sits below the point
estimate (biased low). The percentiles are re-centred on the point estimate, and every
checkpoint is bootstrapped the same way, so the report compares like with like.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from collapselab.metrics import register, register_companion
from collapselab.probes import figures
from collapselab.probes.base import ProbeContext, ProbeResult, add_ci, add_index_ci, register_probe
from collapselab.probes.semantic import TSNE_ITERS

register(
    "persona/first_name_distinct_share",
    higher_is_better=True,
    probe="persona",
    description="distinct first names / parsed personas (1: every persona named differently); robust to parse rate",
    more_diverse=True,
    derived="persona/n_first_names / parsed personas (persona_probe)",
)
register_companion("persona/n_unparsed", probe="persona", of="persona/parse_rate", higher_is_better=False,
                   description="generations that do not parse as a persona (counted, never dropped)",
                   derived="generations - parsed (persona_probe)")

TRUTH_ATTRIBUTES = ("nationality", "ethnicity", "mbti", "gender", "age")
for _attr in TRUTH_ATTRIBUTES:
    register_companion(f"persona/{_attr}_tv_truth", probe="persona", higher_is_better=False,
                       description=f"total variation distance between the model's and the world's {_attr} "
                                   "distribution (0-1; tiny world only)",
                       derived="total_variation of attribute_distribution vs the world's truth (truth_distances)")


def parse_all(ctx: ProbeContext, samples: list) -> list[dict | None]:
    from collapselab.world.persona import parse_persona

    out = []
    for s in samples:
        p = parse_persona(s.text)
        if p is None and ctx.prompt_format == "plain":  # the header may hold the start of the persona
            p = parse_persona(s.prompt + s.text)
        out.append(p)
    return out


def truth_distances(ctx: ProbeContext, parsed: list[dict | None]) -> dict[str, float]:
    """``persona/<attr>_tv_truth``: TV distance between the model's and the world's attribute distribution."""
    try:
        from collapselab.world import ground_truth
    except ImportError:
        return {}
    from collapselab.metrics import attribute_distribution, total_variation

    if not ctx.tiny_world:
        return {}
    try:
        truth = _world_truth(ctx.cfg)
    except Exception:  # noqa: BLE001 - a world without ground truth (real models) simply has no such keys
        return {}
    truth = truth.get("attributes", truth) if isinstance(truth, dict) else {}
    out = {}
    if not any(p is not None for p in parsed):
        return out
    for key in TRUTH_ATTRIBUTES:
        t = truth.get(key)
        if not isinstance(t, dict) or not t:
            continue
        model = attribute_distribution(parsed, key)
        if model:
            norm = _casefold_keys
            out[f"persona/{key}_tv_truth"] = float(total_variation(norm(model), norm(t)))
    return out


TRUTH_DRAWS = 20  # subsamples of the world's personas averaged for attribute_entropy_mean_truth
register_companion("persona/attribute_entropy_mean_truth", probe="persona", of="persona/attribute_entropy_mean",
                   description="persona/attribute_entropy_mean of the world's own personas at the checkpoint's "
                               "number of parsed personas (tiny world only)",
                   derived="mean attribute_entropy_rows over subsamples of the world's personas (entropy_truth)")


def entropy_truth(ctx: ProbeContext, n: int) -> dict[str, float]:
    """``persona/attribute_entropy_mean_truth``: the metric's expected value on ``n`` of the world's own personas.

    The metric depends on n (its normalisers and the plug-in entropy's low bias both do), so the
    truth is taken at the checkpoint's own number of parsed personas: the mean over
    ``TRUTH_DRAWS`` subsamples of n of the world's persona records. Tiny world only.
    """
    if not ctx.tiny_world or n < 1:
        return {}
    from collapselab.metrics import attribute_entropy_rows

    try:
        codes = _world_codes(int(ctx.cfg.world.seed), int(ctx.cfg.world.n_personas))
    except Exception:  # noqa: BLE001 - a world that cannot be drawn here simply has no truth value
        return {}
    n_rec = len(codes["mbti"])
    rng = np.random.default_rng(ctx.cfg.seed)
    # without replacement while the world has enough records (the usual case: 6000 vs 100)
    idx = np.stack([rng.choice(n_rec, size=n, replace=n > n_rec) for _ in range(TRUTH_DRAWS)])
    return {"persona/attribute_entropy_mean_truth": float(np.mean(attribute_entropy_rows(codes, idx)))}


@functools.lru_cache(maxsize=4)
def _world_codes(seed: int, n_personas: int) -> dict[str, np.ndarray]:
    """Category codes of the world's persona records. ``world.build.generate`` draws every
    persona's attributes first, in one ``draw_attributes(n_personas, rng(seed))`` call, so this
    recreates them exactly (about half a second for 6000) without loading the dataset or
    writing the reviews, which the metric does not use."""
    from collapselab.metrics import attribute_codes
    from collapselab.world.population import draw_attributes

    return attribute_codes(draw_attributes(n_personas, np.random.default_rng(seed)))


def review_k_ci(m: dict[str, float], per_review: list[list[str]], emb: np.ndarray, cfg: Any) -> None:
    """95% interval of ``persona/review_kmeans_k``: resample reviews (the generations; a review's
    sentences travel together), re-run the silhouette choice of k on their sentences.
    ``cfg.n_boot_slow`` resamples (default 20), each one ``best_kmeans`` call (~0.25 s for ~350
    sentences on one core). Re-centred like the counts, rounded outward to whole k; clipped to [1, k_max] (1: fewer distinct sentences
    than k_min)."""
    from collapselab.metrics import best_kmeans, index_bootstrap_ci

    if len(per_review) < 2:
        return
    bounds = np.cumsum([0] + [len(s) for s in per_review])
    c = cfg.persona

    def k_of(idx: np.ndarray) -> float:
        rows = np.concatenate([np.arange(bounds[i], bounds[i + 1]) for i in idx])
        return float(best_kmeans(emb[rows], k_min=c.k_min, k_max=c.k_max, seed=cfg.seed)[0])

    lo, hi = index_bootstrap_ci(len(per_review), k_of, cfg.n_boot_slow, cfg.seed, bounds=(1.0, float(c.k_max)),
                                grid=1.0)
    m["persona/review_kmeans_k_ci_lo"], m["persona/review_kmeans_k_ci_hi"] = lo, hi


def distinct_share_ci(m: dict[str, float], per_review: list[list[str]], cfg: Any) -> None:
    """95% interval of ``persona/review_distinct_sentence_share``: resample reviews (a review's sentences
    travel together), re-centred like the counts (a resample repeats whole reviews, which lowers the
    share), clipped to [0, 1]. Fewer than two reviews: no interval."""
    from collapselab.metrics.persona import distinct_share_of, sentence_codes

    codes = sentence_codes(per_review)
    add_index_ci(m, "persona/review_distinct_sentence_share", len(codes), lambda idx: distinct_share_of(codes, idx),
                 cfg, cfg.n_boot, bounds=(0.0, 1.0))


def _world_truth(cfg) -> dict:
    """The world's ``truth.json`` when its artifacts exist (written by ``world.build_world`` from
    ``ground_truth``), else ``ground_truth`` computed here (seconds: it samples the world)."""
    import json

    from collapselab.world import ground_truth
    from collapselab.world.build import world_dir

    path = world_dir(cfg.world, cfg.artifacts_dir) / "truth.json"
    if path.is_file():
        return json.loads(path.read_text(encoding="utf-8"))
    return ground_truth(cfg.world)


def _casefold_keys(d: dict) -> dict:
    out: dict[Any, float] = {}
    for k, v in d.items():
        kk = " ".join(str(k).split()).casefold()  # ages are int in the model, str in truth.json
        out[kk] = out.get(kk, 0.0) + float(v)
    return out


@register_probe("persona", headline="persona/first_name_distinct_share")
def persona_probe(ctx: ProbeContext) -> ProbeResult:
    from collapselab.metrics import (
        attribute_entropy_mean, best_kmeans, embed_texts, persona_set_intervals, persona_stats,
        review_distinct_sentence_share, review_sentences, tsne_2d, vader_compound, wilson_ci,
    )

    samples = ctx.samples("persona")
    verbalized = ctx.prompt_format == "verbalized"  # k personas per call (probes/verbalized.py)
    if verbalized:
        from collapselab.probes.verbalized import verbalized_personas

        parsed, vs_metrics, rows = verbalized_personas(ctx, samples)
    else:
        parsed = parse_all(ctx, samples)
        rows = [{"probe": "persona", "i": i, "prompt": s.prompt, "text": s.text, "parsed": p}
                for i, (s, p) in enumerate(zip(samples, parsed, strict=True))]
    ok = [p for p in parsed if p is not None]
    m = dict(persona_stats(parsed, len(parsed)))
    m["persona/n_unparsed"] = float(len(parsed) - len(ok))
    if parsed:
        m["persona/parse_rate_ci_lo"], m["persona/parse_rate_ci_hi"] = wilson_ci(len(ok), len(parsed))
        m["persona/attribute_entropy_mean"] = attribute_entropy_mean(parsed)
        m.update(persona_set_intervals(parsed, ctx.cfg.n_boot, ctx.cfg.seed))
    if ok:
        m["persona/first_name_distinct_share"] = m["persona/n_first_names"] / len(ok)
    genders = [" ".join(str(p["gender"]).split()).casefold() for p in ok if p.get("gender") is not None]
    genders = [g for g in genders if g]
    if genders:  # a share: Wilson, like the parse rate (the same "female" test as persona_stats)
        m["persona/female_share_ci_lo"], m["persona/female_share_ci_hi"] = wilson_ci(
            sum(g == "female" for g in genders), len(genders))
    reviews = [p.get("review") or "" for p in ok]
    nonempty = [r for r in reviews if r.strip()]
    sent = np.asarray(vader_compound(nonempty), dtype=float) if nonempty else np.array([])
    add_ci(m, "persona/sentiment_mean", sent, ctx.cfg)
    # percentile bootstrap of an extreme: a resample's minimum is never below the sample's, so
    # the interval starts at the observed minimum; it still says how stable that minimum is
    add_ci(m, "persona/sentiment_min", sent, ctx.cfg, stat=np.min)
    add_ci(m, "persona/review_chars_mean", [len(r) for r in reviews], ctx.cfg)
    ages = [p["age"] for p in ok if isinstance(p.get("age"), int) and not isinstance(p.get("age"), bool)]
    if len(ages) >= 2:
        add_ci(m, "persona/age_sd", ages, ctx.cfg, stat=np.std)
    m.update(truth_distances(ctx, parsed))
    m.update(entropy_truth(ctx, len(ok)))
    figs: dict[str, Any] = {}
    per_review = [review_sentences([r]) for r in nonempty]
    sentences = [s for ss in per_review for s in ss]
    if sentences:
        m["persona/review_distinct_sentence_share"] = review_distinct_sentence_share(per_review)
        distinct_share_ci(m, per_review, ctx.cfg)
    if len(sentences) >= 3 and ctx.cfg.persona.review_clusters:
        emb = np.asarray(embed_texts(sentences), dtype=float)
        c = ctx.cfg.persona
        k, labels, _ = best_kmeans(emb, k_min=c.k_min, k_max=c.k_max, seed=ctx.cfg.seed)
        m["persona/review_kmeans_k"] = float(k)
        review_k_ci(m, per_review, emb, ctx.cfg)
        if ctx.cfg.tsne:
            xy = tsne_2d(emb, perplexity=c.tsne_perplexity, seed=ctx.cfg.seed, max_iter=TSNE_ITERS)
            figs["persona/review_tsne"] = figures.scatter_clusters(
                xy, labels, None, f"{ctx.ckpt.name}: review sentences, k={k}", ctx.figure_path("persona_review_tsne")
            )
    if ok:
        figs["persona/attributes"] = figures.persona_panels(ok, sent, ctx.ckpt.name, ctx.figure_path("persona_attributes"))
    if verbalized:  # attribute lines only: the review metrics are undefined, not zero
        from collapselab.probes.verbalized import mark_review_metrics_unavailable

        m.update(vs_metrics)
        mark_review_metrics_unavailable(m, ctx.memo)
    return ProbeResult(m, rows, figs, data={"sentiment": sent.tolist()})
