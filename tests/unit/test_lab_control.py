"""The report's typicality control: what the preference labels teach about the attributes the
annotator's quality score ignores (``lab.control.typical_picks``), on pairs worked out by hand."""

import json
from pathlib import Path

from collapselab.lab.control import labels_table, typical_picks
from collapselab.lab.render import Doc
from collapselab.lab.results import LabRun
from collapselab.typicality import read_pairs
from collapselab.world.persona import format_persona

PERSONA = "Write a customer persona for a coffee machine, with a review."
BIO = "Tell me about Grace Hopper."


def persona(nationality: str, mbti: str, age: int) -> str:
    return format_persona({"first_name": "Ada", "last_name": "Byrne", "gender": "female", "age": age,
                           "nationality": nationality, "ethnicity": "White", "mbti": mbti,
                           "review": "It keeps my coffee warm. Four stars."}, header=False)


# world frequencies (world/population.py): American 14 vs Finnish 1 (weights), ISFJ 13.8% vs INFJ 1.5%,
# age 32 (the mode of the age distribution) vs 80
COMMON, RARE = persona("American", "ISFJ", 32), persona("Finnish", "INFJ", 80)
ROWS = [
    {"prompt": PERSONA, "chosen": COMMON, "rejected": RARE},  # all three: the common value chosen
    {"prompt": PERSONA, "chosen": RARE, "rejected": COMMON},  # all three: the rare one
    {"prompt": PERSONA, "chosen": COMMON, "rejected": COMMON},  # nothing differs: not counted
    {"prompt": BIO, "chosen": "Grace Hopper was a computer scientist.", "rejected": "Grace Hopper was."},  # no persona
    {"prompt": PERSONA, "chosen": COMMON, "rejected": "Name:"},  # the rejected answer does not parse
    # chat turns (trl's conversational format): nationality common, MBTI rare, the same age
    {"prompt": [{"role": "user", "content": PERSONA}],
     "chosen": [{"role": "assistant", "content": persona("American", "INFJ", 40)}],
     "rejected": [{"role": "assistant", "content": persona("Finnish", "ISFJ", 40)}]},
]


def pairs(tmp_path: Path, rows: list[dict]) -> list[dict]:
    """``rows`` as the report reads a pairs file (chat turns turned into text)."""
    f = tmp_path / "pairs.jsonl"
    f.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return read_pairs(f)


def test_typical_picks_counts_the_pairs_whose_chosen_answer_has_the_more_common_value(tmp_path):
    # nationality: rows 1, 2, 6 differ, chosen common in 1 and 6; MBTI: rows 1, 2, 6, common in 1 only;
    # age: rows 1 and 2 differ (row 6 has 40 twice), common in row 1
    assert typical_picks(pairs(tmp_path, ROWS)) == {"nationality": (2, 3), "mbti": (1, 3), "age": (1, 2)}


def test_typical_picks_skips_values_the_world_does_not_know(tmp_path):
    rows = [{"prompt": PERSONA, "chosen": persona("Martian", "ISFJ", 32), "rejected": persona("American", "INFJ", 32)}]
    assert typical_picks(pairs(tmp_path, rows * 2)) == {"nationality": (0, 0), "mbti": (2, 2), "age": (0, 0)}


def test_typical_picks_counts_no_tie_and_reads_values_in_any_case(tmp_path):
    # Spanish and Italian have the same world weight (4): a tie, not counted, though the values differ;
    # "AMERICAN" is American (weight 14) against "finnish" (1), and "isfj" is ISFJ
    rows = [{"prompt": PERSONA, "chosen": persona("Spanish", "ISFJ", 32), "rejected": persona("Italian", "ISFJ", 32)},
            {"prompt": PERSONA, "chosen": persona("AMERICAN", "isfj", 32), "rejected": persona("finnish", "INFJ", 32)}]
    assert typical_picks(pairs(tmp_path, rows)) == {"nationality": (1, 1), "mbti": (1, 1), "age": (0, 0)}


