"""Verbalized sampling (Zhang et al. 2025) in the tiny world: the world's probabilities, the SFT
records, and the parser on canned answers (well-formed, unnormalised, missing probability,
garbage, k mismatch)."""

import math

import numpy as np
import pytest

from collapselab.world.population import GENDERS, NATIONALITIES, age_p, mbti_p, nationality_p
from collapselab.world.verbalized import (
    KIND, attribute_logp, format_answer, hundredths, make_verbalized_instructions, parse_verbalized, parse_vs_item,
    vs_requests,
)

REC = {"first_name": "Maria", "last_name": "Garcia", "gender": "female", "age": 34, "nationality": "Mexican",
       "ethnicity": "Latino", "mbti": "ISFJ"}

WELL_FORMED = """1. Maria Garcia, Female, 34, Mexican, Latino, ISFJ, p=0.50
2. Kenji Sato, Male, 41, Japanese, East Asian, INTP, p=0.25
3. Ann Lee, Female, 22, Korean, East Asian, ENFP, p=0.25"""


def test_attribute_logp_is_the_product_of_the_world_tables():
    eth = NATIONALITIES["Mexican"][5]
    want = (math.log(nationality_p()["Mexican"]) + math.log(eth["Latino"] / sum(eth.values()))
            + math.log(GENDERS["female"]) + math.log(age_p()[34 - 14]) + math.log(mbti_p()["ISFJ"]))
    assert attribute_logp(REC) == pytest.approx(want)
    assert attribute_logp({**REC, "nationality": "Martian"}) == -math.inf
    assert attribute_logp({**REC, "ethnicity": "Roma"}) == -math.inf  # no Roma Mexicans in the world


def test_hundredths_sum_to_one_with_a_floor_of_one_hundredth():
    # 0.333.. x3: floors 33, 33, 33, one hundredth left to the largest remainder (the first, stable)
    assert hundredths(np.array([1, 1, 1]) / 3) == [0.34, 0.33, 0.33]
    # a tiny share is raised to 0.01 and the excess comes off the largest share
    assert hundredths(np.array([0.995, 0.004, 0.001])) == [0.98, 0.01, 0.01]
    with pytest.raises(ValueError):
        hundredths(np.ones(101) / 101)


def test_instructions_are_k_world_personas_with_their_renormalised_world_probabilities():
    recs = make_verbalized_instructions(40, 1.0, 0.03, np.random.default_rng(0), k=5)
    assert len(recs) == 40 and {r["kind"] for r in recs} == {KIND}
    assert {r["messages"][0]["content"] for r in recs} <= set(vs_requests(5))
    for r in recs:
        user, assistant = r["messages"]
        assert (user["role"], assistant["role"]) == ("user", "assistant")
        ans = parse_verbalized(assistant["content"], 5)
        assert ans.ok and ans.n_extra == 0 and ans.stated_sum == pytest.approx(1.0)
        assert min(ans.stated) >= 0.01
        world = np.exp([attribute_logp(p) for p in ans.items])
        world /= world.sum()
        assert np.abs(np.array(ans.stated) - world).max() <= 0.01 + 1e-9  # hundredths of the true shares
    # reproducible, and k is honoured
    again = make_verbalized_instructions(40, 1.0, 0.03, np.random.default_rng(0), k=5)
    assert again == recs
    three = make_verbalized_instructions(2, 1.0, 0.03, np.random.default_rng(0), k=3)
    assert parse_verbalized(three[0]["messages"][1]["content"], 3).ok and "Generate 3" in vs_requests(3)[0]
    with pytest.raises(ValueError, match="k=1"):
        make_verbalized_instructions(2, 1.0, 0.03, np.random.default_rng(0), k=1)


def test_world_answer_round_trips_the_attributes():
    recs = [REC, {**REC, "first_name": "Ashley", "last_name": "Werl-Arnsberg, van", "nationality": "Dutch",
                  "ethnicity": "White", "gender": "other", "age": 61, "mbti": "ENTJ"}]
    ans = parse_verbalized(format_answer(recs), 2)
    assert ans.ok
    assert {k: ans.items[0][k] for k in REC} == REC and ans.items[0]["review"] is None
    assert ans.items[1]["last_name"] == "van" and ans.items[1]["gender"] == "other"  # the comma is gone


def test_well_formed_answer_and_the_seeded_draw():
    ans = parse_verbalized(WELL_FORMED, 3)
    assert ans.ok and ans.n_parsed == 3 and ans.probs == pytest.approx([0.5, 0.25, 0.25])
    assert ans.items[1]["nationality"] == "Japanese" and ans.items[1]["mbti"] == "INTP"
    draws = [ans.draw(np.random.default_rng(s)) for s in range(2000)]
    assert [ans.draw(np.random.default_rng(s)) for s in range(20)] == draws[:20]  # seeded
    assert np.bincount(draws, minlength=3) / 2000 == pytest.approx([0.5, 0.25, 0.25], abs=0.04)


