"""The lab's job graph and its estimate of time left (hand-computed schedules)."""

from pathlib import Path
from types import SimpleNamespace

import pytest

from collapselab.config import compose
from collapselab.errors import UserError
from collapselab.lab.pipeline import LabState, _select, estimate_left
from collapselab.lab.stages import build_jobs


def _jobs(**spec):
    return {n: SimpleNamespace(deps=tuple(d)) for n, d in spec.items()}


def test_estimate_left_list_schedules_pending_jobs_after_their_dependencies():
    jobs = _jobs(a=[], b=["a"], c=[])
    expected = {"a": 10.0, "b": 20.0, "c": 5.0}
    # two workers: a (0-10) and c (0-5) side by side, b waits for a (10-30)
    assert estimate_left(jobs, set(), {}, expected, workers=2) == pytest.approx(30.0)
    # one worker: everything in a row
    assert estimate_left(jobs, set(), {}, expected, workers=1) == pytest.approx(35.0)
    # a has run 4 s of its 10: b can start at 6, c runs beside it (done at 5)
    assert estimate_left(jobs, set(), {"a": 4.0}, expected, workers=2) == pytest.approx(26.0)
    # a done: b and c side by side
    assert estimate_left(jobs, {"a"}, {}, expected, workers=2) == pytest.approx(20.0)
    assert estimate_left(jobs, {"a", "b", "c"}, {}, expected, workers=2) == 0.0


def test_estimate_left_never_negative_for_an_overdue_job():
    jobs = _jobs(a=[])
    assert estimate_left(jobs, set(), {"a": 50.0}, {"a": 10.0}, workers=2) == pytest.approx(0.5)


def _graph(tmp_path, *extra):
    cfg = compose("lab", ["lab=smoke", f"out_dir={tmp_path}", *extra])
    return build_jobs(LabState(cfg, Path(tmp_path)))


def test_job_graph_one_job_per_beta_and_per_evaluated_run(tmp_path):
    jobs = _graph(tmp_path, "lab.ppo_betas=[0.01,0.1]", "lab.dpo_betas=[0.1]")
    names = list(jobs)
    assert {"ppo/0.01", "ppo/0.1", "dpo/0.1"} <= set(names)
    assert {"evaluate/base", "evaluate/sft", "evaluate/ppo-b0.01", "evaluate/steps/ppo-b0.01",
            "evaluate/dpo-b0.1", "evaluate/steps/dpo-b0.1"} <= set(names)
    for n, j in jobs.items():  # listed after everything they depend on
        assert all(names.index(d) < names.index(n) for d in j.deps), n
    assert jobs["dpo/0.1"].deps == ("reward",)  # pairs are built once, by the reward job
    assert set(jobs["evaluate/ppo-b0.1"].deps) == {"ppo/0.1", "reward"}
    assert jobs["report"].local and jobs["report"].always and jobs["base"].all_cores


def test_selecting_stages_keeps_what_they_need_and_drops_what_follows(tmp_path):
    jobs = _graph(tmp_path)
    dpo = _select(jobs, ["dpo"])
    assert set(dpo) == {"world", "base", "sft", "reward", "dpo/0.1"}
    assert set(_select(jobs, [])) == set(jobs)
    assert "toy" in _select(jobs, ["report"]) and "ppo/0.05" in _select(jobs, ["report"])


def test_workers_must_be_positive():
    with pytest.raises(UserError, match="workers=0"):
        compose("lab", ["workers=0"])


def test_critical_path_ranks_a_job_by_the_longest_chain_waiting_for_it():
    from collapselab.lab.pipeline import _critical_path

    jobs = _jobs(world=[], toy=[], base=["world"], report=["base", "toy"])
    rank = _critical_path(jobs, {"world": 8.0, "toy": 16.0, "base": 300.0, "report": 5.0})
    assert rank == {"report": 5.0, "base": 305.0, "toy": 21.0, "world": 313.0}
