"""Schema for ``eval/typicality.py`` (``configs/typicality.yaml``): fit the typicality bias alpha
of Verbalized Sampling's eq. 1 on labelled preference pairs, with log-probs from a reference model."""

from __future__ import annotations

from dataclasses import dataclass

from collapselab.config.app import register_schema
from collapselab.config.common import choice, positive, seed_range

# How log pi_ref is taken over an answer: the annotator's term (``annotator.typicality_reduce``) and the
# estimator (``reduce``) share these, and ``collapselab.typicality.scored`` is the one rule behind them.
REDUCTIONS = {
    "sum": "summed over the answer's tokens",
    "mean": "averaged over the answer's tokens",
    "fields": "summed over a persona's attribute lines, its review left out",
    "attributes": "summed over a persona's attribute values re-written in the world's layout",
    "attributes_mean": "summed over a persona's attribute values re-written in the world's layout, and over any "
                       "other answer averaged per token times 64 (the median length of the world's stories and bios)",
}


@dataclass
class TypicalityConfig:
    """``python eval/typicality.py pairs=<pairs.jsonl> ref=<model>``."""

    # prompt / chosen / rejected rows (strings or {role, content} turns; the prompt may be implicit in both answers):
    # a JSONL file, a Parquet / CSV / JSON file or a folder saved by HF datasets (save_to_disk)
    pairs: str | None = None
    split: str = "train"  # the split to read when pairs is a saved DatasetDict
    ref: str | None = None  # pi_ref: an HF causal-LM folder, a model-config name (tiny) or a cached hub name
    # sum: log pi_ref of the whole answer (eq. 1); mean: per answer token; fields / attributes: a persona's
    # attribute lines / its values in the world's layout (the lab's annotator.typicality_reduce, for its pairs)
    reduce: str = "sum"
    # plain: a base model reads the request as plain text (the pairs stage's rule); chat: the chat template
    prompt_format: str = "plain"
    quality_key: str | None = None  # row field holding r_true(chosen) - r_true(rejected), a covariate; None: none
    max_pairs: int | None = None  # the first this many rows; None: all
    batch_size: int = 16  # answers per forward pass
    device: str = "auto"  # auto | cpu | cuda
    dtype: str = "float32"
    seed: int = 0  # seeds the random orientation of each pair (A = chosen with probability 1/2)
    temperature: float = 1.0  # the annotator's Bradley-Terry temperature T: the fit's coefficient is alpha / T
    artifacts_dir: str = "artifacts"  # where ref=tiny finds (or builds) its base

    def problems(self) -> list[str]:
        out = []
        if not self.pairs:
            out.append("pairs=None: give a file of preference pairs (prompt, chosen, rejected): JSONL, Parquet, CSV, JSON or a saved HF dataset")
        if not self.ref:
            out.append("ref=None: give the reference model pi_ref (a model folder, model-config name or hub name)")
        out += choice("reduce", self.reduce, tuple(REDUCTIONS))
        out += choice("prompt_format", self.prompt_format, ("plain", "chat"))
        out += choice("device", self.device, ("auto", "cpu", "cuda"))  # cuda: checked when the job starts
        out += choice("dtype", self.dtype, ("float32", "bfloat16", "float16"))
        out += positive("batch_size", self.batch_size) + positive("temperature", self.temperature)
        out += seed_range("seed", self.seed)
        if self.max_pairs is not None:
            out += [] if self.max_pairs >= 2 else [f"max_pairs={self.max_pairs}: must be >= 2 or null (all)"]
        if not self.split:
            out.append("split='': give the split to read (train)")
        if self.quality_key is not None and not self.quality_key:
            out.append("quality_key='': give a field name or null")
        return out


register_schema("typicality", TypicalityConfig)
