"""Tiny random models for unit tests: a Llama over a BPE trained on probe words (no files, < 1 s)."""

import functools

import numpy as np
import torch

WORDS = ["Grace", "Hopper", "was", "a", "computer", "scientist", "born", "in", "New", "York", "Steve", "is",
         "the", "CEO", "of", "startup", "company", "."]


@functools.lru_cache(maxsize=None)
def tiny_tokenizer(vocab_size: int = 300, seed: int = 0):
    """A byte-level BPE (``models.train_tokenizer``) on 300 random lines of ``WORDS``; one object per arguments."""
    from collapselab.models import train_tokenizer

    rng = np.random.default_rng(seed)
    lines = [" ".join(rng.choice(WORDS, size=8)) for _ in range(300)]
    return train_tokenizer(lines, vocab_size=vocab_size)


def tiny_llama(tok, seed: int = 0, name: str = "rand"):
    """A random 2-layer Llama (hidden 32, context 64) over ``tok``, weights from ``torch.manual_seed(seed)``."""
    from transformers import LlamaConfig, LlamaForCausalLM

    from collapselab.probes import HFLanguageModel

    torch.manual_seed(seed)
    cfg = LlamaConfig(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                      num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=64,
                      bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)
    return HFLanguageModel(LlamaForCausalLM(cfg), tok, name=name)
