"""Turn ``checkpoints=[...]`` entries into named, loadable checkpoints.

An entry is a training run folder (``<artifacts>/<algo>/<hash>/`` with ``checkpoints/step-*``:
all complete checkpoints in step order), a single checkpoint folder (HF model or PEFT
adapter), a model-config name (``configs/model/<name>.yaml``), or a hub name (``org/model``)
when the hub is reachable. Anything else is a one-line UserError.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from collapselab.errors import UserError
from collapselab.layout import CHAT_ALGOS, is_latest_pointer, latest_checkpoint, pretrained_root, read_meta

_MODEL_FILES = ("config.json", "adapter_config.json")

# an instruction-tuned model's name: "chat" or "instruct" anywhere, or "it" as one part of it (gemma's "-it")
_INSTRUCT_NAME = re.compile(r"chat|instruct|(?:^|[-_.])it(?:$|[-_.])", re.IGNORECASE)


@dataclass
class Checkpoint:
    """A checkpoint to evaluate. ``name`` is unique within a run and safe as a folder name."""

    spec: str  # what the user wrote
    path: str  # folder, or a hub / model-config-resolved name
    name: str
    step: int | None = None
    algo: str | None = None
    beta: float | None = None
    base_model: str | None = None
    model_name: str | None = None
    run: str | None = None  # the training run folder it came from, if any
    fingerprint: str = ""  # path + file sizes and mtimes: the sample cache key

    @property
    def aligned(self) -> bool:
        """True for checkpoints of the runs trained on chats (``layout.CHAT_ALGOS``: SFT, RS, PPO, DPO) and for models
        whose name says so: "chat" or "instruct" in it, or "it" as a part of it ("Llama-2-7b-chat-hf",
        "Qwen2.5-0.5B-Instruct", "gemma-2-2b-it"). Such a model is never scored as its own base."""
        if self.algo in CHAT_ALGOS:
            return True
        return any(_INSTRUCT_NAME.search(s or "") for s in (self.model_name, self.spec, Path(self.path).name))

    @property
    def pretrained_base(self) -> str | None:
        """The pretrained model at the root of this checkpoint's lineage (``layout.pretrained_root`` of
        ``base_model``, the model its run started from: RS for the lab's PPO and DPO); None when it names none."""
        return pretrained_root(self.base_model) if self.base_model else None

    def meta(self) -> dict:
        return {
            "checkpoint": self.path,
            "spec": self.spec,
            "name": self.name,
            "step": self.step,
            "algo": self.algo,
            "beta": self.beta,
            "base_model": self.base_model,
            "model_name": self.model_name,
            "run": self.run,
        }


def safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._") or "model"


def fingerprint(path: str | Path) -> str:
    """Hash of a folder's path and its files' names, sizes and mtimes (a changed checkpoint gets a new key)."""
    p = Path(path)
    h = hashlib.sha256(str(p.resolve() if p.exists() else path).encode())
    if p.is_dir():
        for f in sorted(p.rglob("*")):
            if f.is_file():
                st = f.stat()
                h.update(f"{f.relative_to(p)}:{st.st_size}:{st.st_mtime_ns}".encode())
    return h.hexdigest()[:16]


def holds_model(path: Path) -> bool:
    return path.is_dir() and any((path / f).is_file() for f in _MODEL_FILES)


def _from_folder(spec: str, path: Path, run: Path | None = None) -> Checkpoint:
    meta = read_meta(path)
    step = meta.get("step")
    algo = meta.get("algo")
    beta = meta.get("beta")
    if algo is not None and step is not None:
        name = f"{algo}-b{beta:g}-step{int(step):06d}" if beta is not None else f"{algo}-step{int(step):06d}"
    elif run is not None:
        name = f"{run.name}-{path.name}"
    else:
        name = path.name
    return Checkpoint(
        spec=spec,
        path=str(path),
        name=safe_name(name),
        step=None if step is None else int(step),
        algo=algo,
        beta=None if beta is None else float(beta),
        base_model=meta.get("base_model"),
        model_name=meta.get("model_name"),
        run=str(run) if run is not None else None,
        fingerprint=fingerprint(path),
    )


def _run_checkpoints(spec: str, run: Path) -> list[Checkpoint]:
    """All complete ``checkpoints/step-*`` folders of a training run, in step order."""
    folders = [p for p in (run / "checkpoints").glob("step-*") if holds_model(p)]
    if not folders:
        raise UserError(f"checkpoints={spec!r}: training run folder holds no complete checkpoints/step-* folder")
    cks = [_from_folder(spec, p, run) for p in folders]
    return sorted(cks, key=lambda c: (c.step if c.step is not None else -1, c.name))


