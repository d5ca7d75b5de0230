"""Preference pairs (paper A2.1): two answers sampled from the SFT model for each instruction
prompt, labelled chosen / rejected by the world's simulated annotator.

Stored as ``<artifacts>/pairs/<hash>/pairs.jsonl`` in trl's conversational preference format
(``prompt``: the user turns, ``chosen`` / ``rejected``: one assistant turn each) plus ``split``
and the annotator's ``degree`` of preference with its reward-model ``margin`` (paper A2.1).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from collapselab.align.common import chat_prompt, sample_texts
from collapselab.layout import final_model
from collapselab.align.sft import load_base, split_messages, train_sft
from collapselab.config.align import PairsStage
from collapselab.io import atomic_write_text, keyed_dir


def pairs_dir(cfg: PairsStage, key: dict[str, Any] | None = None) -> Path:
    return keyed_dir(cfg.artifacts_dir, "pairs", key or cfg.pairs_key())


def read_pairs(folder: Path, split: str | None = None) -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in (Path(folder) / "pairs.jsonl").read_text().splitlines() if line.strip()]
    return [r for r in rows if split is None or r["split"] == split]


def pick_prompts(instructions: list[list[dict[str, str]]], n: int, seed: int) -> list[list[dict[str, str]]]:
    """``n`` prompt conversations drawn from the instructions (without replacement while they last)."""
    rng = np.random.default_rng(seed)
    prompts = [split_messages(m)[0] for m in instructions]
    idx = np.concatenate([rng.permutation(len(prompts)) for _ in range(-(-n // len(prompts)))])[:n]
    return [prompts[i] for i in idx]


def preference_rows(rows: list[dict[str, Any]], margin: bool = False) -> list[dict[str, Any]]:
    """trl trainer rows: prompt, chosen, rejected, plus ``margin`` (RewardTrainer's margin loss) when asked."""
    keys = ("prompt", "chosen", "rejected") + (("margin",) if margin else ())
    return [{k: r[k] for k in keys} for r in rows]


def to_rows(prompts: list[list[dict[str, str]]], labelled: list[dict[str, str]], eval_fraction: float,
            seed: int) -> list[dict[str, Any]]:
    """Annotator output (same order as ``prompts``) -> conversational preference rows with a split."""
    rng = np.random.default_rng(seed + 1)
    is_eval = rng.random(len(prompts)) < eval_fraction
    return [
        {
            "prompt": p,
            "chosen": [{"role": "assistant", "content": lab["chosen"]}],
            "rejected": [{"role": "assistant", "content": lab["rejected"]}],
            "degree": lab["degree"],
            "margin": lab["margin"],
            "split": "eval" if e else "train",
        }
        for p, lab, e in zip(prompts, labelled, is_eval, strict=True)
    ]


def reference_lm(cfg: PairsStage) -> Any:
    """The pretrained base as the typicality term's pi_ref (a ``probes.generation.HFLanguageModel``)."""
    from collapselab.models import load_causal_lm
    from collapselab.probes.generation import HFLanguageModel

    model, tok = load_causal_lm(load_base(cfg))
    return HFLanguageModel(model, tok, name="base")


def reference_logprobs(cfg: PairsStage, requests: list[str], answers: list[str], lm: Any = None) -> list[float]:
    """log pi_ref(answer | request) under the pretrained base, in nats, conditioned as
    ``typicality.reference_prompt`` says and taken by ``typicality.scored``'s rule for
    ``annotator.typicality_reduce`` (the estimator, eval/typicality.py, scores the same way): summed, or per
    token. ``lm``: ``reference_lm(cfg)``, loaded once by a caller that scores several times (None: loaded here)."""
    from collapselab.typicality import reference_prompt, scored

    lm = lm if lm is not None else reference_lm(cfg)
    rules = [scored(cfg.annotator.typicality_reduce, r, a) for r, a in zip(requests, answers, strict=True)]
    sums, counts = lm.continuation_logprobs([reference_prompt(r) for r in requests], [x.text for x in rules])
    out = [x.value(s, n) for x, s, n in zip(rules, sums, counts, strict=True)]
    return [0.0 if v is None else v for v in out]  # an empty answer: no per-token value, no typicality


def build_pairs(cfg: PairsStage, tracker_dir: Path, policy: Path | None = None,
                key: dict[str, Any] | None = None) -> Path:
    """Sample and label the pairs (building SFT first if needed); reuse them when already made. ``policy``: sample
    from this model instead of SFT (DPO's on-policy pairs), stored under ``key`` (``DPOStage.dpo_pairs_key``)."""
    from collapselab.models import load_causal_lm
    from collapselab.world import alignment_messages, load_world
    from collapselab.world.annotator import Annotator

    if (policy is None) != (key is None):
        raise ValueError("build_pairs: policy and key go together")
    folder = pairs_dir(cfg, key)
    if (folder / "pairs.jsonl").is_file():
        return folder
    model, tok = load_causal_lm(policy if policy is not None else final_model(train_sft(cfg, tracker_dir, main=False)))
    world = load_world(cfg.world, Path(cfg.artifacts_dir))
    prompts = pick_prompts(alignment_messages(world), cfg.pairs.n_prompts, cfg.seed)
    texts = [chat_prompt(tok, p) for p in prompts]
    kw = dict(max_new_tokens=cfg.pairs.max_new_tokens, batch_size=cfg.pairs.batch_size)
    t_a, t_b = cfg.pairs.temperatures
    a = [s.text.strip() for s in sample_texts(model, tok, texts, seed=cfg.seed, temperature=t_a,
                                               desc=f"pairs: first answers (T={t_a})", **kw)]
    b = [s.text.strip() for s in sample_texts(model, tok, texts, seed=cfg.seed + 1, temperature=t_b,
                                               desc=f"pairs: second answers (T={t_b})", **kw)]
    user = [p[-1]["content"] for p in prompts]
    alpha = cfg.annotator.typicality
    ref_a = ref_b = None
    if alpha > 0:  # the annotator's typicality bias needs log pi_ref of both answers
        base = reference_lm(cfg)  # loaded once for both answers
        ref_a, ref_b = reference_logprobs(cfg, user, a, base), reference_logprobs(cfg, user, b, base)
    annotator = Annotator(typicality=alpha)
    labelled = annotator.label_pairs(user, a, b, seed=cfg.seed, ref_logp_a=ref_a, ref_logp_b=ref_b)
    rows = to_rows(prompts, labelled, cfg.pairs.eval_fraction, cfg.seed)
    if alpha > 0:  # kept beside the labels, for eval/typicality.py (quality_key=quality_delta) and the report
        for row, lab, q, ans_a, la, lb in zip(rows, labelled, user, a, ref_a, ref_b, strict=True):
            # identical answers have identical log-probs, so comparing texts is enough
            row["chosen_ref_logp"], row["rejected_ref_logp"] = (la, lb) if lab["chosen"] == ans_a else (lb, la)
            row["quality_delta"] = annotator.score(q, lab["chosen"]) - annotator.score(q, lab["rejected"])
    atomic_write_text(folder / "pairs.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
    print(f"pairs: {len(rows)} labelled pairs -> {folder}")
    return folder
