"""Decoding rules: which distribution the next token is drawn from (pure functions on tensors).

The sampler (``generation.HFLanguageModel.sample``) turns each step's logits into log-probs at
temperature T, ``logp = log_softmax(logits / T)`` (eq. 3.1), and asks ``DecodingRule.distribution``
for the distribution to draw from:

- **plain**: the model's own ``p = exp(logp)``. Truncation keeps the tokens of ``keep_mask(p)``
  and renormalises: top-p (nucleus, Holtzman et al. 2020) keeps the smallest set of most
  probable tokens whose mass reaches ``top_p`` (and any token tied with its least probable one);
  min-p (Nguyen et al. 2024) keeps tokens with ``p >= min_p * max(p)``. With both on, a token
  must pass both (each taken on ``p``).
- **conformative** (Peeperkorn et al. 2025, "Mind the Gap"): the instruct model's ``p_i`` and its
  base model's ``p_b`` (each at temperature T, each conditioned on its own prompt format, both
  scoring the same continuation) are mixed with the base's weight ``w``:
  linear ``q = (1-w) p_i + w p_b`` or log-linear ``q = softmax((1-w) logit_i + w logit_b)``.
  The truncation set is ``keep_mask(p_i)``, chosen on the **instruct** model's distribution; q is
  restricted to it and renormalised. The paper states a weighted sum of the two distributions with
  truncation; whether over probabilities or logits, and where the truncation set comes from, is
  not public (docs/evaluation.md, "Decoding").

- **steer** (Olson et al. 2024, arXiv 2412.06060): not a rule on the distribution but on the model:
  ``Steer`` adds ``scale * a`` to one decoder layer's residual output while sampling
  (``steering.hooks.add_to_residual``); the rule (any truncation) then acts on the steered logits.

The eq. 3.2 statistics stay on the model's own distribution; the entropy of the returned
distribution is what ``Sample.sampled_bits`` records.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from collapselab.errors import UserError


def top_p_mask(p: Any, top_p: float) -> Any:
    """Nucleus set of ``p [B, V]`` -> bool ``[B, V]``: the most probable tokens, in descending order,
    up to and including the first one at which the cumulative mass reaches ``top_p``.

    Written as a threshold: with ``s`` the row sorted descending and ``c`` its cumulative sum, the set
    has ``m = 1 + #{j >= 1: c_(j-1) < top_p}`` tokens (the mode always), and a token is kept when
    ``p >= s_(m-1)``; tokens tied with the last one are kept too, so the set does not depend on
    token order. Only the values are sorted, which gives one answer on any device.
    """
    return p >= nucleus_floor(p, top_p)


def nucleus_floor(p: Any, top_p: float) -> Any:
    """``s_(m-1)`` of ``top_p_mask`` per row of ``p [B, V]`` -> ``[B, 1]``: the least probable kept value.

    On CPU (numpy: its sort is about 10x faster than torch's there) only candidates are sorted, in two
    passes. First the tokens with ``p >= (1 - top_p) / 64``: a row is done when their cumulative sum
    reaches ``top_p``, as the nucleus is then a prefix of them (about 90% of a trained model's rows,
    with a few dozen candidates of 8192). The other rows, whose nucleus reaches into the tail, take the
    tokens with ``p >= (1 - top_p) / (2V)``: the rest hold less than ``(1 - top_p) / 2`` of the mass, so the
    candidates' cumulative sum always reaches ``top_p`` before they run out. The cumulative sums are
    torch's on CPU (accumulated in float64, stored as float32) over a prefix of the sorted row, so the
    value is the full sort's, bit for bit.
    """
    import numpy as np
    import torch

    if p.device.type != "cpu":
        s = torch.sort(p, dim=-1, descending=True).values
        last = (s.cumsum(dim=-1)[..., :-1] < top_p).sum(dim=-1, keepdim=True)  # m - 1: the last kept, sorted
        return s.gather(-1, last)
    a = p.numpy()
    floor = np.empty((a.shape[0], 1), dtype=a.dtype)
    wide = [b for b, row in enumerate(a >= (1.0 - top_p) / 64) if not _floor_among(a[b], row, top_p, floor[b])]
    for b in wide:  # float rounding can leave the second pass short only when top_p is within ~1e-7 of 1
        if not _floor_among(a[b], a[b] >= (1.0 - top_p) / (2 * a.shape[-1]), top_p, floor[b]):
            _floor_among(a[b], np.ones(a.shape[-1], dtype=bool), top_p, floor[b])
    return torch.from_numpy(floor)


def _floor_among(row: Any, cand: Any, top_p: float, out: Any) -> bool:
    """One row's nucleus floor from its candidates (``row``, ``cand``: numpy ``[V]``) into ``out [1]``;
    False (``out`` untouched) when the candidates' cumulative sum does not reach ``top_p``, unless they
    are the whole row (then the last token is kept whatever the sum, as ``top_p_mask`` defines it)."""
    import numpy as np

    s = np.sort(row[cand])[::-1]
    c = np.cumsum(s, dtype=np.float64).astype(np.float32)
    limit = np.float32(top_p)
    if len(s) < len(row) and (not len(c) or c[-1] < limit):
        return False
    out[0] = s[int((c[:-1] < limit).sum())]
    return True


def min_p_mask(p: Any, min_p: float) -> Any:
    """min-p set of ``p [B, V]`` -> bool ``[B, V]``: tokens with ``p >= min_p * max(p)`` (Nguyen et al. 2024)."""
    return p >= min_p * p.amax(dim=-1, keepdim=True)


def keep_mask(p: Any, *, top_p: float = 1.0, min_p: float = 0.0) -> Any | None:
    """Tokens of ``p [B, V]`` kept by top-p and min-p (both on ``p``) -> bool ``[B, V]``; None when both are off."""
    keep = None
    if top_p < 1.0:
        keep = top_p_mask(p, top_p)
    if min_p > 0.0:
        m = min_p_mask(p, min_p)
        keep = m if keep is None else keep & m
    return keep


def mix_probs(p: Any, p_base: Any, weight: float) -> Any:
    """Linear conformative mixture ``(1-w) p + w p_base`` of two distributions ``[B, V]`` (``torch.lerp``:
    w = 0 gives ``p`` and w = 1 gives ``p_base`` exactly)."""
    import torch

    return torch.lerp(p, p_base, weight)


def mix_logits(logp: Any, logp_base: Any, weight: float) -> Any:
    """Log-linear conformative mixture, unnormalised: ``(1-w) logp + w logp_base`` ``[B, V]``. Its softmax
    equals softmax((1-w) logit + w logit_base): each row's log-partition is a constant the softmax removes.
    w = 0 and w = 1 return one input exactly (no 0 * -inf = nan for a token one model rules out)."""
    if weight == 0:
        return logp
    if weight == 1:
        return logp_base
    return (1 - weight) * logp + weight * logp_base


def renormalise(q: Any, keep: Any | None) -> Any:
    """Probabilities ``q [B, V]`` restricted to ``keep`` (bool ``[B, V]``; None: all), divided by their
    row sums -> ``[B, V]`` (a new tensor)."""
    import torch

    if keep is None:
        return q / q.sum(dim=-1, keepdim=True)
    q = torch.where(keep, q, 0.0)
    return q.div_(q.sum(dim=-1, keepdim=True))


def renormalise_log(z: Any, keep: Any | None) -> tuple[Any, Any]:
    """Unnormalised log-probs ``z [B, V]`` restricted to ``keep`` and normalised -> ``(q, log q)``."""
    import torch

    logq = torch.log_softmax(z if keep is None else torch.where(keep, z, float("-inf")), dim=-1)
    return logq.exp(), logq


def entropy_bits(logq: Any, q: Any | None = None) -> Any:
    """Shannon entropy (bits) of each row of normalised log-probs ``[B, V]`` -> ``[B]`` (0 log 0 = 0).
    ``q``: ``exp(logq)`` when the caller has it already."""
    import torch

    return torch.nansum((logq.exp() if q is None else q) * logq, dim=-1).neg_() / math.log(2)


def prob_entropy_bits(q: Any) -> Any:
    """Shannon entropy (bits) of each row of probabilities ``q [B, V]`` -> ``[B]``, without a log of the
    zeros: ``xlogy`` skips them (0 log 0 = 0), and on CPU the log of a zero is several times slower than
    of a positive number, while a truncated row is mostly zeros. Equals ``entropy_bits(q.log(), q)`` to float
    rounding (the sums' order differs)."""
    import torch

    return torch.special.xlogy(q, q).sum(dim=-1).neg_() / math.log(2)


@dataclass(frozen=True)
class DecodingRule:
    """The per-token rule. ``weight`` None: plain; a number: conformative with that base weight."""

    top_p: float = 1.0
    min_p: float = 0.0
    weight: float | None = None
    mix: str = "linear"

    @property
    def conformative(self) -> bool:
        return self.weight is not None

    @property
    def identity(self) -> bool:
        """True when the rule draws from the model's own distribution unchanged (today's sampler)."""
        return not self.conformative and self.top_p >= 1.0 and self.min_p <= 0.0

    def distribution(self, logp: Any, logp_base: Any | None = None, p: Any | None = None) -> tuple[Any, Any]:
        """The distribution to sample from and its entropy, ``(q [B, V], bits [B])`` (rows normalised), given
        the model's own ``logp [B, V]`` at T (``p``: its ``exp`` when the caller has it) and, conformative, the
        base model's ``logp_base [B, V]`` at T. The truncation set is always taken on the (instruct) model's own ``p``."""
        p = logp.exp() if p is None else p
        keep = keep_mask(p, top_p=self.top_p, min_p=self.min_p)
        if not self.conformative:
            q = renormalise(p, keep)
            return q, prob_entropy_bits(q)
        if logp_base is None:
            raise ValueError("conformative decoding needs the base model's log-probs")
        w = float(self.weight)
        if self.mix == "linear":  # in probabilities: cheaper than a logaddexp, and exact at w = 0 and 1
            q = renormalise(mix_probs(p, logp_base.exp(), w), keep)
            return q, prob_entropy_bits(q)
        if self.mix == "loglinear":
            q, logq = renormalise_log(mix_logits(logp, logp_base, w), keep)
            return q, entropy_bits(logq, q)
        raise ValueError(f"mix={self.mix!r}: must be linear or loglinear")


@dataclass(frozen=True)
class Steer:
    """``decoding=steer``: add ``scale * vector`` (``vector [H]``, the creativity direction) to the output of
    decoder layer ``layer`` (1-based, ``steering.hooks``) at every step. ``fingerprint``: the direction's hash."""

    layer: int
    scale: float
    vector: Any
    fingerprint: str
    source: str = ""  # the direction file, or "auto"

    def key(self) -> dict[str, Any]:
        return {"layer": self.layer, "scale": self.scale, "direction": self.fingerprint}


@dataclass
class Decoding:
    """A checkpoint's decoding, as the probes' sampler receives it.

    ``rule``: the per-token rule; ``temperature``: None keeps each probe's own; ``base``: the loaded
    base ``LanguageModel`` (conformative), ``base_path`` where it came from and ``base_fingerprint``
    its files' hash (the sample-cache key); ``steer``: the steering hook's settings (``decoding=steer``).
    """

    rule: DecodingRule
    temperature: float | None = None
    method: str = "plain"
    truncation: str | None = None
    base: Any = None
    base_path: str = ""
    base_fingerprint: str = ""
    steer: Steer | None = None

    def cache_key(self) -> dict[str, Any] | None:
        """What the sample-cache key adds; None when samples are today's (plain, untruncated), so
        samples cached before the decoding group existed stay valid. The temperature is in the key already."""
        if self.rule.identity and self.steer is None:
            return None
        key: dict[str, Any] = {"method": self.method, "top_p": self.rule.top_p, "min_p": self.rule.min_p}
        if self.steer is not None:
            key["steer"] = self.steer.key()
        if self.rule.conformative:
            key |= {"weight": self.rule.weight, "mix": self.rule.mix, "truncation": self.truncation,
                    "base": self.base_fingerprint}
        return key


def from_config(cfg: Any, **base: Any) -> Decoding:
    """``Decoding`` from a validated ``config.decoding.DecodingConfig``; ``base``: conformative's
    ``base``, ``base_path`` and ``base_fingerprint`` (the loaded base model and where it came from),
    or steer's ``steer`` (``Steer``, built by the harness once the direction is known)."""
    conformative = cfg.method == "conformative"
    rule = DecodingRule(top_p=float(cfg.top_p), min_p=float(cfg.min_p),
                        weight=float(cfg.weight) if conformative else None,
                        mix=cfg.mix if conformative else "linear")
    return Decoding(rule, None if cfg.temperature is None else float(cfg.temperature), cfg.method,
                    cfg.truncation if conformative else None, **base)


def check_same_tokenizer(lm: Any, base: Any, probe_texts: list[str], spec: str) -> None:
    """UserError (naming ``decoding.base=spec``) unless ``lm`` and ``base`` (``HFLanguageModel``s) share
    one tokenizer: the same vocabulary, the same output width, the same token ids for every probe text.
    Both models score the same continuation token ids; under another tokenizer one id is another string."""
    why = None
    if lm.tok.get_vocab() != base.tok.get_vocab():
        why = f"vocabularies differ ({len(lm.tok)} vs {len(base.tok)} tokens)"
    elif _width(lm) != _width(base):
        why = f"output widths differ ({_width(lm)} vs {_width(base)} logits)"
    else:
        for text in probe_texts:
            a = lm.tok(text, add_special_tokens=False)["input_ids"]
            b = base.tok(text, add_special_tokens=False)["input_ids"]
            if a != b:
                why = f"{text[:30]!r} tokenises differently"
                break
    if why is not None:
        raise UserError(f"decoding.base={spec!r}: its tokenizer differs from {lm.name}'s ({why}); "
                        "conformative decoding needs one shared tokenizer")


def _width(lm: Any) -> int:
    return int(lm.model.get_output_embeddings().weight.shape[0])
