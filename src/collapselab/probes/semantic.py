"""Experiment 2 (sec. 3.2, 4.2): semantic diversity of "Grace Hopper was" completions.

Whole generations (prompt + completion, as the paper embeds the full output) are embedded
with SBERT (all-MiniLM-L6-v2); k-means with k chosen by silhouette; t-SNE (perplexity 30)
coloured by cluster (Figure 10). TF-IDF similarity: each generation's mean cosine similarity
to all the others, then mean and sd over generations (paper: 0.16 base, 0.35 aligned).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from collapselab.metrics import register_companion
from collapselab.probes import figures
from collapselab.probes.base import ProbeContext, ProbeResult, add_ci, add_index_ci, register_probe

# t-SNE steps for the cluster figures (figures only, no metric): 250 early-exaggeration steps + 250
# more settle a few hundred points; sklearn's default 1000 doubles the cost for no visible change
TSNE_ITERS = 500


def bio_clusters(ctx: ProbeContext) -> dict[str, Any]:
    """Embeddings [N, 384], k-means labels [N], centroids [K, 384] and radii [K] of the bio set (memoised)."""
    if "bio_clusters" in ctx.memo:
        return ctx.memo["bio_clusters"]
    from collapselab.metrics import best_kmeans, cluster_radii, embed_texts

    samples = ctx.samples("bio")
    texts = [ctx.visible(s.prompt, s.text) for s in samples]
    emb = np.asarray(embed_texts(texts), dtype=float)
    c = ctx.cfg.semantic
    k, labels, sil = best_kmeans(emb, k_min=c.k_min, k_max=c.k_max, seed=ctx.cfg.seed)
    labels = np.asarray(labels, dtype=int)
    centroids = np.stack([emb[labels == j].mean(0) for j in range(int(labels.max()) + 1)])
    radii = cluster_radii(emb, labels, centroids, q=ctx.cfg.attractor.radius_quantile)
    out = {"texts": texts, "emb": emb, "k": int(k), "labels": labels, "silhouette": float(sil),
           "centroids": centroids, "radii": radii}
    ctx.memo["bio_clusters"] = out
    return out


def kmeans_k_ci(m: dict[str, float], emb: np.ndarray, cfg: Any) -> None:
    """95% interval of ``semantic/kmeans_k``: resample generations, re-run the silhouette choice.

    ``cfg.n_boot_slow`` resamples (default 20), each one ``best_kmeans`` call (~0.2-0.3 s for 100-200
    completions on one core). A resample repeats completions, which changes the silhouette landscape
    (and caps k at the distinct points); the percentiles are re-centred on the point estimate
    (``metrics.index_bootstrap_ci``), base and aligned checkpoints are bootstrapped alike, the bounds
    are rounded outward to whole k, and the interval is clipped to [1, k_max]: ``best_kmeans`` returns 1 for a set with fewer distinct points than k_min."""
    from collapselab.metrics import best_kmeans, index_bootstrap_ci

    c = cfg.semantic
    if len(emb) < 2:
        return
    lo, hi = index_bootstrap_ci(len(emb), lambda idx: best_kmeans(emb[idx], k_min=c.k_min, k_max=c.k_max,
                                                                   seed=cfg.seed)[0],
                                cfg.n_boot_slow, cfg.seed, bounds=(1.0, float(c.k_max)), grid=1.0)
    m["semantic/kmeans_k_ci_lo"], m["semantic/kmeans_k_ci_hi"] = lo, hi


@register_companion("semantic/facts_per_text", probe="semantic",
                    description="facts about Grace Hopper the world's checker finds per generation")
@register_companion("semantic/fact_accuracy", probe="semantic", higher_is_better=True,
                    description="true facts / facts stated in the generations (the world's checker)")
def fact_accuracy(texts: list[str]) -> dict[str, float]:
    """Tiny world only: ``world.bio.fact_accuracy(text) -> (n_true, n_false)`` pooled over the texts.

    ``semantic/fact_accuracy`` = true facts / facts stated; ``semantic/facts_per_text`` = facts
    stated per generation. Empty when the world has no checker or no fact was stated.
    """
    try:
        from collapselab.world.bio import fact_accuracy as check
    except ImportError:
        return {}
    counts = np.array([check(t) for t in texts], dtype=float).reshape(-1, 2)  # [N, (true, false)]
    stated = counts.sum()
    out = {"semantic/facts_per_text": float(stated / len(texts))}
    if stated > 0:
        out["semantic/fact_accuracy"] = float(counts[:, 0].sum() / stated)
    return out


register_companion("semantic/silhouette", probe="semantic", of="semantic/kmeans_k",
                   description="silhouette score of the chosen k-means clustering of the embeddings",
                   derived="third value of best_kmeans (bio_clusters)")


@register_probe("semantic", headline="semantic/tfidf_cos_mean")
def semantic_probe(ctx: ProbeContext) -> ProbeResult:
    from collapselab.metrics import mean_pairwise_cosine, tfidf_similarity, tsne_2d, vendi_score

    cl = bio_clusters(ctx)
    texts, emb = cl["texts"], cl["emb"]
    sims = np.asarray(tfidf_similarity(texts), dtype=float)  # [N]
    m = {
        "semantic/tfidf_cos_mean": float(sims.mean()),
        "semantic/tfidf_cos_sd": float(sims.std()),
        "semantic/embed_cos_mean": float(mean_pairwise_cosine(emb)),
        "semantic/kmeans_k": float(cl["k"]),
        "semantic/silhouette": cl["silhouette"],
        "semantic/vendi": float(vendi_score(emb)),
    }
    add_ci(m, "semantic/tfidf_cos_mean", sims, ctx.cfg)
    n = len(texts)
    add_index_ci(m, "semantic/embed_cos_mean", n, lambda idx: mean_pairwise_cosine(emb[idx]), ctx.cfg,
                 ctx.cfg.n_boot_slow)
    add_index_ci(m, "semantic/vendi", n, lambda idx: vendi_score(emb[idx]), ctx.cfg, ctx.cfg.n_boot_slow)
    kmeans_k_ci(m, emb, ctx.cfg)
    m.update(fact_accuracy(texts))
    figs = {}
    if ctx.cfg.tsne:
        xy = tsne_2d(emb, perplexity=ctx.cfg.semantic.tsne_perplexity, seed=ctx.cfg.seed, max_iter=TSNE_ITERS)
        title = f"{ctx.ckpt.name}: k={cl['k']}, TF-IDF cos {m['semantic/tfidf_cos_mean']:.2f}"
        figs["semantic/tsne"] = figures.scatter_clusters(xy, cl["labels"], sims, title, ctx.figure_path("semantic_tsne"))
    rows = [
        {"probe": "semantic", "i": i, "prompt": ctx.samples("bio")[i].prompt, "text": ctx.samples("bio")[i].text,
         "cluster": int(cl["labels"][i]), "tfidf_cos": float(sims[i])}
        for i in range(n)
    ]
    return ProbeResult(m, rows, figs)
