"""Getting diversity back in the lab: the gap-closed arithmetic, the target rule, the jobs and their configs."""

from pathlib import Path

import pytest

from collapselab.config import compose
from collapselab.errors import UserError
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


def _m(tfidf, ent, parse, reward, annotator=None):
    out = {"semantic/tfidf_cos_mean": tfidf, "persona/attribute_entropy_mean": ent, "persona/parse_rate": parse,
           "quality/reward_mean": reward}
    return out if annotator is None else {**out, "quality/annotator_mean": annotator}


def test_the_target_needs_half_of_both_gaps_a_sound_parse_rate_and_the_reward_within_ten_percent():
    base, aligned = _m(0.14, 0.85, 0.9, 0.3), _m(0.20, 0.65, 0.9, 2.0)
    assert meets_target(_m(0.17, 0.75, 0.85, 1.8), aligned, base)  # gaps 0.5 / 0.5, parse 0.85, reward -10%
    assert not meets_target(_m(0.171, 0.75, 0.9, 2.0), aligned, base)  # TF-IDF gap 0.483
    assert not meets_target(_m(0.17, 0.74, 0.9, 2.0), aligned, base)  # entropy gap 0.45
    assert not meets_target(_m(0.17, 0.75, 0.84, 2.0), aligned, base)  # parse rate
    assert not meets_target(_m(0.17, 0.75, 0.9, 1.79), aligned, base)  # reward 10.5% lower
    # a negative aligned reward: within 10% of its size
    assert meets_target(_m(0.17, 0.75, 0.9, -1.1), _m(0.20, 0.65, 0.9, -1.0), base)


def test_the_target_on_the_annotators_score_holds_that_score_within_ten_percent_instead_of_the_reward():
    """A rule that closes both gaps: its reward model's score falls 20% (2.0 -> 1.6) while the annotator's own score
    holds (3.5 -> 3.6): it misses the target on the reward and meets it on the annotator's score; the other way round
    (3.5 -> 3.1, 11% lower) it meets neither."""
    base, aligned = _m(0.14, 0.85, 0.9, 0.3, 2.4), _m(0.20, 0.65, 0.9, 2.0, 3.5)
    rule = _m(0.17, 0.75, 0.9, 1.6, 3.6)
    assert not meets_target(rule, aligned, base) and meets_target(rule, aligned, base, "quality/annotator_mean")
    assert not meets_target(_m(0.17, 0.75, 0.9, 1.6, 3.1), aligned, base, "quality/annotator_mean")
    assert not meets_target(_m(0.17, 0.75, 0.9, 2.0), aligned, base, "quality/annotator_mean")  # no score: no


def _state(tmp_path, *extra):
    cfg = compose("lab", ["lab=smoke", f"out_dir={tmp_path}", *extra])
    return LabState(cfg, Path(tmp_path))


