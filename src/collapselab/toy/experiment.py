"""What ``scripts/toy_sim.py`` runs: the Table 1 replay or the bandit study, writing into a run folder."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from collapselab.io import atomic_write_json
from collapselab.optimum import gamma
from collapselab.toy.bandit import json_gamma, simulate, summarize, with_beta
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
        typicality=cfg.typicality,
    )


def jeepiti(out_dir: Path) -> dict:
    """Replay Table 1, print it with its errata, write ``jeepiti.json``."""
    result = run_jeepiti()
    print(format_table(result["rows"], result["errata"]))
    atomic_write_json(Path(out_dir) / "jeepiti.json", result)
    return result


def bandit(cfg, out_dir: Path) -> dict:
    """Train ``cfg.rule`` at ``cfg.beta`` (and ``cfg.grid_rules`` over ``cfg.beta_grid`` x typicality values);
    write bandit.json + figures. Typicality alpha adds ``alpha log pi0`` to the training reward; the closed
    form is then ``pi0^gamma exp(R/beta) / Z``, gamma = 1 + alpha/beta (``collapselab.optimum``)."""
    out_dir = Path(out_dir)
    params = rule_params(cfg)
    arms = list(cfg.arms)
    alpha0 = float(cfg.typicality)
    alphas = list(dict.fromkeys([alpha0, *map(float, cfg.typicality_grid)]))  # the main one first, no repeats

    def sim(rule: str, beta: float, alpha: float):
        return simulate(rule, with_beta(params, beta, alpha), cfg.steps, cfg.seeds, cfg.seed, cfg.log_every)

    main = sim(cfg.rule, cfg.beta, alpha0)
    runs = [summarize(main, with_beta(params, cfg.beta, alpha0), arms)]
    done = {(cfg.rule, float(cfg.beta), alpha0)}
    for rule in cfg.grid_rules:
        for a in alphas:
            if USES_BETA[rule]:
                for b in cfg.beta_grid:
                    if (rule, float(b), a) not in done:
                        runs.append(summarize(sim(rule, b, a), with_beta(params, b, a), arms))
                        done.add((rule, float(b), a))
                continue
            # beta does not enter the update: one simulation (per alpha) stands for every beta
            res = main if (rule, a) == (cfg.rule, alpha0) else sim(rule, cfg.beta, a)
            base = summarize(res, with_beta(params, cfg.beta, a), arms)
            for b in cfg.beta_grid:
                if (rule, float(b), a) not in done:
                    opt = kl_optimum(params.pi0, params.rewards, b, a)
                    runs.append({**base, "beta": float(b), "gamma": json_gamma(b, a),
                                 "optimum": dict(zip(arms, opt.round(6).tolist())),
                                 "tv_to_optimum": round(float(0.5 * np.abs(res.final_mean - opt).sum()), 6),
                                 "optimum_entropy_bits": round(float(entropy_bits(opt)), 6)})
                    done.add((rule, float(b), a))
    betas = sorted({*map(float, cfg.beta_grid), float(cfg.beta)} - {0.0})

    def curve(a: float) -> dict:
        return {"typicality": a, "beta": betas, "gamma": [json_gamma(b, a) for b in betas],
                "entropy_bits": [round(float(entropy_bits(kl_optimum(params.pi0, params.rewards, b, a))), 6)
                                 for b in betas]}

    curves = [curve(a) for a in alphas]
    result = {
        "arms": arms,
        "rewards": list(cfg.rewards),
        "init_probs": list(cfg.init_probs),
        "typicality": alpha0,
        "steps": cfg.steps,
        "seeds": cfg.seeds,
        "seed": cfg.seed,
        "entropy_unit": "bits",
        "runs": runs,
        "optimum_curve": curves[0],  # at cfg.typicality (what the lab report draws)
        "optimum_curves": curves,  # one per typicality value: cfg.typicality, then typicality_grid
        "figures": [],
    }
    if cfg.plots:
        from collapselab.toy.plots import plot_dynamics, plot_entropy_vs_beta

        opt = kl_optimum(params.pi0, params.rewards, cfg.beta, alpha0)
        result["figures"] = [
            plot_dynamics(main, arms, opt, out_dir / "bandit_dynamics.png").name,
            plot_entropy_vs_beta(curves, runs, out_dir / "bandit_entropy_vs_beta.png").name,
        ]
    atomic_write_json(out_dir / "bandit.json", result)
    print(format_summary(runs[0]))
    return result


def format_summary(run: dict) -> str:
    """A few lines describing one (rule, beta, typicality) run."""
    f = lambda d: ", ".join(f"{k} {v:.3f}" for k, v in d.items())  # noqa: E731
    head = f"rule={run['rule']} beta={run['beta']:g} seeds={run['seeds']}"
    if run["typicality"]:  # the reward trained on was R + alpha log pi0
        g = gamma(run["beta"], run["typicality"])
        head += f" typicality={run['typicality']:g} (gamma = 1 + alpha/beta = {g:g})"
    lines = [
        head,
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
    """Dispatch on ``cfg.experiment``; mirror the result to W&B when ``cfg.logger`` asks for it."""
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    result = jeepiti(out_dir) if cfg.experiment == "jeepiti" else bandit(cfg, out_dir)
    if cfg.logger.backend != "none":
        _track(cfg, Path(out_dir), result)
    return result


def _track(cfg, out_dir: Path, result: dict) -> None:
    """Tables, headline numbers and figures to W&B; jeepiti.json / bandit.json stay the local copy."""
    from collapselab.config import as_dict
    from collapselab.tracking import Tracker

    with Tracker(cfg.logger, out_dir, name=f"toy-{cfg.experiment}", config=as_dict(cfg), job_type="toy") as tr:
        if cfg.experiment == "jeepiti":
            cols = ["t", "action", "reward", "advantage", "value"]
            arms = list(result["rows"][0]["probs"])
            tr.log_table("toy/jeepiti", cols + [f"pi({a})" for a in arms],
                         [[r[c] for c in cols] + [r["probs"][a] for a in arms] for r in result["rows"]])
            tr.summary({"toy/jeepiti/errata": len(result["errata"])})
            return
        cols = ["rule", "beta", "typicality", "gamma", "tv_to_optimum", "final_entropy_bits_mean",
                "optimum_entropy_bits"]
        tr.log_table("toy/bandit_runs", cols, [[r[c] for c in cols] for r in result["runs"]])
        tr.summary({f"toy/{k}": result["runs"][0][k] for k in cols[4:]})
        tr.log_images({f"toy/{Path(f).stem}": out_dir / f for f in result["figures"]})
