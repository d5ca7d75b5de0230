"""Verdicts across labs (scripts/across_seeds.py): each lab's own verdicts, set side by side and counted."""

import json

import pytest

from collapselab.errors import UserError
from collapselab.lab.across import across, markdown, mechanism_across, mechanism_mark, read_verdicts, short
from collapselab.lab.paper import HEADLINES, rows_json, side_by_side

ENTROPY, MBTI = "entropy/top5_bits_mean", "persona/mbti_coverage"


def metrics(entropy, mbti, parse=0.9):
    """A checkpoint's metrics with the two rows' intervals: entropy +-0.05, MBTI coverage +-1/16."""
    return {ENTROPY: entropy, f"{ENTROPY}_ci_lo": entropy - 0.05, f"{ENTROPY}_ci_hi": entropy + 0.05,
            MBTI: mbti / 16, f"{MBTI}_ci_lo": (mbti - 1) / 16, f"{MBTI}_ci_hi": (mbti + 1) / 16,
            "persona/parse_rate": parse}


def table(aligned: dict) -> dict:
    return {"paper": rows_json(side_by_side(metrics(1.0, 16), aligned)), "align": [], "parse_rate": {}}


def test_rows_json_keeps_values_intervals_and_verdicts():
    """Base entropy 1.0 [0.95, 1.05]; PPO 0.5 [0.45, 0.55] lies below it: reproduces; the MBTI cell (10 of 16)
    of a model parsing 0.8 is a failed run. The data holds what the report's table shows."""
    rows = table({"ppo-b0.02": metrics(0.5, 10, parse=0.8)})["paper"]
    assert [r["key"] for r in rows] == [h.key for h in HEADLINES]
    ent = next(r for r in rows if r["key"] == ENTROPY)
    assert ent["base"] == 1.0 and ent["base_ci"] == [0.95, 1.05] and ent["direction"] == -1
    assert ent["aligned"]["ppo-b0.02"] == {"value": 0.5, "ci": [0.45, 0.55], "verdict": "reproduces"}
    mbti = next(r for r in rows if r["key"] == MBTI)
    assert mbti["aligned"]["ppo-b0.02"]["value"] == 10 and mbti["aligned"]["ppo-b0.02"]["ci"] == [9, 11]
    assert mbti["aligned"]["ppo-b0.02"]["verdict"] == "failed run (parse 0.80 < 0.85)"
    json.dumps(rows)  # plain data


def test_across_counts_each_cell_over_the_labs():
    """Three labs. Entropy: PPO reproduces in all three (3 of 3). MBTI: PPO at 10 [9, 11] below the base's
    [15, 17] reproduces in labs 1 and 3, in lab 2 at 15 [14, 16] it overlaps (2 of 3). DPO runs only in lab 3,
    so its cells count 1 lab. SFT is no aligned column. Totals per lab: PPO + DPO cells reproduced of all."""
    lab1 = table({"sft": metrics(1.0, 16), "ppo-b0.02": metrics(0.5, 10)})
    lab2 = table({"ppo-b0.02": metrics(0.6, 15)})
    lab3 = table({"ppo-b0.02": metrics(0.5, 10), "dpo-b0.05": metrics(0.7, 12)})
    lab3.update(model=["model.pretrain_seed=1"], align=["seed=2"])  # another base and alignment seed
    res = across([("s0", lab1), ("s1", lab2), ("s2", lab3)])
    assert res["roles"] == ["ppo-b0.02", "dpo-b0.05"]
    cells = {r["key"]: r["cells"] for r in res["rows"]}
    assert cells[ENTROPY]["ppo-b0.02"] == {"verdicts": ["reproduces"] * 3, "k": 3, "n": 3}
    assert cells[MBTI]["ppo-b0.02"]["verdicts"] == ["reproduces", "no clear change", "reproduces"]
    assert (cells[MBTI]["ppo-b0.02"]["k"], cells[MBTI]["ppo-b0.02"]["n"]) == (2, 3)
    assert cells[MBTI]["dpo-b0.05"] == {"verdicts": [None, None, "reproduces"], "k": 1, "n": 1}
    n_rows = len(HEADLINES)
    assert [t["ppo_dpo"] for t in res["totals"]] == [(2, n_rows), (1, n_rows), (4, 2 * n_rows)]
    md = markdown(res)
    assert "| MBTI types among personas (of 16) | r - r (2 of 3) | . . r (1 of 1) |" in md
    assert "| s1 | (defaults) | 1 of 10 | 1 of 10 |" in md
    assert "| s2 | model.pretrain_seed=1 seed=2 | 4 of 20 | 4 of 20 |" in md
    assert "| gender imbalance \\|female share - 0.5\\| |" in md  # a "|" in a measure's name is escaped