def test_each_mitigation_is_a_job_on_the_collapsed_checkpoint_with_its_own_decoding(tmp_path):
    from collapselab.lab.eval_jobs import mitigation_cfg

    state = _state(tmp_path, "lab.mitigate_roles=[ppo-b0.05,dpo-b0.1]")
    jobs = build_jobs(state)
    names = [n for n in jobs if n.startswith("mitigate/")]
    rules = ["conformative-w0.5", "temperature-1.3", "steer-l1-s2", "verbalized-k5"]
    assert names == [f"mitigate/{role}/{r}" for role in ("ppo-b0.05", "dpo-b0.1") for r in rules]
    assert jobs["mitigate/ppo-b0.05/conformative-w0.5"].deps == ("ppo/0.05", "reward", "base")
    assert jobs["mitigate/dpo-b0.1/conformative-w0.5"].deps == ("dpo/0.1", "reward", "base")
    assert set(names) <= set(jobs["report"].deps) and not set(names) & set(jobs["compare"].deps)
    art = tmp_path / "art"
    state.results = {"base": {"path": str(art / "base")}, "reward": {"model": str(art / "rm")},
                     "ppo/0.05": {"run": str(art / "ppo"), "model": str(art / "ppo" / "step-000004")}}
    conf = mitigation_cfg(state, "ppo-b0.05", "conformative-w0.5")
    assert conf.checkpoints == [str(art / "ppo" / "step-000004")] and conf.reward_model == str(art / "rm")
    assert (conf.decoding.method, conf.decoding.weight, conf.decoding.base) == ("conformative", 0.5, str(art / "base"))
    assert conf.probes == ["entropy", "semantic", "persona", "quality"] and conf.persona.n_samples == 10
    assert conf.persona.review_clusters is False  # no table of the mitigations reads a review k
    temp = mitigation_cfg(state, "ppo-b0.05", "temperature-1.3")
    assert (temp.decoding.method, temp.decoding.temperature, temp.decoding.base) == ("plain", 1.3, None)
    # steering reads the SFT model's direction from the steer/sft job's file at the rule's layer, and waits for it
    assert jobs["mitigate/ppo-b0.05/steer-l1-s2"].deps == ("ppo/0.05", "reward", "base", "steer/sft")
    state.results |= {"sft": {"model": str(art / "sft")}, "steer/sft": {"dir": str(tmp_path / "steer" / "sft")}}
    steer = mitigation_cfg(state, "ppo-b0.05", "steer-l1-s2")
    assert (steer.decoding.method, steer.decoding.layer, steer.decoding.scale, steer.decoding.direction,
            steer.decoding.base) == ("steer", 1, 2.0, str(tmp_path / "steer" / "sft" / "direction-l1.npz"), None)
    # the file's path does not change when the direction does: the steer job's own key is part of the rule's
    from collapselab.lab.eval_jobs import mitigation_key

    key = mitigation_key(state, "ppo-b0.05", "steer-l1-s2")
    state.cfg.lab.steer = ["n_answers=7"]
    assert mitigation_key(state, "ppo-b0.05", "steer-l1-s2") != key


def test_steering_with_the_sft_direction_needs_its_layer():
    from collapselab.errors import UserError

    with pytest.raises(UserError, match=r"mitigations.s: decoding.direction=steer/sft needs decoding.layer=<l>"):
        compose("lab", ["lab=smoke", "+lab.mitigations.s=['decoding=steer','decoding.scale=2','decoding.direction=steer/sft']"])


def test_no_mitigation_roles_means_no_mitigation_jobs(tmp_path):
    """``lab.mitigate_roles=[]`` skips the stage (a Hydra override cannot empty the preset's mitigations)."""
    jobs = build_jobs(_state(tmp_path, "lab.mitigate_roles=[]"))
    assert not [n for n in jobs if n.startswith("mitigate/")]
    assert not [d for d in jobs["report"].deps if d.startswith("mitigate/")]


def test_the_default_roles_follow_a_changed_sweep(tmp_path):
    """The default preset names its PPO and DPO roles ppo-bmin / dpo-bmin, so the README's
    ``'lab.ppo_betas=[0.01,0.1]'`` runs (it was refused: the preset named ppo-b0.02, no longer a run)."""
    assert compose("lab", []).lab.mitigation_roles() == ["rs", "ppo-b0.02", "dpo-b0.05"]  # the jobs' names as before
    cfg = compose("lab", ["lab.ppo_betas=[0.1,0.01]", "lab.dpo_betas=[0.2]"])
    assert cfg.lab.mitigation_roles() == ["rs", "ppo-b0.01", "dpo-b0.2"]
    jobs = build_jobs(LabState(cfg, Path(tmp_path)))
    assert jobs["mitigate/ppo-b0.01/conformative-w1.0"].deps[0] == "ppo/0.01"
    assert {n.split("/")[1] for n in jobs if n.startswith("mitigate/")} == {"rs", "ppo-b0.01", "dpo-b0.2"}
    with pytest.raises(UserError, match=r"mitigate_roles=\['dpo-bmin'\]: each must be one of the lab's runs \(ppo-b0.05, rs\)"):
        compose("lab", ["lab=smoke", "lab.dpo_betas=[]", "lab.mitigate_roles=[dpo-bmin]"])
    with pytest.raises(UserError, match=r"none twice"):
        compose("lab", ["lab=smoke", "lab.mitigate_roles=[ppo-bmin,ppo-b0.05]"])


def test_a_mitigation_role_that_is_not_one_of_the_labs_runs_is_refused(tmp_path):
    from collapselab.errors import UserError

    with pytest.raises(UserError, match=r"mitigate_roles=\['rs', 'ppo-b0.3'\]: each must be one of the lab's runs"):
        compose("lab", ["lab=smoke", "lab.mitigate_roles=[rs,ppo-b0.3]"])
    with pytest.raises(UserError, match=r"mitigate_roles=\['rs', 'rs'\]: .* none twice"):
        compose("lab", ["lab=smoke", "lab.mitigate_roles=[rs,rs]"])


