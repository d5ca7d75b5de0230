"""scripts/bench_lab.py's FLOP counts and ratios (hand-computed), and the readers of what a lab run wrote."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest
import torch  # imported while collecting (seconds), not inside the matmul test

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("bench_lab", ROOT / "scripts" / "bench_lab.py")
bench = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("bench_lab", bench)  # dataclasses look their module up while the class is made
_spec.loader.exec_module(bench)


def test_train_and_inference_flops_are_6n_and_2n_per_token():
    assert bench.train_flops(1_000, 50) == 300_000.0
    assert bench.infer_flops(1_000, 50) == 100_000.0


def test_ppo_flops_counts_four_forwards_and_epochs_of_policy_and_value_training():
    """N = 100, N_body = 60, 2 episodes of 10 prompt + 30 response tokens, 2 PPO epochs.

    Tokens 2 x 40 = 80. Per token: forwards 2N (generate) + 2N (reference) + 2 N_body (value) + 2 N_body (reward)
    = 200 + 200 + 120 + 120 = 640; training 2 epochs x 6 (N + N_body) = 12 x 160 = 1920. 80 x 2560 = 204800.
    """
    assert bench.ppo_flops(100, 60, episodes=2, prompt_tokens=10, response_tokens=30, ppo_epochs=2) == 204_800


def test_job_threads_follow_the_scheduler():
    # 2 cores, 2 workers, hidden 128 (the tiny model: up to 2 threads for training)
    assert bench.job_threads("base", 2, 2, 128) == 2
    assert bench.job_threads("sft", 2, 2, 128) == 2
    assert bench.job_threads("ppo", 2, 2, 128) == 1
    assert bench.job_threads("evaluate", 2, 2, 128) == 1
    # one worker: every job has both cores; a hidden-32 model trains on one thread
    assert bench.job_threads("ppo", 2, 1, 128) == 2
    assert bench.job_threads("evaluate", 2, 1, 32) == 2
    assert bench.job_threads("base", 2, 1, 32) == 1


def test_ratios_divide_achieved_flops_by_the_peak_at_the_stage_thread_count():
    works = [bench.Work("base", seconds=10.0, flops=4e11, tokens=1, threads=2),
             bench.Work("ppo", seconds=4.0, flops=1e10, tokens=1, threads=1)]
    r = bench.ratios(works, {1: 1e10, 2: 8e10})
    assert r["base"]["achieved"] == pytest.approx(4e10) and r["base"]["ratio"] == pytest.approx(0.5)
    assert r["ppo"]["achieved"] == pytest.approx(2.5e9) and r["ppo"]["ratio"] == pytest.approx(0.25)
    assert r["ppo"]["peak"] == 1e10


def test_sft_tokens_reads_the_last_cumulative_count(tmp_path):
    rows = [{"train/loss": 2.0, "train/num_tokens": 100.0}, {"diversity/distinct_2": 0.5},
            {"train/loss": 1.5, "train/num_tokens": 250.0}, {"train/train_runtime": 3.0}]
    f = tmp_path / "history.jsonl"
    f.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert bench.sft_tokens(f) == 250


def test_sampled_tokens_counts_complete_caches_only(tmp_path):
    (tmp_path / "entropy-abc.jsonl").write_text(
        json.dumps({"token_ids": [1, 2, 3]}) + "\n" + json.dumps({"token_ids": [4]}) + "\n")
    (tmp_path / "persona-def.jsonl").write_text(json.dumps({"token_ids": [5, 6]}) + "\n")
    (tmp_path / "semantic-ghi.partial.jsonl").write_text(json.dumps({"token_ids": [7] * 50}) + "\n")
    assert bench.sampled_tokens(tmp_path) == 6


def test_matmul_peak_is_a_positive_flop_rate():
    threads = torch.get_num_threads()
    peak = bench.matmul_peak([(32, 16, 64), (32, 16, 128)], threads=1, min_seconds=0.003)
    assert 1e6 < peak < 1e14  # FLOP/s: more than a MFLOP/s, less than any CPU
    assert torch.get_num_threads() == threads  # restored


def test_from_run_needs_a_from_scratch_record(tmp_path):
    import json

    import pytest

    from collapselab.errors import UserError

    with pytest.raises(UserError, match="no stage_times.json there"):
        bench.from_run(tmp_path, [])
    (tmp_path / "stage_times.json").write_text(json.dumps({"reused": ["base", "sft"], "jobs": {}}))
    with pytest.raises(UserError, match="its last run reused base, sft; the table needs a from-scratch run"):
        bench.from_run(tmp_path, [])
