"""The lab's job graph, its estimate of time left (hand-computed schedules), and what it hands the report."""

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from collapselab.config import compose
from collapselab.errors import UserError
from collapselab.lab.pipeline import LabState, _select, estimate_left
from collapselab.lab.results import AlignedRun, collect, read_score_file, write_scores
from collapselab.lab.stages import build_jobs, lab_run


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


def test_estimate_left_replays_the_schedulers_policy():
    """Listed a, b (after a), long: the scheduler starts the ready jobs longest chain first, so long (30 s) and a
    (10 s) run at 0 and b at 10, done at 30 (a list schedule in listed order ran long after a: 40). A job that
    takes every core runs alone: base (10 s) first, then x and y (5 s each) side by side, 15 s (10 without it).
    A local job (the report) takes no worker and starts when its dependencies are done."""
    jobs = _jobs(a=[], b=["a"], long=[])
    assert estimate_left(jobs, set(), {}, {"a": 10.0, "b": 10.0, "long": 30.0}, workers=2) == pytest.approx(30.0)
    jobs = {"base": SimpleNamespace(deps=(), all_cores=True), "x": SimpleNamespace(deps=()),
            "y": SimpleNamespace(deps=()), "report": SimpleNamespace(deps=("x", "y"), local=True)}
    expected = {"base": 10.0, "x": 5.0, "y": 5.0, "report": 1.0}
    assert estimate_left(jobs, set(), {}, expected, workers=2) == pytest.approx(16.0)
    jobs["base"].all_cores = False
    assert estimate_left(jobs, set(), {}, expected, workers=2) == pytest.approx(11.0)


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


