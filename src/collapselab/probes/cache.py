"""Generated samples, cached per checkpoint fingerprint and generation config, resumable.

Batch ``i`` (samples ``[i*b, (i+1)*b)``) is seeded from the run seed and its start index,
and appended to ``<key>.partial.jsonl`` as soon as it is done; when all are there the file
is renamed to ``<key>.jsonl``. A killed evaluation rerun with the same config reuses every
finished batch, and a complete cache means nothing is generated at all.

The set's size ``n`` is part of its file name: a set of n samples is the same whatever was cached
before. (A batched sampler does not give the first rows of a batch of 200 the draws it gives a batch of
100, so extending a cached set of 100 to 400, or cutting 400 down to 100, would give other samples than
a fresh run: the lab's final checkpoints, sampled at 50 stories by the step evaluations and at 400 by
the final one, got numbers that depended on which job ran first.)
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from collapselab.io import config_hash
from collapselab.probes.generation import Sample, batch_seed  # noqa: F401 - batch_seed re-exported


class SampleCache:
    """``get(key, n, make)`` returns n samples, generating only the batches not cached yet."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.generated = 0  # samples generated (not read from cache) since this object was made

    def path(self, key: dict[str, Any], n: int) -> Path:
        return self.root / f"{key.get('probe', 'samples')}-{config_hash({**key, 'n_samples': n}, 16)}.jsonl"

    def get(
        self,
        key: dict[str, Any],
        n: int,
        make: Callable[[int, int, int], list[Sample]],
        batch_size: int,
        desc: str = "sampling",
    ) -> list[Sample]:
        """``make(start, stop, seed)`` generates samples ``[start, stop)``; cached ones are read back."""
        final = self.path(key, n)
        if final.is_file():
            rows = _read_jsonl(final)
            if len(rows) == n:
                return [Sample.from_json(r) for r in rows]
        self.root.mkdir(parents=True, exist_ok=True)
        partial = final.with_suffix(".partial.jsonl")
        rows = _read_jsonl(partial) if partial.is_file() else []
        rows = rows[: len(rows) - len(rows) % batch_size] if len(rows) < n else rows[:n]  # whole batches only
        _rewrite(partial, rows)  # drops a torn last line left by a kill
        bar = tqdm(total=n, initial=len(rows), desc=desc, leave=False, disable=None)
        with open(partial, "a", encoding="utf-8") as f:
            while len(rows) < n:
                start = len(rows)
                stop = min(n, start + batch_size)
                batch = make(start, stop, batch_seed(key.get("seed", 0), start))
                for s in batch:
                    row = s.to_json()
                    rows.append(row)
                    f.write(json.dumps(row) + "\n")
                f.flush()
                os.fsync(f.fileno())
                self.generated += len(batch)
                bar.update(len(batch))
        bar.close()
        os.replace(partial, final)
        return [Sample.from_json(r) for r in rows]


def _read_jsonl(path: Path) -> list[dict]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            break  # a torn last line from a killed run; everything after it is regenerated
    return out


def _rewrite(path: Path, rows: list[dict]) -> None:
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
    os.replace(tmp, path)
