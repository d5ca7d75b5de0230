"""scripts/gpu_check.py at tiny dimensions on CPU: every section runs and writes its numbers.

The GPU run (Llama-2-7B shapes) is the same code at other sizes, so this is what tells it works
before a GPU is lent.
"""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _load_script():
    spec = importlib.util.spec_from_file_location("gpu_check", ROOT / "scripts" / "gpu_check.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_gpu_check_tiny_cpu_writes_every_number(tmp_path):
    import torch

    threads = torch.get_num_threads()
    result = _load_script().main(["--tiny", "--device", "cpu", "--steps", "1", "--out", str(tmp_path)])
    assert torch.get_num_threads() == threads  # the CPU thread setting is restored
    data = json.loads((tmp_path / "gpu_check.json").read_text())
    assert data == json.loads(json.dumps(result))  # the file holds what main returned
    assert data["sections_done"] == ["sampler", "dpo", "ppo"]
    assert data["device"] == "cpu" and data["versions"]["trl"] and data["versions"]["transformers"]
    assert data["model"]["n_params"] > 0
    for section in ("dpo", "ppo"):
        assert data[section]["step_s"] > 0 and data[section]["warmup_step_s"] > 0
        assert data[section]["peak_memory_gib"] is None  # no allocator statistics on CPU
        assert data[section]["trainable_params"] > 0
    assert data["ppo"]["updates"] == 2  # one warm-up + --steps
    assert all(math.isfinite(x) for x in data["dpo"]["loss"])
    batches = data["sampler"]["batches"]
    assert set(batches) == {"1", "16", "128"}
    for b, row in batches.items():
        # stop tokens are cleared: every row decodes max_new_tokens
        assert row["tokens"] == int(b) * data["sampler"]["max_new_tokens"]
        assert row["tokens_per_s"] > 0
        for key in ("roofline_ratio", "roofline_ratio_measured_bw", "roofline_ratio_with_kv"):
            assert math.isfinite(row[key]) and row[key] > 0, key
        # roofline tokens/s = batch x bandwidth / weight bytes per step
        expected = int(b) * data["sampler"]["bandwidth_gbs"] * 1e9 / data["sampler"]["weight_bytes_per_step"]
        assert math.isclose(row["roofline_tokens_per_s"], expected, rel_tol=1e-6)
    assert data["sampler"]["bandwidth_gbs_measured"] > 0
