"""The lab's evaluation jobs: what each evaluates, with which config, and where it writes.

A role names what is evaluated: ``base``, ``sft``, ``<algo>-b<beta>`` (a PPO or DPO run), ``rs``
(rejection sampling), ``control-...`` (an alpha = 0 control run, persona probe only). Final
checkpoints go to ``<out_dir>/eval/final/<role>/``, every checkpoint of a run to
``eval/steps/<role>/``, the controls to ``eval/control/<role>/``, and the mitigations (one
decoding rule each on each of ``lab.mitigate_roles``' final checkpoints, ``lab.mitigations``) to
``eval/mitigate/<role>/<name>/``. ``lab/stages.py`` puts these functions into the job graph.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from collapselab.config.app import as_dict, result_settings
from collapselab.io import config_hash
from collapselab.layout import CHAT_ALGOS

Result = tuple[dict, list[str]]
RS_ROLE = "rs"  # rejection sampling's role (it has no beta)
# the probes a mitigation is measured on: diversity (entropy, Grace Hopper bios, personas) beside quality; the review
# sentences are not clustered (the mitigation tables read no review k; at k_max 10 it took ~28 s of a 41-72 s job)
MITIGATION_PROBES = ("probes=[entropy,semantic,persona,quality]", "persona.review_clusters=false")


def eval_dirs(state: Any) -> tuple[Path, Path]:
    """Where final and per-step evaluations go: ``eval/final/<role>/<checkpoint>/`` and ``eval/steps/...``."""
    return state.out_dir / "eval" / "final", state.out_dir / "eval" / "steps"


def control_eval_dir(state: Any) -> Path:
    """Where the control runs' evaluations go (apart from ``eval_dirs``: compare's curves leave them out)."""
    return state.out_dir / "eval" / "control"


def mitigation_dir(state: Any) -> Path:
    """Where the mitigations' evaluations go: ``eval/mitigate/<role>/<name>/<checkpoint>/``."""
    return state.out_dir / "eval" / "mitigate"


def mitigation_job(role: str, name: str) -> str:
    """The job that decodes ``role``'s final checkpoint with mitigation ``name``: ``mitigate/<role>/<name>``."""
    return f"mitigate/{role}/{name}"


def is_control(role: str) -> bool:
    return role.startswith("control-")


def eval_cfg(state: Any, checkpoint: str, light: bool, role: str = "") -> Any:
    if is_control(role):  # the persona probe only: the attributes the control is about (no reward model needed)
        return state.compose("evaluate", "evaluate", [f"checkpoints=[{checkpoint}]", "probes=[persona]"])
    reward = state.results["reward"]["model"]
    return state.compose("evaluate", "evaluate_steps" if light else "evaluate",
                         [f"checkpoints=[{checkpoint}]", f"reward_model={reward}"])


def eval_target(state: Any, role: str, light: bool) -> str:
    if role == "base":
        return state.results["base"]["path"]
    if role == "sft":
        return state.results["sft"]["model"]
    if role.startswith(f"control-{RS_ROLE}"):  # control-rs: job rs/control; control-rs-self: rs/control-self
        return state.results[f"{RS_ROLE}/control{role.removeprefix(f'control-{RS_ROLE}')}"]["model"]
    if is_control(role):
        algo, beta = role.removeprefix("control-").split("-b", 1)
        return state.results[f"{algo}/control/{beta}"]["model"]
    if role == RS_ROLE:
        run = state.results["rs"]
        return run["run"] if light else run["model"]
    algo, beta = role.split("-b", 1)
    run = state.results[f"{algo}/{beta}"]
    return run["run"] if light else run["model"]  # a run folder means every checkpoint in step order


def target_job(role: str) -> str:
    """The training job whose model ``role`` evaluates (``ppo-b0.05`` -> ``ppo/0.05``, ``rs`` -> ``rs``)."""
    return {"base": "base", "sft": "sft"}.get(role) or role.replace("-b", "/", 1)


def run_eval(state: Any, role: str, light: bool) -> Result:
    from collapselab.probes import evaluate  # torch

    final_dir, steps_dir = eval_dirs(state)
    out = control_eval_dir(state) / role if is_control(role) else (steps_dir if light else final_dir) / role
    report = evaluate(eval_cfg(state, eval_target(state, role, light), light, role), out)
    return {"dir": str(out)}, [str(out / name / "metrics.json") for name in report.results]


# what an evaluation measures beyond its config: rules in the code that read each checkpoint's metadata. A job key
# carries them, so changing one re-runs the evaluations (write the new rule's name when a rule changes)
# base_model=auto: base NLL under the lineage's pretrained base (was: the parent), and the pretrained base's quality
# probe under itself (was: entropy/base_nll only; its quality/base_nll read n/a)
BASE_NLL_RULE = "pretrained_root+own_quality"
# a cached sample set is named by its size too (probes.cache): its samples no longer depend on a smaller or larger set
# cached first (was: "prefix", which extended or cut a cached set)
SAMPLE_SET_RULE = "sized"
# the quality probe's keys: an evaluation made before it wrote quality/annotator_mean (the annotator's own score) is
# made again (its samples come from the cache)
QUALITY_KEYS_RULE = "annotator_mean"
# the bounds of a count, a cluster k and the MBTI coverage are whole counts, rounded outward (were: the re-centred
# percentiles, 41.98 nationalities)
INTERVAL_RULE = "whole_counts"


