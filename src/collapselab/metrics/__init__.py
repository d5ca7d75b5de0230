"""Pure metric functions: texts / logits / embeddings in, numbers out, registered by name.

Every metrics.json key is registered (``registry``): metrics in ``METRICS`` (registered next to
their function here, with direction, interval method and the paper's numbers), companion keys
in ``COMPANIONS``; ``resolve(key)`` answers for any key, interval bounds included.
Empty input raises ValueError with a clear message (the harness turns it into a UserError).
"""

from collapselab.metrics.attractor import cluster_radii, nearest_cluster, recovery_tokens
from collapselab.metrics.distribution import coverage, kl_divergence, normalized_entropy, total_variation
from collapselab.metrics.entropy import completion_means, full_entropy_bits, topk_entropy_bits
from collapselab.metrics.lexical import (
    compression_ratio, distinct_n, distinct_n_resamples, self_bleu, self_bleu_scores,
)
from collapselab.metrics.persona import (
    ENTROPY_ATTRIBUTES,
    MBTI_TYPES,
    attribute_codes,
    attribute_distribution,
    attribute_entropy_mean,
    attribute_entropy_rows,
    distinct_rows,
    persona_set_intervals,
    persona_stats,
    review_distinct_sentence_share,
    review_sentences,
    world_category_counts,
)
from collapselab.metrics.registry import (
    CI_METHODS,
    COMPANIONS,
    METRICS,
    MetricInfo,
    PaperValues,
    check_keys,
    higher_is_more_diverse,
    lookup,
    paper_metrics,
    register,
    register_companion,
    resolve,
)
from collapselab.metrics.semantic import (
    best_kmeans,
    embed_texts,
    mean_pairwise_cosine,
    tfidf_similarity,
    tsne_2d,
    vendi_score,
)
from collapselab.metrics.stats import bootstrap_ci, bootstrap_ci_texts, index_bootstrap_ci, wilson_ci
from collapselab.metrics.text import is_profane, profanity_rate, vader_compound
from collapselab.metrics.verbalized import stated_tv, vs_stats

__all__ = [
    "METRICS", "COMPANIONS", "CI_METHODS", "MetricInfo", "PaperValues", "register", "register_companion",
    "higher_is_more_diverse", "lookup", "resolve", "check_keys", "paper_metrics",
    "topk_entropy_bits", "full_entropy_bits", "completion_means",
    "tfidf_similarity", "embed_texts", "mean_pairwise_cosine", "best_kmeans", "vendi_score", "tsne_2d",
    "distinct_n", "distinct_n_resamples", "self_bleu", "self_bleu_scores", "compression_ratio",
    "vader_compound", "profanity_rate", "is_profane",
    "persona_stats", "attribute_distribution", "review_sentences", "review_distinct_sentence_share", "MBTI_TYPES",
    "attribute_entropy_mean", "attribute_entropy_rows", "attribute_codes", "distinct_rows",
    "world_category_counts", "ENTROPY_ATTRIBUTES", "persona_set_intervals",
    "total_variation", "kl_divergence", "coverage", "normalized_entropy",
    "bootstrap_ci", "bootstrap_ci_texts", "index_bootstrap_ci", "wilson_ci",
    "recovery_tokens", "cluster_radii", "nearest_cluster",
    "vs_stats", "stated_tv",
]
