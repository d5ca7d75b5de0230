"""One function per lab stage: ``stage_<name>(state) -> (key, result)``.

Training stages reuse finished runs themselves (their artifacts are keyed by config), so
here they only resolve paths; evaluation, toy, compare and report are skipped when the key
recorded in ``stages.json`` matches and their outputs exist.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from collapselab.config.app import as_dict
from collapselab.io import config_hash


def _memo_hit(state: Any, stage: str, key: str, must_exist: list[Path]) -> bool:
    memo_path = state.out_dir / "stages.json"
    if not memo_path.exists():
        return False
    memo = json.loads(memo_path.read_text())
    return memo.get(stage, {}).get("key") == key and all(p.exists() for p in must_exist)


def stage_world(state: Any) -> tuple[str, dict]:
    from collapselab.world import build_world

    cfg = state.compose("make_world", "world")
    path = build_world(cfg.world, cfg.artifacts_dir)
    return config_hash(as_dict(cfg.world)), {"path": str(path)}


def stage_base(state: Any) -> tuple[str, dict]:
    from collapselab.models import pretrain

    cfg = state.compose("pretrain", "pretrain")
    path = pretrain(cfg, log_dir=state.out_dir / "train" / "base")
    return config_hash(as_dict(cfg)), {"path": str(path)}


def _align(state: Any, name: str, extra: list[str] | None = None) -> tuple[Any, Path]:
    from collapselab import align

    cfg = state.compose(name, name, extra)
    run = getattr(align, f"train_{name}")(cfg, state.out_dir / "train" / name / (extra[0] if extra else name))
    return cfg, Path(run)


def stage_sft(state: Any) -> tuple[str, dict]:
    from collapselab.align.common import final_model

    cfg, run = _align(state, "sft")
    return config_hash(cfg.sft_key()), {"run": str(run), "model": str(final_model(run))}


def stage_reward(state: Any) -> tuple[str, dict]:
    from collapselab.align.common import final_model

    cfg, run = _align(state, "reward")
    return config_hash(cfg.reward_key()), {"run": str(run), "model": str(final_model(run))}


def _sweep(state: Any, name: str, betas: list[float]) -> tuple[str, dict]:
    from collapselab.align.common import final_model

    runs, keys = {}, []
    for b in betas:
        cfg, run = _align(state, name, [f"beta={b}"])
        runs[str(b)] = {"run": str(run), "model": str(final_model(run)), "beta": b}
        keys.append(cfg.run_key())
    return config_hash(keys), {"runs": runs}


def stage_ppo(state: Any) -> tuple[str, dict]:
    return _sweep(state, "ppo", list(state.cfg.lab.ppo_betas))


def stage_dpo(state: Any) -> tuple[str, dict]:
    return _sweep(state, "dpo", list(state.cfg.lab.dpo_betas))


def _results(state: Any, stage: str) -> dict:
    """A previous stage's result: from this run, or recomputed (cheap: training stages reuse their runs)."""
    if stage not in state.results:
        from collapselab.lab import stages

        state.results[stage] = getattr(stages, f"stage_{stage}")(state)[1]
    return state.results[stage]


def lab_checkpoints(state: Any) -> dict[str, Any]:
    """What the lab evaluates: base, SFT, and each aligned run (final checkpoint; all checkpoints)."""
    out = {"base": _results(state, "base")["path"], "sft": _results(state, "sft")["model"], "runs": {}}
    for algo in ("ppo", "dpo"):
        for b, r in _results(state, algo)["runs"].items():
            out["runs"][f"{algo}-b{b}"] = {"algo": algo, "beta": float(b), "run": r["run"], "final": r["model"]}
    return out


def stage_evaluate(state: Any) -> tuple[str, dict]:
    from collapselab.probes import evaluate

    ck = lab_checkpoints(state)
    reward = _results(state, "reward")["model"]
    finals = [ck["base"], ck["sft"], *[r["final"] for r in ck["runs"].values()]]
    steps = [r["run"] for r in ck["runs"].values()]
    full = state.compose("evaluate", "evaluate", [f"checkpoints=[{','.join(finals)}]", f"reward_model={reward}"])
    light = state.compose("evaluate", "evaluate_steps",
                          [f"checkpoints=[{','.join(steps)}]", f"reward_model={reward}"])
    key = config_hash([as_dict(full), as_dict(light)])
    full_dir, steps_dir = state.out_dir / "eval" / "final", state.out_dir / "eval" / "steps"
    if _memo_hit(state, "evaluate", key, [full_dir / "summary.json", steps_dir / "summary.json"]):
        return key, {"final_dir": str(full_dir), "steps_dir": str(steps_dir), "_cached": True}
    evaluate(full, full_dir)
    evaluate(light, steps_dir)
    return key, {"final_dir": str(full_dir), "steps_dir": str(steps_dir)}


def stage_toy(state: Any) -> tuple[str, dict]:
    from collapselab.toy.experiment import run

    jee = state.compose("toy", "toy", ["experiment=jeepiti"])
    grid = state.compose("toy", "toy", ["experiment=bandit", "grid_rules=[paper,reinforce,ppo,actde,dpo]"])
    key = config_hash([as_dict(jee), as_dict(grid)])
    jdir, bdir = state.out_dir / "toy" / "jeepiti", state.out_dir / "toy" / "bandit"
    if _memo_hit(state, "toy", key, [jdir / "jeepiti.json", bdir / "bandit.json"]):
        return key, {"jeepiti": str(jdir), "bandit": str(bdir), "_cached": True}
    run(jee, jdir)
    run(grid, bdir)
    return key, {"jeepiti": str(jdir), "bandit": str(bdir)}


def stage_compare(state: Any) -> tuple[str, dict]:
    from collapselab.probes.compare import compare

    ev = _results(state, "evaluate")
    cfg = state.compose("compare", "compare", [f"inputs=[{ev['final_dir']},{ev['steps_dir']}]"])
    out_dir = state.out_dir / "compare"
    key = config_hash([as_dict(cfg), _mtimes([ev["final_dir"], ev["steps_dir"]])])
    if _memo_hit(state, "compare", key, [out_dir / "compare.md"]):
        return key, {"dir": str(out_dir), "_cached": True}
    compare(cfg, out_dir)
    return key, {"dir": str(out_dir)}


def stage_report(state: Any) -> tuple[str, dict]:
    from collapselab.lab.report import build_report

    path = build_report(state)
    return config_hash(str(path)), {"index": str(path)}


def _mtimes(dirs: list[str]) -> list[float]:
    return [max((p.stat().st_mtime for p in Path(d).rglob("metrics.json")), default=0.0) for d in dirs]