def job_settings(cfg: Any) -> dict:
    """An evaluation's settings as its job key sees them: the config (``result_settings``) and the code's rules that
    read each checkpoint rather than the config: which checkpoints answer in the chat format (``layout.CHAT_ALGOS``,
    for ``prompt_format=auto``), which model ``base_model=auto`` scores base NLL under (``BASE_NLL_RULE``) and how the
    sample cache names a set (``SAMPLE_SET_RULE``), which keys the quality probe writes (``QUALITY_KEYS_RULE``), and how
    a count's interval is bounded (``INTERVAL_RULE``)."""
    return {**result_settings(cfg), "chat_algos": list(CHAT_ALGOS), "base_nll": BASE_NLL_RULE,
            "sample_sets": SAMPLE_SET_RULE, "quality_keys": QUALITY_KEYS_RULE, "intervals": INTERVAL_RULE}


def eval_key(state: Any, role: str, light: bool) -> str:
    return config_hash(job_settings(eval_cfg(state, eval_target(state, role, light), light, role)))


def mitigation_cfg(state: Any, role: str, name: str) -> Any:
    """The evaluate config of mitigation ``name`` on ``role`` (one of ``lab.mitigate_roles``): the lab's evaluate
    settings on that role's final checkpoint, the diversity and quality probes, and the mitigation's own decoding overrides;
    conformative decoding's base model is the lab's pretrained base (the model the instruct one came from)."""
    p = state.cfg.lab
    extra = list(p.mitigations[name])
    if any(o.split("=")[0] == "decoding" and o.split("=", 1)[1] == "conformative" for o in extra):
        extra.append(f"decoding.base={state.results['base']['path']}")
    if uses_sft_direction(extra):  # the SFT model's validated direction (the steer/sft job's file) at the rule's layer
        layer = next(o.split("=", 1)[1] for o in extra if o.split("=")[0] == "decoding.layer")  # LabPreset checks it
        path = Path(state.results["steer/sft"]["dir"]) / f"direction-l{layer}.npz"
        extra = [f"decoding.direction={path}" if o == f"decoding.direction={SFT_DIRECTION}" else o for o in extra]
    return state.compose("evaluate", "evaluate", [
        f"checkpoints=[{eval_target(state, role, False)}]", f"reward_model={state.results['reward']['model']}",
        *MITIGATION_PROBES, "tsne=false", *extra])


def run_mitigation(state: Any, role: str, name: str) -> Result:
    from collapselab.probes import evaluate  # torch

    out = mitigation_dir(state) / role / name
    report = evaluate(mitigation_cfg(state, role, name), out)
    return {"dir": str(out)}, [str(out / n / "metrics.json") for n in report.results]


def mitigation_key(state: Any, role: str, name: str) -> str:
    cfg = job_settings(mitigation_cfg(state, role, name))
    if uses_sft_direction(state.cfg.lab.mitigations[name]):  # the file's path stays; what made it is in the key
        cfg = {"evaluate": cfg, "direction_from": steer_key(state)}
    return config_hash(cfg)


# a mitigation rule's `decoding.direction=steer/sft`: steer with the direction the lab's steer/sft job computed and
# validated on the SFT model (its direction-l<layer>.npz), the same vector for every run descended from SFT
SFT_DIRECTION = "steer/sft"


def uses_sft_direction(overrides: list[str]) -> bool:
    return f"decoding.direction={SFT_DIRECTION}" in overrides


# --------------------------------------------------------------------------- creativity steering's validation

def steer_cfg(state: Any) -> Any:
    """eval/steer.py's config for the SFT model at every layer, on the persona samples its evaluation drew
    (the same count, length, batch and seed, so they come from the sample cache)."""
    sft = state.results["sft"]["model"]
    ev = state.compose("evaluate", "evaluate", [f"checkpoints=[{sft}]"])
    return state.compose("steer", "steer", [
        f"checkpoint={sft}", "layer=all", f"n_samples={ev.persona.n_samples}",
        f"max_new_tokens={ev.persona.max_new_tokens}", f"batch_size={ev.batch_size}", f"seed={ev.seed}",
        *state.cfg.lab.steer])


def run_steer(state: Any) -> Result:
    from collapselab.steering.validate import steer_validation  # torch

    out = state.out_dir / "steer" / "sft"
    steer_validation(steer_cfg(state), out)
    return {"dir": str(out)}, [str(out / "steer.json")]


def steer_key(state: Any) -> str:
    return config_hash(as_dict(steer_cfg(state)))
