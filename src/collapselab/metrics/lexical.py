"""Lexical (surface-form) diversity of a set of completions; complements Experiment 3 (sec. 3.3)."""

from __future__ import annotations

import gzip
from functools import partial

import numpy as np

from collapselab.metrics._checks import check_texts
from collapselab.metrics.registry import register


def _tokens(text: str) -> list[str]:
    return text.lower().split()


def distinct_n(texts: list[str], n: int) -> float:
    """Distinct-n: unique n-grams / total n-grams, pooled over all texts (Li et al. 2016).

    Tokenisation: lowercase, split on whitespace (punctuation stays attached). N-grams never
    cross text boundaries. texts: N >= 1 -> float in [0, 1]; 0.0 if no text has n tokens.
    """
    texts = check_texts(texts, 1)
    if n < 1:
        raise ValueError(f"n={n}: must be >= 1")
    seen: set[tuple[str, ...]] = set()
    total = 0
    for t in texts:
        toks = _tokens(t)
        grams = [tuple(toks[i:i + n]) for i in range(len(toks) - n + 1)]
        total += len(grams)
        seen.update(grams)
    return len(seen) / total if total else 0.0


def distinct_n_resamples(texts: list[str], n: int, index_sets) -> np.ndarray:
    """``distinct_n([texts[i] for i in row], n)`` for every row of ``index_sets [R, M]`` -> ``[R]``.

    The same definition as ``distinct_n`` (a repeated text adds its n-grams to the total again
    but no new distinct ones), computed for all rows at once: each text's n-gram set is built
    once, a resample's distinct count is the size of the union of its texts' sets (a sparse
    product) and its total is the sum of its texts' n-gram counts. For bootstrap intervals.
    """
    texts = check_texts(texts, 1)
    if n < 1:
        raise ValueError(f"n={n}: must be >= 1")
    idx = np.asarray(index_sets, dtype=np.int64)
    if idx.ndim != 2 or (idx.size and (idx.min() < 0 or idx.max() >= len(texts))):
        raise ValueError(f"index_sets must have shape [R, M] with entries in 0..{len(texts) - 1}")
    from scipy.sparse import csr_matrix

    vocab: dict[tuple[str, ...], int] = {}
    rows: list[int] = []
    cols: list[int] = []
    totals = np.zeros(len(texts))
    for i, t in enumerate(texts):
        toks = _tokens(t)
        grams = {tuple(toks[j:j + n]) for j in range(len(toks) - n + 1)}
        totals[i] = max(len(toks) - n + 1, 0)
        rows += [i] * len(grams)
        cols += [vocab.setdefault(g, len(vocab)) for g in grams]
    has = csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(len(texts), max(len(vocab), 1)))
    R = idx.shape[0]
    counts = np.zeros((R, len(texts)))  # [R, N] times each text was drawn
    np.add.at(counts, (np.repeat(np.arange(R), idx.shape[1]), idx.ravel()), 1.0)
    total = counts @ totals
    distinct = np.empty(R)
    for a in range(0, R, 128):  # [128, G] dense at a time
        distinct[a:a + 128] = ((counts[a:a + 128] > 0).astype(np.float32) @ has > 0).sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, distinct / np.maximum(total, 1), 0.0)


