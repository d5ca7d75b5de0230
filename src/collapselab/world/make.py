"""``make_world``: build (or reuse) the world for a config, print and log its summary."""

from __future__ import annotations

import json
import time
from pathlib import Path

from collapselab.config import as_dict
from collapselab.io import atomic_write_json, check_writable
from collapselab.world.build import build_world, read_truth, world_dir
from collapselab.world.summary import format_summary, summarize


def make_world(cfg, out_dir: str | Path) -> dict:
    """Build ``cfg.world`` under ``cfg.artifacts_dir`` (reused if already built), write
    ``<out_dir>/summary.json``, print the summary and log it. Returns the summary."""
    import datasets

    from collapselab.tracking import Tracker

    check_writable(cfg.artifacts_dir, "artifacts_dir")
    existed = (world_dir(cfg.world, cfg.artifacts_dir) / "truth.json").exists()
    t0 = time.time()
    path = build_world(cfg.world, cfg.artifacts_dir)
    seconds = time.time() - t0
    if existed:
        seconds = json.loads((path / "config.json").read_text()).get("seconds", seconds)
    dd = datasets.load_from_disk(str(path / "dataset"))
    truth = read_truth(path)
    summary = summarize(dd, truth)
    summary["world/build_seconds"] = round(seconds, 2)
    summary["world/path"] = str(path)
    atomic_write_json(Path(out_dir) / "summary.json", summary)
    print(format_summary(summary, cfg.world.coupling, seconds) + f"\n{'reused' if existed else 'built'}: {path}")
    with Tracker(cfg.logger, out_dir, name="make_world", config=as_dict(cfg), job_type="world") as tr:
        tr.summary({k: v for k, v in summary.items() if isinstance(v, (int, float))})
    return summary
