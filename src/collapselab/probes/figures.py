"""The paper's figures, drawn with matplotlib (Agg). Every function saves a PNG and returns its path."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def _save(fig: Any, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def _printable(text: str) -> str:
    return "".join(c if c.isprintable() else "?" for c in text.replace("\n", "⏎"))


def _label(tok: str) -> str:
    return _printable(tok)[:12] or "∅"


def token_entropy_bars(sample: Any, path: Path, n: int = 16) -> Path:
    """Figure 12: per-token top-5 entropy (bits) of one sample's first ``n`` tokens."""
    toks, h = sample.tokens[:n], sample.top5_bits[:n]
    fig, ax = plt.subplots(figsize=(max(4, 0.5 * len(toks) + 1), 3))
    ax.bar(range(len(h)), h, color="tab:orange")
    ax.set_xticks(range(len(toks)), [_label(t) for t in toks], rotation=60, fontsize=7)
    ax.set_ylabel("top-5 entropy (bits)")
    ax.set_ylim(0, np.log2(5) * 1.05)
    return _save(fig, path)


def token_probability_stack(sample: Any, path: Path, n: int = 16) -> Path:
    """Figure 13: stacked top-k probabilities at each of one sample's first ``n`` steps."""
    probs = np.asarray(sample.top_probs[:n], dtype=float).reshape(-1, len(sample.top_probs[0]) if sample.top_probs else 1)
    fig, ax = plt.subplots(figsize=(max(4, 0.5 * len(probs) + 1), 3))
    bottom = np.zeros(len(probs))
    for j in range(probs.shape[1]):
        ax.bar(range(len(probs)), probs[:, j], bottom=bottom, label=f"top-{j + 1}")
        bottom += probs[:, j]
    ax.bar(range(len(probs)), 1 - bottom, bottom=bottom, color="lightgrey", label="rest")
    ax.set_xticks(range(len(probs)), [_label(t) for t in sample.tokens[: len(probs)]], rotation=60, fontsize=7)
    ax.set_ylabel("probability")
    ax.legend(fontsize=6, ncol=3)
    return _save(fig, path)


def entropy_boxplot(per_ckpt: dict[str, list[float]], path: Path) -> Path:
    """Figure 11: box plot of per-completion mean top-5 entropy, one box per checkpoint."""
    fig, ax = plt.subplots(figsize=(max(4, 1.2 * len(per_ckpt) + 2), 3.5))
    names = list(per_ckpt)
    ax.boxplot([[v for v in per_ckpt[n] if np.isfinite(v)] or [np.nan] for n in names])
    ax.set_xticks(range(1, len(names) + 1), names, rotation=30, ha="right", fontsize=7)
    ax.set_ylabel("mean top-5 entropy (bits)")
    return _save(fig, path)


def cluster_colours(n: int) -> list:
    """``n`` categorical colours for cluster ids: tab10, tab20 up to 20, then evenly spaced hues."""
    if n <= 10:
        return [plt.cm.tab10(i) for i in range(n)]
    if n <= 20:
        return [plt.cm.tab20(i) for i in range(n)]
    return [plt.cm.hsv(i / n) for i in range(n)]


def scatter_clusters(xy: np.ndarray, labels: Any, colour: Any, title: str, path: Path) -> Path:
    """Figures 9-10: t-SNE points [N, 2] coloured by k-means cluster id [N] (categorical colours, one
    legend entry per cluster with its size); edge colour: TF-IDF similarity [N] if given (viridis)."""
    labels = np.asarray(labels).ravel()
    ids = sorted(np.unique(labels).tolist())
    cols = cluster_colours(len(ids))
    edge = None
    if colour is not None:
        c = np.asarray(colour, dtype=float)
        edge = plt.cm.viridis(c / max(float(np.max(c)), 1e-9))
    from matplotlib.lines import Line2D

    fig, ax = plt.subplots(figsize=(5.2, 4))
    handles = []
    for j, cid in enumerate(ids):
        sel = labels == cid
        ax.scatter(xy[sel, 0], xy[sel, 1], color=cols[j], s=18,
                   edgecolors="none" if edge is None else edge[sel], linewidths=0.7)
        handles.append(Line2D([], [], marker="o", linestyle="", markersize=5, color=cols[j],
                              label=f"{cid} ({int(sel.sum())})"))
    ax.set_title(title, fontsize=8)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.legend(handles=handles, title="cluster (n)", fontsize=6, title_fontsize=7, loc="center left",
              bbox_to_anchor=(1.0, 0.5), ncol=1 if len(ids) <= 15 else 2, frameon=False)
    if edge is not None:
        ax.text(1.02, 0.02, "ring: TF-IDF sim.\n(viridis, low-high)", transform=ax.transAxes, fontsize=5.5,
                va="bottom", color="0.3")
    return _save(fig, path)


def persona_panels(parsed: list[dict], sentiment: np.ndarray, name: str, path: Path, top: int = 12) -> Path:
    """Figures 1-8 as panels: nationality, ethnicity, MBTI, gender, top first / last names, age, review length, sentiment."""
    fig, axes = plt.subplots(3, 3, figsize=(12, 10))
    for ax, key in zip(axes.flat[:6], ("nationality", "ethnicity", "mbti", "gender", "first_name", "last_name")):
        counts = Counter(str(p.get(key)) for p in parsed if p.get(key) is not None).most_common(top)
        if counts:
            labels = [_printable(c[0])[:18] + ("…" if len(c[0]) > 18 else "") for c in counts]
            ax.barh(range(len(counts)), [c[1] for c in counts][::-1])
            ax.set_yticks(range(len(counts)), labels[::-1])
        ax.set_title(key, fontsize=9)
        ax.tick_params(labelsize=7)
    ages = [p["age"] for p in parsed if isinstance(p.get("age"), int)]
    axes[2, 0].hist(ages, bins=20)
    axes[2, 0].set_title("age", fontsize=9)
    axes[2, 1].hist([len(p.get("review") or "") for p in parsed], bins=20)
    axes[2, 1].set_title("review length (chars)", fontsize=9)
    axes[2, 2].hist(sentiment, bins=20, range=(-1, 1))
    axes[2, 2].set_title("review sentiment (VADER)", fontsize=9)
    fig.suptitle(name)
    return _save(fig, path)


def coloured_tokens(sample: Any, path: Path, per_line: int = 12) -> Path:
    """Figure 14: a perturbed continuation, each token coloured by its sampled probability (red low, green high)."""
    toks = [(sample.prompt, None)] + list(zip(sample.tokens, np.exp(sample.logprobs), strict=False))
    lines, line = [], []
    for t in toks:
        line.append(t)
        if len(line) >= per_line or t[1] is None:
            lines.append(line)
            line = []
    lines.append(line)
    fig, ax = plt.subplots(figsize=(9, 0.35 * len(lines) + 0.8))
    ax.axis("off")
    cmap = plt.cm.RdYlGn
    for r, ln in enumerate(lines):
        x = 0.0
        for text, p in ln:
            shown = _printable(text)[:80]
            ax.text(x, 1 - (r + 1) / (len(lines) + 1), shown, fontsize=8, family="monospace",
                    bbox=None if p is None else {"facecolor": cmap(float(p)), "edgecolor": "none", "pad": 1})
            x += 0.0085 * max(len(shown), 1)
    return _save(fig, path)
