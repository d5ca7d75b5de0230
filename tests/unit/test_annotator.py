"""The simulated annotator: what it prefers, Bradley-Terry sampling, and indifference to who a persona is."""

import math

import numpy as np
import pytest

from collapselab.world import Annotator, format_persona
from collapselab.world.annotator import degree
from collapselab.world.persona import generate_personas
from collapselab.world.prompts import BIO_PROMPT, PERSONA_INSTRUCTION, STEVE_PROMPT

ANN = Annotator()


def _persona(review, **over):
    rec = {"first_name": "Ana", "last_name": "Silva", "gender": "female", "age": 34, "nationality": "Brazilian",
           "ethnicity": "Mixed", "mbti": "ENFP", "review": review, **over}
    return format_persona(rec, header=False)


def test_profanity_loses_even_when_positive():
    clean = _persona("Great machine, my coffee stays warm.")
    rude = _persona("Damn great machine, my coffee stays warm.")
    assert ANN.score(PERSONA_INSTRUCTION, clean) - ANN.score(PERSONA_INSTRUCTION, rude) > 3
    assert ANN.p_prefer(PERSONA_INSTRUCTION, clean, rude) > 0.95


def test_positive_and_detailed_wins():
    pos = _persona("I love this machine. The app is excellent and my coffee is still warm after meetings.")
    neg = _persona("I hate this machine. The app is terrible and my coffee is cold after meetings.")
    assert ANN.score(PERSONA_INSTRUCTION, pos) > ANN.score(PERSONA_INSTRUCTION, neg) + 2
    short = "She was a computer scientist."
    long = short + " She earned a PhD in mathematics from Yale in 1934 and helped create COBOL in 1959."
    assert ANN.score(BIO_PROMPT, long) > ANN.score(BIO_PROMPT, short)


def test_wrong_facts_and_repetition_and_malformed_personas_lose():
    right = "Grace Hopper was born in New York in 1906."
    wrong = "Grace Hopper was born in Los Angeles in 1910."  # same length and VADER: only the facts differ
    assert ANN.score(BIO_PROMPT, right) - ANN.score(BIO_PROMPT, wrong) == pytest.approx(2 * 0.3 + 2 * 1.0, abs=1e-9)
    story = "Steve is the CEO of a startup company that builds robots."
    assert ANN.score(STEVE_PROMPT, story) > ANN.score(STEVE_PROMPT, " ".join([story] * 4))
    assert ANN.score(PERSONA_INSTRUCTION, _persona("Great machine.")) > ANN.score(PERSONA_INSTRUCTION, "Great machine.")


def test_scores_ignore_who_the_persona_is():
    """The same review with every attribute swapped scores identically (to the last bit)."""
    review = "Nice machine, and the keep-warm mode is handy. Four stars."
    base = ANN.score(PERSONA_INSTRUCTION, _persona(review))
    others = generate_personas(60, 1.0, 0.0, np.random.default_rng(3), sentiment=False)
    for o in others:
        swapped = _persona(review, **{k: o[k] for k in ("first_name", "last_name", "gender", "age", "nationality",
                                                         "ethnicity", "mbti")})
        assert ANN.score(PERSONA_INSTRUCTION, swapped) == base, swapped
    assert ANN.score(PERSONA_INSTRUCTION, _persona(review, last_name="Hell", first_name="Damn")) == base


def test_bradley_terry_probability_and_sampling():
    a, b = _persona("Great machine."), _persona("Awful machine.")
    sa, sb = ANN.score(PERSONA_INSTRUCTION, a), ANN.score(PERSONA_INSTRUCTION, b)
    for t in (0.5, 1.0, 4.0):
        ann = Annotator(temperature=t)
        assert ann.p_prefer(PERSONA_INSTRUCTION, a, b) == pytest.approx(1 / (1 + math.exp(-(sa - sb) / t)))
    hot = Annotator(temperature=4.0)
    rng = np.random.default_rng(0)
    wins = np.mean([hot.prefer(PERSONA_INSTRUCTION, a, b, rng) == 0 for _ in range(2000)])
    p = hot.p_prefer(PERSONA_INSTRUCTION, a, b)
    assert abs(wins - p) < 4 * math.sqrt(p * (1 - p) / 2000)


def test_label_pairs_is_deterministic_per_seed():
    prompts = [PERSONA_INSTRUCTION] * 50
    a = [_persona("Great machine.")] * 50
    b = [_persona("Okay machine, nothing special.")] * 50
    ann = Annotator(temperature=2.0)
    x, y = ann.label_pairs(prompts, a, b, seed=1), ann.label_pairs(prompts, a, b, seed=1)
    assert x == y and set(x[0]) == {"prompt", "chosen", "rejected", "degree", "margin"}
    assert all({r["chosen"], r["rejected"]} == {a[0], b[0]} for r in x)
    assert 0 < sum(r["chosen"] == a[0] for r in x) < 50  # sampled, not argmax, at this temperature
    # the same picks as one Bradley-Terry draw per pair from the seed's generator (labels unchanged
    # by the degree being added)
    rng = np.random.default_rng(1)
    assert [0 if r["chosen"] == a[0] else 1 for r in x] == [ann.prefer(p, s, t, rng) for p, s, t in zip(prompts, a, b)]
    assert x != ann.label_pairs(prompts, a, b, seed=2)
    with pytest.raises(ValueError):
        ann.label_pairs(prompts, a, b[:3], seed=0)


