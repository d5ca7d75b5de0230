"""The whole lab at smoke size, in-process: every stage runs, the report and its figures exist,
numbers come from the run's metrics files, and a second run reuses every stage."""

import json
import re

import pytest

from collapselab.config import compose
from collapselab.lab import STAGES, run_lab
from collapselab.lab.render import ci_of, fmt

pytestmark = pytest.mark.integration


def test_smoke_lab_end_to_end_and_reuse(tmp_path):
    overrides = ["lab=smoke", f"artifacts_dir={tmp_path / 'artifacts'}", f"out_dir={tmp_path / 'out'}",
                 f"report_dir={tmp_path / 'report'}", "logger=none"]
    first = run_lab(compose("lab", overrides))
    assert set(first["this_run"]) == set(STAGES)

    index = (tmp_path / "report" / "index.html").read_text()
    md = (tmp_path / "report" / "report.md").read_text()
    srcs = re.findall(r'<img src="([^"]+)"', index)
    assert len(srcs) >= 8
    missing = [s for s in srcs if not (tmp_path / "report" / s).is_file()]
    assert not missing, missing
    assert "Side by side with the paper" in md and "Predicted vs observed collapse" in md
    # rejection sampling is a column of the paper table; each mitigation a row of "Getting diversity back"
    assert "lab rs [95% CI]" in md and "## Getting diversity back" in md
    assert "| conformative-w0.5 |" in md and "| temperature-1.3 |" in md
    # quality twice: the reward model's score and the annotator's own (the tiny world's ground truth), in the quality
    # table and as the mitigation target's second verdict
    assert "| quality/reward_mean | quality/annotator_mean |" in md and "| meets it on the annotator's score |" in md
    # what the KL beta did: the final runs read against the optimum's order and against the model they start from
    assert "| measure | algorithm | base | start: " in md and "order over beta |" in md
    base_dir = next((tmp_path / "artifacts" / "base").glob("*/collapselab.json")).parent
    n = json.loads((base_dir / "collapselab.json").read_text())["n_params"]
    assert f"a {n / 1e6:.2f}M-parameter model" in md  # the model size is read from the base, not typed in

    # the paper table's lab numbers are the metrics files' numbers
    base_metrics = [json.loads(p.read_text()) for p in (tmp_path / "out" / "eval" / "final").glob("*/*/metrics.json")
                    if json.loads(p.read_text())["meta"].get("algo") not in ("sft", "ppo", "dpo", "rs")]
    assert len(base_metrics) == 1
    h = base_metrics[0]["entropy/top5_bits_mean"]
    assert f"{h:.3g}" in md
    assert 0.0 <= h <= 2.33  # eq. 3.2 is bounded by log2(5)
    # Experiment 2's table shows how distinct the chosen clusters are beside their number
    from collapselab.lab.render import fmt

    assert "silhouette at k" in md and fmt(base_metrics[0]["semantic/silhouette"]) in md
    # Experiment 3's fluency check: the base scores its own stories, so its row has a base NLL too
    nll = base_metrics[0]["entropy/base_nll"]
    assert nll > 0 and "base NLL, nats/token [95% CI]" in md and fmt(nll) in md
    # ... and so do its bios and personas in the quality table (they read n/a before)
    qnll = base_metrics[0]["quality/base_nll"]
    assert qnll > 0 and base_metrics[0]["quality/base_nll_ci_lo"] <= qnll
    # ... and each row says how many stories it averages (the smoke preset's entropy.n_samples=8)
    assert f"| base | 8 | {fmt(h)}" in md
    # ... and the paper table is also written as data, the same numbers and verdicts (scripts/across_seeds.py reads it)
    paper = json.loads((tmp_path / "report" / "verdicts.json").read_text())
    row = next(r for r in paper["paper"] if r["key"] == "entropy/top5_bits_mean")
    assert row["base"] == h and row["base_ci"] == [base_metrics[0]["entropy/top5_bits_mean_ci_lo"],
                                                   base_metrics[0]["entropy/top5_bits_mean_ci_hi"]]
    assert {"sft", "rs"} <= set(row["aligned"]) and all(f"**{c['verdict']}**" in md for c in row["aligned"].values())
    assert paper["lab"] == "smoke" and 0 <= paper["parse_rate"]["sft"] <= 1 and paper["mechanism"] == []
    # the world's own documents, scored by the same metrics, are a column before the lab's base (world -> base ->
    # aligned): the numbers of truth.json's "documents"
    world = paper["world_documents"]
    truth = json.loads(next((tmp_path / "artifacts" / "world").glob("*/truth.json")).read_text())
    assert world == truth["documents"] and f"| world ({world['n']} documents) |" in md
    assert fmt(world["semantic/tfidf_cos_mean"]) in md and "needs a model" in md and "world -> base -> aligned" in md

    # the reward model scored the SFT personas in a job of its own; the report only read the file
    scores = json.loads((tmp_path / "out" / "score" / "sft.json").read_text())
    assert scores["n"] == len(scores["scores"]) == len(scores["ref_logp"]) > 0
    assert "No control run: the annotator's typicality alpha is 0" in md

    second = run_lab(compose("lab", overrides))
    assert set(second["reused"]) == set(STAGES) - {"report"}
    assert sum(second["this_run"].values()) < sum(first["this_run"].values()) / 3


