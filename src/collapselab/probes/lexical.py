"""Lexical diversity over the semantic probe's "Grace Hopper was" completions (same samples,
so the lexical and semantic numbers describe one set): distinct-1/2, self-BLEU, gzip ratio.

Confidence intervals: bootstrap over texts, re-centred on the full-set value (``base.add_index_ci``);
self-BLEU's from its per-text scores (computed once; each text's references held fixed), which
costs one self-BLEU pass instead of one per resample.
"""

from __future__ import annotations

from functools import partial

from collapselab.probes.base import ProbeContext, ProbeResult, add_ci, add_index_ci, register_probe


@register_probe("lexical", headline="lexical/distinct_2")
def lexical_probe(ctx: ProbeContext) -> ProbeResult:
    from collapselab.metrics import compression_ratio, distinct_n, distinct_n_resamples, self_bleu_scores

    texts = [s.text for s in ctx.samples("bio")]
    m: dict[str, float] = {}
    for n in (1, 2):  # all resamples in one vectorised pass (same resamples as add_index_ci's loop)
        key = f"lexical/distinct_{n}"
        m[key] = float(distinct_n(texts, n))
        add_index_ci(m, key, len(texts), partial(distinct_n_resamples, texts, n), ctx.cfg, ctx.cfg.n_boot,
                     batched=True, bounds=(0.0, 1.0))  # a share of n-grams
    m["lexical/compression_ratio"] = float(compression_ratio(texts))
    add_index_ci(m, "lexical/compression_ratio", len(texts), lambda idx: compression_ratio([texts[i] for i in idx]),
                 ctx.cfg, ctx.cfg.n_boot)
    bleu = self_bleu_scores(texts, max_refs=ctx.cfg.lexical.self_bleu_max_refs, seed=ctx.cfg.seed)
    m["lexical/self_bleu"] = float(bleu.mean())
    add_ci(m, "lexical/self_bleu", bleu, ctx.cfg)
    return ProbeResult(m)
