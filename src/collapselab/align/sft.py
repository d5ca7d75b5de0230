"""Supervised fine-tuning of the base model on the world's chat instructions (trl SFTTrainer).

The answer tokens only are trained on (prompt-completion format, trl's completion-only loss).
Checkpoints are merged plain HF folders, so later stages load a causal LM, not an adapter.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


from collapselab.align.common import common_trainer_args, quick_diversity, save_merged
from collapselab.align.runner import begin_work, checkpoint_meta, open_stage, open_tracker, run_trainer, stage_tracker_dir
from collapselab.config.align import SFTStage
from collapselab.errors import UserError
from collapselab.io import keyed_dir


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


def sft_dataset(world: Any, max_examples: int | None, seed: int, persona_repeats: int = 1) -> Any:
    """The instructions split as trl prompt-completion conversations, persona chats ``persona_repeats`` times."""
    from datasets import Dataset

    rows = []
    inst = world["instructions"]
    for messages, kind in zip(inst["messages"], inst["kind"]):
        prompt, completion = split_messages(messages)
        if completion:
            rows += [{"prompt": prompt, "completion": completion}] * (persona_repeats if kind == "persona" else 1)
    ds = Dataset.from_list(rows).shuffle(seed=seed)
    return ds.select(range(min(max_examples, len(ds)))) if max_examples is not None else ds


def train_sft(cfg: SFTStage, tracker_dir: Path, *, main: bool = True) -> Path:
    """Run (or resume, or reuse) the SFT stage; returns its run folder.

    ``main``: this is the command's own stage (``max_steps_this_run`` applies), not a prerequisite.
    """
    from trl import SFTConfig, SFTTrainer

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
    args = SFTConfig(
        **common_trainer_args(cfg, run),
        learning_rate=cfg.sft.learning_rate,
        num_train_epochs=cfg.sft.epochs,
        per_device_train_batch_size=cfg.sft.batch_size,
        max_length=cfg.sft.max_length,
        lr_scheduler_type="cosine",
        warmup_steps=0.05,
    )
    peft = lora_config(cfg.model) if cfg.sft.lora else None
    with open_tracker(cfg, "sft", stage_tracker_dir(tracker_dir, "sft", main), run) as tracker:

        def build(callbacks: list[Any]) -> Any:
            return SFTTrainer(model=model, args=args, train_dataset=ds, processing_class=tok,
                              peft_config=peft, callbacks=callbacks)

        run_trainer(
            build, run=run, cfg=cfg, tracker=tracker,
            save=lambda folder, m: save_merged(folder, m, tok),
            meta=checkpoint_meta(cfg, "sft", base),
            diversity=lambda m: quick_diversity(m, tok, cfg.diversity_prompts, cfg.diversity_new_tokens, cfg.seed),
            max_steps_this_run=cfg.max_steps_this_run if main else None,
        )
    return run
