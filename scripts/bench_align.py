"""Seconds per PPO and DPO step on the default tiny model, and the share of a PPO step spent generating.

    python scripts/bench_align.py                 # 6 timed steps each, default configs (builds SFT/pairs/reward if missing)
    python scripts/bench_align.py --steps 10 --threads 2
    python scripts/bench_align.py --artifacts /tmp/fresh --build    # a new folder: world and base too (minutes)

The SFT model, pairs and reward model come from ``--artifacts`` (built there first if
missing, as any stage would); the short benchmark runs themselves go to a temporary folder's
run keys and are deleted afterwards. Reports the median over steps after a warm-up step.
An ``--artifacts`` folder that does not exist is refused unless ``--build`` is given, so a
mistyped path does not start building a world and a base from scratch.
"""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
os.environ.setdefault("WANDB_SILENT", "true")


class StepClock:
    """A TrainerCallback recording wall time at every step end."""

    def __init__(self):
        from transformers import TrainerCallback

        clock = self

        class _CB(TrainerCallback):
            def on_step_end(self, args, state, control, **kwargs):  # noqa: ANN001
                clock.stamps.append(time.perf_counter())

        self.stamps: list[float] = []
        self.callback = _CB()

    def per_step(self) -> list[float]:
        return [b - a for a, b in zip(self.stamps, self.stamps[1:])]


def bench_ppo(artifacts: str, steps: int, tracker_dir: Path) -> dict[str, float]:
    import trl.experimental.ppo.ppo_trainer as ppo_mod

    from collapselab.align import ppo as align_ppo
    from collapselab.config import compose

    cfg = compose("ppo", [f"artifacts_dir={artifacts}", "logger=none", "diversity_prompts=0",
                          f"ppo.total_episodes={16 * (steps + 1)}", f"save_every={steps + 1}"])
    shutil.rmtree(align_ppo.ppo_run_dir(cfg), ignore_errors=True)
    gen_times: list[float] = []
    original = ppo_mod.batch_generation

    def timed(*a, **k):
        t = time.perf_counter()
        out = original(*a, **k)
        gen_times.append(time.perf_counter() - t)
        return out

    clock = StepClock()
    ppo_mod.batch_generation = timed
    original_init = ppo_mod.PPOTrainer.__init__

    def init(self, *a, callbacks=None, **k):
        original_init(self, *a, callbacks=[*(callbacks or []), clock.callback], **k)

    ppo_mod.PPOTrainer.__init__ = init
    try:
        align_ppo.train_ppo(cfg, tracker_dir / "ppo")
    finally:
        ppo_mod.batch_generation = original
        ppo_mod.PPOTrainer.__init__ = original_init
        shutil.rmtree(align_ppo.ppo_run_dir(cfg), ignore_errors=True)
    step_s = statistics.median(clock.per_step())
    gen_s = statistics.median(gen_times[1:])
    return {"ppo_s_per_step": step_s, "ppo_generation_share": gen_s / step_s, "ppo_batch": cfg.ppo.batch_size,
            "ppo_response_length": cfg.ppo.response_length}


def bench_dpo(artifacts: str, steps: int, tracker_dir: Path) -> dict[str, float]:
    import trl

    from collapselab.align import dpo as align_dpo
    from collapselab.config import compose

    cfg = compose("dpo", [f"artifacts_dir={artifacts}", "logger=none", "diversity_prompts=0",
                          "save_every=1000", "dpo.epochs=1"])
    shutil.rmtree(align_dpo.dpo_run_dir(cfg), ignore_errors=True)
    clock = StepClock()
    original_init = trl.DPOTrainer.__init__

    def init(self, *a, callbacks=None, **k):
        original_init(self, *a, callbacks=[*(callbacks or []), clock.callback], **k)

    trl.DPOTrainer.__init__ = init
    try:
        cfg.max_steps_this_run = steps + 1
        align_dpo.train_dpo(cfg, tracker_dir / "dpo")
    finally:
        trl.DPOTrainer.__init__ = original_init
        shutil.rmtree(align_dpo.dpo_run_dir(cfg), ignore_errors=True)
    return {"dpo_s_per_step": statistics.median(clock.per_step()), "dpo_batch": cfg.dpo.batch_size}


def main() -> None:
    from collapselab.cli import ArgumentParser, existing_folder, output_folder, whole

    ap = ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=whole(1), default=6, help="timed steps per algorithm (after one warm-up step)")
    ap.add_argument("--artifacts", default="artifacts", help="a folder the lab's stages built (default: artifacts)")
    ap.add_argument("--build", action="store_true",
                    help="--artifacts may be a new folder: build the world, base, SFT, pairs and reward there")
    ap.add_argument("--threads", type=whole(1), default=None, help="torch CPU threads (default: torch's choice)")
    args = ap.parse_args()
    if args.build and not Path(args.artifacts).exists():
        output_folder("--artifacts", args.artifacts)
    else:
        existing_folder("--artifacts", args.artifacts,
                        "give a folder the lab built, e.g. artifacts after `make lab`; or add --build to build "
                        "the world, base, SFT, pairs and reward model in a new one, which takes minutes")
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        res = {**bench_ppo(args.artifacts, args.steps, Path(tmp)), **bench_dpo(args.artifacts, args.steps, Path(tmp))}
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"torch threads {torch.get_num_threads()}, load average {load:.2f}")
    print(f"PPO: {res['ppo_s_per_step']:.2f} s per update of {res['ppo_batch']} rollouts "
          f"({res['ppo_response_length']} new tokens), {100 * res['ppo_generation_share']:.0f}% in generation")
    print(f"DPO: {res['dpo_s_per_step']:.2f} s per step of {res['dpo_batch']} pairs")


if __name__ == "__main__":
    from collapselab.cli import one_line_errors

    with one_line_errors():
        main()
