"""Persona statistics (Experiment 1, sec. 3.1, 4.1) and distribution distances."""

import math
import random

import numpy as np
import pytest

from collapselab.metrics import (
    ENTROPY_ATTRIBUTES,
    METRICS,
    attribute_codes,
    attribute_distribution,
    attribute_entropy_mean,
    attribute_entropy_rows,
    coverage,
    distinct_rows,
    persona_set_intervals,
    kl_divergence,
    normalized_entropy,
    persona_stats,
    review_distinct_sentence_share,
    review_sentences,
    total_variation,
    world_category_counts,
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


def test_review_distinct_sentence_share_hand_value():
    # 6 sentences: "great." x3 (case-insensitive), "love it." x2, "five stars." -> 3 distinct of 6
    per_review = [review_sentences([r]) for r in ["Great. Love it.", "great.  Five stars.", "Love it. Great."]]
    assert review_distinct_sentence_share(per_review) == pytest.approx(0.5)
    assert review_distinct_sentence_share([["A b.", "C."], ["D."]]) == 1.0  # nothing said twice
    assert METRICS["persona/review_distinct_sentence_share"].more_diverse is True


def test_review_distinct_sentence_share_degenerate_order_and_empty():
    assert review_distinct_sentence_share([["Great."]] * 5) == pytest.approx(1 / 5)  # one sentence, five times
    reviews = [["Great.", "Love it."], ["Five stars."], ["great."]]
    assert review_distinct_sentence_share(reviews[::-1]) == review_distinct_sentence_share(reviews) == 0.75
    with pytest.raises(ValueError, match="no sentence"):
        review_distinct_sentence_share([[], []])


def test_review_distinct_sentence_share_interval_resamples_whole_reviews():
    from types import SimpleNamespace

    from collapselab.metrics import index_bootstrap_ci
    from collapselab.metrics.persona import distinct_share_of, sentence_codes
    from collapselab.probes.persona import distinct_share_ci

    per_review = [["Great.", "Five stars."]] * 30 + [[f"Sentence {i}."] for i in range(30)]
    m = {"persona/review_distinct_sentence_share": review_distinct_sentence_share(per_review)}  # 32 of 90
    distinct_share_ci(m, per_review, SimpleNamespace(n_boot=200, seed=0))
    lo, hi = m["persona/review_distinct_sentence_share_ci_lo"], m["persona/review_distinct_sentence_share_ci_hi"]
    assert 0.0 <= lo < 32 / 90 < hi <= 1.0
    # the unit is the review (60 of them), not the sentence (90): the same resamples of review indices
    codes = sentence_codes(per_review)
    assert (lo, hi) == index_bootstrap_ci(60, lambda idx: distinct_share_of(codes, idx), 200, 0, bounds=(0.0, 1.0))
    one = {}
    distinct_share_ci(one, per_review[:1], SimpleNamespace(n_boot=200, seed=0))
    assert one == {}  # one review: no interval


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


# ------------------------------------------------------------------ attribute entropy (one persona-diversity number)
def only(**attrs):
    """A parsed persona stating only ``attrs`` (the other entropy attributes missing)."""
    return {k: attrs.get(k) for k in ("first_name", "nationality", "ethnicity", "mbti", "age")}


def test_attribute_entropy_hand_value():
    """Only MBTI and nationality stated. MBTI INTJ x2, ENFP x2: H = ln 2, normaliser
    ln min(n=4, K=16) = ln 4 -> 0.5. Nationality A x3, B: H = -(.75 ln .75 + .25 ln .25) = 0.562335,
    ln min(4, 42) = 1.386294 -> 0.405639. Unstated attributes are left out: mean 0.452820."""
    parsed = [only(mbti="INTJ", nationality="A"), only(mbti="intj ", nationality="a"),
              only(mbti="ENFP", nationality="A"), only(mbti="ENFP", nationality="B"), None]
    h_nat = -(0.75 * math.log(0.75) + 0.25 * math.log(0.25))
    assert attribute_entropy_mean(parsed) == pytest.approx((0.5 + h_nat / math.log(4)) / 2)
    assert attribute_entropy_mean(parsed) == pytest.approx(0.452820, abs=1e-6)


def test_attribute_entropy_normaliser_caps_at_the_world_and_sample():
    """Age bands (K = 5): ten personas, two per band -> H = ln 5 over ln min(10, 5) = 1.
    First names are unbounded: four distinct of four -> ln 4 / ln 4 = 1; two of four -> ln 2 / ln 4.
    A sample with more values than K_world raises K to the observed count: never above 1."""
    ages = [only(age=a) for a in (14, 20, 25, 30, 35, 40, 45, 50, 60, 85)]
    assert attribute_entropy_mean(ages) == pytest.approx(1.0)
    assert attribute_entropy_mean([only(first_name=n) for n in "abcd"]) == pytest.approx(1.0)
    assert attribute_entropy_mean([only(first_name=n) for n in "aabb"]) == pytest.approx(0.5)
    many = [only(nationality=f"n{i}") for i in range(8)]
    assert attribute_entropy_mean(many, n_categories={"nationality": 3}) == pytest.approx(1.0)
    assert world_category_counts() == {"first_name": None, "nationality": 42, "ethnicity": 14, "mbti": 16,
                                       "age_band": 5}


def test_attribute_entropy_degenerate_order_and_errors():
    """Identical personas give 0 (one persona: 0 too); order does not matter; nothing parsed is
    nan; an empty list or a single dict is an error naming the problem."""
    assert attribute_entropy_mean([PARSED[0]] * 6) == 0.0
    assert attribute_entropy_mean([PARSED[0]]) == 0.0
    shuffled = list(PARSED)
    random.Random(1).shuffle(shuffled)
    assert attribute_entropy_mean(shuffled) == pytest.approx(attribute_entropy_mean(PARSED))
    assert 0 < attribute_entropy_mean(PARSED) <= 1
    assert math.isnan(attribute_entropy_mean([None, None]))
    with pytest.raises(ValueError, match="no generations"):
        attribute_entropy_mean([])
    with pytest.raises(TypeError, match="list of dicts"):
        attribute_entropy_mean(PARSED[0])
    assert METRICS["persona/attribute_entropy_mean"].more_diverse is True


def test_attribute_codes_match_persona_stats_and_rows_batch():
    """The codes count what persona_stats counts (distinct nationalities, valid MBTI types), with -1
    for unparsed or invalid; resampled rows give the same value as the list they index."""
    codes = attribute_codes(PARSED)
    assert set(codes) == set(ENTROPY_ATTRIBUTES) and all(len(c) == len(PARSED) for c in codes.values())
    stats = persona_stats(PARSED)
    assert distinct_rows(codes["nationality"], np.arange(5))[0] == stats["persona/n_nationalities"]
    assert distinct_rows(codes["mbti"], np.arange(5))[0] / 16 == stats["persona/mbti_coverage"]
    assert codes["mbti"][3] == -1 and all(c[4] == -1 for c in codes.values())  # XXXX invalid; None unparsed
    idx = np.array([[0, 1, 2, 3, 4], [0, 0, 0, 0, 0], [2, 2, 3, 3, 4]])
    rows = attribute_entropy_rows(codes, idx)
    assert rows[0] == pytest.approx(attribute_entropy_mean(PARSED))
    assert rows[1] == 0.0
    assert rows[2] == pytest.approx(attribute_entropy_mean([PARSED[i] for i in idx[2]]))
    assert distinct_rows(codes["nationality"], idx).tolist() == [4, 1, 2]


def test_persona_set_intervals_are_whole_counts():
    """50 personas over up to 60 nationalities: the re-centred percentiles of the nationality count
    fall between counts (28, 35.025 by the plain bootstrap) and those of the MBTI coverage between
    sixteenths (0.8109 = 12.97 types); the intervals are rounded outward onto whole counts: [28, 36]
    and [12/16, 16/16]."""
    from collapselab.metrics import MBTI_TYPES
    from collapselab.metrics.stats import index_bootstrap_ci

    rng = np.random.default_rng(0)
    parsed = [only(nationality=f"n{int(rng.integers(0, 60))}", mbti=str(rng.choice(list(MBTI_TYPES))))
              for _ in range(50)]
    codes = attribute_codes(parsed)
    raw = index_bootstrap_ci(50, lambda idx: distinct_rows(codes["nationality"], idx), 200, 0, batched=True)
    assert raw[1] == pytest.approx(35.025)
    ci = persona_set_intervals(parsed, n_boot=200, seed=0)
    assert (ci["persona/n_nationalities_ci_lo"], ci["persona/n_nationalities_ci_hi"]) == (28.0, 36.0)
    assert (ci["persona/mbti_coverage_ci_lo"], ci["persona/mbti_coverage_ci_hi"]) == (0.75, 1.0)


def test_persona_set_intervals_bracket_the_value():
    """Bootstrap of the counts and the entropy over generations (unparsed included): re-centred
    intervals contain the value, coverage stays in [0, 1], same seed -> same interval; identical
    personas give zero-width intervals; nothing parsed has no entropy interval."""
    rng = np.random.default_rng(0)
    nats, types = ["A", "B", "C", "D", "E", "F"], ["INTJ", "ENFP", "ISTJ", "ESFP"]
    parsed = [only(nationality=str(rng.choice(nats)), mbti=str(rng.choice(types)), age=int(rng.integers(14, 80)),
                   first_name=f"n{rng.integers(0, 30)}") for _ in range(60)] + [None] * 5
    m = {**persona_stats(parsed), "persona/attribute_entropy_mean": attribute_entropy_mean(parsed)}
    ci = persona_set_intervals(parsed, n_boot=200, seed=0)
    for key in ("persona/n_nationalities", "persona/mbti_coverage", "persona/attribute_entropy_mean"):
        assert ci[f"{key}_ci_lo"] <= m[key] <= ci[f"{key}_ci_hi"], key
    assert 0 <= ci["persona/mbti_coverage_ci_lo"] and ci["persona/mbti_coverage_ci_hi"] <= 1
    assert ci["persona/attribute_entropy_mean_ci_hi"] > ci["persona/attribute_entropy_mean_ci_lo"]
    assert persona_set_intervals(parsed, n_boot=200, seed=0) == ci
    same = persona_set_intervals([PARSED[0]] * 10, n_boot=50)
    assert same["persona/n_nationalities_ci_lo"] == same["persona/n_nationalities_ci_hi"] == 1.0
    assert same["persona/attribute_entropy_mean_ci_lo"] == same["persona/attribute_entropy_mean_ci_hi"] == 0.0
    none = persona_set_intervals([None, None], n_boot=20)
    assert "persona/attribute_entropy_mean_ci_lo" not in none and none["persona/n_nationalities_ci_hi"] == 0.0
    with pytest.raises(ValueError, match="no generations"):
        persona_set_intervals([])
