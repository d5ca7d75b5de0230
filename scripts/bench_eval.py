"""Benchmark the evaluation harness against bare batched ``model.generate``.

    python scripts/bench_eval.py                       # full probe suite on the tiny base, paper sizes
    python scripts/bench_eval.py checkpoints=[tiny_test] semantic.n_samples=50   # any evaluate override

Runs the full probe suite with an empty sample cache (so everything is generated), timing
the sampling calls, then, in the same process, plain ``model.generate`` (do_sample, same
prompts, batch sizes, temperature and max_new_tokens). Prints per-probe seconds, sampling
seconds per generated token for both, and the ratios harness/bare (target: <= 1.3x).
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

from collapselab.config import compose
from collapselab.errors import UserError


class TimedLM:
    """Wraps a LanguageModel, accumulating time and generated tokens of ``sample`` calls per set."""

    def __init__(self, lm):
        self.lm = lm
        self.calls: list[dict] = []

    def __getattr__(self, name):
        return getattr(self.lm, name)

    def sample(self, prompts, **kw):
        t0 = time.perf_counter()
        out = self.lm.sample(prompts, **kw)
        self.calls.append({"prompts": list(prompts), "kw": kw, "seconds": time.perf_counter() - t0,
                           "tokens": sum(len(s.token_ids) for s in out)})
        return out


def bare_generate(lm, calls: list[dict]) -> tuple[float, int]:
    """The same sampling work with ``model.generate`` (KV cache, no per-token statistics)."""
    import torch

    total_s, total_tok = 0.0, 0
    for c in calls:
        kw = c["kw"]
        enc = lm._encode(c["prompts"])
        max_new = min(kw["max_new_tokens"], lm.max_context - enc["input_ids"].shape[1])
        torch.manual_seed(kw["seed"])
        t0 = time.perf_counter()
        with torch.inference_mode():
            out = lm.model.generate(**enc.to(lm.device), do_sample=True, temperature=kw["temperature"], top_k=0,
                                    top_p=1.0, max_new_tokens=max_new, pad_token_id=lm.tok.pad_token_id,
                                    eos_token_id=lm.stop_ids)
        total_s += time.perf_counter() - t0
        new = out[:, enc["input_ids"].shape[1]:]
        total_tok += int((new != lm.tok.pad_token_id).sum())
    return total_s, total_tok


def main(argv: list[str]) -> None:
    from collapselab.probes import evaluate
    from collapselab.probes.harness import hf_factory

    overrides = list(argv)
    if not any(o.startswith("checkpoints=") for o in overrides):
        overrides.append("checkpoints=[tiny]")
    with tempfile.TemporaryDirectory(prefix="bench_eval_") as tmp:
        cfg = compose("evaluate", ["logger=none", f"cache_dir={tmp}/cache", *overrides])
        timed: dict[str, TimedLM] = {}
        load = hf_factory(cfg)

        def factory(ck):
            timed[ck.name] = TimedLM(load(ck))
            return timed[ck.name]

        t0 = time.perf_counter()
        report = evaluate(cfg, Path(tmp) / "out", factory)
        harness_total = time.perf_counter() - t0
        for name, m in report.results.items():
            lm = timed[name]
            h_s = sum(c["seconds"] for c in lm.calls)
            h_tok = sum(c["tokens"] for c in lm.calls)
            b_s, b_tok = bare_generate(lm.lm, lm.calls)
            res = {
                "checkpoint": name,
                "probe_seconds": m["meta"]["probe_seconds"],
                "sample_counts": m["meta"]["sample_counts"],
                "harness_total_s": round(harness_total, 2),
                "harness_sampling_s": round(h_s, 2),
                "harness_tokens": h_tok,
                "bare_generate_s": round(b_s, 2),
                "bare_tokens": b_tok,
                "sampling_ratio_per_token": round((h_s / max(h_tok, 1)) / (b_s / max(b_tok, 1)), 3),
                "sampling_ratio_time": round(h_s / b_s, 3),
                "suite_ratio_time": round(harness_total / b_s, 3),
            }
            print(json.dumps(res, indent=2))


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
