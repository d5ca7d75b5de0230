"""Verbalized-sampling answers (Zhang et al. 2025): how often they parse, and how their stated
probabilities compare with the truth. Keys under ``persona/vs_*``, written only under
``prompt_format=verbalized`` (docs/evaluation.md, "Verbalized sampling")."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from collapselab.metrics.registry import register, register_companion


def vs_stats(n_parsed: Sequence[int], complete: Sequence[bool], stated_sums: Sequence[float | None],
             k: int) -> dict[str, float]:
    """Parse statistics of N verbalized-sampling answers of k lines each.

    n_parsed[i]: well-formed lines of answer i (0..k); complete[i]: answer i has exactly k lines,
    all well-formed; stated_sums[i]: the sum of its well-formed lines' stated probabilities before
    renormalising (None when none parsed). Returns
      persona/vs_parse_rate = complete answers / N;
      persona/vs_item_rate = well-formed lines / (k N);
      persona/vs_n_unparsed = N - complete answers;
      persona/vs_stated_sum_mean = mean stated sum over answers with a parsed line (nan if none;
      1 means the model's probabilities already sum to one).
    Empty input or k < 1 -> ValueError.
    """
    n = len(n_parsed)
    if n == 0 or len(complete) != n or len(stated_sums) != n:
        raise ValueError(f"vs_stats: need one entry per answer in each list (got {n}, {len(complete)}, "
                         f"{len(stated_sums)}; at least one)")
    if k < 1 or any(not 0 <= int(x) <= k for x in n_parsed):
        raise ValueError(f"vs_stats: k={k} and n_parsed must satisfy 0 <= n_parsed <= k")
    sums = [float(s) for s in stated_sums if s is not None]
    return {
        "persona/vs_parse_rate": float(np.mean([bool(c) for c in complete])),
        "persona/vs_item_rate": float(sum(int(x) for x in n_parsed)) / (k * n),
        "persona/vs_n_unparsed": float(n - sum(bool(c) for c in complete)),
        "persona/vs_stated_sum_mean": float(np.mean(sums)) if sums else float("nan"),
    }


def stated_tv(stated: Sequence[float], truth: Sequence[float]) -> float:
    """Total variation between one answer's renormalised stated probabilities and the truth
    renormalised over the same lines: 0.5 sum |s_i - t_i| after each is divided by its sum.
    Both [n], non-negative, with a positive sum; else ValueError."""
    s, t = np.asarray(stated, dtype=float), np.asarray(truth, dtype=float)
    if s.shape != t.shape or s.size == 0 or (s < 0).any() or (t < 0).any() or s.sum() <= 0 or t.sum() <= 0:
        raise ValueError("stated_tv: two equal-length non-negative vectors with positive sums")
    return float(0.5 * np.abs(s / s.sum() - t / t.sum()).sum())


register("persona/vs_parse_rate", fn=vs_stats, higher_is_better=True, probe="persona", ci="wilson",
         description="share of verbalized-sampling answers with exactly k well-formed lines (prompt_format=verbalized)")
register("persona/vs_item_rate", fn=vs_stats, higher_is_better=True, probe="persona", ci="wilson",
         description="share of the k lines asked for per verbalized-sampling answer that are well-formed")
register_companion("persona/vs_n_unparsed", probe="persona", of="persona/vs_parse_rate", higher_is_better=False,
                   fn=vs_stats, description="verbalized-sampling answers that are not k well-formed lines (counted)")
register_companion("persona/vs_stated_sum_mean", probe="persona", fn=vs_stats,
                   description="mean sum of an answer's stated probabilities before renormalising (1: already a "
                               "distribution)")
register_companion("persona/vs_stated_tv_world", probe="persona", higher_is_better=False,
                   description="mean total variation between an answer's stated probabilities and the world's, both "
                               "renormalised over its lines (tiny world; answers with >= 2 world-valued lines)",
                   derived="mean stated_tv over answers (probes/verbalized.py)")
