"""The checkpoint layout every stage writes and every reader reads (one owner).

A training run folder is ``<artifacts_dir>/<algo>/<config hash>/``::

    checkpoints/step-000040/   complete, loadable by collapselab.models.load_causal_lm
                 collapselab.json  {"algo", "beta", "step", "base_model", "model_name"}
    checkpoints/latest         text: the newest complete checkpoint's folder name
    trainer/                   the library trainer's own resumable state (optimizer, RNG, ...)
    done.json                  written last, when the run finished; prerequisites check it

A pretrained base is one folder with the model, its tokenizer and ``collapselab.json``
(``n_params``, the loss curve, ...). ``read_meta`` reads that file for any checkpoint.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from collapselab.errors import UserError
from collapselab.io import atomic_dir, atomic_write_json, atomic_write_text

CHECKPOINT_RE = re.compile(r"^step-(\d{6,})$")
META_FILE = "collapselab.json"
DONE_FILE = "done.json"
# the collapselab.json ``algo`` of the runs trained on chats: their checkpoints answer in the chat format
# (probes.harness.resolve_format); a pretrained base ("pretrain") continues plain prompts
CHAT_ALGOS = ("sft", "rs", "ppo", "dpo")


def read_meta(folder: str | Path) -> dict[str, Any]:
    """The ``collapselab.json`` a lab checkpoint carries (empty dict if it has none)."""
    f = Path(folder) / META_FILE
    if not f.is_file():
        return {}
    try:
        return json.loads(f.read_text())
    except json.JSONDecodeError as e:
        raise UserError(f"checkpoint={str(folder)!r}: {META_FILE} is not valid JSON ({e})") from None


def pretrained_root(path: str | Path) -> str:
    """The pretrained model at the root of a checkpoint's lineage. ``collapselab.json``'s ``base_model`` names the
    model a run was trained from (PPO from RS, RS from SFT, SFT from the base); this follows it until a model
    names none (a pretrained base, a hub name). A cycle stops where it closes."""
    cur, seen = str(path), set()
    while cur not in seen:
        seen.add(cur)
        parent = read_meta(cur).get("base_model")
        if not parent:
            break
        cur = str(parent)
    return cur


def checkpoint_name(step: int) -> str:
    return f"step-{step:06d}"


def latest_checkpoint(run: Path) -> Path | None:
    """The newest complete checkpoint of a run folder (via ``checkpoints/latest``), or None."""
    pointer = Path(run) / "checkpoints" / "latest"
    if not pointer.is_file():
        return None
    path = pointer.parent / pointer.read_text().strip()
    return path if path.is_dir() else None


def is_latest_pointer(path: Path) -> bool:
    """Whether ``path`` is a run's ``checkpoints/latest`` file (``latest_checkpoint`` reads the step it names)."""
    return path.is_file() and path.name == "latest" and path.parent.name == "checkpoints"


def checkpoint_step(path: Path) -> int:
    m = CHECKPOINT_RE.match(Path(path).name)
    if not m:
        raise UserError(f"checkpoint={str(path)!r}: not a step-NNNNNN checkpoint folder")
    return int(m.group(1))


def list_checkpoints(run: Path) -> list[Path]:
    """Complete checkpoints of a run folder in step order (temporary folders are skipped)."""
    root = Path(run) / "checkpoints"
    if not root.is_dir():
        return []
    return sorted((p for p in root.iterdir() if p.is_dir() and CHECKPOINT_RE.match(p.name)), key=checkpoint_step)


def is_done(run: Path) -> bool:
    return (Path(run) / DONE_FILE).is_file()


def mark_done(run: Path, info: dict[str, Any]) -> None:
    atomic_write_json(Path(run) / DONE_FILE, info)


def final_model(run: Path) -> Path:
    """The finished run's last checkpoint (what downstream stages load)."""
    ckpt = latest_checkpoint(run)
    if not is_done(run) or ckpt is None:
        raise UserError(f"run={str(run)!r}: not finished (no done.json or no checkpoint)")
    return ckpt


def save_checkpoint(run: Path, step: int, save_fn: Callable[[Path], None], meta: dict[str, Any]) -> Path:
    """Write ``checkpoints/step-XXXXXX`` atomically (``save_fn(tmp_dir)`` fills it), then move ``latest``.

    ``latest`` changes only after the folder is complete, so a kill at any moment leaves the
    previous checkpoint as the one resume and evaluation see.
    """
    path = Path(run) / "checkpoints" / checkpoint_name(step)
    with atomic_dir(path) as tmp:
        save_fn(tmp)
        atomic_write_json(tmp / META_FILE, {**meta, "step": step})
    atomic_write_text(path.parent / "latest", path.name + "\n")
    return path
