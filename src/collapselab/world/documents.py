"""The evaluation harness's own metrics on fresh world documents: the world column of world -> base -> aligned.

A model trained on the world can be no more varied than the world, so the report sets each paper-table
measure of the base and the aligned models beside the same measure on documents the generators write
themselves (``truth.json`` key ``documents``). The documents come from their own random stream (never the
stored corpus), ``n`` of each kind, scored by the functions the probes use:

- personas: ``metrics.persona.persona_stats`` on ``parse_persona`` of each document (``persona/*`` keys:
  MBTI coverage, nationalities, age sd, female share, lowest and mean review sentiment, review length);
- "Grace Hopper was" biographies: ``metrics.semantic.tfidf_similarity``, mean and sd over documents (the
  semantic probe's ``semantic/tfidf_cos_mean`` / ``_sd``; the probe scores prompt + completion, as here);
- founder stories: TF-IDF similarity, distinct-2 and words per story (``steve/*``), descriptive only: the
  paper's Experiment 3 measure, top-5 token entropy, needs a model's next-token distribution.

Measures that need embeddings (cluster k) or a model are not computed.
"""

from __future__ import annotations

import numpy as np

# the documents' random stream: [world seed, DOCUMENT_STREAM] (the corpus uses the seed, the truth [seed, 7919])
DOCUMENT_STREAM = 4177
N_DOCUMENTS = 200  # per kind: the persona probe's sample count in the default lab


def document_stats(cfg, n: int = N_DOCUMENTS) -> dict:
    """The harness's metrics on ``n`` fresh world documents of each kind (``cfg``: the world config).

    Returns ``{"n": n, "persona/...": ..., "semantic/tfidf_cos_mean": ..., "semantic/tfidf_cos_sd": ...,
    "steve/tfidf_cos_mean": ..., "steve/distinct_2": ..., "steve/words_mean": ...}`` (floats, JSON-able).
    """
    from collapselab.metrics.lexical import distinct_n
    from collapselab.metrics.persona import persona_stats
    from collapselab.metrics.semantic import tfidf_similarity
    from collapselab.world.bio import write_bio
    from collapselab.world.persona import format_persona, generate_personas, parse_persona
    from collapselab.world.steve import write_steve

    if not isinstance(n, int) or n < 2:
        raise ValueError(f"document_stats: n={n!r} must be a whole number >= 2")
    rng = np.random.default_rng([cfg.seed, DOCUMENT_STREAM])
    personas = [format_persona(r) for r in generate_personas(n, cfg.coupling, cfg.profanity_rate, rng, sentiment=False)]
    bios = [write_bio(rng) for _ in range(n)]
    stories = [write_steve(rng) for _ in range(n)]
    out: dict = {"n": n}
    out.update({k: float(v) for k, v in persona_stats([parse_persona(t) for t in personas]).items()})
    sim = tfidf_similarity(bios)
    out["semantic/tfidf_cos_mean"], out["semantic/tfidf_cos_sd"] = float(sim.mean()), float(sim.std())
    out["steve/tfidf_cos_mean"] = float(tfidf_similarity(stories).mean())
    out["steve/distinct_2"] = float(distinct_n(stories, 2))
    out["steve/words_mean"] = float(np.mean([len(s.split()) for s in stories]))
    return out
