"""One model's KV-cache decoding state, advanced one token per step by the sampler.

``KVStream`` runs the prefill of a left-padded batch and then one forward pass per generated
token into a ``preallocated_cache``; the sampler (``generation.HFLanguageModel.sample``) keeps one
stream per model, so conformative decoding advances the instruct and base caches in one loop.
"""

from __future__ import annotations

from typing import Any


class KVStream:
    """Decoding state of one model: ``logits`` ``[B, V]`` of the next token after each ``advance``.

    ``ids``/``attn`` ``[B, L]`` (left padding) are the prompt; ``n_new`` the most tokens that will
    be appended. Positions count real tokens only, and every step's attention mask is a prefix of
    one ``[B, L + n_new]`` mask (left padding, then ones). Call inside ``torch.inference_mode``.
    """

    def __init__(self, model: Any, ids: Any, attn: Any, n_new: int):
        import torch

        self.model = model
        B, self.L = ids.shape
        self.mask = torch.cat([attn, torch.ones((B, n_new), dtype=attn.dtype, device=attn.device)], dim=1)
        self.cache = preallocated_cache(model, self.L + n_new)
        pos = (attn.cumsum(-1) - 1).clamp(min=0)
        self.out = model(input_ids=ids, attention_mask=attn, position_ids=pos, past_key_values=self.cache,
                         use_cache=True, logits_to_keep=1)
        self.pos = pos[:, -1:]

    def logits(self) -> Any:
        """``[B, V]`` float32 logits of the next token."""
        return self.out.logits[:, -1, :].float()

    def advance(self, nxt: Any, t: int) -> None:
        """Append token ``nxt [B]``, the ``t``-th generated one (0-based), and compute the next logits."""
        self.pos = self.pos + 1
        self.out = self.model(input_ids=nxt[:, None], attention_mask=self.mask[:, : self.L + t + 1],
                              position_ids=self.pos, past_key_values=self.cache, use_cache=True)

    def keep(self, rows: Any) -> None:
        """Drop every batch row not in ``rows`` (a ``[b']`` index into the current rows) from the cache,
        the mask and the positions; call between a step's ``logits`` and the next ``advance``."""
        self.mask, self.pos = self.mask[rows], self.pos[rows]
        self.cache.batch_select_indices(rows)


def preallocated_cache(model: Any, max_len: int) -> Any:
    """A ``DynamicCache`` whose full-attention layers write into buffers of ``max_len`` positions.

    ``DynamicLayer`` grows by ``torch.cat``, copying the whole cache every step (O(T^2) memory
    traffic, most of a small model's decoding time); these layers copy only the new positions and
    expose views of the filled prefix, so attention and masks see exactly what DynamicLayer gives.
    Layers of any other kind (sliding window, linear attention) are left as the model made them.
    """
    from transformers.cache_utils import DynamicCache, DynamicLayer

    class PreallocatedLayer(DynamicLayer):
        def lazy_initialization(self, key_states: Any, value_states: Any) -> None:
            super().lazy_initialization(key_states, value_states)
            b, h, _, dk = key_states.shape
            self._k = key_states.new_empty((b, h, max_len, dk))
            self._v = value_states.new_empty((b, h, max_len, value_states.shape[-1]))
            self._n = 0

        def update(self, key_states: Any, value_states: Any, *args: Any, **kwargs: Any) -> tuple[Any, Any]:
            if not self.is_initialized:
                self.lazy_initialization(key_states, value_states)
            n, m = self._n, self._n + key_states.shape[-2]
            if m > max_len:
                raise RuntimeError(f"KV cache of {max_len} positions overflowed ({m})")
            self._k[:, :, n:m].copy_(key_states)
            self._v[:, :, n:m].copy_(value_states)
            self._n = m
            self.keys, self.values = self._k[:, :, :m], self._v[:, :, :m]
            return self.keys, self.values

        def batch_select_indices(self, indices: Any) -> None:
            if self.is_initialized:
                self._k, self._v = self._k[indices], self._v[indices]
                self.keys, self.values = self._k[:, :, : self._n], self._v[:, :, : self._n]

    cache = DynamicCache(config=model.config)
    if not cache.layers:  # a config without layer types: layers are made lazily, all DynamicLayer
        n_layers = model.config.get_text_config(decoder=True).num_hidden_layers
        cache.layers = [DynamicLayer() for _ in range(n_layers)]
        cache.layer_class_to_replicate = None
    cache.layers = [PreallocatedLayer() if type(layer) is DynamicLayer else layer for layer in cache.layers]
    return cache
