"""The creativity direction a (Olson et al. 2024, arXiv 2412.06060): mean residual activation on
"creative" requests minus the mean on "boring" ones, at one layer.

Choices (the paper's exact recipe is not public; these follow the EasySteer replication, see
reference/mitigations.md):

- **prompts**: the world's contrastive persona requests (``world.contrast``): ``UNUSUAL_REQUESTS`` vs
  ``ORDINARY_REQUESTS``, paired phrasing by phrasing, each sent through the model's chat template (the
  plain request for a model without one);
- **position**: where the states are read.
  - ``"answers"`` (eval/steer.py's default): the model's **own answers** to the two kinds of request,
    ``n_answers`` per side sampled at T = 1 (spread over the phrasings), each read as the mean over the
    answer's tokens after its own request: the states while it *responds* creatively vs boringly (the
    paper's abstract), read the way the score reads a text. Measured on the lab's SFT model it is the
    only reading whose score tracks the world's surprisal (docs/evaluation.md, "Creativity steering");
  - ``"last"``: the last prompt token (EasySteer; the generation prompt's last token, the state the
    answer is written from); ``"mean"``: the mean over the prompt. One forward pass, no sampling;
- **difference of means**: ``a = mean(h_creative) - mean(h_boring)``;
- **normalisation**: a is scaled to unit length (EasySteer), so ``decoding.scale`` is the L2 norm of
  what steering adds; the raw length ``raw_norm`` and the mean residual norm at that layer
  (``resid_norm``) are kept in the provenance to put a scale in context. The score is a cosine and
  does not depend on it.

Saved as ``<stem>.npz`` (the vector) beside ``<stem>.json`` (layer, checkpoint, prompts, n, date, ...),
each written to a temporary name and renamed into place.
"""

from __future__ import annotations

import hashlib
import io
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from collapselab.errors import UserError
from collapselab.io import atomic_write_json


@dataclass
class Direction:
    """A unit (or raw) direction ``vector [H]`` at decoder layer ``layer`` (``steering.hooks``), with provenance."""

    vector: np.ndarray
    layer: int
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def fingerprint(self) -> str:
        """Hash of the vector's float32 bytes and the layer (the sample-cache key of ``decoding=steer``)."""
        h = hashlib.sha256(np.ascontiguousarray(self.vector, dtype=np.float32).tobytes())
        h.update(str(self.layer).encode())
        return h.hexdigest()[:16]


def difference_of_means(pos: np.ndarray, neg: np.ndarray, *, normalise: bool = True) -> tuple[np.ndarray, float]:
    """``(a, raw_norm)``: ``a = mean(pos) - mean(neg)`` over rows (``pos [N, H]``, ``neg [M, H]``), divided
    by its length ``raw_norm`` when ``normalise``."""
    pos, neg = np.asarray(pos, dtype=np.float64), np.asarray(neg, dtype=np.float64)
    if pos.ndim != 2 or neg.ndim != 2 or pos.shape[1] != neg.shape[1] or not len(pos) or not len(neg):
        raise ValueError(f"difference_of_means: need [N, H] and [M, H] with N, M >= 1 (got {pos.shape}, {neg.shape})")
    a = pos.mean(0) - neg.mean(0)
    norm = float(np.linalg.norm(a))
    if normalise:
        if norm == 0:
            raise ValueError("difference_of_means: the two means are equal, the direction is undefined")
        a = a / norm
    return a.astype(np.float32), norm


def contrast_prompts(lm: Any) -> tuple[list[str], list[str]]:
    """(creative, boring) prompts: the world's contrastive persona requests, chat-formatted when ``lm`` has a template."""
    from collapselab.world.contrast import ORDINARY_REQUESTS, UNUSUAL_REQUESTS

    def fmt(r: str) -> str:
        chat = lm.chat_prompt(r)
        return r if chat is None else chat

    return [fmt(r) for r in UNUSUAL_REQUESTS], [fmt(r) for r in ORDINARY_REQUESTS]


@dataclass
class ContrastAnswers:
    """The model's own answers to the two kinds of request: ``creative`` / ``boring`` are (prompts, answers)
    of equal length, each prompt repeated once per answer drawn from it."""

    creative: tuple[list[str], list[str]]
    boring: tuple[list[str], list[str]]
    temperature: float
    seed: int


def contrast_answers(lm: Any, n: int, *, seed: int = 0, max_new_tokens: int = 256, temperature: float = 1.0,
                     batch_size: int = 200, prompts: tuple[list[str], list[str]] | None = None) -> ContrastAnswers:
    """``n`` sampled answers per side (round-robin over that side's phrasings), drawn by the probes' batched
    sampler (``probes.generation.sample_batched``: its batch seeding and progress bar); the two sides get
    their own seeds from ``seed``."""
    from collapselab.probes.generation import sample_batched

    if n < 1:
        raise ValueError(f"contrast_answers: n={n} must be >= 1")
    creative, boring = prompts or contrast_prompts(lm)
    sides = []
    for k, (side, reqs) in enumerate((("unusual", creative), ("ordinary", boring))):
        ps = [reqs[i % len(reqs)] for i in range(n)]
        out = sample_batched(lm, ps, max_new_tokens=max_new_tokens, temperature=temperature,
                             seed=int(np.random.SeedSequence([seed, k]).generate_state(1)[0]), batch_size=batch_size,
                             desc=f"answers to the {side} requests")
        sides.append((ps, [s.text for s in out]))
    return ContrastAnswers(sides[0], sides[1], temperature, seed)


