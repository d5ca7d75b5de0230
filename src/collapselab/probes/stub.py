"""A stub language model with canned outputs (like lm-evaluation-harness's dummy model).

It implements the ``LanguageModel`` interface: ``sample`` cycles through canned completions
and gives every generated token the same canned next-token logits, so the statistics the
probes read (top-5 entropy, sampled-token log-prob) are known in closed form. ``calls``
counts the prompts it was asked to complete (the cache tests check it stays 0 on a rerun).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from collapselab.probes.generation import Sample, token_stats


class StubLanguageModel:
    """Canned completions; per-token stats from fixed logits ``[V]`` via ``generation.token_stats``."""

    def __init__(self, texts: Sequence[str] | dict[str, Sequence[str]], logits: Sequence[float],
                 name: str = "stub", chat_template: bool = False, max_context: int = 4096):
        # texts: one list for every prompt, or {prompt substring: list} (first match wins; "" = default)
        self.texts = {"": list(texts)} if not isinstance(texts, dict) else {k: list(v) for k, v in texts.items()}
        self.logits = np.asarray(logits, dtype=np.float32)
        self.name = name
        self.max_context = max_context
        self.has_chat = chat_template
        self.calls = 0
        self.steers: list[Any] = []
        self.decodings: list[tuple[Any, list[str] | None]] = []
        self._i: dict[str, int] = {}

    def chat_prompt(self, user_text: str) -> str | None:
        return f"<|user|>\n{user_text}<|end|>\n<|assistant|>\n" if self.has_chat else None

    def n_tokens(self, text: str, *, special: bool = True) -> int:
        return len(text.split()) + int(special)

    def sample(self, prompts: list[str], *, max_new_tokens: int, temperature: float, seed: int,
               top_k: int = 5, decoding: Any = None, base: Any = None,
               base_prompts: list[str] | None = None, steer: Any = None) -> list[Sample]:
        """Canned texts whatever the decoding rule; ``decodings`` records (rule, base prompts) per call,
        ``steers`` the steering settings (``probes.decoding.Steer``) of each steered call."""
        import torch

        self.calls += len(prompts)
        if steer is not None:
            self.steers.append(steer)
        if decoding is not None:
            self.decodings.append((decoding, base_prompts))
        st = token_stats(torch.as_tensor(self.logits)[None, :], temperature, top_k)
        out = []
        for p in prompts:
            key = next(k for k in sorted(self.texts, key=len, reverse=True) if k in p)
            pool = self.texts.get(key) or self.texts[""]
            i = self._i.get(key, 0)
            self._i[key] = i + 1
            text = pool[i % len(pool)]
            words = text.split(" ")[:max_new_tokens]
            toks = [(" " if j else "") + w for j, w in enumerate(words)]
            T = len(toks)
            out.append(Sample(
                prompt=p,
                text="".join(toks),
                token_ids=list(range(T)),
                tokens=toks,
                logprobs=[float(st["logp"][0].max())] * T,
                top5_bits=[float(st["top5_bits"][0])] * T,
                full_bits=[float(st["full_bits"][0])] * T,
                sampled_bits=[float(st["full_bits"][0])] * T,
                top_probs=[st["top_probs"][0].tolist()] * T,
                top_tokens=[[str(i) for i in st["top_ids"][0].tolist()]] * T,
            ))
        return out

    def continuation_nll(self, prompts: list[str], continuations: list[str]) -> list[float]:
        import torch

        logp = torch.log_softmax(torch.as_tensor(self.logits), -1)
        return [float(-logp.max())] * len(prompts)
