"""The scripts under scripts/ on bad input: one line on stderr, ``error: ...`` naming the argument, exit 2, no
traceback; ``--help`` prints the usage and exits 0. Each runs as a subprocess and stops before any model work."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UNWRITABLE = "/proc/collapselab-test/out"  # /proc takes no new files, even as root


def run(script: str, *args: str, env: dict[str, str] | None = None, timeout: float = 60):
    return subprocess.run([sys.executable, str(ROOT / "scripts" / script), *args], capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ, **(env or {})}, timeout=timeout)


def assert_one_line_error(res: subprocess.CompletedProcess, *names: str) -> str:
    assert "Traceback" not in res.stderr, res.stderr
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr
    for name in names:
        assert name in lines[0], lines[0]
    assert res.returncode == 2, (res.returncode, res.stderr)
    return lines[0]


def assert_usage(res: subprocess.CompletedProcess, text: str) -> None:
    assert res.returncode == 0 and res.stderr == "", (res.returncode, res.stderr)
    assert text in res.stdout, res.stdout


@pytest.fixture(scope="module")
def proc_unwritable():
    if not Path("/proc").is_dir():
        pytest.skip("needs /proc for an unwritable path")
    return UNWRITABLE


# --------------------------------------------------------------------------- --help


@pytest.mark.parametrize(("script", "text"), [
    ("check_base.py", "Sample the pretrained tiny base"),
    ("bench_eval.py", "Benchmark the evaluation harness"),
    ("bench_lab.py", "Time every stage of the lab"),
    ("bench_metrics.py", "usage: bench_metrics.py"),
    ("bench_threads.py", "usage: bench_threads.py"),
])
def test_help_prints_usage_and_exits_0(script, text):
    assert_usage(run(script, "--help"), text)


# --------------------------------------------------------------------------- bad numbers


def test_bench_metrics_rejects_a_count_that_is_not_a_number():
    assert_one_line_error(run("bench_metrics.py", "abc"), "N", "whole number")


def test_bench_toy_rejects_negative_seeds():
    assert_one_line_error(run("bench_toy.py", "--seeds", "-5"), "--seeds", ">= 1")


def test_bench_threads_rejects_too_few_sentences():
    assert_one_line_error(run("bench_threads.py", "50"), "N_SENTENCES", ">= 100")


def test_bench_eval_rejects_a_bad_repeat_count():
    assert_one_line_error(run("bench_eval.py", env={"BENCH_REPEATS": "abc"}), "BENCH_REPEATS")


@pytest.mark.parametrize("script, args", [
    ("gpu_check.py", ["--tiny", "--device", "cpu", "--steps", "1"]),
    ("typicality_recovery.py", ["--pairs", "pairs.jsonl", "--base", "base"]),
])
def test_a_seed_numpy_cannot_take_is_refused_with_its_range(tmp_path, script, args):
    """gpu_check ended in numpy's "ValueError: Seed must be between 0 and 2**32 - 1" traceback; typicality_recovery
    in the same, once its model had scored every pair."""
    res = run(script, *args, "--seed", "4294967296", "--out", str(tmp_path / "out"))
    line = assert_one_line_error(res, "--seed")
    assert line == "error: argument --seed: '4294967296': must be a whole number from 0 to 4294967295"
    assert not (tmp_path / "out").exists()


def test_bench_lab_from_without_a_folder():
    assert_one_line_error(run("bench_lab.py", "--from"), "--from")


_TIMES = ('it must hold the record scripts/lab.py writes there: {"jobs": {job: seconds}, "this_run": {stage: seconds}, '
          '"total_this_run": seconds, "workers": n >= 1, "reused": [stage, ...], "preset": name}')


@pytest.mark.parametrize("content, wrong", [
    ('{"jobs": {', " is not valid JSON (Expecting property name enclosed in double quotes at line 2 column 1)"),
    ("[1, 2]", "'s content is a JSON list, not an object"),
    ('{"reused": "base"}', '\'s "reused" is "base"'),
    ('{"jobs": 3, "preset": "smoke"}', '\'s "jobs" is 3'),
    ('{"jobs": {"base": 1.5}, "this_run": {"base": 1.5}, "total_this_run": 1.5}', '\'s "workers" is missing'),
])
def test_bench_lab_from_a_corrupt_stage_times_json(tmp_path, content, wrong):
    """It ended in json's JSONDecodeError, "'list' object has no attribute 'get'" or a KeyError, as tracebacks."""
    (tmp_path / "stage_times.json").write_text(content + "\n")
    line = assert_one_line_error(run("bench_lab.py", "--from", str(tmp_path)), "--from")
    assert line == f"error: --from {tmp_path}: stage_times.json{wrong}; {_TIMES}"