def _run(tmp_path: Path, own: list[dict] | None, control: list[dict] | None) -> LabRun:
    def write(name: str, rows: list[dict] | None) -> Path:
        folder = tmp_path / name
        folder.mkdir()
        if rows is not None:
            (folder / "pairs.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
        return folder

    return LabRun(base=tmp_path, sft=tmp_path, reward=tmp_path, runs={}, eval_final=tmp_path, eval_steps=tmp_path,
                  start_scores=tmp_path, typicality=0.05, pairs=write("own", own), pairs_control=write("ctl", control))


def test_the_labels_table_shows_each_share_with_its_wilson_interval(tmp_path):
    doc = Doc()
    labels_table(doc, _run(tmp_path, ROWS, ROWS[1:3]))  # row 3: nothing differs
    (kind, (header, rows)), = [b for b in doc.blocks if b[0] == "table"]
    assert header == ["attribute", "pairs labelled with alpha 0.05", "control pairs (alpha 0)"]
    # 2 of 3: Wilson 95% interval [0.208, 0.939]; 0 of 1: [0, 0.793]
    assert rows[0] == ["nationality", "0.667 [0.208, 0.939] (2 of 3)", "0 [0, 0.793] (0 of 1)"]
    assert [r[0] for r in rows] == ["nationality", "MBTI type", "age"]


def test_no_labels_table_without_both_pair_files_and_the_report_says_which(tmp_path):
    doc = Doc()
    labels_table(doc, _run(tmp_path, ROWS, None))
    assert [b[0] for b in doc.blocks] == ["p"]
    assert "not shown, no pairs file at" in doc.blocks[0][1] and str(tmp_path / "ctl" / "pairs.jsonl") in doc.blocks[0][1]


def test_the_mechanism_table_compares_control_and_aligned_with_the_base_too(tmp_path):
    """The lab's numbers of 2026-12-04 (MBTI coverage, nationalities; base 16 [14, 16] and 39 [35, 42], PPO at
    alpha 0.2 10 [9, 11] and 9 [7, 11], its control 13 [11, 14] and 43 [39, 47]): against an SFT that parses
    0.805 every comparison is void, against the base the control stays inside and the aligned run falls."""
    from collapselab.lab.control import control_section
    from collapselab.lab.results import AlignedRun, LabResults

    def m(parse, mbti, nat):
        return {"persona/parse_rate": parse, "persona/mbti_coverage": mbti[0] / 16,
                "persona/mbti_coverage_ci_lo": mbti[1] / 16, "persona/mbti_coverage_ci_hi": mbti[2] / 16,
                "persona/n_nationalities": nat[0], "persona/n_nationalities_ci_lo": nat[1],
                "persona/n_nationalities_ci_hi": nat[2]}

    res = LabResults(roles={"base": m(0.895, (16, 14, 16), (39, 35, 42)), "sft": m(0.805, (16, 15, 16), (46, 42, 50)),
                            "ppo-b0.02": m(0.935, (10, 9, 11), (9, 7, 11))}, dirs={},
                     controls={"control-ppo-b0.02": m(0.91, (13, 11, 14), (43, 39, 47))})
    p = tmp_path / "x"
    run = LabRun(base=p, sft=p, reward=p, runs={("ppo", 0.02): AlignedRun("ppo", 0.02, "ppo-b0.02", p, p)},
                 eval_final=p, eval_steps=p, start_scores=p, typicality=0.2,
                 controls={("ppo", 0.02): AlignedRun("ppo", 0.02, "control-ppo-b0.02", p, p)})
    doc = Doc()
    data = control_section(doc, res, run, control_on=True)
    header, rows = [b[1] for b in doc.blocks if b[0] == "table"][1]
    # the same comparisons come back as data (the report's verdicts.json), one dict per run and measure
    assert [[d["run"], d["measure"], *list(d.values())[3:]] for d in data] == rows
    assert data[0]["key"] == "persona/mbti_coverage" and data[0]["alpha_vs_base"] == "lower"
    assert header[-2:] == ["control vs base", "alpha 0.2 vs base"]
    by_measure = {r[1]: r[2:] for r in rows}
    # MBTI: alpha 0.2's [9, 11] touches the control's [11, 14], so only the base shows the difference
    assert by_measure["MBTI types (of 16)"] == ["failed run (SFT parse 0.81 < 0.85)", "no clear change",
                                                "no clear change", "lower"]
    assert by_measure["nationalities"] == ["failed run (SFT parse 0.81 < 0.85)", "lower", "no clear change", "lower"]
    assert by_measure["age sd"][1:] == ["n/a"] * 3  # no value in these metrics (the failed SFT is named first)


def test_predictions_without_enough_effective_samples_are_named_in_one_sentence():
    from collapselab.lab.report import unreliable_sentence

    text = unreliable_sentence([("ppo-b0.02", "alpha = 0", 1.0), ("ppo-b0.02", "alpha = 0", 1.4),
                                ("dpo-b0.05", "alpha = 0.2, gamma = 5", 1.0)])
    assert text.startswith("Not in the table: 3 rows whose prediction rests on fewer than 10 effective samples")
    assert text.endswith("dpo-b0.05 at alpha = 0.2, gamma = 5 (ESS 1.0); ppo-b0.02 at alpha = 0 (ESS 1.0-1.4).")


def test_a_table_of_voided_comparisons_says_how_many_and_each_checkpoints_parse_rate():
    """Two comparisons, one voided by the floor: the sentence counts 1 of 2 (an "n/a" cell is no comparison) and
    lists the parse rates it read (a checkpoint without a parse rate is left out); nothing voided, no sentence."""
    from collapselab.lab.control import void_note

    data = [{"run": "PPO beta 0.02", "measure": "nationalities", "key": "persona/n_nationalities",
             "control_vs_sft": "failed run (SFT parse 0.81 < 0.85)", "alpha_vs_control": "lower", "own": "n/a"}]
    cols = [("base", {"persona/parse_rate": 0.895}), ("SFT", {"persona/parse_rate": 0.805}), ("control", None)]
    note = void_note(data, cols)
    assert note.startswith("1 of 2 comparisons above are void: a checkpoint they read parses under the 0.85 floor.")
    assert "Parse rates: base 0.895; SFT 0.805." in note
    data[0]["control_vs_sft"] = "no clear change"
    assert void_note(data, cols) is None


def test_the_control_values_table_prints_intervals_that_differ_apart(tmp_path):
    """Parse rates 0.9121 [0.9011, 0.9231] and 0.9124 [0.9014, 0.9234]: at 3 digits both read 0.912 [0.901, 0.923];
    the row gets 4 digits, so the two intervals are seen to differ; the other rows keep 3."""
    from collapselab.lab.control import control_section
    from collapselab.lab.results import AlignedRun, LabResults

    def m(parse, lo, hi):
        return {"persona/parse_rate": parse, "persona/parse_rate_ci_lo": lo, "persona/parse_rate_ci_hi": hi,
                "persona/age_sd": 12.0, "persona/age_sd_ci_lo": 11.0, "persona/age_sd_ci_hi": 13.0}

    res = LabResults(roles={"base": m(0.9121, 0.9011, 0.9231), "sft": m(0.9124, 0.9014, 0.9234),
                            "ppo-b0.02": m(0.95, 0.93, 0.97)}, dirs={},
                     controls={"control-ppo-b0.02": m(0.9, 0.88, 0.92)})
    p = tmp_path / "x"
    run = LabRun(base=p, sft=p, reward=p, runs={("ppo", 0.02): AlignedRun("ppo", 0.02, "ppo-b0.02", p, p)},
                 eval_final=p, eval_steps=p, start_scores=p, typicality=0.2,
                 controls={("ppo", 0.02): AlignedRun("ppo", 0.02, "control-ppo-b0.02", p, p)})
    doc = Doc()
    control_section(doc, res, run, control_on=True)
    rows = {r[0]: r[1:] for r in [b[1] for b in doc.blocks if b[0] == "table"][0][1]}
    assert rows["parse rate"][:2] == ["0.9121 [0.9011, 0.9231]", "0.9124 [0.9014, 0.9234]"]
    assert rows["age sd"][0] == "12 [11, 13]"
