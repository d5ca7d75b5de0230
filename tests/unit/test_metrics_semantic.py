"""Embedding-space diversity (Experiment 2, sec. 3.2, 4.2): embeddings, k-means, Vendi, t-SNE."""

import math

import numpy as np
import pytest

from collapselab.metrics import best_kmeans, embed_texts, mean_pairwise_cosine, tsne_2d, vendi_score

TEXTS = [
    "Grace Hopper was a computer scientist and a rear admiral in the United States Navy.",
    "Grace Hopper was an American computer scientist and United States Navy rear admiral.",
    "My coffee machine keeps the coffee warm when I walk away.",
    "The stock market fell sharply on Monday.",
]


@pytest.fixture(scope="module")
def emb():
    """The embedding model loads once for this module (a few seconds on 2 cores)."""
    return embed_texts(TEXTS + [TEXTS[2]] * 2)


def test_embed_shape_norm_and_meaning(emb):
    assert emb.shape == (6, 384) and emb.dtype == np.float32
    assert np.linalg.norm(emb, axis=1) == pytest.approx(np.ones(6), abs=1e-5)
    # paraphrases are closer than unrelated sentences; duplicates embed identically
    assert emb[0] @ emb[1] > 0.8 > emb[0] @ emb[3]
    assert emb[4] == pytest.approx(emb[2], abs=1e-5)


def test_identical_texts_are_minimum_diversity(emb):
    same = emb[[2, 4, 5]]
    assert mean_pairwise_cosine(same) == pytest.approx(1.0, abs=1e-5)
    assert vendi_score(same) == pytest.approx(1.0, abs=1e-4)
    k, labels, _ = best_kmeans(same)
    assert k == 1 and labels.tolist() == [0, 0, 0]


def test_embed_order_invariance(emb):
    rev = embed_texts(TEXTS[::-1])
    assert rev == pytest.approx(emb[:4][::-1], abs=1e-5)


def test_mean_pairwise_cosine_hand_value():
    """[[1,0],[0,1],[1,1]]: pair cosines 0, 1/sqrt2, 1/sqrt2 -> mean sqrt2/3 = 0.4714."""
    x = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    assert mean_pairwise_cosine(x) == pytest.approx(math.sqrt(2) / 3)
    assert mean_pairwise_cosine(x[[2, 0, 1]]) == pytest.approx(math.sqrt(2) / 3)


def test_vendi_hand_values():
    """Identity (orthogonal) -> n. [[1,0],[1,0],[0,1]]: K/3 has eigenvalues 2/3, 1/3 ->
    exp(-(2/3 ln 2/3 + 1/3 ln 1/3)) = 1.8899. Six rows in 2-d (the D x D branch), three of each
    axis -> eigenvalues 1/2, 1/2 -> 2."""
    assert vendi_score(np.eye(4)) == pytest.approx(4.0)
    expected = math.exp(-(2 / 3 * math.log(2 / 3) + 1 / 3 * math.log(1 / 3)))
    x = np.array([[1.0, 0.0], [2.0, 0.0], [0.0, 1.0]])
    assert vendi_score(x) == pytest.approx(expected)
    assert vendi_score(x[::-1]) == pytest.approx(expected)
    assert vendi_score(np.array([[1.0, 0.0]] * 3 + [[0.0, 3.0]] * 3)) == pytest.approx(2.0)


def test_best_kmeans_finds_blobs_and_caps_k():
    """Three tight blobs on orthogonal axes -> k = 3, members of a blob share a label."""
    rng = np.random.default_rng(0)
    centers = np.eye(3)
    x = np.concatenate([c + 0.01 * rng.standard_normal((8, 3)) for c in centers])
    k, labels, sil = best_kmeans(x, k_max=6, seed=0)
    assert k == 3 and sil > 0.9
    assert [len(set(labels[i * 8:(i + 1) * 8])) for i in range(3)] == [1, 1, 1]
    assert len(set(labels)) == 3
    k2, _, _ = best_kmeans(x[rng.permutation(24)], k_max=6, seed=0)
    assert k2 == 3
    # 3 distinct points: k is capped at n - 1 = 2
    assert best_kmeans(np.eye(3))[0] == 2
    with pytest.raises(ValueError, match="k_min"):
        best_kmeans(x, k_min=1)


def test_tsne_shape_and_seed():
    x = np.random.default_rng(0).standard_normal((12, 5))
    y = tsne_2d(x, perplexity=30, seed=0, max_iter=250)  # perplexity capped below n
    assert y.shape == (12, 2) and np.isfinite(y).all()
    assert tsne_2d(x, perplexity=30, seed=0, max_iter=250) == pytest.approx(y)


@pytest.mark.parametrize("fn", [mean_pairwise_cosine, vendi_score, best_kmeans, tsne_2d])
def test_empty_embeddings_error(fn):
    with pytest.raises(ValueError, match="emb"):
        fn(np.zeros((0, 384)))


def test_embed_empty_error():
    with pytest.raises(ValueError, match="need at least"):
        embed_texts([])