@pytest.mark.parametrize("content, wrong", [
    (None, "no stages.json there"),
    ("{", "stages.json is not valid JSON"),
    ("[1]", "stages.json's entry (the whole file) is not a job record"),
    ('{"base": 3}', "stages.json's entry base is not a job record"),
])
def test_bench_lab_from_a_missing_or_corrupt_stages_json(tmp_path, content, wrong):
    """With a valid stage_times.json, a missing or corrupt stages.json ended in FileNotFoundError or a
    JSONDecodeError traceback."""
    times = {"jobs": {"base": 1.0}, "this_run": {"base": 1.0}, "total_this_run": 1.0, "workers": 1, "reused": [],
             "preset": "smoke"}
    (tmp_path / "stage_times.json").write_text(json.dumps(times))
    if content is not None:
        (tmp_path / "stages.json").write_text(content)
    line = assert_one_line_error(run("bench_lab.py", "--from", str(tmp_path)), "--from")
    assert line.startswith(f"error: --from {tmp_path}: {wrong}") and "scripts/lab.py writes there" in line, line


def test_gpu_check_rejects_an_unknown_device(tmp_path):
    assert_one_line_error(run("gpu_check.py", "--tiny", "--device", "tpu", "--out", str(tmp_path)), "--device")


def test_lab_names_an_override_hydra_cannot_parse():
    """It printed Hydra's grammar message alone: "cannot parse override: no viable alternative at input '['"."""
    line = assert_one_line_error(run("lab.py", "lab.ppo_betas=[0.01,0.1"))
    assert line == ("error: lab.ppo_betas=[0.01,0.1: Hydra cannot parse this override of 'lab.ppo_betas' (no viable "
                    "alternative at input '[0.01,0.1'); a list is lab.ppo_betas=[a,b], quoted in the shell: "
                    "'lab.ppo_betas=[a,b]'")


@pytest.mark.parametrize("override, names", [
    ('lab.ppo=["ppo.lrr=1"]', ["lab job ppo/", "'ppo.lrr'", "learning_rate"]),
    ('lab.align=["seed=4294967296"]', ["lab job sft", "seed=4294967296", "4294967295"]),
    ('lab.evaluate=["persona.k_maxx=3"]', ["lab job evaluate/", "'persona.k_maxx'", "k_max"]),
    ('lab.steer=["layerr=2"]', ["lab job steer/sft", "'layerr'"]),
])
def test_lab_refuses_a_stage_override_before_any_job_runs(tmp_path, override, names):
    """A lab.<stage> list is composed only by its stage's job: a typo in lab.ppo built the world and pretrained the
    base (about 10 minutes) before PPO failed on it. Every job's config is now composed before the first job runs."""
    out = tmp_path / "lab"
    res = run("lab.py", override, "lab=smoke", f"out_dir={out}", f"report_dir={out / 'report'}", "logger=none")
    assert_one_line_error(res, *names)
    assert "start" not in res.stdout and not (out / "stages.json").exists(), res.stdout


# --------------------------------------------------------------------------- paths


def test_typicality_recovery_missing_pairs_file(tmp_path):
    res = run("typicality_recovery.py", "--pairs", str(tmp_path / "missing.jsonl"), "--base", str(tmp_path))
    assert_one_line_error(res, "--pairs", "missing.jsonl")


def _base_folder(tmp_path: Path) -> Path:
    base = tmp_path / "base"
    base.mkdir()
    (base / "config.json").write_text("{}")  # passes the folder check; the model is never loaded here
    return base


def test_typicality_recovery_missing_base_folder(tmp_path):
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text(json.dumps({"prompt": [{"role": "user", "content": "hi"}],
                                 "chosen": [{"role": "assistant", "content": "a"}],
                                 "rejected": [{"role": "assistant", "content": "b"}]}) + "\n")
    res = run("typicality_recovery.py", "--pairs", str(pairs), "--base", str(tmp_path / "no-base"))
    assert_one_line_error(res, "--base", "no-base")


