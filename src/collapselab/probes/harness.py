"""The evaluation harness: checkpoints x probes -> metrics.json, samples.jsonl, figures, one W&B run.

``evaluate(cfg, out_dir)`` resolves ``cfg.checkpoints`` (paths, training run folders, model
names), loads each model once, runs the probes in order and writes, per checkpoint,
``<out_dir>/<checkpoint name>/{metrics.json, samples.jsonl, figures/*.png}`` atomically.
Generated samples are cached under ``<artifacts_dir>/eval_cache`` keyed by the checkpoint's
files and the generation config, so a rerun (or a killed run, rerun) generates only what is
missing. Metrics are written locally before anything goes to W&B. A probe that emits a key the
metric registry does not know (``metrics.resolve``) stops the run with a ValueError naming both.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from collapselab.config import as_dict
from collapselab.errors import UserError
from collapselab.io import atomic_write_json, atomic_write_text, check_writable
from collapselab.metrics.registry import check_keys
from collapselab.probes.base import PROBES, ProbeContext
from collapselab.probes.cache import SampleCache
from collapselab.probes.checkpoints import Checkpoint, decoder_shape, resolve_checkpoints
from collapselab.probes.decoding import Decoding, Steer, check_same_tokenizer, from_config
from collapselab.probes.generation import HFLanguageModel, LanguageModel

LMFactory = Callable[[Checkpoint], LanguageModel]


@dataclass
class EvalReport:
    """What ``evaluate`` returns: per checkpoint name, its metrics dict (with "meta"), and where they went."""

    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    out_dir: Path | None = None
    generated: int = 0  # samples generated in this call (0 when everything came from the cache)


def resolve_device(device: str, key: str = "device") -> str:
    """``auto``: CUDA where torch sees it, else CPU. ``cuda`` where torch cannot use it is a one-line UserError:
    checked when a job starts, on the machine that runs it (a sweep submitted from a login node without a GPU
    to GPU nodes passes its config check)."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        why = "this torch is a CPU build" if torch.version.cuda is None else "it finds no CUDA GPU"
        raise UserError(f"{key}=cuda: torch cannot use CUDA here ({why}); use {key}=cpu or {key}=auto")
    return device


def hf_factory(cfg: Any) -> LMFactory:
    """Load a checkpoint with ``models.load_causal_lm`` (PEFT adapters merged) behind ``HFLanguageModel``."""

    def load(ck: Checkpoint) -> LanguageModel:
        from collapselab.models import load_causal_lm

        model, tok = load_causal_lm(ck.path, dtype=cfg.dtype, device=resolve_device(cfg.device),
                                    artifacts_dir=cfg.artifacts_dir)
        return HFLanguageModel(model, tok, name=ck.name)

    return load


def resolve_format(cfg_format: str, ck: Checkpoint, lm: LanguageModel) -> str:
    """auto: chat when the tokenizer has a chat template and the checkpoint is aligned, else plain.
    verbalized needs a chat template: checked here, before any probe samples (one-line UserError)."""
    if cfg_format == "verbalized" and lm.chat_prompt("x") is None:
        raise UserError(f"prompt_format=verbalized: {ck.name} has no chat template (verbalized sampling asks a "
                        "chat model; use plain or auto)")
    if cfg_format != "auto":
        return cfg_format
    has_template = lm.chat_prompt("x") is not None
    return "chat" if has_template and ck.aligned else "plain"


def _known_models() -> set[str]:
    from collapselab.config.app import CONFIG_DIR

    return {p.stem for p in (Path(CONFIG_DIR) / "model").glob("*.yaml")}


def _model_resolver(cfg: Any) -> Callable[[str], str]:
    def resolve(name: str) -> str:
        from collapselab.models import ensure_base, model_config
        from collapselab.models.pretrain import DocumentsTooLong

        mc = model_config(name)
        try:
            return str(ensure_base(mc, cfg.world, cfg.artifacts_dir))
        except DocumentsTooLong as e:  # its fix names pretraining keys, which no evaluation config has
            n = math.ceil(e.longest / 64) * 64
            raise UserError(f"checkpoints={name!r}: {e}; evaluation cannot set these: build the base with "
                            f"`python training/pretrain.py model={name} seq_len={n} model.max_position_embeddings={n}"
                            f"{_world_args(cfg)}` and pass the folder it prints, checkpoints=[<folder>]") from None

    return resolve


