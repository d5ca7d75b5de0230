"""What every alignment stage shares: resume points, the NaN guard, the Tracker callback,
saving, and the quick diversity check logged at each checkpoint. The run-folder layout
(``step-*``, ``latest``, ``done.json``, ``collapselab.json``) is ``collapselab.layout``'s.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from transformers import TrainerCallback

from collapselab.errors import UserError
from collapselab.io import atomic_write_json
from collapselab.layout import checkpoint_step, latest_checkpoint

# Loss-like keys the NaN guard watches (trl logs other keys, e.g. a ratio variance, that may be nan harmlessly).
LOSS_KEYS = ("loss", "train_loss", "loss/policy_avg", "loss/value_avg", "objective/scores", "objective/kl")


class NonFiniteLoss(UserError):
    """A NaN or inf loss: the run stops, keeping its last good checkpoint."""


class StopRun(Exception):
    """Raised inside a trainer's loop to end this invocation early (``max_steps_this_run``)."""


def save_merged(folder: Path, model: torch.nn.Module, tokenizer: Any) -> None:
    """Save a plain HF model folder (causal LM or reward model): a LoRA model is merged into a copy first."""
    import copy

    from peft import PeftModel

    if isinstance(model, PeftModel):
        model = copy.deepcopy(model).merge_and_unload()
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)


def patch_adapter_base(folder: Path, base: Path | str) -> None:
    """Point a saved PEFT adapter at ``base`` (absolute path), so it loads from anywhere."""
    cfg_path = Path(folder) / "adapter_config.json"
    cfg = json.loads(cfg_path.read_text())
    cfg["base_model_name_or_path"] = absolute_path(base)
    atomic_write_json(cfg_path, cfg)


def absolute_path(path: Path | str) -> str:
    """A local path made absolute (so it loads from any working directory); a hub name unchanged."""
    p = Path(path).expanduser()
    return str(p.resolve()) if p.exists() else str(path)


def check_finite_params(model: torch.nn.Module) -> None:
    """Refuse to checkpoint a model whose trainable weights went NaN / inf."""
    for name, p in model.named_parameters():
        if p.requires_grad and not torch.isfinite(p).all():
            raise NonFiniteLoss(f"parameter {name} is not finite; the last good checkpoint is kept")


def check_finite_logs(logs: dict[str, Any], step: int) -> None:
    for key in LOSS_KEYS:
        v = logs.get(key)
        if isinstance(v, (int, float)) and not math.isfinite(v):
            raise NonFiniteLoss(
                f"{key}={v} at step {step}: training diverged; the last good checkpoint is kept "
                "(lower the learning rate or raise beta)"
            )


def configure_threads(cfg: Any) -> None:
    """Set torch's CPU threads from ``cfg.num_threads`` (None: 1 for the tiny model on CPU)."""
    n = cfg.num_threads
    if n is None and cfg.model.is_tiny and not torch.cuda.is_available():
        n = 1
    if n is not None:
        torch.set_num_threads(n)


# --------------------------------------------------------------------------- callbacks


class TrackerCallback(TrainerCallback):
    """Forward the trainer's ``on_log`` rows to the Tracker as ``train/<key>`` (and guard against NaN).

    ``step_offset`` is added to the trainer's step (PPO restarts its counter on resume).
    """

    def __init__(self, tracker: Any, step_offset: int = 0):
        self.tracker = tracker
        self.step_offset = step_offset

    def on_log(self, args, state, control, logs=None, **kwargs):  # noqa: ANN001 - HF signature
        logs = dict(logs or {})
        step = state.global_step + self.step_offset
        check_finite_logs(logs, step)
        row = {f"train/{k}": v for k, v in logs.items() if isinstance(v, (int, float))}
        if row:
            self.tracker.log(row, step=step)


