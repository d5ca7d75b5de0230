"""One code path per job: a PPO run started by the lab's worker pool and the same run started
from the command line give bit-identical weights and logged metrics.

The lab's worker is a spawned process that has already run other jobs (here the reward job,
which builds world, base, SFT and pairs first), so its random state is not a fresh process's.
The CLI run gets a copy of the same prerequisites, so only the PPO stage itself is compared.
"""

from __future__ import annotations

import concurrent.futures as cf
import json
import multiprocessing
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from collapselab.layout import final_model
from collapselab.config import compose
from collapselab.lab.pipeline import LabState, _worker_init, run_job

# ~70 s: run by .ci/run after `make test` (with the other slow tests that guard the one-path rules)
pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
# wall-clock keys differ between any two runs; everything else must match to the bit
CLOCK_WORDS = ("time", "eps", "per_second", "runtime")


def history(path: Path) -> list[dict]:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [{k: v for k, v in r.items() if not any(w in k for w in CLOCK_WORDS)} for r in rows]


def test_ppo_from_a_lab_worker_and_from_the_cli_is_bit_identical(tmp_path):
    lab_art, cli_art = tmp_path / "lab_artifacts", tmp_path / "cli_artifacts"
    cfg = compose("lab", ["lab=smoke", f"artifacts_dir={lab_art}", f"out_dir={tmp_path / 'out'}", "logger=none"])
    ctx = multiprocessing.get_context("spawn")  # as run_lab's pool
    with cf.ProcessPoolExecutor(max_workers=1, mp_context=ctx, initializer=_worker_init) as pool:
        reward, _, _ = pool.submit(run_job, cfg, "reward", {}, 1).result()
        ppo, _, _ = pool.submit(run_job, cfg, "ppo/0.05", {"reward": reward}, 1).result()

    shutil.copytree(lab_art, cli_art, ignore=lambda d, names: ["ppo"] if Path(d) == lab_art else [])
    overrides = LabState(cfg, tmp_path / "out").overrides("ppo", ["beta=0.05"])
    overrides = [o for o in overrides if not o.startswith("artifacts_dir=")]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    r = subprocess.run([sys.executable, str(ROOT / "training" / "ppo.py"), *overrides, f"artifacts_dir={cli_art}",
                        f"hydra.run.dir={tmp_path / 'cli'}"], capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "ppo: reusing" not in r.stdout  # the CLI trained PPO itself; only the prerequisites were copied

    lab_run = Path(ppo["run"])
    cli_run = cli_art / lab_run.relative_to(lab_art)  # the same config hash: the same run folder name
    lab_ckpt, cli_ckpt = final_model(lab_run), final_model(cli_run)
    assert lab_ckpt.name == cli_ckpt.name
    a, b = load_file(lab_ckpt / "adapter_model.safetensors"), load_file(cli_ckpt / "adapter_model.safetensors")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    va = torch.load(lab_ckpt / "ppo_state.pt", weights_only=False)["value"]
    vb = torch.load(cli_ckpt / "ppo_state.pt", weights_only=False)["value"]
    assert va.keys() == vb.keys() and all(torch.equal(va[k], vb[k]) for k in va)
    lab_hist = history(tmp_path / "out" / "train" / "ppo" / "beta=0.05" / "history.jsonl")
    cli_hist = history(tmp_path / "cli" / "history.jsonl")
    assert any("train/objective/kl" in row for row in lab_hist)
    assert lab_hist == cli_hist
