"""Schema for ``eval/steer.py`` (``configs/steer.yaml``): the creativity direction of a checkpoint and
the validation of its score against the world's ground truth (Olson et al. 2024, arXiv 2412.06060)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from collapselab.config.app import register_schema
from collapselab.config.common import choice, positive, seed_range
from collapselab.config.world import WorldConfig

POSITIONS = ("answers", "last", "mean")  # steering.activations.POSITIONS (config is the bottom layer: no import)


@dataclass
class SteerConfig:
    """``python eval/steer.py checkpoint=<ckpt> layer=2`` (or ``layer=all``, ``layer=[1,3]``)."""

    checkpoint: str | None = None  # a checkpoint folder, training run folder with one checkpoint, or model-config name
    layer: Any = "all"  # a decoder layer 1..L (output of block l), a list of them, or all
    # where the direction's states are read: answers (the model's own answers to the two kinds of request, mean
    # over their tokens; the only reading whose score tracked surprisal, docs/evaluation.md) | last (EasySteer: the
    # last prompt token) | mean (over the prompt)
    position: str = "answers"
    n_answers: int = 600  # position=answers: answers sampled per side (T = 1, over the five phrasings)
    n_samples: int = 100  # persona samples scored (the persona probe's cached set; 0: none)
    max_new_tokens: int = 256  # the persona probe's default
    n_world: int = 300  # the world's own personas scored (ground-truth documents; 0: none)
    n_boot: int = 1000  # bootstrap resamples of the Spearman interval
    seed: int = 0
    batch_size: int = 200  # as eval/evaluate.py, so the persona samples are the same cached draws
    device: str = "auto"
    dtype: str = "float32"
    artifacts_dir: str = "artifacts"
    cache_dir: str | None = None  # None: <artifacts_dir>/eval_cache, shared with eval/evaluate.py
    world: WorldConfig = field(default_factory=WorldConfig)

    def problems(self) -> list[str]:
        out = [] if self.checkpoint else ["checkpoint=None: give a checkpoint folder or model-config name"]
        out += _layer_problems(self.layer)
        out += choice("position", self.position, POSITIONS)
        out += choice("device", self.device, ("auto", "cpu", "cuda"))  # cuda: checked when the job starts
        out += choice("dtype", self.dtype, ("float32", "bfloat16", "float16"))
        out += positive("n_samples", self.n_samples, strict=False) + positive("n_world", self.n_world, strict=False)
        out += positive("n_boot", self.n_boot) + positive("batch_size", self.batch_size)
        out += positive("n_answers", self.n_answers) + seed_range("seed", self.seed)
        if self.n_samples == 0 and self.n_world == 0:
            out.append("n_samples=0, n_world=0: nothing to score (set either above 0)")
        return out


def _layer_problems(layer: Any) -> list[str]:
    if layer == "all":
        return []
    layers = [layer] if isinstance(layer, (int, str)) else list(layer)
    if not layers or any(isinstance(x, bool) or not isinstance(x, int) or x < 1 for x in layers):
        return [f"layer={layer!r}: must be a decoder layer >= 1, a list of them, or all"]
    return []


register_schema("steer", SteerConfig)
