"""The decoding group through the harness: conformative decoding on two tiny random Llamas that share
a tokenizer (the base named by the checkpoint's base_model), samples cached per decoding config, and
the entry point's one-line error for a bad decoding value."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from collapselab.config import compose
from collapselab.probes import Checkpoint, evaluate

from tiny_models import tiny_llama, tiny_tokenizer

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
SMALL = ["probes=[entropy]", "entropy.n_samples=3", "entropy.max_new_tokens=5", "n_boot=20", "logger=none"]


def test_conformative_through_the_harness(tmp_path):
    """decoding=conformative with base=auto loads the checkpoint's base_model through the same loader as
    quality's base, records it in meta, and measures the truncated mixture honestly: sampled_bits below
    the model's own full entropy (top-p 0.95 on a near-uniform random model). Plain sampling of the same
    checkpoint is another cache key, so it samples again; a rerun of either reads its cache."""
    tok = tiny_tokenizer()
    models = {"sft": tiny_llama(tok, seed=0, name="sft"), str(tmp_path / "base"): tiny_llama(tok, seed=1, name="b")}
    (tmp_path / "base").mkdir()
    (tmp_path / "base" / "config.json").write_text("{}")
    ck = Checkpoint("sft", "sft", "sft", algo="sft", base_model=str(tmp_path / "base"), fingerprint="fp-sft")
    loaded = []

    def factory(c):
        loaded.append(c.path)
        return models[c.path]

    def run(out, *overrides):
        cfg = compose("evaluate", ["checkpoints=[x]", f"artifacts_dir={tmp_path / 'art'}", *SMALL, *overrides])
        return evaluate(cfg, tmp_path / out, factory, [ck])

    conf = run("conf", "decoding=conformative", "prompt_format=plain")
    m = conf.results["sft"]
    assert loaded == ["sft", str(tmp_path / "base")] and m["meta"]["decoding_base"] == str(tmp_path / "base")
    assert m["entropy/sampled_bits_mean"] < m["entropy/full_bits_mean"] and conf.generated == 3
    plain = run("plain", "prompt_format=plain").results["sft"]
    assert plain["entropy/sampled_bits_mean"] == plain["entropy/full_bits_mean"]
    assert run("again", "decoding=conformative", "prompt_format=plain").generated == 0
    assert len(list((tmp_path / "art" / "eval_cache").glob("steve-*.jsonl"))) == 2


def test_bad_decoding_value_is_one_line(tmp_path):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "WANDB_SILENT": "true"}
    r = subprocess.run([sys.executable, str(ROOT / "eval" / "evaluate.py"), "checkpoints=[tiny]", "logger=none",
                        "decoding=conformative", "decoding.weight=2", f"hydra.run.dir={tmp_path}/run"],
                       capture_output=True, text=True, cwd=tmp_path, env=env, timeout=240)
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert r.returncode == 2 and len(lines) == 1, r.stderr
    assert "decoding.weight=2.0: must be between 0.0 and 1.0" in lines[0]
    assert "Traceback" not in r.stderr


def test_conformative_bench_runs_at_tiny_size(tmp_path):
    """scripts/bench_eval.py --conformative times plain, truncated and conformative sampling of one model
    (here a saved tiny random Llama that is its own base) and reports per-token ratios."""
    import importlib.util

    folder = tmp_path / "m"
    lm = tiny_llama(tiny_tokenizer())
    lm.model.save_pretrained(folder)
    lm.tok.save_pretrained(folder)
    spec = importlib.util.spec_from_file_location("bench_eval", ROOT / "scripts" / "bench_eval.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    bench.REPEATS = 1
    res = bench.bench_conformative([f"checkpoints=[{folder}]", f"decoding.base={folder}", "entropy.n_samples=2",
                                    "entropy.max_new_tokens=3", "device=cpu", f"artifacts_dir={tmp_path / 'art'}"])
    assert res["base"] == str(folder) and res["batch"] == 2 and set(res["tokens"]) == {"plain", "truncated",
                                                                                      "conformative"}
    assert res["conformative_vs_plain_per_token"] > 0 and res["truncated_vs_plain_per_token"] > 0
