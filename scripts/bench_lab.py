"""Time every stage of the lab from scratch, then the rerun that should reuse everything.

    python scripts/bench_lab.py                 # default preset, fresh artifacts in a temp folder
    python scripts/bench_lab.py lab=smoke
    python scripts/bench_lab.py --from outputs/lab     # the table of a lab already run from scratch (no rerun)

Prints each job's seconds, each stage's wall time (jobs run side by side, so stages overlap),
the total against the budget (15 minutes default, 2 minutes smoke), and the rerun's time as a
ratio of the first run's. Extra arguments are lab overrides (e.g. ``workers=1`` for the
sequential baseline).

Beside the wall times of pretraining (``base``), SFT, PPO and the probes' sampling (``evaluate``)
it prints the FLOP/s each achieved against this machine's fp32 matmul peak, measured after the lab
in the same run at the thread count those jobs had. The peak is the best of ``torch.matmul``
[tokens x hidden] @ [hidden x intermediate] and [tokens x hidden] @ [hidden x vocab] (the model's
MLP and vocabulary-head shapes, ``PEAK_TOKENS`` rows). FLOPs, with N the base's ``n_params`` (every
lab model has its architecture; its embeddings are tied, so the head's matmul is counted once):

- pretraining: 6 N x tokens, the real tokens the base's ``collapselab.json`` counts;
- SFT: 6 N x tokens, trl's ``num_tokens`` (attention-mask tokens) at the last logged step;
- PPO, per token of each rollout (prompt + response): 2 N rollout generation, 2 N reference,
  2 N_body value and 2 N_body reward forwards, then num_ppo_epochs x 6 (N + N_body) for the policy
  and value updates, i.e. (4 + 6 e)(N + N_body), N_body = N - vocab x hidden (the value and reward
  models have no LM head). Responses count at full ``response_length`` (a batch stops generating
  only when every row has); prompts at the mean length of the world's chat-formatted instruction
  prompts. The policy is LoRA: its backward skips the frozen weights' gradients (~4 N, not 6 N);
- probes' sampling: 2 N x tokens generated (``token_ids`` in the evaluation sample caches).

Left out: attention scores, padding positions, the reward model's per-checkpoint checks. Seconds
are each job's own (including loading and checkpointing); the evaluate jobs' also hold the metrics
(embeddings, bootstraps, figures), so their ratio is a lower bound on the sampler's, and PPO's is
an upper bound (full-length responses, 6 N for the LoRA policy).
"""

from __future__ import annotations

import json
import math
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BUDGET_S = {"default": 15 * 60, "smoke": 2 * 60}
PEAK_TOKENS = 2048  # rows of the peak matmuls: about a pretraining batch (32 documents)


@dataclass
class Work:
    """What one stage computed: FLOPs over the summed seconds of its jobs, on ``threads`` threads each."""

    stage: str
    seconds: float
    flops: float
    tokens: int
    threads: int


def train_flops(n_params: int, tokens: float) -> float:
    return 6.0 * n_params * tokens  # forward 2 N + backward 4 N per token


def infer_flops(n_params: int, tokens: float) -> float:
    return 2.0 * n_params * tokens


def ppo_flops(n_params: int, n_body: int, episodes: int, prompt_tokens: float, response_tokens: int,
              ppo_epochs: int) -> float:
    """One forward each of policy (generation), reference, value and reward, then e x (policy + value) training."""
    tokens = episodes * (prompt_tokens + response_tokens)
    return (4 + 6 * ppo_epochs) * (n_params + n_body) * tokens