def _world_args(cfg: Any) -> str:
    """`` world.k=v`` for each world setting (and the artifacts folder) where ``cfg`` differs from the default, so
    a pretraining command builds the base on the same world."""
    from collapselab.config.world import WorldConfig

    default = as_dict(WorldConfig())
    args = [f" world.{k}={v}" for k, v in as_dict(cfg.world).items() if v != default.get(k)]
    return "".join(args) + (f" artifacts_dir={cfg.artifacts_dir}" if str(cfg.artifacts_dir) != "artifacts" else "")


def is_tiny_world(ck: Checkpoint, cfg: Any) -> bool:
    """True when the checkpoint lives under the artifacts folder or is a tiny model config (world truth applies)."""
    if (ck.model_name or "").startswith("tiny"):
        return True
    try:
        Path(ck.path).resolve().relative_to(Path(cfg.artifacts_dir).resolve())
        return True
    except ValueError:
        return False


def check_decoding_bases(cfg: Any, checkpoints: list[Checkpoint]) -> None:
    """Before anything runs: with ``decoding=conformative decoding.base=auto`` every checkpoint must
    name its base model (``base_model`` in its collapselab.json), else one UserError naming them."""
    d = cfg.decoding
    if d.method != "conformative" or d.base != "auto":
        return
    missing = [ck.name for ck in checkpoints if not ck.base_model]
    if missing:
        raise UserError(f"decoding.base=auto: {', '.join(missing)} name(s) no base model (no base_model in "
                        "collapselab.json); give decoding.base=<checkpoint path or model name>")


def check_arguments(cfg: Any, specs: list[str]) -> None:
    """Before any checkpoint is resolved (a model-config name builds the world and pretrains its base) or
    loaded: the direction files of ``decoding=steer`` and ``creativity.direction`` exist and were computed at
    the layer asked for, a ``decoding.base`` folder exists, and every layer steered or scored (and each
    direction's size) fits every checkpoint whose config files tell its shape (``decoder_shape``)."""
    from collapselab.probes.creativity import creativity_direction
    from collapselab.steering import check_layer_of

    resolve_device(cfg.device)
    known = _known_models()
    d, c = cfg.decoding, cfg.creativity
    layers: list[tuple[str, int]] = []  # (key, layer)
    directions: list[tuple[str, Any]] = []  # (key=file, Direction)
    if d.method == "steer":
        layers.append(("decoding.layer", d.layer))
        if str(d.direction) != "auto":
            directions.append((f"decoding.direction={d.direction!r}", steer_direction(d)))
    if "creativity" in cfg.probes and str(c.direction) != "auto":
        a = creativity_direction(c)
        layers.append(("creativity.direction's layer", a.layer))
        directions.append((f"creativity.direction={c.direction!r}", a))
    elif "creativity" in cfg.probes and c.layer is not None:
        layers.append(("creativity.layer", c.layer))
    if d.method == "conformative" and d.base != "auto" and d.base not in known:  # a model-config name: built later
        try:
            resolve_checkpoints([str(d.base)], None, known)
        except UserError as e:
            raise UserError(str(e).replace(f"checkpoints={d.base!r}", f"decoding.base={d.base!r}", 1)) from None
    for spec in specs if layers else []:
        shape = decoder_shape(spec, known)
        if shape is None:  # checked when the model is loaded
            continue
        n, hidden = shape
        for key, layer in layers:
            check_layer_of(n, layer, key, spec)
        for key, a in directions:
            if a.vector.shape != (hidden,):
                raise UserError(f"{key}: a vector of {a.vector.shape[0]} dimensions, but {spec}'s hidden size is {hidden}")


def steer_direction(d: Any) -> Any:
    """``decoding.direction``'s file loaded (``d``: the ``decoding`` config), refused unless computed at ``decoding.layer``."""
    from collapselab.steering import load_direction_at

    return load_direction_at(d.direction, "decoding.direction", d.layer, "decoding.layer",
                             f" (steer at that layer, or compute one with eval/steer.py layer={d.layer})")


