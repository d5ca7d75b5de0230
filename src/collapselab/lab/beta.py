"""What the KL beta did in a lab: each algorithm's final runs read against the optimum's order over beta.

The KL-regularised optimum pi* = pi0 exp(R / beta) / Z (eq. 5.2's objective; docs/toy.md) is pi0 itself as
beta grows and concentrates on the reward's best answers as beta shrinks, so a run's diversity should fall
with beta, from the level of pi0: the policy the runs start from and are held to (SFT, or RS under
``lab.align_start=rs``). ``beta_rows`` says, per diversity measure and algorithm, whether the final runs'
95% intervals separate in that order, the other way, or not at all, and where they sit against pi0's.
"""

from __future__ import annotations

from typing import Any

from collapselab.lab.render import ci_of

AS_PREDICTED, OPPOSITE, MIXED, NOT_SEPARATED, ONE_BETA = (
    "as the optimum predicts", "opposite", "mixed", "not separated", "one beta")


def _step(lo_small: tuple[float, float], hi_large: tuple[float, float], more_diverse: bool) -> str:
    """One pair of neighbouring betas (intervals of the smaller and the larger beta): which way they separate."""
    below, above = lo_small[1] < hi_large[0], lo_small[0] > hi_large[1]
    if not (below or above):
        return NOT_SEPARATED
    less_diverse_at_small = below if more_diverse else above
    return AS_PREDICTED if less_diverse_at_small else OPPOSITE


def order_over_beta(points: list[tuple[float, float, tuple[float, float] | None]], more_diverse: bool) -> str:
    """``points``: (beta, value, 95% interval) of one algorithm's final runs. The order of the optimum
    (less diverse at smaller beta, every neighbouring pair's intervals separated) holds, holds the other way,
    holds for some pairs one way and some the other ("mixed"), or no pair separates."""
    pts = sorted(p for p in points if p[2] is not None)
    if len(pts) < 2:
        return ONE_BETA
    steps = {_step(a[2], b[2], more_diverse) for a, b in zip(pts, pts[1:])}
    if steps == {AS_PREDICTED}:
        return AS_PREDICTED
    if steps == {OPPOSITE}:
        return OPPOSITE
    if AS_PREDICTED in steps and OPPOSITE in steps:
        return MIXED
    return NOT_SEPARATED if steps == {NOT_SEPARATED} else (
        f"{next(iter(steps - {NOT_SEPARATED}))} for some betas")


def against_start(ci: tuple[float, float] | None, start_ci: tuple[float, float] | None, more_diverse: bool) -> str:
    """A run's interval against pi0's: "less diverse", "more diverse" or "no clear change" (overlap)."""
    if ci is None or start_ci is None:
        return "no interval"
    if ci[1] < start_ci[0]:
        return "less diverse" if more_diverse else "more diverse"
    if ci[0] > start_ci[1]:
        return "more diverse" if more_diverse else "less diverse"
    return "no clear change"


def beta_rows(finals: list[dict[str, Any]], start: dict[str, Any] | None, keys: list[str],
              more_diverse: dict[str, bool]) -> list[dict[str, Any]]:
    """Per key and algorithm (``finals``: the final runs, each with ``algo``, ``beta``, ``metrics``): the runs'
    values and intervals by beta, pi0's (``start``: its metrics, or None), the order over beta and each run
    against pi0. Keys a run lacks are skipped for that run."""
    rows = []
    for key in keys:
        for algo in sorted({f["algo"] for f in finals}):
            runs = sorted((float(f["beta"]), f["metrics"]) for f in finals
                          if f["algo"] == algo and f["metrics"].get(key) is not None)
            if not runs:
                continue
            up = more_diverse[key]
            start_ci = ci_of(start, key) if start else None
            points = [(b, m[key], ci_of(m, key)) for b, m in runs]
            rows.append({
                "key": key, "algo": algo,
                "start": (start.get(key), start_ci) if start else None,
                "runs": [(b, v, ci, against_start(ci, start_ci, up)) for b, v, ci in points],
                "order": order_over_beta(points, up)})
    return rows
