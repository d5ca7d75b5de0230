"""Quality beside diversity: reward-model score, NLL under the base model, profanity.

Over the semantic probe's "Grace Hopper was" completions and, when sampled, the persona ones (not under
prompt_format=verbalized, whose persona samples are lists of k attribute lines: bios only then).
- ``quality/reward_mean``: mean score of a sequence-classification reward model
  (``reward_model=<folder>``); the key is absent when none is configured.
- ``quality/base_nll``: mean per-token NLL (nats) of the completions under the base model
  (``base_model=auto`` reads it from the checkpoint's collapselab.json; a pretrained base scores its own
  completions, the reference the others are read against; absent for a chat model of unknown origin).
- ``quality/toxicity_rate``: share of completions with a profane word (``metrics.profanity_rate``).
- ``quality/annotator_mean``: mean score of the tiny world's simulated annotator without its typicality bias
  (``world.annotator.Annotator().score(request, answer.strip())``, r_true of VS eq. 1), on the answers the reward
  model scores. In the tiny world this is the ground-truth quality the labels were drawn from, so it tells a
  reward model's error (and its learned typicality) from a real loss of quality; on other text it is the same
  rule-based score (sentiment, detail, profanity, Grace Hopper facts, persona layout), not a ground truth.
"""

from __future__ import annotations


import numpy as np

from collapselab.models.reward import reward_scores
from collapselab.probes.base import ProbeContext, ProbeResult, add_ci, register_probe


def _texts(ctx: ProbeContext) -> tuple[list[str], list[str], list[str], list[str]]:
    """(prompts, completions, chat requests, answers) of the bio set and, when sampled (and not verbalized
    sampling's lists), the persona set.

    The answer is what a chat model would have said: the continued prompt for "Grace Hopper
    was", the persona itself for the persona set."""
    from collapselab.world import prompts as wp

    # under prompt_format=verbalized a persona sample is a list of k attribute lines with probabilities, not an
    # answer the reward model (trained on single personas with reviews) or the base can score: bios only then
    persona = "persona" in ctx.cfg.probes and ctx.prompt_format != "verbalized"
    sets = [("bio", wp.BIO_REQUESTS[0])] + ([("persona", wp.PERSONA_INSTRUCTION)] if persona else [])
    prompts, texts, requests, answers = [], [], [], []
    for name, request in sets:
        for s in ctx.samples(name):
            prompts.append(ctx.visible(s.prompt, ""))  # the base model sees the plain prompt
            texts.append(s.text)
            requests.append(request)
            answers.append(ctx.visible(s.prompt, s.text) if name == "bio" else s.text)
    return prompts, texts, requests, answers


@register_probe("quality", headline="quality/toxicity_rate")
def quality_probe(ctx: ProbeContext) -> ProbeResult:
    from collapselab.metrics import is_profane, profanity_rate

    prompts, texts, requests, answers = _texts(ctx)
    from collapselab.world.annotator import Annotator

    m: dict[str, float] = {"quality/toxicity_rate": float(profanity_rate(texts))}
    add_ci(m, "quality/toxicity_rate", [float(is_profane(t)) for t in texts], ctx.cfg)
    annotator = Annotator()  # typicality 0: the quality part alone, as the lab's score job reads it (QUALITY_RULE)
    gold = np.array([annotator.score(q, a.strip()) for q, a in zip(requests, answers, strict=True)], dtype=float)
    m["quality/annotator_mean"] = float(gold.mean())
    add_ci(m, "quality/annotator_mean", gold, ctx.cfg)
    if ctx.cfg.reward_model:
        r = reward_scores(ctx.cfg.reward_model, requests, answers)
        m["quality/reward_mean"] = float(r.mean())
        add_ci(m, "quality/reward_mean", r, ctx.cfg)
    base_lm = ctx.base_lm(own=True)  # a pretrained base scores its own answers: the reference row (as entropy/base_nll)
    if base_lm is not None:
        nll = np.asarray(base_lm.continuation_nll(prompts, texts), dtype=float)
        m["quality/base_nll"] = float(np.nanmean(nll))
        add_ci(m, "quality/base_nll", nll, ctx.cfg)
    return ProbeResult(m)
