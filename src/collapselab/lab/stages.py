"""The lab's jobs: each stage is one job or several (one per beta, one per evaluated run).

A job has a cheap ``key`` (its composed config, hashed: no training, no model loading) and a
``run`` that does the work and returns ``(result, outputs)``: a small dict of paths for the
jobs downstream, and the files whose existence proves the job finished. The pipeline skips a
job whose key matches the one recorded in ``<out_dir>/stages.json`` and whose outputs exist,
and runs the rest, in parallel where the dependencies allow (``lab/pipeline.py``).

    world -> base -> sft -> reward -> ppo/<beta>, dpo/<beta> -> evaluate/<run>, evaluate/steps/<run>
                        sft -> rs (lab.run_rs) -> evaluate/rs, evaluate/steps/rs
                               rs -> ppo/<beta>, dpo/<beta> (lab.align_start=rs: they start from the RS model)
    toy (independent)                  evaluate/base, evaluate/sft (after reward)
                                       reward, evaluate/<start> -> score/start (reward-model scores and log pi_ref
                                       of the personas of the policy PPO and DPO start from: sft or rs)
    with lab.typicality > 0 and lab.control (the alpha = 0 control, smallest beta of each sweep):
                            sft -> reward/control -> ppo/control/<beta>, dpo/control/<beta>
                                                  -> evaluate/control-ppo-b<beta>, ... (persona probe only)
                            sft -> rs/control -> evaluate/control-rs (with lab.run_rs)
                                       evaluate/sft -> steer/sft (creativity directions, their score's validation)
    every evaluate job but the control's -> compare;  every evaluate job, score/start, steer/sft, toy -> report

The report job hands the report a ``LabRun`` (``lab_run``): the report never sees the scheduler.
"""

from __future__ import annotations

import copy

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from collapselab.config.app import as_dict, result_settings
from collapselab.errors import UserError
from collapselab.io import config_hash
from collapselab.lab.eval_jobs import (
    RS_ROLE,
    Result,
    control_eval_dir,
    eval_dirs,
    eval_key,
    mitigation_job,
    mitigation_key,
    uses_sft_direction,
    run_eval,
    run_mitigation,
    run_steer,
    steer_key,
    target_job,
)
from collapselab.lab.results import AlignedRun, LabRun, evaluation_dir, persona_samples, texts_digest, write_scores
from collapselab.layout import final_model
from collapselab.models import pretrain
from collapselab.models.pretrain import auto_threads
from collapselab.models.reward import reward_scores
from collapselab.toy.experiment import run as run_toy
from collapselab.world import build_world
from collapselab.world.prompts import PERSONA_INSTRUCTION

# The alignment stages, the probes and the report (through the metrics registry and its figures)
# import torch, transformers, trl or matplotlib: only the jobs that run them import them. A worker
# must not import torch before ``pipeline._worker_init`` has set OMP_NUM_THREADS, and importing
# the pipeline imports this module.


