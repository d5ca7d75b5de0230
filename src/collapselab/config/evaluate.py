"""Schemas for the evaluation harness (``eval/evaluate.py``) and the comparison report (``eval/compare.py``).

Defaults follow the paper's protocol: Experiment 3 (100 completions of 64 tokens of
"Steve is the CEO of a startup company" at T=1), Experiment 2 (200 completions of 128
tokens of "Grace Hopper was"), Experiment 1 (100 personas, one per generation).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from collapselab.config.app import register_schema
from collapselab.config.common import LoggerConfig, choice, positive, seed_range
from collapselab.config.decoding import DecodingConfig  # how every probe samples (configs/decoding/)
from collapselab.config.world import WorldConfig  # evaluation needs the world for ground truth

PROBE_NAMES = ("entropy", "semantic", "persona", "attractor", "lexical", "quality", "creativity")
# what runs by default: creativity (issue #14) is asked for by name, probes=[...,creativity]
DEFAULT_PROBES = ("entropy", "semantic", "persona", "attractor", "lexical", "quality")
PROMPT_FORMATS = ("auto", "plain", "chat", "verbalized")  # verbalized: the persona probe asks for k at once


def _sampling_problems(n_samples: int, max_new_tokens: int, temperature: float) -> list[str]:
    out = [] if isinstance(n_samples, int) and n_samples >= 2 else [f"n_samples={n_samples!r}: must be >= 2"]
    return out + positive("max_new_tokens", max_new_tokens) + positive("temperature", temperature)


@dataclass
class EntropyProbeConfig:
    """Experiment 3: token-level entropy (eq. 3.2)."""

    prompt: str | None = None  # None: world.prompts.STEVE_PROMPT
    n_samples: int = 100
    max_new_tokens: int = 64
    temperature: float = 1.0
    top_k: int = 5  # eq. 3.2 uses the top five tokens

    def problems(self) -> list[str]:
        return _sampling_problems(self.n_samples, self.max_new_tokens, self.temperature) + positive("top_k", self.top_k)


@dataclass
class _ClusteredSamples:
    """A sample set whose embeddings are clustered (k by silhouette) and drawn with t-SNE."""

    n_samples: int = 100
    max_new_tokens: int = 128
    temperature: float = 1.0
    k_min: int = 2
    k_max: int = 10
    tsne_perplexity: float = 30.0

    def problems(self) -> list[str]:
        out = _sampling_problems(self.n_samples, self.max_new_tokens, self.temperature)
        if not (2 <= self.k_min <= self.k_max):
            out.append(f"k_min={self.k_min}, k_max={self.k_max}: need 2 <= k_min <= k_max")
        return out + positive("tsne_perplexity", self.tsne_perplexity)


@dataclass
class SemanticProbeConfig(_ClusteredSamples):
    """Experiment 2: whole-completion embeddings, k-means, t-SNE, TF-IDF similarity."""

    prompt: str | None = None  # None: world.prompts.BIO_PROMPT
    n_samples: int = 200
    max_new_tokens: int = 128


@dataclass
class PersonaProbeConfig(_ClusteredSamples):
    """Experiment 1: one persona + review per generation."""

    n_samples: int = 100
    max_new_tokens: int = 256
    # review k by silhouette is searched up to 20 (the semantic probe's 10 would not do): the paper found 14 review
    # clusters for Llama-2-7B (sec. 4.1, Fig. 9), a value a search stopping at 10 cannot return. In the tiny world
    # every checkpoint's k sits at the ceiling at 10, 20 and 30 (the reviews are template sentences), and at 10 the
    # default lab's PPO chose 9, a "reproduces" that vanished at 20 (docs/evaluation.md, "Censored k"); the wider
    # search costs about 2-2.5x per k interval (14 -> 32 s for the base's 630 sentences on one core)
    k_max: int = 20
    # cluster the review sentences (review_kmeans_k, its interval, the review t-SNE): at k_max 20 the costliest part
    # of an evaluation (32-75 s for 630-1044 sentences on one core); the lab's mitigations, whose tables read none
    # of it, turn it off
    review_clusters: bool = True
    # prompt_format=verbalized (Zhang et al. 2025): personas asked for per call, and whether the metrics
    # see all k of every answer (all) or one drawn from its stated probabilities per call (draw)
    vs_k: int = 5
    vs_select: str = "all"

    def problems(self) -> list[str]:
        out = super().problems() + choice("vs_select", self.vs_select, ("all", "draw"))
        if not (isinstance(self.vs_k, int) and 2 <= self.vs_k <= 10):
            out.append(f"vs_k={self.vs_k!r}: must be an integer in 2..10 (k lines must fit the context)")
        return out


@dataclass
class AttractorProbeConfig:
    """Section 5.1: perturb the model's own first sentence with a negation and see where it goes."""

    n_perturbations: int = 50  # taken from the semantic probe's completions
    max_new_tokens: int = 64
    temperature: float = 1.0
    radius_quantile: float = 0.9  # a cluster's radius: this quantile of its members' distances to the centroid
    window: int = 4  # recovery_tokens: moving-average window over sampled-token log-probs
    tolerance: float = 0.5  # nats below the reference level that still count as recovered

    def problems(self) -> list[str]:
        out = _sampling_problems(self.n_perturbations, self.max_new_tokens, self.temperature)
        out = [p.replace("n_samples", "n_perturbations", 1) for p in out]
        if not 0 < self.radius_quantile <= 1:
            out.append(f"radius_quantile={self.radius_quantile}: must be in (0, 1]")
        return out + positive("window", self.window) + positive("tolerance", self.tolerance, strict=False)


