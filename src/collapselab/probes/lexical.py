"""Lexical diversity over the semantic probe's "Grace Hopper was" completions (same samples,
so the lexical and semantic numbers describe one set): distinct-1/2, self-BLEU, gzip ratio.

Confidence intervals: bootstrap over texts, re-centred on the full-set value (``base.add_index_ci``).
"""

from __future__ import annotations

from functools import partial

from collapselab.probes.base import ProbeContext, ProbeResult, add_index_ci, register_probe


@register_probe("lexical", headline="lexical/distinct_2")
def lexical_probe(ctx: ProbeContext) -> ProbeResult:
    from collapselab.metrics import compression_ratio, distinct_n, self_bleu

    texts = [s.text for s in ctx.samples("bio")]
    fns = {
        "lexical/distinct_1": (partial(distinct_n, n=1), ctx.cfg.n_boot),
        "lexical/distinct_2": (partial(distinct_n, n=2), ctx.cfg.n_boot),
        "lexical/self_bleu": (partial(self_bleu, max_refs=ctx.cfg.lexical.self_bleu_max_refs, seed=ctx.cfg.seed),
                              ctx.cfg.n_boot_slow),
        "lexical/compression_ratio": (compression_ratio, ctx.cfg.n_boot),
    }
    m: dict[str, float] = {}
    for key, (fn, n_boot) in fns.items():
        m[key] = float(fn(texts))
        add_index_ci(m, key, len(texts), lambda idx, fn=fn: fn([texts[i] for i in idx]), ctx.cfg, n_boot)
    return ProbeResult(m)