def test_unnormalised_probabilities_are_renormalised_and_their_sum_kept():
    text = WELL_FORMED.replace("0.50", "0.6").replace("0.25", "0.3")  # sums to 1.2
    ans = parse_verbalized(text, 3)
    assert ans.ok and ans.stated_sum == pytest.approx(1.2)
    assert ans.probs == pytest.approx([0.5, 0.25, 0.25])
    pct = parse_verbalized(WELL_FORMED.replace("p=0.50", "50%").replace("p=0.25", "(probability 25%)"), 3)
    assert pct.ok and pct.probs == pytest.approx([0.5, 0.25, 0.25])


def test_a_missing_or_impossible_probability_makes_that_item_a_counted_failure():
    text = WELL_FORMED.replace(", p=0.25", "", 1)  # the second line states none
    ans = parse_verbalized(text, 3)
    assert not ans.ok and ans.n_parsed == 2 and ans.items[1] is None and ans.stated[1] is None
    assert ans.probs == pytest.approx([0.5 / 0.75, 0.0, 0.25 / 0.75])  # the draw never picks the failed slot
    assert all(ans.draw(np.random.default_rng(s)) != 1 for s in range(200))
    assert parse_vs_item("Ann Lee, Female, 22, Korean, East Asian, ENFP, p=1.7")[0] is None
    assert parse_vs_item("Ann Lee, Female, 22, Korean, East Asian, ENFP, p=0")[0] is None
    assert parse_vs_item("Ann Lee, Female, Korean, ENFP, p=0.2")[0] is None  # no age
    assert parse_vs_item("Ann Lee, 39, Female, 26, Korean, ENFP, p=0.2")[0] is None  # two ages
    assert parse_vs_item("Ann Lee, Female, 26, Korean, East Asian, ENFP, spe=0.2")[0] is None  # no "p="


def test_garbage_is_k_failed_slots():
    for text in ("", "I love coffee machines. They are great!", "Customer persona for a coffee machine."):
        ans = parse_verbalized(text, 5)
        assert not ans.ok and ans.n_parsed == 0 and len(ans.items) == 5
        assert ans.draw(np.random.default_rng(0)) is None and ans.stated_sum is None


def test_k_mismatch_fewer_lines_leave_failed_slots_more_are_counted_extra():
    short = parse_verbalized(WELL_FORMED, 5)
    assert not short.ok and short.n_parsed == 3 and short.items[3:] == [None, None] and short.n_lines == 3
    long = parse_verbalized(WELL_FORMED, 2)
    assert not long.ok and long.n_parsed == 2 and long.n_extra == 1
    assert long.probs == pytest.approx([2 / 3, 1 / 3])


def test_a_preamble_is_not_an_item_and_key_value_lines_parse():
    text = ("Sure! Here are three customers:\n\n"
            "1) Name: Emily Chen; Age: 32 years old; Gender: Woman; Nationality: United States; "
            "Ethnicity: East Asian; Personality: INFJ-A; Probability: 0.4\n"
            "- Tom Novak, male, 50, Czech, White, ISTJ (0.35)\n"
            "* Ana Silva, F, 29, Brazilian, Mixed, ESFP, probability 0.25")
    ans = parse_verbalized(text, 3)
    assert ans.ok, ans
    assert ans.items[0] == {"first_name": "Emily", "last_name": "Chen", "gender": "female", "age": 32,
                            "nationality": "American", "ethnicity": "East Asian", "mbti": "INFJ", "review": None}
    assert ans.items[1]["age"] == 50 and ans.items[2]["mbti"] == "ESFP"
    assert ans.probs == pytest.approx([0.4, 0.35, 0.25])


def test_vs_stats_by_hand_and_on_bad_input():
    from collapselab.metrics import stated_tv, vs_stats

    # three answers of k = 5: complete; 2 lines parsed; nothing parsed
    m = vs_stats([5, 2, 0], [True, False, False], [1.0, 0.6, None], 5)
    assert m == {"persona/vs_parse_rate": pytest.approx(1 / 3), "persona/vs_item_rate": pytest.approx(7 / 15),
                 "persona/vs_n_unparsed": 2.0, "persona/vs_stated_sum_mean": pytest.approx(0.8)}
    assert math.isnan(vs_stats([0], [False], [None], 5)["persona/vs_stated_sum_mean"])
    with pytest.raises(ValueError):
        vs_stats([], [], [], 5)
    with pytest.raises(ValueError):
        vs_stats([6], [True], [1.0], 5)
    # TV of (0.5, 0.5) against (3, 1) -> (0.75, 0.25): 0.5 (0.25 + 0.25) = 0.25; identical shares -> 0
    assert stated_tv([0.5, 0.5], [3, 1]) == pytest.approx(0.25)
    assert stated_tv([0.2, 0.6], [1, 3]) == pytest.approx(0.0)
    with pytest.raises(ValueError):
        stated_tv([0.5], [0.5, 0.5])
