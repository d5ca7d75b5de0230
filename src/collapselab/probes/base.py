"""Probe registry and the context a probe runs in.

A probe is ``fn(ctx: ProbeContext) -> ProbeResult`` registered by name with
``@register_probe("entropy", headline="entropy/top5_bits_mean")``; the headline metric is
the one the acceptance check ranks checkpoints by (its diversity direction comes from
``collapselab.metrics.higher_is_more_diverse``). A duplicate name is an error.

Probes never sample directly: ``ctx.samples("steve" | "bio" | "persona")`` returns the
cached set for this checkpoint (generating missing batches), so probes that share a set
(semantic, attractor and lexical all read "bio") sample it once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from collapselab.errors import UserError
from collapselab.probes.cache import SampleCache
from collapselab.probes.checkpoints import Checkpoint
from collapselab.probes.decoding import Decoding
from collapselab.probes.generation import LanguageModel, Sample


@dataclass
class ProbeResult:
    """What one probe returns: flat metrics, rows for samples.jsonl, and saved figure files."""

    metrics: dict[str, float] = field(default_factory=dict)
    samples: list[dict[str, Any]] = field(default_factory=list)
    figures: dict[str, Path] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)  # per-checkpoint data for cross-checkpoint figures


@dataclass(frozen=True)
class ProbeInfo:
    name: str
    fn: Callable[[ProbeContext], ProbeResult]
    headline: str  # the metric the acceptance check ranks checkpoints by


PROBES: dict[str, ProbeInfo] = {}


def register_probe(name: str, *, headline: str) -> Callable:
    def deco(fn: Callable[[ProbeContext], ProbeResult]) -> Callable[[ProbeContext], ProbeResult]:
        if name in PROBES:
            raise ValueError(f"probe {name!r} is already registered")
        PROBES[name] = ProbeInfo(name, fn, headline)
        return fn

    return deco


@dataclass
class SampleSpec:
    """One named sample set: prompt text, how many, how long, at which temperature."""

    prompt: str
    n: int
    max_new_tokens: int
    temperature: float
    top_k: int = 5


@dataclass
class ProbeContext:
    """Everything a probe needs for one checkpoint."""

    lm: LanguageModel
    cfg: Any  # EvaluateConfig
    ckpt: Checkpoint
    out_dir: Path  # <run dir>/<checkpoint name>
    cache: SampleCache
    prompt_format: str  # plain | chat (resolved)
    tiny_world: bool = False  # the checkpoint descends from the tiny world (ground truth applies)
    memo: dict[str, Any] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)  # samples per set, for metadata
    loader: Callable[[str], LanguageModel] | None = None  # path -> model (quality's base model)
    decoding: Decoding | None = None  # the decoding group (probes.decoding); None: the model's own distribution

    def load_lm(self, path: str) -> LanguageModel:
        if self.loader is None:
            raise UserError(f"base_model={path!r}: no model loader in this context")
        try:
            return self.loader(path)
        except UserError as e:  # name the key the user set (or that auto resolved), not the loader's own
            raise UserError(f"base_model={path!r} (the model base NLL is scored under): {e}") from None

    def base_lm(self, own: bool = False) -> LanguageModel | None:
        """The model that ``quality/base_nll`` and ``entropy/base_nll`` score under: ``base_model``, or for ``auto``
        the checkpoint's ``pretrained_base`` (the root of its lineage, not the model its run started from). With
        ``own=True`` a pretrained base (the lab's ``algo: pretrain``, or a model without training metadata that
        ``Checkpoint.aligned`` does not call a chat model) scores under itself: the reference the aligned values
        are read against. Otherwise None (the metric is skipped): a chat model of unknown origin needs
        ``base_model`` named."""
        ck, base = self.ckpt, self.cfg.base_model
        if base == "auto":
            base = ck.pretrained_base
            if not base and own and (ck.algo == "pretrain" or (ck.algo is None and not ck.aligned)):
                return self.lm
        return self.load_lm(base) if base else None

    # ------------------------------------------------------------------ sample sets
    def spec(self, name: str) -> SampleSpec:
        from collapselab.world import prompts as wp

        c = self.cfg
        if name == "steve":
            e = c.entropy
            prompt = self.opening(e.prompt or wp.STEVE_PROMPT, wp.STEVE_REQUESTS[0])
            return SampleSpec(prompt, e.n_samples, e.max_new_tokens, e.temperature, e.top_k)
        if name == "bio":
            s = c.semantic
            return SampleSpec(self.opening(s.prompt or wp.BIO_PROMPT, wp.BIO_REQUESTS[0]), s.n_samples,
                              s.max_new_tokens, s.temperature)
        if name == "persona":
            p = c.persona
            n = p.n_samples
            if self.prompt_format == "verbalized":  # one call asks for k personas (probes.verbalized)
                from collapselab.probes.verbalized import n_calls

                n = n_calls(p)
            return SampleSpec(self.persona_prompt(), n, p.max_new_tokens, p.temperature)
        raise KeyError(name)

    def opening(self, text: str, request: str) -> str:
        """The plain prompt, or (chat format with ``chat_probes=all``) the chat request whose answer
        opens with that prompt, so a model aligned only on chats is measured where it was aligned."""
        if self.prompt_format in ("chat", "verbalized") and getattr(self.cfg, "chat_probes", "persona") == "all":
            chat = self.lm.chat_prompt(request)
            if chat is None:
                raise UserError(f"prompt_format=chat: {self.ckpt.name} has no chat template (use plain or auto)")
            self.memo.setdefault("chat_prefixes", set()).add(chat)
            return chat + text
        return text

    def visible(self, prompt: str, text: str) -> str:
        """What the model "said": prompt + completion without the chat markup that ``opening`` added,
        so text metrics never see template tokens shared by every sample."""
        for prefix in self.memo.get("chat_prefixes", ()):
            if prompt.startswith(prefix):
                return prompt[len(prefix):] + text
        return prompt + text

    def persona_prompt(self) -> str:
        """Experiment 1 prompt: the plain header a base model continues, or the chat request (footnote 3)."""
        from collapselab.world import prompts as wp

        if self.prompt_format == "verbalized":  # k personas with their probabilities (Zhang et al. 2025)
            from collapselab.probes.verbalized import verbalized_prompt

            return verbalized_prompt(self.lm, self.ckpt.name, self.cfg.persona.vs_k)
        if self.prompt_format == "chat":
            text = self.lm.chat_prompt(wp.PERSONA_INSTRUCTION)
            if text is None:
                raise UserError(f"prompt_format=chat: {self.ckpt.name} has no chat template (use plain or auto)")
            self.memo.setdefault("plain_prompts", {})[text] = wp.PERSONA_PROMPT
            return text
        return wp.PERSONA_PROMPT

    def plain_prompt(self, prompt: str) -> str:
        """What a base model is given where the checkpoint gets ``prompt`` (conformative decoding): the
        world's plain prompt where the probe has one (persona: ``PERSONA_PROMPT`` for the chat request),
        else the prompt without the chat markup ``opening`` added (``visible``); plain prompts unchanged."""
        plain = self.memo.get("plain_prompts", {}).get(prompt)
        return plain if plain is not None else self.visible(prompt, "")

    def samples(self, name: str) -> list[Sample]:
        """The named set for this checkpoint, read from the cache or generated (batched, resumable)."""
        sp = self.spec(name)
        return self.generate(name, [sp.prompt] * sp.n, sp.max_new_tokens, sp.temperature, sp.top_k)

    def generate(
        self, name: str, prompts: list[str], max_new_tokens: int, temperature: float, top_k: int = 5
    ) -> list[Sample]:
        """Cached sampling of arbitrary prompts (one completion each), under the ``decoding`` group.

        ``decoding.temperature``, when set, replaces ``temperature``; a rule that changes sampling is
        part of the cache key (plain untruncated sampling keeps the key it always had)."""
        dec = self.decoding
        if dec is not None and dec.temperature is not None:
            temperature = dec.temperature
        key = {
            "probe": name,
            "checkpoint": self.ckpt.fingerprint,
            # one repeated prompt is stored once (the cache names a set by its size too)
            "prompts": prompts if len(set(prompts)) > 1 else [prompts[0]],
            "max_new_tokens": max_new_tokens,
            "temperature": temperature,
            "top_k": top_k,
            "seed": self.cfg.seed,
            "batch_size": self.cfg.batch_size,
        }
        changed = dec is not None and dec.cache_key() is not None  # a rule that changes sampling
        if changed:
            key["decoding"] = dec.cache_key()
        if name not in self.memo:

            def make(start: int, stop: int, seed: int) -> list[Sample]:
                extra: dict[str, Any] = {"decoding": dec.rule} if changed else {}
                if changed and dec.steer is not None:  # the steering hook lives only while sampling
                    extra["steer"] = dec.steer
                if changed and dec.rule.conformative:  # the base reads its own (plain) prompt format
                    extra |= {"base": dec.base, "base_prompts": [self.plain_prompt(p) for p in prompts[start:stop]]}
                return self.lm.sample(prompts[start:stop], max_new_tokens=max_new_tokens, temperature=temperature,
                                      seed=seed, top_k=top_k, **extra)

            self.memo[name] = self.cache.get(
                key, len(prompts), make, self.cfg.batch_size, desc=f"{self.ckpt.name}/{name}"
            )
            self.counts[name] = len(prompts)
        return self.memo[name]

    def figure_path(self, name: str) -> Path:
        d = self.out_dir / "figures"
        d.mkdir(parents=True, exist_ok=True)
        return d / f"{name}.png"


def add_ci(
    metrics: dict[str, float],
    key: str,
    values: Any,
    cfg: Any,
    stat: Callable = np.mean,
    n_boot: int | None = None,
) -> None:
    """Add ``<key>_ci_lo`` / ``<key>_ci_hi``: percentile-bootstrap 95% interval of ``stat`` over ``values``."""
    from collapselab.metrics import bootstrap_ci

    vals = np.asarray(values, dtype=float)
    if vals.size == 0 or np.isnan(vals).all():
        return
    lo, hi = bootstrap_ci(vals, stat, n_boot=n_boot or cfg.n_boot, alpha=0.05, seed=cfg.seed)
    metrics[f"{key}_ci_lo"], metrics[f"{key}_ci_hi"] = lo, hi


def add_index_ci(
    metrics: dict[str, float],
    key: str,
    n: int,
    fn: Callable[[np.ndarray], Any],
    cfg: Any,
    n_boot: int,
    *,
    batched: bool = False,
    bounds: tuple[float, float] | None = None,
) -> None:
    """95% interval of a set-level statistic ``fn(indices)`` by resampling item indices with replacement.

    Resampling duplicates items, which shifts set-level diversity statistics (distinct-n, Vendi,
    self-BLEU) away from the full-set value; the percentiles are therefore re-centred on the
    point estimate (the bootstrap median is moved onto it), keeping the bootstrap spread.
    ``batched``: ``fn`` takes all resamples at once (``[n_boot, n]`` indices -> ``[n_boot]``);
    the resamples are the same either way. ``bounds``: the statistic's range, the interval clipped to it.
    """
    from collapselab.metrics import index_bootstrap_ci

    if n < 2:
        return
    lo, hi = index_bootstrap_ci(n, fn, n_boot=n_boot, seed=cfg.seed, alpha=0.05, batched=batched, bounds=bounds)
    metrics[f"{key}_ci_lo"], metrics[f"{key}_ci_hi"] = lo, hi
