"""Train a K-armed bandit policy with one update rule over many seeds at once, and summarise it."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from collapselab.optimum import gamma
from collapselab.toy.policy import entropy_bits, kl_optimum, softmax, total_variation
from collapselab.toy.rules import USES_BETA, RuleParams, make_rule


@dataclass
class SimResult:
    """One (rule, beta) run over ``S`` seeds. Trajectories are recorded at ``steps_logged [T]``."""

    rule: str
    beta: float
    steps_logged: np.ndarray  # [T]
    probs_mean: np.ndarray  # [T, K] mean over seeds
    probs_sd: np.ndarray  # [T, K]
    entropy_mean: np.ndarray  # [T] bits
    entropy_sd: np.ndarray  # [T]
    final_probs: np.ndarray  # [S, K]
    typicality: float = 0.0  # alpha the rewards were trained with (R + alpha log pi0)

    @property
    def final_mean(self) -> np.ndarray:
        return self.final_probs.mean(axis=0)

    @property
    def final_sd(self) -> np.ndarray:
        return self.final_probs.std(axis=0)

    @property
    def final_entropy(self) -> np.ndarray:
        """``[S]`` final policy entropy per seed, bits."""
        return entropy_bits(self.final_probs)


def simulate(
    rule: str, params: RuleParams, steps: int, seeds: int, seed: int = 0, log_every: int = 10
) -> SimResult:
    """Run ``rule`` for ``steps`` updates on ``seeds`` independent policies, all starting at ``params.pi0``.

    Same arguments give the same numbers (one ``numpy.random.Generator`` seeded with ``seed``).
    """
    rng = np.random.default_rng(seed)
    theta = np.tile(np.log(np.asarray(params.pi0, float)), (seeds, 1))  # [S, K] logits of pi0
    updater = make_rule(rule, params, seeds)
    logged, p_mean, p_sd, h_mean, h_sd = [], [], [], [], []

    def record(t: int) -> None:
        pi = softmax(theta)
        h = entropy_bits(pi)
        logged.append(t)
        p_mean.append(pi.mean(0))
        p_sd.append(pi.std(0))
        h_mean.append(h.mean())
        h_sd.append(h.std())

    record(0)
    for t in range(1, steps + 1):
        updater.step(theta, rng)
        if t % log_every == 0 or t == steps:
            record(t)
    return SimResult(
        rule=rule,
        beta=params.beta,
        steps_logged=np.array(logged),
        probs_mean=np.array(p_mean),
        probs_sd=np.array(p_sd),
        entropy_mean=np.array(h_mean),
        entropy_sd=np.array(h_sd),
        final_probs=softmax(theta),
        typicality=params.typicality,
    )


def summarize(res: SimResult, params: RuleParams, arms: list[str]) -> dict:
    """The bandit.json entry for one (rule, beta, typicality): final policy vs the closed-form optimum
    ``pi0^gamma exp(R/beta) / Z``, gamma = 1 + typicality/beta (``collapselab.optimum``)."""
    alpha = params.typicality
    opt = kl_optimum(params.pi0, params.rewards, res.beta, alpha)
    final = res.final_mean
    out = {
        "rule": res.rule,
        "beta": res.beta,
        "typicality": alpha,
        "gamma": json_gamma(res.beta, alpha),
        "uses_beta": USES_BETA[res.rule],
        "seeds": int(res.final_probs.shape[0]),
        "final_mean": dict(zip(arms, final.round(6).tolist())),
        "final_sd": dict(zip(arms, res.final_sd.round(6).tolist())),
        "optimum": dict(zip(arms, opt.round(6).tolist())),
        "tv_to_optimum": round(float(total_variation(final, opt)), 6),
        "final_entropy_bits_mean": round(float(res.final_entropy.mean()), 6),
        "final_entropy_bits_sd": round(float(res.final_entropy.std()), 6),
        "optimum_entropy_bits": round(float(entropy_bits(opt)), 6),
        # share of seeds whose policy ended with > 0.9 on each arm (collapse onto that arm)
        "collapsed_share": dict(zip(arms, (res.final_probs > 0.9).mean(0).round(4).tolist())),
        "entropy_trajectory": {
            "step": res.steps_logged.tolist(),
            "mean": res.entropy_mean.round(5).tolist(),
            "sd": res.entropy_sd.round(5).tolist(),
        },
    }
    if res.rule == "actde":  # its fixed point is pi0 exp(R + alpha log pi0)/Z whatever beta is
        fp = kl_optimum(params.pi0, params.rewards, 1.0, alpha)
        out["fixed_point"] = dict(zip(arms, fp.round(6).tolist()))
        out["tv_to_fixed_point"] = round(float(total_variation(final, fp)), 6)
    return out


def with_beta(params: RuleParams, beta: float, typicality: float | None = None) -> RuleParams:
    alpha = params.typicality if typicality is None else float(typicality)
    return replace(params, beta=float(beta), typicality=alpha)


def json_gamma(beta: float, alpha: float) -> float | None:
    """gamma = 1 + alpha/beta for bandit.json: ``None`` (null) where it is infinite (beta 0, alpha > 0)."""
    g = gamma(beta, alpha)
    return None if g == float("inf") else round(g, 6)
