"""parse_persona on the world's own format and on the layouts real chat models produce; the
distributions the customers are drawn from (MBTI types, ages, names, nationalities)."""

import math
from collections import Counter

import numpy as np
import pytest

from collapselab.world import format_persona, parse_persona
from collapselab.world.persona import generate_personas
from collapselab.world.population import (
    AGES, MBTI_LETTERS, MBTI_PERCENT, MBTI_TYPES, _pool, age_p, draw_ages, draw_mbti, draw_name, mbti_letter_p, mbti_p,
    nationality_p,
)

LLAMA_STYLE = """Sure! Here is a customer persona for the smart coffee machine:

**Name:** Emily Chen
**Age:** 32 years old
**Gender:** Female
**Nationality:** United States
**Ethnicity:** Asian American
**Personality type:** INFJ (Advocate)

**Review:**
"As a busy professional, I love this coffee machine! It keeps my coffee warm while I'm in meetings.

Highly recommend!"
"""


def test_world_format_round_trips_without_and_with_header():
    recs = generate_personas(200, 1.0, 0.05, np.random.default_rng(2), sentiment=False)
    for r in recs:
        for header in (True, False):
            p = parse_persona(format_persona(r, header=header))
            assert p == {k: r[k] for k in p}, format_persona(r)


def test_llama_style_markdown_output():
    p = parse_persona(LLAMA_STYLE)
    assert p["first_name"] == "Emily" and p["last_name"] == "Chen"
    assert p["age"] == 32 and p["gender"] == "female" and p["mbti"] == "INFJ"
    assert p["nationality"] == "American" and p["ethnicity"] == "Asian American"
    assert p["review"].startswith("As a busy professional") and p["review"].endswith("Highly recommend!")


@pytest.mark.parametrize("text, key, expected", [
    ("Name: Dr. Raj Patel\nAge: 45\nReview: Fine.", "first_name", "Raj"),
    ("Name: Raj Patel\nAge: 45\nReview: Fine.", "last_name", "Patel"),
    ("- First Name: Ana\n- Surname: Silva\n- Age: forty (40)\n- Review: ok", "age", 40),
    ("1. Full name: Li Wei\n2. Sex: M\n3. Age: 28\n4. Review: Good.", "gender", "male"),
    ("Name: Sam Lee\nGender: Non-binary\nAge: 19\nReview: Cool.", "gender", "other"),
    ("Name: Sam Lee\nAge: 19\nMBTI: enfp-t\nReview: Cool.", "mbti", "ENFP"),
    ("Name: Sam Lee\nAge: 19\nPersonality: outgoing and kind\nReview: Cool.", "mbti", None),
    ("Name: Sam Lee\nAge: 19\nCountry: UK\nReview: Cool.", "nationality", "British"),
    ("__Name__: Sam Lee\n__Age__: 19\nProduct Review: Pros: warm coffee. Cons: app.", "review", "Pros: warm coffee. Cons: app."),
])
def test_lenient_fields(text, key, expected):
    assert parse_persona(text)[key] == expected


@pytest.mark.parametrize("text", [
    "Age: 30\nReview: Great machine.",  # no name
    "Name: Ana Silva\nReview: Great machine.",  # no age
    "Name: Ana Silva\nAge: 30\nGender: Female",  # no review
    "Grace Hopper was an American computer scientist.",
    "",
])
def test_missing_core_fields_give_none(text):
    assert parse_persona(text) is None


def test_a_run_on_second_persona_is_not_part_of_the_first():
    rec = {"first_name": "Ana", "last_name": "Silva", "gender": "female", "age": 34, "nationality": "Brazilian",
           "ethnicity": "Mixed", "mbti": "ENFP", "review": "Great machine."}
    other = {**rec, "first_name": "Bo", "review": "Awful."}
    p = parse_persona(format_persona(rec) + "\n" + format_persona(other))
    assert p["first_name"] == "Ana" and p["review"] == "Great machine."
    p = parse_persona(format_persona(rec, header=False) + "\nName: Bo Li\nAge: 20\nReview: Awful.")
    assert p["review"] == "Great machine."


# ------------------------------------------------------------------ who the customers are
def _within(hits: int, n: int, p: float, sd: float = 4.0) -> bool:
    return abs(hits / n - p) <= sd * math.sqrt(p * (1 - p) / n)


