"""Getting diversity back in the lab: the gap-closed arithmetic, the target rule, the jobs and their configs."""

from pathlib import Path

import pytest

from collapselab.config import compose
from collapselab.lab.mitigate import gap_closed, meets_target, mitigation_section
from collapselab.lab.results import read_metrics
from collapselab.lab.pipeline import LabState
from collapselab.lab.render import Doc
from collapselab.lab.results import LabResults, LabRun
from collapselab.lab.stages import build_jobs


def test_gap_closed_is_the_share_of_the_base_to_aligned_distance_recovered():
    # TF-IDF: base 0.14, aligned 0.20 (collapsed upward); a mitigation at 0.17 closes (0.17-0.20)/(0.14-0.20) = 0.5
    assert gap_closed(0.17, 0.20, 0.14) == pytest.approx(0.5)
    # attribute entropy: base 0.85, aligned 0.65; 0.90 overshoots the base: (0.90-0.65)/(0.85-0.65) = 1.25
    assert gap_closed(0.90, 0.65, 0.85) == pytest.approx(1.25)
    assert gap_closed(0.60, 0.65, 0.85) == pytest.approx(-0.25)  # further from the base
    assert gap_closed(0.7, 0.65, 0.65) is None and gap_closed(None, 0.6, 0.7) is None


def _m(tfidf, ent, parse, reward):
    return {"semantic/tfidf_cos_mean": tfidf, "persona/attribute_entropy_mean": ent, "persona/parse_rate": parse,
            "quality/reward_mean": reward}


def test_the_target_needs_half_of_both_gaps_a_sound_parse_rate_and_the_reward_within_ten_percent():
    base, aligned = _m(0.14, 0.85, 0.9, 0.3), _m(0.20, 0.65, 0.9, 2.0)
    assert meets_target(_m(0.17, 0.75, 0.85, 1.8), aligned, base)  # gaps 0.5 / 0.5, parse 0.85, reward -10%
    assert not meets_target(_m(0.171, 0.75, 0.9, 2.0), aligned, base)  # TF-IDF gap 0.483
    assert not meets_target(_m(0.17, 0.74, 0.9, 2.0), aligned, base)  # entropy gap 0.45
    assert not meets_target(_m(0.17, 0.75, 0.84, 2.0), aligned, base)  # parse rate
    assert not meets_target(_m(0.17, 0.75, 0.9, 1.79), aligned, base)  # reward 10.5% lower
    # a negative aligned reward: within 10% of its size
    assert meets_target(_m(0.17, 0.75, 0.9, -1.1), _m(0.20, 0.65, 0.9, -1.0), base)


def _state(tmp_path, *extra):
    cfg = compose("lab", ["lab=smoke", f"out_dir={tmp_path}", *extra])
    return LabState(cfg, Path(tmp_path))


def test_each_mitigation_is_a_job_on_the_collapsed_checkpoint_with_its_own_decoding(tmp_path):
    from collapselab.lab.eval_jobs import mitigation_cfg

    state = _state(tmp_path, "lab.mitigate_role=ppo-b0.05")
    jobs = build_jobs(state)
    names = [n for n in jobs if n.startswith("mitigate/")]
    assert names == ["mitigate/conformative-w0.5", "mitigate/temperature-1.3"]
    assert jobs["mitigate/conformative-w0.5"].deps == ("ppo/0.05", "reward", "base")
    assert set(names) <= set(jobs["report"].deps) and not set(names) & set(jobs["compare"].deps)
    art = tmp_path / "art"
    state.results = {"base": {"path": str(art / "base")}, "reward": {"model": str(art / "rm")},
                     "ppo/0.05": {"run": str(art / "ppo"), "model": str(art / "ppo" / "step-000004")}}
    conf = mitigation_cfg(state, "conformative-w0.5")
    assert conf.checkpoints == [str(art / "ppo" / "step-000004")] and conf.reward_model == str(art / "rm")
    assert (conf.decoding.method, conf.decoding.weight, conf.decoding.base) == ("conformative", 0.5, str(art / "base"))
    assert conf.probes == ["entropy", "semantic", "persona", "quality"] and conf.persona.n_samples == 10
    temp = mitigation_cfg(state, "temperature-1.3")
    assert (temp.decoding.method, temp.decoding.temperature, temp.decoding.base) == ("plain", 1.3, None)


def test_a_mitigation_role_that_is_not_one_of_the_labs_runs_is_refused(tmp_path):
    from collapselab.errors import UserError

    with pytest.raises(UserError, match="mitigate_role='ppo-b0.3'"):
        compose("lab", ["lab=smoke", "lab.mitigate_role=ppo-b0.3"])


def test_the_section_tabulates_each_rule_beside_base_and_aligned_and_draws_the_frontier(tmp_path):
    import json

    folder = tmp_path / "mit" / "minp" / "step-4"
    folder.mkdir(parents=True)
    json.dump({**_m(0.17, 0.75, 0.9, 1.9), "semantic/vendi": 7.0}, (folder / "metrics.json").open("w"))
    assert read_metrics(tmp_path / "mit" / "minp")["semantic/vendi"] == 7.0
    res = LabResults(roles={"base": {**_m(0.14, 0.85, 0.9, 0.3), "semantic/vendi": 8.0},
                            "rs": {**_m(0.20, 0.65, 0.9, 2.0), "semantic/vendi": 6.0}}, dirs={})
    run = LabRun(base=tmp_path, sft=tmp_path, reward=tmp_path, runs={}, eval_final=tmp_path, eval_steps=tmp_path,
                 start_scores=tmp_path, mitigations={"minp-T1.5": tmp_path / "mit" / "minp"}, mitigate_role="rs")
    doc = Doc()
    figs = mitigation_section(doc, res, run, tmp_path / "figs")
    md = doc.markdown()
    row = next(line for line in md.splitlines() if line.startswith("| minp-T1.5"))
    assert "| 0.5 |" in row and "**yes**" in row  # both gaps half closed, parse and reward sound
    assert "1 of 1 rules meet the target: minp-T1.5." in md
    assert figs and (tmp_path / "figs" / "mitigation_frontier.png").is_file()


def test_without_rejection_sampling_the_lab_has_no_rs_jobs_and_mitigates_another_run(tmp_path):
    state = _state(tmp_path, "lab.run_rs=false", "lab.mitigate_role=dpo-b0.1", "lab.typicality=0.05")
    jobs = build_jobs(state)
    assert not [n for n in jobs if n.split("/")[0] == "rs" or n.endswith("rs")]
    assert jobs["mitigate/temperature-1.3"].deps[0] == "dpo/0.1"
    from collapselab.errors import UserError

    with pytest.raises(UserError, match=r"lab.mitigate_role='rs': must be one of the lab's runs \(ppo-b0.05, dpo-b0.1\)"):
        compose("lab", ["lab=smoke", "lab.run_rs=false", "lab.mitigate_role=rs"])
