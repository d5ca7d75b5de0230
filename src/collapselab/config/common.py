"""Schema pieces shared by every entry point, and small checks that ``problems()`` methods use.

A schema dataclass may define ``problems(self) -> list[str]``; each string starts with the
field name (the walker prefixes the dotted path), e.g. ``"beta=-1.0: must be >= 0"``.
"""

from __future__ import annotations

import errno
import math
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def positive(name: str, value: float | int, *, strict: bool = True) -> list[str]:
    """``[]`` if value > 0 (or >= 0 when ``strict=False``), else one problem line."""
    ok = isinstance(value, (int, float)) and not math.isnan(value) and (value > 0 if strict else value >= 0)
    return [] if ok else [f"{name}={value!r}: must be {'>' if strict else '>='} 0"]


# the largest seed numpy's legacy seeding takes (np.random.seed, which collapselab.seed.seed_everything calls)
SEED_MAX = 2**32 - 1


def seed_range(name: str, value: Any, *, legacy: bool = True) -> list[str]:
    """``[]`` if ``value`` is a seed the code can use, else one problem line: an integer from 0 to ``SEED_MAX``
    where it reaches ``seed_everything`` (``legacy``), else (``numpy.random.default_rng`` alone) any integer >= 0."""
    ok = isinstance(value, int) and not isinstance(value, bool) and 0 <= value and (value <= SEED_MAX or not legacy)
    allowed = f"an integer from 0 to {SEED_MAX} (2**32 - 1, numpy's seed range)" if legacy else "an integer >= 0"
    return [] if ok else [f"{name}={value!r}: must be {allowed}"]


def between(name: str, value: float | int, lo: float, hi: float) -> list[str]:
    ok = isinstance(value, (int, float)) and lo <= value <= hi
    return [] if ok else [f"{name}={value!r}: must be between {lo} and {hi}"]


def choice(name: str, value: Any, allowed: list[Any] | tuple[Any, ...]) -> list[str]:
    return [] if value in allowed else [f"{name}={value!r}: must be one of {', '.join(map(str, allowed))}"]


def writable(name: str, path: str | Path) -> list[str]:
    """``[]`` if ``path`` can be made a folder to write in, else one problem line. Creates nothing (for checks
    before a run, when the folder must not appear yet): it writes and removes a probe file in the nearest
    folder of ``path`` that exists."""
    near = Path(path).absolute()
    while not near.exists() and near != near.parent:
        near = near.parent
    try:
        if not near.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR))
        with tempfile.NamedTemporaryFile(dir=near, prefix=".probe."):
            pass
    except OSError as e:  # the wording of io.check_writable, which makes the folder when a stage runs
        return [f"{name}={str(path)!r} is not a writable folder ({e.strerror or e})"]
    return []


@dataclass
class LoggerConfig:
    """Where metrics go besides the local JSON files. ``logger=none`` turns W&B off."""

    backend: str = "wandb"  # wandb | none
    mode: str = "offline"  # offline (default: runs land in the run dir; `wandb sync` uploads) | online
    project: str = "collapselab"
    entity: str | None = None
    group: str | None = None  # W&B run group; sweeps set it so their runs compare side by side
    tags: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        return choice("backend", self.backend, ("wandb", "none")) + choice("mode", self.mode, ("offline", "online"))