class CheckpointCallback(TrainerCallback):
    """For HF-Trainer stages (SFT, reward, DPO): export a contract checkpoint whenever the Trainer
    saves its own, and stop after ``max_steps_this_run`` steps of this invocation."""

    def __init__(self, export: Callable[[int, torch.nn.Module], None], max_steps_this_run: int | None = None):
        self.export = export
        self.max_steps_this_run = max_steps_this_run
        self.start_step: int | None = None

    def on_train_begin(self, args, state, control, **kwargs):  # noqa: ANN001
        self.start_step = state.global_step

    def on_step_end(self, args, state, control, **kwargs):  # noqa: ANN001
        if self.max_steps_this_run is not None and state.global_step - (self.start_step or 0) >= self.max_steps_this_run:
            control.should_training_stop = True
            control.should_save = True

    def on_save(self, args, state, control, model=None, **kwargs):  # noqa: ANN001
        self.export(state.global_step, model)


def trainer_resume_point(run: Path) -> str | None:
    """The Trainer checkpoint to resume from: the one matching ``latest`` (known complete), if any."""
    ckpt = latest_checkpoint(run)
    if ckpt is None:
        return None
    trainer_ckpt = Path(run) / "trainer" / f"checkpoint-{checkpoint_step(ckpt)}"
    return str(trainer_ckpt) if (trainer_ckpt / "trainer_state.json").is_file() else None


def common_trainer_args(cfg: Any, run: Path) -> dict[str, Any]:
    """TrainingArguments shared by the HF-Trainer stages: our own logging, checkpoints every ``save_every``."""
    return dict(
        output_dir=str(Path(run) / "trainer"),
        report_to="none",
        logging_steps=1,
        save_strategy="steps",
        save_steps=cfg.save_every,
        save_total_limit=2,
        seed=cfg.seed,
        data_seed=cfg.seed,
        disable_tqdm=not os.isatty(2),
        use_cpu=not torch.cuda.is_available(),
        bf16=cfg.model.dtype == "bfloat16" and torch.cuda.is_available(),
        dataloader_num_workers=0,
        gradient_checkpointing=cfg.model.gradient_checkpointing,
    )


# --------------------------------------------------------------------------- generation + diversity


def chat_prompt(tokenizer: Any, messages: list[dict[str, str]]) -> str:
    """The chat-formatted text that asks the model for the next assistant turn."""
    return tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)


def sample_texts(
    model: Any,
    tokenizer: Any,
    prompts: list[str],
    *,
    max_new_tokens: int,
    temperature: float = 1.0,
    batch_size: int = 32,
    seed: int = 0,
    desc: str | None = None,
) -> list[Any]:
    """One completion per prompt (already formatted text), by the probes' sampler.

    Returns ``probes.generation.Sample`` records (text, per-token log-probs and eq. 3.2
    entropies). A model in training mode is put back in training mode afterwards.
    """
    from collapselab.probes.generation import HFLanguageModel, sample_batched

    was_training = model.training
    try:
        lm = HFLanguageModel(model, tokenizer)
        return sample_batched(lm, prompts, max_new_tokens=max_new_tokens, temperature=temperature, seed=seed,
                              batch_size=batch_size, desc=desc)
    finally:
        model.train(was_training)


def quick_diversity(model: Any, tokenizer: Any, n: int, max_new_tokens: int, seed: int = 0) -> dict[str, float]:
    """A cheap diversity check on the persona request (Experiment 1's prompt, n samples).

    Returns ``train/diversity/{top5_bits, distinct_1, distinct_2}``.
    """
    from collapselab.metrics import distinct_n
    from collapselab.world.prompts import PERSONA_INSTRUCTION

    if n <= 0:
        return {}
    prompt = chat_prompt(tokenizer, [{"role": "user", "content": PERSONA_INSTRUCTION}])
    out = sample_texts(model, tokenizer, [prompt] * n, max_new_tokens=max_new_tokens, seed=seed, batch_size=n)
    texts = [s.text.strip() or "<empty>" for s in out]
    ents = [float(np.mean(s.top5_bits)) for s in out if s.top5_bits]
    return {
        "train/diversity/top5_bits": float(np.mean(ents)) if ents else float("nan"),
        "train/diversity/distinct_1": float(distinct_n(texts, 1)),
        "train/diversity/distinct_2": float(distinct_n(texts, 2)),
    }