def test_the_section_tabulates_each_rule_beside_base_and_aligned_and_draws_the_frontier(tmp_path):
    import json

    folder = tmp_path / "mit" / "minp" / "step-4"
    folder.mkdir(parents=True)
    json.dump({**_m(0.17, 0.75, 0.9, 1.9), "semantic/vendi": 7.0}, (folder / "metrics.json").open("w"))
    assert read_metrics(tmp_path / "mit" / "minp")["semantic/vendi"] == 7.0
    res = LabResults(roles={"base": {**_m(0.14, 0.85, 0.9, 0.3), "semantic/vendi": 8.0},
                            "rs": {**_m(0.20, 0.65, 0.9, 2.0), "semantic/vendi": 6.0}}, dirs={})
    run = LabRun(base=tmp_path, sft=tmp_path, reward=tmp_path, runs={}, eval_final=tmp_path, eval_steps=tmp_path,
                 start_scores=tmp_path, mitigations={"rs": {"minp-T1.5": tmp_path / "mit" / "minp"}})
    doc = Doc()
    figs = mitigation_section(doc, res, run, tmp_path / "figs")
    md = doc.markdown()
    row = next(line for line in md.splitlines() if line.startswith("| minp-T1.5"))
    assert "| 0.5 |" in row and "**yes**" in row  # both gaps half closed, parse and reward sound
    # no samples.jsonl here: the gap has no interval (with samples it gets one: the test below)
    assert ("1 of 1 rules meet the target (minp-T1.5); judged by the annotator's score instead of the reward "
            "model's, 0 of 1.") in md  # no annotator score in these metrics: that column says no
    assert figs and (tmp_path / "figs" / "mitigation_frontier.png").is_file()


def test_each_mitigated_role_gets_its_own_table_gaps_and_frontier(tmp_path):
    import json

    for role, (tfidf, attr) in {"ppo-b0.05": (0.26, 0.73), "dpo-b0.1": (0.22, 0.62)}.items():
        folder = tmp_path / "mit" / role / "minp" / "step-4"
        folder.mkdir(parents=True)
        json.dump(_m(tfidf, attr, 0.9, 1.9), (folder / "metrics.json").open("w"))
    # ppo: gaps (0.26 - 0.38) / (0.14 - 0.38) = 0.5 and (0.73 - 0.55) / (0.85 - 0.55) = 0.6 -> meets the target;
    # dpo: (0.22 - 0.30) / (0.14 - 0.30) = 0.5 but (0.62 - 0.60) / (0.85 - 0.60) = 0.08 -> does not
    res = LabResults(roles={"base": _m(0.14, 0.85, 0.9, 0.3), "ppo-b0.05": _m(0.38, 0.55, 0.9, 2.0),
                            "dpo-b0.1": _m(0.30, 0.60, 0.9, 2.0)}, dirs={})
    run = LabRun(base=tmp_path, sft=tmp_path, reward=tmp_path, runs={}, eval_final=tmp_path, eval_steps=tmp_path,
                 start_scores=tmp_path, mitigations={r: {"minp": tmp_path / "mit" / r / "minp"}
                                                     for r in ("ppo-b0.05", "dpo-b0.1")})
    doc = Doc()
    figs = mitigation_section(doc, res, run, tmp_path / "figs")
    md = doc.markdown()
    assert "### On ppo-b0.05" in md and "### On dpo-b0.1" in md
    assert "On `ppo-b0.05`, 1 of 1 rules meet the target (minp);" in md
    assert "On `dpo-b0.1`, 0 of 1 rules meet the target;" in md
    dpo_rows = md.split("### On dpo-b0.1")[1]
    assert "| 0.5 | 0.08 |" in next(line for line in dpo_rows.splitlines() if line.startswith("| minp"))
    assert [f for f, _ in figs] == ["figures/mitigation_frontier_ppo-b0.05.png", "figures/mitigation_frontier_dpo-b0.1.png"]
    assert all((tmp_path / f.replace("figures", "figs")).is_file() for f, _ in figs)


