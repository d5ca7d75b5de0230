"""Compare evaluated checkpoints: metric curves against training step and against beta, and a Markdown table.

``compare(cfg, out_dir)`` reads every ``metrics.json`` the inputs name (files, folders
searched recursively, or globs), then for each metric draws one PNG with two panels:
against training step (one line per algorithm and beta) and against beta (one line per
algorithm, each run's last checkpoint), with 95% bands from the ``_ci_lo``/``_ci_hi`` keys.
Checkpoints without an algorithm (a base model) are drawn as dashed reference lines.
``compare.md`` lists every metric (rows) for every checkpoint (columns) with its interval.

A decoding sweep (``python eval/evaluate.py -m checkpoints=[...] decoding=conformative
decoding.weight=0.25,0.5,0.75``: the same checkpoint under one rule with one knob varied) gets a
third figure per metric, ``sweep__<metric>.png``: the metric against the knob, one line per
checkpoint and rule (``decoding_sweeps``). Each evaluation's decoding comes from its metrics.json
(``meta.config.decoding``).
"""

from __future__ import annotations

import glob
import json
import math
from collections import defaultdict
from pathlib import Path
from typing import Any

from collapselab.errors import UserError
from collapselab.io import atomic_write_text


def find_metrics_files(inputs: list[str]) -> list[Path]:
    """Expand files, folders (recursive) and globs into metrics.json paths; a UserError if none."""
    out: list[Path] = []
    for spec in inputs:
        matches = [Path(p) for p in glob.glob(spec, recursive=True)] or [Path(spec)]
        found = []
        for p in matches:
            if p.is_file() and p.name.endswith(".json"):
                found.append(p)
            elif p.is_dir():
                found += sorted(p.rglob("metrics.json"))
        if not found:
            raise UserError(f"inputs={spec!r}: no metrics.json file there (give files, folders or globs)")
        out += found
    return sorted(set(out))


def load_rows(paths: list[Path]) -> list[dict[str, Any]]:
    rows = []
    for p in paths:
        try:
            data = json.loads(p.read_text())
        except json.JSONDecodeError as e:
            raise UserError(f"inputs: {p} is not valid JSON ({e})") from None
        meta = data.get("meta", {})
        rows.append({
            "name": meta.get("name") or p.parent.name,
            "path": str(p),
            "step": meta.get("step"),
            "algo": meta.get("algo"),
            "beta": meta.get("beta"),
            "decoding": dict((meta.get("config") or {}).get("decoding") or {}),
            "metrics": {k: v for k, v in data.items() if k != "meta" and isinstance(v, (int, float))},
        })
    return rows


# the decoding knobs a sweep varies (config.decoding keys), in the order a label names them
SWEEP_KNOBS = ("weight", "scale", "temperature", "min_p", "top_p")


def decoding_rule(d: dict) -> str:
    """The rule a decoding config names, without its knobs: "plain", "conformative (linear)", "steer"."""
    method = d.get("method") or "plain"
    return f"{method} ({d['mix']})" if d.get("mix") else method


def decoding_sweeps(rows: list[dict]) -> dict[tuple[str, str, str], list[tuple[float, dict]]]:
    """(checkpoint name, rule, knob) -> [(knob value, row)] sorted by value, for every group of rows that
    evaluate one checkpoint under one rule with exactly one ``SWEEP_KNOBS`` entry taking 2+ values
    (rows where that knob is unset are left out of the line)."""
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for r in rows:
        groups[(r["name"], decoding_rule(r.get("decoding") or {}))].append(r)
    out = {}
    for (name, rule), rs in groups.items():
        varying = [k for k in SWEEP_KNOBS if len({(r.get("decoding") or {}).get(k) for r in rs}) > 1]
        if len(varying) != 1:
            continue
        knob = varying[0]
        pts = sorted(((float(v), r) for r in rs if (v := (r.get("decoding") or {}).get(knob)) is not None),
                     key=lambda t: t[0])
        if len(pts) > 1:
            out[(name, rule, knob)] = pts
    return out


def plot_sweep(sweeps: dict[tuple[str, str, str], list[tuple[float, dict]]], key: str, path: Path) -> Path | None:
    """``key`` against each sweep's knob, one line per (checkpoint, rule, knob), 95% bands; None if no line."""
    lines = {g: pts for g, pts in sweeps.items() if any(key in r["metrics"] for _, r in pts)}
    if not lines:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    for (name, rule, knob), pts in sorted(lines.items()):
        pts = [(x, r) for x, r in pts if key in r["metrics"]]
        v, lo, hi = _band([r for _, r in pts], key)
        x = [x for x, _ in pts]
        (line,) = ax.plot(x, v, marker="o", label=f"{name}: {rule}, {knob}")
        ax.fill_between(x, lo, hi, alpha=0.2, color=line.get_color())
    knobs = sorted({k for _, _, k in lines})
    ax.set_xlabel(f"decoding.{' / decoding.'.join(knobs)}")
    ax.set_ylabel(key)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def row_label(r: dict) -> str:
    """The checkpoint's name, with its decoding rule and knobs when it was not plain sampling."""
    d = r.get("decoding") or {}
    knobs = [f"{k}={d[k]:g}" for k in SWEEP_KNOBS if isinstance(d.get(k), (int, float))
             and not (k == "top_p" and d[k] == 1.0) and not (k == "min_p" and d[k] == 0.0)]
    if decoding_rule(d) == "plain" and not knobs:
        return r["name"]
    return f"{r['name']} ({decoding_rule(d)}{', ' if knobs else ''}{', '.join(knobs)})"


