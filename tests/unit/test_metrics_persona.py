"""Persona statistics (Experiment 1, sec. 3.1, 4.1) and distribution distances."""

import math
import random

import numpy as np
import pytest

from collapselab.metrics import (
    attribute_distribution,
    coverage,
    kl_divergence,
    normalized_entropy,
    persona_stats,
    review_sentences,
    total_variation,
)


def persona(first, last, gender, age, nat, eth, mbti, review):
    return dict(first_name=first, last_name=last, gender=gender, age=age, nationality=nat,
                ethnicity=eth, mbti=mbti, review=review)


PARSED = [
    persona("Ana", "Silva", "female", 20, "Brazilian", "Latina", "INTJ", "good"),
    persona("ana ", "Smith", "Female", 40, "British", "White", "intj", "bad"),
    persona("Li", "Wei", "male", 30, "Chinese", "Han", "ENFP", ""),
    persona("Omar", "Haddad", "male", None, "Egyptian", "Arab", "XXXX", "good"),
    None,
]


def test_persona_stats_hand_values():
    """4 of 5 parse (n_total 6 -> 4/6). First names ana/li/omar = 3 (case/space-insensitive);
    last names 4; MBTI INTJ, ENFP valid -> 2/16; ages 20, 40, 30 -> min 20, max 40,
    population sd sqrt(200/3) = 8.165; 2 female of 4 -> 0.5; VADER of the non-empty reviews
    good 0.4404, bad -0.5423, good 0.4404 -> min -0.5423, max 0.4404, mean 0.11283;
    review chars (4 + 3 + 0 + 4) / 4 = 2.75."""
    s = persona_stats(PARSED, n_total=6)
    assert s["persona/parse_rate"] == pytest.approx(4 / 6)
    assert s["persona/n_first_names"] == 3
    assert s["persona/n_last_names"] == 4
    assert s["persona/n_nationalities"] == 4
    assert s["persona/n_ethnicities"] == 4
    assert s["persona/mbti_coverage"] == pytest.approx(2 / 16)
    assert (s["persona/age_min"], s["persona/age_max"]) == (20.0, 40.0)
    assert s["persona/age_sd"] == pytest.approx(math.sqrt(200 / 3))
    assert s["persona/female_share"] == 0.5
    assert s["persona/sentiment_min"] == pytest.approx(-0.5423)
    assert s["persona/sentiment_max"] == pytest.approx(0.4404)
    assert s["persona/sentiment_mean"] == pytest.approx((0.4404 * 2 - 0.5423) / 3)
    assert s["persona/review_chars_mean"] == pytest.approx(2.75)
    assert persona_stats(PARSED)["persona/parse_rate"] == pytest.approx(4 / 5)


def test_persona_stats_degenerate_and_order():
    """Identical personas: one of everything, age sd 0. Nothing parsed: rate 0, ages nan."""
    same = persona_stats([PARSED[0]] * 5)
    assert same["persona/n_first_names"] == 1 and same["persona/age_sd"] == 0.0
    assert same["persona/mbti_coverage"] == pytest.approx(1 / 16)
    none = persona_stats([None, None])
    assert none["persona/parse_rate"] == 0.0 and math.isnan(none["persona/age_min"])
    mixed = list(PARSED)
    random.Random(0).shuffle(mixed)
    assert persona_stats(mixed) == pytest.approx(persona_stats(PARSED), nan_ok=True)


def test_persona_stats_errors():
    with pytest.raises(ValueError, match="no generations"):
        persona_stats([])
    with pytest.raises(ValueError, match="n_total"):
        persona_stats(PARSED, n_total=2)


def test_attribute_distribution():
    """first_name: Ana x2 (case-folded), Li, Omar -> .5/.25/.25; mbti upper-cased; missing ages skipped."""
    expected = {"Ana": 0.5, "Li": 0.25, "Omar": 0.25}
    assert attribute_distribution(PARSED, "first_name") == pytest.approx(expected)
    assert attribute_distribution(PARSED, "mbti") == pytest.approx({"INTJ": 0.5, "ENFP": 0.25, "XXXX": 0.25})
    assert attribute_distribution(PARSED, "age") == pytest.approx({20: 1 / 3, 40: 1 / 3, 30: 1 / 3})
    assert attribute_distribution([None], "age") == {}
    with pytest.raises(ValueError, match="no generations"):
        attribute_distribution([], "age")


def test_review_sentences():
    assert review_sentences(["Great. Keeps it warm! Why?", ""]) == ["Great.", "Keeps it warm!", "Why?"]


def test_distribution_hand_values():
    """TV({a:.5,b:.5}, {a:1}) = .5. KL([.5,.5] || [.25,.75]) = .5 ln 2 + .5 ln(2/3) = 0.14384 nats.
    coverage of {a:.5,b:.5} by {a:1} = 1/2. Normalised entropy of [.5,.25,.25] = 1.5 bits / log2 3."""
    assert total_variation({"a": 0.5, "b": 0.5}, {"a": 1.0}) == pytest.approx(0.5)
    assert total_variation([1, 1], [2, 2]) == 0.0  # normalised first
    kl = 0.5 * math.log(2) + 0.5 * math.log(2 / 3)
    assert kl_divergence([0.5, 0.5], [0.25, 0.75], eps=0) == pytest.approx(kl)
    assert kl_divergence({"a": 0.5, "b": 0.5}, {"b": 0.75, "a": 0.25}, eps=0) == pytest.approx(kl)
    assert kl_divergence([0.5, 0.5], [0.5, 0.5]) == pytest.approx(0.0, abs=1e-12)
    assert np.isfinite(kl_divergence([0.5, 0.5], [1.0, 0.0]))  # eps smoothing keeps it finite
    assert coverage({"a": 1.0}, {"a": 0.5, "b": 0.5}) == 0.5
    assert normalized_entropy([0.5, 0.25, 0.25]) == pytest.approx(1.5 / math.log2(3))
    assert normalized_entropy({"x": 1.0, "y": 0.0}) == 0.0
    assert normalized_entropy([1, 1, 1, 1]) == pytest.approx(1.0)


def test_distribution_errors():
    with pytest.raises(ValueError, match="empty"):
        total_variation([], [])
    with pytest.raises(ValueError, match="same length"):
        kl_divergence([1, 0], [1, 0, 0])
    with pytest.raises(ValueError, match="total mass 0"):
        coverage({"a": 0.0}, {"a": 1.0})
