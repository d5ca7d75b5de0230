"""Provenance for results: git hash, package versions, timings."""

from __future__ import annotations

import subprocess
from importlib import metadata
from pathlib import Path

_PACKAGES = ("collapselab", "torch", "transformers", "trl", "peft", "datasets", "sentence-transformers", "numpy")


def git_hash() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, cwd=Path(__file__).parent
        )
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def package_versions(names: tuple[str, ...] = _PACKAGES) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for n in names:
        try:
            out[n] = metadata.version(n)
        except metadata.PackageNotFoundError:
            out[n] = None
    return out
