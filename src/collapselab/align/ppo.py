"""LoRA PPO from the SFT model against the reward model (trl.experimental.ppo, paper sec. 5.2).

The reward each rollout gets is R(a|s) = R_c(a|s) - beta * KL(pi || pi_0) (eq. 5.2): trl's
``kl_coef`` is ``beta``; pi_0 is the SFT model (the policy with its LoRA adapter disabled).
The value model starts as a copy of the reward model.

Resume: trl's PPOTrainer has no ``resume_from_checkpoint``, so each checkpoint also stores
``ppo_state.pt`` (the value model's trainable weights, optimizer and LR-scheduler state, the
update count, and the python / numpy / torch random states, as torchtune keeps them). A rerun
loads the adapter and that state, builds the trainer for the full run with the same seed (so
the LR schedule and the prompt order are the same), fast-forwards the prompt loader past the
batches already used, restores the random states and stops when the total number of updates
is reached: a run killed after any checkpoint ends with the weights of an uninterrupted run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from transformers import TrainerCallback

from collapselab.align.common import (
    StopRun,
    TrackerCallback,
    chat_prompt,
    check_finite_params,
    patch_adapter_base,
    quick_diversity,
)
from collapselab.layout import checkpoint_step, final_model, latest_checkpoint, mark_done, save_checkpoint
from collapselab.align.reward import load_reward_model, train_reward
from collapselab.align.runner import begin_work, checkpoint_meta, open_stage, open_tracker
from collapselab.align.rs import start_policy
from collapselab.align.sft import split_messages
from collapselab.config.align import PPOStage
from collapselab.errors import UserError
from collapselab.io import keyed_dir

STATE_FILE = "ppo_state.pt"


def ppo_run_dir(cfg: PPOStage) -> Path:
    return keyed_dir(cfg.artifacts_dir, "ppo", cfg.run_key())


def prompt_dataset(world: Any, tok: Any, batch_size: int) -> Any:
    """Every instruction's prompt, chat-formatted and tokenized: a Dataset with ``input_ids``.

    Prompts repeat (the world has a few phrasings per kind); they are kept, so rollouts follow
    the instruction mix. trl's PPO loader drops incomplete batches and loops forever on a set
    smaller than one batch, hence the check.
    """
    from datasets import Dataset

    from collapselab.world import alignment_messages

    cache: dict[str, list[int]] = {}
    ids = []
    for messages in alignment_messages(world):
        text = chat_prompt(tok, split_messages(messages)[0])
        if text not in cache:
            cache[text] = tok(text, add_special_tokens=False)["input_ids"]
        ids.append(cache[text])
    if len(ids) < batch_size:
        raise UserError(f"ppo.batch_size={batch_size}: the world has only {len(ids)} instruction prompts "
                        "(raise world.n_instructions or lower ppo.batch_size)")
    return Dataset.from_dict({"input_ids": ids})


def rng_state() -> dict[str, Any]:
    """Every random state an update draws from (python, numpy, torch CPU and CUDA)."""
    import random

    import numpy as np

    return {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None}


def set_rng_state(state: dict[str, Any]) -> None:
    import random

    import numpy as np

    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if state.get("cuda") is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def seed_prompt_order(loader: Any, seed: int) -> None:
    """Give the prompt loader's shuffle its own generator, seeded once: the order of every epoch then
    depends on ``seed`` alone, not on the global random state when the epoch starts (which the
    rollouts' sampling moves), so a resumed run can replay it. (On several processes accelerate
    has already given the sampler a synchronised generator; it is kept.)"""
    bs = loader.batch_sampler
    sampler = getattr(getattr(bs, "batch_sampler", bs), "sampler", None)
    if sampler is not None and hasattr(sampler, "generator") and sampler.generator is None:
        sampler.generator = torch.Generator().manual_seed(int(seed))


class ResumedLoader:
    """A data loader iterated as if its first ``n`` batches had already been drawn, with the random
    states of the moment the killed run saved its checkpoint.

    The shuffle order comes from the loader's own generator (``seed_prompt_order``), so skipping
    ``n`` batches (across epochs if need be) lands where the killed run stood. The random states
    are restored here, just before the first batch is handed out, because trl's ``train()`` draws
    from the global generator before its first rollout: restored any earlier they would be moved.
    """

    def __init__(self, loader: Any, n: int, rng: dict[str, Any] | None):
        self.loader, self.n, self.rng = loader, n, rng

    def __len__(self) -> int:
        return len(self.loader)

    def __iter__(self) -> Any:
        it = iter(self.loader)
        while self.n > 0:
            try:
                next(it)
            except StopIteration:  # an epoch ended inside the skipped part: the next one starts
                it = iter(self.loader)
                continue
            self.n -= 1
        if self.rng is not None:  # checkpoints written before the random states were kept have none
            set_rng_state(self.rng)
            self.rng = None
        yield from it


def trainable_state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {n: p.detach().cpu().clone() for n, p in model.named_parameters() if p.requires_grad}


class PPOCheckpointCallback(TrainerCallback):
    """Checkpoint every ``save_every`` updates (adapter + ``ppo_state.pt``), stop at the end or early.

    PPOTrainer restarts ``global_step`` at 0 on every ``train()``; ``offset`` is the update
    count restored from the checkpoint, so ``offset + global_step`` is the run's update.
    """

    def __init__(self, cfg: PPOStage, run: Path, tok: Any, sft: Path, tracker: Any, offset: int):
        self.cfg, self.run, self.tok, self.sft, self.tracker, self.offset = cfg, run, tok, sft, tracker, offset
        self.trainer: Any = None  # set once the trainer exists

    def save(self, step: int) -> None:
        rng = rng_state()  # first: the state the next update starts from
        trainer = self.trainer
        policy = trainer.accelerator.unwrap_model(trainer.model).policy
        value = trainer.accelerator.unwrap_model(trainer.model).value_model
        check_finite_params(policy)
        check_finite_params(value)

        def write(tmp: Path) -> None:
            policy.save_pretrained(tmp)
            patch_adapter_base(tmp, self.sft)
            self.tok.save_pretrained(tmp)
            torch.save(
                {"step": step, "value": trainable_state(value), "optimizer": trainer.optimizer.state_dict(),
                 "scheduler": trainer.lr_scheduler.state_dict(), "rng": rng},
                tmp / STATE_FILE,
            )

        save_checkpoint(self.run, step, write, checkpoint_meta(self.cfg, "ppo", self.sft))
        self.tracker.log(quick_diversity(policy, self.tok, self.cfg.diversity_prompts,
                                         self.cfg.diversity_new_tokens, self.cfg.seed), step=step)

    def on_step_end(self, args, state, control, **kwargs):  # noqa: ANN001 - HF signature
        step = self.offset + state.global_step
        last = step >= self.cfg.ppo.updates
        if step % self.cfg.save_every == 0 or last:
            self.save(step)
        limit = self.cfg.max_steps_this_run
        if last or (limit is not None and state.global_step >= limit):
            raise StopRun(step)


def _restore(ckpt: Path, policy: Any, value: Any) -> tuple[Any, dict[str, Any]]:
    from peft import PeftModel

    state = torch.load(ckpt / STATE_FILE, map_location="cpu", weights_only=False)
    policy = PeftModel.from_pretrained(policy, ckpt, is_trainable=True)
    missing = value.load_state_dict(state["value"], strict=False).unexpected_keys
    if missing:
        raise RuntimeError(f"{ckpt / STATE_FILE}: value weights do not match the value model ({missing[:3]})")
    return policy, state


def train_ppo(cfg: PPOStage, tracker_dir: Path) -> Path:
    """Run (or resume) LoRA PPO with ``kl_coef = cfg.beta``, building SFT, pairs and reward if missing."""
    from trl.experimental.ppo import PPOConfig, PPOTrainer

    from collapselab.models import load_causal_lm, lora_config
    from collapselab.world import load_world

    run = ppo_run_dir(cfg)
    if open_stage(cfg, "ppo", run):
        return run
    sft = start_policy(cfg, tracker_dir)  # SFT, or RS with start=rs
    rm_path = final_model(train_reward(cfg, tracker_dir, main=False))
    dtype = begin_work(cfg)
    policy, tok = load_causal_lm(sft, dtype=dtype)
    reward_model, _ = load_reward_model(rm_path)
    value_lora = None
    if cfg.ppo.value_lora:
        value_lora = lora_config(cfg.model)
        value_lora.task_type = "SEQ_CLS"
    value_model, _ = load_reward_model(rm_path, lora_cfg=value_lora)
    dataset = prompt_dataset(load_world(cfg.world, Path(cfg.artifacts_dir)), tok, cfg.ppo.batch_size)

    ckpt = latest_checkpoint(run)
    offset, state, peft = 0, None, lora_config(cfg.model)
    if ckpt is not None:
        offset = checkpoint_step(ckpt)
        policy, state = _restore(ckpt, policy, value_model)
        peft = None
        print(f"ppo: resuming from {ckpt} (update {offset} of {cfg.ppo.updates})")
    args = PPOConfig(
        output_dir=str(run / "trainer"), report_to="none", save_strategy="no", logging_steps=1,
        seed=cfg.seed,  # the same prompt order after a resume (the loader is fast-forwarded below)
        learning_rate=cfg.ppo.learning_rate, per_device_train_batch_size=cfg.ppo.batch_size,
        gradient_accumulation_steps=1, num_mini_batches=cfg.ppo.num_mini_batches,
        local_rollout_forward_batch_size=cfg.ppo.batch_size, total_episodes=cfg.ppo.total_episodes,
        num_ppo_epochs=cfg.ppo.num_ppo_epochs, response_length=cfg.ppo.response_length,
        temperature=cfg.ppo.temperature, kl_coef=cfg.beta, kl_estimator=cfg.ppo.kl_estimator,
        cliprange=cfg.ppo.cliprange, vf_coef=cfg.ppo.vf_coef, stop_token="eos",
        missing_eos_penalty=cfg.ppo.missing_eos_penalty, num_sample_generations=0,
        use_cpu=not torch.cuda.is_available(), bf16=dtype == "bfloat16", disable_tqdm=True,
        gradient_checkpointing=cfg.model.gradient_checkpointing,
    )
    with open_tracker(cfg, "ppo", tracker_dir, run) as tracker:
        ckpt_cb = PPOCheckpointCallback(cfg, run, tok, sft, tracker, offset)
        trainer = PPOTrainer(
            args=args, processing_class=tok, model=policy, ref_model=None, reward_model=reward_model,
            train_dataset=dataset, value_model=value_model, peft_config=peft,
            callbacks=[TrackerCallback(tracker, step_offset=offset), ckpt_cb],
        )
        ckpt_cb.trainer = trainer
        seed_prompt_order(trainer.dataloader, cfg.seed)
        if state is not None:
            trainer.optimizer.load_state_dict(state["optimizer"])
            trainer.lr_scheduler.load_state_dict(state["scheduler"])
            trainer.dataloader = ResumedLoader(trainer.dataloader, offset, state.get("rng"))
        try:
            trainer.train()
            step = offset + trainer.state.global_step
        except StopRun as stop:
            step = stop.args[0]
        if step < cfg.ppo.updates:
            print(f"ppo: stopped at update {step} of {cfg.ppo.updates} (max_steps_this_run); "
                  "rerun the same command to resume")
            return run
        mark_done(run, {**checkpoint_meta(cfg, "ppo", sft), "step": step})
        print(f"ppo: done, {latest_checkpoint(run)}")
    return run