def compute_directions(lm: Any, layers: list[int], *, position: str = "last", checkpoint: str = "",
                       prompts: tuple[list[str], list[str]] | None = None, answers: ContrastAnswers | None = None,
                       n_answers: int = 600, seed: int = 0, max_new_tokens: int = 256,
                       batch_size: int = 200) -> dict[int, Direction]:
    """One unit ``Direction`` per layer from ``prompts`` = (creative, boring) (default: ``contrast_prompts``).

    ``position="answers"`` reads the model's own answers (``answers``, or ``n_answers`` per side drawn here
    by ``contrast_answers``; answers without a token are left out); ``"last"`` / ``"mean"`` read the prompts."""
    from collapselab.steering.activations import POSITIONS, prompt_activations, text_activations

    if position not in POSITIONS:
        raise ValueError(f"position={position!r}: must be one of {', '.join(POSITIONS)}")
    creative, boring = prompts or contrast_prompts(lm)
    extra: dict[str, Any] = {}
    if position == "answers":
        if answers is None:
            answers = contrast_answers(lm, n_answers, seed=seed, max_new_tokens=max_new_tokens,
                                       batch_size=batch_size, prompts=(creative, boring))
        pos = text_activations(lm, *answers.creative, layers)
        neg = text_activations(lm, *answers.boring, layers)
        pos = {k: v[~np.isnan(v).any(1)] for k, v in pos.items()}
        neg = {k: v[~np.isnan(v).any(1)] for k, v in neg.items()}
        extra = {"answers_temperature": answers.temperature, "answers_seed": answers.seed,
                 "n_answers_creative": len(answers.creative[1]), "n_answers_boring": len(answers.boring[1]),
                 "answer_examples": {"creative": answers.creative[1][:3], "boring": answers.boring[1][:3]}}
    else:
        pos = prompt_activations(lm, creative, layers, position=position)
        neg = prompt_activations(lm, boring, layers, position=position)
    out = {}
    for layer in layers:
        a, raw = difference_of_means(pos[layer], neg[layer])
        resid = float(np.linalg.norm(np.concatenate([pos[layer], neg[layer]]), axis=1).mean())
        out[layer] = Direction(a, layer, {
            "method": "difference of means (Olson et al. 2024, arXiv 2412.06060)", "layer": layer,
            "layer_convention": "output of decoder block l (hidden_states[l], pre-final-norm)",
            "position": position, "normalised": True, "raw_norm": raw, "resid_norm": resid,
            "checkpoint": checkpoint, "n_creative": len(pos[layer]), "n_boring": len(neg[layer]),
            "creative_prompts": sorted(set(creative)), "boring_prompts": sorted(set(boring)),
            "hidden_size": int(a.shape[0]), **extra,
            "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        })
    return out


def save_direction(d: Direction, path: str | Path) -> Path:
    """Write ``<path>.npz`` (the vector) and ``<path>.json`` (provenance + fingerprint), atomically; ``path``
    may end in .npz. Returns the .npz path."""
    p = Path(path)
    p = p if p.suffix == ".npz" else p.with_name(p.name + ".npz")
    buf = io.BytesIO()
    np.savez(buf, vector=np.asarray(d.vector, dtype=np.float32), layer=np.int64(d.layer))
    _atomic_bytes(p, buf.getvalue())
    atomic_write_json(p.with_suffix(".json"), {**d.meta, "layer": d.layer, "fingerprint": d.fingerprint})
    return p


def _atomic_bytes(path: Path, data: bytes) -> None:
    import os
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_direction(path: str | Path, key: str = "direction") -> Direction:
    """A saved ``Direction`` (``path``: the .npz, or the stem); a one-line UserError naming ``key`` otherwise."""
    p = Path(path)
    p = p if p.suffix == ".npz" else p.with_name(p.name + ".npz")
    if not p.is_file():
        raise UserError(f"{key}={str(path)!r}: no direction file {p} (eval/steer.py writes one)")
    try:
        with np.load(p) as z:
            vec, layer = np.asarray(z["vector"], dtype=np.float32), int(z["layer"])
    except (OSError, KeyError, ValueError) as e:
        raise UserError(f"{key}={str(path)!r}: not a direction file ({e})") from None
    meta_path = p.with_suffix(".json")
    meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.is_file() else {}
    return Direction(vec, layer, meta)


def load_direction_at(path: str | Path, key: str, layer: int | None, layer_key: str, hint: str = "") -> Direction:
    """``load_direction``, refusing (one line naming ``layer_key``) a direction computed at a layer other than
    ``layer`` (None: any layer)."""
    d = load_direction(path, key)
    if layer is not None and d.layer != layer:
        raise UserError(f"{layer_key}={layer}: {key}={str(path)!r} was computed at layer {d.layer}{hint}")
    return d
