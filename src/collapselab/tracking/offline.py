"""Read what an offline W&B run logged, straight from its ``.wandb`` file (no network, no sync).

The file is a LevelDB-style log: a 7-byte file header (``:W&B``, magic, version), then
32 KiB blocks of records, each with a 7-byte header (crc32 4, length 2, type 1) holding
pieces of protobuf ``Record`` messages (types FULL=1, FIRST=2, MIDDLE=3, LAST=4).
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

_BLOCK = 32768
_HEADER = 7
_FULL, _FIRST, _MIDDLE, _LAST = 1, 2, 3, 4


def _records(data: bytes) -> list[bytes]:
    if data[:4] != b":W&B":
        raise ValueError("not a .wandb file (bad header)")
    out, pos, pending = [], _HEADER, b""
    while pos + _HEADER <= len(data):
        left_in_block = _BLOCK - pos % _BLOCK
        if left_in_block < _HEADER:  # trailer padding
            pos += left_in_block
            continue
        _crc, length, kind = struct.unpack("<IHB", data[pos : pos + _HEADER])
        if kind == 0 and length == 0:  # zero padding / end of an unfinished file
            pos += left_in_block
            continue
        payload = data[pos + _HEADER : pos + _HEADER + length]
        pos += _HEADER + length
        if kind == _FULL:
            out.append(payload)
        elif kind == _FIRST:
            pending = payload
        elif kind == _MIDDLE:
            pending += payload
        elif kind == _LAST:
            out.append(pending + payload)
            pending = b""
    return out


def is_complete(path: str | Path) -> bool:
    """True when the ``.wandb`` file ends with the run's exit record (the run finished writing)."""
    from wandb.proto import wandb_internal_pb2 as pb

    try:
        records = _records(Path(path).read_bytes())
    except (OSError, ValueError, struct.error):
        return False
    for raw in reversed(records):
        rec = pb.Record()
        try:
            rec.ParseFromString(raw)
        except Exception:  # noqa: BLE001 - a record cut short while being written
            return False
        return rec.WhichOneof("record_type") == "exit"
    return False


def find_run_files(root: str | Path) -> list[Path]:
    """All ``run-*.wandb`` files below ``root``, oldest first."""
    files = [p for p in Path(root).rglob("run-*.wandb") if "latest-run" not in p.parts]  # a symlink to a run
    return sorted(files, key=lambda p: p.stat().st_mtime)


def read_offline_run(path: str | Path) -> dict[str, Any]:
    """Return ``{"config": {...}, "history": [{key: value, "_step": n}, ...], "summary": {...}}``.

    ``path`` is a ``.wandb`` file or a folder containing exactly one run below it.
    """
    from wandb.proto import wandb_internal_pb2 as pb

    path = Path(path)
    if path.is_dir():
        files = find_run_files(path)
        if len(files) != 1:
            raise FileNotFoundError(f"expected one .wandb run under {path}, found {len(files)}")
        path = files[0]
    config: dict[str, Any] = {}
    history: list[dict[str, Any]] = []
    summary: dict[str, Any] = {}
    run_info: dict[str, Any] = {}
    for raw in _records(path.read_bytes()):
        rec = pb.Record()
        rec.ParseFromString(raw)
        kind = rec.WhichOneof("record_type")
        if kind == "history":
            row = {}
            for item in rec.history.item:
                key = item.key or "/".join(item.nested_key)
                row[key] = json.loads(item.value_json)
            history.append(row)
        elif kind == "config":
            for item in rec.config.update:
                key = item.key or "/".join(item.nested_key)
                config[key] = json.loads(item.value_json)
        elif kind == "summary":
            for item in rec.summary.update:
                key = item.key or "/".join(item.nested_key)
                summary[key] = json.loads(item.value_json)
        elif kind == "run":
            run_info = {"id": rec.run.run_id, "group": rec.run.run_group, "name": rec.run.display_name}
            for item in rec.run.config.update:
                config[item.key or "/".join(item.nested_key)] = json.loads(item.value_json)
    # W&B stores config values as {"value": v}; unwrap for readability
    config = {k: (v["value"] if isinstance(v, dict) and set(v) == {"value"} else v) for k, v in config.items()}
    return {"config": config, "history": history, "summary": summary, "run": run_info}