@pytest.mark.slow  # a second whole smoke lab plus the control's pairs, reward model, PPO and DPO
@pytest.mark.timeout(900)
def test_smoke_lab_with_typicality_runs_the_alpha_0_control(tmp_path):
    overrides = ["lab=smoke", "lab.typicality=0.02", f"artifacts_dir={tmp_path / 'artifacts'}",
                 f"out_dir={tmp_path / 'out'}", f"report_dir={tmp_path / 'report'}", "logger=none"]
    run_lab(compose("lab", overrides))
    memo = json.loads((tmp_path / "out" / "stages.json").read_text())
    assert {"reward/control", "ppo/control/0.05", "dpo/control/0.1", "rs/control", "evaluate/control-ppo-b0.05",
            "evaluate/control-dpo-b0.1", "evaluate/control-rs", "rs/control-self",
            "evaluate/control-rs-self"} <= set(memo)

    # two pair sets from the same SFT model: the lab's, labelled with alpha (log pi_ref kept), and the control's
    pairs = [[json.loads(line) for line in p.read_text().splitlines()]
             for p in (tmp_path / "artifacts" / "pairs").glob("*/pairs.jsonl")]
    assert sorted("chosen_ref_logp" in rows[0] for rows in pairs) == [False, True]
    assert memo["reward/control"]["result"]["model"] != memo["reward"]["result"]["model"]

    scores = json.loads((tmp_path / "out" / "score" / "sft.json").read_text())
    assert len(scores["ref_logp"]) == scores["n"] > 0 and scores["typicality_reduce"] == "attributes_mean"
    assert len(scores["quality"]) == scores["n"] and scores["quality_rule"].startswith("Annotator().score")

    # the control is evaluated with the persona probe only, and the report shows its numbers
    control = [json.loads(p.read_text()) for p in (tmp_path / "out" / "eval" / "control").glob("*/*/metrics.json")]
    assert len(control) == 4  # PPO and DPO at the smallest beta, rejection sampling, and RS without selection
    assert all("persona/n_nationalities" in m and "entropy/top5_bits_mean" not in m for m in control)
    md = (tmp_path / "report" / "report.md").read_text()
    assert "Typicality: aligned at alpha vs the alpha = 0 control" in md
    assert "PPO beta 0.05, alpha 0 (control)" in md and "DPO beta 0.1, alpha 0.02" in md
    assert "RS, alpha 0.02" in md and "RS, alpha 0 (control)" in md and "RS, alpha 0, no selection" in md
    assert "fine-tuning on its own samples (RS, no selection vs SFT)" in md
    for m in control:
        assert fmt(float(m["persona/n_nationalities"]), ci_of(m, "persona/n_nationalities")) in md
    assert "ppo-b0.05 (beta 0.05): gamma = 1.4" in md and "dpo-b0.1 (beta 0.1): gamma = 1.2" in md
    # the prediction's rows need parsed SFT personas, which the smoke model rarely writes: the unit tests
    # (test_lab_scheduler.py) check them on hand-made samples
    assert "alpha = 0.02, gamma = 1.4" in md or "No SFT persona sample parsed" in md
