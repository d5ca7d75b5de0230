"""Pretrain the tiny Llama from scratch on the world's plain-text documents.

One document is one sequence: ``<s> document </s>``, right-padded within a batch of
documents of similar length (little padding, and no attention mask needed: with causal
attention no real token sees the padding after it). Every document thus starts at
position 0 right after BOS, exactly how the probes prompt the base model
("Grace Hopper was" from BOS). A plain torch loop: on 2 CPU cores it is the fastest option.

Layout under ``artifacts_dir``::

    base/<hash>/        the finished HF checkpoint (model + tokenizer + collapselab.json), renamed into place
    base/<hash>.work/   while training: tokenizer/ and state/ (model, optimizer, step), each written atomically
    base/<hash>.log/    the Tracker's history.jsonl (and offline W&B run) unless ``log_dir`` is given

``<hash>`` covers the architecture, the world config and the training settings.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from collapselab.config.app import as_dict
from collapselab.config.model import PretrainConfig
from collapselab.errors import UserError
from collapselab.io import atomic_dir, atomic_write_json, check_writable, keyed_dir
from collapselab.layout import META_FILE, read_meta  # noqa: F401 - read_meta re-exported

# A few very long documents may be cut at seq_len; more than this share is a config error.
MAX_TRUNCATED_SHARE = 0.01


def base_dir(cfg: PretrainConfig) -> Path:
    """Where the finished base checkpoint for ``cfg`` lives (keyed by arch, world and training settings)."""
    key = {"model": cfg.model.arch(), "world": as_dict(cfg.world), "train": cfg.train_key()}
    return keyed_dir(cfg.artifacts_dir, "base", key)


def is_complete(folder: Path) -> bool:
    return (Path(folder) / "config.json").is_file() and (Path(folder) / META_FILE).is_file()


class DocumentsTooLong(UserError):
    """More of the world's documents than ``MAX_TRUNCATED_SHARE`` exceed ``seq_len``; ``longest``: the context they need."""

    def __init__(self, message: str, longest: int):
        super().__init__(message)
        self.longest = longest


def encode_documents(tokenizer: Any, texts: list[str], seq_len: int) -> list[np.ndarray]:
    """``<s> text </s>`` token ids per document, cut to ``seq_len``; UserError if many are cut."""
    enc = tokenizer(texts, add_special_tokens=True)["input_ids"]  # BOS prepended by the post-processor
    eos = tokenizer.eos_token_id
    docs = [np.asarray(ids + [eos], dtype=np.int64) for ids in enc]
    too_long = sum(len(d) > seq_len for d in docs)
    if docs and too_long / len(docs) > MAX_TRUNCATED_SHARE:
        longest = max(len(d) for d in docs)
        raise DocumentsTooLong(
            f"seq_len={seq_len}: {too_long} of {len(docs)} world documents are longer (up to {longest} tokens); "
            f"raise seq_len and model.max_position_embeddings to at least {longest}", longest)
    return [d[:seq_len] for d in docs]


def batch_schedule(lengths: list[int], batch_size: int, steps: int, seed: int) -> list[np.ndarray]:
    """Document indices for every step, fixed by ``seed`` (so a resumed run sees the same batches).

    Each epoch is a fresh permutation cut into windows of 64 batches; inside a window documents
    are sorted by length before batching, so a batch pads little but still mixes kinds.
    """
    n = len(lengths)
    if n < batch_size:
        raise UserError(f"batch_size={batch_size}: the world has only {n} documents")
    lengths_a = np.asarray(lengths)
    out: list[np.ndarray] = []
    epoch = 0
    while len(out) < steps:
        rng = np.random.default_rng([seed, epoch])
        perm = rng.permutation(n)
        window = 64 * batch_size
        batches = []
        for w in range(0, n - n % batch_size, window):
            chunk = perm[w : min(w + window, n - n % batch_size)]
            chunk = chunk[np.argsort(lengths_a[chunk], kind="stable")]
            batches += [chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size)]
        out += [batches[i] for i in rng.permutation(len(batches))]
        epoch += 1
    return out[:steps]


