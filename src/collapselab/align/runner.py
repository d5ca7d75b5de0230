"""Running one stage: its Tracker, and the resumable loop around an HF-Trainer-based trainer.

SFT, reward and DPO use the Trainer's own checkpoint folders for resume
(``resume_from_checkpoint``); each Trainer save also exports a contract checkpoint
(``checkpoints/step-XXXXXX``) and moves ``latest``, which is the resume point.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from collapselab.align.common import (
    absolute_path,
    CheckpointCallback,
    TrackerCallback,
    check_finite_params,
    configure_threads,
    trainer_resume_point,
)
from collapselab.layout import checkpoint_step, final_model, is_done, latest_checkpoint, mark_done, save_checkpoint
from collapselab.config import as_dict
from collapselab.io import check_writable
from collapselab.tracking import Tracker


def open_stage(cfg: Any, algo: str, run: Path) -> bool:
    """The opening every training stage shares: a writable artifacts folder, CPU threads, the reuse check.

    Returns True when ``run`` is already finished (the stage prints where its model is and
    does nothing else), False when the stage has work to do.
    """
    check_writable(cfg.artifacts_dir, "artifacts_dir")
    configure_threads(cfg)
    if is_done(run):
        print(f"{algo}: reusing {final_model(run)}")
        return True
    return False


def begin_work(cfg: Any) -> str:
    """Seed python, numpy and torch from ``cfg.seed``; return the dtype to train in.

    Called once a stage's prerequisites are built or reused and before its own random work
    (model loading, LoRA initialisation, the trainer). Whether this stage runs from the CLI,
    from a lab worker that ran other jobs before, or after building SFT in the same process,
    the random state here is the same, so the same config gives the same weights. (trl's
    PPOTrainer draws its LoRA initialisation before it seeds itself; an unseeded caller made
    the lab's PPO differ from the CLI's from the first update.)
    """
    from collapselab.seed import seed_everything

    seed_everything(cfg.seed)
    return "float32" if not torch.cuda.is_available() else cfg.model.dtype


def _is_multirun() -> bool:
    try:
        from hydra.core.hydra_config import HydraConfig
        from hydra.types import RunMode

        return HydraConfig.get().mode == RunMode.MULTIRUN
    except Exception:  # noqa: BLE001 - not inside a Hydra app
        return False


def open_tracker(cfg: Any, algo: str, tracker_dir: Path, run: Path) -> Tracker:
    """One W&B run per stage invocation; sweeps share the group ``<algo>-sweep``."""
    beta = getattr(cfg, "beta", None) if algo in ("ppo", "dpo") else None
    name = f"{algo}-beta{beta:g}" if beta is not None else algo
    group = cfg.logger.group or (f"{algo}-sweep" if _is_multirun() else None)
    config = {**as_dict(cfg), "algo": algo, "run_folder": str(run)}
    return Tracker(cfg.logger, tracker_dir, name=name, config=config, group=group, job_type=algo)


def stage_tracker_dir(tracker_dir: Path, algo: str, main: bool) -> Path:
    """The command's own stage logs in its run dir; prerequisites it builds in ``upstream/<algo>``."""
    return Path(tracker_dir) if main else Path(tracker_dir) / "upstream" / algo


def checkpoint_meta(cfg: Any, algo: str, base_model: Path | str) -> dict[str, Any]:
    return {"algo": algo, "beta": getattr(cfg, "beta", None) if algo in ("ppo", "dpo") else None,
            "base_model": absolute_path(base_model),
            "model_name": cfg.model.name}


def export_checkpoint(run: Path, step: int, model: torch.nn.Module, *, save: Callable[[Path, torch.nn.Module], None],
                      meta: dict[str, Any], tracker: Tracker,
                      diversity: Callable[[torch.nn.Module], dict[str, float]] | None = None) -> None:
    """Write checkpoint ``step`` of ``model`` (refusing non-finite weights) and log its diversity check."""
    check_finite_params(model)
    save_checkpoint(run, step, lambda tmp: save(tmp, model), meta)
    if diversity is not None:
        tracker.log(diversity(model), step=step)


def finish_run(run: Path, meta: dict[str, Any], step: int, t0: float) -> None:
    mark_done(run, {**meta, "step": step, "seconds_this_run": round(time.time() - t0, 1)})
    print(f"{meta['algo']}: done, {latest_checkpoint(run)}")  # as ppo prints it


def run_trainer(
    build: Callable[[list[Any]], Any],
    *,
    run: Path,
    cfg: Any,
    tracker: Tracker,
    save: Callable[[Path, torch.nn.Module], None],
    meta: dict[str, Any],
    diversity: Callable[[torch.nn.Module], dict[str, float]] | None = None,
    max_steps_this_run: int | None = None,
    finish: bool = True,
) -> int | None:
    """Train (resuming if a checkpoint exists), checkpoint every ``save_every`` steps, finish the run.

    ``build(callbacks)`` returns the trainer; ``save(folder, model)`` writes a loadable model.
    Returns the last step when the training is complete (``done.json`` written unless ``finish`` is
    False: a later phase finishes the run), None when it stopped early because of ``max_steps_this_run``.
    """
    t0 = time.time()

    def export(step: int, model: torch.nn.Module) -> None:
        export_checkpoint(run, step, model, save=save, meta=meta, tracker=tracker, diversity=diversity)

    trainer = build([TrackerCallback(tracker), CheckpointCallback(export, max_steps_this_run)])
    resume = trainer_resume_point(run)
    if resume:
        print(f"resuming from {resume}")
    trainer.train(resume_from_checkpoint=resume)
    step, max_steps = trainer.state.global_step, trainer.state.max_steps
    if step < max_steps:
        print(f"stopped at step {step} of {max_steps} (max_steps_this_run); rerun the same command to resume")
        return None
    ckpt = latest_checkpoint(run)
    if ckpt is None or checkpoint_step(ckpt) != step:
        export(step, trainer.model)
    if finish:
        finish_run(run, meta, step, t0)
    return step
