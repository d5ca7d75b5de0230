"""Toy simulator: policy maths, Table 1 replay and errata, bandit rules against the KL optimum."""

import copy
import math

import numpy as np
import pytest

from collapselab.toy import PAPER_TABLE1, RuleParams, entropy_bits, find_errata, kl_optimum, replay, simulate
from collapselab.toy.policy import sample_categorical, total_variation
from collapselab.toy.rules import make_rule, train_rewards

PI0 = np.array([0.49, 0.49, 0.02])  # Jeepiti, Chats and Giggles, Chad-Chat (config defaults)
R = np.array([1.0, 0.4, 1.5])


# ----------------------------------------------------------------------------- policy maths


def test_kl_optimum_by_hand_and_by_brute_force():
    # pi0 = (1/2, 1/2), R = (1, 0), beta = 1: pi = (e, 1) / (e + 1) = (0.7311, 0.2689)
    assert kl_optimum([0.5, 0.5], [1.0, 0.0], 1.0) == pytest.approx([0.731059, 0.268941], abs=1e-6)
    # beta -> 0: all mass on the best arm; beta = 0 is that limit exactly
    assert kl_optimum(PI0, R, 0.0) == pytest.approx([0, 0, 1])
    # it maximises E[R] - beta KL(pi || pi0) over a grid of 2-arm policies
    p = np.linspace(1e-4, 1 - 1e-4, 20001)
    obj = p * 1.0 + (1 - p) * 0.4 - 0.3 * (p * np.log(p / 0.7) + (1 - p) * np.log((1 - p) / 0.3))
    assert kl_optimum([0.7, 0.3], [1.0, 0.4], 0.3)[0] == pytest.approx(p[obj.argmax()], abs=1e-4)


def test_entropy_and_tv():
    assert entropy_bits(np.full(4, 0.25)) == pytest.approx(2.0)
    assert entropy_bits(np.array([[1.0, 0.0], [0.5, 0.5]])) == pytest.approx([0.0, 1.0])
    assert total_variation([0.5, 0.5, 0.0], [0.0, 0.5, 0.5]) == pytest.approx(0.5)


def test_sample_categorical_matches_probs():
    rng = np.random.default_rng(0)
    probs = np.tile([0.2, 0.5, 0.3], (200_000, 1))
    freq = np.bincount(sample_categorical(rng, probs), minlength=3) / 200_000
    assert freq == pytest.approx([0.2, 0.5, 0.3], abs=0.005)


# ----------------------------------------------------------------------------- Table 1


def test_jeepiti_rows_follow_the_stated_rule():
    rows = replay()
    assert [r["action"] for r in rows] == [None, "Jeepiti", "Chats and Giggles", "Chats and Giggles", "Jeepiti"]
    assert [r["advantage"] for r in rows[1:]] == pytest.approx([1.0, -0.6, 0.0, 0.6])
    assert [r["value"] for r in rows] == pytest.approx([0.0, 1.0, 0.4, 0.4, 1.0])
    pj = [r["probs"]["Jeepiti"] for r in rows]
    # logits of Jeepiti minus Chats: 0, 1, 1.6, 1.6, 2.2 -> sigmoid
    assert pj == pytest.approx([0.5, 1 / (1 + math.exp(-1)), 1 / (1 + math.exp(-1.6)), 1 / (1 + math.exp(-1.6)),
                                1 / (1 + math.exp(-2.2))])
    assert [round(p, 2) for p in pj] == [0.5, 0.73, 0.83, 0.83, 0.90]
    assert all(abs(sum(r["probs"].values()) - 1) < 1e-12 for r in rows)


def test_jeepiti_errata_found_by_comparison():
    errata = find_errata(replay())
    assert {(e["t"], e["column"]) for e in errata} == {
        (2, "reward"), (3, "reward"), (4, "pi(Jeepiti)"), (4, "pi(Chats and Giggles)")}
    t4 = next(e for e in errata if e["column"] == "pi(Jeepiti)")
    assert t4["printed"] == 0.93 and t4["rule"] == pytest.approx(0.9002, abs=1e-4)
    assert all(e["printed"] == 0.8 and e["rule"] == 0.4 for e in errata if e["column"] == "reward")
    # a corrected table has no errata; a new misprint is caught: the list is computed, not typed
    fixed = copy.deepcopy(PAPER_TABLE1)
    for row in fixed[2:4]:
        row["reward"] = 0.4
    fixed[4]["probs"] = {"Jeepiti": 0.90, "Chats and Giggles": 0.10}
    assert find_errata(replay(), fixed) == []
    fixed[1]["value"] = 0.9
    assert [(e["t"], e["column"]) for e in find_errata(replay(), fixed)] == [(1, "value")]


