"""The creativity score (Olson et al. 2024, arXiv 2412.06060): the cosine between a text's mean
residual activation at layer l (``activations.text_activations``) and the direction a at that layer."""

from __future__ import annotations

from typing import Any

import numpy as np


def cosine_scores(acts: np.ndarray, direction: np.ndarray) -> np.ndarray:
    """``cos(h_i, a)`` for each row of ``acts [N, H]`` against ``direction [H]`` -> ``[N]``; nan for a
    nan or zero row. Scale-free in both arguments."""
    h = np.asarray(acts, dtype=np.float64)
    a = np.asarray(direction, dtype=np.float64)
    if h.ndim != 2 or a.ndim != 1 or h.shape[1] != a.shape[0]:
        raise ValueError(f"cosine_scores: need acts [N, H] and direction [H] (got {h.shape}, {a.shape})")
    an = np.linalg.norm(a)
    if an == 0:
        raise ValueError("cosine_scores: the direction is the zero vector")
    hn = np.linalg.norm(h, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(hn > 0, (h @ a) / (hn * an), np.nan)


def score_texts(lm: Any, prompts: list[str], texts: list[str], directions: dict[int, np.ndarray],
                batch_size: int = 16) -> dict[int, np.ndarray]:
    """``{layer: [N]}`` creativity scores of ``texts`` (each read after its prompt) for each layer's direction,
    from one forward pass per batch."""
    from collapselab.steering.activations import text_activations

    acts = text_activations(lm, prompts, texts, sorted(directions), batch_size=batch_size)
    return {layer: cosine_scores(acts[layer], directions[layer]) for layer in directions}
