"""Metric registry: every metric key the harness reports, with its direction and meaning.

Keys follow DESIGN.md ("Contracts"), ``<probe>/<name>``. Registering a name twice is an error
(lm-evaluation-harness style), so two modules cannot silently disagree about a metric.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, TypeVar

F = TypeVar("F")


@dataclass(frozen=True)
class MetricInfo:
    """Metadata of one reported metric.

    ``higher_is_better`` is the quality direction used for ranking checkpoints;
    ``more_diverse`` is the diversity direction (True: a higher value means more diverse,
    False: lower means more diverse, None: not a diversity measure, e.g. reward or parse rate).
    """

    name: str
    higher_is_better: bool
    probe: str
    description: str
    more_diverse: bool | None = None


METRICS: dict[str, MetricInfo] = {}


def register(
    name: str,
    *,
    higher_is_better: bool,
    probe: str,
    description: str,
    more_diverse: bool | None = None,
) -> Callable[[F], F]:
    """Record metric metadata under ``name``; usable as a decorator or called for its side effect.

    ``more_diverse`` defaults to None (not a diversity metric). Raises ValueError on a duplicate
    name or when ``name`` does not start with ``probe + "/"``.
    """
    if name in METRICS:
        raise ValueError(f"metric {name!r} is already registered")
    if not name.startswith(probe + "/"):
        raise ValueError(f"metric {name!r} must start with its probe prefix {probe + '/'!r}")
    METRICS[name] = MetricInfo(name, higher_is_better, probe, description, more_diverse)

    def decorator(fn: F) -> F:
        return fn

    return decorator


def higher_is_more_diverse(name: str) -> bool | None:
    """Diversity direction of a registered metric: True / False, or None if it is not a
    diversity measure. Accepts the ``eval/`` W&B prefix. Unknown names raise KeyError."""
    key = name[len("eval/"):] if name.startswith("eval/") else name
    if key not in METRICS:
        raise KeyError(f"unknown metric {name!r}; known: {', '.join(sorted(METRICS))}")
    return METRICS[key].more_diverse


# --- every DESIGN.md metric key -------------------------------------------------------------
# (name, more_diverse, higher_is_better, description); the probe is the name's prefix
_KEYS: list[tuple[str, bool | None, bool, str]] = [
    # Experiment 3 (sec. 3.3, eq. 3.2)
    ("entropy/top5_bits_mean", True, True,
     "mean over completions of each completion's average renormalised top-5 entropy (bits, eq. 3.2)"),
    ("entropy/top5_bits_sd", None, False,
     "sd over completions of the per-completion average top-5 entropy (bits)"),
    ("entropy/full_bits_mean", True, True,
     "mean over completions of the average full-vocabulary next-token entropy (bits)"),
    # Experiment 2 (sec. 3.2, 4.2)
    ("semantic/tfidf_cos_mean", False, False,
     "mean TF-IDF cosine similarity of a completion to the others (paper: 0.16 base, 0.35 aligned)"),
    ("semantic/tfidf_cos_sd", None, False,
     "sd over completions of their mean TF-IDF cosine similarity to the others"),
    ("semantic/embed_cos_mean", False, False,
     "mean pairwise cosine similarity of all-MiniLM-L6-v2 embeddings"),
    ("semantic/kmeans_k", True, True,
     "number of k-means clusters of the embeddings chosen by silhouette"),
    ("semantic/vendi", True, True,
     "Vendi score of the embeddings (effective number of distinct items, cosine kernel)"),
    # Experiment 1 (sec. 3.1, 4.1)
    ("persona/parse_rate", None, True, "share of generations that parse as a persona"),
    ("persona/n_first_names", True, True, "distinct first names among parsed personas"),
    ("persona/n_last_names", True, True, "distinct last names among parsed personas"),
    ("persona/n_nationalities", True, True, "distinct nationalities among parsed personas"),
    ("persona/n_ethnicities", True, True, "distinct ethnicities among parsed personas"),
    ("persona/mbti_coverage", True, True, "distinct valid MBTI types / 16"),
    ("persona/age_min", None, False, "youngest parsed age (years)"),
    ("persona/age_max", None, True, "oldest parsed age (years)"),
    ("persona/age_sd", True, True, "standard deviation of parsed ages (years)"),
    ("persona/female_share", None, True, "share of parsed personas whose gender is female"),
    ("persona/sentiment_min", None, False, "lowest VADER compound score of the reviews"),
    ("persona/sentiment_max", None, True, "highest VADER compound score of the reviews"),
    ("persona/sentiment_mean", None, True, "mean VADER compound score of the reviews"),
    ("persona/review_chars_mean", None, True, "mean review length in characters"),
    ("persona/review_kmeans_k", True, True,
     "k-means clusters (by silhouette) of review-sentence embeddings (paper: 14 base, 6 aligned)"),
    ("persona/attribute_entropy_mean", True, True,
     "mean normalised entropy (0-1) of first name, nationality, ethnicity, MBTI and age band"),
    # Section 5.1
    ("attractor/recovery_rate", False, False,
     "share of perturbed generations that return to an unperturbed cluster / probability level"),
    ("attractor/recovery_tokens_mean", True, False,
     "mean tokens until the sampled-token log-probability returns to its unperturbed level"),
    # Lexical diversity
    ("lexical/distinct_1", True, True, "unique unigrams / total unigrams over all completions"),
    ("lexical/distinct_2", True, True, "unique bigrams / total bigrams over all completions"),
    ("lexical/self_bleu", False, False, "mean BLEU (0-1) of each completion against the others"),
    ("lexical/compression_ratio", True, True,
     "gzip-compressed size / raw size of the joined completions"),
    # Quality
    ("quality/reward_mean", None, True, "mean reward-model (or annotator) score of the completions"),
    ("quality/base_nll", None, False, "mean per-token negative log-likelihood under the base model (nats)"),
    ("quality/toxicity_rate", None, False, "share of completions containing a profane word"),
]

for _name, _div, _hib, _desc in _KEYS:
    register(_name, higher_is_better=_hib, probe=_name.split("/")[0], description=_desc,
             more_diverse=_div)