def test_typicality_recovery_pairs_not_jsonl(tmp_path):
    pairs = tmp_path / "pairs.txt"
    pairs.write_text("prompt,chosen,rejected\nhi,a,b\n")
    base = _base_folder(tmp_path)
    res = run("typicality_recovery.py", "--pairs", str(pairs), "--base", str(base))
    assert "pairs.txt:1: not valid JSON" in assert_one_line_error(res, "--pairs", "pairs.txt")
    pairs = tmp_path / "pairs.csv"  # pairs with plain-string prompts: not a lab pairs.jsonl
    pairs.write_text("prompt,chosen,rejected\nhi,a,b\nho,c,d\n")
    res = run("typicality_recovery.py", "--pairs", str(pairs), "--base", str(base))
    assert "line 1 has a plain-string prompt" in assert_one_line_error(res, "--pairs", "pairs.csv")


def test_across_seeds_unwritable_out(tmp_path, proc_unwritable):
    from collapselab.lab.paper import rows_json, side_by_side

    ent, mbti = "entropy/top5_bits_mean", "persona/mbti_coverage"

    def metrics(e, m):
        return {ent: e, f"{ent}_ci_lo": e - 0.05, f"{ent}_ci_hi": e + 0.05, mbti: m / 16,
                f"{mbti}_ci_lo": (m - 1) / 16, f"{mbti}_ci_hi": (m + 1) / 16, "persona/parse_rate": 0.9}

    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "verdicts.json").write_text(json.dumps(
        {"paper": rows_json(side_by_side(metrics(1.0, 16), {"ppo-b0.02": metrics(0.5, 10)})), "align": [],
         "parse_rate": {}}))
    res = run("across_seeds.py", f"seed0={tmp_path / 'r'}", "--out", f"{proc_unwritable}/seeds.md")
    assert_one_line_error(res, "--out", proc_unwritable)


def test_gpu_check_unwritable_out(proc_unwritable):
    res = run("gpu_check.py", "--tiny", "--device", "cpu", "--steps", "1", "--out", proc_unwritable)
    assert_one_line_error(res, "--out", proc_unwritable)


def test_check_report_unwritable_screenshot(tmp_path, proc_unwritable):
    (tmp_path / "index.html").write_text("<html></html>")
    res = run("check_report.py", str(tmp_path / "index.html"), "--no-install", "--screenshot",
              f"{proc_unwritable}/shot.png")
    assert_one_line_error(res, "--screenshot")


_NO_CHROMIUM = "error: Chromium not found: none of chromium, chromium-browser, google-chrome is on PATH"
_ADD_TO_PATH = "or add the folder holding one to PATH (PATH=/path/to/its/folder:$PATH)"


def test_check_report_without_chromium(tmp_path):
    """It printed "error: chromium not found (apt-get install chromium)", naming neither where it looked nor how to
    point it at a browser."""
    (tmp_path / "index.html").write_text("<html></html>")
    (tmp_path / "bin").mkdir()  # a PATH without any browser
    res = run("check_report.py", str(tmp_path / "index.html"), "--no-install", env={"PATH": str(tmp_path / "bin")})
    assert assert_one_line_error(res) == (f"{_NO_CHROMIUM}; install it (as root: apt-get install chromium, which this "
                                          f"script runs itself when run as root without --no-install) {_ADD_TO_PATH}")


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="the script installs only as root")
def test_check_report_when_installing_chromium_fails(tmp_path):
    """A failing apt-get (offline, a held lock) ended in subprocess's CalledProcessError traceback."""
    (tmp_path / "index.html").write_text("<html></html>")
    (tmp_path / "bin").mkdir()
    apt = tmp_path / "bin" / "apt-get"  # the only apt-get on this PATH: nothing is installed
    apt.write_text("#!/bin/sh\necho 'E: Could not open lock file' >&2\nexit 100\n")
    apt.chmod(0o755)
    res = run("check_report.py", str(tmp_path / "index.html"), env={"PATH": str(tmp_path / "bin")})
    assert "Traceback" not in res.stderr and res.returncode == 2, res.stderr
    assert res.stderr.splitlines() == [
        "check_report: installing Debian's chromium (one time)...",
        f"{_NO_CHROMIUM}, and installing it failed (apt-get update: exit 100, E: Could not open lock file); install "
        f"it yourself (apt-get install chromium) {_ADD_TO_PATH}"]


def test_bench_align_refuses_a_missing_artifacts_folder_and_creates_nothing(tmp_path):
    missing = tmp_path / "no-artifacts"
    res = run("bench_align.py", "--artifacts", str(missing), "--steps", "1")
    assert "--build" in assert_one_line_error(res, "--artifacts", "no-artifacts")
    assert not missing.exists()