def job_threads(stage: str, cores: int, workers: int, hidden_size: int) -> int:
    """CPU threads a lab job of ``stage`` computes on (``lab/pipeline.run_lab``, ``lab/stages._threads``).

    Pretraining and SFT take every core, other jobs ``cores // workers``; training jobs then use at
    most one thread per 64 hidden units (``models.pretrain.auto_threads``).
    """
    n = cores if stage in ("base", "sft") else max(1, cores // workers)
    return min(n, max(1, hidden_size // 64)) if stage in ("base", "sft", "ppo") else n


def ratios(works: list[Work], peaks: dict[int, float]) -> dict[str, dict[str, float]]:
    """Per stage: achieved FLOP/s and its ratio to the matmul peak at the stage's thread count."""
    out = {}
    for w in works:
        achieved = w.flops / w.seconds
        out[w.stage] = {"achieved": achieved, "peak": peaks[w.threads], "ratio": achieved / peaks[w.threads],
                        "threads": w.threads, "tokens": w.tokens, "seconds": w.seconds}
    return out


def matmul_peak(shapes: list[tuple[int, int, int]], threads: int, min_seconds: float = 0.3) -> float:
    """Best FLOP/s of fp32 ``[m, k] @ [k, n]`` over ``shapes`` on ``threads`` torch threads (best of 3 rounds)."""
    import torch

    saved = torch.get_num_threads()
    torch.set_num_threads(threads)
    best = 0.0
    try:
        for m, k, n in shapes:
            a, b, c = torch.randn(m, k), torch.randn(k, n), torch.empty(m, n)
            torch.matmul(a, b, out=c)
            reps = 1
            while True:  # enough repetitions for a round of ~min_seconds / 3
                t0 = time.perf_counter()
                for _ in range(reps):
                    torch.matmul(a, b, out=c)
                if (dt := time.perf_counter() - t0) >= min_seconds / 3:
                    break
                reps *= 2
            for _ in range(2):
                t0 = time.perf_counter()
                for _ in range(reps):
                    torch.matmul(a, b, out=c)
                dt = min(dt, time.perf_counter() - t0)
            best = max(best, 2.0 * m * k * n * reps / dt)
    finally:
        torch.set_num_threads(saved)
    return best


# --------------------------------------------------------------------------- what the run recorded


def sft_tokens(history: Path) -> int:
    """trl's cumulative ``num_tokens`` at the last row of an SFT run's ``history.jsonl``."""
    rows = [json.loads(line) for line in Path(history).read_text().splitlines() if line.strip()]
    return int(max((r["train/num_tokens"] for r in rows if "train/num_tokens" in r), default=0))


def sampled_tokens(cache_dir: Path) -> int:
    """Tokens generated into the complete sample caches (``<probe>-<hash>.jsonl``) under ``cache_dir``."""
    total = 0
    for f in Path(cache_dir).glob("*.jsonl"):
        if not f.name.endswith(".partial.jsonl"):
            total += sum(len(json.loads(line)["token_ids"]) for line in f.read_text().splitlines() if line.strip())
    return total


def ppo_prompt_tokens(ppo_cfg: Any, sft_model: str) -> float:
    """Mean tokens of the prompts PPO rolls out from (the world's instructions, chat-formatted)."""
    from transformers import AutoTokenizer

    from collapselab.align.ppo import prompt_dataset
    from collapselab.world import load_world

    tok = AutoTokenizer.from_pretrained(sft_model)
    ds = prompt_dataset(load_world(ppo_cfg.world, Path(ppo_cfg.artifacts_dir)), tok, ppo_cfg.ppo.batch_size)
    lengths = [len(x) for x in ds["input_ids"]]
    return sum(lengths) / len(lengths)


STAGES_SHAPE = 'it must hold the record scripts/lab.py writes there: {job: {"key", "seconds", "result", "outputs"}}'


def read_record(out_dir: Path, name: str, shape: str) -> Any:
    """The JSON that scripts/lab.py wrote to ``out_dir / name``, or a UserError naming ``--from``: the file is
    missing or not JSON (``shape``: what it must hold)."""
    from collapselab.errors import UserError

    path = out_dir / name
    if not path.is_file():
        raise UserError(f"--from {out_dir}: no {name} there (run the lab into that out_dir first; {shape})")
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        where = f" at line {e.lineno} column {e.colno}" if isinstance(e, json.JSONDecodeError) else ""
        reason = e.msg if isinstance(e, json.JSONDecodeError) else "not UTF-8 text"
        raise UserError(f"--from {out_dir}: {name} is not valid JSON ({reason}{where}); {shape}") from None


def read_stages(out_dir: Path) -> dict[str, Any]:
    """The lab's ``stages.json`` (each job's key, seconds and result), or a UserError naming ``--from``: it is
    missing, not JSON, or not the object scripts/lab.py writes there."""
    from collapselab.errors import UserError

    memo = read_record(out_dir, "stages.json", STAGES_SHAPE)
    bad = next((j for j, v in memo.items() if not isinstance(v, dict) or not isinstance(v.get("result"), dict)),
               None) if isinstance(memo, dict) else "(the whole file)"
    if bad is not None:
        raise UserError(f"--from {out_dir}: stages.json's entry {bad} is not a job record; {STAGES_SHAPE}")
    return memo


def stage_work(cfg: Any, record: dict[str, Any]) -> tuple[list[Work], dict[str, int]]:
    """FLOPs and job seconds of pretraining, SFT, PPO and the probes' sampling, read from what the lab wrote.

    Returns the works and the model's dimensions (for the peak's matmul shapes).
    """
    from collapselab.lab.pipeline import LabState
    from collapselab.lab.stages import CONTROL
    from collapselab.layout import read_meta

    out_dir = Path(cfg.out_dir)
    memo = read_stages(out_dir)
    jobs, workers, cores = record["jobs"], record["workers"], os.cpu_count() or 1
    if "base" not in jobs or "base" not in memo:  # stages=[...] without the models: nothing to count
        return [], {}
    base = Path(memo["base"]["result"]["path"])
    meta = read_meta(base)
    dims = json.loads((base / "config.json").read_text())
    n, hidden = int(meta["n_params"]), int(dims["hidden_size"])
    n_body = n - int(dims["vocab_size"]) * hidden * (1 if dims.get("tie_word_embeddings", False) else 2)

    def threads(stage: str) -> int:
        return job_threads(stage, cores, workers, hidden)

    works = [Work("base", jobs["base"], train_flops(n, meta["tokens"]), int(meta["tokens"]), threads("base"))]
    if "sft" in jobs:
        tokens = sft_tokens(out_dir / "train" / "sft" / "sft" / "history.jsonl")
        works.append(Work("sft", jobs["sft"], train_flops(n, tokens), tokens, threads("sft")))
    ppo_jobs = [j for j in jobs if j.startswith("ppo/")]
    if ppo_jobs:
        state = LabState(cfg, out_dir)
        flops, tokens, prompt = 0.0, 0, None
        for job in ppo_jobs:
            # ppo/<beta>, or ppo/control/<beta> (the alpha = 0 control: the same PPO, other labels)
            extra = CONTROL if job.startswith("ppo/control/") else []
            c = state.compose("ppo", "ppo", [f"beta={job.rsplit('/', 1)[1]}", *extra])
            prompt = prompt if prompt is not None else ppo_prompt_tokens(c, memo["sft"]["result"]["model"])
            flops += ppo_flops(n, n_body, c.ppo.total_episodes, prompt, c.ppo.response_length, c.ppo.num_ppo_epochs)
            tokens += int(c.ppo.total_episodes * (prompt + c.ppo.response_length))
        works.append(Work("ppo", sum(jobs[j] for j in ppo_jobs), flops, tokens, threads("ppo")))
    eval_jobs = [j for j in jobs if j.startswith("evaluate/")]
    if eval_jobs:
        tokens = sampled_tokens(Path(cfg.artifacts_dir) / "eval_cache")
        works.append(Work("evaluate", sum(jobs[j] for j in eval_jobs), infer_flops(n, tokens), tokens,
                          threads("evaluate")))
    return works, {"hidden": hidden, "intermediate": int(dims["intermediate_size"]), "vocab": int(dims["vocab_size"])}


TIMES_SHAPE = ('it must hold the record scripts/lab.py writes there: {"jobs": {job: seconds}, "this_run": '
               '{stage: seconds}, "total_this_run": seconds, "workers": n >= 1, "reused": [stage, ...], '
               '"preset": name}')


def _is_seconds(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) and x >= 0


def _times_problem(record: Any, full: bool) -> str | None:
    """What is wrong with a ``stage_times.json`` record, as ``"<field>" is <value>`` (None: nothing). Without
    ``full`` only what is read before the reused check (``reused``, ``preset``)."""
    if not isinstance(record, dict):
        kind = {list: "list", str: "string", bool: "boolean", type(None): "null"}.get(type(record), "number")
        return f"content is a JSON {kind}, not an object"
    checks: list[tuple[str, Any]] = [
        ("reused", lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v)),
        ("preset", lambda v: isinstance(v, str)),
    ]
    if full:
        checks += [
            ("jobs", lambda v: isinstance(v, dict) and all(_is_seconds(x) for x in v.values())),
            ("this_run", lambda v: isinstance(v, dict) and all(_is_seconds(x) for x in v.values())),
            ("total_this_run", _is_seconds),
            ("workers", lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 1),
        ]
    for key, ok in checks:
        if key not in record:
            if key in ("reused", "preset"):  # optional: none reused, the default preset
                continue
            return f"\"{key}\" is missing"
        if not ok(record[key]):
            return f"\"{key}\" is {json.dumps(record[key])[:60]}"
    return None


def read_times(out_dir: Path) -> dict[str, Any]:
    """``stage_times.json``'s record, or a UserError naming ``--from`` and what the file must hold."""
    from collapselab.errors import UserError

    record = read_record(out_dir, "stage_times.json", TIMES_SHAPE)
    bad = _times_problem(record, full=False)
    if bad:
        raise UserError(f"--from {out_dir}: stage_times.json's {bad}; {TIMES_SHAPE}")
    return record


def from_run(out_dir: Path, overrides: list[str]) -> None:
    """The table for a lab that already ran from scratch into ``out_dir`` (its ``stage_times.json`` must be
    that run's: a later rerun that reused everything overwrites it with near-zero times)."""
    from collapselab.config import compose
    from collapselab.errors import UserError

    record = read_times(out_dir)
    if record.get("reused"):
        raise UserError(f"--from {out_dir}: its last run reused {', '.join(record['reused'])}; "
                        "the table needs a from-scratch run's times")
    bad = _times_problem(record, full=True)
    if bad:
        raise UserError(f"--from {out_dir}: stage_times.json's {bad}; {TIMES_SHAPE}")
    cfg = compose("lab", [f"out_dir={out_dir}", f"lab={record.get('preset', 'default')}", *overrides])
    works, dims = stage_work(cfg, record)
    report(cfg, record, float(record["total_this_run"]), None, works, dims)


def report(cfg: Any, first: dict[str, Any], total: float, rerun: float | None, works: list[Work],
           dims: dict[str, int]) -> None:
    """Print the job and stage tables, the FLOP/s ratios against the matmul peak, and the budget."""
    shapes = [(PEAK_TOKENS, dims["hidden"], dims[k]) for k in ("intermediate", "vocab")] if dims else []
    peaks = {t: matmul_peak(shapes, t) for t in sorted({w.threads for w in works})}
    flop = ratios(works, peaks)
    budget = BUDGET_S.get(cfg.lab.name, BUDGET_S["default"])
    print(f"\n{'job':<26} {'seconds':>9}")
    for job, s in first["jobs"].items():
        print(f"{job:<26} {s:>9.1f}")
    print(f"\n{'stage (wall)':<26} {'seconds':>9}   on {first['workers']} worker(s); "
          "achieved FLOP/s, ratio to the fp32 matmul peak on as many threads")
    for stage, s in first["this_run"].items():
        r = flop.get(stage)
        extra = "" if r is None else (
            f"   {r['achieved'] / 1e9:.3g} GFLOP/s = {r['ratio']:.3g} of peak {r['peak'] / 1e9:.3g} "
            f"({r['tokens']:,} tokens, {r['seconds']:.0f} job-s, {r['threads']} thread(s) each)")
        print(f"{stage:<26} {s:>9.1f}{extra}")
    print(f"{'total':<26} {total:>9.1f}   budget {budget} s -> {total / budget:.2f}x of budget")
    if rerun is not None:
        print(f"{'rerun':<26} {rerun:>9.1f}   {rerun / total:.3f}x of the first run (every stage reused)")
    if peaks:
        print("matmul peak (fp32, best of " + ", ".join(f"[{m}x{k}]@[{k}x{n}]" for m, k, n in shapes) + "): "
              + ", ".join(f"{t} thread(s) {p / 1e9:.1f} GFLOP/s" for t, p in peaks.items())
              + "; evaluate is the probes' sampling (a lower bound: its jobs also compute the metrics)")


def main() -> None:
    from collapselab.cli import print_usage_if_asked
    from collapselab.config import compose
    from collapselab.errors import UserError
    from collapselab.lab import run_lab

    overrides = sys.argv[1:]
    print_usage_if_asked(overrides, __doc__)
    if overrides[:1] == ["--from"]:
        if len(overrides) < 2:
            raise UserError("--from needs the lab's out_dir (e.g. --from outputs/lab)")
        from_run(Path(overrides[1]), overrides[2:])
        return
    with tempfile.TemporaryDirectory(prefix="bench_lab_") as tmp:
        base = [f"artifacts_dir={Path(tmp) / 'artifacts'}", f"out_dir={Path(tmp) / 'out'}",
                f"report_dir={Path(tmp) / 'report'}", "logger=none"]
        cfg = compose("lab", base + overrides)
        t0 = time.perf_counter()
        first = run_lab(cfg)
        total = time.perf_counter() - t0
        works, dims = stage_work(cfg, first)  # before the rerun: it rewrites stage_times.json
        t1 = time.perf_counter()
        run_lab(compose("lab", base + overrides))
        rerun = time.perf_counter() - t1
    report(cfg, first, total, rerun, works, dims)


if __name__ == "__main__":
    from collapselab.cli import one_line_errors

    with one_line_errors():
        main()
