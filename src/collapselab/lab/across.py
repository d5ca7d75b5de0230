"""The paper table and the control's mechanism across several labs: how often each verdict holds when only the
seed changes.

One lab is one training realisation: two runs of one config at different seeds differ by more than a
cell's interval shows (docs/alignment.md, "A second alignment seed"), and a verdict that rests on a tail
statistic such as the lowest sentiment of 200 reviews turns on single samples. Each lab's report writes
its verdicts as data (``report/verdicts.json``: the paper table's rows, ``paper.rows_json``, and the control's
comparisons, ``control.control_section``); ``across`` and ``mechanism_across`` set several labs side by side,
cell by cell, with the number of labs in which the verdict holds. The verdicts are each lab's own (every
lab against its own base evaluation); nothing is recomputed here.

    python scripts/across_seeds.py report outputs/lab-seed1/report outputs/lab-seed2/report
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from collapselab.errors import UserError
from collapselab.lab.paper import is_aligned

SHORT = {"reproduces": "r", "no clear change": "-", "opposite": "opp", "no interval": "?", "n/a": "n/a"}
LEGEND = ("r reproduces, - no clear change, opp opposite, cens censored at k_max, f failed run (parse below the "
          "floor), bf the base's parse below the floor (no verdict for any column), ? no interval")


def short(verdict: str) -> str:
    """A verdict as one short mark: "reproduces" -> "r", "failed run (parse 0.81 < 0.85)" -> "f",
    "failed run (base parse 0.8 < 0.85)" -> "bf" (the column may be sound; its reference is not), ..."""
    if verdict.startswith("failed run (base"):
        return "bf"
    if verdict.startswith("failed run"):
        return "f"
    if verdict.startswith("censored"):
        return "cens"
    return SHORT.get(verdict, verdict)


def read_verdicts(path: str | Path) -> dict[str, Any]:
    """A lab's verdicts: ``path`` is a verdicts.json, a report folder holding one, or a lab folder whose
    ``report/`` holds one. UserError (one line) when there is none or it holds no paper table."""
    p = Path(path)
    candidates = [p] if p.suffix == ".json" else [p / "verdicts.json", p / "report" / "verdicts.json"]
    found = next((c for c in candidates if c.is_file()), None)
    if found is None:
        raise UserError(f"{path}: no verdicts.json there (give a lab report folder, e.g. report/ or "
                        "outputs/lab-seed1/report, written by scripts/lab.py's report stage)")
    try:
        data = json.loads(found.read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise UserError(f"{found}: not readable as JSON ({e})") from None
    if not isinstance(data, dict) or not isinstance(data.get("paper"), list):
        raise UserError(f"{found}: not a lab's verdicts (no 'paper' list)")
    return data


def across(labs: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """Cell-by-cell verdicts of several labs' paper tables.

    labs: (label, verdicts as ``read_verdicts`` gives them), in the order to show. Returns ``roles`` (the aligned
    columns in order of first appearance, SFT left out), ``rows`` (per paper row: ``what``, ``key`` and per role
    the list of verdicts, one per lab, None where that lab has no such column, and ``k``/``n``: labs in which the
    cell reproduces / labs that have it) and ``totals`` (per lab: reproduced PPO + DPO cells and all aligned
    cells, each with its number of cells). Rows are matched by metric key; a lab without a row has None there.
    """
    if not labs:
        raise UserError("no labs given: name at least one lab report folder")
    by_key = [{row["key"]: row for row in table["paper"]} for _, table in labs]  # each lab's rows by metric key
    what: dict[str, str] = {}  # metric key -> what the row shows, keys in order of first appearance
    for rows in by_key:
        for key, row in rows.items():
            what.setdefault(key, row["what"])
    roles = list(dict.fromkeys(r for rows in by_key for row in rows.values() for r in row["aligned"] if is_aligned(r)))
    rows = []
    for key in what:
        cells = {}
        for role in roles:
            vs = [(lab[key]["aligned"].get(role) or {}).get("verdict") if key in lab else None for lab in by_key]
            have = [v for v in vs if v is not None]
            cells[role] = {"verdicts": vs, "k": sum(v == "reproduces" for v in have), "n": len(have)}
        rows.append({"key": key, "what": what[key], "cells": cells})
    totals = []
    for label, table in labs:
        pd = [c["verdict"] for row in table["paper"] for r, c in row["aligned"].items()
              if r.startswith(("ppo-", "dpo-"))]
        al = [c["verdict"] for row in table["paper"] for r, c in row["aligned"].items() if is_aligned(r)]
        # the model overrides first (another base, model.pretrain_seed), then the alignment ones (lab.align)
        totals.append({"label": label, "overrides": [*table.get("model", []), *table.get("align", [])],
                       "ppo_dpo": (sum(v == "reproduces" for v in pd), len(pd)),
                       "aligned": (sum(v == "reproduces" for v in al), len(al)),
                       "parse_rate": table.get("parse_rate", {})})
    return {"labels": [label for label, _ in labs], "roles": roles, "rows": rows, "totals": totals}


def mechanism_mark(c: dict[str, str] | None) -> str:
    """One lab's mechanism verdict for one run and measure (a row of ``control_section``'s data): "yes" when the
    alpha = 0 control stays within or above the base's interval and the run at alpha falls below it (#13's test),
    "ctl" when the control falls too (it narrows without the bias), "no" when the run at alpha does not fall,
    "f" when a checkpoint of the comparison is a failed run, "." when the lab has no such row."""
    if c is None:
        return "."
    ctl, ali = c["control_vs_base"], c["alpha_vs_base"]
    if ctl.startswith("failed run") or ali.startswith("failed run"):
        return "f"
    if ali != "lower":
        return "no"
    return "ctl" if ctl == "lower" else "yes"


def mechanism_across(labs: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    """Per run and measure of the control's comparisons (in order of first appearance): each lab's
    ``mechanism_mark`` and ``k`` / ``n``: labs where it is "yes" / labs that have the row."""
    by_lab = [{(r["run"], r["measure"]): r for r in table.get("mechanism") or []} for _, table in labs]
    out = []
    for run, measure in dict.fromkeys(k for rows in by_lab for k in rows):  # in order of first appearance
        marks = [mechanism_mark(rows.get((run, measure))) for rows in by_lab]
        out.append({"run": run, "measure": measure, "marks": marks, "k": marks.count("yes"),
                    "n": sum(m != "." for m in marks)})
    return out


def markdown(result: dict[str, Any], mechanism: list[dict[str, Any]] | None = None) -> str:
    """``across``' result as Markdown: one table of cells (each lab's mark in order, then k of n), one of totals,
    and, given ``mechanism_across``' rows, one of the control's mechanism."""
    labels = result["labels"]
    lines = [f"Labs, in the order of each cell's marks: {', '.join(labels)}. {LEGEND}.", ""]
    header = ["measure"] + result["roles"]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in result["rows"]:
        cells = []
        for role in result["roles"]:
            c = row["cells"][role]
            marks = " ".join("." if v is None else short(v) for v in c["verdicts"])
            cells.append(f"{marks} ({c['k']} of {c['n']})" if c["n"] else marks)
        lines.append("| " + " | ".join([row["what"].replace("|", "\\|")] + cells) + " |")  # "|female share - 0.5|"
    lines += ["", "| lab | overrides (lab.model, lab.align) | PPO + DPO cells reproduced | all aligned cells | parse rates |",
              "|---|---|---|---|---|"]
    for t in result["totals"]:
        parse = ", ".join(f"{r} {v:.3g}" for r, v in t["parse_rate"].items() if v is not None and r != "base")
        overrides = " ".join(t["overrides"]) or "(defaults)"
        lines.append(f"| {t['label']} | {overrides} | {t['ppo_dpo'][0]} of {t['ppo_dpo'][1]} "
                     f"| {t['aligned'][0]} of {t['aligned'][1]} | {parse} |")
    if mechanism:
        lines += ["", "The mechanism (the report's control section): yes = the alpha = 0 control stays within or "
                  "above the base's 95% interval and the run at alpha falls below it; ctl = the control falls too; "
                  "no = the run at alpha does not fall; f = a failed run (parse below the floor).", "",
                  "| run | measure | per lab | labs with yes |", "|---|---|---|---|"]
        lines += [f"| {m['run']} | {m['measure']} | {' '.join(m['marks'])} | {m['k']} of {m['n']} |" for m in mechanism]
    return "\n".join(lines) + "\n"
