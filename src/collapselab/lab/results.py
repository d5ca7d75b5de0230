"""What a lab run made (``LabRun``, handed from the job graph to the report) and reading its
outputs back: evaluation metrics by role, samples, the reward model's scores of the SFT personas."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from collapselab.io import atomic_write_json


@dataclass(frozen=True)
class AlignedRun:
    """One PPO, DPO or rejection-sampling run of the lab: its training run folder and final checkpoint."""

    algo: str  # "ppo" | "dpo" | "rs"
    beta: float | None  # None for rejection sampling (no KL term)
    role: str  # its name in the evaluation folders and the report, e.g. "ppo-b0.05", "rs"
    run: Path
    model: Path  # the run's final checkpoint


@dataclass(frozen=True)
class LabRun:
    """Everything the report reads, by path: built by the job graph (``lab.stages.lab_run``) from its
    job results, so the report never sees the scheduler."""

    base: Path  # pretrained base model folder
    sft: Path  # final SFT checkpoint
    reward: Path  # final reward-model checkpoint
    runs: dict[tuple[str, float], AlignedRun]  # (algo, beta) -> PPO / DPO run
    eval_final: Path  # <role>/<checkpoint>/metrics.json of the final checkpoints (full probe set)
    eval_steps: Path  # the same for every checkpoint of every aligned run (light probe set)
    # reward-model scores and log pi_ref of the persona samples of the policy PPO and DPO start from
    # (``score/start`` job): SFT, or RS with lab.align_start=rs
    start_scores: Path
    start_role: str = "sft"  # the role of that starting policy (pi0 of the KL objective): "sft" or "rs"
    typicality: float = 0.0  # the annotator's alpha the runs were aligned under (lab.typicality)
    # alpha = 0 control runs, (algo, beta) -> run; rejection sampling's key is ("rs", None)
    controls: dict[tuple[str, float | None], AlignedRun] = field(default_factory=dict)
    rs: AlignedRun | None = None  # rejection-sampling fine-tuning (lab.run_rs)
    # role (one of lab.mitigate_roles) -> mitigation name -> its evaluation folder (<checkpoint>/metrics.json):
    # a decoding rule on that role's final model
    mitigations: dict[str, dict[str, Path]] = field(default_factory=dict)
    eval_control: Path | None = None  # <role>/<checkpoint>/metrics.json of the control runs (persona probe)
    # the preference pairs (folders with pairs.jsonl) the lab's reward model and DPO learn from, and the control's
    pairs: Path | None = None
    pairs_control: Path | None = None
    toy_jeepiti: Path | None = None  # folder with jeepiti.json (None: the toy was not run)
    toy_bandit: Path | None = None  # folder with bandit.json and its figures
    steer: Path | None = None  # the SFT model's creativity directions and steer.json (eval/steer.py's output)
    compare: Path | None = None  # compare's folder (compare.md; written while the report is)
    world: Path | None = None  # the world's folder (truth.json: its own documents' metrics, the world column)
    stage_times: dict[str, float] = field(default_factory=dict)  # this run's wall seconds per stage
    job_times: dict[str, float] = field(default_factory=dict)  # seconds per job (0 for a reused one)
    last_job_times: dict[str, float] = field(default_factory=dict)  # seconds per job the last time it did its work

    def checkpoints(self) -> dict[str, Path]:
        """role -> the checkpoint evaluated under that role: base, sft and each run's final model."""
        rs = {self.rs.role: self.rs.model} if self.rs else {}
        return {"base": self.base, "sft": self.sft, **{r.role: r.model for r in self.runs.values()}, **rs}


@dataclass
class LabResults:
    roles: dict[str, dict]  # "base", "sft", "ppo-b0.05", ... -> metrics.json of the final checkpoint
    dirs: dict[str, Path]  # role -> its evaluation folder (figures/, samples.jsonl)
    steps: list[dict] = field(default_factory=list)  # every checkpoint of every run: algo, beta, step, metrics
    finals: list[dict] = field(default_factory=list)  # final checkpoint of each run: algo, beta, metrics
    controls: dict[str, dict] = field(default_factory=dict)  # "control-ppo-b0.005", ... -> metrics.json (persona)

    def aligned(self, algo: str) -> list[str]:
        return sorted((r for r in self.roles if r.startswith(algo + "-")), key=lambda r: self.roles[r]["meta"]["beta"])


def _load_dir(folder: Path) -> list[tuple[Path, dict]]:
    out = []
    for f in sorted(Path(folder).rglob("metrics.json")):  # <role>/<checkpoint>/metrics.json
        out.append((f.parent, json.loads(f.read_text())))
    return out


def _norm(p: str | None) -> str:
    return str(Path(p).resolve()) if p else ""


