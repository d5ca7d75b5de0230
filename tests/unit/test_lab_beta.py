"""What the KL beta did (lab/beta.py): the final runs by beta against the optimum's order and the start model."""

from collapselab.lab.beta import (AS_PREDICTED, MIXED, NOT_SEPARATED, ONE_BETA, OPPOSITE, against_start, beta_rows,
                                  order_over_beta)


def test_the_optimum_order_is_less_diversity_at_smaller_beta_with_separated_intervals():
    # entropy-like (higher = more diverse): 0.3 [0.25, 0.35] at beta 0.01 < 0.5 [0.45, 0.55] at 0.1 < 0.8 at 1
    rising = [(1.0, 0.8, (0.7, 0.9)), (0.01, 0.3, (0.25, 0.35)), (0.1, 0.5, (0.45, 0.55))]  # any input order
    assert order_over_beta(rising, more_diverse=True) == AS_PREDICTED
    assert order_over_beta(rising, more_diverse=False) == OPPOSITE  # similarity-like: higher = less diverse
    falling = [(0.01, 0.8, (0.7, 0.9)), (0.1, 0.5, (0.45, 0.55)), (1.0, 0.3, (0.25, 0.35))]
    assert order_over_beta(falling, more_diverse=True) == OPPOSITE
    # 0.5 [0.45, 0.55] and 0.52 [0.5, 0.6] overlap: no pair separates
    assert order_over_beta([(0.01, 0.5, (0.45, 0.55)), (0.1, 0.52, (0.5, 0.6))], True) == NOT_SEPARATED
    # one pair separates as predicted, the other overlaps
    partly = [(0.01, 0.3, (0.25, 0.35)), (0.1, 0.5, (0.45, 0.55)), (1.0, 0.52, (0.5, 0.6))]
    assert order_over_beta(partly, True) == f"{AS_PREDICTED} for some betas"
    # up, then down
    assert order_over_beta([(0.01, 0.3, (0.25, 0.35)), (0.1, 0.5, (0.45, 0.55)), (1.0, 0.2, (0.1, 0.3))],
                           True) == MIXED
    assert order_over_beta([(0.1, 0.5, (0.45, 0.55))], True) == ONE_BETA
    assert order_over_beta([(0.1, 0.5, (0.45, 0.55)), (1.0, 0.6, None)], True) == ONE_BETA  # no interval, no order


def test_a_run_against_the_start_model():
    assert against_start((0.1, 0.2), (0.3, 0.4), more_diverse=True) == "less diverse"
    assert against_start((0.1, 0.2), (0.3, 0.4), more_diverse=False) == "more diverse"  # lower similarity
    assert against_start((0.5, 0.6), (0.3, 0.4), more_diverse=True) == "more diverse"
    assert against_start((0.35, 0.6), (0.3, 0.4), more_diverse=True) == "no clear change"
    assert against_start(None, (0.3, 0.4), more_diverse=True) == "no interval"


def _m(key: str, v: float, lo: float, hi: float) -> dict:
    return {key: v, f"{key}_ci_lo": lo, f"{key}_ci_hi": hi}


def test_rows_per_measure_and_algorithm_from_the_final_runs():
    k = "entropy/top5_bits_mean"
    finals = [{"algo": "ppo", "beta": 0.5, "metrics": _m(k, 0.52, 0.51, 0.53)},
              {"algo": "ppo", "beta": 0.02, "metrics": _m(k, 0.57, 0.56, 0.58)},
              {"algo": "dpo", "beta": 0.05, "metrics": {}}]  # a run without the key is left out
    start = _m(k, 0.51, 0.50, 0.52)
    rows = beta_rows(finals, start, [k], {k: True})
    assert len(rows) == 1
    (row,) = rows
    assert row["algo"] == "ppo" and row["start"] == (0.51, (0.50, 0.52))
    assert row["runs"] == [(0.02, 0.57, (0.56, 0.58), "more diverse"), (0.5, 0.52, (0.51, 0.53), "no clear change")]
    assert row["order"] == OPPOSITE  # 0.57 [0.56, 0.58] at beta 0.02 above 0.52 [0.51, 0.53] at 0.5
    assert beta_rows(finals, None, [k], {k: True})[0]["runs"][0][3] == "no interval"


