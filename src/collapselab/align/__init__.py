"""Alignment stages as thin wrappers over trl: SFT, preference pairs, reward model, LoRA PPO and DPO,
rejection-sampling fine-tuning.

Each ``train_*`` function builds its missing prerequisites (base, world, SFT, pairs, reward),
reuses the ones made from the same upstream config, writes atomic checkpoints every
``save_every`` steps under ``<artifacts_dir>/<algo>/<config hash>/`` and resumes from the
newest one when run again. See docs/alignment.md.
"""

from collapselab.layout import final_model, latest_checkpoint, list_checkpoints
from collapselab.align.dpo import dpo_run_dir, train_dpo
from collapselab.align.pairs import build_pairs, pairs_dir, read_pairs
from collapselab.align.ppo import ppo_run_dir, train_ppo
from collapselab.align.reward import reward_run_dir, train_reward
from collapselab.align.rs import rs_run_dir, train_rs
from collapselab.align.sft import sft_run_dir, train_sft

__all__ = [
    "build_pairs",
    "dpo_run_dir",
    "final_model",
    "latest_checkpoint",
    "list_checkpoints",
    "pairs_dir",
    "ppo_run_dir",
    "read_pairs",
    "reward_run_dir",
    "rs_run_dir",
    "sft_run_dir",
    "train_dpo",
    "train_ppo",
    "train_reward",
    "train_rs",
    "train_sft",
]
