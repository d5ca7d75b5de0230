"""Schema for ``scripts/toy_sim.py`` (``configs/toy.yaml``): the bandit simulator and the Table 1 replay."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from collapselab.config.app import register_schema
from collapselab.config.common import LoggerConfig, between, choice, positive, seed_range

EXPERIMENTS = ("jeepiti", "bandit")
RULES = ("paper", "reinforce", "ppo", "actde", "dpo")  # == collapselab.toy.rules.RULES (kept numpy-free here)


@dataclass
class ReinforceConfig:
    baseline_rate: float = 0.1  # running-mean baseline: b += baseline_rate * (r - b)

    def problems(self) -> list[str]:
        return between("baseline_rate", self.baseline_rate, 1e-12, 1.0)


@dataclass
class PPOConfig:
    epochs: int = 4  # gradient steps on the clipped surrogate per sampled batch
    clip: float = 0.2  # epsilon of appendix A2.3
    batch_size: int = 16  # on-policy samples per seed per step
    value_lr: float = 0.5  # value baseline step: V += value_lr * (mean reward - V)

    def problems(self) -> list[str]:
        return (
            positive("epochs", self.epochs)
            + between("clip", self.clip, 1e-6, 1.0)
            + positive("batch_size", self.batch_size)
            + between("value_lr", self.value_lr, 1e-12, 1.0)
        )


@dataclass
class DPOConfig:
    pairs_per_step: int = 16  # preference pairs from pi0, labelled by a Bradley-Terry annotator

    def problems(self) -> list[str]:
        return positive("pairs_per_step", self.pairs_per_step)


@dataclass
class ToyConfig:
    """The toy advantage-update simulator (paper section 5.2, Table 1)."""

    experiment: str = "bandit"  # jeepiti | bandit
    rule: str = "ppo"  # paper | reinforce | ppo | actde | dpo
    beta: float = 0.1  # KL coefficient (ppo: eq. 5.2 penalty; dpo: its beta); paper/reinforce/actde ignore it
    # typicality bias alpha (Zhang et al. 2025, eq. 1): every rule trains on R + alpha log pi0(arm);
    # the optimum becomes pi0^(1 + alpha/beta) exp(R/beta) / Z. 0 = none (the paper's setting)
    typicality: float = 0.0
    arms: list[str] = field(default_factory=lambda: ["Jeepiti", "Chats and Giggles", "Chad-Chat"])
    rewards: list[float] = field(default_factory=lambda: [1.0, 0.4, 1.5])
    init_probs: list[float] = field(default_factory=lambda: [0.49, 0.49, 0.02])  # pi0; Chad-Chat rarely sampled
    steps: int = 2000
    lr: float = 1.0  # step on the logits (1.0 = the paper's "add the advantage")
    seeds: int = 1000  # independent runs, simulated together as a [seeds, K] array
    seed: int = 0
    log_every: int = 20  # trajectory subsampling, in steps
    beta_grid: list[float] = field(default_factory=lambda: [0.05, 0.1, 0.2, 0.5, 1.0, 2.0])  # optimum curve
    grid_rules: list[str] = field(default_factory=list)  # also simulate these rules over beta_grid
    # more typicality values: a closed-form curve each, and grid_rules over beta_grid at each
    typicality_grid: list[float] = field(default_factory=list)
    plots: bool = True
    reinforce: ReinforceConfig = field(default_factory=ReinforceConfig)
    ppo: PPOConfig = field(default_factory=PPOConfig)
    dpo: DPOConfig = field(default_factory=DPOConfig)
    # bandit.json / jeepiti.json are always written; logger=wandb also mirrors tables and figures to W&B
    logger: LoggerConfig = field(default_factory=lambda: LoggerConfig(backend="none"))

    def problems(self) -> list[str]:
        out = choice("experiment", self.experiment, EXPERIMENTS) + choice("rule", self.rule, RULES)
        out += [p for r in self.grid_rules for p in choice("grid_rules", r, RULES)]
        out += positive("beta", self.beta, strict=False)
        if self.rule == "dpo" and self.beta == 0:
            out.append("beta=0.0: must be > 0 for rule=dpo (its loss divides the reward by beta)")
        out += [p for b in self.beta_grid for p in positive("beta_grid", b)]
        for name, vals in (("typicality", [self.typicality]), ("typicality_grid", self.typicality_grid)):
            out += [p for a in vals for p in positive(name, a, strict=False)]
            out += [f"{name}={a!r}: must be finite" for a in vals if isinstance(a, float) and math.isinf(a)]
        k = len(self.arms)
        if len(self.rewards) != k:
            out.append(f"rewards={list(self.rewards)}: needs one value per arm ({k} arms: {', '.join(self.arms)})")
        if len(self.init_probs) != k:
            out.append(f"init_probs={list(self.init_probs)}: needs one value per arm ({k} arms: {', '.join(self.arms)})")
        if k < 2 or len(set(self.arms)) != k:
            out.append(f"arms={list(self.arms)}: must be at least 2 distinct names")
        if any(not (isinstance(p, (int, float)) and p > 0) for p in self.init_probs):
            out.append(f"init_probs={list(self.init_probs)}: every probability must be > 0")
        elif not math.isclose(sum(self.init_probs), 1.0, abs_tol=1e-6):
            out.append(f"init_probs={list(self.init_probs)}: must sum to 1 (sum is {sum(self.init_probs):g})")
        if any(not math.isfinite(r) for r in self.rewards):
            out.append(f"rewards={list(self.rewards)}: must be finite")
        out += _at_least_one("steps", self.steps) + _at_least_one("seeds", self.seeds)
        out += seed_range("seed", self.seed, legacy=False)  # numpy.random.default_rng alone
        out += _at_least_one("log_every", self.log_every) + positive("lr", self.lr)
        if "actde" in (self.rule, *self.grid_rules) and self.lr >= 2:
            out.append(f"lr={self.lr}: must be < 2 for rule=actde (Q(a) += lr * (r - Q(a)) diverges otherwise)")
        return out


def _at_least_one(name: str, value: int) -> list[str]:
    return [] if value >= 1 else [f"{name}={value}: must be >= 1"]


register_schema("toy", ToyConfig)
