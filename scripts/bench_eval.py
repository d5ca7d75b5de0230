"""Benchmark the evaluation harness against bare batched ``model.generate``.

    python scripts/bench_eval.py                       # full probe suite on the tiny base, paper sizes
    python scripts/bench_eval.py checkpoints=[tiny_test] semantic.n_samples=50   # any evaluate override

Runs the full probe suite with an empty sample cache (so everything is generated), timing
the sampling calls; then, in the same process, replays every sampling call alternately with
the harness sampler and with plain ``model.generate`` (do_sample, same prompts, batch sizes,
temperature and max_new_tokens), ``BENCH_REPEATS`` times (default 3). Prints per-probe
seconds, both sampling times (fastest and median repeat) and the ratio harness/bare, also
per generated token (the harness draws by inverse CDF, ``generate`` by ``torch.multinomial``:
same distribution, different completions), and the whole suite's time (model loading, sampling,
metrics, figures) against bare generation (target: <= 1.3x).

    python scripts/bench_eval.py --conformative checkpoints=[tiny] decoding.base=tiny entropy.n_samples=20

times conformative decoding (``decoding=conformative`` unless overridden) against plain sampling of
the same model: the entropy probe's prompt x ``entropy.n_samples`` (one batch of at most
``batch_size``), ``entropy.max_new_tokens`` tokens, alternated ``BENCH_REPEATS`` times; also plain
sampling with the same truncation alone. Prints seconds per generated token and the ratio
conformative / plain (target: <= 2.2x, as it runs two models). ``decoding.base`` is loaded as a
separate model even when it names the checkpoint itself (a base of the same size costs the same).
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from collapselab.cli import env_whole, one_line_errors, print_usage_if_asked
from collapselab.config import compose

with one_line_errors():
    REPEATS = env_whole("BENCH_REPEATS", 3)


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


def bare_generate_once(lm, prompts: list[str], kw: dict) -> tuple[float, int]:
    """One call's sampling work with ``model.generate`` (KV cache, no per-token statistics)."""
    import torch

    enc = lm._encode(prompts)
    max_new = min(kw["max_new_tokens"], lm.max_context - enc["input_ids"].shape[1])
    torch.manual_seed(kw["seed"])
    t0 = time.perf_counter()
    with torch.inference_mode():
        out = lm.model.generate(**enc.to(lm.device), do_sample=True, temperature=kw["temperature"], top_k=0,
                                top_p=1.0, max_new_tokens=max_new, pad_token_id=lm.tok.pad_token_id,
                                eos_token_id=lm.stop_ids)
    seconds = time.perf_counter() - t0
    new = out[:, enc["input_ids"].shape[1]:]
    return seconds, int((new != lm.tok.pad_token_id).sum())


def paired_timing(lm, calls: list[dict], repeats: int) -> dict[str, float]:
    """Harness sampling and bare generate, alternated call by call ``repeats`` times.

    On a shared, loaded machine single timings swing by several x; alternating the two and
    keeping each call's fastest (and median) repeat compares like with like.
    """
    h_best, b_best, h_med, b_med, h_tok, b_tok = 0.0, 0.0, 0.0, 0.0, 0, 0
    for c in calls:
        hs, bs = [], []
        for r in range(repeats):
            t0 = time.perf_counter()
            out = lm.sample(c["prompts"], **c["kw"])
            hs.append(time.perf_counter() - t0)
            sec, tok = bare_generate_once(lm, c["prompts"], c["kw"])
            bs.append(sec)
        h_tok += sum(len(s.token_ids) for s in out)
        b_tok += tok
        h_best, b_best = h_best + min(hs), b_best + min(bs)
        h_med, b_med = h_med + statistics.median(hs), b_med + statistics.median(bs)
    return {"harness_sampling_best_s": round(h_best, 2), "bare_generate_best_s": round(b_best, 2),
            "harness_sampling_median_s": round(h_med, 2), "bare_generate_median_s": round(b_med, 2),
            "harness_tokens": h_tok, "bare_tokens": b_tok,
            "sampling_ratio_best": round(h_best / b_best, 3), "sampling_ratio_median": round(h_med / b_med, 3),
            # the two samplers draw differently (same distribution), so completions end at different
            # tokens; per generated token is the like-for-like comparison
            "sampling_ratio_per_token_median": round((h_med / h_tok) / (b_med / b_tok), 3)}


