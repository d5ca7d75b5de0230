"""The report's stage-time tables: the report's own stage, still running as the page is written, is left out."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from collapselab.lab.pipeline import _stage_walls
from collapselab.lab.render import Doc
from collapselab.lab.report import _times_section
from collapselab.lab.results import LabRun


def test_the_stage_table_leaves_out_the_report_still_being_written(tmp_path: Path):
    """The lab hands the report job the walls of the stages done so far (``_stage_walls`` of the ended jobs);
    the report itself has started, not ended, so its stage has no row (it used to read 0.0)."""
    jobs = {n: SimpleNamespace(stage=n) for n in ("base", "toy", "report")}
    started, ended = {"base": 0.0, "toy": 300.0, "report": 320.0}, {"base": 293.3, "toy": 314.8}
    run = LabRun(base=tmp_path, sft=tmp_path, reward=tmp_path, runs={}, eval_final=tmp_path, eval_steps=tmp_path,
                 start_scores=tmp_path, stage_times=_stage_walls(jobs, started, ended),
                 job_times={"base": 293.3, "toy": 0.0}, last_job_times={"base": 293.3, "toy": 14.8})
    doc = Doc()
    _times_section(doc, run)
    (_, (stage_header, stage_rows)), (_, (job_header, job_rows)) = [b for b in doc.blocks if b[0] == "table"]
    assert stage_header == ["stage", "wall seconds"]
    assert stage_rows == [["base", "293.3"], ["toy", "14.8"]]
    assert job_rows == [["base", "293.3", "293.3"], ["toy", "0.0", "14.8"]]
    assert "Every job was reused" not in doc.markdown()


def test_a_rerender_says_every_job_was_reused_and_where_the_times_are(tmp_path: Path):
    """A lab that reuses every job (``stages=[report]`` after a lab) shows 0 s for each stage: the text says why
    and points at the times of the runs that did the work."""
    run = LabRun(base=tmp_path, sft=tmp_path, reward=tmp_path, runs={}, eval_final=tmp_path, eval_steps=tmp_path,
                 start_scores=tmp_path, stage_times={"base": 0.0, "evaluate": 5.5},
                 job_times={"base": 0.0, "ppo/0.02": 0.0}, last_job_times={"base": 293.3, "ppo/0.02": 265.1})
    doc = Doc()
    _times_section(doc, run)
    assert "Every job was reused in this run, so the stages' walls below are only the seconds" in doc.markdown()
