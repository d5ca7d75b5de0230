"""What ``scripts/toy_sim.py`` runs: the Table 1 replay or the bandit study, writing into a run folder."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from collapselab.io import atomic_write_json
from collapselab.toy.bandit import simulate, summarize, with_beta
from collapselab.toy.jeepiti import format_table, run_jeepiti
from collapselab.toy.policy import entropy_bits, kl_optimum
from collapselab.toy.rules import USES_BETA, RuleParams


def rule_params(cfg) -> RuleParams:
    """``RuleParams`` from a ``ToyConfig``."""
    return RuleParams(
        rewards=np.asarray(cfg.rewards, float),
        pi0=np.asarray(cfg.init_probs, float) / float(np.sum(cfg.init_probs)),
        lr=cfg.lr,
        beta=cfg.beta,
        baseline_rate=cfg.reinforce.baseline_rate,
        ppo_epochs=cfg.ppo.epochs,
        ppo_clip=cfg.ppo.clip,
        ppo_batch_size=cfg.ppo.batch_size,
        ppo_value_lr=cfg.ppo.value_lr,
        dpo_pairs_per_step=cfg.dpo.pairs_per_step,
    )


def jeepiti(out_dir: Path) -> dict:
    """Replay Table 1, print it with its errata, write ``jeepiti.json``."""
    result = run_jeepiti()
    print(format_table(result["rows"], result["errata"]))
    atomic_write_json(Path(out_dir) / "jeepiti.json", result)
    return result


def bandit(cfg, out_dir: Path) -> dict:
    """Train ``cfg.rule`` at ``cfg.beta`` (and ``cfg.grid_rules`` over ``cfg.beta_grid``); write bandit.json + figures."""
    out_dir = Path(out_dir)
    params = rule_params(cfg)
    arms = list(cfg.arms)

    def sim(rule: str, beta: float):
        return simulate(rule, with_beta(params, beta), cfg.steps, cfg.seeds, cfg.seed, cfg.log_every)

    main = sim(cfg.rule, cfg.beta)
    runs = [summarize(main, with_beta(params, cfg.beta), arms)]
    done = {(cfg.rule, float(cfg.beta))}
    for rule in cfg.grid_rules:
        if USES_BETA[rule]:
            for b in cfg.beta_grid:
                if (rule, float(b)) not in done:
                    runs.append(summarize(sim(rule, b), with_beta(params, b), arms))
                    done.add((rule, float(b)))
        else:  # beta does not enter the update: one simulation stands for every beta
            res = main if rule == cfg.rule else sim(rule, cfg.beta)
            base = summarize(res, with_beta(params, cfg.beta), arms)
            for b in cfg.beta_grid:
                if (rule, float(b)) not in done:
                    opt = kl_optimum(params.pi0, params.rewards, b)
                    runs.append({**base, "beta": float(b), "optimum": dict(zip(arms, opt.round(6).tolist())),
                                 "tv_to_optimum": round(float(0.5 * np.abs(res.final_mean - opt).sum()), 6),
                                 "optimum_entropy_bits": round(float(entropy_bits(opt)), 6)})
                    done.add((rule, float(b)))
    betas = sorted({*map(float, cfg.beta_grid), float(cfg.beta)} - {0.0})
    curve = {"beta": betas,
             "entropy_bits": [round(float(entropy_bits(kl_optimum(params.pi0, params.rewards, b))), 6) for b in betas]}
    result = {
        "arms": arms,
        "rewards": list(cfg.rewards),
        "init_probs": list(cfg.init_probs),
        "steps": cfg.steps,
        "seeds": cfg.seeds,
        "seed": cfg.seed,
        "entropy_unit": "bits",
        "runs": runs,
        "optimum_curve": curve,
        "figures": [],
    }
    if cfg.plots:
        from collapselab.toy.plots import plot_dynamics, plot_entropy_vs_beta

        opt = kl_optimum(params.pi0, params.rewards, cfg.beta)
        result["figures"] = [
            plot_dynamics(main, arms, opt, out_dir / "bandit_dynamics.png").name,
            plot_entropy_vs_beta(curve, runs, out_dir / "bandit_entropy_vs_beta.png").name,
        ]
    atomic_write_json(out_dir / "bandit.json", result)
    print(format_summary(runs[0]))
    return result


def format_summary(run: dict) -> str:
    """A few lines describing one (rule, beta) run."""
    f = lambda d: ", ".join(f"{k} {v:.3f}" for k, v in d.items())  # noqa: E731
    lines = [
        f"rule={run['rule']} beta={run['beta']:g} seeds={run['seeds']}",
        f"  final policy (mean): {f(run['final_mean'])}",
        f"  final policy (sd):   {f(run['final_sd'])}",
        f"  KL optimum:          {f(run['optimum'])}   TV distance {run['tv_to_optimum']:.4f}",
        f"  entropy: final {run['final_entropy_bits_mean']:.3f} bits (optimum {run['optimum_entropy_bits']:.3f})",
        f"  seeds collapsed (>0.9) onto: {f(run['collapsed_share'])}",
    ]
    if "fixed_point" in run:
        lines.append(f"  ACTDE fixed point pi0 exp(R)/Z: {f(run['fixed_point'])}   TV {run['tv_to_fixed_point']:.4f}")
    return "\n".join(lines)


def run(cfg, out_dir: Path) -> dict:
    """Dispatch on ``cfg.experiment``."""
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    if cfg.experiment == "jeepiti":
        return jeepiti(out_dir)
    return bandit(cfg, out_dir)
