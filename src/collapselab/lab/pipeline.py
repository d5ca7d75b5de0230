"""The whole lab as a sequence of stages, each reusing its artifact when its config is unchanged.

world -> base -> sft -> reward -> ppo (per beta) -> dpo (per beta) -> evaluate -> toy -> compare -> report

Stages call the same library functions as the entry points (``training/*.py``,
``eval/*.py``, ``scripts/toy_sim.py``) with configs composed from the same files, so the
lab is exactly the sum of the commands a user would type. A stage whose composed config
matches the one recorded in ``<out_dir>/stages.json`` (and whose outputs exist) is skipped,
so a second run takes seconds and a killed run picks up at the stage it was in (which itself
resumes from its last checkpoint).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from collapselab.config.app import as_dict, compose
from collapselab.io import atomic_write_json, config_hash

STAGES = ("world", "base", "sft", "reward", "ppo", "dpo", "evaluate", "toy", "compare", "report")

# seconds per stage measured on 2 idle cores at default size (scripts/bench_lab.py), for the first estimate
DEFAULT_SECONDS = {"world": 8, "base": 291, "sft": 98, "reward": 64, "ppo": 678, "dpo": 106,
                   "evaluate": 511, "toy": 16, "compare": 13, "report": 4}


@dataclass
class LabState:
    cfg: Any  # LabConfig
    out_dir: Path
    results: dict[str, Any] = field(default_factory=dict)
    times: dict[str, float] = field(default_factory=dict)

    # ----------------------------------------------------------------------- overrides
    def overrides(self, stage: str, extra: list[str] | None = None) -> list[str]:
        """Overrides for composing ``stage``'s config: only the keys that stage's schema has."""
        p, lg = self.cfg.lab, self.cfg.logger
        ov: list[str] = []
        if stage not in ("toy", "compare"):
            ov += [f"artifacts_dir={self.cfg.artifacts_dir}", *p.world]
        if stage not in ("toy", "compare", "world"):
            ov += [f"logger.backend={lg.backend}", f"logger.mode={lg.mode}"]
        if stage in ("pretrain", "sft", "reward", "ppo", "dpo"):
            ov += list(p.model)
        if stage in ("sft", "reward", "ppo", "dpo"):
            keys = _schema_keys(stage)  # sft.* applies to all four, pairs.* only to reward/ppo/dpo, ...
            ov += [o for o in p.align if o.lstrip("+~").split("=")[0].split(".")[0] in keys]
        if stage in ("ppo", "dpo", "evaluate", "evaluate_steps", "toy"):
            ov += list(getattr(p, stage))
        return ov + list(extra or [])

    def compose(self, name: str, stage: str, extra: list[str] | None = None) -> Any:
        return compose(name, self.overrides(stage, extra))


def _schema_keys(config_name: str) -> set[str]:
    """Top-level keys of a registered schema (``<config_name>_schema``)."""
    from hydra.core.config_store import ConfigStore

    import collapselab.config  # noqa: F401 - registers the schemas

    node = ConfigStore.instance().load(f"{config_name}_schema.yaml").node
    return set(node.keys())


def _fmt(seconds: float) -> str:
    m, s = divmod(int(round(seconds)), 60)
    return f"{m}:{s:02d}"


class Progress:
    """One line per stage: which stage, how far, time so far and estimated time left."""

    def __init__(self, stages: list[str], expected: dict[str, float]):
        self.stages, self.expected = stages, expected
        self.t0 = time.perf_counter()
        self.done: dict[str, float] = {}

    def left(self, current: str | None = None, spent_current: float = 0.0) -> float:
        rest = [s for s in self.stages if s not in self.done and s != current]
        cur = max(self.expected.get(current, 0.0) - spent_current, 0.0) if current else 0.0
        return cur + sum(self.expected.get(s, DEFAULT_SECONDS.get(s, 30)) for s in rest)

    def start(self, stage: str) -> None:
        i = self.stages.index(stage) + 1
        elapsed = time.perf_counter() - self.t0
        print(f"\n== lab [{i}/{len(self.stages)}] {stage}  (elapsed {_fmt(elapsed)}, "
              f"~{_fmt(self.left(stage))} left)", flush=True)

    def end(self, stage: str, seconds: float, note: str = "") -> None:
        self.done[stage] = seconds
        print(f"== lab {stage}: {note or 'done'} in {seconds:.1f}s (elapsed {_fmt(time.perf_counter() - self.t0)}, "
              f"~{_fmt(self.left())} left)", flush=True)


def run_lab(cfg: Any, hydra_dir: Path | None = None) -> dict[str, Any]:
    """Run the lab's stages in order; return ``{"times": {stage: s}, ...}`` (also in ``<out_dir>/stage_times.json``)."""
    from collapselab.io import check_writable
    from collapselab.lab import stages as st

    out_dir = check_writable(cfg.out_dir, "out_dir")
    check_writable(cfg.artifacts_dir, "artifacts_dir")
    state = LabState(cfg, out_dir)
    todo = [s for s in STAGES if not cfg.stages or s in cfg.stages]
    memo_path = out_dir / "stages.json"
    memo = json.loads(memo_path.read_text()) if memo_path.exists() else {}
    times_path = out_dir / "stage_times.json"
    previous = json.loads(times_path.read_text()).get("seconds", {}) if times_path.exists() else {}
    scale = 0.1 if cfg.lab.name == "smoke" else 1.0  # first-run guess; later runs use the last run's times
    guess = {k: v * scale for k, v in DEFAULT_SECONDS.items()}
    progress = Progress(todo, {**guess, **{k: v for k, v in previous.items() if v > 1}})
    fns: dict[str, Callable[[LabState], tuple[Any, dict]]] = {s: getattr(st, f"stage_{s}") for s in STAGES}
    reused: list[str] = []
    for stage in todo:
        progress.start(stage)
        t = time.perf_counter()
        key, result = fns[stage](state)
        state.results[stage] = result
        seconds = time.perf_counter() - t
        state.times[stage] = seconds
        # training stages reuse their keyed runs themselves; the others say so in their result
        same = memo.get(stage, {}).get("key") == key
        cached = same and (result.get("_cached", False) or stage in ("world", "base", "sft", "reward", "ppo", "dpo"))
        if cached:
            reused.append(stage)
        memo[stage] = {"key": key, "seconds": seconds}
        atomic_write_json(memo_path, memo)
        progress.end(stage, seconds, "reused" if cached else "")
    total = time.perf_counter() - progress.t0
    record = {"seconds": {**previous, **state.times}, "this_run": state.times, "total_this_run": total,
              "preset": cfg.lab.name, "reused": reused}
    atomic_write_json(times_path, record)
    print(f"\nlab finished in {_fmt(total)}; report: {Path(cfg.report_dir) / 'index.html'}", file=sys.stderr)
    return record


def stage_key(*parts: Any) -> str:
    return config_hash([as_dict(p) if hasattr(p, "__dataclass_fields__") else p for p in parts])
