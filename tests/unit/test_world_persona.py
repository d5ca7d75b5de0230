"""parse_persona on the world's own format and on the layouts real chat models produce."""

import numpy as np
import pytest

from collapselab.world import format_persona, parse_persona
from collapselab.world.persona import generate_personas

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
