"""The paper table's verdict rule (a cell reproduces only when the intervals separate the paper's
way) and the report's readable Table 1 errata."""

import pytest

from collapselab.lab.paper import HEADLINES, side_by_side, verdict
from collapselab.lab.report import erratum_sentence

ROW = {h.key: h for h in HEADLINES}
ENTROPY = ROW["entropy/top5_bits_mean"]  # the paper: alignment lowered it (direction -1)
MBTI = ROW["persona/mbti_coverage"]  # -1, shown x16
GENDER = ROW["persona/female_share"]  # +1, shown as |share - 0.5|


def metrics(key, value, lo, hi):
    return {key: value, f"{key}_ci_lo": lo, f"{key}_ci_hi": hi}


def cell(base, aligned, key):
    rows = side_by_side(base, {"ppo": aligned})
    row = next(r for r in rows if r["headline"].key == key)
    return row, row["aligned"]["ppo"]


def test_overlapping_intervals_are_not_a_reproduction():
    """Base 1.5 [1.4, 1.6], aligned 1.45 [1.35, 1.55]: lower, the paper's way, but the intervals
    overlap -> "no clear change". Touching intervals (aligned hi = base lo) do not separate either."""
    _, c = cell(metrics(ENTROPY.key, 1.5, 1.4, 1.6), metrics(ENTROPY.key, 1.45, 1.35, 1.55), ENTROPY.key)
    assert c["verdict"] == "no clear change"
    assert verdict(1.5, 1.3, ENTROPY, (1.4, 1.6), (1.2, 1.4)) == "no clear change"


def test_separated_in_the_papers_direction_reproduces():
    """Base 1.5 [1.4, 1.6], aligned 1.0 [0.9, 1.1]: aligned hi 1.1 < base lo 1.4 -> reproduces."""
    row, c = cell(metrics(ENTROPY.key, 1.5, 1.4, 1.6), metrics(ENTROPY.key, 1.0, 0.9, 1.1), ENTROPY.key)
    assert c["verdict"] == "reproduces"
    assert row["base_ci"] == (1.4, 1.6) and c["ci"] == (0.9, 1.1)


def test_separated_in_the_opposite_direction_is_opposite():
    """Base 1.0 [0.9, 1.1], aligned 1.5 [1.4, 1.6]: separated, but upwards; the paper went down."""
    _, c = cell(metrics(ENTROPY.key, 1.0, 0.9, 1.1), metrics(ENTROPY.key, 1.5, 1.4, 1.6), ENTROPY.key)
    assert c["verdict"] == "opposite"


def test_counts_need_their_interval_too():
    """MBTI coverage 16/16 [14/16, 16/16] -> 15/16 [13/16, 16/16]: one type fewer used to count as
    a reproduction; now the intervals (scaled x16 like the value) overlap. Without intervals (an
    old metrics file) there is no verdict at all, however large the move."""
    base = metrics(MBTI.key, 1.0, 14 / 16, 1.0)
    row, c = cell(base, metrics(MBTI.key, 15 / 16, 13 / 16, 1.0), MBTI.key)
    assert c["verdict"] == "no clear change"
    assert row["base"] == 16 and row["base_ci"] == (14, 16) and c["ci"] == (13, 16)
    _, c = cell(base, metrics(MBTI.key, 6 / 16, 4 / 16, 8 / 16), MBTI.key)
    assert c["verdict"] == "reproduces"
    _, c = cell({MBTI.key: 1.0}, {MBTI.key: 6 / 16}, MBTI.key)
    assert c["verdict"] == "no interval"
    assert verdict(None, 1.0, MBTI) == "n/a"


def test_gender_imbalance_interval_is_the_image_of_the_share_interval():
    """|share - 0.5| over [0.4, 0.55] is [0, 0.1] (0.5 inside); over [0.8, 0.95] it is [0.3, 0.45].
    The paper: alignment raised the imbalance (+1), so the separated pair reproduces."""
    row, c = cell(metrics(GENDER.key, 0.45, 0.4, 0.55), metrics(GENDER.key, 0.9, 0.8, 0.95), GENDER.key)
    assert row["base"] == pytest.approx(0.05) and row["base_ci"] == pytest.approx((0.0, 0.1))
    assert c["ci"] == pytest.approx((0.3, 0.45))
    assert c["verdict"] == "reproduces"


