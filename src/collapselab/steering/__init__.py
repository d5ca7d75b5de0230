"""Creativity steering and scoring (Olson et al. 2024, arXiv 2412.06060; issue #14).

- ``direction``: a = mean residual activation on "unusual" requests minus the mean on "ordinary"
  ones (the world's contrastive requests, ``world.contrast``), at the last prompt token, unit length;
  saved with its provenance.
- ``score``: the creativity score of a text, the cosine of its mean activation at the layer with a
  (probe ``creativity``, metric ``creativity/score_mean``).
- ``hooks``: the layer convention (layer l = output of decoder block l) and the forward hooks that
  read it and that add ``scale * a`` to it while sampling (``decoding=steer``).
- ``validate``: the score against the world's ground truth (``eval/steer.py``).
"""

from collapselab.steering.direction import Direction, compute_directions, difference_of_means, load_direction, load_direction_at, save_direction
from collapselab.steering.hooks import add_to_residual, capture_residual, check_layer, check_layer_of, n_layers
from collapselab.steering.score import cosine_scores, score_texts

__all__ = [
    "Direction", "add_to_residual", "capture_residual", "check_layer", "check_layer_of", "compute_directions",
    "cosine_scores", "difference_of_means", "load_direction", "load_direction_at", "n_layers", "save_direction",
    "score_texts",
]
