"""Rejection sampling's selection rule and round seeds (the stage itself: tests/integration/test_align.py)."""

import numpy as np

from collapselab.align.rs import pick_winners, round_seed
from collapselab.config import compose


def test_best_of_n_picks_the_highest_score_of_each_prompt_and_the_first_on_ties():
    scores = np.array([[0.1, 0.9, 0.3],
                       [2.0, -1.0, 2.0],
                       [-5.0, -4.0, -4.5]])
    assert pick_winners(scores).tolist() == [1, 0, 1]


def test_round_seeds_differ_by_round_and_by_run_seed():
    seeds = {round_seed(s, r) for s in range(3) for r in range(1, 4)}
    assert len(seeds) == 9


def test_rs_key_holds_the_annotator_only_when_it_is_biased_and_the_reward_model_only_when_it_scores():
    plain = compose("rs", [])
    biased = compose("rs", ["annotator.typicality=0.05"])
    by_rm = compose("rs", ["rs.scorer=reward"])
    assert "annotator" not in plain.run_key() and "reward" not in plain.run_key()
    assert biased.run_key()["annotator"]["typicality"] == 0.05
    assert "reward" in by_rm.run_key() and "annotator" not in by_rm.run_key()


def test_ppo_and_dpo_from_rs_carry_the_rs_runs_key_and_from_sft_keep_their_old_key():
    """start=sft adds nothing to a PPO/DPO key (artifacts made before the knob keep their folders);
    start=rs adds the RS stage's own key, so another RS config is another PPO/DPO run."""
    from collapselab.align.rs import rs_run_dir
    from collapselab.io import keyed_dir

    for algo in ("ppo", "dpo"):
        sft = compose(algo, ["annotator.typicality=0.05"])
        rs = compose(algo, ["annotator.typicality=0.05", "start=rs"])
        more = compose(algo, ["annotator.typicality=0.05", "start=rs", "rs.rounds=5"])
        assert "start" not in sft.run_key() and "rs_run" not in sft.run_key()
        assert rs.run_key()["rs_run"] == compose("rs", ["annotator.typicality=0.05"]).rs_key()
        assert rs.run_key() != more.run_key() and rs.run_key() != sft.run_key()
        # the RS stage a PPO/DPO run builds is the one `training/rs.py` builds with the same settings
        assert rs_run_dir(rs) == rs_run_dir(compose("rs", ["annotator.typicality=0.05"]))
        assert rs_run_dir(rs) != keyed_dir(rs.artifacts_dir, "rs", rs.run_key())


def test_an_unknown_start_is_refused_with_the_allowed_values():
    import pytest

    from collapselab.errors import UserError

    with pytest.raises(UserError, match=r"start='base': must be one of sft, rs"):
        compose("ppo", ["start=base"])