def build_decoding(cfg: Any, ck: Checkpoint, lm: LanguageModel,
                   load: Callable[[str], LanguageModel]) -> Decoding | None:
    """The checkpoint's ``probes.decoding.Decoding`` (None for the probes' own plain sampling).

    Conformative: ``decoding.base`` (``auto``: the checkpoint's ``pretrained_base``, the pretrained model at the
    root of its lineage, as Mind the Gap guides an instruct model with its own base) is resolved as a
    ``checkpoints=`` entry is, loaded with ``load`` (shared with quality's base model) and must use
    the checkpoint's tokenizer (a one-line UserError naming decoding.base otherwise).
    """
    from collapselab.world import prompts as wp

    d = cfg.decoding
    if d.method == "steer":
        return from_config(d, steer=build_steer(d, ck, lm))
    if d.method != "conformative":
        dec = from_config(d)
        return None if dec.cache_key() is None and dec.temperature is None else dec
    spec = str(ck.pretrained_base if d.base == "auto" else d.base)
    try:
        found = resolve_checkpoints([spec], _model_resolver(cfg), _known_models())
    except UserError as e:
        raise UserError(str(e).replace(f"checkpoints={spec!r}", f"decoding.base={spec!r}", 1)) from None
    if len(found) != 1:
        raise UserError(f"decoding.base={spec!r}: a training run folder with {len(found)} checkpoints; "
                        "give one checkpoint folder")
    base = load(found[0].path)
    probe_texts = [wp.PERSONA_PROMPT, wp.PERSONA_INSTRUCTION, wp.BIO_PROMPT, wp.STEVE_PROMPT]
    check_same_tokenizer(lm, base, probe_texts, spec)
    return from_config(d, base=base, base_path=found[0].path, base_fingerprint=found[0].fingerprint)


def build_steer(d: Any, ck: Checkpoint, lm: LanguageModel) -> Steer:
    """``decoding=steer``'s ``Steer`` for this checkpoint: ``decoding.layer`` checked against the model's
    decoder layers, the direction loaded from ``decoding.direction`` (it must have been computed at that
    layer, for this hidden size) or, with ``auto``, computed from the world's contrastive requests."""
    from collapselab.steering import check_layer, compute_directions

    model = getattr(lm, "model", None)
    if model is None:
        raise UserError(f"decoding=steer: {ck.name} is not a Hugging Face model (steering hooks its layers)")
    layer = check_layer(model, d.layer, "decoding.layer")
    if str(d.direction) == "auto":
        direction = compute_directions(lm, [layer], checkpoint=ck.path)[layer]
    else:
        direction = steer_direction(d)
    hidden = int(model.config.get_text_config(decoder=True).hidden_size)
    if direction.vector.shape != (hidden,):
        raise UserError(f"decoding.direction={d.direction!r}: a vector of {direction.vector.shape[0]} dimensions, "
                        f"but {ck.name}'s hidden size is {hidden}")
    return Steer(layer, float(d.scale), direction.vector, direction.fingerprint, str(d.direction))


def _finite(metrics: dict[str, Any]) -> tuple[dict[str, float], list[str]]:
    """Split into finite numbers (kept) and the names of undefined (nan/inf) ones."""
    keep, undefined = {}, []
    for k, v in metrics.items():
        if v is None or (isinstance(v, float) and not math.isfinite(v)):
            undefined.append(k)
        else:
            keep[k] = float(v)
    return keep, undefined


