"""Supervised fine-tuning of the base model on the world's chat instructions (trl SFTTrainer).

The answer tokens only are trained on (prompt-completion format, trl's completion-only loss).
Checkpoints are merged plain HF folders, so later stages load a causal LM, not an adapter.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import numpy as np

from collapselab.align.common import quick_diversity, save_merged
from collapselab.align.runner import (
    begin_work,
    checkpoint_meta,
    export_checkpoint,
    finish_run,
    open_stage,
    open_tracker,
    run_trainer,
    stage_tracker_dir,
)
from collapselab.config.align import SFTStage
from collapselab.errors import UserError
from collapselab.io import keyed_dir
from collapselab.layout import checkpoint_name


def sft_run_dir(cfg: SFTStage) -> Path:
    return keyed_dir(cfg.artifacts_dir, "sft", cfg.sft_key())


def split_messages(messages: list[dict[str, str]]) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """A conversation -> (prompt turns, [final assistant turn]); the prompt alone if it has no answer."""
    if messages and messages[-1]["role"] == "assistant":
        return list(messages[:-1]), [dict(messages[-1])]
    return list(messages), []


def load_base(cfg: Any) -> Path:
    """Build (tiny: pretrain on the world) or resolve (a folder or hub name) the base model."""
    from collapselab.models import ensure_base

    return Path(ensure_base(cfg.model, cfg.world, Path(cfg.artifacts_dir)))


def chat_rows(world: Any) -> list[tuple[str, dict[str, Any]]]:
    """Every answered instruction as (kind, trl prompt-completion row), in the world's order."""
    inst = world["instructions"]
    out = []
    for messages, kind in zip(inst["messages"], inst["kind"]):
        prompt, completion = split_messages(messages)
        if completion:
            out.append((kind, {"prompt": prompt, "completion": completion}))
    return out


def sft_dataset(world: Any, max_examples: int | None, seed: int, persona_repeats: int = 1) -> Any:
    """The instructions split as trl prompt-completion conversations, persona chats ``persona_repeats`` times."""
    from datasets import Dataset

    rows = [row for kind, row in chat_rows(world) for _ in range(persona_repeats if kind == "persona" else 1)]
    ds = Dataset.from_list(rows).shuffle(seed=seed)
    return ds.select(range(min(max_examples, len(ds)))) if max_examples is not None else ds


def contrast_mix(world: Any, seed: int, other: str = "uniform", persona_repeats: int = 1) -> Any:
    """The second phase's data: every contrast chat (``world.contrast.CONTRAST_KINDS``) and as many other
    chats drawn at random (``seed``), shuffled; None if the world has no contrast chats. ``other``: "uniform"
    draws them from the non-contrast chats, "first_phase" from the first phase's mix (each persona chat
    ``persona_repeats`` times, so the second phase keeps the first's share of persona answers),
    "instructions" from that mix without the verbalized-sampling chats (persona, bio and Steve chats)."""
    from datasets import Dataset

    from collapselab.world.contrast import CONTRAST_KINDS
    from collapselab.world.instructions import KINDS

    rows = chat_rows(world)
    contrast = [row for kind, row in rows if kind in CONTRAST_KINDS]
    repeats = 1 if other == "uniform" else persona_repeats
    keep = KINDS if other == "instructions" else None
    pool = [row for kind, row in rows if kind not in CONTRAST_KINDS and (keep is None or kind in keep)
            for _ in range(repeats if kind == "persona" else 1)]
    if not contrast:
        return None
    return Dataset.from_list(contrast + draw_rows(pool, len(contrast), seed)).shuffle(seed=seed)


def draw_rows(rows: list[Any], n: int, seed: int) -> list[Any]:
    """``min(n, len(rows))`` of ``rows`` drawn without replacement by ``seed``, in their order."""
    pick = np.random.default_rng(seed).choice(len(rows), size=min(n, len(rows)), replace=False)
    return [rows[i] for i in sorted(pick)]


def replay_rows(world: Any, n: int, seed: int) -> list[dict[str, Any]]:
    """``n`` SFT chats (trl prompt-completion rows) of the kinds alignment does not train on (any kind but
    ``world.instructions.KINDS``: verbalized sampling, the contrast requests), drawn without replacement by
    ``seed``, in the world's order; all of them when there are fewer."""
    from collapselab.world.instructions import KINDS

    if n <= 0:
        return []
    return draw_rows([row for kind, row in chat_rows(world) if kind not in KINDS], n, seed)


def sft_args(cfg: Any, run: Path, *, lr: float, epochs: float, batch_size: int, max_length: int,
             scheduler: str, **extra: Any) -> Any:
    """trl ``SFTConfig`` for a fine-tuning run: ``common_trainer_args`` with ``extra`` on top."""
    from trl import SFTConfig

    from collapselab.align.common import common_trainer_args

    return SFTConfig(**{**common_trainer_args(cfg, run), **extra}, learning_rate=lr, num_train_epochs=epochs,
                     per_device_train_batch_size=batch_size, max_length=max_length, lr_scheduler_type=scheduler)