def test_a_verbalized_row_shows_only_what_its_persona_prompt_changes(tmp_path):
    import json

    folder = tmp_path / "mit" / "vs" / "step-4"
    folder.mkdir(parents=True)
    # its semantic probe kept the plain request: the TF-IDF value is the aligned model's own samples again
    json.dump({**_m(0.38, 0.70, 0.3, 1.9), "meta": {"prompt_format": "verbalized"}}, (folder / "metrics.json").open("w"))
    res = LabResults(roles={"base": _m(0.14, 0.85, 0.9, 0.3), "ppo-b0.05": _m(0.38, 0.55, 0.9, 2.0)}, dirs={})
    run = LabRun(base=tmp_path, sft=tmp_path, reward=tmp_path, runs={}, eval_final=tmp_path, eval_steps=tmp_path,
                 start_scores=tmp_path, mitigations={"ppo-b0.05": {"vs": tmp_path / "mit" / "vs"}})
    doc = Doc()
    mitigation_section(doc, res, run, tmp_path / "figs")
    md = doc.markdown()
    row = next(line for line in md.splitlines() if line.startswith("| vs"))
    # TF-IDF "(plain prompt)", attribute entropy 0.7, gap TF-IDF blank, gap attr. (0.70 - 0.55) / 0.30 = 0.5
    assert row.startswith("| vs | (plain prompt) | 0.7 |  | 0.5 | (plain prompt) |") and row.endswith("| no | no |")
    assert "those columns would only repeat the aligned row" in md


def test_without_rejection_sampling_the_lab_has_no_rs_jobs_and_mitigates_another_run(tmp_path):
    state = _state(tmp_path, "lab.run_rs=false", "lab.mitigate_roles=[dpo-b0.1]", "lab.typicality=0.05")
    jobs = build_jobs(state)
    assert not [n for n in jobs if n.split("/")[0] == "rs" or n.endswith("rs")]
    assert jobs["mitigate/dpo-b0.1/temperature-1.3"].deps[0] == "dpo/0.1"
    from collapselab.errors import UserError

    with pytest.raises(UserError, match=r"lab.mitigate_roles=\['rs'\]: each must be one of the lab's runs \(ppo-b0.05, dpo-b0.1\)"):
        compose("lab", ["lab=smoke", "lab.run_rs=false"])


def test_the_gap_interval_is_the_percentile_range_of_the_resampled_gap():
    """Draws (m, a, b): (0.5, 0, 1) -> 0.5, (0.3, 0.1, 0.5) -> 0.5, (0.4, 0, 0.5) -> 0.8, (1, 1, 1): no gap,
    dropped. Percentiles 2.5 / 97.5 of [0.5, 0.5, 0.8] by linear interpolation: 0.5 and 0.785."""
    import numpy as np

    from collapselab.lab.mitigate import gap_interval

    m, a, b = np.array([0.5, 0.3, 0.4, 1.0]), np.array([0.0, 0.1, 0.0, 1.0]), np.array([1.0, 0.5, 0.5, 1.0])
    lo, hi = gap_interval(m, a, b)
    assert lo == pytest.approx(0.5) and hi == pytest.approx(0.785)
    assert gap_interval(None, a, b) is None and gap_interval(m, a, a) is None


def test_metric_draws_are_centred_on_the_full_sets_value_and_spread_with_the_samples():
    """TF-IDF: per-text similarities 0.1 x 50 and 0.3 x 50 have mean 0.2; identical texts give no spread.
    Attribute entropy: MBTI INTJ/ENFP alternating over 40 personas is ln 2 / ln 16 = 0.25 (the worked
    example's rule), and the draws' median sits there."""
    import numpy as np

    from collapselab.lab.mitigate import metric_draws

    rows = [{"probe": "semantic", "tfidf_cos": 0.1 + 0.2 * (i % 2)} for i in range(100)]
    d = metric_draws(rows, "semantic/tfidf_cos_mean", 500, np.random.default_rng(0))
    assert np.median(d) == pytest.approx(0.2) and 0.17 < np.quantile(d, 0.025) < 0.2 < np.quantile(d, 0.975) < 0.23
    same = metric_draws([{"probe": "semantic", "tfidf_cos": 0.4}] * 10, "semantic/tfidf_cos_mean", 50,
                        np.random.default_rng(0))
    assert np.allclose(same, 0.4)
    personas = [{"probe": "persona", "parsed": {"mbti": "INTJ" if i % 2 else "ENFP"}} for i in range(40)]
    e = metric_draws(personas, "persona/attribute_entropy_mean", 300, np.random.default_rng(1))
    assert np.median(e) == pytest.approx(np.log(2) / np.log(16)) and e.std() > 0
    assert metric_draws([{"probe": "entropy"}], "persona/attribute_entropy_mean", 10, np.random.default_rng(0)) is None


