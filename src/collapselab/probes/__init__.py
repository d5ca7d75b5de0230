"""The paper's experiments as probes, and the harness that runs them on checkpoints.

Probes (registered by name in ``PROBES``, one module each): ``entropy`` (Experiment 3),
``semantic`` (Experiment 2), ``persona`` (Experiment 1), ``attractor`` (section 5.1),
``lexical``, ``quality`` and ``creativity`` (Olson et al. 2024, asked for by name). Metric math comes from ``collapselab.metrics``.

Public API::

    evaluate(cfg: EvaluateConfig, out_dir, lm_factory=None) -> EvalReport
    resolve_checkpoints(specs, model_resolver, known_models) -> list[Checkpoint]
    HFLanguageModel(model, tokenizer, name), StubLanguageModel(texts, logits)
    compare(cfg: CompareConfig, out_dir) -> dict
"""

from collapselab.probes import attractor, creativity, entropy, lexical, persona, quality, semantic  # noqa: F401 - registers
from collapselab.probes.base import PROBES, ProbeContext, ProbeResult, register_probe
from collapselab.probes.checkpoints import Checkpoint, resolve_checkpoints
from collapselab.probes.generation import HFLanguageModel, LanguageModel, Sample
from collapselab.probes.harness import EvalReport, evaluate
from collapselab.probes.stub import StubLanguageModel

__all__ = [
    "PROBES", "Checkpoint", "EvalReport", "HFLanguageModel", "LanguageModel", "ProbeContext", "ProbeResult",
    "Sample", "StubLanguageModel", "evaluate", "register_probe", "resolve_checkpoints",
]
