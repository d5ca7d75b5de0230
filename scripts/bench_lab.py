"""Time every stage of the lab from scratch, then the rerun that should reuse everything.

    python scripts/bench_lab.py                 # default preset, fresh artifacts in a temp folder
    python scripts/bench_lab.py lab=smoke

Prints each job's seconds, each stage's wall time (jobs run side by side, so stages overlap),
the total against the budget (15 minutes default, 2 minutes smoke), and the rerun's time as a
ratio of the first run's. Extra arguments are lab overrides (e.g. ``workers=1`` for the
sequential baseline).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from collapselab.config import compose
from collapselab.lab import run_lab

BUDGET_S = {"default": 15 * 60, "smoke": 2 * 60}


def main() -> None:
    overrides = sys.argv[1:]
    with tempfile.TemporaryDirectory(prefix="bench_lab_") as tmp:
        base = [f"artifacts_dir={Path(tmp) / 'artifacts'}", f"out_dir={Path(tmp) / 'out'}",
                f"report_dir={Path(tmp) / 'report'}", "logger=none"]
        cfg = compose("lab", base + overrides)
        t0 = time.perf_counter()
        first = run_lab(cfg)
        total = time.perf_counter() - t0
        t1 = time.perf_counter()
        run_lab(compose("lab", base + overrides))
        rerun = time.perf_counter() - t1
    budget = BUDGET_S.get(cfg.lab.name, BUDGET_S["default"])
    print(f"\n{'job':<26} {'seconds':>9}")
    for job, s in first["jobs"].items():
        print(f"{job:<26} {s:>9.1f}")
    print(f"\n{'stage (wall)':<26} {'seconds':>9}   on {first['workers']} worker(s)")
    for stage, s in first["this_run"].items():
        print(f"{stage:<26} {s:>9.1f}")
    print(f"{'total':<26} {total:>9.1f}   budget {budget} s -> {total / budget:.2f}x of budget")
    print(f"{'rerun':<26} {rerun:>9.1f}   {rerun / total:.3f}x of the first run (every stage reused)")


if __name__ == "__main__":
    main()
