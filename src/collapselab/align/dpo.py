"""LoRA DPO from the SFT model on annotator-labelled pairs sampled from it (trl DPOTrainer).

DPO optimises the same KL-regularised objective as PPO (eq. 5.2) in closed form; ``beta`` is
its KL strength. The reference model is the SFT model (the adapter disabled).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from collapselab.align.common import common_trainer_args, patch_adapter_base, quick_diversity
from collapselab.layout import final_model
from collapselab.align.pairs import build_pairs, preference_rows, read_pairs
from collapselab.align.runner import begin_work, checkpoint_meta, open_stage, open_tracker, run_trainer
from collapselab.align.rs import start_policy
from collapselab.config.align import DPOStage
from collapselab.io import keyed_dir


def dpo_run_dir(cfg: DPOStage) -> Path:
    return keyed_dir(cfg.artifacts_dir, "dpo", cfg.run_key())


def save_adapter(folder: Path, model: torch.nn.Module, tok: Any, base: Path) -> None:
    """A PEFT adapter folder whose base is ``base`` (absolute), plus the tokenizer."""
    model.save_pretrained(folder)
    patch_adapter_base(folder, base)
    tok.save_pretrained(folder)


def train_dpo(cfg: DPOStage, tracker_dir: Path) -> Path:
    """Run (or resume) LoRA DPO with ``beta = cfg.beta``, building SFT and pairs if missing."""
    from datasets import Dataset
    from trl import DPOConfig, DPOTrainer

    from collapselab.models import load_causal_lm, lora_config

    run = dpo_run_dir(cfg)
    if open_stage(cfg, "dpo", run):
        return run
    sft = start_policy(cfg, tracker_dir)  # SFT, or RS with start=rs
    # the SFT pairs the reward model learns from, or (dpo.pairs_from=start) pairs sampled from the start policy
    if cfg.on_policy_pairs():
        pairs = build_pairs(cfg, tracker_dir, policy=sft, key=cfg.dpo_pairs_key())
    else:
        pairs = build_pairs(cfg, tracker_dir)
    rows = preference_rows(read_pairs(pairs, "train"))
    dtype = begin_work(cfg)
    model, tok = load_causal_lm(sft, dtype=dtype)
    args = DPOConfig(
        **common_trainer_args(cfg, run),
        beta=cfg.beta,
        loss_type=[cfg.dpo.loss_type, "sft"] if cfg.dpo.sft_weight > 0 else [cfg.dpo.loss_type],
        loss_weights=[1.0, cfg.dpo.sft_weight] if cfg.dpo.sft_weight > 0 else None,
        learning_rate=cfg.dpo.learning_rate,
        num_train_epochs=cfg.dpo.epochs,
        per_device_train_batch_size=cfg.dpo.batch_size,
        max_length=cfg.dpo.max_length,
        lr_scheduler_type="cosine",
    )
    with open_tracker(cfg, "dpo", tracker_dir, run) as tracker:

        def build(callbacks: list[Any]) -> Any:
            return DPOTrainer(model=model, ref_model=None, args=args, train_dataset=Dataset.from_list(rows),
                              processing_class=tok, peft_config=lora_config(cfg.model), callbacks=callbacks)

        run_trainer(
            build, run=run, cfg=cfg, tracker=tracker,
            save=lambda folder, m: save_adapter(folder, m, tok, sft),
            meta=checkpoint_meta(cfg, "dpo", sft),
            diversity=lambda m: quick_diversity(m, tok, cfg.diversity_prompts, cfg.diversity_new_tokens, cfg.seed),
            max_steps_this_run=cfg.max_steps_this_run,
        )
    return run