def test_mbti_types_follow_the_published_table():
    """20000 draws: every type's share is within 4 standard errors of the Myers & Briggs Foundation /
    CAPT national-sample percentage (renormalised: the published table sums to 100.3)."""
    assert sum(MBTI_PERCENT.values()) == pytest.approx(100.3) and set(MBTI_PERCENT) == set(MBTI_TYPES)
    p = mbti_p()
    assert sum(p.values()) == pytest.approx(1.0) and p["ISFJ"] == pytest.approx(13.8 / 100.3)
    n = 20000
    counts = Counter(draw_mbti(n, np.random.default_rng(0)))
    for t in MBTI_TYPES:
        assert _within(counts[t], n, p[t]), (t, counts[t] / n, p[t])
    assert counts.most_common(1)[0][0] == "ISFJ" and min(counts, key=counts.get) == "INFJ"


def test_mbti_letters_are_not_independent():
    """The old sampler drew four independent letters (all 16 types between 5% and 8%); now one categorical
    over types, so P(ISFJ) is not the product of its letters' marginals, and E/I is close to even."""
    p, m = mbti_p(), mbti_letter_p()
    assert p["ISFJ"] / (m["I"] * m["S"] * m["F"] * m["J"]) > 1.1
    assert m["E"] == pytest.approx(0.4925, abs=1e-3) and m["S"] == pytest.approx(0.7318, abs=1e-3)
    assert MBTI_LETTERS == {a: m[a] for a in "ESTJ"}
    assert max(p.values()) / min(p.values()) > 9  # a clear mode to collapse onto


def test_ages_are_right_skewed_with_a_mode_in_the_thirties():
    """The old ages were 80% normal(34, 12) + 20% uniform; now 14 + Gamma(3, 9): mode 32, a long right tail."""
    p = age_p()
    assert sum(p) == pytest.approx(1.0) and 30 <= AGES[np.argmax(p)] <= 35
    ages = draw_ages(20000, np.random.default_rng(1))
    mode = Counter(ages.tolist()).most_common(1)[0][0]
    assert 28 <= mode <= 37 and ages.mean() > np.median(ages) > mode  # right-skewed
    assert ages.min() < 20 and ages.max() > 80 and 0.05 < (ages >= 60).mean() < 0.2
    assert _within(int((ages >= 60).sum()), 20000, float(p[AGES >= 60].sum()))


def test_first_names_are_drawn_with_fakers_weights():
    """en_US female first names carry frequency weights in Faker: the heaviest one comes up as often as its weight."""
    names, cdf = _pool("en_US", "female", "latin")
    w = np.diff(np.concatenate([[0.0], cdf]))
    assert w.max() / w.min() > 10  # not a uniform list
    top = names[int(np.argmax(w))]
    rng = np.random.default_rng(2)
    hits = sum(draw_name("en_US", "latin", "female", rng)[0] == top for _ in range(20000))
    assert _within(hits, 20000, float(w.max()))


def test_nationalities_are_skewed():
    p = nationality_p()
    assert max(p, key=p.get) == "American" and max(p.values()) / min(p.values()) >= 10


def test_attribute_lines_are_the_persona_before_its_review():
    from collapselab.world.persona import attribute_lines

    persona = "First name: Ada\nAge: 32\nNationality: American\nReview: Great. Five stars.\nMore review."
    assert attribute_lines(persona) == "First name: Ada\nAge: 32\nNationality: American"
    assert attribute_lines("Name: Bo\nage: 40\nreview : fine") == "Name: Bo\nage: 40"  # any case and spacing
    assert attribute_lines("Review: only a review.") == ""
    assert attribute_lines("Grace Hopper was a computer scientist.") == "Grace Hopper was a computer scientist."
    assert attribute_lines("First name: Ada\nAge: 32") == "First name: Ada\nAge: 32"  # cut before the review


def test_reference_logprobs_with_fields_scores_only_the_attribute_lines():
    from types import SimpleNamespace

    from collapselab.align.pairs import reference_logprobs

    class CharLM:  # log pi_ref = -(characters of the continuation), so what is scored shows in the value
        def continuation_logprobs(self, prompts, continuations):
            self.seen = list(continuations)
            return [-float(len(c)) for c in continuations], [len(c) for c in continuations]

    persona, bio = "Age: 32\nReview: Great.", "Grace Hopper was."
    lm = CharLM()
    cfg = lambda reduce: SimpleNamespace(annotator=SimpleNamespace(typicality_reduce=reduce))  # noqa: E731
    assert reference_logprobs(cfg("fields"), ["q", "q"], [persona, bio], lm) == [-7.0, -17.0]
    assert lm.seen == ["Age: 32", bio]
    assert reference_logprobs(cfg("sum"), ["q", "q"], [persona, bio], lm) == [-22.0, -17.0]
    assert reference_logprobs(cfg("mean"), ["q"], [persona], lm) == [-1.0]


