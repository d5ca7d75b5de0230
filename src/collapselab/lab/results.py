"""Read a lab run's outputs back: evaluation metrics by role, samples, reward scores."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np


@dataclass
class LabResults:
    roles: dict[str, dict]  # "base", "sft", "ppo-b0.05", ... -> metrics.json of the final checkpoint
    dirs: dict[str, Path]  # role -> its evaluation folder (figures/, samples.jsonl)
    steps: list[dict] = field(default_factory=list)  # every checkpoint of every run: algo, beta, step, metrics
    finals: list[dict] = field(default_factory=list)  # final checkpoint of each run: algo, beta, metrics

    def aligned(self, algo: str) -> list[str]:
        return sorted((r for r in self.roles if r.startswith(algo + "-")), key=lambda r: self.roles[r]["meta"]["beta"])


def _load_dir(folder: Path) -> list[tuple[Path, dict]]:
    out = []
    for f in sorted(Path(folder).rglob("metrics.json")):  # <role>/<checkpoint>/metrics.json
        out.append((f.parent, json.loads(f.read_text())))
    return out


def _norm(p: str | None) -> str:
    return str(Path(p).resolve()) if p else ""


def collect(checkpoints: dict[str, Any], final_dir: Path, steps_dir: Path) -> LabResults:
    """Match evaluated checkpoints to lab roles by path (``checkpoints`` from ``stages.lab_checkpoints``)."""
    by_path = {_norm(checkpoints["base"]): "base", _norm(checkpoints["sft"]): "sft"}
    for role, r in checkpoints["runs"].items():
        by_path[_norm(r["final"])] = role
    roles, dirs, finals = {}, {}, []
    for d, m in _load_dir(final_dir):
        role = by_path.get(_norm(m["meta"].get("checkpoint")))
        if role is None:
            continue
        roles[role], dirs[role] = m, d
        if role not in ("base", "sft"):
            finals.append({"algo": m["meta"]["algo"], "beta": m["meta"]["beta"], "role": role, "metrics": m})
    steps = []
    for _d, m in _load_dir(steps_dir):
        meta = m["meta"]
        if meta.get("algo") in ("ppo", "dpo") and meta.get("step") is not None:
            steps.append({"algo": meta["algo"], "beta": meta["beta"], "step": meta["step"], "metrics": m})
    return LabResults(roles=roles, dirs=dirs, steps=steps, finals=finals)


def _samples(folder: Path) -> list[dict]:
    path = Path(folder) / "samples.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def entropy_per_completion(folder: Path) -> list[float]:
    """The entropy probe's per-completion mean top-5 entropy in bits (eq. 3.2), from ``samples.jsonl``."""
    return [float(r["top5_bits_mean"]) for r in _samples(folder)
            if r.get("probe") == "entropy" and r.get("top5_bits_mean") is not None]


def persona_samples(folder: Path) -> list[dict]:
    """The persona probe's rows of ``samples.jsonl`` (``text`` and ``parsed`` per generation, unparsed kept)."""
    return [r for r in _samples(folder) if r.get("probe") == "persona"]


def reward_scores(reward_dir: str | Path, user_prompt: str, answers: list[str]) -> np.ndarray:
    """[N] reward-model scores of (user prompt, answer) chats, rendered as the reward model was trained."""
    from collapselab.models.reward import reward_scores as score

    return score(reward_dir, [user_prompt] * len(answers), answers)