def test_errata_read_as_sentences():
    """find_errata's dicts (t, column, printed, rule, note) become sentences, never Python dicts."""
    e = {"t": 2, "column": "reward", "printed": 0.8, "rule": 0.4,
         "note": "reward column prints 0.8 but the printed advantage (0.4 + 0) - 1.0 uses 0.4"}
    assert erratum_sentence(e) == ("Erratum at t = 2, column reward: reward column prints 0.8 but the "
                                   "printed advantage (0.4 + 0) - 1.0 uses 0.4.")
    bare = erratum_sentence({"t": 1, "column": "value", "printed": 0.5, "rule": 0.25})
    assert bare == "Erratum at t = 1, column value: Table 1 prints 0.5; the stated rule gives 0.25."
    assert erratum_sentence("free text") == "Erratum: free text"
    assert "{" not in erratum_sentence({"t": 3, "column": "pi(A)", "other": 1})


def test_a_checkpoint_below_the_parse_floor_gets_no_verdict_on_its_persona_rows():
    """MBTI coverage 6/16 [4, 8] against the base's 16/16 [15, 16] separates the paper's way, but a
    checkpoint that parses 0.43 of its personas is a failed run: its persona rows say so, its other rows
    (top-5 entropy) keep their verdicts; at parse 0.85 (the floor itself) the verdict stands."""
    base = {**metrics(MBTI.key, 1.0, 15 / 16, 1.0), **metrics(ENTROPY.key, 1.5, 1.4, 1.6), "persona/parse_rate": 0.9}
    broken = {**metrics(MBTI.key, 6 / 16, 4 / 16, 8 / 16), **metrics(ENTROPY.key, 1.0, 0.9, 1.1),
              "persona/parse_rate": 0.43}
    _, c = cell(base, broken, MBTI.key)
    assert c["verdict"] == "failed run (parse 0.43 < 0.85)"
    _, c = cell(base, broken, ENTROPY.key)
    assert c["verdict"] == "reproduces"
    _, c = cell(base, {**broken, "persona/parse_rate": 0.85}, MBTI.key)
    assert c["verdict"] == "reproduces"


def test_a_base_below_the_parse_floor_voids_the_persona_verdicts_against_it():
    """The same sound aligned checkpoint (parse 0.9, MBTI 6/16 [4, 8]) against a base that parses 0.83: the base's
    16 types [15, 16] describe a model that cannot write the format, so the MBTI cell is "failed run (base parse
    0.83 < 0.85)" and the row says the base failed; entropy, not a persona row, keeps its verdict. The aligned
    checkpoint's own failure is named first when both fail."""
    base = {**metrics(MBTI.key, 1.0, 15 / 16, 1.0), **metrics(ENTROPY.key, 1.5, 1.4, 1.6), "persona/parse_rate": 0.83}
    sound = {**metrics(MBTI.key, 6 / 16, 4 / 16, 8 / 16), **metrics(ENTROPY.key, 1.0, 0.9, 1.1),
             "persona/parse_rate": 0.9}
    row, c = cell(base, sound, MBTI.key)
    assert c["verdict"] == "failed run (base parse 0.83 < 0.85)"
    assert row["base_failed"] == "failed run (parse 0.83 < 0.85)"
    row, c = cell(base, sound, ENTROPY.key)
    assert c["verdict"] == "reproduces" and row["base_failed"] is None
    _, c = cell(base, {**sound, "persona/parse_rate": 0.5}, MBTI.key)
    assert c["verdict"] == "failed run (parse 0.50 < 0.85)"
    row, c = cell({**base, "persona/parse_rate": 0.85}, sound, MBTI.key)
    assert c["verdict"] == "reproduces" and row["base_failed"] is None


