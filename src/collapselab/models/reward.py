"""The one reward-model scorer: load a sequence-classification reward model and score chats.

Training (``align.reward``: held-out accuracy), the quality probe (``quality/reward_mean``)
and the report all score through ``score_chats``, so a chat is rendered, tokenised, padded and
truncated the same way everywhere: the tokenizer's chat template (it carries its own BOS text,
so no special tokens are added) or, without one, ``"<user>\\n<assistant>"`` with special tokens;
right padding (the model reads the last non-pad token); truncation at the model's context.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from collapselab.errors import UserError


def load_reward_model(path: Path | str, *, lora_cfg: Any = None) -> tuple[Any, Any]:
    """A sequence-classification model with one output (the reward) and its tokenizer.

    From an SFT folder the score head is newly initialised; from a reward folder it is loaded.
    With ``lora_cfg`` LoRA layers are injected in place (the class stays, the head stays trainable).
    """
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    p = Path(path)
    if p.exists() and not (p / "config.json").is_file():
        raise UserError(f"reward_model={str(path)!r}: not a model folder (no config.json)")
    tok = AutoTokenizer.from_pretrained(path)
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    dtype = torch.float32 if not torch.cuda.is_available() else "auto"
    model = AutoModelForSequenceClassification.from_pretrained(path, num_labels=1, dtype=dtype)
    model.config.pad_token_id = tok.pad_token_id
    if lora_cfg is not None:
        from peft import inject_adapter_in_model

        model = inject_adapter_in_model(lora_cfg, model)
        for name, prm in model.named_parameters():
            prm.requires_grad = "lora_" in name or name.startswith("score")
    return model, tok


def render_chats(tok: Any, chats: list[list[dict[str, str]]]) -> tuple[list[str], bool]:
    """Each conversation as the reward model reads it, and whether special tokens must be added."""
    if getattr(tok, "chat_template", None):
        return [tok.apply_chat_template(c, tokenize=False) for c in chats], False
    return ["\n".join(turn["content"] for turn in c) for c in chats], True


def score_chats(model: Any, tok: Any, chats: list[list[dict[str, str]]], batch_size: int = 16) -> np.ndarray:
    """[N] rewards (logit 0) of N conversations (lists of ``{"role", "content"}`` turns)."""
    import torch

    if not chats:
        return np.zeros(0)
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    texts, special = render_chats(tok, chats)
    max_len = getattr(model.config, "max_position_embeddings", None)
    side, tok.padding_side = tok.padding_side, "right"
    out = []
    try:
        with torch.inference_mode():
            for i in range(0, len(texts), batch_size):
                enc = tok(texts[i : i + batch_size], return_tensors="pt", padding=True, truncation=max_len is not None,
                          max_length=max_len, add_special_tokens=special).to(device)
                out.append(model(**enc).logits[:, 0].float().cpu())
    finally:
        tok.padding_side = side
        model.train(was_training)
    return torch.cat(out).numpy()


def reward_scores(path: Path | str, requests: list[str], answers: list[str], batch_size: int = 16) -> np.ndarray:
    """[N] scores of the reward model at ``path`` for (user request, assistant answer) pairs."""
    if not answers:
        return np.zeros(0)
    model, tok = load_reward_model(path)
    chats = [[{"role": "user", "content": q}, {"role": "assistant", "content": a}]
             for q, a in zip(requests, answers, strict=True)]
    return score_chats(model, tok, chats, batch_size=batch_size)
