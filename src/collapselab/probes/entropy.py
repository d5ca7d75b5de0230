"""Experiment 3 (sec. 3.3, eq. 3.2): token-level entropy of the model's own completions.

Per generated token: entropy (bits) of the renormalised top-5 next-token probabilities,
taken from the logits the sampler used (eq. 3.1 at temperature T). Averaged over each
completion's tokens, then mean and sd over completions (paper: 1.48 +- 0.17 base,
0.96 +- 0.12 aligned). Also the full-vocabulary entropy, and the entropy of the distribution
each token was actually drawn from (``sampled_bits``: after the decoding group's truncation or
mixing; equal to the full entropy under plain untruncated sampling).
"""

from __future__ import annotations

import numpy as np

from collapselab.metrics import register_companion
from collapselab.probes import figures
from collapselab.probes.base import ProbeContext, ProbeResult, add_ci, register_probe


def per_completion_means(values: list[list[float]]) -> np.ndarray:
    """[N] average of each completion's per-token values (``metrics.completion_means`` over a padded [N, T])."""
    from collapselab.metrics import completion_means

    T = max((len(v) for v in values), default=0)
    arr = np.zeros((len(values), max(T, 1)))
    mask = np.zeros_like(arr, dtype=bool)
    for i, v in enumerate(values):
        arr[i, : len(v)] = v
        mask[i, : len(v)] = True
    return np.asarray(completion_means(arr, mask), dtype=float)


register_companion("entropy/tokens_mean", probe="entropy", description="mean generated tokens per completion",
                   derived="mean of len(sample.token_ids) (entropy_probe)")


def story_nll(ctx: ProbeContext, samples: list) -> np.ndarray | None:
    """[N] per-token NLL (nats) of each completion under the base model, which reads the plain prompt (the
    chat markup removed, as quality/base_nll does); a pretrained base scores its own completions. None when no
    base resolves (``ProbeContext.base_lm(own=True)``)."""
    lm = ctx.base_lm(own=True)
    if lm is None:
        return None
    prompts = [ctx.visible(s.prompt, "") for s in samples]
    return np.asarray(lm.continuation_nll(prompts, [s.text for s in samples]), dtype=float)


@register_probe("entropy", headline="entropy/top5_bits_mean")
def entropy_probe(ctx: ProbeContext) -> ProbeResult:
    samples = ctx.samples("steve")
    top5 = per_completion_means([s.top5_bits for s in samples])  # [N] (nan for an empty completion)
    full = per_completion_means([s.full_bits for s in samples])
    drawn = per_completion_means([s.sampled_bits for s in samples])  # after decoding's truncation / mixing
    m = {
        "entropy/top5_bits_mean": float(np.nanmean(top5)),
        "entropy/top5_bits_sd": float(np.nanstd(top5)),
        "entropy/full_bits_mean": float(np.nanmean(full)),
        "entropy/sampled_bits_mean": float(np.nanmean(drawn)),
        "entropy/tokens_mean": float(np.mean([len(s.token_ids) for s in samples])),
    }
    add_ci(m, "entropy/top5_bits_mean", top5, ctx.cfg)
    add_ci(m, "entropy/full_bits_mean", full, ctx.cfg)
    add_ci(m, "entropy/sampled_bits_mean", drawn, ctx.cfg)
    nll = story_nll(ctx, samples)
    if nll is not None:
        m["entropy/base_nll"] = float(np.nanmean(nll))
        add_ci(m, "entropy/base_nll", nll, ctx.cfg)
    example = next((s for s in samples if s.tokens), samples[0])
    figs = {"entropy/sample_tokens": figures.token_entropy_bars(example, ctx.figure_path("entropy_sample"))}
    figs["entropy/sample_top5"] = figures.token_probability_stack(example, ctx.figure_path("entropy_sample_top5"))
    rows = [
        {"probe": "entropy", "i": i, "prompt": s.prompt, "text": s.text, "top5_bits_mean": float(top5[i]),
         **({"base_nll": float(nll[i])} if nll is not None else {})}
        for i, s in enumerate(samples)
    ]
    return ProbeResult(m, rows, figs, data={"top5_bits": top5.tolist()})