@dataclass
class LexicalProbeConfig:
    """Lexical diversity over the semantic probe's completions."""

    self_bleu_max_refs: int | None = 50  # each text against at most this many others (None: all; O(N^2))

    def problems(self) -> list[str]:
        return [] if self.self_bleu_max_refs is None else positive("self_bleu_max_refs", self.self_bleu_max_refs)


@dataclass
class CreativityProbeConfig:
    """The creativity score (Olson et al. 2024, arXiv 2412.06060) of the persona probe's samples."""

    direction: str = "auto"  # a .npz from eval/steer.py, or auto: computed for each checkpoint (steering.direction)
    layer: int | None = None  # the decoder layer (1..L); None: the direction file's, or with auto the middle (ceil(L/2))
    position: str = "last"  # auto's reading: last (EasySteer's prompt token) | mean | answers (600 sampled per side)

    def problems(self) -> list[str]:
        out = choice("position", self.position, ("last", "mean", "answers"))  # steering.activations.POSITIONS
        if self.layer is not None and (isinstance(self.layer, bool) or not isinstance(self.layer, int) or self.layer < 1):
            out.append(f"layer={self.layer!r}: must be a decoder layer >= 1 or null")
        if not str(self.direction).strip():
            out.append("direction='': give a direction file (eval/steer.py writes one) or auto")
        return out


@dataclass
class EvaluateConfig:
    """``python eval/evaluate.py checkpoints=[A,B] probes=[entropy,semantic]``."""

    checkpoints: list[str] = field(default_factory=list)  # paths, training run folders, or model-config names
    probes: list[str] = field(default_factory=lambda: list(DEFAULT_PROBES))
    prompt_format: str = "auto"  # auto | plain | chat
    # under the chat format, which probes use the chat template: persona (the paper's protocol:
    # Experiments 2-3 prompt every model with plain text) | all (entropy and semantic send the
    # matching request and open the answer with the paper's prompt; for models aligned only on chats)
    chat_probes: str = "persona"
    seed: int = 0
    batch_size: int = 200  # prompts per forward pass while sampling (default: a whole probe's set)
    n_boot: int = 1000  # bootstrap resamples for the 95% confidence intervals
    n_boot_slow: int = 20  # resamples for the costly set-level statistics (self-BLEU, Vendi, embedding cosine)
    device: str = "auto"  # auto | cpu | cuda
    dtype: str = "float32"
    artifacts_dir: str = "artifacts"
    cache_dir: str | None = None  # None: <artifacts_dir>/eval_cache (shared by reruns in new run dirs)
    reward_model: str | None = None  # a sequence-classification checkpoint folder; None: skip quality/reward_mean
    base_model: str | None = "auto"  # auto: the pretrained base its collapselab.json lineage leads to; None: skip base NLL
    tsne: bool = True  # t-SNE figures (costly on CPU for large sets)
    entropy: EntropyProbeConfig = field(default_factory=EntropyProbeConfig)
    semantic: SemanticProbeConfig = field(default_factory=SemanticProbeConfig)
    persona: PersonaProbeConfig = field(default_factory=PersonaProbeConfig)
    attractor: AttractorProbeConfig = field(default_factory=AttractorProbeConfig)
    lexical: LexicalProbeConfig = field(default_factory=LexicalProbeConfig)
    creativity: CreativityProbeConfig = field(default_factory=CreativityProbeConfig)
    decoding: DecodingConfig = field(default_factory=DecodingConfig)
    world: WorldConfig = field(default_factory=WorldConfig)
    logger: LoggerConfig = field(default_factory=LoggerConfig)

    def problems(self) -> list[str]:
        out = []
        if not self.checkpoints:
            out.append("checkpoints=[]: give at least one checkpoint path, training run folder or model name")
        for p in self.probes:
            if p not in PROBE_NAMES:
                out.append(f"probes={p!r}: unknown probe (allowed: {', '.join(PROBE_NAMES)})")
        if len(set(self.probes)) != len(self.probes):
            out.append(f"probes={self.probes}: each probe at most once")
        out += choice("prompt_format", self.prompt_format, PROMPT_FORMATS)
        out += choice("chat_probes", self.chat_probes, ("persona", "all"))
        out += choice("device", self.device, ("auto", "cpu", "cuda"))  # cuda: checked when the job starts
        out += choice("dtype", self.dtype, ("float32", "bfloat16", "float16"))
        out += positive("batch_size", self.batch_size) + positive("n_boot", self.n_boot)
        out += positive("n_boot_slow", self.n_boot_slow) + seed_range("seed", self.seed)
        return out


@dataclass
class CompareConfig:
    """``python eval/compare.py inputs=['outputs/eval/**/metrics.json']``."""

    inputs: list[str] = field(default_factory=list)  # folders (searched for metrics.json) or globs
    metrics: list[str] = field(default_factory=list)  # empty: every metric found
    logger: LoggerConfig = field(default_factory=lambda: LoggerConfig(backend="none"))

    def problems(self) -> list[str]:
        return [] if self.inputs else ["inputs=[]: give metrics.json files, folders or globs"]


register_schema("evaluate", EvaluateConfig)
register_schema("compare", CompareConfig)
