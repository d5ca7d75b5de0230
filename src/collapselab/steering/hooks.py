"""Reading and writing the residual stream of a decoder-only model with forward hooks.

Layer convention (used by the direction, the score and ``decoding=steer``): layer ``l`` in 1..L (L =
``num_hidden_layers``) is the **output of decoder block l**, the residual stream after block l has
added its attention and MLP updates. This is Hugging Face's ``hidden_states[l]`` for l < L
(``hidden_states[0]`` is the embeddings); for l = L, HF's last entry has the final norm applied, and
ours does not. Olson et al. (2024, arXiv 2412.06060) steer "at layer 8" of Llama-3-8B in the same
sense: the vector is added to that layer's residual output.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from collapselab.errors import UserError


def decoder_layers(model: Any) -> Any:
    """The ``nn.ModuleList`` of decoder blocks of an HF causal LM (Llama, Mistral, Qwen, GPT-2, ...)."""
    base = model.get_decoder() if hasattr(model, "get_decoder") else getattr(model, "model", model)
    for name in ("layers", "h", "blocks"):
        layers = getattr(base, name, None)
        if layers is not None:
            return layers
    raise ValueError(f"{type(model).__name__}: cannot find its decoder blocks (no .layers / .h / .blocks)")


def n_layers(model: Any) -> int:
    return int(model.config.get_text_config(decoder=True).num_hidden_layers)


def check_layer(model: Any, layer: Any, key: str = "layer") -> int:
    """``layer`` as an int in 1..L, else a one-line UserError naming ``key`` and the allowed range."""
    return check_layer_of(n_layers(model), layer, key)


def check_layer_of(n: int, layer: Any, key: str = "layer", model: str = "the model") -> int:
    """``check_layer`` against ``n`` decoder layers known before ``model`` (its name) is loaded."""
    if isinstance(layer, bool) or not isinstance(layer, int) or not 1 <= layer <= n:
        raise UserError(f"{key}={layer!r}: out of range, {model} has {n} decoder layers (allowed: 1..{n})")
    return layer


def _hidden(output: Any) -> Any:
    return output[0] if isinstance(output, tuple) else output


@contextlib.contextmanager
def add_to_residual(model: Any, layer: int, vector: Any) -> Iterator[None]:
    """Within the block, add ``vector [H]`` to the output of decoder block ``layer`` (1-based) at every
    position of every forward pass (prompt prefill and each sampled token). The hook is removed on exit,
    also after an exception."""
    import torch

    block = decoder_layers(model)[check_layer(model, layer) - 1]
    ref = next(model.parameters())
    v = torch.as_tensor(vector).to(device=ref.device, dtype=ref.dtype)

    def hook(_module: Any, _inputs: Any, output: Any) -> Any:
        if isinstance(output, tuple):
            return (output[0] + v, *output[1:])
        return output + v

    handle = block.register_forward_hook(hook)
    try:
        yield
    finally:
        handle.remove()


@contextlib.contextmanager
def capture_residual(model: Any, layers: list[int]) -> Iterator[dict[int, Any]]:
    """Within the block, ``out[l]`` holds the latest ``[B, T, H]`` output of decoder block ``l`` (1-based)."""
    blocks = decoder_layers(model)
    out: dict[int, Any] = {}
    handles = []
    for layer in layers:
        check_layer(model, layer)

        def hook(_m: Any, _i: Any, output: Any, layer: int = layer) -> None:
            out[layer] = _hidden(output)

        handles.append(blocks[layer - 1].register_forward_hook(hook))
    try:
        yield out
    finally:
        for h in handles:
            h.remove()
