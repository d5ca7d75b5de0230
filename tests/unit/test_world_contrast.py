"""Contrastive persona requests (world.contrast): tempering by hand, determinism, the unusual answers'
higher true surprisal, and the surprisal of a persona worked out from the world's tables."""

import math

import numpy as np
import pytest

from collapselab.world.contrast import (
    FLOOR_P, ORDINARY_REQUESTS, UNUSUAL_REQUESTS, make_contrast_instructions, persona_surprisal,
    persona_surprisal_parts, temper,
)
from collapselab.world.persona import parse_persona


def test_temper_by_hand():
    """p = (0.5, 0.25, 0.25): t = 1/2 squares it, (0.25, 0.0625, 0.0625) / 0.375 = (2/3, 1/6, 1/6);
    t = 1 keeps it; t -> large flattens towards uniform; a zero stays zero."""
    assert temper([0.5, 0.25, 0.25], 0.5).tolist() == pytest.approx([2 / 3, 1 / 6, 1 / 6])
    assert temper([0.5, 0.25, 0.25], 1.0).tolist() == pytest.approx([0.5, 0.25, 0.25])
    assert temper([0.5, 0.25, 0.25], 1e6).tolist() == pytest.approx([1 / 3] * 3, abs=1e-5)
    assert temper([0.6, 0.0, 0.4], 3.0)[1] == 0.0


def test_contrast_records_are_deterministic_and_alternate():
    a = make_contrast_instructions(10, 0.5, 0.02, np.random.default_rng(5))
    b = make_contrast_instructions(10, 0.5, 0.02, np.random.default_rng(5))
    c = make_contrast_instructions(10, 0.5, 0.02, np.random.default_rng(6))
    assert a == b and a != c
    assert [r["kind"] for r in a[:4]] == ["persona-unusual", "persona-ordinary"] * 2
    for r in a:
        user, assistant = r["messages"]
        assert user["role"] == "user" and assistant["role"] == "assistant"
        assert user["content"] in (UNUSUAL_REQUESTS if r["kind"] == "persona-unusual" else ORDINARY_REQUESTS)
        assert parse_persona(assistant["content"]) is not None  # the answer reads as a persona


def test_unusual_answers_are_more_surprising_than_ordinary_ones():
    """Over 200 records (100 a side) the unusual answers' mean true surprisal exceeds the ordinary ones'
    by several nats (about 22 vs 16 with names, 11 vs 7 without, at seed 0); each field moves the same way."""
    recs = make_contrast_instructions(200, 0.5, 0.02, np.random.default_rng(0))
    by_kind = {"persona-unusual": [], "persona-ordinary": []}
    for r in recs:
        by_kind[r["kind"]].append(parse_persona(r["messages"][1]["content"]))
    mean = {k: np.mean([persona_surprisal(p) for p in v]) for k, v in by_kind.items()}
    assert mean["persona-unusual"] > mean["persona-ordinary"] + 3
    for part in ("nationality", "mbti", "age_band", "gender"):
        u = np.mean([persona_surprisal_parts(p)[part] for p in by_kind["persona-unusual"]])
        o = np.mean([persona_surprisal_parts(p)[part] for p in by_kind["persona-ordinary"]])
        assert u > o, part


def test_surprisal_by_hand():
    """An American (weight 14 of 121.5), White (0.60 given American), female (0.49), 30 years old (band
    25-34, P = 0.291513 under the age gamma), ISFJ (13.8 of 100.3): without names the surprisal is
    -ln(14/121.5) - ln(0.6) - ln(0.49) - ln(0.291513) - ln(13.8/100.3)
    = 2.160857 + 0.510826 + 0.713350 + 1.232670 + 1.983497 = 6.601200 nats. An invented nationality
    costs -ln(FLOOR_P) = 9.210340 instead and leaves no ethnicity table (the floor again); a missing MBTI
    makes it undefined (nan), never 0."""
    p = {"first_name": "Mary", "last_name": "Smith", "gender": "female", "age": 30, "nationality": "American",
         "ethnicity": "White", "mbti": "ISFJ", "review": "ok"}
    assert persona_surprisal(p, names=False) == pytest.approx(6.601200, abs=1e-5)
    parts = persona_surprisal_parts(p)
    assert parts["first_name"] < -math.log(FLOOR_P) and parts["last_name"] < -math.log(FLOOR_P)  # real US names
    odd = persona_surprisal_parts({**p, "nationality": "Martian"}, names=False)
    assert odd["nationality"] == pytest.approx(-math.log(FLOOR_P)) and odd["ethnicity"] == pytest.approx(9.210340)
    assert math.isnan(persona_surprisal({**p, "mbti": None}))
    rare = persona_surprisal({**p, "first_name": "Zzyzx"})
    assert rare > persona_surprisal(p)
