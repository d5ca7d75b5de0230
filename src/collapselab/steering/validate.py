"""Validate the creativity score against the world's ground truth (``eval/steer.py``; issue #14).

For one checkpoint and each requested layer: compute the direction (``direction``), save it, score
(a) the persona probe's own samples (the same cached set ``eval/evaluate.py`` draws) and (b) the
world's own personas (ground-truth documents: this isolates the score from the model's sampling),
and report the Spearman correlation between each text's score and its true surprisal under the
world (``world.contrast.persona_surprisal``), with a percentile-bootstrap 95% interval over texts.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from collapselab.errors import UserError
from collapselab.io import atomic_write_json


def spearman(x: Any, y: Any) -> float:
    """Spearman's rank correlation of ``x [N]`` and ``y [N]`` (average ranks for ties); pairs with a nan dropped."""
    from scipy.stats import spearmanr

    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    ok = ~(np.isnan(x) | np.isnan(y))
    if ok.sum() < 3:
        return float("nan")
    return float(spearmanr(x[ok], y[ok])[0])


def spearman_ci(x: Any, y: Any, n_boot: int = 1000, seed: int = 0, alpha: float = 0.05) -> tuple[float, float]:
    """Percentile-bootstrap (1 - alpha) interval of Spearman's rho, resampling (x, y) pairs (``[n_boot, N]``
    index draws, ranked per resample); nan pairs dropped first. (nan, nan) under 3 pairs."""
    from scipy.stats import rankdata

    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    ok = ~(np.isnan(x) | np.isnan(y))
    x, y = x[ok], y[ok]
    if x.size < 3:
        return float("nan"), float("nan")
    idx = np.random.default_rng(seed).integers(0, x.size, size=(n_boot, x.size))
    rx, ry = rankdata(x[idx], axis=1), rankdata(y[idx], axis=1)
    rx -= rx.mean(1, keepdims=True)
    ry -= ry.mean(1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = (rx * ry).sum(1) / np.sqrt((rx**2).sum(1) * (ry**2).sum(1))
    rho = rho[~np.isnan(rho)]  # a resample of one repeated value has no ranks to correlate
    lo, hi = np.percentile(rho, [100 * alpha / 2, 100 * (1 - alpha / 2)])
    return float(lo), float(hi)


def correlation_row(scores: np.ndarray, surprisal: np.ndarray, n_boot: int, seed: int) -> dict[str, float]:
    """{rho, ci_lo, ci_hi, n}: Spearman of score vs surprisal with its bootstrap interval."""
    lo, hi = spearman_ci(scores, surprisal, n_boot=n_boot, seed=seed)
    n = int((~(np.isnan(scores) | np.isnan(surprisal))).sum())
    return {"rho": spearman(scores, surprisal), "ci_lo": lo, "ci_hi": hi, "n": n}


def resolve_layers(spec: Any, n: int) -> list[int]:
    """``layer=`` as a list of layers: ``all`` (1..n), one int, or a list of ints; each in 1..n (UserError otherwise)."""
    if spec is None or spec == "all":
        return list(range(1, n + 1))
    layers = [spec] if isinstance(spec, (int, str)) else list(spec)
    bad = [x for x in layers if isinstance(x, bool) or not isinstance(x, int) or not 1 <= x <= n]
    if bad or not layers:
        raise UserError(f"layer={spec!r}: out of range, the model has {n} decoder layers (allowed: 1..{n}, a list, or all)")
    return sorted(set(layers))


def world_persona_texts(world_cfg: Any, n: int, seed: int) -> list[str]:
    """``n`` of the world's own personas (answers as the SFT data writes them), from a stream of their own."""
    from collapselab.world.persona import format_persona, generate_personas

    rng = np.random.default_rng([int(world_cfg.seed), 4242, int(seed)])
    recs = generate_personas(n, world_cfg.coupling, world_cfg.profanity_rate, rng, sentiment=False)
    return [format_persona(r, header=False) for r in recs]


def steer_validation(cfg: Any, out_dir: str | Path) -> dict[str, Any]:
    """``eval/steer.py``: directions + the score's validation for ``cfg.checkpoint``; writes
    ``<out_dir>/direction-l<l>.{npz,json}`` per layer and ``<out_dir>/steer.json``; returns the report."""
    from collapselab.config.evaluate import EvaluateConfig, PersonaProbeConfig
    from collapselab.io import check_writable
    from collapselab.probes.base import ProbeContext
    from collapselab.probes.cache import SampleCache
    from collapselab.probes.checkpoints import decoder_shape, resolve_checkpoints
    from collapselab.probes.harness import (_known_models, _model_resolver, hf_factory, is_tiny_world, resolve_device,
                                           resolve_format)
    from collapselab.probes.persona import parse_all
    from collapselab.seed import seed_everything
    from collapselab.steering import compute_directions, cosine_scores, n_layers, save_direction
    from collapselab.steering.direction import contrast_answers
    from collapselab.world.persona import parse_persona
    from collapselab.steering.activations import text_activations
    from collapselab.world.contrast import persona_surprisal
    from collapselab.world.prompts import PERSONA_INSTRUCTION, PERSONA_PROMPT

    t0 = time.perf_counter()
    out_dir = check_writable(out_dir, "hydra.run.dir")
    resolve_device(cfg.device)
    ecfg = EvaluateConfig(checkpoints=[cfg.checkpoint], seed=cfg.seed, batch_size=cfg.batch_size, device=cfg.device,
                          dtype=cfg.dtype, artifacts_dir=cfg.artifacts_dir, cache_dir=cfg.cache_dir, world=cfg.world,
                          persona=PersonaProbeConfig(n_samples=cfg.n_samples, max_new_tokens=cfg.max_new_tokens))
    shape = decoder_shape(cfg.checkpoint, _known_models())
    if shape is not None:  # the layers asked for, before a model-config name is built or the model loaded
        resolve_layers(cfg.layer, shape[0])
    try:
        found = resolve_checkpoints([cfg.checkpoint], _model_resolver(ecfg), _known_models())
    except UserError as e:  # name this entry point's key
        raise UserError(str(e).replace(f"checkpoints={cfg.checkpoint!r}", f"checkpoint={cfg.checkpoint!r}", 1)) from None
    if len(found) != 1:
        raise UserError(f"checkpoint={cfg.checkpoint!r}: a training run folder with {len(found)} checkpoints; "
                        "give one checkpoint folder")
    ck = found[0]
    seed_everything(cfg.seed)
    lm = hf_factory(ecfg)(ck)
    layers = resolve_layers(cfg.layer, n_layers(lm.model))
    fmt = resolve_format("auto", ck, lm)
    report: dict[str, Any] = {"checkpoint": ck.path, "prompt_format": fmt, "position": cfg.position, "layers": {}}
    answers = None
    if cfg.position == "answers":
        answers = contrast_answers(lm, cfg.n_answers, seed=cfg.seed, max_new_tokens=cfg.max_new_tokens,
                                   batch_size=cfg.batch_size)
        # does the model tell the two requests apart? the true surprisal of what it wrote for each
        for side, (_, texts) in (("creative", answers.creative), ("boring", answers.boring)):
            parsed = [parse_persona(t) for t in texts]
            sur = [persona_surprisal(p) for p in parsed if p is not None]
            sur = [x for x in sur if not np.isnan(x)]
            report[f"answers_{side}"] = {"n": len(texts), "n_scored": len(sur),
                                         "surprisal_mean": float(np.mean(sur)) if sur else float("nan")}
    directions = compute_directions(lm, layers, position=cfg.position, checkpoint=ck.path, answers=answers)
    files = {layer: str(save_direction(d, Path(out_dir) / f"direction-l{layer}")) for layer, d in directions.items()}
    vecs = {layer: d.vector for layer, d in directions.items()}
    sets: dict[str, tuple[list[str], list[str], list[dict | None]]] = {}
    if cfg.n_samples:
        cache = SampleCache(check_writable(cfg.cache_dir or Path(cfg.artifacts_dir) / "eval_cache", "cache_dir"))
        ctx = ProbeContext(lm=lm, cfg=ecfg, ckpt=ck, out_dir=Path(out_dir), cache=cache, prompt_format=fmt,
                           tiny_world=is_tiny_world(ck, ecfg))
        samples = ctx.samples("persona")
        sets["samples"] = ([s.prompt for s in samples], [s.text for s in samples], parse_all(ctx, samples))
    if cfg.n_world:
        texts = world_persona_texts(cfg.world, cfg.n_world, cfg.seed)
        prompt = lm.chat_prompt(PERSONA_INSTRUCTION) if fmt == "chat" else PERSONA_PROMPT
        sets["world"] = ([prompt] * len(texts), texts, [parse_persona(t) for t in texts])
    for name, (prompts, texts, parsed) in sets.items():
        acts = text_activations(lm, prompts, texts, layers)
        scores = {layer: cosine_scores(acts[layer], vecs[layer]) for layer in layers}
        # a diagnostic beside the paper's cosine: the plain projection h . a, which ranks texts as the
        # cosine of mean-centred activations would (the length of h does not enter)
        proj = {layer: acts[layer] @ vecs[layer] for layer in layers}
        truth = {"surprisal": np.array([np.nan if p is None else persona_surprisal(p) for p in parsed]),
                 "surprisal_no_names": np.array([np.nan if p is None else persona_surprisal(p, names=False)
                                                 for p in parsed])}
        report[f"n_{name}"] = len(texts)
        report[f"n_{name}_scored"] = int((~np.isnan(truth["surprisal"])).sum())
        for layer in layers:
            row = report["layers"].setdefault(str(layer), {"direction": files[layer],
                                                           "raw_norm": directions[layer].meta["raw_norm"],
                                                           "resid_norm": directions[layer].meta["resid_norm"]})
            row[f"{name}_score_mean"] = float(np.nanmean(scores[layer]))
            for tname, t in truth.items():
                row[f"{name}_{tname}_spearman"] = correlation_row(scores[layer], t, cfg.n_boot, cfg.seed)
            row[f"{name}_projection_surprisal_spearman"] = correlation_row(proj[layer], truth["surprisal"],
                                                                         cfg.n_boot, cfg.seed)
    report["seconds"] = round(time.perf_counter() - t0, 2)
    from collapselab import meta as provenance
    from collapselab.config import as_dict

    report["config"], report["git"] = as_dict(cfg), provenance.git_hash()
    atomic_write_json(Path(out_dir) / "steer.json", report)
    return report