def test_short_marks():
    assert [short(v) for v in ("reproduces", "no clear change", "opposite", "failed run (parse 0.81 < 0.85)",
                               "failed run (base parse 0.8 < 0.85)", "censored (k_max 20)", "no interval")] == [
        "r", "-", "opp", "f", "bf", "cens", "?"]


def test_mechanism_marks_and_counts():
    """#13's test per run and measure: the control within the base's interval and the run at alpha below it.
    PPO nationalities: yes in lab 1, the control falls too in lab 2 (ctl); DPO MBTI: a failed control in lab 1,
    the run at alpha not lower in lab 2 (no); RS only in lab 2."""
    def row(run, measure, ctl, ali):
        return {"run": run, "measure": measure, "key": "k", "control_vs_sft": "lower", "alpha_vs_control": "lower",
                "control_vs_base": ctl, "alpha_vs_base": ali}

    lab1 = {"mechanism": [row("PPO beta 0.02", "nationalities", "no clear change", "lower"),
                          row("DPO beta 0.05", "MBTI types (of 16)", "failed run (parse 0.83 < 0.85)", "lower")]}
    lab2 = {"mechanism": [row("PPO beta 0.02", "nationalities", "lower", "lower"),
                          row("DPO beta 0.05", "MBTI types (of 16)", "no clear change", "no clear change"),
                          row("RS", "age sd", "higher", "lower")]}
    got = mechanism_across([("a", lab1), ("b", lab2)])
    assert [(m["run"], m["marks"], m["k"], m["n"]) for m in got] == [
        ("PPO beta 0.02", ["yes", "ctl"], 1, 2), ("DPO beta 0.05", ["f", "no"], 0, 2), ("RS", [".", "yes"], 1, 1)]
    assert mechanism_mark(None) == "."
    md = markdown(across([("a", {**lab1, **table({})}), ("b", {**lab2, **table({})})]), got)
    assert "| PPO beta 0.02 | nationalities | yes ctl | 1 of 2 |" in md


def test_read_verdicts_finds_the_file_or_says_where_it_looked(tmp_path):
    (tmp_path / "lab" / "report").mkdir(parents=True)
    (tmp_path / "lab" / "report" / "verdicts.json").write_text(json.dumps(table({"ppo-b0.02": metrics(0.5, 10)})))
    assert (read_verdicts(tmp_path / "lab")["paper"]
            == read_verdicts(tmp_path / "lab" / "report" / "verdicts.json")["paper"])
    with pytest.raises(UserError, match="no verdicts.json there"):
        read_verdicts(tmp_path / "nowhere")
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(UserError, match="not a lab's verdicts"):
        read_verdicts(tmp_path / "bad.json")
    with pytest.raises(UserError, match="no labs given"):
        across([])


def test_script_error_is_one_line_and_exit_2(tmp_path, capsys):
    import importlib.util
    from pathlib import Path

    script = Path(__file__).parents[2] / "scripts" / "across_seeds.py"
    spec = importlib.util.spec_from_file_location("across_seeds", script)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert mod.main([str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no verdicts.json there" in err
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "verdicts.json").write_text(json.dumps(table({"ppo-b0.02": metrics(0.5, 10)})))
    out = tmp_path / "seeds.md"
    assert mod.main([f"seed0={tmp_path / 'r'}", "--out", str(out)]) == 0
    assert out.read_text() == capsys.readouterr().out and "| seed0 |" in out.read_text()