def test_an_unwritable_report_dir_stops_the_lab_before_any_stage_runs(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")  # a folder under a file cannot be made, whoever runs the test
    with pytest.raises(UserError, match=r"^report_dir='.*a-file/report' is not a writable folder"):
        compose("lab", [f"report_dir={blocker / 'report'}", "logger=none"])


def test_the_lab_names_a_report_only_when_this_run_has_one(tmp_path, monkeypatch, capsys):
    from collapselab.lab import pipeline
    from collapselab.lab.stages import Job

    index = tmp_path / "report" / "index.html"

    def write_report(state):
        index.parent.mkdir()
        index.write_text("")
        return {"index": str(index)}, [str(index)]

    jobs = {"toy": Job("toy", "toy", (), lambda s: "k", lambda s: ({}, []), "toy", local=True),
            "report": Job("report", "report", ("toy",), lambda s: "k", write_report, "report", local=True)}
    monkeypatch.setattr(pipeline, "build_jobs", lambda state: jobs)
    cfg = compose("lab", ["lab=smoke", f"out_dir={tmp_path / 'out'}", f"artifacts_dir={tmp_path / 'artifacts'}",
                          f"report_dir={index.parent}", "logger=none", "stages=[toy]", "workers=1"])
    pipeline.run_lab(cfg)
    assert "report" not in capsys.readouterr().err.splitlines()[-1]  # no report was made: none is named
    cfg.stages = ["report"]
    pipeline.run_lab(cfg)
    assert capsys.readouterr().err.splitlines()[-1].endswith(f"; report: {index}") and index.is_file()


def test_critical_path_ranks_a_job_by_the_longest_chain_waiting_for_it():
    from collapselab.lab.pipeline import _critical_path

    jobs = _jobs(world=[], toy=[], base=["world"], report=["base", "toy"])
    rank = _critical_path(jobs, {"world": 8.0, "toy": 16.0, "base": 300.0, "report": 5.0})
    assert rank == {"report": 5.0, "base": 305.0, "toy": 21.0, "world": 313.0}


def test_reward_scores_of_the_sft_personas_are_a_job_the_report_waits_for(tmp_path):
    jobs = _graph(tmp_path)
    score = jobs["score/start"]
    assert set(score.deps) == {"reward", "evaluate/sft"} and not score.local and not score.always
    assert "score/start" in jobs["report"].deps
    assert "score/start" in _select(jobs, ["report"]) and "score/start" not in _select(jobs, ["dpo"])


def _evaluated(folder: Path, checkpoint: Path, meta: dict, texts: list[str]) -> None:
    """A fake evaluation: metrics.json naming ``checkpoint`` and persona rows in samples.jsonl."""
    folder.mkdir(parents=True)
    (folder / "metrics.json").write_text(json.dumps({"entropy/top5_bits_mean": 1.0,
                                                     "meta": {"checkpoint": str(checkpoint), **meta}}))
    (folder / "samples.jsonl").write_text("".join(json.dumps({"probe": "persona", "text": t, "parsed": None}) + "\n"
                                                  for t in texts))


def _finished_state(tmp_path: Path) -> LabState:
    """A lab (smoke: PPO 0.05, DPO 0.1) whose jobs have all run, with fake results and evaluations."""
    art = tmp_path / "art"
    state = LabState(compose("lab", ["lab=smoke", f"out_dir={tmp_path / 'out'}"]), tmp_path / "out")
    state.results = {"base": {"path": str(art / "base")}, "sft": {"model": str(art / "sft" / "step-000004")},
                     "reward": {"model": str(art / "rm" / "step-000002")},
                     "toy": {"jeepiti": str(tmp_path / "toy" / "j"), "bandit": str(tmp_path / "toy" / "b")},
                     "score/start": {"path": str(tmp_path / "out" / "score" / "sft.json")},
                     "evaluate/sft": {"dir": str(tmp_path / "out" / "eval" / "final" / "sft")}}
    for algo, b in (("ppo", 0.05), ("dpo", 0.1)):
        state.results[f"{algo}/{b}"] = {"run": str(art / algo), "model": str(art / algo / "step-000002"), "beta": b}
    state.results["rs"] = {"run": str(art / "rs"), "model": str(art / "rs" / "step-000002")}
    state.times, state.job_times = {"world": 1.0}, {"world": 1.0, "toy": 0.0}
    state.last_job_times = {"world": 9.0, "toy": 20.0}  # stage_times.json of the run before: toy reused now
    final = tmp_path / "out" / "eval" / "final"
    _evaluated(final / "sft" / "step-000004", art / "sft" / "step-000004", {"algo": "sft"}, ["p1", "p2"])
    _evaluated(final / "ppo-b0.05" / "step-000002", art / "ppo" / "step-000002", {"algo": "ppo", "beta": 0.05}, [])
    _evaluated(final / "rs" / "step-000002", art / "rs" / "step-000002", {"algo": "rs", "beta": None}, [])
    return state


def test_the_report_gets_a_lab_run_built_from_the_job_results(tmp_path):
    state = _finished_state(tmp_path)
    run = lab_run(state)
    art = tmp_path / "art"
    assert set(run.runs) == {("ppo", 0.05), ("dpo", 0.1)}
    assert run.runs[("ppo", 0.05)] == AlignedRun("ppo", 0.05, "ppo-b0.05", art / "ppo", art / "ppo" / "step-000002")
    assert run.rs == AlignedRun("rs", None, "rs", art / "rs", art / "rs" / "step-000002")
    res = collect(run)
    assert "rs" in res.roles and [f["role"] for f in res.finals] == ["ppo-b0.05"]  # finals: the runs with a beta
    assert (run.base, run.sft, run.reward) == (art / "base", art / "sft" / "step-000004", art / "rm" / "step-000002")
    assert (run.eval_final, run.eval_steps) == (tmp_path / "out" / "eval" / "final", tmp_path / "out" / "eval" / "steps")
    assert (run.toy_jeepiti, run.toy_bandit) == (tmp_path / "toy" / "j", tmp_path / "toy" / "b")
    assert run.compare == tmp_path / "out" / "compare" and run.start_scores == tmp_path / "out" / "score" / "sft.json"
    assert run.stage_times == {"world": 1.0} and run.job_times == {"world": 1.0, "toy": 0.0}
    assert run.last_job_times == {"world": 1.0, "toy": 20.0}  # this run's where it ran, the last real one if reused
    # the evaluations are matched to roles by the checkpoint they name
    res = collect(run)
    assert set(res.roles) == {"sft", "ppo-b0.05", "rs"}
    assert res.dirs["sft"] == run.eval_final / "sft" / "step-000004"
    assert [f["role"] for f in res.finals] == ["ppo-b0.05"]


def test_the_score_job_is_keyed_by_the_reward_model_and_the_samples_it_scores(tmp_path):
    state = _finished_state(tmp_path)
    key = build_jobs(state)["score/start"].key
    first = key(state)
    assert key(state) == first  # unchanged inputs: reused
    samples = Path(state.results["evaluate/sft"]["dir"]) / "step-000004" / "samples.jsonl"
    kept = samples.read_text()
    samples.write_text(json.dumps({"probe": "persona", "text": "p3", "parsed": None}) + "\n")
    assert key(state) != first  # the SFT model was evaluated again, with other samples
    samples.write_text(kept)
    assert key(state) == first
    state.results["reward"] = {"model": str(tmp_path / "art" / "rm" / "step-000004")}
    assert key(state) != first  # another reward model


def test_scores_are_read_back_only_for_the_samples_they_scored(tmp_path):
    path = write_scores(tmp_path / "sft.json", ["a", "b"], np.array([0.5, -1.0]), reward_model="rm")
    assert read_score_file(path, ["a", "b"])["scores"].tolist() == [0.5, -1.0]
    assert json.loads(path.read_text())["reward_model"] == "rm"
    with pytest.raises(ValueError, match="not these 2 samples"):
        read_score_file(path, ["b", "a"])
    with pytest.raises(ValueError, match="2 texts"):
        write_scores(tmp_path / "bad.json", ["a", "b"], np.array([1.0]))


# --------------------------------------------------------------------------- typicality and its control


def _state(tmp_path, *extra):
    cfg = compose("lab", ["lab=smoke", f"out_dir={tmp_path}", "lab.ppo_betas=[0.1,0.01]",
                          "lab.dpo_betas=[0.5,0.05]", *extra])
    return LabState(cfg, Path(tmp_path))


def test_with_typicality_the_lab_runs_an_alpha_0_control_at_the_smallest_betas(tmp_path):
    from collapselab.lab.eval_jobs import eval_cfg as _eval_cfg
    from collapselab.lab.stages import _align_cfg

    state = _state(tmp_path, "lab.typicality=0.02")
    jobs = build_jobs(state)
    control = {n for n in jobs if "control" in n}
    assert control == {"reward/control", "ppo/control/0.01", "dpo/control/0.05", "rs/control", "rs/control-self",
                       "evaluate/control-ppo-b0.01", "evaluate/control-dpo-b0.05", "evaluate/control-rs",
                       "evaluate/control-rs-self"}
    # the RS control's null: the control's config with best-of-1, so the same rounds fine-tune with no selection
    self_cfg, ctl_cfg = _align_cfg(state, "rs", control="self"), _align_cfg(state, "rs", control=True)
    assert self_cfg.rs.n_samples == 1 and ctl_cfg.rs.n_samples > 1 and self_cfg.annotator.typicality == 0.0
    assert jobs["rs/control-self"].deps == ("sft",) and jobs["evaluate/control-rs-self"].deps == ("rs/control-self",)
    assert jobs["rs/control-self"].key(state) != jobs["rs/control"].key(state)
    assert "evaluate/control-rs-self" in jobs["report"].deps
    names = list(jobs)
    for n, j in jobs.items():
        assert all(names.index(d) < names.index(n) for d in j.deps), n
    assert jobs["reward/control"].deps == ("sft",) and jobs["reward/control"].stage == "reward"
    assert jobs["ppo/control/0.01"].deps == ("reward/control",) and jobs["ppo/control/0.01"].stage == "ppo"
    assert jobs["dpo/control/0.05"].deps == ("reward/control",)
    assert jobs["evaluate/control-ppo-b0.01"].deps == ("ppo/control/0.01",)
    assert jobs["rs/control"].deps == ("sft",) and jobs["evaluate/control-rs"].deps == ("rs/control",)
    assert jobs["rs"].deps == ("sft",) and "evaluate/rs" in jobs["report"].deps
    # RS waits for both reward models (each takes every core), so RS and its control run side by side
    assert set(jobs["rs"].after) == {"reward", "reward/control"}
    assert {"evaluate/control-ppo-b0.01", "evaluate/control-dpo-b0.05"} <= set(jobs["report"].deps)
    assert not any("control" in d for d in jobs["compare"].deps)  # compare's curves are the lab's own runs
    # the lab's runs are labelled with alpha, the control's with alpha = 0 and nothing else changed
    assert _align_cfg(state, "ppo", 0.01).annotator.typicality == 0.02
    ctl = _align_cfg(state, "ppo", 0.01, control=True)
    assert ctl.annotator.typicality == 0.0 and ctl.beta == 0.01
    # so the control's artifacts are exactly those of a lab at alpha = 0: same keys
    plain = _state(tmp_path / "plain")
    plain_jobs = build_jobs(plain)
    for ctl, own in (("reward/control", "reward"), ("ppo/control/0.01", "ppo/0.01"), ("dpo/control/0.05", "dpo/0.05"),
                     ("rs/control", "rs")):
        key = jobs[ctl].key(state)
        assert key == plain_jobs[own].key(plain) and key != jobs[own].key(state)
    # evaluated with the persona probe only, at the lab's persona settings
    evc = _eval_cfg(state, str(tmp_path / "ckpt"), False, "control-ppo-b0.01")
    assert evc.probes == ["persona"] and evc.persona.n_samples == 10 and evc.reward_model is None
    state.results = {"reward": {"model": str(tmp_path / "rm")}}
    assert "attractor" in _eval_cfg(state, str(tmp_path / "ckpt"), False, "sft").probes


def test_with_align_start_rs_ppo_and_dpo_wait_for_their_rs_model_and_start_from_it(tmp_path):
    """lab.align_start=rs: each PPO/DPO job needs its reward job and the RS job (the control's runs the
    control's RS), and composes start=rs, so its key holds that RS run's key."""
    from collapselab.lab.stages import _align_cfg

    state = _state(tmp_path, "lab.typicality=0.02", "lab.align_start=rs")
    jobs = build_jobs(state)
    names = list(jobs)
    for n, j in jobs.items():
        assert all(names.index(d) < names.index(n) for d in j.deps), n
    assert jobs["ppo/0.1"].deps == ("reward", "rs") and jobs["dpo/0.05"].deps == ("reward", "rs")
    assert jobs["ppo/control/0.01"].deps == ("reward/control", "rs/control")
    cfg, ctl = _align_cfg(state, "ppo", 0.01), _align_cfg(state, "ppo", 0.01, control=True)
    assert cfg.start == "rs" and cfg.run_key()["rs_run"] == _align_cfg(state, "rs").rs_key()
    assert ctl.run_key()["rs_run"] == _align_cfg(state, "rs", control=True).rs_key() != cfg.run_key()["rs_run"]
    assert _align_cfg(_state(tmp_path / "sft"), "dpo", 0.05).start == "sft"
    # the prediction's pi0 is the model they start from: its persona samples are the ones scored
    from collapselab.lab.stages import scores_path

    assert jobs["score/start"].deps == ("reward", "evaluate/rs") and scores_path(state).name == "rs.json"
    assert build_jobs(_state(tmp_path / "sft"))["score/start"].deps == ("reward", "evaluate/sft")


def test_align_start_rs_needs_rejection_sampling_and_a_known_start(tmp_path):
    with pytest.raises(UserError, match=r"align_start=rs: needs run_rs=true"):
        compose("lab", ["lab=smoke", "lab.align_start=rs", "lab.run_rs=false"])
    with pytest.raises(UserError, match=r"align_start='ppo': must be one of sft, rs"):
        compose("lab", ["lab=smoke", "lab.align_start=ppo"])
    with pytest.raises(UserError, match=r"with align_start=rs, lab.rs may hold rs.\* overrides only"):
        compose("lab", ["lab=smoke", "lab.align_start=rs", "lab.rs=['sft.epochs=2']"])


def test_without_typicality_or_with_control_off_no_control_runs(tmp_path):
    for extra in ([], ["lab.typicality=0.02", "lab.control=false"]):
        jobs = build_jobs(_state(tmp_path, *extra))
        assert not [n for n in jobs if "control" in n], extra
        assert not any("control" in d for d in jobs["report"].deps)
    # alpha 0 composes the annotator exactly as before: no annotator node in any artifact key
    from collapselab.lab.stages import _align_cfg

    assert "annotator" not in _align_cfg(_state(tmp_path), "ppo", 0.1).run_key()


def test_the_annotator_alpha_is_set_by_lab_typicality_only():
    with pytest.raises(UserError, match="lab.typicality"):
        compose("lab", ["lab=smoke", 'lab.align=["annotator.typicality=0.1"]'])
    with pytest.raises(UserError, match="lab.typicality=-0.5"):
        compose("lab", ["lab.typicality=-0.5"])
    # the reduce rule still goes through lab.align
    state = LabState(compose("lab", ["lab=smoke", 'lab.align=["annotator.typicality_reduce=mean"]']), Path("."))
    assert state.compose("reward", "reward").annotator.typicality_reduce == "mean"


def test_the_report_gets_the_control_runs_and_their_evaluations(tmp_path):
    state = _finished_state(tmp_path)
    state.cfg.lab.typicality = 0.02
    art = tmp_path / "art"
    for algo, b in (("ppo", 0.05), ("dpo", 0.1)):
        state.results[f"{algo}/control/{b}"] = {"run": str(art / f"c{algo}"),
                                                "model": str(art / f"c{algo}" / "step-000002"), "beta": b}
    state.results["rs/control"] = {"run": str(art / "crs"), "model": str(art / "crs" / "step-000002")}
    state.results["rs/control-self"] = {"run": str(art / "srs"), "model": str(art / "srs" / "step-000002")}
    control_dir = tmp_path / "out" / "eval" / "control"
    _evaluated(control_dir / "control-ppo-b0.05" / "step-000002", art / "cppo" / "step-000002",
               {"algo": "ppo", "beta": 0.05}, [])
    run = lab_run(state)
    assert run.typicality == 0.02 and run.eval_control == control_dir
    assert run.controls[("ppo", 0.05)] == AlignedRun("ppo", 0.05, "control-ppo-b0.05", art / "cppo",
                                                     art / "cppo" / "step-000002")
    assert run.controls[("rs", None)] == AlignedRun("rs", None, "control-rs", art / "crs", art / "crs" / "step-000002")
    assert run.controls[("rs-self", None)] == AlignedRun("rs-self", None, "control-rs-self", art / "srs",
                                                         art / "srs" / "step-000002")
    from collapselab.lab.eval_jobs import eval_target

    assert eval_target(state, "control-rs-self", False) == str(art / "srs" / "step-000002")
    assert eval_target(state, "control-rs", False) == str(art / "crs" / "step-000002")
    # the labels table reads the pairs each reward model was trained on: the lab's and the control's, two folders
    from collapselab.align.pairs import pairs_dir
    from collapselab.lab.stages import _align_cfg

    assert run.pairs == pairs_dir(_align_cfg(state, "reward"))
    assert run.pairs_control == pairs_dir(_align_cfg(state, "reward", control=True)) != run.pairs
    res = collect(run)
    assert set(res.controls) == {"control-ppo-b0.05"}
    assert "control-ppo-b0.05" not in res.roles  # the lab's own roles stay the lab's runs
    state.cfg.lab.control = False
    assert lab_run(state).controls == {} and lab_run(state).eval_control is None
    assert lab_run(state).pairs_control is None


def test_the_prediction_with_typicality_weights_by_exp_of_reward_plus_alpha_logp_over_beta():
    """Four SFT personas, two genders; beta 0.5, alpha 0.25 (gamma = 1 + 0.25 / 0.5 = 1.5).

    r = [0, 0, 1, 0], log pi_ref = [-2, 0, -4, 0]: r + alpha logp = [-0.5, 0, 0, 0], so the weights
    are exp([-1, 0, 0, 0]) / Z = [e^-1, 1, 1, 1] / (e^-1 + 3); female (samples 0, 1) gets
    (e^-1 + 1) / (e^-1 + 3) = 0.4062. Without alpha the weights are exp(2 r) = [1, 1, e^2, 1] and
    female gets 2 / (3 + e^2) = 0.1925.
    """
    from collapselab.lab.predict import predicted_vs_observed

    ref = [{"gender": "female"}, {"gender": "female"}, {"gender": "male"}, {"gender": "male"}]
    r, logp = np.array([0.0, 0.0, 1.0, 0.0]), np.array([-2.0, 0.0, -4.0, 0.0])
    observed = {"ppo-b0.5": (0.5, [{"gender": "female"}, {"gender": "male"}])}
    (row,) = predicted_vs_observed(ref, r, observed, attributes=("gender",), ref_log_ref=logp, alpha=0.25)
    e = np.exp(-1.0)
    assert row["predicted"]["female"] == pytest.approx((e + 1) / (e + 3))
    assert row["gamma"] == pytest.approx(1.5) and row["alpha"] == 0.25
    assert row["ess"] == pytest.approx((e + 3) ** 2 / (e**2 + 3))
    (plain,) = predicted_vs_observed(ref, r, observed, attributes=("gender",))
    assert plain["predicted"]["female"] == pytest.approx(2 / (3 + np.exp(2.0))) and plain["gamma"] == 1.0


def test_the_tv_that_sampling_alone_reaches_is_zero_for_a_point_mass_and_1_96_sd_for_a_fair_share():
    """tv_noise: a point mass has no noise (every draw gives [1, 0] on both sides). A fair two-way split
    predicted from 20000 equally weighted samples (its own noise ~0.004) against 100 observed: TV =
    |x / 100 - 0.5|, x ~ Binomial(100, 0.5), whose 95th percentile is 0.10 (P(|x - 50| <= 9) = 0.943,
    P(<= 10) = 0.965; 1.96 sd = 0.098). With the weights on a few samples (beta 0.01, rewards spread
    over 0..1) the prediction itself is noisy and the floor rises."""
    from collapselab.lab.predict import predicted_vs_observed, tv_noise

    r = np.zeros(50)
    assert tv_noise(np.zeros(50, dtype=int), r, 1.0, None, 0.0, np.array([1.0, 0.0]), 100) == 0.0
    codes = np.arange(20000) % 2
    fair = tv_noise(codes, np.zeros(20000), 1.0, None, 0.0, np.array([0.5, 0.5]), 100, n_boot=4000)
    assert fair == pytest.approx(0.10, abs=0.012)
    spread = np.linspace(0, 1, 200)
    few = tv_noise(np.arange(200) % 2, spread, 0.01, None, 0.0, np.array([0.5, 0.5]), 100)
    many = tv_noise(np.arange(200) % 2, spread, 10.0, None, 0.0, np.array([0.5, 0.5]), 100)
    assert few > many + 0.05
    ref = [{"gender": "female"}, {"gender": "male"}] * 10
    observed = {"ppo": (1.0, [{"gender": "female"}] * 5 + [None])}
    (row,) = predicted_vs_observed(ref, np.zeros(20), observed, attributes=("gender",))
    assert row["n_observed"] == 5 and 0.3 <= row["tv_noise95"] <= 0.7  # 5 draws of a fair coin: TV 0.1, 0.3 or 0.5


def test_log_pi_ref_is_stored_beside_the_scores_and_read_back_for_the_same_samples(tmp_path):
    path = write_scores(tmp_path / "sft.json", ["a", "b"], np.array([0.5, -1.0]), ref_logp=np.array([-3.0, -7.5]),
                        typicality_reduce="sum")
    assert read_score_file(path, ["a", "b"])["ref_logp"].tolist() == [-3.0, -7.5]
    assert read_score_file(write_scores(tmp_path / "old.json", ["a"], np.array([0.0])), ["a"])["ref_logp"] is None
    with pytest.raises(ValueError, match="ref_logp"):
        write_scores(tmp_path / "bad.json", ["a", "b"], np.array([1.0, 2.0]), ref_logp=np.array([1.0]))


def test_control_moves_need_separated_intervals():
    from collapselab.lab.control import move

    def m(v, lo, hi):
        return {"persona/age_sd": v, "persona/age_sd_ci_lo": lo, "persona/age_sd_ci_hi": hi}

    assert move(m(8.0, 7.0, 9.0), m(12.0, 10.0, 14.0), "persona/age_sd") == "lower"
    assert move(m(12.0, 10.0, 14.0), m(8.0, 7.0, 9.0), "persona/age_sd") == "higher"
    assert move(m(9.5, 8.0, 11.0), m(12.0, 10.0, 14.0), "persona/age_sd") == "no clear change"
    assert move({"persona/age_sd": 8.0}, m(12.0, 10.0, 14.0), "persona/age_sd") == "no interval"
    assert move(None, m(12.0, 10.0, 14.0), "persona/age_sd") == "n/a"


def test_a_control_comparison_with_a_run_under_the_parse_floor_is_a_failed_run_not_a_verdict():
    from collapselab.lab.control import failed

    ok, broken = {"persona/parse_rate": 0.9}, {"persona/parse_rate": 0.43}
    assert failed(ok, None) is None and failed(ok, {"persona/parse_rate": 0.85}) is None
    assert failed(ok, broken) == "failed run (parse 0.43 < 0.85)" == failed(broken)
    # the SFT a control is compared with counts too, and is named
    assert failed(ok, reference={"persona/parse_rate": 0.805}) == "failed run (SFT parse 0.81 < 0.85)"
    assert failed(broken, reference={"persona/parse_rate": 0.805}) == "failed run (parse 0.43 < 0.85)"
    assert failed(ok, reference=ok) is None and failed(ok, reference=None) is None


def test_the_report_predicts_from_the_reward_model_and_from_the_annotators_reward_beside_the_observed(tmp_path):
    """The hand-made case above, its four SFT samples repeated 5 times, as the report's table. The reward model's
    scores equal the annotator's quality here, so the reward-model prediction is the alpha = 0 one: gender
    TV(SFT, predicted) |0.5 - 2/(3 + e^2)| = 0.307, ESS (sum w)^2 / sum w^2 = 5 (3 + e^2)^2 / (3 + e^4) = 9.37, under
    10, so it is named in the sentence above the table. The annotator's reward adds alpha 0.25 log pi_base:
    |0.5 - (e^-1 + 1)/(e^-1 + 3)| = 0.0938, ESS 5 (e^-1 + 3)^2 / (e^-2 + 3) = 18.09, a table row."""
    from collapselab.lab.render import Doc
    from collapselab.lab.report import _Figs, _prediction_section
    from collapselab.lab.results import LabResults, LabRun

    def samples(folder: Path, genders: list[str]) -> Path:
        folder.mkdir(parents=True)
        rows = [{"probe": "persona", "text": f"persona {i}", "parsed": {"gender": g}} for i, g in enumerate(genders)]
        (folder / "samples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
        return folder

    def report(scores: Path, name: str, alpha: float = 0.0) -> str:
        run = LabRun(base=p, sft=p, reward=p, runs={}, eval_final=p, eval_steps=p, start_scores=scores,
                     typicality=alpha)
        doc = Doc()
        _prediction_section(doc, res, _Figs(tmp_path / name), run)
        return doc.markdown()

    sft = samples(tmp_path / "sft", ["female", "female", "male", "male"] * 5)
    ppo = samples(tmp_path / "ppo", ["female", "male"])
    texts, q = [f"persona {i}" for i in range(20)], np.tile([0.0, 0.0, 1.0, 0.0], 5)
    scores = write_scores(tmp_path / "sft.json", texts, q, ref_logp=np.tile([-2.0, 0.0, -4.0, 0.0], 5), quality=q,
                          typicality_reduce="sum")
    res = LabResults(roles={}, dirs={"sft": sft, "ppo-b0.5": ppo},
                     finals=[{"algo": "ppo", "beta": 0.5, "role": "ppo-b0.5", "metrics": {}}])
    p = tmp_path / "x"
    md = report(scores, "report", alpha=0.25)
    # observed: one female, one male, as the SFT model: TV(SFT, observed) = 0
    assert "| gender | ppo-b0.5 | reward model | " not in md and "1 row whose prediction" in md
    assert "ppo-b0.5 at reward model (ESS 9.4)." in md
    assert "| gender | ppo-b0.5 | annotator, alpha = 0.25, gamma = 1.5 | 18.1 | 0.0938 | 0 | 0.0938 |" in md
    assert "annotator: 1 of 1 agree, 0 disagree beyond sampling noise" in md
    assert "ppo-b0.5 (beta 0.5): gamma = 1.5" in md
    # the reward model's scores are the quality itself: it learned none of the typicality term
    assert "its score is 1 x the annotator's quality plus alpha = 0.000 [0.000, 0.000]" in md
    # without typicality the annotator's reward is its quality: both predictions weigh alike (ESS 9.37 each)
    md = report(scores, "report0")
    assert "alpha = 0.25" not in md and "ppo-b0.5 at annotator, alpha = 0, gamma = 1 (ESS 9.4)" in md
    assert "What the reward model learned" not in md
    # a score file from before the annotator's quality was stored: the reward-model prediction alone
    old = write_scores(tmp_path / "old.json", texts, q, ref_logp=np.tile([-2.0, 0.0, -4.0, 0.0], 5))
    md = report(old, "report-old", alpha=0.25)
    assert "holds no annotator quality or log pi_base" not in md and "holds no annotator quality" in md
    assert "annotator," not in md and "| prediction |" not in md


def test_learned_alpha_reads_the_typicality_weight_off_the_reward_models_scores():
    """R = 2 r + 0.1 log pi + 3 exactly: the reward model weighs log pi at 0.1 / 2 = 0.05 per unit of quality,
    in every bootstrap resample too; a reward model that does not rank by quality has no such ratio."""
    from collapselab.lab.predict import learned_alpha

    rng = np.random.default_rng(0)
    q, lp = rng.normal(size=40), rng.normal(-30, 8, size=40)
    fit = learned_alpha(2 * q + 0.1 * lp + 3, q, lp)
    assert fit["alpha"] == pytest.approx(0.05) and fit["quality_coef"] == pytest.approx(2.0) and fit["n"] == 40
    assert fit["ci_lo"] == pytest.approx(0.05) and fit["ci_hi"] == pytest.approx(0.05)
    noisy = learned_alpha(2 * q + 0.1 * lp + rng.normal(0, 1, 40), q, lp)
    assert noisy["ci_lo"] < 0.05 < noisy["ci_hi"] and noisy["ci_hi"] - noisy["ci_lo"] > 0.001
    assert learned_alpha(-q + 0.1 * lp, q, lp) is None and learned_alpha(q[:3], q[:3], lp[:3]) is None
    with pytest.raises(ValueError, match="must match"):
        learned_alpha(q, q[:5], lp)
