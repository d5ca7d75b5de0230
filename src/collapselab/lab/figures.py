"""Figures the paper lacks: diversity against beta, against training step, against quality,
and predicted vs observed attribute marginals. Inputs are metrics.json dicts; outputs PNGs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

COLOURS = {"ppo": "tab:red", "dpo": "tab:blue", "sft": "tab:green", "base": "black", "rs": "tab:orange"}


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp.png")
    fig.tight_layout()
    fig.savefig(tmp, dpi=100)
    tmp.replace(path)
    _plt().close(fig)
    return path


def _series(points: list[dict], key: str, x: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    pts = sorted((p for p in points if p["metrics"].get(key) is not None and p.get(x) is not None), key=lambda p: p[x])
    xs = np.array([p[x] for p in pts], dtype=float)
    ys = np.array([p["metrics"][key] for p in pts], dtype=float)
    lo = np.array([p["metrics"].get(key + "_ci_lo", np.nan) for p in pts], dtype=float)
    hi = np.array([p["metrics"].get(key + "_ci_hi", np.nan) for p in pts], dtype=float)
    return xs, ys, lo, hi


def lines(points: list[dict], algo: str, x: str) -> list[tuple[str, list[dict]]]:
    """The lines of ``algo``'s points: over beta one line for the algorithm ("PPO"); over steps one line per
    run, i.e. per beta ("PPO b0.02"), in order of beta, so a line never jumps between runs."""
    mine = [p for p in points if p["algo"] == algo]
    if x == "beta":
        return [(algo.upper(), mine)] if mine else []
    betas = sorted({p["beta"] for p in mine if p.get("beta") is not None})
    return [(f"{algo.upper()} b{b:g}", [p for p in mine if p.get("beta") == b]) for b in betas]


def diversity_vs(points: list[dict], keys: list[str], x: str, refs: dict[str, dict], path: Path,
                 log_x: bool = False, optimum: dict | None = None) -> Path:
    """One panel per metric: a line per algorithm over beta, or per run (algorithm and beta) over steps, with 95% CI bands;
    dashed horizontals for the reference checkpoints (base, SFT). ``optimum``: the bandit's
    closed-form entropy-vs-beta curve, drawn on a twin axis in the first panel."""
    plt = _plt()
    fig, axes = plt.subplots(1, len(keys), figsize=(4.2 * len(keys), 3.4), squeeze=False)
    styles = ["o-", "s--", "^:", "d-."]
    for ax, key in zip(axes[0], keys, strict=True):
        for algo in ("ppo", "dpo"):
            for i, (label, run) in enumerate(lines(points, algo, x)):
                xs, ys, lo, hi = _series(run, key, x)
                if len(xs) == 0:
                    continue
                ax.plot(xs, ys, styles[i % len(styles)], color=COLOURS[algo], label=label)
                if np.isfinite(lo).any():
                    ax.fill_between(xs, lo, hi, color=COLOURS[algo], alpha=0.18)
        for name, m in refs.items():
            if m.get(key) is not None:
                ax.axhline(m[key], ls="--", color=COLOURS.get(name, "grey"), lw=1, label=name)
        if log_x:  # ticks at the runs' own x values only: a decade's minor labels overprint each other
            from matplotlib.ticker import NullFormatter

            ax.set_xscale("log")
            ticks = sorted({float(p[x]) for p in points if p.get(x) is not None})
            ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
            ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel("KL beta" if x == "beta" else "training step")
        ax.set_title(key, fontsize=9)
        if optimum and ax is axes[0][0]:
            tw = ax.twinx()
            tw.plot(optimum["beta"], optimum["entropy_bits"], ":", color="purple", label="bandit optimum H(bits)")
            tw.set_ylabel("bandit optimum entropy, bits", color="purple", fontsize=8)
            tw.legend(loc="lower right", fontsize=7)
    axes[0][0].legend(fontsize=7, loc="best")
    return _save(fig, path)


def frontier(points: list[dict], refs: dict[str, dict], x_key: str, y_key: str, path: Path) -> Path:
    """Diversity (y) against quality (x) for every evaluated checkpoint: the price of alignment."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.5, 4.2))
    for name, m in refs.items():
        if m.get(x_key) is not None and m.get(y_key) is not None:
            ax.scatter(m[x_key], m[y_key], marker="*", s=160, color=COLOURS.get(name, "grey"), label=name, zorder=3)
    for algo in ("ppo", "dpo"):
        pts = [p for p in points if p["algo"] == algo and p["metrics"].get(x_key) is not None
               and p["metrics"].get(y_key) is not None]
        if not pts:
            continue
        ax.scatter([p["metrics"][x_key] for p in pts], [p["metrics"][y_key] for p in pts],
                   color=COLOURS[algo], label=algo.upper(), alpha=0.8)
        for p in pts:
            ax.annotate(f"b={p['beta']:g}", (p["metrics"][x_key], p["metrics"][y_key]), fontsize=7,
                        xytext=(3, 3), textcoords="offset points")
    ax.set_xlabel(x_key)
    ax.set_ylabel(y_key)
    ax.set_title("diversity against quality", fontsize=10)
    ax.legend(fontsize=7)
    return _save(fig, path)