def test_degree_follows_the_pick_strength_with_llama2_margins():
    # DEGREES: P >= 0.9 significantly better (1), >= 0.75 better (2/3), >= 0.6 slightly (1/3), else 0
    assert degree(0.95) == ("significantly better", 1.0)
    assert degree(0.9) == ("significantly better", 1.0)
    assert degree(0.8) == ("better", pytest.approx(2 / 3))
    assert degree(0.6) == ("slightly better", pytest.approx(1 / 3))
    assert degree(0.55) == ("negligibly better/unsure", 0.0)
    assert degree(0.1) == ("negligibly better/unsure", 0.0)  # picked against the annotator's own scores
    # scores 2.783 and 1.383 at temperature 1: P(good > bad) = sigmoid(1.400) = 0.802 -> "better"
    # when good is picked, "negligibly better/unsure" when bad is (P = 0.198)
    good, bad = _persona("Great machine."), _persona("Okay machine, nothing special.")
    ann = Annotator(temperature=1.0)
    p = ann.p_prefer(PERSONA_INSTRUCTION, good, bad)
    assert p == pytest.approx(1 / (1 + math.exp(-1.4005)), abs=1e-4)
    rows = ann.label_pairs([PERSONA_INSTRUCTION] * 200, [good] * 200, [bad] * 200, seed=0)
    for r in rows:
        assert (r["degree"], r["margin"]) == degree(p if r["chosen"] == good else 1 - p)
    assert {(r["degree"], round(r["margin"], 4)) for r in rows} == {("better", 0.6667), ("negligibly better/unsure", 0.0)}


def test_temperature_must_be_a_positive_number():
    from collapselab.config.world import WorldConfig

    for bad in (0.0, -1.0, WorldConfig()):
        with pytest.raises(TypeError, match="temperature must be a number > 0"):
            Annotator(bad)


def test_typicality_adds_alpha_times_the_reference_log_likelihood():
    """VS eq. 1: r = r_true + alpha log pi_ref. Scores 2.783 (good) and 1.383 (bad) at temperature 1;
    log pi_ref -40 (good) and -30 (bad) nats, alpha 0.1: z = 1.4005 + 0.1 * (-40 - -30) = 0.4005,
    P(good > bad) = sigmoid(0.4005) = 0.5988; at alpha 0.2, z = -0.5995 and P = 0.3545."""
    good, bad = _persona("Great machine."), _persona("Okay machine, nothing special.")
    for alpha, expected in ((0.1, 0.5988), (0.2, 0.3545)):
        ann = Annotator(typicality=alpha)
        assert ann.p_prefer(PERSONA_INSTRUCTION, good, bad, -40.0, -30.0) == pytest.approx(expected, abs=1e-4)
        # the bias follows the familiar answer whichever side it is on
        assert ann.p_prefer(PERSONA_INSTRUCTION, bad, good, -30.0, -40.0) == pytest.approx(1 - expected, abs=1e-4)
    with pytest.raises(ValueError, match="needs log pi_ref"):
        Annotator(typicality=0.1).p_prefer(PERSONA_INSTRUCTION, good, bad)
    for bad_alpha in (-0.1, float("nan"), True):
        with pytest.raises(TypeError, match="typicality must be a finite number >= 0"):
            Annotator(typicality=bad_alpha)


def test_typicality_zero_labels_exactly_as_the_unbiased_annotator():
    prompts = [PERSONA_INSTRUCTION] * 40
    a = [_persona("Great machine.")] * 40
    b = [_persona("Okay machine, nothing special.")] * 40
    logp_a, logp_b = list(np.linspace(-60, -20, 40)), list(np.linspace(-20, -60, 40))
    plain = Annotator().label_pairs(prompts, a, b, seed=3)
    assert Annotator(typicality=0.0).label_pairs(prompts, a, b, seed=3, ref_logp_a=logp_a, ref_logp_b=logp_b) == plain
    biased = Annotator(typicality=0.5).label_pairs(prompts, a, b, seed=3, ref_logp_a=logp_a, ref_logp_b=logp_b)
    # at alpha 0.5 a 40-nat gap outweighs the 1.4 quality gap: the more familiar answer wins
    assert [r["chosen"] for r in biased[:5]] == [b[0]] * 5 and [r["chosen"] for r in biased[-5:]] == [a[0]] * 5
