"""Toy config validation (one line naming the key) and what a bandit run writes."""

import json

import numpy as np
import pytest

from collapselab.config import compose
from collapselab.errors import UserError
from collapselab.optimum import kl_optimum
from collapselab.toy.experiment import run


def test_defaults_compose():
    cfg = compose("toy", [])
    assert cfg.arms == ["Jeepiti", "Chats and Giggles", "Chad-Chat"] and cfg.rewards == [1.0, 0.4, 1.5]
    assert cfg.init_probs[2] < 0.05  # Chad-Chat starts rare (the paper's exploration example)


@pytest.mark.parametrize(
    "override, expected",
    [
        ("beta=-0.5", "beta=-0.5: must be >= 0"),
        ("rule=ppo2", "rule='ppo2': must be one of paper, reinforce, ppo, actde, dpo"),
        ("experiment=table", "experiment='table': must be one of jeepiti, bandit"),
        ("rewards=[1.0,0.4]", "rewards=[1.0, 0.4]: needs one value per arm"),
        ("arms=[a,b]", "init_probs=[0.49, 0.49, 0.02]: needs one value per arm"),
        ("init_probs=[0.5,0.4,0.2]", "init_probs=[0.5, 0.4, 0.2]: must sum to 1"),
        ("init_probs=[0.5,0.5,0.0]", "init_probs=[0.5, 0.5, 0.0]: every probability must be > 0"),
        ("steps=0", "steps=0: must be >= 1"),
        ("seeds=0", "seeds=0: must be >= 1"),
        ("lr=0", "lr=0.0: must be > 0"),
        ("lr=-1", "lr=-1.0: must be > 0"),
        ("ppo.clip=0", "ppo.clip=0.0: must be between"),
        ("grid_rules=[ppo,sgd]", "grid_rules='sgd'"),
        ("typicality=-1", "typicality=-1.0: must be >= 0"),
        ("typicality_grid=[0.1,-0.5]", "typicality_grid=-0.5: must be >= 0"),
        ("logger=cloud", "logger=cloud is unknown (available: none, wandb)"),
    ],
)
def test_bad_values_are_one_line_naming_the_key(override, expected):
    with pytest.raises(UserError) as e:
        compose("toy", [override])
    assert expected in str(e.value) and "\n" not in str(e.value)


def test_logger_group_like_every_entry_point():
    assert compose("toy", []).logger.backend == "none"  # the toy writes its JSON; W&B only when asked
    assert compose("toy", ["logger=none"]).logger.backend == "none"
    assert compose("toy", ["logger=wandb"]).logger.backend == "wandb"


def test_dpo_needs_positive_beta():
    compose("toy", ["rule=ppo", "beta=0"])  # fine: PPO without the KL penalty
    with pytest.raises(UserError, match=r"beta=0.0: must be > 0 for rule=dpo"):
        compose("toy", ["rule=dpo", "beta=0"])


def test_bandit_run_writes_json(tmp_path):
    cfg = compose("toy", ["rule=dpo", "beta=1.0", "steps=60", "seeds=8", "log_every=30",
                          "beta_grid=[0.5,1.0]", "grid_rules=[paper,ppo]", "plots=false"])
    run(cfg, tmp_path)
    out = json.loads((tmp_path / "bandit.json").read_text())
    keys = {(r["rule"], r["beta"]) for r in out["runs"]}
    assert keys == {("dpo", 1.0), ("paper", 0.5), ("paper", 1.0), ("ppo", 0.5), ("ppo", 1.0)}
    main = out["runs"][0]
    assert main["optimum"] == pytest.approx({"Jeepiti": 0.618771, "Chats and Giggles": 0.339589, "Chad-Chat": 0.04164},
                                            abs=1e-6)
    assert sum(main["final_mean"].values()) == pytest.approx(1.0)
    assert main["entropy_trajectory"]["step"] == [0, 30, 60]
    assert out["optimum_curve"]["beta"] == [0.5, 1.0]
    assert out["figures"] == [] and not list(tmp_path.glob("*.png"))


def test_typicality_is_recorded_with_gamma_and_its_optimum(tmp_path):
    """typicality 0.5 at beta 1: gamma = 1.5 and the recorded optimum is pi0^1.5 exp(R) / Z."""
    cfg = compose("toy", ["rule=ppo", "beta=1.0", "typicality=0.5", "steps=20", "seeds=4", "log_every=10",
                          "beta_grid=[0.5,1.0]", "typicality_grid=[0.0]", "grid_rules=[paper,ppo]", "plots=false"])
    run(cfg, tmp_path)
    out = json.loads((tmp_path / "bandit.json").read_text())
    assert out["typicality"] == 0.5
    main = out["runs"][0]
    assert (main["typicality"], main["gamma"]) == (0.5, 1.5)
    sharp = kl_optimum(np.array(cfg.init_probs), np.array(cfg.rewards), 1.0, alpha=0.5)
    assert list(main["optimum"].values()) == pytest.approx(sharp, abs=1e-6)
    # every (rule, beta) at both typicality values, gamma = 1 + alpha / beta each
    keys = {(r["rule"], r["beta"], r["typicality"]) for r in out["runs"]}
    assert keys == {(rule, b, a) for rule in ("paper", "ppo") for b in (0.5, 1.0) for a in (0.5, 0.0)}
    assert all(r["gamma"] == pytest.approx(1 + r["typicality"] / r["beta"]) for r in out["runs"])
    # one closed-form curve per alpha (the main one first); the report's optimum_curve is the main one
    assert [c["typicality"] for c in out["optimum_curves"]] == [0.5, 0.0]
    assert out["optimum_curve"] == out["optimum_curves"][0] and out["optimum_curve"]["gamma"] == [2.0, 1.5]
    plain = out["optimum_curves"][1]
    assert plain["gamma"] == [1.0, 1.0] and plain["entropy_bits"] == pytest.approx([1.116361, 1.148596], abs=1e-6)