def test_with_samples_each_gap_gets_its_interval_in_the_table(tmp_path):
    """base texts at TF-IDF 0.1, aligned at 0.3, the rule's at 0.2 and 0.2 (+-0.01 alternating): gap 0.5
    with a narrow interval around it; no persona samples, so the attribute gap has none."""
    import json

    def folder(name, sims, metrics):
        d = tmp_path / name
        d.mkdir(parents=True)
        (d / "samples.jsonl").write_text("".join(json.dumps({"probe": "semantic", "tfidf_cos": s}) + "\n" for s in sims))
        json.dump(metrics, (d / "metrics.json").open("w"))
        return d

    base = folder("base", [0.1] * 40, _m(0.1, 0.85, 0.9, 0.3))
    rs = folder("rs", [0.3] * 40, _m(0.3, 0.65, 0.9, 2.0))
    folder("mit/minp/step-4", [0.19, 0.21] * 20, _m(0.2, 0.75, 0.9, 1.9))
    res = LabResults(roles={"base": _m(0.1, 0.85, 0.9, 0.3), "rs": _m(0.3, 0.65, 0.9, 2.0)},
                     dirs={"base": base, "rs": rs})
    run = LabRun(base=tmp_path, sft=tmp_path, reward=tmp_path, runs={}, eval_final=tmp_path, eval_steps=tmp_path,
                 start_scores=tmp_path, mitigations={"rs": {"minp": tmp_path / "mit" / "minp"}})
    from collapselab.lab.mitigate import gap_intervals

    cis = gap_intervals(LabResults(roles=res.roles, dirs=res.dirs), run.mitigations["rs"], "rs")
    lo, hi = cis[("minp", "semantic/tfidf_cos_mean")]
    assert 0.45 < lo < 0.5 < hi < 0.55 and ("minp", "persona/attribute_entropy_mean") not in cis
    doc = Doc()
    mitigation_section(doc, res, run, tmp_path / "figs")
    row = next(line for line in doc.markdown().splitlines() if line.startswith("| minp"))
    assert f"0.5 [{lo:.3g}, {hi:.3g}]" in row


def test_the_steering_validation_is_a_job_on_the_sft_model_the_report_waits_for(tmp_path):
    from collapselab.lab.eval_jobs import steer_cfg

    state = _state(tmp_path)
    jobs = build_jobs(state)
    assert jobs["steer/sft"].deps == ("evaluate/sft",) and "steer/sft" in jobs["report"].deps
    state.results = {"sft": {"model": str(tmp_path / "sft")}}
    cfg = steer_cfg(state)
    ev = state.compose("evaluate", "evaluate", [f"checkpoints=[{tmp_path / 'sft'}]"])
    assert cfg.checkpoint == str(tmp_path / "sft") and cfg.layer == "all"
    # the persona samples its evaluation drew (same count, length, batch, seed): read from the sample cache
    assert (cfg.n_samples, cfg.max_new_tokens, cfg.batch_size, cfg.seed) == (
        ev.persona.n_samples, ev.persona.max_new_tokens, ev.batch_size, ev.seed)
    assert cfg.artifacts_dir == state.cfg.artifacts_dir