def self_bleu_scores(texts: list[str], max_refs: int | None = None, seed: int = 0) -> np.ndarray:
    """Per-text self-BLEU [N]: sentence BLEU of each text against the others (see ``self_bleu``).

    The same numbers as ``sacrebleu``'s ``BLEU(effective_order=True).sentence_score(text, others)``
    with each text tokenised and split into n-grams once instead of once per time it is a
    reference: a hypothesis's clipped matches only need, per n-gram it contains, the largest count
    in any reference (one [refs, its n-grams] lookup in a count matrix); the closest reference
    length and the score formula (``BLEU.compute_bleu``) are sacrebleu's.
    """
    texts = check_texts(texts, 2)
    if max_refs is not None and max_refs < 1:
        raise ValueError(f"max_refs={max_refs}: must be >= 1 or None")
    from sacrebleu.metrics.bleu import BLEU
    from sacrebleu.metrics.helpers import extract_all_word_ngrams

    bleu = BLEU(effective_order=True)
    order = bleu.max_ngram_order
    rng = np.random.default_rng(seed)
    n = len(texts)
    vocab: dict[tuple[str, ...], int] = {}
    grams, lens = [], np.zeros(n, dtype=np.int64)
    for i, t in enumerate(texts):
        counts, lens[i] = extract_all_word_ngrams(bleu._preprocess_segment(t), 1, order)
        grams.append(({vocab.setdefault(g, len(vocab)): c for g, c in counts.items()}))
    gram_order = np.zeros(max(len(vocab), 1), dtype=np.int64)  # n-gram length - 1
    for g, j in vocab.items():
        gram_order[j] = len(g) - 1
    table = np.zeros((n, max(len(vocab), 1)), dtype=np.int32)  # [N, G] n-gram counts per text
    for i, g in enumerate(grams):
        table[i, list(g)] = list(g.values())
    scores = np.empty(n)
    for i in range(n):
        others = [j for j in range(n) if j != i]
        if max_refs is not None and len(others) > max_refs:
            others = sorted(rng.choice(others, size=max_refs, replace=False).tolist())
        cols = np.fromiter(grams[i], dtype=np.int64, count=len(grams[i]))
        hyp = table[i, cols]
        ref_max = table[np.ix_(others, cols)].max(0) if cols.size else hyp
        correct = np.bincount(gram_order[cols], weights=np.minimum(hyp, ref_max), minlength=order)
        total = np.bincount(gram_order[cols], weights=hyp, minlength=order)
        ref_lens = lens[others]
        diff = np.abs(ref_lens - lens[i])
        ref_len = int(ref_lens[diff == diff.min()].min())  # closest reference length, ties to the shorter
        s = BLEU.compute_bleu(correct.astype(int).tolist(), total.astype(int).tolist(), int(lens[i]), ref_len,
                              smooth_method=bleu.smooth_method, smooth_value=bleu.smooth_value,
                              effective_order=bleu.effective_order, max_ngram_order=order)
        scores[i] = min(1.0, s.score / 100.0)
    return scores


@register("lexical/self_bleu", higher_is_better=False, probe="lexical", more_diverse=False, ci="bootstrap_mean",
          description="mean BLEU (0-1) of each completion against the others")
def self_bleu(texts: list[str], max_refs: int | None = None, seed: int = 0) -> float:
    """Self-BLEU (Zhu et al. 2018): mean sentence BLEU of each text against all the others.

    texts: N >= 2 -> float in [0, 1] (sacrebleu's 0-100 divided by 100; higher = less diverse).
    sacrebleu defaults (13a tokeniser, exp smoothing). With ``max_refs`` set, each text is scored
    against a random subset of at most ``max_refs`` other texts (seeded) to bound the cost.
    Identical texts give 1.0.
    """
    return float(np.mean(self_bleu_scores(texts, max_refs, seed)))


@register("lexical/compression_ratio", higher_is_better=True, probe="lexical", more_diverse=True,
          ci="index_bootstrap", description="gzip-compressed size / raw size of the joined completions")
def compression_ratio(texts: list[str]) -> float:
    """gzip-compressed size / raw UTF-8 size of the texts joined by newlines (higher = more diverse).

    Texts are sorted before joining so the value does not depend on their order; gzip level 9,
    mtime 0 (deterministic). All texts empty -> 0.0. Note gzip's ~20-byte header makes very small
    inputs score above 1.
    """
    texts = check_texts(texts, 1)
    raw = "\n".join(sorted(texts)).encode("utf-8")
    if not raw.strip():
        return 0.0
    return len(gzip.compress(raw, compresslevel=9, mtime=0)) / len(raw)


register("lexical/distinct_1", fn=partial(distinct_n, n=1), higher_is_better=True, probe="lexical",
         more_diverse=True, ci="index_bootstrap", description="unique unigrams / total unigrams over all completions")
register("lexical/distinct_2", fn=partial(distinct_n, n=2), higher_is_better=True, probe="lexical",
         more_diverse=True, ci="index_bootstrap", description="unique bigrams / total bigrams over all completions")
