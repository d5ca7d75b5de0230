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
    ax1.set(xlabel="step", ylabel="pi(a), mean over seeds", ylim=(0, 1),
            title=f"{res.rule}, beta={res.beta:g} (dotted: KL optimum)")
    ax1.legend(fontsize=8)
    ax2.plot(x, res.entropy_mean, color="k")
    ax2.fill_between(x, np.maximum(res.entropy_mean - res.entropy_sd, 0), res.entropy_mean + res.entropy_sd,
                     color="k", alpha=0.15)
    ax2.set(xlabel="step", ylabel="policy entropy (bits)", title="entropy, mean +- sd over seeds")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_entropy_vs_beta(curve: dict, runs: list[dict], path: Path) -> Path:
    """Final entropy against beta: the closed-form optimum's curve and one line (or point) per rule."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(curve["beta"], curve["entropy_bits"], "k--", label="optimum pi0 exp(R/beta)/Z")
    by_rule: dict[str, list[tuple[float, float]]] = {}
    for r in runs:
        by_rule.setdefault(r["rule"], []).append((r["beta"], r["final_entropy_bits_mean"]))
    for rule, pts in by_rule.items():
        pts = sorted(set(pts))
        ax.plot([p[0] for p in pts], [p[1] for p in pts], "o-", label=rule, ms=4)
    ax.set(xscale="log", xlabel="beta (KL coefficient)", ylabel="final policy entropy (bits), mean over seeds",
           title="Entropy after training vs beta")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
