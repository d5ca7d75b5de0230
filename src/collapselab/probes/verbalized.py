"""``prompt_format=verbalized``: the persona probe asks for k personas with their probabilities
(verbalized sampling, Zhang et al. 2025, arXiv 2510.01171) instead of one persona per call.

Each call sends ``world.verbalized.vs_requests(k)[0]`` through the chat template; the answer is
parsed into k slots (``parse_verbalized``: a malformed or missing line is a None slot, counted).
``persona.vs_select`` says what the persona metrics see:

- ``all`` (default; the issue's "k personas per call"): every slot of ceil(n_samples / k)
  calls, the first ``persona.n_samples`` of them;
- ``draw``: one slot per call, drawn from the renormalised stated probabilities with a
  generator seeded by (seed, call index), so it is reproducible and independent of batching;
  ``persona.n_samples`` calls.

Either way ``persona/parse_rate`` is parsed personas / personas asked for, and the answers'
own parse statistics are ``persona/vs_*`` (``metrics.verbalized``). The answers carry no
review, so the review metrics (sentiment, review length, review k-means) are written as
undefined (nan: listed in meta's ``undefined_metrics``), never as zeros.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from collapselab.errors import UserError

# persona metrics computed from reviews: not available from verbalized answers (attribute lines only)
REVIEW_KEYS = ("persona/sentiment_min", "persona/sentiment_max", "persona/sentiment_mean",
               "persona/review_chars_mean", "persona/review_kmeans_k", "persona/review_distinct_sentence_share")
NOTE = ("prompt_format=verbalized: the answers are attribute lines without reviews, so "
        + ", ".join(REVIEW_KEYS) + " are not available (nan)")


def n_calls(persona_cfg: Any) -> int:
    """Chat calls needed for ``persona.n_samples`` personas: ceil(n / k) when all k are kept, else n."""
    if persona_cfg.vs_select == "all":
        return math.ceil(persona_cfg.n_samples / persona_cfg.vs_k)
    return persona_cfg.n_samples


def verbalized_prompt(lm: Any, ckpt_name: str, k: int) -> str:
    """The VS request for k personas in ``lm``'s chat template; a checkpoint without one is a UserError."""
    from collapselab.world.verbalized import vs_requests

    text = lm.chat_prompt(vs_requests(k)[0])
    if text is None:
        raise UserError(f"prompt_format=verbalized: {ckpt_name} has no chat template (verbalized sampling asks a "
                        "chat model; use plain or auto)")
    return text


def verbalized_personas(ctx: Any, samples: list) -> tuple[list[dict | None], dict[str, float], list[dict]]:
    """(parsed personas for the persona metrics, ``persona/vs_*`` metrics, samples.jsonl rows).

    ``samples``: one sample per VS call. Rows: one per persona entry, with its call index
    ``call``, its slot, the call's whole answer, the slot's stated probability and (``draw``)
    which slot was drawn."""
    from collapselab.metrics import stated_tv, vs_stats, wilson_ci
    from collapselab.world.verbalized import parse_verbalized

    p = ctx.cfg.persona
    k = p.vs_k
    answers = [parse_verbalized(s.text, k) for s in samples]
    parsed: list[dict | None] = []
    rows: list[dict] = []
    for i, (s, a) in enumerate(zip(samples, answers, strict=True)):
        base = {"probe": "persona", "call": i, "prompt": s.prompt, "text": s.text, "vs_ok": a.ok}
        if p.vs_select == "all":
            slots = list(range(k))
        else:
            j = a.draw(np.random.default_rng([int(ctx.cfg.seed), i]))
            slots = [j]
            base["vs_probs"] = a.probs
        for j in slots:
            item = None if j is None else a.items[j]
            rows.append({**base, "i": len(parsed), "slot": j, "parsed": item,
                         "stated": None if j is None else a.stated[j]})
            parsed.append(item)
    if p.vs_select == "all":
        parsed, rows = parsed[:p.n_samples], rows[:p.n_samples]
    m = vs_stats([a.n_parsed for a in answers], [a.ok for a in answers], [a.stated_sum for a in answers], k)
    n_ok = sum(a.ok for a in answers)
    m["persona/vs_parse_rate_ci_lo"], m["persona/vs_parse_rate_ci_hi"] = wilson_ci(n_ok, len(answers))
    n_items = sum(a.n_parsed for a in answers)
    m["persona/vs_item_rate_ci_lo"], m["persona/vs_item_rate_ci_hi"] = wilson_ci(n_items, k * len(answers))
    if ctx.tiny_world:
        tv = _stated_vs_world(answers, stated_tv)
        if tv is not None:
            m["persona/vs_stated_tv_world"] = tv
    return parsed, m, rows


def _stated_vs_world(answers: list, stated_tv: Any) -> float | None:
    """Mean TV between stated and world probabilities over answers with >= 2 lines the world knows."""
    from collapselab.world.verbalized import attribute_logp

    tvs = []
    for a in answers:
        idx = [j for j, it in enumerate(a.items) if it is not None]
        logp = [attribute_logp(a.items[j]) for j in idx]
        if len(idx) < 2 or not all(math.isfinite(x) for x in logp):
            continue
        top = max(logp)
        tvs.append(stated_tv([a.stated[j] for j in idx], [math.exp(x - top) for x in logp]))
    return float(np.mean(tvs)) if tvs else None


def mark_review_metrics_unavailable(m: dict[str, float], memo: dict) -> None:
    """Set the review metrics to nan (undefined, not zero) and leave a note for the run's meta."""
    for key in REVIEW_KEYS:
        m[key] = float("nan")
        for suffix in ("_ci_lo", "_ci_hi"):
            m.pop(key + suffix, None)
    notes = memo.setdefault("notes", [])
    if NOTE not in notes:
        notes.append(NOTE)
