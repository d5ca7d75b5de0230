"""Lexical (surface-form) diversity of a set of completions; complements Experiment 3 (sec. 3.3)."""

from __future__ import annotations

import gzip

import numpy as np

from collapselab.metrics._checks import check_texts


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
    """Per-text self-BLEU [N]: sentence BLEU of each text against the others (see ``self_bleu``)."""
    texts = check_texts(texts, 2)
    if max_refs is not None and max_refs < 1:
        raise ValueError(f"max_refs={max_refs}: must be >= 1 or None")
    from sacrebleu.metrics import BLEU

    bleu = BLEU(effective_order=True)
    rng = np.random.default_rng(seed)
    n = len(texts)
    scores = []
    for i, hyp in enumerate(texts):
        others = [j for j in range(n) if j != i]
        if max_refs is not None and len(others) > max_refs:
            others = sorted(rng.choice(others, size=max_refs, replace=False).tolist())
        scores.append(min(1.0, bleu.sentence_score(hyp, [texts[j] for j in others]).score / 100.0))
    return np.asarray(scores, dtype=float)


def self_bleu(texts: list[str], max_refs: int | None = None, seed: int = 0) -> float:
    """Self-BLEU (Zhu et al. 2018): mean sentence BLEU of each text against all the others.

    texts: N >= 2 -> float in [0, 1] (sacrebleu's 0-100 divided by 100; higher = less diverse).
    sacrebleu defaults (13a tokeniser, exp smoothing). With ``max_refs`` set, each text is scored
    against a random subset of at most ``max_refs`` other texts (seeded) to bound the cost.
    Identical texts give 1.0.
    """
    return float(np.mean(self_bleu_scores(texts, max_refs, seed)))


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
