"""The real CLI: Table 1 replay, a small sweep, and a bad value giving one stderr line."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _cli(*args, cwd):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "MPLBACKEND": "Agg"}
    return subprocess.run([sys.executable, str(ROOT / "scripts" / "toy_sim.py"), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_jeepiti_cli_writes_table_and_errata(tmp_path):
    p = _cli("experiment=jeepiti", f"hydra.run.dir={tmp_path}/j", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    out = json.loads((tmp_path / "j" / "jeepiti.json").read_text())
    assert [round(r["probs"]["Jeepiti"], 2) for r in out["rows"]] == [0.5, 0.73, 0.83, 0.83, 0.90]
    assert len(out["errata"]) == 4
    assert "prints 0.93" in p.stdout and "0.8" in p.stdout


def test_sweep_jobs_write_their_own_folders(tmp_path):
    p = _cli("-m", "experiment=bandit", "rule=ppo,actde", "beta=0.5", "steps=20", "seeds=4",
             f"hydra.sweep.dir={tmp_path}/sw", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    found = sorted(f.parent.name for f in (tmp_path / "sw").glob("*/bandit.json"))
    assert len(found) == 2 and any("rule=ppo" in f for f in found) and any("rule=actde" in f for f in found)
    for job in found:
        out = json.loads((tmp_path / "sw" / job / "bandit.json").read_text())
        assert out["runs"][0]["rule"] in job and out["runs"][0]["beta"] == 0.5
        for fig in ("bandit_dynamics.png", "bandit_entropy_vs_beta.png"):
            assert fig in out["figures"] and (tmp_path / "sw" / job / fig).stat().st_size > 1000


def test_bad_value_is_one_stderr_line(tmp_path):
    p = _cli("experiment=bandit", "init_probs=[0.5,0.6,0.1]", f"hydra.run.dir={tmp_path}/bad", cwd=tmp_path)
    assert p.returncode != 0
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and "init_probs=" in lines[0] and "sum to 1" in lines[0]
    assert "Traceback" not in p.stderr + p.stdout
    assert not (tmp_path / "bad" / "bandit.json").exists()


def test_logger_none_and_typicality_on_the_cli(tmp_path):
    # logger=none is accepted like at every other entry point
    p = _cli("experiment=jeepiti", "logger=none", f"hydra.run.dir={tmp_path}/j", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "j" / "jeepiti.json").exists() and not (tmp_path / "j" / "wandb").exists()
    p = _cli("experiment=bandit", "typicality=0.5", "beta=0.5", "steps=20", "seeds=4", "plots=false",
             f"hydra.run.dir={tmp_path}/t", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    out = json.loads((tmp_path / "t" / "bandit.json").read_text())
    assert out["typicality"] == 0.5 and out["runs"][0]["gamma"] == 2.0 and "gamma = 1 + alpha/beta = 2" in p.stdout
    p = _cli("experiment=bandit", "typicality=-1", f"hydra.run.dir={tmp_path}/bad", cwd=tmp_path)
    assert p.returncode == 2
    assert p.stderr.strip().splitlines() == ["error: typicality=-1.0: must be >= 0"]
    assert not (tmp_path / "bad").exists()