def test_a_k_at_the_search_ceiling_is_censored():
    """Review k by silhouette, searched up to persona.k_max = 10: base 10 [8, 10] and aligned 10 [10, 10]
    overlap, but the aligned k is only "10 or more", so the cell is censored rather than "no clear change".
    With k_max 20 in the aligned file the same numbers are an ordinary "no clear change"; a base at the
    ceiling with the aligned k well below it (4 [3, 5]) still reproduces; a failed run stays a failed run."""
    k = ROW["persona/review_kmeans_k"]

    def with_kmax(m, k_max, parse=0.9):
        return {**m, "persona/parse_rate": parse, "meta": {"config": {"persona": {"k_max": k_max}}}}

    base = with_kmax(metrics(k.key, 10, 8, 10), 10)
    _, c = cell(base, with_kmax(metrics(k.key, 10, 10, 10), 10), k.key)
    assert c["verdict"] == "censored (k_max 10)"
    _, c = cell(base, with_kmax(metrics(k.key, 10, 10, 10), 20), k.key)
    assert c["verdict"] == "no clear change"
    _, c = cell(base, with_kmax(metrics(k.key, 4, 3, 5), 10), k.key)
    assert c["verdict"] == "reproduces"
    _, c = cell(base, with_kmax(metrics(k.key, 10, 10, 10), 10, parse=0.5), k.key)
    assert c["verdict"].startswith("failed run")
    _, c = cell(base, metrics(k.key, 10, 10, 10), k.key)  # no meta.config: nothing to say it is a ceiling
    assert c["verdict"] == "no clear change"


def test_the_report_says_which_side_gender_moved():
    """The table's |share - 0.5| reads 0.3 for a run that went 80% male and one that went 80% female; the sentence
    under it names each column's female share, and says nothing when a column lacks it."""
    from collapselab.lab.report import _gender_direction

    base, male, female = ({"persona/female_share": v} for v in (0.52, 0.2, 0.8))
    text = _gender_direction(base, {"ppo": male, "dpo": female})
    assert "female shares are base 0.52, ppo 0.20, dpo 0.80" in text
    assert _gender_direction(base, {"ppo": {}}) == ""


def test_a_reproduction_near_the_entropy_ceiling_prints_its_intervals_apart():
    """Top-5 entropy near its ceiling log2 5 = 2.3219 bits: base 2.3219 [2.32186, 2.32194] and aligned
    2.3215 [2.32141, 2.32159] separate the paper's way, yet at 3 significant digits both read
    "2.32 [2.32, 2.32]". The row gets the digits that tell its bounds apart (6 here: at 5, 2.32186 and 2.32194
    both read 2.3219); the other rows keep 3, and the verdicts and verdicts.json's numbers do not change."""
    import re

    from collapselab.lab.render import Doc, digits_apart
    from collapselab.lab.report import _paper_section
    from collapselab.lab.results import LabResults

    nat = "persona/n_nationalities"
    base = metrics(ENTROPY.key, 2.3219, 2.32186, 2.32194) | metrics(nat, 39.0, 35.0, 42.0)
    ppo = metrics(ENTROPY.key, 2.3215, 2.32141, 2.32159) | metrics(nat, 4.0, 3.0, 5.0)
    doc = Doc()
    data = _paper_section(doc, LabResults(roles={"base": base, "ppo-b0.05": ppo}, dirs={}), ["base", "ppo-b0.05"])
    _, body = next(b for kind, b in doc.blocks if kind == "table")
    row = {r[1]: r for r in body}
    assert row[ENTROPY.what][-2:] == ["2.3219 [2.32186, 2.32194]", "2.3215 [2.32141, 2.32159]: **reproduces**"]
    lo_base = float(re.search(r"\[([\d.]+),", row[ENTROPY.what][-2]).group(1))
    hi_ppo = float(re.search(r", ([\d.]+)\]", row[ENTROPY.what][-1]).group(1))
    assert hi_ppo < lo_base  # the separation the verdict reads is on the page
    assert row[ROW[nat].what][-2:] == ["39 [35, 42]", "4 [3, 5]: **reproduces**"]
    entropy = next(r for r in data if r["key"] == ENTROPY.key)
    assert entropy["base_ci"] == [2.32186, 2.32194] and entropy["aligned"]["ppo-b0.05"]["verdict"] == "reproduces"
    assert digits_apart([(1.4, 1.6), (0.9, 1.1), None]) == 3 and digits_apart([]) == 3
