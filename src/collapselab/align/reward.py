"""Reward model (paper A2.2): a scalar head on the SFT weights, trained on annotator-labelled pairs
with trl's RewardTrainer (Llama-2's margin loss with ``reward.margin``, else plain Bradley-Terry);
reports held-out pairwise accuracy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from collapselab.align.common import common_trainer_args, save_merged
from collapselab.layout import final_model
from collapselab.align.pairs import build_pairs, preference_rows, read_pairs
from collapselab.align.runner import begin_work, checkpoint_meta, open_stage, open_tracker, run_trainer, stage_tracker_dir
from collapselab.align.sft import train_sft
from collapselab.config.align import RewardStage
from collapselab.io import atomic_write_json, keyed_dir
from collapselab.models.reward import load_reward_model, score_chats


def reward_run_dir(cfg: RewardStage) -> Path:
    return keyed_dir(cfg.artifacts_dir, "reward", cfg.reward_key())


def pairwise_accuracy(model: Any, tok: Any, rows: list[dict[str, Any]], batch_size: int = 32) -> float:
    """Share of pairs whose chosen answer the reward model scores above the rejected one."""
    if not rows:
        return float("nan")
    chosen = score_chats(model, tok, [r["prompt"] + r["chosen"] for r in rows], batch_size)
    rejected = score_chats(model, tok, [r["prompt"] + r["rejected"] for r in rows], batch_size)
    return float((chosen > rejected).mean())


def train_reward(cfg: RewardStage, tracker_dir: Path, *, main: bool = True) -> Path:
    """Run (or resume, or reuse) the reward stage; returns its run folder."""
    from datasets import Dataset
    from trl import RewardConfig, RewardTrainer

    from collapselab.models import lora_config

    run = reward_run_dir(cfg)
    if open_stage(cfg, "reward", run):
        return run
    sft = final_model(train_sft(cfg, tracker_dir, main=False))
    pairs = build_pairs(cfg, tracker_dir)
    train_rows = preference_rows(read_pairs(pairs, "train"), margin=cfg.reward.margin)
    eval_rows = read_pairs(pairs, "eval")
    begin_work(cfg)
    model, tok = load_reward_model(sft)
    peft = None
    if cfg.reward.lora:
        peft = lora_config(cfg.model)
        peft.task_type = "SEQ_CLS"
    args = RewardConfig(
        **common_trainer_args(cfg, run),
        learning_rate=cfg.reward.learning_rate,
        num_train_epochs=cfg.reward.epochs,
        per_device_train_batch_size=cfg.reward.batch_size,
        max_length=cfg.reward.max_length,
        lr_scheduler_type="cosine",
    )
    with open_tracker(cfg, "reward", stage_tracker_dir(tracker_dir, "reward", main), run) as tracker:

        def build(callbacks: list[Any]) -> Any:
            return RewardTrainer(model=model, args=args, train_dataset=Dataset.from_list(train_rows),
                                 processing_class=tok, peft_config=peft, callbacks=callbacks)

        def held_out(m: torch.nn.Module) -> dict[str, float]:
            return {"train/reward/heldout_accuracy": pairwise_accuracy(m, tok, eval_rows)}

        done = run_trainer(
            build, run=run, cfg=cfg, tracker=tracker,
            save=lambda folder, m: save_merged(folder, m, tok),
            meta=checkpoint_meta(cfg, "reward", sft),
            diversity=held_out,
            max_steps_this_run=cfg.max_steps_this_run if main else None,
        )
        if done is not None:
            rm, rtok = load_reward_model(final_model(run))
            acc = pairwise_accuracy(rm, rtok, eval_rows)
            atomic_write_json(run / "reward_metrics.json", {"heldout_accuracy": acc, "n_eval_pairs": len(eval_rows),
                                                             "n_train_pairs": len(train_rows)})
            tracker.summary({"reward/heldout_accuracy": acc})
            print(f"reward: held-out pairwise accuracy {acc:.3f} on {len(eval_rows)} pairs")
    return run
