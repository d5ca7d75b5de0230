"""The creativity score (Olson et al. 2024, arXiv 2412.06060) of the persona probe's samples.

A sample's score is the cosine between its mean residual activation at layer l (over the completion's
tokens, read after its prompt) and the creativity direction a (``steering``). The samples are the persona
probe's own cached set (``ctx.samples("persona")``), so adding this probe samples nothing new. The score
is read from the unsteered model, whatever ``decoding`` the samples were drawn under.

- ``creativity.direction=auto`` (default): a is computed for the checkpoint being evaluated from the
  world's contrastive persona requests (ten prompts, one forward pass), at ``creativity.layer`` (default:
  the middle layer, ceil(L/2); the paper found middle layers best). A ``.npz`` from ``eval/steer.py``
  gives a fixed a (e.g. the SFT model's, to score its descendants on one scale).
- ``creativity/surprisal_mean`` (tiny world only): the parsed personas' mean true surprisal, what
  ``decoding=steer`` should raise.
- ``creativity/surprisal_spearman`` (tiny world only): Spearman's rho between the scores and each
  parsed persona's true surprisal under the world (``world.contrast.persona_surprisal``), the check of
  the score against ground truth that ``eval/steer.py`` makes per layer.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from collapselab.errors import UserError
from collapselab.metrics import register, register_companion
from collapselab.probes.base import ProbeContext, ProbeResult, add_ci, register_probe

register("creativity/score_mean", higher_is_better=True, probe="creativity", more_diverse=True, ci="bootstrap_mean",
         description="mean cosine between a persona sample's mean residual activation at the layer and the "
                     "creativity direction (Olson et al. 2024); higher: more like an answer to 'write an unusual ...'",
         derived="mean of steering.score_texts over the persona probe's samples (creativity_probe)")
register("creativity/surprisal_spearman", higher_is_better=True, probe="creativity", ci="bootstrap_stat",
         description="Spearman rho between each parsed persona sample's creativity score and its true surprisal "
                     "-log P_world of its attributes (validates the score; tiny world only)",
         derived="steering.validate.spearman over parsed persona samples (creativity_probe)")
register("creativity/surprisal_mean", higher_is_better=True, probe="creativity", more_diverse=True,
         ci="bootstrap_mean",
         description="mean true surprisal -log P_world (nats) of the parsed persona samples' attributes and names: "
                     "how unusual the personas are under the world (tiny world only; world samples: about 19)",
         derived="mean of world.contrast.persona_surprisal over parsed persona samples (creativity_probe)")
register_companion("creativity/layer", probe="creativity", of="creativity/score_mean",
                   description="the decoder layer the score reads (output of block l, 1..L)",
                   derived="creativity.layer, the direction file's layer, or ceil(L/2) (creativity_probe)")


def probe_direction(ctx: ProbeContext) -> tuple[int, np.ndarray]:
    """(layer, unit a) for this checkpoint: ``creativity.direction`` loaded (its layer must match a given
    ``creativity.layer``) or, ``auto``, computed from the world's contrastive requests."""
    from collapselab.steering import check_layer, compute_directions, n_layers

    c = ctx.cfg.creativity
    model = getattr(ctx.lm, "model", None)
    if model is None:
        raise UserError(f"probes=creativity: {ctx.ckpt.name} is not a Hugging Face model (the score reads its layers)")
    if str(c.direction) == "auto":
        layer = check_layer(model, c.layer if c.layer is not None else math.ceil(n_layers(model) / 2),
                            "creativity.layer")
        d = compute_directions(ctx.lm, [layer], position=c.position, checkpoint=ctx.ckpt.path, seed=ctx.cfg.seed)
        return layer, d[layer].vector
    d = creativity_direction(c)
    check_layer(model, d.layer, "creativity.direction's layer")
    return d.layer, d.vector


def creativity_direction(c: Any) -> Any:
    """``creativity.direction``'s file loaded (``c``: the ``creativity`` config), at ``creativity.layer`` if one is given."""
    from collapselab.steering import load_direction_at

    return load_direction_at(c.direction, "creativity.direction", c.layer, "creativity.layer")


@register_probe("creativity", headline="creativity/score_mean")
def creativity_probe(ctx: ProbeContext) -> ProbeResult:
    from collapselab.probes.persona import parse_all
    from collapselab.steering import score_texts
    from collapselab.steering.validate import spearman, spearman_ci
    from collapselab.world.contrast import persona_surprisal

    samples = ctx.samples("persona")
    layer, a = probe_direction(ctx)
    scores = score_texts(ctx.lm, [s.prompt for s in samples], [s.text for s in samples], {layer: a})[layer]
    m: dict[str, float] = {"creativity/layer": float(layer)}
    if np.isfinite(scores).any():
        m["creativity/score_mean"] = float(np.nanmean(scores))
        add_ci(m, "creativity/score_mean", scores, ctx.cfg)
    if ctx.tiny_world:
        parsed = parse_all(ctx, samples)
        truth = np.array([np.nan if p is None else persona_surprisal(p) for p in parsed])
        if np.isfinite(truth).any():
            m["creativity/surprisal_mean"] = float(np.nanmean(truth))
            add_ci(m, "creativity/surprisal_mean", truth, ctx.cfg)
        rho = spearman(scores, truth)
        if math.isfinite(rho):
            m["creativity/surprisal_spearman"] = rho
            lo, hi = spearman_ci(scores, truth, n_boot=ctx.cfg.n_boot, seed=ctx.cfg.seed)
            m["creativity/surprisal_spearman_ci_lo"], m["creativity/surprisal_spearman_ci_hi"] = lo, hi
    rows = [{"probe": "creativity", "i": i, "score": None if math.isnan(v) else round(float(v), 6)}
            for i, v in enumerate(scores.tolist())]
    return ProbeResult(m, rows, data={"scores": scores.tolist()})