def collate(docs: list[np.ndarray], idx: np.ndarray, pad_id: int) -> tuple[Any, Any, int]:
    """Right-padded ``input_ids[B, T]`` and ``labels[B, T]`` (-100 on padding), and the real-token count."""
    import torch

    t = max(len(docs[i]) for i in idx)
    ids = torch.full((len(idx), t), pad_id, dtype=torch.long)
    labels = torch.full((len(idx), t), -100, dtype=torch.long)
    n_tokens = 0
    for row, i in enumerate(idx):
        d = torch.from_numpy(docs[i])
        ids[row, : len(d)] = d
        labels[row, : len(d)] = d
        n_tokens += len(d)
    return ids, labels, n_tokens


def lr_at(step: int, cfg: PretrainConfig) -> float:
    """Linear warmup to ``lr``, then cosine decay to 10% of it at ``steps``."""
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    progress = (step - cfg.warmup_steps) / max(1, cfg.steps - cfg.warmup_steps)
    return cfg.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))


def auto_threads(hidden_size: int) -> int:
    """CPU threads worth using: one per 64 hidden units, at most the cores.

    Matmuls this small gain little from threads, and an oversubscribed machine (pytest -n 2,
    other jobs) makes multi-threaded torch ops spin: a hidden-32 model ran 20x slower on 2
    threads than on 1 while the cores were busy.
    """
    return max(1, min(os.cpu_count() or 1, hidden_size // 64))


def _load_world(cfg: PretrainConfig) -> Any:
    from collapselab.world import load_world

    return load_world(cfg.world, cfg.artifacts_dir)


def _tokenizer(work: Path, cfg: PretrainConfig, world: Any) -> Any:
    """The BPE for this run: trained once and kept in the work folder so a resumed run reuses it."""
    from transformers import AutoTokenizer

    from collapselab.models.tokenizer import train_tokenizer, world_texts

    folder = work / "tokenizer"
    if not (folder / "tokenizer.json").is_file():
        tok = train_tokenizer(world_texts(world), cfg.model.vocab_size)
        with atomic_dir(folder) as tmp:
            tok.save_pretrained(tmp)
    return AutoTokenizer.from_pretrained(folder)


def _save_state(work: Path, model: Any, opt: Any, step: int, history: list[dict], stats: dict) -> None:
    import torch

    with atomic_dir(work / "state") as tmp:
        torch.save(model.state_dict(), tmp / "model.pt")
        torch.save(opt.state_dict(), tmp / "optimizer.pt")
        atomic_write_json(tmp / "progress.json", {"step": step, "history": history, **stats})


def _load_state(work: Path, model: Any, opt: Any) -> tuple[int, list[dict], dict]:
    import torch

    state = work / "state"
    if not (state / "progress.json").is_file():
        return 0, [], {}
    model.load_state_dict(torch.load(state / "model.pt", weights_only=True))
    opt.load_state_dict(torch.load(state / "optimizer.pt", weights_only=True))
    prog = json.loads((state / "progress.json").read_text())
    step, history = prog.pop("step"), prog.pop("history")
    return step, history, prog


def pretrain(
    cfg: PretrainConfig,
    *,
    world: Any = None,
    log_dir: str | Path | None = None,
    callback: Callable[[int, float], None] | None = None,
    progress: bool = True,
) -> Path:
    """Train the tiny base for ``cfg`` unless it exists; return its HF checkpoint folder.

    ``world``: the world DatasetDict (default: ``load_world(cfg.world, cfg.artifacts_dir)``).
    ``log_dir``: where the Tracker writes (default: ``base/<hash>.log`` beside the checkpoint). ``callback(step, loss)``
    runs after every optimizer step (tests use it to interrupt a run). A rerun after a kill
    resumes from the last state saved every ``save_every`` steps.
    """
    import torch
    from tqdm.auto import tqdm

    from collapselab.models.build import build_tiny_model, n_params
    from collapselab.seed import seed_everything
    from collapselab.tracking import Tracker

    check_writable(cfg.artifacts_dir, "artifacts_dir")
    out = base_dir(cfg)
    if is_complete(out):
        return out
    work = out.with_name(out.name + ".work")
    work.mkdir(parents=True, exist_ok=True)
    if world is None:
        world = _load_world(cfg)
    torch.set_num_threads(cfg.num_threads or auto_threads(cfg.model.hidden_size))
    seed_everything(cfg.seed)

    tok = _tokenizer(work, cfg, world)
    docs = encode_documents(tok, list(world["documents"]["text"]), cfg.seq_len)
    schedule = batch_schedule([len(d) for d in docs], cfg.batch_size, cfg.steps, cfg.seed)

    model = build_tiny_model(cfg.model, tok)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=cfg.lr, betas=(0.9, 0.95))
    start, history, stats = _load_state(work, model, opt)
    tokens_seen, seconds = stats.get("tokens", 0), stats.get("seconds", 0.0)

    tracker = Tracker(cfg.logger, log_dir or out.with_name(out.name + ".log"), name=f"pretrain-{cfg.model.name}", job_type="pretrain",
                      config={**as_dict(cfg), "n_params": n_params(model), "base_dir": str(out)})
    model.train()
    bar = tqdm(range(start, cfg.steps), initial=start, total=cfg.steps, desc=f"pretrain {cfg.model.name}",
               disable=not progress, mininterval=1.0)
    t0, tok0, loss_sum, loss_n = time.perf_counter(), tokens_seen, 0.0, 0
    try:
        for step in bar:
            for g in opt.param_groups:
                g["lr"] = lr_at(step, cfg)
            ids, labels, n_tok = collate(docs, schedule[step], tok.pad_token_id)
            loss = model(input_ids=ids, labels=labels).loss
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            tokens_seen += n_tok
            loss_sum, loss_n = loss_sum + loss.item(), loss_n + 1
            done = step + 1
            if done % cfg.log_every == 0 or done == cfg.steps:
                elapsed = seconds + time.perf_counter() - t0
                row = {"step": done, "loss": loss_sum / loss_n, "lr": lr_at(step, cfg), "tokens": tokens_seen,
                       "tokens_per_s": (tokens_seen - tok0) / max(1e-9, time.perf_counter() - t0)}
                history.append(row)
                tracker.log({f"pretrain/{k}": v for k, v in row.items() if k != "step"}, step=done)
                bar.set_postfix(loss=f"{row['loss']:.3f}", tok_s=f"{row['tokens_per_s']:.0f}")
                loss_sum, loss_n = 0.0, 0
            if done % cfg.save_every == 0 and done < cfg.steps:
                _save_state(work, model, opt, done, history,
                            {"tokens": tokens_seen, "seconds": seconds + time.perf_counter() - t0})
            if callback is not None:
                callback(done, loss.item())
        seconds += time.perf_counter() - t0
        meta = {
            "algo": "pretrain", "model_name": cfg.model.name, "step": cfg.steps, "n_params": n_params(model),
            "tokens": tokens_seen, "seconds": round(seconds, 2),
            "tokens_per_s": round((tokens_seen - tok0) / max(1e-9, time.perf_counter() - t0), 1),
            "resumed_from_step": start, "n_documents": len(docs),
            "final_loss": history[-1]["loss"] if history else None, "history": history, "config": as_dict(cfg),
        }
        with atomic_dir(out) as tmp:
            model.save_pretrained(tmp)
            tok.save_pretrained(tmp)
            atomic_write_json(tmp / META_FILE, meta)
        tracker.summary({"pretrain/final_loss": meta["final_loss"], "pretrain/seconds": meta["seconds"]})
    finally:
        bar.close()
        tracker.finish()
    shutil.rmtree(work, ignore_errors=True)
    return out
