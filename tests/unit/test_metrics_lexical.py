"""Lexical diversity, TF-IDF similarity (sec. 3.2), sentiment and profanity."""

import gzip
import random

import numpy as np
import pytest

from collapselab.metrics import (
    compression_ratio,
    distinct_n,
    distinct_n_resamples,
    profanity_rate,
    self_bleu,
    self_bleu_scores,
    tfidf_similarity,
    vader_compound,
)

TEXTS = [
    "Grace Hopper was a computer scientist and a rear admiral in the Navy.",
    "She wrote the first compiler and helped design COBOL.",
    "Steve is the CEO of a startup company that sells smart coffee machines.",
    "The coffee stays warm even when you walk away from it.",
    "I hated this machine, it broke after a week.",
]


def shuffled(texts, seed=1):
    out = list(texts)
    random.Random(seed).shuffle(out)
    return out


def test_distinct_n_hand_values():
    """["a b a b", "A b"]: unigrams a b a b a b -> 2 unique / 6; bigrams (a b)(b a)(a b)(a b)
    -> 2 / 4 (case-insensitive, no bigram across the two texts)."""
    texts = ["a b a b", "A b"]
    assert distinct_n(texts, 1) == pytest.approx(2 / 6)
    assert distinct_n(texts, 2) == pytest.approx(2 / 4)
    assert distinct_n(["one"], 2) == 0.0  # no text has 2 tokens


def test_distinct_n_degenerate_and_order():
    """Four copies of "x y z": 3 unique / 12 = 0.25, far below distinct texts."""
    assert distinct_n(["x y z"] * 4, 1) == pytest.approx(0.25)
    assert distinct_n(TEXTS, 2) > 0.9
    assert distinct_n(shuffled(TEXTS), 2) == distinct_n(TEXTS, 2)


def test_distinct_n_resamples_equal_distinct_n_per_resample():
    """Rows [0, 0] and [0, 1] of ["a b a b", "A b"]: unigrams 2 unique / 8 and 2 / 6 (the hand value
    above); a drawn-twice text adds to the total only. Random rows match distinct_n row by row."""
    texts = ["a b a b", "A b"]
    assert distinct_n_resamples(texts, 1, [[0, 0], [0, 1]]).tolist() == pytest.approx([2 / 8, 2 / 6])
    assert distinct_n_resamples(["one", "two"], 2, [[0, 1]]).tolist() == [0.0]
    rows = np.random.default_rng(0).integers(0, len(TEXTS), size=(20, len(TEXTS)))
    for n in (1, 2, 3):
        expected = [distinct_n([TEXTS[i] for i in r], n) for r in rows]
        assert distinct_n_resamples(TEXTS, n, rows).tolist() == pytest.approx(expected)
    with pytest.raises(ValueError, match="index_sets"):
        distinct_n_resamples(texts, 1, [[0, 2]])


def test_self_bleu_scores_equal_sacrebleu_sentence_scores():
    """Each text's score equals sacrebleu's own sentence_score against the same (seeded) references."""
    from sacrebleu.metrics import BLEU

    texts = TEXTS + ["the cat sat on the mat .", "the cat sat on a mat", "", "the cat"]
    for max_refs in (None, 3):
        rng = np.random.default_rng(5)
        expected = []
        for i, hyp in enumerate(texts):
            others = [j for j in range(len(texts)) if j != i]
            if max_refs is not None:
                others = sorted(rng.choice(others, size=max_refs, replace=False).tolist())
            score = BLEU(effective_order=True).sentence_score(hyp, [texts[j] for j in others]).score
            expected.append(min(1.0, score / 100))
        assert self_bleu_scores(texts, max_refs=max_refs, seed=5).tolist() == pytest.approx(expected, abs=1e-12)


