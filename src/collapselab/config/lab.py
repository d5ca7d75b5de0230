"""Schema for the whole-lab pipeline (``python scripts/lab.py``, ``make lab``).

The pipeline does not redeclare any stage's settings: each stage is composed from its own
primary config (``configs/<stage>.yaml``) with the override lists below, so every value is
checked by that stage's schema and a changed setting rebuilds exactly the artifacts it touches.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from collapselab.config.app import register_schema
from collapselab.config.common import LoggerConfig, writable

# what a user names in ``stages=[...]`` and what the lab reports times by; each is one job or
# several (``collapselab.lab.stages``), run by ``collapselab.lab.pipeline``
STAGES = ("world", "base", "sft", "reward", "ppo", "dpo", "rs", "evaluate", "mitigate", "toy", "compare", "report")


@dataclass
class LabPreset:
    """Sizes of one lab run: ``lab=default`` (~45 min on 2 cores, README) or ``lab=smoke`` (< 2 min)."""

    name: str = "default"
    model: list[str] = field(default_factory=list)  # model overrides for every model stage (model=tiny_test, model.*=...)
    world: list[str] = field(default_factory=list)  # world.*= overrides for every stage
    align: list[str] = field(default_factory=list)  # sft / reward / ppo / dpo / rs (they share sft.*, pairs.*, ...)
    ppo: list[str] = field(default_factory=list)
    dpo: list[str] = field(default_factory=list)
    rs: list[str] = field(default_factory=list)  # rejection sampling (training/rs.py) overrides
    # also run rejection-sampling fine-tuning from SFT (iterated best-of-N, Llama 2 section 3.2.3), scored by
    # the annotator with lab.typicality: the stage whose optimisation reaches the typicality optimum here
    run_rs: bool = True
    # the policy PPO and DPO start from and keep as their KL reference: "sft", or "rs" (the rejection-sampling
    # model, Llama 2's order: PPO on top of RS, Touvron et al. 2023 section 3.2.3; needs run_rs). The
    # alpha = 0 control then starts from the control's own RS model.
    align_start: str = "sft"
    ppo_betas: list[float] = field(default_factory=lambda: [0.005, 0.05, 0.5])
    dpo_betas: list[float] = field(default_factory=lambda: [0.05, 0.5])
    evaluate: list[str] = field(default_factory=list)  # full probe suite: base, SFT, final aligned checkpoints
    evaluate_steps: list[str] = field(default_factory=list)  # every intermediate checkpoint: a lighter probe set
    toy: list[str] = field(default_factory=list)
    steer: list[str] = field(default_factory=list)  # eval/steer.py overrides of the steer/sft job (e.g. n_answers=)
    # getting diversity back: each entry (name -> evaluate overrides, the decoding group's) decodes the final
    # checkpoint of each of mitigate_roles ("rs", "<ppo|dpo>-b<beta>", or "<ppo|dpo>-bmin": the smallest beta of
    # that sweep) with the entropy, semantic, persona and quality probes; conformative decoding's base is the
    # lab's pretrained base. The report compares them per role.
    mitigations: dict[str, list[str]] = field(default_factory=dict)
    mitigate_roles: list[str] = field(default_factory=lambda: ["rs"])  # [] runs no mitigation (a Hydra override
    # cannot empty the mitigations dict: ``lab.mitigations={}`` merges into the preset's entries)
    # the annotator's typicality bias alpha (Verbalized Sampling eq. 1; ``annotator.typicality`` of the
    # reward / PPO / DPO configs): the lab sets it there, predicts with it, and runs the alpha = 0 control
    typicality: float = 0.0
    # with typicality > 0: also align at alpha = 0 (own pairs and reward model, PPO and DPO at the
    # smallest beta of each sweep, persona probe only), so the report can tell typicality from optimisation
    control: bool = True

    def run_roles(self) -> list[str]:
        """The lab's aligned runs by role name: ``<ppo|dpo>-b<beta>`` for each beta of the sweeps, and ``rs``."""
        return [f"{a}-b{b}" for a in ("ppo", "dpo") for b in getattr(self, f"{a}_betas")] + ["rs"] * self.run_rs

    def mitigation_roles(self) -> list[str]:
        """``mitigate_roles`` with ``ppo-bmin`` / ``dpo-bmin`` read as the run at the smallest beta of that sweep (the
        most collapsed), so the preset's roles follow a changed sweep (``'lab.ppo_betas=[0.01,0.1]'``)."""
        out = []
        for role in self.mitigate_roles:
            algo, _, beta = str(role).partition("-b")
            betas = list(getattr(self, f"{algo}_betas", None) or []) if beta == "min" else []
            out.append(f"{algo}-b{min(betas)}" if betas else role)
        return out

    def problems(self) -> list[str]:
        out = []
        for name in ("ppo_betas", "dpo_betas"):
            bad = [b for b in getattr(self, name) if not isinstance(b, (int, float)) or b < 0]
            if bad:
                out.append(f"{name}={bad}: betas must be numbers >= 0")
        if self.mitigations and not out:
            roles, chosen = self.run_roles(), self.mitigation_roles()
            if any(r not in roles for r in chosen) or len(set(chosen)) < len(chosen):
                out.append(f"mitigate_roles={list(self.mitigate_roles)!r}: each must be one of the lab's runs "
                           f"({', '.join(roles)}) or ppo-bmin / dpo-bmin (the smallest beta of that sweep), none "
                           "twice ([] runs no mitigation)")
        for name, rule in self.mitigations.items():  # lab/eval_jobs.py: steer/sft names the SFT model's direction file
            if "decoding.direction=steer/sft" in rule and not any(o.split("=")[0] == "decoding.layer" for o in rule):
                out.append(f"mitigations.{name}: decoding.direction=steer/sft needs decoding.layer=<l> "
                           "(the steer/sft job writes one direction per layer)")
        if self.align_start not in ("sft", "rs"):
            out.append(f"align_start={self.align_start!r}: must be one of sft, rs")
        elif self.align_start == "rs" and not self.run_rs:
            out.append("align_start=rs: needs run_rs=true (PPO and DPO start from the rejection-sampling model)")
        elif self.align_start == "rs" and (other := [o for o in self.rs if not o.lstrip("+~").startswith("rs.")]):
            # PPO and DPO rebuild the RS model from rs.* keys only: anything else would make them start elsewhere
            out.append(f"rs={other}: with align_start=rs, lab.rs may hold rs.* overrides only")
        t = self.typicality
        if isinstance(t, bool) or not isinstance(t, (int, float)) or not math.isfinite(t) or t < 0:
            out.append(f"typicality={t!r}: must be a finite number >= 0")
        # one place sets alpha: the lab reads it for its prediction and its control
        bad = [o for o in self.align if o.lstrip("+~").split("=")[0] == "annotator.typicality"]
        if bad:
            out.append(f"align={bad}: set the annotator's alpha with lab.typicality=<alpha>, not in lab.align")
        return out


@dataclass
class LabConfig:
    lab: LabPreset = field(default_factory=LabPreset)
    out_dir: str = "outputs/lab"  # stage outputs (evaluations, toy, comparison)
    report_dir: str = "report"  # report/index.html and report/report.md
    artifacts_dir: str = "artifacts"  # models and data, shared with the stage entry points
    stages: list[str] = field(default_factory=list)  # run only these and what they need (default: all)
    workers: int | None = None  # jobs run side by side, one CPU thread each (None: one per core, at most 4)
    logger: LoggerConfig = field(default_factory=LoggerConfig)

    def problems(self) -> list[str]:
        bad = [s for s in self.stages if s not in STAGES]
        out = [f"stages={bad}: unknown (allowed: {', '.join(STAGES)})"] if bad else []
        if self.workers is not None and (isinstance(self.workers, bool) or self.workers < 1):
            out.append(f"workers={self.workers}: must be null (one per core) or an integer >= 1")
        # checked here, before Hydra makes its run folder under out_dir (configs/lab.yaml) and before any stage runs
        out += writable("out_dir", self.out_dir) + writable("report_dir", self.report_dir)
        return out


register_schema("lab", LabConfig)
