"""Find and load causal LMs: the lab's tiny base, any HF folder, a PEFT adapter folder, a hub name.

``ensure_base`` is what every stage calls to get its starting model; ``load_causal_lm`` is
what evaluation and the alignment stages call to load one.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from collapselab.config.align import check_model_folder
from collapselab.config.align import looks_like_path as _looks_like_path
from collapselab.config.app import CONFIG_DIR, collect_problems, compose
from collapselab.config.model import ModelConfig
from collapselab.config.world import WorldConfig
from collapselab.errors import UserError
from collapselab.models.pretrain import pretrain

DTYPES = {"float32": "float32", "bfloat16": "bfloat16", "float16": "float16"}


def pretrain_config(model_cfg: ModelConfig, world_cfg: Any, artifacts_dir: str | Path,
                    overrides: list[str] | None = None) -> Any:
    """The ``PretrainConfig`` that builds ``model_cfg``'s base: configs/pretrain.yaml + ``overrides``,
    with this model, world and artifacts folder. ``steps`` and ``seq_len`` follow the model config
    (``pretrain_steps``, ``max_position_embeddings``) and so does ``seed`` (``pretrain_seed``) unless overridden."""
    overrides = list(overrides or [])
    cfg = compose("pretrain", overrides)
    given = {o.split("=", 1)[0].lstrip("+~") for o in overrides}
    cfg = dataclasses.replace(cfg, model=model_cfg, world=world_cfg, artifacts_dir=str(artifacts_dir))
    if "steps" not in given:
        cfg.steps = model_cfg.pretrain_steps
    if "seq_len" not in given:
        cfg.seq_len = model_cfg.max_position_embeddings
    if "seed" not in given:
        cfg.seed = model_cfg.pretrain_seed
    if "logger" not in given and not any(k.startswith("logger.") for k in given):
        # built on demand inside another stage: the loss curve stays in collapselab.json and
        # base/<hash>.log/history.jsonl; no second W&B run inside the caller's
        cfg.logger = dataclasses.replace(cfg.logger, backend="none")
    problems = collect_problems(cfg)
    if problems:
        raise UserError("; ".join(problems))
    return cfg


def ensure_base(model_cfg: ModelConfig, world_cfg: Any, artifacts_dir: str | Path,
                pretrain_overrides: list[str] | None = None, *, world: Any = None,
                progress: bool = True) -> Path | str:
    """The base checkpoint for ``model_cfg``.

    The tiny model (``name_or_path`` null): its pretrained folder under ``artifacts_dir``,
    pretraining it first if missing (``pretrain_overrides``: e.g. ``["steps=30"]``; ``world``:
    an already loaded world DatasetDict). Otherwise a local folder (checked: it must hold a
    model) or a hub name, returned as given (a ``str`` for a hub name).
    """
    if model_cfg.name_or_path is None:
        cfg = pretrain_config(model_cfg, world_cfg, artifacts_dir, pretrain_overrides)
        return pretrain(cfg, world=world, progress=progress)
    name = str(model_cfg.name_or_path)
    if _looks_like_path(name):
        return check_model_folder(name)
    return name


def _torch_dtype(dtype: str) -> Any:
    import torch

    if dtype not in DTYPES:
        raise UserError(f"dtype={dtype!r}: must be one of {', '.join(DTYPES)}")
    return getattr(torch, DTYPES[dtype])


def prepare_tokenizer(tokenizer: Any) -> Any:
    """Make a tokenizer ready for batched generation: a pad token (pad, else unk, else eos) and left padding."""
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.unk_token if tokenizer.unk_token is not None else tokenizer.eos_token
    tokenizer.padding_side = "left"
    return tokenizer


def _model_config_names() -> list[str]:
    return sorted(p.stem for p in (Path(CONFIG_DIR) / "model").glob("*.yaml"))


def model_config(name: str, overrides: list[str] | None = None) -> ModelConfig:
    """``configs/model/<name>.yaml`` as a validated ``ModelConfig`` (``overrides``: ``key=value`` strings)."""
    from omegaconf import OmegaConf

    names = _model_config_names()
    if name not in names:
        raise UserError(f"model={name} is unknown (available: {', '.join(names)})")
    try:
        node = OmegaConf.merge(OmegaConf.structured(ModelConfig),
                               OmegaConf.load(Path(CONFIG_DIR) / "model" / f"{name}.yaml"),
                               OmegaConf.from_dotlist(list(overrides or [])))
        cfg = OmegaConf.to_object(node)
    except Exception as e:  # noqa: BLE001 - any merge error becomes one line naming the key
        raise UserError(f"model={name}: {_first_line(e)}") from None
    problems = collect_problems(cfg, "model.")
    if problems:
        raise UserError("; ".join(problems))
    return cfg


def _resolve_config_name(name: str, artifacts_dir: str | Path) -> Path | str:
    """A model-config name (``tiny``, ``llama2_7b``) -> its base folder (built if missing) or hub name."""
    model_cfg = model_config(name)
    world_cfg = None
    if model_cfg.is_tiny:
        world_cfg = WorldConfig()
    return ensure_base(model_cfg, world_cfg, artifacts_dir)


def _load_folder(folder: Path, torch_dtype: Any, device: str) -> tuple[Any, Any]:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if (folder / "adapter_config.json").is_file():
        return _load_adapter(folder, torch_dtype, device)
    try:
        model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch_dtype)
        tok = AutoTokenizer.from_pretrained(folder)
    except (OSError, ValueError) as e:
        raise UserError(f"checkpoint={str(folder)!r}: cannot be loaded as a causal LM ({_first_line(e)})") from None
    return model.to(device), tok


def _load_adapter(folder: Path, torch_dtype: Any, device: str) -> tuple[Any, Any]:
    """A PEFT adapter folder: load the base it names, attach the adapter, merge it (fast evaluation)."""
    from peft import PeftModel
    from transformers import AutoTokenizer

    base_name = json.loads((folder / "adapter_config.json").read_text()).get("base_model_name_or_path")
    if not base_name:
        raise UserError(f"checkpoint={str(folder)!r}: adapter_config.json names no base_model_name_or_path")
    base, base_tok = _load_any(str(base_name), torch_dtype, device, key=f"base model of {folder}")
    try:
        model = PeftModel.from_pretrained(base, folder).merge_and_unload()
    except (OSError, ValueError, RuntimeError) as e:
        raise UserError(f"checkpoint={str(folder)!r}: adapter does not fit its base {base_name!r} "
                        f"({_first_line(e)})") from None
    tok = AutoTokenizer.from_pretrained(folder) if (folder / "tokenizer_config.json").is_file() else base_tok
    return model.to(device), tok


def _first_line(e: BaseException) -> str:
    s = str(e).strip()
    return s.splitlines()[0] if s else type(e).__name__


def run_model(path: str | Path, key: str = "checkpoint") -> Path:
    """The model folder a path names: a run's ``checkpoints/latest`` pointer, the checkpoint it points at; a
    finished training run folder, its final checkpoint (as ``eval/evaluate.py`` and ``eval/steer.py`` read them);
    any other path, itself. An unfinished run is a one-line UserError saying what to name."""
    from collapselab.layout import final_model, is_latest_pointer, latest_checkpoint

    p = Path(path).expanduser()
    if is_latest_pointer(p):
        ckpt = latest_checkpoint(p.parent.parent)
        if ckpt is None:
            raise UserError(f"{key}={str(path)!r}: points at no complete checkpoint")
        return ckpt
    if p.is_dir() and (p / "checkpoints").is_dir() and not (p / "config.json").is_file():
        try:
            return final_model(p)
        except UserError:
            raise UserError(f"{key}={str(path)!r}: a training run that has not finished; name one of its "
                            "checkpoints/step-* folders") from None
    return p


def _load_any(path_or_name: str, torch_dtype: Any, device: str, key: str = "checkpoint",
              artifacts_dir: str | Path = "artifacts") -> tuple[Any, Any]:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if _looks_like_path(path_or_name):
        return _load_folder(check_model_folder(run_model(path_or_name, key), key), torch_dtype, device)
    if path_or_name in _model_config_names():
        resolved = _resolve_config_name(path_or_name, artifacts_dir)
        return _load_any(str(resolved), torch_dtype, device, key=f"model={path_or_name}")
    try:  # a hub name: works only where the weights are cached (HF_HUB_OFFLINE=1 never downloads)
        model = AutoModelForCausalLM.from_pretrained(path_or_name, dtype=torch_dtype)
        tok = AutoTokenizer.from_pretrained(path_or_name)
    except (OSError, ValueError) as e:
        raise UserError(
            f"{key}={path_or_name!r}: not a folder, a model config ({', '.join(_model_config_names())}) "
            f"or a cached hub model ({_first_line(e)})") from None
    return model.to(device), tok


def load_causal_lm(path_or_name: str | Path, dtype: str = "float32", device: str = "cpu",
                   artifacts_dir: str | Path = "artifacts") -> tuple[Any, Any]:
    """Load ``(model, tokenizer)`` for evaluation or further training.

    ``path_or_name``: an HF model folder; a PEFT adapter folder (its base loaded, the adapter
    merged); a model-config name from ``configs/model`` (``tiny`` -> the pretrained tiny base
    under ``artifacts_dir``, built if missing; ``llama2_7b`` -> its hub name); or a hub name
    (cached weights only when offline). The model is in eval mode; the tokenizer has a pad
    token and pads on the left. Bad input is a one-line UserError naming the path.
    """
    model, tok = _load_any(str(path_or_name), _torch_dtype(dtype), device, artifacts_dir=artifacts_dir)
    tok = prepare_tokenizer(tok)
    if model.config.pad_token_id is None:
        model.config.pad_token_id = tok.pad_token_id
    if getattr(model, "generation_config", None) is not None and model.generation_config.pad_token_id is None:
        model.generation_config.pad_token_id = tok.pad_token_id
    model.eval()
    return model, tok