def resolve_checkpoints(
    specs: list[str], model_resolver: Callable[[str], str] | None = None, known_models: set[str] | None = None
) -> list[Checkpoint]:
    """Resolve every entry; names are made unique (``-2``, ``-3`` suffixes) in order.

    ``model_resolver(name) -> path`` turns a model-config name into a loadable path (``ensure_base``).
    """
    out: list[Checkpoint] = []
    for spec in specs:
        p = Path(spec).expanduser()
        if is_latest_pointer(p):
            p = latest_checkpoint(p.parent.parent) or p
        if p.is_dir() and (p / "checkpoints").is_dir():
            out += _run_checkpoints(spec, p)
        elif p.exists():
            if not holds_model(p):
                raise UserError(
                    f"checkpoints={spec!r}: holds no model (expected config.json or adapter_config.json, "
                    "or a training run folder with checkpoints/)"
                )
            out.append(_from_folder(spec, p))
        elif known_models is not None and spec in known_models and model_resolver is not None:
            path = str(model_resolver(spec))
            ck = _from_folder(spec, Path(path)) if Path(path).is_dir() else Checkpoint(spec, path, safe_name(spec))
            ck.name, ck.model_name = safe_name(spec), ck.model_name or spec
            ck.fingerprint = ck.fingerprint or fingerprint(path)
            out.append(ck)
        elif _looks_like_hub_name(spec) and (not _hub_offline() or _in_hub_cache(spec)):
            out.append(Checkpoint(spec=spec, path=spec, name=safe_name(spec), fingerprint=fingerprint(spec)))
        else:
            names = ", ".join(sorted(known_models or [])) or "none"
            hub = (" or a hub model in the local HF cache (HF_HUB_OFFLINE=1: nothing is downloaded)"
                   if _looks_like_hub_name(spec) else "")
            raise UserError(
                f"checkpoints={spec!r}: no such checkpoint folder, not a model-config name (known: {names}){hub}"
            )
    seen: dict[str, int] = {}
    for ck in out:
        n = seen.get(ck.name, 0) + 1
        seen[ck.name] = n
        if n > 1:
            ck.name = f"{ck.name}-{n}"
    return out


def _hub_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "0").lower() in ("1", "true", "yes", "on")


def _in_hub_cache(repo_id: str) -> bool:
    """Whether a hub model's ``config.json`` is in the local HF cache (``HF_HUB_CACHE``), so it loads offline."""
    from huggingface_hub import try_to_load_from_cache

    try:
        return isinstance(try_to_load_from_cache(repo_id, "config.json"), str)
    except ValueError:  # not a valid repo id after all
        return False


def _looks_like_hub_name(spec: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", spec)) and not spec.startswith((".", "/"))


def decoder_shape(spec: str, known_models: set[str] | None = None) -> tuple[int, int] | None:
    """``(decoder layers, hidden size)`` of a ``checkpoints=`` entry from its config files alone, so arguments
    that depend on them are checked before a base is built or a model loaded; None where only a build or a
    download would tell."""
    p = Path(spec).expanduser()
    if is_latest_pointer(p):
        p = latest_checkpoint(p.parent.parent) or p
    if p.is_dir() and (p / "checkpoints").is_dir():  # a run: its checkpoints share one architecture
        p = next((f for f in sorted((p / "checkpoints").glob("step-*")) if holds_model(f)), p)
    if (p / "adapter_config.json").is_file():
        base = json.loads((p / "adapter_config.json").read_text()).get("base_model_name_or_path")
        return decoder_shape(str(base), known_models) if base and str(base) != spec else None
    if not (p / "config.json").is_file() and known_models is not None and spec in known_models:
        from collapselab.models import model_config

        mc = model_config(spec)
        return (mc.num_layers, mc.hidden_size) if mc.is_tiny else decoder_shape(str(mc.name_or_path), known_models)
    if (p / "config.json").is_file() or (not p.exists() and _looks_like_hub_name(spec)):
        from transformers import AutoConfig

        try:  # local files only: a hub model counts when its config is cached
            c = AutoConfig.from_pretrained(str(p) if p.exists() else spec, local_files_only=True)
            c = c.get_text_config(decoder=True)
            return int(c.num_hidden_layers), int(c.hidden_size)
        except Exception:  # noqa: BLE001 - unknown here: loading the model reports it
            return None
    return None