def bench_conformative(overrides: list[str]) -> dict:
    """Per-token seconds of conformative decoding vs plain sampling (and truncation alone) of one checkpoint."""
    from collapselab.probes.checkpoints import Checkpoint, resolve_checkpoints
    from collapselab.probes.decoding import DecodingRule
    from collapselab.probes.harness import _known_models, _model_resolver, build_decoding, hf_factory
    from collapselab.world import prompts as wp

    if not any(o.startswith("decoding=") for o in overrides):
        overrides = ["decoding=conformative", *overrides]
    cfg = compose("evaluate", ["logger=none", *overrides])
    ck = resolve_checkpoints(cfg.checkpoints[:1], _model_resolver(cfg), _known_models())[0]
    load = hf_factory(cfg)
    lm = load(ck)
    dec = build_decoding(cfg, ck, lm, lambda path: load(Checkpoint(spec=path, path=path, name="base")))
    e = cfg.entropy
    prompts = [wp.STEVE_PROMPT] * min(e.n_samples, cfg.batch_size)
    kw = {"max_new_tokens": e.max_new_tokens, "temperature": dec.temperature or e.temperature, "seed": cfg.seed}
    variants = {
        "plain": {},
        "truncated": {"decoding": DecodingRule(top_p=dec.rule.top_p, min_p=dec.rule.min_p)},
        "conformative": {"decoding": dec.rule, "base": dec.base, "base_prompts": prompts},
    }
    lm.sample(prompts[:1], **kw | {"max_new_tokens": 2})  # warm-up: kernels, allocator
    secs: dict[str, list[float]] = {v: [] for v in variants}
    toks: dict[str, int] = {}
    for _ in range(REPEATS):
        for name, extra in variants.items():
            t0 = time.perf_counter()
            out = lm.sample(prompts, **kw, **extra)
            secs[name].append(time.perf_counter() - t0)
            toks[name] = sum(len(s.token_ids) for s in out)
    per_tok = {v: statistics.median(secs[v]) / max(toks[v], 1) for v in variants}
    return {"checkpoint": ck.name, "base": dec.base_path, "rule": str(dec.rule), "batch": len(prompts),
            "max_new_tokens": e.max_new_tokens, "repeats": REPEATS, "tokens": toks,
            "median_s": {v: round(statistics.median(secs[v]), 4) for v in variants},
            "ms_per_token": {v: round(1e3 * t, 4) for v, t in per_tok.items()},
            "truncated_vs_plain_per_token": round(per_tok["truncated"] / per_tok["plain"], 3),
            "conformative_vs_plain_per_token": round(per_tok["conformative"] / per_tok["plain"], 3)}


def main(argv: list[str]) -> None:
    if argv[:1] == ["--conformative"]:
        overrides = argv[1:]
        if not any(o.startswith("checkpoints=") for o in overrides):
            overrides.append("checkpoints=[tiny]")
        print(json.dumps(bench_conformative(overrides), indent=2))
        return
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
            paired = paired_timing(lm.lm, lm.calls, REPEATS)
            res = {
                "checkpoint": name,
                "probe_seconds": m["meta"]["probe_seconds"],
                "sample_counts": m["meta"]["sample_counts"],
                "harness_total_s": round(harness_total, 2),
                "harness_sampling_in_run_s": round(sum(c["seconds"] for c in lm.calls), 2),
                **paired,
                "suite_ratio_vs_bare_median": round(harness_total / paired["bare_generate_median_s"], 3),
                "suite_minus_sampling_s": round(harness_total - sum(c["seconds"] for c in lm.calls), 2),
            }
            print(json.dumps(res, indent=2))


if __name__ == "__main__":
    print_usage_if_asked(sys.argv[1:], __doc__)
    with one_line_errors():
        main(sys.argv[1:])
