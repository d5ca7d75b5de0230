"""Bad input to the scripts under ``scripts/``: one line on stderr, ``error: ...``, exit 2, no traceback.

The Hydra entry points get this from ``collapselab.config.app``; the scripts with their own argument
parsing use what is here: an ``ArgumentParser`` whose usage errors are one line, ``type=`` checks for
numbers, checks of input and output paths (raising ``UserError``), and ``one_line_errors()`` around a
script's work to print any ``UserError`` as that line.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NoReturn

from collapselab.errors import UserError, fail


@contextlib.contextmanager
def one_line_errors() -> Iterator[None]:
    """A ``UserError`` raised inside becomes ``error: <message>`` on stderr and exit 2."""
    try:
        yield
    except UserError as e:
        fail(str(e))


class ArgumentParser(argparse.ArgumentParser):
    """argparse whose usage errors are one line, e.g. ``error: argument --steps: '0': must be a whole
    number >= 1``, exit 2 (``-h`` prints the usage as usual)."""

    def error(self, message: str) -> NoReturn:
        fail(message)


def print_usage_if_asked(argv: list[str], doc: str | None) -> None:
    """For scripts taking Hydra overrides: ``-h`` or ``--help`` anywhere prints ``doc`` and exits 0."""
    if any(a in ("-h", "--help") for a in argv):
        print((doc or "").strip())
        sys.exit(0)


# --------------------------------------------------------------------------- numbers


def whole(lo: int, hi: int | None = None) -> Callable[[str], int]:
    """An argparse ``type``: a whole number >= ``lo`` (and <= ``hi``, e.g. ``SEED_MAX`` for a seed)."""

    def parse(s: str) -> int:
        try:
            value = int(s)
        except ValueError:
            value = None
        if value is None or value < lo or (hi is not None and value > hi):
            raise argparse.ArgumentTypeError(f"{s!r}: must be a whole number " +
                                             (f">= {lo}" if hi is None else f"from {lo} to {hi}"))
        return value

    return parse


def real(lo: float, *, strict: bool = False) -> Callable[[str], float]:
    """An argparse ``type``: a finite number >= ``lo`` (> ``lo`` when ``strict``)."""

    def parse(s: str) -> float:
        try:
            value = float(s)
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and (value > lo if strict else value >= lo)):
            raise argparse.ArgumentTypeError(f"{s!r}: must be a finite number {'>' if strict else '>='} {lo:g}")
        return value

    return parse


def env_whole(name: str, default: int, lo: int = 1) -> int:
    """The environment variable ``name`` as a whole number >= ``lo`` (``default`` when unset)."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        return whole(lo)(raw)
    except argparse.ArgumentTypeError:
        raise UserError(f"{name}={raw!r} (environment variable): must be a whole number >= {lo}") from None


# --------------------------------------------------------------------------- paths


def existing_file(name: str, path: str | Path) -> Path:
    """``path`` if it is a file, else a ``UserError`` naming ``name``."""
    p = Path(path)
    if not p.exists():
        raise UserError(f"{name}={str(path)!r}: no such file")
    if not p.is_file():
        raise UserError(f"{name}={str(path)!r}: is a folder, expected a file")
    return p


def existing_folder(name: str, path: str | Path, hint: str = "") -> Path:
    """``path`` if it is a folder, else a ``UserError`` naming ``name``; ``hint`` (how to make one) follows a
    missing folder's line in parentheses."""
    p = Path(path)
    if not p.exists():
        raise UserError(f"{name}={str(path)!r}: no such folder" + (f" ({hint})" if hint else ""))
    if not p.is_dir():
        raise UserError(f"{name}={str(path)!r}: is a file, expected a folder")
    return p


def output_folder(name: str, path: str | Path) -> None:
    """A ``UserError`` unless ``path`` can be made a folder to write in. Creates nothing."""
    from collapselab.config.common import writable

    problems = writable(name, path)
    if problems:
        raise UserError(problems[0])


def output_file(name: str, path: str | Path) -> None:
    """A ``UserError`` unless a file can be written at ``path`` (its missing folders made). Creates nothing."""
    from collapselab.config.common import writable

    p = Path(path)
    if p.is_dir():
        raise UserError(f"{name}={str(path)!r}: is a folder, expected a file to write")
    problems = writable(name, p.absolute().parent)
    if problems:  # writable's line names the folder; this one names what was given
        reason = problems[0].rpartition(" (")[2].rstrip(")")
        raise UserError(f"{name}={str(path)!r}: cannot be written ({reason})")