@dataclass
class Job:
    name: str  # "ppo/0.05", "evaluate/sft", ...
    stage: str  # one of config.lab.STAGES
    deps: tuple[str, ...]
    key: Callable[[Any], str]
    run: Callable[[Any], Result]
    kind: str  # what its time estimate is keyed by (pipeline.DEFAULT_SECONDS)
    local: bool = False  # runs in the lab's own process (cheap, and needs every other result)
    all_cores: bool = False  # gets every CPU thread (pretraining: large batches scale with threads)
    always: bool = False  # never reused (the report: it also lists this run's times)
    after: tuple[str, ...] = ()  # scheduling only: start after these (when they are part of this run)
    tags: dict[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------- training jobs


def _world(state: Any) -> Any:
    return state.compose("make_world", "world")


def _run_world(state: Any) -> Result:
    cfg = _world(state)
    path = build_world(cfg.world, cfg.artifacts_dir)
    return {"path": str(path)}, [str(path)]


def _base(state: Any) -> Any:
    return state.compose("pretrain", "pretrain")


def _run_base(state: Any) -> Result:
    path = pretrain(_base(state), log_dir=state.out_dir / "train" / "base")
    return {"path": str(path)}, [str(path)]


# the control's one difference from the lab's own runs: labels without typicality bias (its artifact keys
# follow: pairs, reward model and runs are the ones an alpha = 0 lab makes)
CONTROL = ["annotator.typicality=0.0"]
# the rejection-sampling control's own null: the same rounds of fine-tuning on the model's own answers with no
# selection (best-of-1), so the report can tell what fine-tuning on its own samples narrows from what picking does
NO_SELECTION = ["rs.n_samples=1"]
SELF_RUN = "rs/control-self"  # its job; its evaluation role is control_role("rs-self", None)


def control_betas(lab: Any) -> dict[str, float]:
    """The control's runs, ``{algo: beta}`` (the smallest beta of each sweep); empty when none runs:
    the lab's typicality alpha is 0 (its runs are their own control) or ``lab.control`` is false."""
    if not (lab.typicality > 0 and lab.control):
        return {}
    return {algo: min(bs) for algo in ("ppo", "dpo") if (bs := list(getattr(lab, f"{algo}_betas")))}


def control_role(algo: str, beta: float | None) -> str:
    return f"control-{algo}" if beta is None else f"control-{algo}-b{beta}"


def control_runs(lab: Any) -> dict[str, float | None]:
    """``control_betas`` plus rejection sampling (``{"rs": None}``) when the lab runs it."""
    betas: dict[str, float | None] = dict(control_betas(lab))
    if betas and lab.run_rs:
        betas["rs"] = None
    return betas


def _align_cfg(state: Any, name: str, beta: float | None = None, threads: int | None = None,
               control: bool | str = False) -> Any:
    """A stage's config in the lab; ``control``: True for the alpha = 0 control, "self" for its RS without
    selection (``NO_SELECTION``)."""
    extra = [f"beta={beta}"] if beta is not None else []
    extra += [f"start={state.cfg.lab.align_start}"] if name in ("ppo", "dpo") else []
    extra += [f"num_threads={threads}"] if threads else []
    extra += (CONTROL if control else []) + (NO_SELECTION if control == "self" else [])
    return state.compose(name, name, extra)


def _threads(state: Any, name: str) -> int | None:
    """CPU threads for a training job: what the scheduler gave it, at most what the tiny model uses well."""
    n = getattr(state, "threads", None)
    if n and n > 1:
        cfg = _align_cfg(state, name)
        n = min(n, auto_threads(cfg.model.hidden_size)) if cfg.model.is_tiny else n
    return n


def _align_key(state: Any, name: str, beta: float | None = None, control: bool | str = False) -> str:
    cfg = _align_cfg(state, name, beta, control=control)
    key = {"sft": "sft_key", "reward": "reward_key"}.get(name, "run_key")
    return config_hash(getattr(cfg, key)())


def _run_align(state: Any, name: str, beta: float | None = None, control: bool | str = False) -> Result:
    from collapselab import align  # torch, trl

    # num_threads is in no artifact key
    cfg = _align_cfg(state, name, beta, _threads(state, name), control=control)
    logs = state.out_dir / "train" / ("control" if control else "")
    folder = logs / name / (f"beta={beta}" if beta is not None else name + ("-self" if control == "self" else ""))
    run = Path(getattr(align, f"train_{name}")(cfg, folder))
    result = {"run": str(run), "model": str(final_model(run))}
    if beta is not None:
        result["beta"] = float(beta)
    return result, [str(run / "done.json")]


# --------------------------------------------------------------------------- toy, compare, report


def _toy_cfgs(state: Any) -> tuple[Any, Any]:
    return (state.compose("toy", "toy", ["experiment=jeepiti"]),
            state.compose("toy", "toy", ["experiment=bandit", "grid_rules=[paper,reinforce,ppo,actde,dpo]"]))


def _run_toy(state: Any) -> Result:
    jee, grid = _toy_cfgs(state)
    jdir, bdir = state.out_dir / "toy" / "jeepiti", state.out_dir / "toy" / "bandit"
    run_toy(jee, jdir)
    run_toy(grid, bdir)
    return {"jeepiti": str(jdir), "bandit": str(bdir)}, [str(jdir / "jeepiti.json"), str(bdir / "bandit.json")]


def _compare_cfg(state: Any) -> Any:
    final_dir, steps_dir = eval_dirs(state)
    return state.compose("compare", "compare", [f"inputs=[{final_dir},{steps_dir}]"])


def compare_dir(state: Any) -> Path:
    return state.out_dir / "compare"


def _run_compare(state: Any) -> Result:
    from collapselab.probes.compare import compare  # torch

    out_dir = compare_dir(state)
    compare(_compare_cfg(state), out_dir)
    return {"dir": str(out_dir)}, [str(out_dir / "compare.md")]


def _compare_key(state: Any) -> str:
    return config_hash([as_dict(_compare_cfg(state)), _mtimes(eval_dirs(state))])


def start_role(lab: Any) -> str:
    """The role of the policy PPO and DPO start from (pi0 of their KL objective): sft, or rs."""
    return RS_ROLE if lab.align_start == "rs" else "sft"


def _start_personas(state: Any) -> list[str]:
    """The starting policy's persona samples (texts, in file order) from its final evaluation."""
    role = start_role(state.cfg.lab)
    folder = evaluation_dir(Path(state.results[f"evaluate/{role}"]["dir"]), state.results[target_job(role)]["model"])
    return [r["text"] for r in persona_samples(folder)] if folder else []


def scores_path(state: Any) -> Path:
    return state.out_dir / "score" / f"{start_role(state.cfg.lab)}.json"


def _score_key(state: Any) -> str:
    # the reward model's and the base's paths carry their config hashes; the texts, whatever evaluated them;
    # the reduce rule of log pi_ref (the reward config's annotator node); QUALITY_RULE: the annotator's own score
    reduce = _align_cfg(state, "reward").annotator.typicality_reduce
    return config_hash([state.results["reward"]["model"], PERSONA_INSTRUCTION, texts_digest(_start_personas(state)),
                        state.results["base"]["path"], reduce, QUALITY_RULE])


# how the score job computes each persona's annotator quality (the prediction's r_quality): in the key, so a
# score file written before it (no quality) is made again
QUALITY_RULE = "Annotator().score(request, answer.strip()) / temperature"


def _run_score(state: Any) -> Result:
    """Reward-model scores of the starting policy's persona samples, their log pi_ref under the base and the
    annotator's quality score: the weights exp(R / beta) and exp((r_quality + alpha log pi_ref) / beta) of the
    report's two predictions."""
    from collapselab.align.pairs import reference_logprobs  # torch
    from collapselab.world.annotator import Annotator

    texts, reward = _start_personas(state), state.results["reward"]["model"]
    requests = [PERSONA_INSTRUCTION] * len(texts)
    cfg = _align_cfg(state, "reward")  # its annotator node holds the reduce rule, its model and world the base
    # the annotator's own typicality rule (align.pairs.reference_logprobs: what the base reads before the
    # answer, and the reduce), on the answer stripped as the pairs' answers are, so alpha means the same here
    ref = reference_logprobs(cfg, requests, [t.strip() for t in texts]) if texts else []
    # r_quality on the labels' Bradley-Terry scale, as the pairs' annotator scores an answer (stripped)
    annotator = Annotator()
    quality = [annotator.score(q, t.strip()) / annotator.temperature for q, t in zip(requests, texts, strict=True)]
    path = write_scores(scores_path(state), texts, reward_scores(reward, requests, texts), ref_logp=np.asarray(ref),
                        quality=np.asarray(quality), quality_rule=QUALITY_RULE,
                        reward_model=str(reward), instruction=PERSONA_INSTRUCTION,
                        base_model=state.results["base"]["path"],
                        typicality_reduce=cfg.annotator.typicality_reduce,
                        ref_rule="align.pairs.reference_logprobs(request, answer.strip())")
    return {"path": str(path)}, [str(path)]


def _pairs(state: Any, control: bool = False) -> Path:
    """The folder of the pairs the lab's reward model (or the control's) was trained on."""
    from collapselab.align.pairs import pairs_dir  # torch: the report job imports it anyway

    return pairs_dir(_align_cfg(state, "reward", control=control))


def lab_run(state: Any) -> LabRun:
    """The lab's results as the report reads them, from the job results (every job the report waits for)."""
    r = state.results
    final_dir, steps_dir = eval_dirs(state)
    runs = {}
    for algo in ("ppo", "dpo"):
        for b in getattr(state.cfg.lab, f"{algo}_betas"):
            res = r[f"{algo}/{b}"]
            runs[(algo, float(b))] = AlignedRun(algo, float(b), f"{algo}-b{b}", Path(res["run"]), Path(res["model"]))
    controls = {}
    for algo, b in control_runs(state.cfg.lab).items():
        res = r[f"{algo}/control/{b}" if b is not None else f"{algo}/control"]
        beta = float(b) if b is not None else None
        controls[(algo, beta)] = AlignedRun(algo, beta, control_role(algo, b), Path(res["run"]), Path(res["model"]))
    if controls and SELF_RUN in r:  # the RS control's null: no selection
        res = r[SELF_RUN]
        controls[("rs-self", None)] = AlignedRun("rs-self", None, control_role("rs-self", None), Path(res["run"]),
                                                 Path(res["model"]))
    rs = AlignedRun("rs", None, RS_ROLE, Path(r["rs"]["run"]), Path(r["rs"]["model"])) if "rs" in r else None
    mitigations = {role: {n: Path(r[j]["dir"]) for n in state.cfg.lab.mitigations if (j := mitigation_job(role, n)) in r}
                   for role in state.cfg.lab.mitigation_roles()}
    toy = r.get("toy") or {}
    return LabRun(
        base=Path(r["base"]["path"]), sft=Path(r["sft"]["model"]), reward=Path(r["reward"]["model"]), runs=runs,
        eval_final=final_dir, eval_steps=steps_dir, start_scores=Path(r["score/start"]["path"]),
        start_role=start_role(state.cfg.lab),
        typicality=float(state.cfg.lab.typicality), controls=controls,
        eval_control=control_eval_dir(state) if controls else None, rs=rs, mitigations=mitigations,
        pairs=_pairs(state), pairs_control=_pairs(state, control=True) if controls else None,
        toy_jeepiti=Path(toy["jeepiti"]) if "jeepiti" in toy else None,
        toy_bandit=Path(toy["bandit"]) if "bandit" in toy else None,
        steer=Path(r["steer/sft"]["dir"]) if "steer/sft" in r else None,
        compare=compare_dir(state), world=Path(r["world"]["path"]) if "world" in r else None,
        stage_times=dict(state.times), job_times=dict(state.job_times),
        last_job_times={**state.last_job_times, **{k: v for k, v in state.job_times.items() if v > 0}})


def _run_report(state: Any) -> Result:
    from collapselab.lab.report import build_report  # torch (metrics), matplotlib

    path = build_report(lab_run(state), state.cfg)
    return {"index": str(path)}, [str(path)]


def _mtimes(dirs: tuple[Path, ...]) -> list[float]:
    return [max((p.stat().st_mtime for p in Path(d).rglob("metrics.json")), default=0.0) for d in dirs]


# --------------------------------------------------------------------------- the graph


def build_jobs(state: Any) -> dict[str, Job]:
    """Every job of the lab, in an order that respects the dependencies (cheap: nothing is composed yet)."""
    p = state.cfg.lab
    jobs: list[Job] = [
        Job("world", "world", (), lambda s: config_hash(as_dict(_world(s).world)), _run_world, "world"),
        # the toy needs nothing, but waits for pretraining so that it never holds back a job that takes every core
        Job("toy", "toy", (), lambda s: config_hash([as_dict(c) for c in _toy_cfgs(s)]), _run_toy, "toy",
            after=("base",)),
        Job("base", "base", ("world",), lambda s: config_hash(result_settings(_base(s))), _run_base, "base",
            all_cores=True),
        # SFT and the reward model wait for each other: they run alone, on every core (batches of 16
        # full sequences, full fine-tuning: 2 threads ~1.7x faster than one on the tiny model)
        Job("sft", "sft", ("base",), lambda s: _align_key(s, "sft"), lambda s: _run_align(s, "sft"), "sft",
            all_cores=True),
        Job("reward", "reward", ("sft",), lambda s: _align_key(s, "reward"), lambda s: _run_align(s, "reward"),
            "reward", all_cores=True),
    ]
    if p.run_rs:  # needs SFT (and, for its typicality term, the base) only; it starts once the reward models,
        # which take every core, are done, so that it and its control run side by side (jobs not in the lab: ignored)
        jobs.append(Job("rs", "rs", ("sft",), lambda s: _align_key(s, "rs"), lambda s: _run_align(s, "rs"), "rs",
                        after=("reward", "reward/control")))
    roles = ["base", "sft"]
    for algo in ("ppo", "dpo"):
        for b in getattr(p, f"{algo}_betas"):
            jobs.append(Job(f"{algo}/{b}", algo, start_deps(p, "reward"),  # pairs come from the reward job
                            lambda s, a=algo, b=b: _align_key(s, a, b), lambda s, a=algo, b=b: _run_align(s, a, b),
                            algo, tags={"beta": float(b)}))
            roles.append(f"{algo}-b{b}")
    if p.run_rs:
        roles.append(RS_ROLE)
    evals = []
    for role in roles:
        dep = target_job(role)
        for light in ([False, True] if role not in ("base", "sft") else [False]):
            name = f"evaluate/steps/{role}" if light else f"evaluate/{role}"
            evals.append(name)
            jobs.append(Job(name, "evaluate", tuple(dict.fromkeys([dep, "reward"])),
                            lambda s, r=role, lt=light: eval_key(s, r, lt),
                            lambda s, r=role, lt=light: run_eval(s, r, lt), "evaluate_steps" if light else "evaluate"))
    # scoring loads the reward model and the base (torch): a worker job, reused while they and the samples stay
    # the creativity direction of the SFT model and its score's validation against the world's surprisal
    jobs.append(Job("steer/sft", "evaluate", ("evaluate/sft",), steer_key, run_steer, "steer"))
    jobs.append(Job("score/start", "evaluate", ("reward", f"evaluate/{start_role(p)}"), _score_key, _run_score,
                    "score"))
    jobs.append(Job("compare", "compare", tuple(evals), _compare_key, _run_compare, "compare"))
    controls = _control_jobs(p)
    jobs += controls
    # the report reads the evaluations, the scores and the toy (not compare's curves): it is written while
    # compare runs
    control_evals = [j.name for j in controls if j.stage == "evaluate"]
    # each mitigation: one decoding rule on the final checkpoint of each of lab.mitigate_roles (diversity and
    # quality probes)
    mitigations = [Job(mitigation_job(role, n), "mitigate",
                       (target_job(role), "reward", "base", *(["steer/sft"] if uses_sft_direction(p.mitigations[n]) else [])),
                       lambda s, r=role, n=n: mitigation_key(s, r, n), lambda s, r=role, n=n: run_mitigation(s, r, n),
                       "mitigate")
                   for role in p.mitigation_roles() for n in p.mitigations]
    jobs += mitigations
    jobs.append(Job("report", "report", ("toy", *evals, "score/start", "steer/sft", *control_evals,
                                         *[j.name for j in mitigations]),
                    lambda s: "", _run_report, "report", local=True, always=True))
    return {j.name: j for j in jobs}


class _Placeholders(dict):
    """``LabState.results`` before any job ran: every job's result names the same placeholder path (configs check
    that a checkpoint exists only when the job that reads it runs)."""

    def __missing__(self, job: str) -> dict[str, str]:
        return {k: "checked-before-the-lab-runs" for k in ("path", "model", "run", "dir")}


def check_configs(state: Any, jobs: dict[str, Job]) -> None:
    """Compose the config of every job in ``jobs`` before any of them runs (through its own key, with placeholder
    results for the jobs it reads), so that a mistyped or refused override in a ``lab.<stage>`` list
    (``lab.ppo=[ppo.lrr=1]``, ``lab.align=[seed=-1]``) is one line at the start, not a failed job after the stages
    before it. The score job's key reads its samples and the report has no config: both are left out. Raises
    UserError."""
    early = copy.copy(state)
    early.results = _Placeholders()
    for name, job in jobs.items():
        if job.stage != "report" and name != "score/start":
            try:
                job.key(early)
            except UserError as e:
                raise UserError(f"lab job {name} (its stage's config with the lab's overrides): {e}") from None


def start_deps(p: Any, reward: str) -> tuple[str, ...]:
    """What a PPO or DPO job waits for: its reward job (the pairs are built there, never twice) and, with
    ``lab.align_start=rs``, the rejection-sampling job whose model it starts from (the control's for the control)."""
    if p.align_start != "rs":
        return (reward,)
    return (reward, "rs/control" if reward.endswith("/control") else "rs")


def _control_jobs(p: Any) -> list[Job]:
    """The alpha = 0 control (``control_runs``): its own pairs and reward model, one PPO and one DPO run
    at the smallest beta, and rejection sampling, each evaluated with the persona probe only."""
    betas = control_betas(p)
    if not betas:
        return []
    jobs = []
    if p.run_rs:
        role = control_role("rs", None)
        jobs += [Job("rs/control", "rs", ("sft",), lambda s: _align_key(s, "rs", control=True),
                     lambda s: _run_align(s, "rs", control=True), "rs", tags={"control": True},
                     after=("reward/control",)),
                 Job(f"evaluate/{role}", "evaluate", ("rs/control",), lambda s, r=role: eval_key(s, r, False),
                     lambda s, r=role: run_eval(s, r, False), "evaluate_persona", tags={"control": True})]
        self_role = control_role("rs-self", None)
        jobs += [Job(SELF_RUN, "rs", ("sft",), lambda s: _align_key(s, "rs", control="self"),
                     lambda s: _run_align(s, "rs", control="self"), "rs", tags={"control": True},
                     after=("reward/control",)),
                 Job(f"evaluate/{self_role}", "evaluate", (SELF_RUN,), lambda s, r=self_role: eval_key(s, r, False),
                     lambda s, r=self_role: run_eval(s, r, False), "evaluate_persona", tags={"control": True})]
    jobs += [Job("reward/control", "reward", ("sft",), lambda s: _align_key(s, "reward", control=True),
                lambda s: _run_align(s, "reward", control=True), "reward", all_cores=True, tags={"control": True})]
    for algo, b in betas.items():
        run, role = f"{algo}/control/{b}", control_role(algo, b)
        jobs.append(Job(run, algo, start_deps(p, "reward/control"),
                        lambda s, a=algo, b=b: _align_key(s, a, b, control=True),
                        lambda s, a=algo, b=b: _run_align(s, a, b, control=True), algo,
                        tags={"beta": float(b), "control": True}))
        jobs.append(Job(f"evaluate/{role}", "evaluate", (run,), lambda s, r=role: eval_key(s, r, False),
                        lambda s, r=role: run_eval(s, r, False), "evaluate_persona", tags={"control": True}))
    return jobs


def read_memo(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text()) if path.exists() else {}
