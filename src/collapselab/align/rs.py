"""Rejection-sampling fine-tuning: iterated best-of-N, as Llama-2-chat was trained before PPO
(Touvron et al. 2023, section 3.2.3, "Rejection Sampling").

Each round draws ``rs.n_prompts`` requests from the world's instructions, samples
``rs.n_samples`` answers to each from the current model (temperature ``rs.temperature``), keeps
the best answer of each request by ``rs.scorer``, and fine-tunes the current model on the winners
(trl SFTTrainer, answer tokens only), with ``rs.replay`` SFT chats per winner of the kinds the annotator
does not score (``sft.replay_rows``; 0: none). The next round samples from the result, so selection
compounds. There is no KL term: best-of-N selection tilts the sampled distribution towards high
scores, and fine-tuning on the winners moves the model there (its KL to SFT is measured by the
evaluation harness, ``quality/base_nll`` and the probes).

With ``scorer=annotator`` the winners are picked by the simulated annotator's score, typicality
included: r_true + alpha * log pi_base(answer | request) (``annotator.typicality``, VS eq. 1).
Each round is one checkpoint (``checkpoints/step-<round>``) with its winners beside it
(``rounds/round-<r>.jsonl``); a killed run resumes at the next round, and each round draws its
randomness from ``seed`` and its index alone, so a resumed run equals an uninterrupted one.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from collapselab.align.common import chat_prompt, sample_texts, save_merged
from collapselab.align.pairs import pick_prompts, reference_lm, reference_logprobs
from collapselab.align.runner import begin_work, checkpoint_meta, open_stage, open_tracker
from collapselab.align.sft import fine_tune, replay_rows, sft_args, train_sft
from collapselab.config.align import RSStage
from collapselab.config.common import SEED_MAX
from collapselab.io import atomic_write_text, keyed_dir
from collapselab.layout import checkpoint_step, final_model, latest_checkpoint, mark_done, save_checkpoint


def rs_run_dir(cfg: RSStage) -> Path:
    return keyed_dir(cfg.artifacts_dir, "rs", cfg.rs_key())


def round_seed(seed: int, r: int) -> int:
    """The seed of round ``r`` (1-based): a function of the run's seed and the round only, within numpy's seed range
    (0 .. 2**32 - 1, ``config.common.SEED_MAX``), which the config allows the run's seed to reach: wrapped around,
    so a seed near the top no longer fails in round 1 after SFT and the reward model were built (the lab's seeds,
    far below, are unchanged)."""
    return (seed + 7919 * r) % (SEED_MAX + 1)


def pick_winners(scores: np.ndarray) -> np.ndarray:
    """[P] index of the best of each row of a [P, N] score array (the first on ties)."""
    return np.asarray(scores).argmax(axis=1)


def make_scorer(cfg: RSStage, reward_model: Path | None) -> Any:
    """``score(prompts, answers) -> (scores, log pi_base or None)``, arrays of len(answers), by ``rs.scorer``:
    the annotator (with its typicality term, log pi_base scored by the pairs stage's ``reference_logprobs``)
    or the reward model."""
    if cfg.rs.scorer == "reward":
        from collapselab.models.reward import load_reward_model, score_chats

        rm, rtok = load_reward_model(reward_model)
        return lambda prompts, answers: (score_chats(
            rm, rtok, [p + [{"role": "assistant", "content": a}] for p, a in zip(prompts, answers, strict=True)]),
            None)
    from collapselab.world.annotator import Annotator

    annotator, alpha = Annotator(typicality=cfg.annotator.typicality), cfg.annotator.typicality
    base = reference_lm(cfg) if alpha > 0 else None  # pi_ref, loaded once for every round

    def score(prompts: list[list[dict[str, str]]], answers: list[str]) -> tuple[np.ndarray, np.ndarray | None]:
        requests = [p[-1]["content"] for p in prompts]
        out = np.array([annotator.score(q, a) for q, a in zip(requests, answers, strict=True)])
        if alpha == 0:
            return out, None
        ref = np.asarray(reference_logprobs(cfg, requests, answers, base))
        return out + alpha * ref, ref

    return score


def _fine_tune(cfg: RSStage, model: Any, tok: Any, rows: list[dict[str, Any]], run: Path,
               seed: int) -> tuple[Any, float]:
    """Fine-tune ``model`` on this round's winners; returns the trained (merged) model and its loss."""
    from datasets import Dataset

    args = sft_args(cfg, run, lr=cfg.rs.learning_rate, epochs=cfg.rs.epochs, batch_size=cfg.rs.batch_size,
                    max_length=cfg.rs.max_length, scheduler="constant", save_strategy="no", seed=seed, data_seed=seed)
    return fine_tune(model, tok, Dataset.from_list(rows), args, cfg.rs.lora, cfg.model)


def train_rs(cfg: RSStage, tracker_dir: Path, *, main: bool = True) -> Path:
    """Run (or resume, or reuse) rejection-sampling fine-tuning from the SFT model; returns the run folder.

    ``main``: this is the command's own stage (``max_steps_this_run`` applies), not a prerequisite.
    """
    from collapselab.models import load_causal_lm
    from collapselab.seed import seed_everything
    from collapselab.world import alignment_messages, load_world

    run = rs_run_dir(cfg)
    if open_stage(cfg, "rs", run):
        return run
    sft = final_model(train_sft(cfg, tracker_dir, main=False))
    reward_model = None
    if cfg.rs.scorer == "reward":  # build the reward model (and its pairs) before this stage's own work
        from collapselab.align.reward import train_reward

        reward_model = final_model(train_reward(cfg, tracker_dir, main=False))
    dtype = begin_work(cfg)
    resume = latest_checkpoint(run)
    done_rounds = checkpoint_step(resume) if resume is not None else 0
    model, tok = load_causal_lm(resume or sft, dtype=dtype)
    if resume is not None:
        print(f"resuming from {resume} (round {done_rounds} of {cfg.rs.rounds})")
    world = load_world(cfg.world, Path(cfg.artifacts_dir))
    instructions = alignment_messages(world)
    meta = checkpoint_meta(cfg, "rs", sft)
    score = make_scorer(cfg, reward_model)
    t0 = time.time()
    with open_tracker(cfg, "rs", tracker_dir, run) as tracker:
        for r in range(done_rounds + 1, cfg.rs.rounds + 1):
            if main and cfg.max_steps_this_run is not None and r > done_rounds + cfg.max_steps_this_run:
                print(f"stopped after round {r - 1} of {cfg.rs.rounds} (max_steps_this_run); rerun to resume")
                return run
            seed = round_seed(cfg.seed, r)
            seed_everything(seed)
            prompts = pick_prompts(instructions, cfg.rs.n_prompts, seed)
            n = cfg.rs.n_samples
            texts = [chat_prompt(tok, p) for p in prompts for _ in range(n)]
            samples = sample_texts(model, tok, texts, max_new_tokens=cfg.rs.max_new_tokens,
                                   temperature=cfg.rs.temperature, seed=seed, batch_size=cfg.rs.sample_batch_size,
                                   desc=f"rs round {r}/{cfg.rs.rounds}: {len(prompts)} x {n} answers")
            answers = [s.text.strip() for s in samples]
            scores, ref = score([p for p in prompts for _ in range(n)], answers)
            grid = scores.reshape(len(prompts), n)
            best = pick_winners(grid)
            winners = [answers[i * n + b] for i, b in enumerate(best)]
            rows = [{"prompt": p, "completion": [{"role": "assistant", "content": w}]}
                    for p, w in zip(prompts, winners, strict=True)]
            replay = replay_rows(world, round(cfg.rs.replay * len(rows)), seed)
            # the round's picks first: a run killed after its checkpoint resumes at the next round
            refs = ref.reshape(len(prompts), n) if ref is not None else None
            atomic_write_text(run / "rounds" / f"round-{r:02d}.jsonl", "".join(
                json.dumps({"prompt": p, "winner": w, "score": float(grid[i, best[i]]),
                            "mean_score": float(grid[i].mean()),
                            **({"winner_ref_logp": float(refs[i, best[i]]), "mean_ref_logp": float(refs[i].mean())}
                               if refs is not None else {})}) + "\n"
                for i, (p, w) in enumerate(zip(prompts, winners, strict=True))))
            trained, loss = _fine_tune(cfg, model, tok, rows + replay, run, seed)
            ckpt = save_checkpoint(run, r, lambda tmp: save_merged(tmp, trained, tok), meta)
            # the next round samples from the saved checkpoint, as a resumed run does (and not from a model
            # whose forward the trainer patched)
            model, tok = load_causal_lm(ckpt, dtype=dtype)
            tracker.log({"rs/winner_score_mean": float(grid.max(axis=1).mean()),
                         "rs/candidate_score_mean": float(grid.mean()),
                         "rs/winner_words_mean": float(np.mean([len(w.split()) for w in winners])),
                         "rs/replay_rows": len(replay),
                         "rs/train_loss": loss}, step=r)
            print(f"rs round {r}: winners score {grid.max(axis=1).mean():.3f} vs candidates {grid.mean():.3f}")
    mark_done(run, {**meta, "step": cfg.rs.rounds, "seconds_this_run": round(time.time() - t0, 1)})
    print(f"rs: done, {latest_checkpoint(run)}")
    return run


def start_policy(cfg: Any, tracker_dir: Path) -> Path:
    """The model PPO or DPO starts from and keeps as its KL reference (``cfg.start``): the SFT model, or
    the rejection-sampling model (Llama 2's order, section 3.2.3), each built first if missing."""
    if cfg.start == "rs":
        return final_model(train_rs(cfg, tracker_dir, main=False))
    return final_model(train_sft(cfg, tracker_dir, main=False))