def fine_tune(model: Any, tok: Any, data: Any, args: Any, lora: bool, model_cfg: Any) -> tuple[Any, float]:
    """One trl ``SFTTrainer`` run of ``model`` on ``data`` (answer tokens only) without checkpoints; returns
    the trained model in eval mode (LoRA merged when ``lora``) and its mean training loss."""
    from trl import SFTTrainer

    from collapselab.models import lora_config

    peft = lora_config(model_cfg) if lora else None
    trainer = SFTTrainer(model=model, args=args, train_dataset=data, processing_class=tok, peft_config=peft)
    result = trainer.train()
    model = trainer.model.merge_and_unload() if peft is not None else trainer.model
    return model.eval(), float(result.training_loss)


def contrast_phase(cfg: SFTStage, model: Any, tok: Any, data: Any, run: Path) -> Any:
    """``sft.contrast_phase_epochs`` over ``contrast_mix`` at ``sft.contrast_phase_lr`` (cosine); returns the
    trained model. Deterministic for a seed: a run killed here redoes the phase."""
    args = sft_args(cfg, run, lr=cfg.sft.contrast_phase_lr, epochs=cfg.sft.contrast_phase_epochs,
                    batch_size=cfg.sft.batch_size, max_length=cfg.sft.max_length, scheduler="cosine",
                    output_dir=str(run / "trainer-contrast"), save_strategy="no", warmup_steps=0.05)
    return fine_tune(model, tok, data, args, cfg.sft.lora, cfg.model)[0]


def train_sft(cfg: SFTStage, tracker_dir: Path, *, main: bool = True) -> Path:
    """Run (or resume, or reuse) the SFT stage; returns its run folder.

    ``main``: this is the command's own stage (``max_steps_this_run`` applies), not a prerequisite.
    """
    from trl import SFTTrainer

    from collapselab.models import load_causal_lm, lora_config
    from collapselab.models.chat import set_chat_template
    from collapselab.world import load_world

    run = sft_run_dir(cfg)
    if open_stage(cfg, "sft", run):
        return run
    base = load_base(cfg)
    dtype = begin_work(cfg)
    try:
        model, tok = load_causal_lm(base, dtype=dtype)
    except UserError:
        raise
    except Exception as e:  # noqa: BLE001 - e.g. a config.json transformers rejects: one line, not a traceback
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise UserError(f"model.name_or_path={str(base)!r}: cannot be loaded as a causal LM ({first})") from None
    world = load_world(cfg.world, Path(cfg.artifacts_dir))  # after the model: a bad model path fails fast
    set_chat_template(tok, cfg.model.chat_template)  # saved with every checkpoint: later stages inherit it
    ds = sft_dataset(world, cfg.sft.max_examples, cfg.seed, cfg.sft.persona_repeats)
    args = sft_args(cfg, run, lr=cfg.sft.learning_rate, epochs=cfg.sft.epochs, batch_size=cfg.sft.batch_size,
                    max_length=cfg.sft.max_length, scheduler="cosine", warmup_steps=0.05)
    peft = lora_config(cfg.model) if cfg.sft.lora else None
    with open_tracker(cfg, "sft", stage_tracker_dir(tracker_dir, "sft", main), run) as tracker:

        def build(callbacks: list[Any]) -> Any:
            return SFTTrainer(model=model, args=args, train_dataset=ds, processing_class=tok,
                              peft_config=peft, callbacks=callbacks)

        meta = checkpoint_meta(cfg, "sft", base)

        def diversity(m: Any) -> dict[str, float]:
            return quick_diversity(m, tok, cfg.diversity_prompts, cfg.diversity_new_tokens, cfg.seed)

        phase2 = (contrast_mix(world, cfg.seed, cfg.sft.contrast_other, cfg.sft.persona_repeats)
                  if cfg.sft.contrast_phase_lr > 0 else None)
        if cfg.sft.contrast_phase_lr > 0 and phase2 is None:
            print("sft: the world has no contrast chats (world.n_contrast=0): no second phase")
        t0 = time.time()
        first_steps = run_trainer(
            build, run=run, cfg=cfg, tracker=tracker,
            save=lambda folder, m: save_merged(folder, m, tok),
            meta=meta,
            diversity=diversity,
            max_steps_this_run=cfg.max_steps_this_run if main else None,
            finish=phase2 is None,
        )
        if first_steps is not None and phase2 is not None:  # from the first phase's end, also after a resume
            first = run / "checkpoints" / checkpoint_name(first_steps)
            print(f"sft: second phase, {len(phase2)} chats (half contrast) from {first.name}")
            model, _ = load_causal_lm(first, dtype=dtype)
            model = contrast_phase(cfg, model, tok, phase2, run)
            step = first_steps + math.ceil(cfg.sft.contrast_phase_epochs * math.ceil(len(phase2) / cfg.sft.batch_size))
            export_checkpoint(run, step, model, save=lambda folder, m: save_merged(folder, m, tok), meta=meta,
                              tracker=tracker, diversity=diversity)
            finish_run(run, meta, step, t0)
    return run
