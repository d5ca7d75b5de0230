"""Section 5.1: attractor states. Nudge the model off its own path and see whether it returns.

Perturbation (Figure 14): take one of the model's own "Grace Hopper was" completions (the
semantic probe's samples), keep it up to the end of its first sentence, then append the
start of the next sentence up to its first "was"/"is" turned into "was not"/"is not"
(e.g. "... in New York City. She was not"); if the next sentence has no "was"/"is", append
" She was not"; a completion with no finished sentence gives the prompt itself negated
("Grace Hopper was not"). The model then continues the perturbed prompt.

Rules (also in docs/evaluation.md):
- ``attractor/recovery_rate``: share of perturbed generations whose embedding (perturbed
  prompt + continuation) lies within the radius of one of the model's own unperturbed
  clusters (``metrics.nearest_cluster`` != -1; radius = ``radius_quantile`` of the cluster's
  members' cosine distances to its centroid).
- ``attractor/recovery_tokens_mean``: tokens generated before the sampled-token log-prob,
  averaged over a ``window``, is back within ``tolerance`` nats of the reference level, the
  mean sampled-token log-prob of the unperturbed completions (``metrics.recovery_tokens``).
"""

from __future__ import annotations

import re

import numpy as np

from collapselab.metrics import register_companion
from collapselab.probes import figures
from collapselab.probes.base import ProbeContext, ProbeResult, add_ci, register_probe
from collapselab.probes.semantic import bio_clusters

_SENT_END = re.compile(r"[.!?](?=\s|$)")
_COPULA = re.compile(r"\b(was|is)\b")


def perturb(prompt: str, completion: str) -> str:
    """The perturbed prompt for one completion (rule in the module docstring)."""
    m = _SENT_END.search(completion)
    if m is None:
        c = _COPULA.search(prompt)
        if c is None:
            return prompt + " not"
        return prompt[: c.end()] + " not" + prompt[c.end():]
    head = prompt + completion[: m.end()]
    rest = completion[m.end():]
    nxt = _SENT_END.search(rest)
    sentence = rest[: nxt.start()] if nxt else rest
    c = _COPULA.search(sentence)
    if c is None or not sentence[: c.start()].strip():
        return head + " She was not"
    return head + sentence[: c.end()] + " not"


register_companion("attractor/reference_logprob", probe="attractor", of="attractor/recovery_tokens_mean",
                   description="mean sampled-token log-probability (nats) of the unperturbed completions: the "
                               "level recovery_tokens waits for",
                   derived="mean over the bio set's sampled-token log-probs (attractor_probe)")
register_companion("attractor/perturbed_logprob_mean", probe="attractor", of="attractor/recovery_tokens_mean",
                   description="mean sampled-token log-probability (nats) of the perturbed continuations",
                   derived="mean over the perturbed continuations' sampled-token log-probs (attractor_probe)")


@register_probe("attractor", headline="attractor/recovery_rate")
def attractor_probe(ctx: ProbeContext) -> ProbeResult:
    from collapselab.metrics import embed_texts, nearest_cluster, recovery_tokens

    c = ctx.cfg.attractor
    bio = ctx.samples("bio")
    cl = bio_clusters(ctx)
    chosen = bio[: min(c.n_perturbations, len(bio))]
    prompts = [perturb(s.prompt, s.text) for s in chosen]
    pert = ctx.generate("attractor", prompts, c.max_new_tokens, c.temperature)
    # reference level: mean sampled-token log-prob over all unperturbed completions' tokens
    ref_lp = [lp for s in bio for lp in s.logprobs]
    reference = float(np.mean(ref_lp)) if ref_lp else float("nan")
    emb = np.asarray(embed_texts([ctx.visible(p, s.text) for p, s in zip(prompts, pert, strict=True)]), dtype=float)
    nearest = [nearest_cluster(e, cl["centroids"], cl["radii"]) for e in emb]
    back = np.array([k != -1 for k in nearest], dtype=float)
    tokens = np.array(
        [recovery_tokens(s.logprobs, reference, window=c.window, tolerance=c.tolerance) if s.logprobs else np.nan
         for s in pert],
        dtype=float,
    )
    m = {
        "attractor/recovery_rate": float(back.mean()),
        "attractor/recovery_tokens_mean": float(np.nanmean(tokens)) if np.isfinite(tokens).any() else float("nan"),
        "attractor/reference_logprob": reference,
        "attractor/perturbed_logprob_mean": float(np.mean([lp for s in pert for lp in s.logprobs]))
        if any(s.logprobs for s in pert) else float("nan"),
    }
    add_ci(m, "attractor/recovery_rate", back, ctx.cfg)
    add_ci(m, "attractor/recovery_tokens_mean", tokens, ctx.cfg)
    example = next((s for s in pert if s.tokens), pert[0])
    figs = {"attractor/perturbed": figures.coloured_tokens(example, ctx.figure_path("attractor_perturbed"))}
    rows = [
        {"probe": "attractor", "i": i, "prompt": p, "text": s.text, "cluster": int(k),
         "recovered": bool(k != -1), "recovery_tokens": None if np.isnan(t) else int(t)}
        for i, (p, s, k, t) in enumerate(zip(prompts, pert, nearest, tokens, strict=True))
    ]
    return ProbeResult(m, rows, figs)
