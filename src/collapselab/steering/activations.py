"""Residual-stream activations of prompts and of texts, at the layers of ``steering.hooks`` (1..L).

Two readings (Olson et al. 2024, arXiv 2412.06060; the EasySteer replication):

- ``prompt_activations``: one vector per prompt, at its **last token** (EasySteer's choice: the state
  from which the answer is written, which has read the whole request) or the mean over its tokens;
- ``text_activations``: one vector per text, the **mean over the text's own tokens** with its prompt
  as context (the paper's score reads the text's activations; the prompt only conditions them).
"""

from __future__ import annotations

from typing import Any

import numpy as np

POSITIONS = ("last", "mean", "answers")  # answers: steering.direction reads sampled answers


def _forward(lm: Any, ids: Any, attn: Any, layers: list[int]) -> dict[int, Any]:
    """``{layer: [B, T, H] float32}`` from one forward pass of ``lm.model`` (left-padded ``ids``/``attn``)."""
    import torch

    from collapselab.steering.hooks import capture_residual

    with torch.inference_mode(), capture_residual(lm.model, layers) as acts:
        pos = (attn.cumsum(-1) - 1).clamp(min=0)
        lm.model(input_ids=ids, attention_mask=attn, position_ids=pos, logits_to_keep=1)
        return {layer: acts[layer].float() for layer in layers}


def prompt_activations(lm: Any, prompts: list[str], layers: list[int], *, position: str = "last",
                       batch_size: int = 32) -> dict[int, np.ndarray]:
    """``{layer: [N, H]}``: each prompt's residual stream at its last token (``position="last"``) or
    averaged over its tokens (``"mean"``). ``lm``: an ``HFLanguageModel`` (left padding)."""
    if position not in ("last", "mean"):
        raise ValueError(f"position={position!r}: a prompt is read at last or mean")
    out: dict[int, list[np.ndarray]] = {layer: [] for layer in layers}
    for i in range(0, len(prompts), batch_size):
        enc = lm._encode(prompts[i : i + batch_size])
        ids, attn = enc["input_ids"].to(lm.device), enc["attention_mask"].to(lm.device)
        acts = _forward(lm, ids, attn, layers)
        for layer, h in acts.items():
            if position == "last":  # left padding: the last column is every row's last real token
                v = h[:, -1]
            else:
                m = attn[..., None].to(h.dtype)
                v = (h * m).sum(1) / m.sum(1)
            out[layer].append(v.cpu().numpy())
    return {layer: np.concatenate(v) for layer, v in out.items()}


def text_activations(lm: Any, prompts: list[str], texts: list[str], layers: list[int],
                     batch_size: int = 16) -> dict[int, np.ndarray]:
    """``{layer: [N, H]}``: the residual stream averaged over each text's tokens, read with its prompt
    before it (prompt and text tokenised apart and joined, as ``continuation_logprobs`` does); a row of
    nan for an empty text."""
    import torch

    tok = lm.tok
    out: dict[int, list[np.ndarray]] = {layer: [] for layer in layers}
    for i in range(0, len(prompts), batch_size):
        pairs = []
        for p, c in zip(prompts[i : i + batch_size], texts[i : i + batch_size], strict=True):
            add = not (tok.bos_token and p.startswith(tok.bos_token))
            pairs.append((tok(p, add_special_tokens=add)["input_ids"], tok(c, add_special_tokens=False)["input_ids"]))
        L = min(max(len(a) + len(b) for a, b in pairs), lm.max_context)
        ids = torch.full((len(pairs), L), tok.pad_token_id, dtype=torch.long)
        attn = torch.zeros_like(ids)
        span = torch.zeros((len(pairs), L), dtype=torch.bool)  # the text's own tokens
        for b, (pi, ci) in enumerate(pairs):
            seq = (pi + ci)[-L:]  # past the context: keep the end (the text), drop the start of the prompt
            ids[b, L - len(seq):] = torch.tensor(seq)
            attn[b, L - len(seq):] = 1
            span[b, L - min(len(ci), len(seq)):] = len(ci) > 0
        acts = _forward(lm, ids.to(lm.device), attn.to(lm.device), layers)
        m = span[..., None].float().to(lm.device)
        for layer, h in acts.items():
            with np.errstate(invalid="ignore"):
                out[layer].append(((h * m).sum(1) / m.sum(1)).cpu().numpy())  # 0 / 0 = nan for an empty text
    return {layer: np.concatenate(v) for layer, v in out.items()}
