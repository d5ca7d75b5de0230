"""Structured-config schemas (dataclasses registered with Hydra's ConfigStore).

One module per area (``toy``, ``world``, ``model``, ...); importing this package imports
them all, which registers every schema. Shared pieces live in ``common``.
"""

import importlib
import pkgutil

from collapselab.config.app import as_dict, compose, fail, hydra_app, register_schema, run_dir
from collapselab.config.common import LoggerConfig, between, choice, positive

for _m in pkgutil.iter_modules(__path__):
    if _m.name not in ("app", "common"):
        importlib.import_module(f"{__name__}.{_m.name}")

__all__ = [
    "LoggerConfig",
    "as_dict",
    "between",
    "choice",
    "compose",
    "fail",
    "hydra_app",
    "positive",
    "register_schema",
    "run_dir",
]