def main_keys(rows: list[dict], wanted: list[str]) -> list[str]:
    keys = sorted({k for r in rows for k in r["metrics"] if "_ci_" not in k})
    if wanted:
        unknown = [k for k in wanted if k not in keys]
        if unknown:
            raise UserError(f"metrics={unknown[0]!r}: not in the inputs (available: {', '.join(keys)})")
        return list(wanted)
    return keys


def _band(rows: list[dict], key: str) -> tuple[list[float], list[float], list[float]]:
    v = [r["metrics"].get(key, math.nan) for r in rows]
    lo = [r["metrics"].get(f"{key}_ci_lo", x) for r, x in zip(rows, v, strict=True)]
    hi = [r["metrics"].get(f"{key}_ci_hi", x) for r, x in zip(rows, v, strict=True)]
    return v, lo, hi


def plot_metric(rows: list[dict], key: str, path: Path) -> Path:
    """Two panels: ``key`` against training step (per algo and beta) and against beta (per algo, last step)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_s, ax_b) = plt.subplots(1, 2, figsize=(10, 3.6))
    runs: dict[tuple, list[dict]] = defaultdict(list)
    refs = []
    for r in rows:
        if key not in r["metrics"]:
            continue
        if r["algo"] is None or r["step"] is None:
            refs.append(r)
        else:
            runs[(r["algo"], r["beta"])].append(r)
    for (algo, beta), rs in sorted(runs.items(), key=lambda kv: (kv[0][0], kv[0][1] if kv[0][1] is not None else -1)):
        rs = sorted(rs, key=lambda r: r["step"])
        v, lo, hi = _band(rs, key)
        x = [r["step"] for r in rs]
        (line,) = ax_s.plot(x, v, marker="o", label=f"{algo} β={beta}" if beta is not None else algo)
        ax_s.fill_between(x, lo, hi, alpha=0.2, color=line.get_color())
    by_algo: dict[str, list[dict]] = defaultdict(list)
    for (algo, beta), rs in runs.items():
        if beta is not None:
            by_algo[algo].append(max(rs, key=lambda r: r["step"]))
    for algo, rs in sorted(by_algo.items()):
        rs = sorted(rs, key=lambda r: r["beta"])
        v, lo, hi = _band(rs, key)
        x = [r["beta"] for r in rs]
        (line,) = ax_b.plot(x, v, marker="o", label=algo)
        ax_b.fill_between(x, lo, hi, alpha=0.2, color=line.get_color())
        if all(b > 0 for b in x) and len(x) > 1:
            ax_b.set_xscale("log")
    for r in refs:
        for ax in (ax_s, ax_b):
            ax.axhline(r["metrics"][key], ls="--", lw=1, color="grey")
            ax.text(ax.get_xlim()[0], r["metrics"][key], f" {r['name']}", fontsize=7, va="bottom", color="grey")
    ax_s.set_xlabel("training step")
    ax_b.set_xlabel("β (KL coefficient), last checkpoint of each run")
    for ax in (ax_s, ax_b):
        ax.set_ylabel(key)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def markdown_table(rows: list[dict], keys: list[str]) -> str:
    """Metrics as rows, checkpoints as columns: ``value [lo, hi]``."""
    head = "| metric | " + " | ".join(row_label(r) for r in rows) + " |"
    sep = "|---|" + "---|" * len(rows)
    lines = [head, sep]
    for k in keys:
        cells = []
        for r in rows:
            m = r["metrics"]
            if k not in m:
                cells.append("")
            elif f"{k}_ci_lo" in m:
                cells.append(f"{m[k]:.3g} [{m[f'{k}_ci_lo']:.3g}, {m[f'{k}_ci_hi']:.3g}]")
            else:
                cells.append(f"{m[k]:.3g}")
        lines.append(f"| {k} | " + " | ".join(cells) + " |")
    meta = ["", "| checkpoint | algo | beta | step | file |", "|---|---|---|---|---|"]
    meta += [f"| {row_label(r)} | {r['algo']} | {r['beta']} | {r['step']} | {r['path']} |" for r in rows]
    return "\n".join(lines + meta) + "\n"


def compare(cfg: Any, out_dir: str | Path) -> dict[str, Any]:
    """Read the inputs' metrics.json files, write ``compare.md`` and one PNG per metric into ``out_dir``."""
    from collapselab.tracking import Tracker

    out_dir = Path(out_dir)
    rows = load_rows(find_metrics_files(list(cfg.inputs)))
    rows.sort(key=lambda r: (r["algo"] or "", r["beta"] if r["beta"] is not None else -1, r["step"] or -1, r["name"],
                             row_label(r)))
    keys = main_keys(rows, list(cfg.metrics))
    fig_dir = out_dir / "figures"
    fig_dir.mkdir(parents=True, exist_ok=True)
    figs = {k: plot_metric(rows, k, fig_dir / f"{k.replace('/', '__')}.png") for k in keys}
    sweeps = decoding_sweeps(rows)
    for k in keys if sweeps else []:
        if (p := plot_sweep(sweeps, k, fig_dir / f"sweep__{k.replace('/', '__')}.png")) is not None:
            figs[f"sweep/{k}"] = p
    md = atomic_write_text(out_dir / "compare.md", "# Comparison\n\n" + markdown_table(rows, keys))
    with Tracker(cfg.logger, out_dir, name="compare", job_type="compare", config={"inputs": list(cfg.inputs)}) as tr:
        tr.log_images({f"compare/{k}": p for k, p in figs.items()})
        tr.log_table("compare/checkpoints", ["checkpoint", *keys],
                     [[row_label(r), *[r["metrics"].get(k) for k in keys]] for r in rows])
    return {"rows": rows, "markdown": md, "figures": figs}