def test_canonical_attributes_are_the_same_text_for_the_same_values():
    from collapselab.world.persona import canonical_attributes

    want = ("First name: Ada\nLast name: Lovelace\nGender: Female\nAge: 32\nNationality: American\n"
            "Ethnicity:\nPersonality: INFJ")
    messy = "**Name:** Dr. Ada Lovelace\n- Age: 32 years old\nSex: F\nCountry: USA\nPersonality: INFJ (Advocate)\nReview: ok"
    long_review = ("First name: Ada\nLast name: Lovelace\nGender: female\nAge: 32\nNationality: American\n"
                   "MBTI: infj\nReview: " + "Great machine. " * 30)
    assert canonical_attributes(messy) == canonical_attributes(long_review) == want
    # a persona the parser rejects (no age, no review) still gets its lines, the missing values blank
    assert canonical_attributes("First name: Bo") == ("First name: Bo\nLast name:\nGender:\nAge:\nNationality:\n"
                                                      "Ethnicity:\nPersonality:")
    assert canonical_attributes("Grace Hopper was.").count(":") == 7  # nothing read: seven blank values


def test_reference_logprobs_with_attributes_scores_the_canonical_lines_of_personas_only():
    from types import SimpleNamespace

    from collapselab.align.pairs import reference_logprobs
    from collapselab.world.persona import canonical_attributes

    class CharLM:  # log pi_ref = -(characters of the continuation)
        def continuation_logprobs(self, prompts, continuations):
            self.seen = list(continuations)
            return [-float(len(c)) for c in continuations], [len(c) for c in continuations]

    short = "First name: Ada\nAge: 32\nReview: Great."
    long = "First name: Ada\nAge: 32\nReview: " + "Great. " * 40
    bio = "Grace Hopper was."
    lm = CharLM()
    cfg = SimpleNamespace(annotator=SimpleNamespace(typicality_reduce="attributes"))
    got = reference_logprobs(cfg, ["Create a customer persona.", "Create a customer persona.", "Write about Grace Hopper."],
                             [short, long, bio], lm)
    assert lm.seen == [canonical_attributes(short), canonical_attributes(short), bio]  # the persona prompt decides
    assert got[0] == got[1] == -float(len(canonical_attributes(short)))  # no lean to a short review
    assert got[2] == -17.0


def test_attributes_mean_scores_other_answers_per_token_at_the_worlds_length():
    """``attributes_mean``: a persona as ``attributes`` (its canonical lines, summed); a story or bio per token,
    times ANSWER_TOKENS = 64. With log pi_ref = -(characters) and one token per character, the 17-character bio
    scores -17 / 17 * 64 = -64, and twice the bio the same -64: a shorter answer is no longer more typical."""
    from types import SimpleNamespace

    from collapselab.align.pairs import reference_logprobs
    from collapselab.typicality import ANSWER_TOKENS, scored
    from collapselab.world.persona import canonical_attributes

    class CharLM:
        def continuation_logprobs(self, prompts, continuations):
            return [-float(len(c)) for c in continuations], [len(c) for c in continuations]

    persona = "First name: Ada\nAge: 32\nReview: Great."
    bio = "Grace Hopper was."
    cfg = SimpleNamespace(annotator=SimpleNamespace(typicality_reduce="attributes_mean"))
    got = reference_logprobs(cfg, ["Create a customer persona.", "Write about Grace Hopper.",
                                   "Write about Grace Hopper.", "Write about Grace Hopper."],
                             [persona, bio, bio + " " + bio, ""], CharLM())
    assert ANSWER_TOKENS == 64
    assert got == [-float(len(canonical_attributes(persona))), -64.0, -64.0, 0.0]  # empty: no typicality
    q = "Write about Grace Hopper."
    assert scored("sum", q, bio).value(-17.0, 17) == -17.0
    assert scored("mean", q, bio).value(-17.0, 17) == -1.0
    assert scored("attributes", q, bio).value(-17.0, 17) == -17.0  # not a persona: the whole bio, summed
    assert scored("attributes_mean", q, "").value(0.0, 0) is None
    # a persona under the persona rules: its canonical attribute lines, summed whatever the reduce says of stories
    assert scored("attributes_mean", "Create a customer persona.", persona).text == canonical_attributes(persona)
    assert scored("attributes_mean", "Create a customer persona.", persona).value(-30.0, 15) == -30.0