# ----------------------------------------------------------------------------- bandit rules


def _run(rule, beta=0.1, steps=800, seeds=200, **kw):
    p = RuleParams(rewards=R, pi0=PI0, beta=beta, **kw)
    return simulate(rule, p, steps=steps, seeds=seeds, seed=1, log_every=100)


@pytest.mark.parametrize(
    "rule, beta, steps", [("ppo", 0.05, 800), ("ppo", 0.2, 800), ("ppo", 1.0, 800), ("dpo", 0.2, 2000), ("dpo", 1.0, 800)]
)
def test_kl_regularised_rules_reach_the_closed_form_optimum(rule, beta, steps):
    res = _run(rule, beta, steps=steps)
    assert total_variation(res.final_mean, kl_optimum(PI0, R, beta)) < 0.05


def test_typicality_run_reaches_the_sharpened_optimum():
    """alpha = 0.1 at beta = 0.2 (gamma = 1.5): PPO trained on R + alpha log pi0 lands on
    pi0^1.5 exp(R/0.2)/Z = (0.87, 0.04, 0.09), not on the plain optimum (0.64, 0.03, 0.32)."""
    res = _run("ppo", 0.2, steps=300, seeds=100, typicality=0.1)
    sharp, plain = kl_optimum(PI0, R, 0.2, alpha=0.1), kl_optimum(PI0, R, 0.2)
    assert total_variation(sharp, plain) > 0.2
    assert total_variation(res.final_mean, sharp) < 0.01
    assert res.typicality == 0.1


def test_train_rewards_add_alpha_log_pi0():
    p = RuleParams(rewards=R, pi0=PI0, typicality=0.5)
    assert train_rewards(p) == pytest.approx(R + 0.5 * np.log(PI0))
    assert train_rewards(RuleParams(rewards=R, pi0=PI0)) is R  # alpha = 0: the rewards themselves, bit for bit


def test_actde_converges_to_pi0_exp_r():
    res = _run("actde", lr=0.5)
    target = PI0 * np.exp(R) / (PI0 * np.exp(R)).sum()  # (0.619, 0.340, 0.042)
    assert total_variation(res.final_mean, target) < 0.02
    # from a uniform start that is softmax(R)
    p = RuleParams(rewards=R, pi0=np.full(3, 1 / 3), lr=0.5)
    uni = simulate("actde", p, steps=600, seeds=100, seed=2).final_mean
    assert total_variation(uni, np.exp(R) / np.exp(R).sum()) < 0.02


@pytest.mark.parametrize("rule", ["paper", "reinforce"])
def test_unregularised_rules_collapse(rule):
    res = _run(rule, steps=2000)
    assert res.entropy_mean[0] > 1.0  # pi0 has ~1.12 bits
    assert res.final_entropy.mean() < 0.1
    # they ignore beta: an entirely different beta changes nothing
    assert np.array_equal(_run(rule, beta=5.0, steps=200).final_probs, _run(rule, beta=0.0, steps=200).final_probs)


def test_paper_rule_single_step_by_hand():
    # from logits 0 (pi = 1/2 each), v = 0: the sampled arm's logit rises by its reward
    rule = make_rule("paper", RuleParams(rewards=np.array([1.0, 0.4]), pi0=np.array([0.5, 0.5])), n_seeds=4000)
    theta = np.zeros((4000, 2))
    rule.step(theta, np.random.default_rng(0))
    moved = (theta != 0).argmax(1)  # the one arm whose logit changed
    assert ((theta != 0).sum(1) == 1).all()
    assert np.allclose(theta[np.arange(4000), moved], np.where(moved == 0, 1.0, 0.4))
    assert np.allclose(rule.v, np.where(moved == 0, 1.0, 0.4))


def test_same_seed_same_numbers():
    a, b = _run("ppo", steps=50, seeds=20), _run("ppo", steps=50, seeds=20)
    assert np.array_equal(a.final_probs, b.final_probs)
    assert not np.array_equal(a.final_probs, simulate("ppo", RuleParams(rewards=R, pi0=PI0), 50, 20, seed=2).final_probs)