def test_the_steering_section_tabulates_spearman_per_layer(tmp_path):
    import json

    from collapselab.lab.mitigate import steer_section

    def rho(r, lo, hi, n):
        return {"rho": r, "ci_lo": lo, "ci_hi": hi, "n": n}

    (tmp_path / "steer.json").write_text(json.dumps({"layers": {
        "2": {"samples_surprisal_spearman": rho(0.37, 0.17, 0.53, 76), "world_surprisal_spearman": rho(0.18, 0.06, 0.29, 300)},
        "10": {"samples_surprisal_spearman": rho(-0.2, -0.4, 0.03, 76)}}, "position": "answers",
        "answers_creative": {"n": 600, "n_scored": 530, "surprisal_mean": 27.18},
        "answers_boring": {"n": 600, "n_scored": 549, "surprisal_mean": 24.09}}))
    run = LabRun(base=tmp_path, sft=tmp_path, reward=tmp_path, runs={}, eval_final=tmp_path, eval_steps=tmp_path,
                 start_scores=tmp_path, steer=tmp_path)
    doc = Doc()
    steer_section(doc, run)
    lines = [line for line in doc.markdown().splitlines() if line.startswith("| 2 ") or line.startswith("| 10 ")]
    assert lines[0].startswith("| 2 |") and "0.37 [0.17, 0.53] (n 76)" in lines[0] and "(n 300)" in lines[0]
    assert lines[1].startswith("| 10 |")  # layers in numeric order
    text = doc.markdown()
    assert "over the tokens of its own answers" in text and "27.2 nats (530 of 600 parsed)" in text and "24.1 (549" in text
    empty = Doc()
    steer_section(empty, LabRun(base=tmp_path, sft=tmp_path, reward=tmp_path, runs={}, eval_final=tmp_path,
                                eval_steps=tmp_path, start_scores=tmp_path))
    assert "did not run" in empty.markdown()


def test_the_logger_is_not_part_of_an_evaluation_key(tmp_path):
    """A report-only rerun with another logger reuses the evaluations: their keys ignore where numbers are
    logged, and still change with what is measured."""
    from collapselab.lab.eval_jobs import eval_key, mitigation_key

    art = tmp_path / "art"
    results = {"base": {"path": str(art / "base")}, "reward": {"model": str(art / "rm")},
               "ppo/0.05": {"run": str(art / "ppo"), "model": str(art / "ppo" / "step-000004")}}
    keys = []
    for extra in (["logger=wandb"], ["logger=none"], ["logger=none", 'lab.evaluate=["persona.n_samples=12"]']):
        state = _state(tmp_path, "lab.mitigate_roles=[ppo-b0.05]", *extra)
        state.results = dict(results)
        keys.append((eval_key(state, "base", False), eval_key(state, "ppo-b0.05", False),
                     mitigation_key(state, "ppo-b0.05", "temperature-1.3")))
    assert keys[0] == keys[1]
    assert all(a != b for a, b in zip(keys[1], keys[2], strict=True))


def test_rejection_sampling_answers_in_the_chat_format_and_the_rule_is_in_the_keys(tmp_path, monkeypatch):
    """RS is trained on chats like SFT, PPO and DPO, so prompt_format=auto measures it in the chat format (it was
    measured on the base's plain prompts); the rule is code, not config, so the evaluation keys carry it and a
    lab folder made under the old rule evaluates again."""
    from collapselab.lab import eval_jobs
    from collapselab.probes import Checkpoint, StubLanguageModel
    from collapselab.probes.harness import resolve_format

    chat_lm = StubLanguageModel(["x"], [0.0, 0.0], chat_template=True)
    for algo, fmt in (("rs", "chat"), ("sft", "chat"), ("ppo", "chat"), ("dpo", "chat"), ("pretrain", "plain")):
        assert resolve_format("auto", Checkpoint(spec="c", path="c", name="c", algo=algo), chat_lm) == fmt, algo

    art = tmp_path / "art"
    state = _state(tmp_path, "lab.mitigate_roles=[rs]")
    state.results = {"base": {"path": str(art / "base")}, "reward": {"model": str(art / "rm")},
                     "rs": {"run": str(art / "rs"), "model": str(art / "rs" / "step-000003")}}
    now = (eval_jobs.eval_key(state, "rs", False), eval_jobs.mitigation_key(state, "rs", "temperature-1.3"))
    monkeypatch.setattr(eval_jobs, "CHAT_ALGOS", ("sft", "ppo", "dpo"))
    before = (eval_jobs.eval_key(state, "rs", False), eval_jobs.mitigation_key(state, "rs", "temperature-1.3"))
    assert all(a != b for a, b in zip(now, before, strict=True))
    monkeypatch.setattr(eval_jobs, "CHAT_ALGOS", ("sft", "rs", "ppo", "dpo"))
    assert (eval_jobs.eval_key(state, "rs", False), eval_jobs.mitigation_key(state, "rs", "temperature-1.3")) == now
    monkeypatch.setattr(eval_jobs, "BASE_NLL_RULE", "parent")  # the base-NLL rule is in the keys too
    assert eval_jobs.eval_key(state, "rs", False) != now[0]
