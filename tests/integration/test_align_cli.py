"""The training entry points reject bad input with one stderr line, exit != 0 and no traceback,
before anything trains (a sweep is checked value by value)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run(script: str, *overrides: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "WANDB_MODE": "offline"}
    return subprocess.run(
        [sys.executable, str(ROOT / "training" / f"{script}.py"), *overrides, f"hydra.run.dir={cwd}/h",
         f"artifacts_dir={cwd}/artifacts"],
        capture_output=True, text=True, cwd=cwd, env=env, timeout=120,
    )


@pytest.fixture()
def not_a_model(tmp_path) -> Path:
    folder = tmp_path / "empty_model"
    folder.mkdir()
    (folder / "notes.txt").write_text("no weights here")
    return folder


@pytest.fixture()
def broken_model(tmp_path) -> Path:
    folder = tmp_path / "broken_model"
    folder.mkdir()
    (folder / "config.json").write_text('{"model_type": "llama", "hidden_size": "big"}')
    return folder


@pytest.mark.parametrize(
    "script, override, expected",
    [
        ("ppo", "beta=-0.5", "beta=-0.5: must be a finite number >= 0"),
        ("ppo", "beta=lots", "beta:"),
        ("ppo", "seed=4294967296", "seed=4294967296: must be an integer from 0 to 4294967295 (2**32 - 1, numpy's"),
        ("ppo", "beta=[0.01,", "beta=[0.01,: Hydra cannot parse this override of 'beta' (no viable alternative at "
                               "input '[0.01,'); a list is beta=[a,b], quoted in the shell: 'beta=[a,b]'"),
        ("dpo", "model=gpt5", "model=gpt5 is unknown (available:"),
        ("ppo", "+lab=smoke", "+lab=smoke: ppo.py's config (ppo) has no group 'lab'; its groups: logger, model"),
        ("sft", "model.name_or_path=/no/such/model", "model.name_or_path='/no/such/model': no such folder"),
        ("reward", "save_every=0", "save_every=0: must be > 0"),
        ("dpo", "model.lora_r=0", "model.lora_r=0: must be >= 1"),
        ("ppo", "ppo.response_length=-3", "ppo.response_length=-3: must be > 0"),
        ("dpo", "dpo.sft_weight=-1", "dpo.sft_weight=-1.0: must be a number >= 0"),
        ("sft", "sft.contrast_phase_lr=-1", "sft.contrast_phase_lr=-1.0: must be a number >= 0"),
    ],
)
def test_bad_input_is_one_line(tmp_path, script, override, expected):
    r = run(script, override, cwd=tmp_path)
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert r.returncode != 0
    assert len(lines) == 1 and expected in lines[0], r.stderr
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "artifacts").exists()  # nothing was built


def test_every_sweep_value_is_checked_before_any_job_runs(tmp_path):
    r = run("ppo", "-m", "beta=0.01,-1", cwd=tmp_path)
    assert r.returncode != 0 and "beta=-1.0: must be a finite number >= 0" in r.stderr
    assert "Traceback" not in r.stderr and not (tmp_path / "multirun").exists()


def test_a_folder_without_a_model_is_one_line(tmp_path, not_a_model):
    r = run("ppo", f"model.name_or_path={not_a_model}", cwd=tmp_path)
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert r.stderr.strip().count("\n") == 0 and "holds no model" in r.stderr


@pytest.mark.slow  # imports torch and transformers in a subprocess: ~10 s
def test_a_model_that_does_not_load_is_one_line(tmp_path, broken_model):
    r = run("sft", "model=llama2_7b", f"model.name_or_path={broken_model}", "logger=none", cwd=tmp_path)
    lines = [ln for ln in r.stderr.splitlines() if ln.strip() and not ln.startswith(("Loading", "Warning"))]
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert lines and lines[-1].startswith("error:") and str(broken_model) in lines[-1], r.stderr


def test_an_unwritable_artifacts_folder_is_one_line(tmp_path):
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    r = subprocess.run([sys.executable, str(ROOT / "training" / "ppo.py"), "artifacts_dir=/proc/forbidden",
                        "logger=none", f"hydra.run.dir={tmp_path}/h"], capture_output=True, text=True, env=env,
                       timeout=120)
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert lines == ["error: artifacts_dir='/proc/forbidden' is not a writable folder (No such file or directory)"]


def test_a_model_from_a_config_dir_passes_the_check(tmp_path):
    """``--config-dir`` adds a folder to Hydra's search path; the check before Hydra composed from configs/ alone
    and refused its model ("model=my_tiny is unknown")."""
    (tmp_path / "my_configs" / "model").mkdir(parents=True)
    tiny = (ROOT / "configs" / "model" / "tiny_test.yaml").read_text()
    (tmp_path / "my_configs" / "model" / "my_tiny.yaml").write_text(tiny.replace("name: tiny_test", "name: my_tiny"))
    r = subprocess.run([sys.executable, str(ROOT / "training" / "ppo.py"), "--config-dir", "my_configs",
                        "model=my_tiny", f"artifacts_dir={tmp_path}/artifacts", "--cfg", "job"],
                       capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    assert "name: my_tiny" in r.stdout and "hidden_size: 32" in r.stdout
    assert not (tmp_path / "artifacts").exists()