def evaluate(
    cfg: Any,
    out_dir: str | Path,
    lm_factory: LMFactory | None = None,
    checkpoints: list[Checkpoint] | None = None,
) -> EvalReport:
    """Run ``cfg.probes`` on every checkpoint; write results under ``out_dir``; log one W&B run."""
    from collapselab import meta as provenance
    from collapselab.probes import figures
    from collapselab.seed import seed_everything
    from collapselab.tracking import Tracker

    out_dir = check_writable(out_dir, "hydra.run.dir")
    cache = SampleCache(check_writable(cfg.cache_dir or Path(cfg.artifacts_dir) / "eval_cache", "cache_dir"))
    for p in cfg.probes:
        if p not in PROBES:
            raise UserError(f"probes={p!r}: unknown probe (allowed: {', '.join(PROBES)})")
    check_arguments(cfg, cfg.checkpoints if checkpoints is None else [ck.path for ck in checkpoints])
    if checkpoints is None:
        checkpoints = resolve_checkpoints(cfg.checkpoints, _model_resolver(cfg), _known_models())
    check_decoding_bases(cfg, checkpoints)
    lm_factory = lm_factory or hf_factory(cfg)
    report = EvalReport(out_dir=Path(out_dir))
    resolved = as_dict(cfg)
    tracker = Tracker(cfg.logger, out_dir, name="evaluate", config=resolved, job_type="eval")
    # curves against training step only when steps increase along the evaluation order
    steps = [ck.step for ck in checkpoints]
    by_step = all(s is not None for s in steps) and all(a < b for a, b in zip(steps, steps[1:]))
    entropy_boxes: dict[str, list[float]] = {}
    table_rows: list[tuple[str, dict[str, float]]] = []
    base_lms: dict[str, LanguageModel] = {}
    try:
        for i, ck in enumerate(checkpoints):
            t0 = time.perf_counter()
            seed_everything(cfg.seed)
            lm = lm_factory(ck)

            def load_base(path: str) -> LanguageModel:
                if path not in base_lms:
                    base_lms[path] = lm_factory(Checkpoint(spec=path, path=path, name="base"))
                return base_lms[path]

            ck_dir = Path(out_dir) / ck.name
            ck_dir.mkdir(parents=True, exist_ok=True)
            fmt = resolve_format(cfg.prompt_format, ck, lm)
            decoding = build_decoding(cfg, ck, lm, load_base)
            ctx = ProbeContext(lm=lm, cfg=cfg, ckpt=ck, out_dir=ck_dir, cache=cache, prompt_format=fmt,
                               loader=load_base, tiny_world=is_tiny_world(ck, cfg), decoding=decoding)
            before = cache.generated
            metrics: dict[str, Any] = {}
            rows: list[dict] = []
            figs: dict[str, Path] = {}
            probe_seconds: dict[str, float] = {}
            for name in cfg.probes:
                tp = time.perf_counter()
                res = PROBES[name].fn(ctx)
                probe_seconds[name] = round(time.perf_counter() - tp, 3)
                check_keys(res.metrics, name)  # every key registered (DESIGN.md), checked before anything is written
                metrics.update(res.metrics)
                rows += res.samples
                figs.update(res.figures)
                if name == "entropy":
                    entropy_boxes[ck.name] = res.data.get("top5_bits", [])
            flat, undefined = _finite(metrics)
            out = dict(flat)
            out["meta"] = {
                **ck.meta(),
                "prompt_format": fmt,
                "decoding_base": decoding.base_path if decoding is not None and decoding.base is not None else None,
                "decoding_steer": None if decoding is None or decoding.steer is None else {
                    **decoding.steer.key(), "source": decoding.steer.source},
                "probes": list(cfg.probes),
                "config": resolved,
                "seed": cfg.seed,
                "sample_counts": dict(ctx.counts),
                "generated": cache.generated - before,
                "undefined_metrics": undefined,
                "notes": list(ctx.memo.get("notes", [])),  # e.g. metrics a prompt format cannot provide
                "probe_seconds": probe_seconds,
                "seconds": round(time.perf_counter() - t0, 3),
                "git": provenance.git_hash(),
                "versions": provenance.package_versions(),
            }
            atomic_write_text(ck_dir / "samples.jsonl", "".join(json.dumps(r, default=str) + "\n" for r in rows))
            atomic_write_json(ck_dir / "metrics.json", out)
            report.results[ck.name] = out
            table_rows.append((ck.name, flat))
            step = ck.step if by_step else i
            tracker.log({f"eval/{k}": v for k, v in flat.items()} | {"eval/train_step": ck.step or 0}, step=step)
            tracker.log_images({f"eval/{ck.name}/{k}": p for k, p in figs.items()}, step=step)
        if entropy_boxes:
            box = figures.entropy_boxplot(entropy_boxes, Path(out_dir) / "entropy_boxplot.png")
            tracker.log_images({"eval/entropy/boxplot": box})
        keys = sorted({k for _, m in table_rows for k in m})
        tracker.log_table("eval/checkpoints", ["checkpoint", *keys],
                          [[n, *[m.get(k) for k in keys]] for n, m in table_rows])
        tracker.summary({f"eval/{n}/{k}": v for n, m in table_rows for k, v in m.items()})
    finally:
        tracker.finish()
    report.generated = cache.generated
    atomic_write_json(Path(out_dir) / "summary.json", {n: {k: v for k, v in m.items() if k != "meta"}
                                                        for n, m in report.results.items()})
    return report