def test_the_step_figure_draws_one_line_per_run_and_the_beta_figure_one_per_algorithm():
    from collapselab.lab.figures import lines

    pts = [{"algo": "ppo", "beta": b, "step": s, "metrics": {}} for b in (0.5, 0.02) for s in (16, 32)]
    pts.append({"algo": "dpo", "beta": 0.05, "step": 10, "metrics": {}})
    by_step = lines(pts, "ppo", "step")
    assert [label for label, _ in by_step] == ["PPO b0.02", "PPO b0.5"]
    assert all({p["beta"] for p in run} == {b} and len(run) == 2 for (_, run), b in zip(by_step, (0.02, 0.5)))
    assert [(label, len(run)) for label, run in lines(pts, "ppo", "beta")] == [("PPO", 4)]
    assert lines(pts, "rs", "step") == [] and lines(pts, "rs", "beta") == []


def test_the_beta_tables_summary_counts_each_order_and_a_one_beta_sweep_as_such():
    """The sentence under the table counts every order it can print; a sweep of one beta has no order, and
    the sentence no longer says its rows 'do not separate' (0 of each, 'the rest' all of them)."""
    from collapselab.lab.render import Doc
    from collapselab.lab.report import _beta_table

    def run(algo, beta, v):
        return {"algo": algo, "beta": beta,
                "metrics": {"entropy/top5_bits_mean": v, "entropy/top5_bits_mean_ci_lo": v - 0.01,
                            "entropy/top5_bits_mean_ci_hi": v + 0.01}}

    start = {"entropy/top5_bits_mean": 0.8, "entropy/top5_bits_mean_ci_lo": 0.79, "entropy/top5_bits_mean_ci_hi": 0.81}
    doc = Doc()
    _beta_table(doc, [run("ppo", 0.05, 0.5)], None, start, "SFT")
    text = doc.markdown()
    assert "Of these 1 rows, 1 have one beta; 1 of 1 run cells are less diverse than the SFT model." in text
    doc = Doc()
    _beta_table(doc, [run("ppo", 0.01, 0.5), run("ppo", 0.1, 0.7), run("dpo", 0.05, 0.6), run("dpo", 0.5, 0.605)],
                None, start, "SFT")
    assert ("Of these 2 rows, 1 follow the optimum's order, 0 the opposite one, 1 do not separate, 0 are mixed and "
            "0 separate for some betas only; 4 of 4 run cells") in doc.markdown()


def test_the_beta_table_prints_a_measure_at_one_precision_in_both_algorithms_rows():
    """DPO's row needs four digits to tell its bounds apart (0.5001 against the start's 0.5002); PPO's row
    needs three. The base's value is the same number in both rows, so it prints alike: 0.1337 in both, not
    0.134 in one of them."""
    from collapselab.lab.render import Doc
    from collapselab.lab.report import _beta_table

    def m(v, lo, hi):
        return {"entropy/top5_bits_mean": v, "entropy/top5_bits_mean_ci_lo": lo, "entropy/top5_bits_mean_ci_hi": hi}

    base, start = m(0.1337, 0.1303, 0.1374), m(0.8, 0.5002, 0.9)
    doc = Doc()
    _beta_table(doc, [{"algo": "ppo", "beta": 0.05, "metrics": m(0.3, 0.2, 0.4)},
                      {"algo": "dpo", "beta": 0.05, "metrics": m(0.7, 0.5001, 0.95)}], base, start, "SFT")
    rows = [line for line in doc.markdown().splitlines() if line.startswith("| entropy/top5_bits_mean")]
    assert len(rows) == 2 and all("| 0.1337 [0.1303, 0.1374] |" in r for r in rows), rows
