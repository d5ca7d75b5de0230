"""The whole lab at smoke size, in-process: every stage runs, the report and its figures exist,
numbers come from the run's metrics files, and a second run reuses every stage."""

import json
import re

import pytest

from collapselab.config import compose
from collapselab.lab import STAGES, run_lab

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
    base_dir = next((tmp_path / "artifacts" / "base").glob("*/collapselab.json")).parent
    n = json.loads((base_dir / "collapselab.json").read_text())["n_params"]
    assert f"a {n / 1e6:.2f}M-parameter model" in md  # the model size is read from the base, not typed in

    # the paper table's lab numbers are the metrics files' numbers
    base_metrics = [json.loads(p.read_text()) for p in (tmp_path / "out" / "eval" / "final").glob("*/*/metrics.json")
                    if json.loads(p.read_text())["meta"].get("algo") not in ("sft", "ppo", "dpo")]
    assert len(base_metrics) == 1
    h = base_metrics[0]["entropy/top5_bits_mean"]
    assert f"{h:.3g}" in md
    assert 0.0 <= h <= 2.33  # eq. 3.2 is bounded by log2(5)

    # the reward model scored the SFT personas in a job of its own; the report only read the file
    scores = json.loads((tmp_path / "out" / "score" / "sft.json").read_text())
    assert scores["n"] == len(scores["scores"]) > 0

    second = run_lab(compose("lab", overrides))
    assert set(second["reused"]) == set(STAGES) - {"report"}
    assert sum(second["this_run"].values()) < sum(first["this_run"].values()) / 3