def collect(run: LabRun) -> LabResults:
    """The run's evaluations, matched to lab roles by the checkpoint path each metrics file names."""
    by_path = {_norm(str(path)): role for role, path in run.checkpoints().items()}
    roles, dirs, finals = {}, {}, []
    for d, m in _load_dir(run.eval_final):
        role = by_path.get(_norm(m["meta"].get("checkpoint")))
        if role is None:
            continue
        roles[role], dirs[role] = m, d
        if m["meta"].get("algo") in ("ppo", "dpo"):  # the beta-indexed runs (rejection sampling has no beta)
            finals.append({"algo": m["meta"]["algo"], "beta": m["meta"]["beta"], "role": role, "metrics": m})
    steps = []
    for _d, m in _load_dir(run.eval_steps):
        meta = m["meta"]
        if meta.get("algo") in ("ppo", "dpo") and meta.get("step") is not None:
            steps.append({"algo": meta["algo"], "beta": meta["beta"], "step": meta["step"], "metrics": m})
    controls = {}
    if run.eval_control is not None:
        by_control = {_norm(str(r.model)): r.role for r in run.controls.values()}
        for _d, m in _load_dir(run.eval_control):
            role = by_control.get(_norm(m["meta"].get("checkpoint")))
            if role is not None:
                controls[role] = m
    return LabResults(roles=roles, dirs=dirs, steps=steps, finals=finals, controls=controls)


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


def read_metrics(folder: Path) -> dict | None:
    """The first metrics.json under an evaluation folder (``<folder>/<checkpoint>/metrics.json``), or None."""
    found = _load_dir(folder)
    return found[0][1] if found else None


def evaluation_samples(folder: Path) -> list[dict]:
    """``samples.jsonl`` rows of a checkpoint's evaluation folder, or of the first evaluation under an
    evaluation folder (``<folder>/<checkpoint>/``, as ``read_metrics``); [] if there are none."""
    if (Path(folder) / "samples.jsonl").exists():
        return _samples(folder)
    found = _load_dir(folder)
    return _samples(found[0][0]) if found else []


def evaluation_dir(eval_dir: Path, checkpoint: str | Path) -> Path | None:
    """The folder under ``eval_dir`` whose metrics.json evaluated ``checkpoint`` (None if there is none)."""
    want = _norm(str(checkpoint))
    return next((d for d, m in _load_dir(eval_dir) if _norm(m["meta"].get("checkpoint")) == want), None)


def texts_digest(texts: list[str]) -> str:
    """A hash of the texts in order: ties reward scores to the samples they score."""
    return hashlib.sha256(json.dumps(texts).encode()).hexdigest()


def write_scores(path: Path, texts: list[str], scores: np.ndarray, ref_logp: np.ndarray | None = None,
                 quality: np.ndarray | None = None, **meta: str) -> Path:
    """Save [N] reward-model scores of ``texts`` (in order), optionally their [N] log pi_ref under the base
    (``ref_logp``, the annotator's typicality term) and the annotator's [N] quality scores on the Bradley-Terry
    logit scale (``quality``: score / temperature, without the typicality term), with what made them
    (``meta``: paths, prompt, rule)."""
    scores = np.asarray(scores, dtype=float)
    if scores.shape != (len(texts),):
        raise ValueError(f"{len(texts)} texts but scores of shape {scores.shape}")
    data = {**meta, "n": len(texts), "texts_sha256": texts_digest(texts), "scores": [float(x) for x in scores]}
    for name, values in (("ref_logp", ref_logp), ("quality", quality)):
        if values is not None:
            values = np.asarray(values, dtype=float)
            if values.shape != (len(texts),):
                raise ValueError(f"{len(texts)} texts but {name} of shape {values.shape}")
            data[name] = [float(x) for x in values]
    return atomic_write_json(path, data)


def _read_checked(path: Path, texts: list[str]) -> dict:
    data = json.loads(Path(path).read_text())
    if data["texts_sha256"] != texts_digest(texts):
        raise ValueError(f"{path}: scores {data['n']} texts that are not these {len(texts)} samples (stale file?)")
    return data


def read_score_file(path: Path, texts: list[str]) -> dict:
    """``score/start``'s file for ``texts``, read once: ``scores`` [N] (reward model), ``ref_logp`` and ``quality``
    [N] or None where the file has none (written by an older score job), and its ``typicality_reduce``;
    ValueError if the file scored other texts."""
    data = _read_checked(path, texts)
    arrays = {k: np.asarray(data[k], dtype=float) if k in data else None for k in ("scores", "ref_logp", "quality")}
    return {**arrays, "typicality_reduce": data.get("typicality_reduce", "sum")}