def predicted_observed(rows: list[dict], attribute: str, path: Path, alpha_rows: list[dict] | None = None,
                       pi0: str = "SFT") -> Path:
    """Grouped bars per value of ``attribute``: reference (pi0, the model the runs start from, named ``pi0``),
    KL-optimum prediction and observed, per run.

    ``alpha_rows``: the same rows predicted from the annotator's own reward r + alpha log pi_base
    (``predict.predicted_vs_observed`` on its quality scores), drawn as a fourth bar beside the prediction from
    the reward model (``rows``)."""
    plt = _plt()
    sel = [r for r in rows if r["attribute"] == attribute]
    sel_a = [r for r in alpha_rows if r["attribute"] == attribute] if alpha_rows else [None] * len(sel)
    fig, axes = plt.subplots(1, len(sel), figsize=(3.6 * len(sel), 3.2), squeeze=False, sharey=True)
    for ax, r, ra in zip(axes[0], sel, sel_a, strict=True):
        keys = sorted(set(r["values"]) | set(ra["values"])) if ra else r["values"]
        x = np.arange(len(keys))
        bars = [(r["reference"], "tab:green", f"{pi0} (pi0)"),
                (r["predicted"], "tab:purple", "predicted pi*" + (": reward model" if ra else "")),
                *([(ra["predicted"], "tab:pink", f"predicted pi*: annotator (alpha = {ra['alpha']:g})")] if ra else []),
                (r["observed"], "tab:orange", "observed")]
        w = 0.8 / len(bars)
        for i, (shares, colour, label) in enumerate(bars):
            ax.bar(x + (i - (len(bars) - 1) / 2) * w, [shares.get(k, 0) for k in keys], w, color=colour, label=label)
        ax.set_xticks(x, keys, rotation=40, ha="right", fontsize=7)
        title = _pred_title(r["run"], r)
        if ra:  # gamma differs per run: it goes in the panel's title, not the shared legend
            title += "\n" + _pred_title(f"annotator: alpha {ra['alpha']:g}, gamma {ra['gamma']:.3g}", ra)
        ax.set_title(title, fontsize=8)
    axes[0][0].set_ylabel(f"share: {attribute}")
    axes[0][0].legend(fontsize=7)
    return _save(fig, path)


def _pred_title(head: str, r: dict) -> str:
    tv = r["tv_pred_obs"]
    return f"{head} (ESS {r['ess']:.0f}, TV {tv:.2f})" if tv is not None else head


def mitigation_frontier(mitigated: dict[str, dict], refs: dict[str, dict], path: Path) -> Path:
    """Diversity (Vendi; 1 - TF-IDF cosine) against quality: one line per decoding method over its settings (names
    ``<method>-<setting>``, in the order given), the reference checkpoints as stars. One row of panels against the
    reward model's score and, when the evaluations have it, one against the simulated annotator's own score (the
    tiny world's true quality)."""
    plt = _plt()
    panels = [("semantic/vendi", "Vendi score"), ("semantic/tfidf_cos_mean", "1 - TF-IDF cosine")]
    x_axes = [("quality/reward_mean", "reward-model score", "reward")]
    if any(m.get("quality/annotator_mean") is not None for m in [*mitigated.values(), *refs.values()]):
        x_axes.append(("quality/annotator_mean", "annotator's score (true quality)", "the annotator's score"))
    fig, axes = plt.subplots(len(x_axes), 2, figsize=(10, 4 * len(x_axes)), squeeze=False)

    def y(m: dict, key: str) -> float | None:
        v = m.get(key)
        return None if v is None else (1 - v if key == "semantic/tfidf_cos_mean" else v)

    methods: dict[str, list[tuple[str, dict]]] = {}
    for name, m in mitigated.items():
        methods.setdefault(name.split("-")[0], []).append((name, m))
    cmap = plt.get_cmap("tab10")
    for row, (x_key, x_label, x_name) in zip(axes, x_axes, strict=True):
        for ax, (key, label) in zip(row, panels, strict=True):
            for i, (name, m) in enumerate(refs.items()):
                if m.get(x_key) is not None and y(m, key) is not None:
                    ax.scatter(m[x_key], y(m, key), marker="*", s=160, zorder=3, label=name,
                               color=COLOURS.get(name, ["black", "tab:green", "tab:red"][min(i, 2)]))
            for j, (method, pts) in enumerate(methods.items()):
                pts = [(n, m) for n, m in pts if m.get(x_key) is not None and y(m, key) is not None]
                if not pts:
                    continue
                ax.plot([m[x_key] for _, m in pts], [y(m, key) for _, m in pts], "o-", color=cmap(j % 10),
                        label=method)
                for n, m in pts:
                    ax.annotate(n.removeprefix(method).lstrip("-"), (m[x_key], y(m, key)), fontsize=7,
                                xytext=(3, 3), textcoords="offset points")
            ax.set_xlabel(f"{x_label} ({x_key})")
            ax.set_ylabel(label)
            ax.set_title(f"{label} against {x_name}", fontsize=10)
    axes[0][0].legend(fontsize=7, loc="best")
    return _save(fig, path)
