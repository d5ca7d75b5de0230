"""Figures for the bandit runs (matplotlib, Agg backend)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from collapselab.toy.bandit import SimResult


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_dynamics(res: SimResult, arms: list[str], optimum: np.ndarray, path: Path) -> Path:
    """Mean action probabilities (+-1 sd over seeds) and policy entropy over training steps."""
    plt = _plt()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    x = res.steps_logged
    for k, arm in enumerate(arms):
        (line,) = ax1.plot(x, res.probs_mean[:, k], label=arm)
        ax1.fill_between(x, np.clip(res.probs_mean[:, k] - res.probs_sd[:, k], 0, 1),
                         np.clip(res.probs_mean[:, k] + res.probs_sd[:, k], 0, 1), color=line.get_color(), alpha=0.15)
        ax1.axhline(optimum[k], color=line.get_color(), ls=":", lw=1)
    alpha = f", typicality={res.typicality:g}" if res.typicality else ""
    ax1.set(xlabel="step", ylabel="pi(a), mean over seeds", ylim=(0, 1),
            title=f"{res.rule}, beta={res.beta:g}{alpha} (dotted: KL optimum)")
    ax1.legend(fontsize=8)
    ax2.plot(x, res.entropy_mean, color="k")
    ax2.fill_between(x, np.maximum(res.entropy_mean - res.entropy_sd, 0), res.entropy_mean + res.entropy_sd,
                     color="k", alpha=0.15)
    ax2.set(xlabel="step", ylabel="policy entropy (bits)", title="entropy, mean +- sd over seeds")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_entropy_vs_beta(curves: list[dict], runs: list[dict], path: Path) -> Path:
    """Final entropy against beta: one dashed closed-form curve per typicality alpha
    (``pi0^gamma exp(R/beta)/Z``, gamma = 1 + alpha/beta) and one line (or point) per (rule, alpha).

    ``curves``: bandit.json's ``optimum_curves`` (a single ``optimum_curve`` dict is accepted too).
    With one alpha: the optimum in black, one colour per rule. With several: one colour per alpha,
    its optimum a wide pale dashed band, its rules thin lines on top (one marker per rule).
    """
    plt = _plt()
    curves = [curves] if isinstance(curves, dict) else list(curves)
    many = len(curves) > 1
    fig, ax = plt.subplots(figsize=(6, 4))
    colour = {c.get("typicality", 0.0): f"C{i % 10}" for i, c in enumerate(curves)}
    for c in curves:
        a = c.get("typicality", 0.0)
        if many:
            ax.plot(c["beta"], c["entropy_bits"], "--", color=colour[a], lw=4, alpha=0.35,
                    label=f"optimum, alpha={a:g}")
        else:
            label = "optimum pi0 exp(R/beta)/Z" if a == 0 else f"optimum pi0^(1+{a:g}/beta) exp(R/beta)/Z"
            ax.plot(c["beta"], c["entropy_bits"], "k--", label=label)
    by_line: dict[tuple[str, float], list[tuple[float, float]]] = {}
    for r in runs:
        by_line.setdefault((r["rule"], r.get("typicality", 0.0)), []).append((r["beta"], r["final_entropy_bits_mean"]))
    markers = {rule: "osv^D"[i % 5] for i, rule in enumerate(dict.fromkeys(k[0] for k in by_line))}
    for (rule, a), pts in by_line.items():
        pts = sorted(set(pts))
        style = {"color": colour.get(a), "marker": markers[rule], "lw": 1} if many else {"marker": "o"}
        ax.plot([p[0] for p in pts], [p[1] for p in pts], "-", label=f"{rule}, alpha={a:g}" if many else rule,
                ms=4, **style)
    title = "Entropy after training vs beta" + (" and typicality alpha" if many else "")
    ax.set(xscale="log", xlabel="beta (KL coefficient)", ylabel="final policy entropy (bits), mean over seeds",
           title=title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