def test_self_bleu_hand_value():
    """"the cat sat on the mat" vs "the cat sat on a mat" (either way round): precisions
    5/6, 3/5, 2/4, 1/3, equal lengths (BP 1) -> (5/6*3/5*1/2*1/3)^(1/4) = 0.5373."""
    expected = (5 / 6 * 3 / 5 * 1 / 2 * 1 / 3) ** 0.25
    assert self_bleu(["the cat sat on the mat", "the cat sat on a mat"]) == pytest.approx(expected, abs=1e-6)
    assert self_bleu(["a b c", "d e f"]) == 0.0


def test_self_bleu_degenerate_order_and_subsample():
    assert self_bleu(["the same long sentence about coffee"] * 4) == pytest.approx(1.0)
    assert self_bleu(shuffled(TEXTS)) == pytest.approx(self_bleu(TEXTS))
    assert 0.0 <= self_bleu(TEXTS, max_refs=2, seed=0) <= 1.0
    assert self_bleu(TEXTS, max_refs=2, seed=3) == self_bleu(TEXTS, max_refs=2, seed=3)


def test_compression_ratio_definition_and_order():
    """Sorted, newline-joined, gzip level 9: "a\\nb" is 3 raw bytes."""
    raw = b"a\nb"
    assert compression_ratio(["b", "a"]) == len(gzip.compress(raw, 9, mtime=0)) / 3
    assert compression_ratio(shuffled(TEXTS)) == compression_ratio(TEXTS)
    assert compression_ratio(["same text here"] * 20) < compression_ratio(TEXTS * 1)
    assert compression_ratio(["", ""]) == 0.0


def test_tfidf_hand_values():
    """Texts 0 and 1 identical (cos 1), text 2 shares no word (cos 0): means over the *other*
    texts are [(1+0)/2, (1+0)/2, 0]."""
    sim = tfidf_similarity(["apple banana", "apple banana", "cherry date"])
    assert sim.tolist() == pytest.approx([0.5, 0.5, 0.0])


def test_tfidf_degenerate_and_order():
    assert tfidf_similarity(["coffee is warm"] * 5) == pytest.approx(np.ones(5))
    assert tfidf_similarity(["", ""]) == pytest.approx([1.0, 1.0])  # empty vocabulary
    sim = tfidf_similarity(TEXTS)
    order = [3, 1, 4, 0, 2]
    assert tfidf_similarity([TEXTS[i] for i in order]) == pytest.approx(sim[order])
    assert sim.mean() < 0.2


def test_vader_and_profanity():
    """VADER lexicon values: "good" 0.4404, "bad" -0.5423, empty 0."""
    assert vader_compound(["good", "bad", ""]).tolist() == pytest.approx([0.4404, -0.5423, 0.0])
    texts = ["f*** this", "a class act", "Sh*t.", "what an a**hole", "assess it", "FUCK!",
             "Dickens is great"]
    assert profanity_rate(texts) == pytest.approx(4 / 7)
    assert profanity_rate(shuffled(texts)) == profanity_rate(texts)


@pytest.mark.parametrize("fn", [
    lambda t: distinct_n(t, 1), self_bleu, compression_ratio, tfidf_similarity, vader_compound,
    profanity_rate,
])
def test_empty_input_errors(fn):
    with pytest.raises(ValueError, match="need at least"):
        fn([])


def test_single_string_is_rejected():
    with pytest.raises(TypeError, match="list of strings"):
        distinct_n("a b c", 1)


def test_self_bleu_is_the_mean_of_its_per_text_scores():
    """Identical texts score 1 each; the set value is the mean of the per-text values."""
    from collapselab.metrics import self_bleu, self_bleu_scores

    same = self_bleu_scores(["a b c d", "a b c d", "a b c d"])
    assert same.tolist() == [1.0, 1.0, 1.0]
    texts = ["the cat sat on the mat", "the cat sat on a mat", "dogs bark at night loudly"]
    scores = self_bleu_scores(texts)
    assert scores.shape == (3,) and scores[2] < scores[0]
    assert self_bleu(texts) == pytest.approx(scores.mean())
