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
    assert round_seed(0, 4) == 31676  # the lab's seeds are unchanged
    # the largest seed the config takes: round 1's seed wraps into numpy's range (was 4294975214, a ValueError)
    assert round_seed(2**32 - 1, 1) == 7918 and round_seed(2**32 - 1, 4) == 31675


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


def test_replay_draws_only_the_kinds_alignment_does_not_train_on_by_seed():
    """rs.replay's rows: chats of kinds outside (persona, bio, steve), n of them without replacement, the same
    for a seed and another for another seed, all of them when n exceeds what there is, none at n = 0."""
    from collapselab.align.sft import replay_rows

    kinds = ["persona", "persona-vs", "bio", "persona-unusual", "steve", "persona-vs", "persona-ordinary"] * 10
    world = {"instructions": {"kind": kinds, "messages": [
        [{"role": "user", "content": f"{k} {i}"}, {"role": "assistant", "content": f"answer {i}"}]
        for i, k in enumerate(kinds)]}}
    rows = replay_rows(world, 12, seed=3)
    asked = [r["prompt"][0]["content"].split()[0] for r in rows]
    assert len(rows) == 12 and set(asked) <= {"persona-vs", "persona-unusual", "persona-ordinary"}
    assert len({r["prompt"][0]["content"] for r in rows}) == 12  # without replacement
    assert rows == replay_rows(world, 12, seed=3) and rows != replay_rows(world, 12, seed=4)
    assert len(replay_rows(world, 1000, seed=3)) == 40 and replay_rows(world, 0, seed=3) == []
    assert rows[0]["completion"] == [{"role": "assistant", "content": rows[0]["completion"][0]["content"]}]


def test_replay_enters_the_rs_key_only_when_on_and_a_negative_share_is_refused():
    import pytest

    from collapselab.errors import UserError

    assert "replay" not in compose("rs", []).rs_key()["rs"]
    assert compose("rs", ["rs.replay=0.5"]).rs_key()["rs"]["replay"] == 0.5
    with pytest.raises(UserError, match=r"replay=-1.0: must be >= 0"):
        compose("rs", ["rs.replay=-1"])


def test_dpo_pairs_from_start_keys_its_own_pairs_and_run_and_the_default_keeps_its_key():
    import pytest

    from collapselab.errors import UserError

    sft_pairs = compose("dpo", ["start=rs"])
    on = compose("dpo", ["start=rs", "dpo.pairs_from=start"])
    from_sft = compose("dpo", ["dpo.pairs_from=start"])  # start=sft: the start policy is SFT, so the SFT pairs
    assert "pairs_from" not in sft_pairs.run_key()["dpo"] and sft_pairs.dpo_pairs_key() == sft_pairs.pairs_key()
    assert on.on_policy_pairs() and on.dpo_pairs_key() == {**on.pairs_key(), "policy": on.start_key()}
    assert on.run_key() != sft_pairs.run_key() and on.run_key()["dpo"]["pairs_from"] == "start"
    assert not from_sft.on_policy_pairs() and from_sft.dpo_pairs_key() == from_sft.pairs_key()
    with pytest.raises(UserError, match=r"pairs_from='rs'"):
        compose("dpo", ["dpo.pairs_from=rs"])
