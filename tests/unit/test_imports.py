"""Every module imports cold, on its own, and the light packages stay light.

An import cycle works in whatever order the test suite happens to import things and fails when
a user's script imports the other module first. Each module is therefore imported as the first
collapselab module of a process: one subprocess, collapselab's modules cleared from
``sys.modules`` before each import (third-party libraries stay loaded, so this takes seconds).
The config package (and ``errors``) is the bottom layer: it imports nothing else of collapselab,
even inside a function (checked below), so no cycle runs through it and it stays loaded between
imports (registering its schemas with Hydra is most of the cost of a cold import).
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import collapselab

PACKAGE = Path(collapselab.__file__).parent
HEAVY = ("torch", "transformers", "trl")  # what importing a light package must not import


def _modules() -> list[str]:
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        out.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return out


def _run(code: str, *args: str, timeout: float = 120) -> str:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "WANDB_SILENT": "true"}
    r = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, timeout=timeout)
    assert r.returncode == 0, r.stderr[-3000:]
    return r.stdout.strip().splitlines()[-1]


BOTTOM = ("collapselab", "collapselab.errors", "collapselab.config")  # and config's modules

COLD_IMPORTS = """
import importlib, json, sys, traceback
BOTTOM = %r
failed = {}
for name in sys.argv[1:]:
    keep = () if name in BOTTOM else BOTTOM  # a bottom module itself is imported quite cold
    for m in [m for m in sys.modules if m == "collapselab" or m.startswith("collapselab.")]:
        if not (m in keep or (keep and m.startswith("collapselab.config."))):
            del sys.modules[m]
    try:
        importlib.import_module(name)
    except BaseException as e:  # noqa: BLE001 - every failure is reported, with its module
        failed[name] = "".join(traceback.format_exception_only(type(e), e)).strip()
print(json.dumps(failed))
""" % (BOTTOM,)


def test_every_module_imports_first_in_a_fresh_process():
    modules = _modules()
    assert "collapselab.lab.report" in modules and "collapselab.config.align" in modules
    # importing any config module runs config/__init__, which imports them all: one cold import covers them
    modules = [m for m in modules if not m.startswith("collapselab.config.")]
    failed = json.loads(_run(COLD_IMPORTS, *modules))
    assert failed == {}, "\n".join(f"{m}: {e}" for m, e in failed.items())


# the lab's pipeline too: unpickling a worker's initializer imports it, and the initializer must
# set OMP_NUM_THREADS before torch is imported in that worker
@pytest.mark.parametrize("package", ["collapselab.config", "collapselab.toy", "collapselab.world",
                                     "collapselab.lab.pipeline"])
def test_light_packages_do_not_import_torch(package):
    code = f"import json, sys; import {package}; print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    assert json.loads(_run(code)) == [], f"importing {package} imports these"


def _imported(path: Path) -> set[str]:
    """Every collapselab module a file imports, at any level (function bodies included)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            out |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
    return {m for m in out if m.startswith("collapselab")}


def test_the_report_reads_a_lab_run_not_the_scheduler():
    """lab.report gets a LabRun from the job graph; it never imports the graph or the scheduler."""
    imported = _imported(PACKAGE / "lab" / "report.py")
    assert "collapselab.lab.results.LabRun" in imported
    assert not imported & {"collapselab.lab.stages", "collapselab.lab.pipeline"}, imported


def test_config_is_the_bottom_layer():
    """Config schemas import only config and errors, even inside functions: importing any module
    imports config, so an import of anything else from config would be a cycle waiting to happen."""
    for path in [PACKAGE / "errors.py", *sorted((PACKAGE / "config").glob("*.py"))]:
        up = {m for m in _imported(path) if not m.startswith(("collapselab.config", "collapselab.errors"))}
        assert up <= {"collapselab"}, f"{path.name} imports {sorted(up)}"
