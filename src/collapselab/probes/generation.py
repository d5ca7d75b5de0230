"""Sampling with per-token statistics taken from the same forward passes that sample.

A ``LanguageModel`` is what probes talk to: ``sample`` draws completions at temperature T
(eq. 3.1) and returns, per generated token, the sampled token's log-probability, the
top-5 renormalised entropy (eq. 3.2) and the full-vocabulary entropy, all from the logits
the sampler used (no second pass). ``HFLanguageModel`` wraps a Hugging Face causal LM with
an explicit KV-cache loop; ``probes.stub.StubLanguageModel`` returns canned outputs for tests.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

import warnings

import numpy as np

from collapselab.errors import UserError


@dataclass
class Sample:
    """One completion and its per-token record (all lists have one entry per generated token)."""

    prompt: str
    text: str  # the completion only, special tokens removed
    token_ids: list[int] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)
    logprobs: list[float] = field(default_factory=list)  # log Pr(sampled token) at temperature T (eq. 3.1), nats
    top5_bits: list[float] = field(default_factory=list)  # eq. 3.2
    full_bits: list[float] = field(default_factory=list)
    top_probs: list[list[float]] = field(default_factory=list)  # [T][k] softmax probabilities of the top-k tokens
    top_tokens: list[list[str]] = field(default_factory=list)  # [T][k]

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        for key in ("logprobs", "top5_bits", "full_bits"):
            d[key] = [round(float(x), 5) for x in d[key]]
        d["top_probs"] = [[round(float(p), 5) for p in row] for row in d["top_probs"]]
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Sample:
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})


class LanguageModel(Protocol):
    """The generation interface every probe uses (HF models and the test stub implement it)."""

    name: str
    max_context: int

    def chat_prompt(self, user_text: str) -> str | None:
        """``user_text`` wrapped in the tokenizer's chat template (generation prompt added); None if no template."""

    def n_tokens(self, text: str, *, special: bool = True) -> int: ...

    def sample(
        self, prompts: list[str], *, max_new_tokens: int, temperature: float, seed: int, top_k: int = 5
    ) -> list[Sample]:
        """One completion per prompt, sampled at ``temperature`` (eq. 3.1), seeded by ``seed``."""

    def continuation_nll(self, prompts: list[str], continuations: list[str]) -> list[float]:
        """Mean negative log-likelihood (nats/token) of each continuation given its prompt."""


def token_stats(logits: Any, temperature: float, top_k: int = 5) -> dict[str, Any]:
    """Per-row statistics of next-token logits ``[B, V]`` at temperature T.

    Returns ``top5_bits [B]`` (eq. 3.2 via ``metrics.topk_entropy_bits``), ``full_bits [B]``,
    ``logp [B, V]`` (log-softmax of logits / T, eq. 3.1), ``top_probs [B, k]``, ``top_ids [B, k]``.
    """
    import torch

    from collapselab.metrics import full_entropy_bits, topk_entropy_bits

    logits = logits.float()
    logp = torch.log_softmax(logits / temperature, dim=-1)
    top_p, top_i = logp.exp().topk(top_k, dim=-1)
    return {
        "top5_bits": torch.as_tensor(topk_entropy_bits(logits, k=top_k, temperature=temperature)),
        "full_bits": torch.as_tensor(full_entropy_bits(logits, temperature=temperature)),
        "logp": logp,
        "top_probs": top_p,
        "top_ids": top_i,
    }


STATS_BUFFER_BYTES = 256 * 2**20  # raw logits kept between batched statistics calls


class HFLanguageModel:
    """A Hugging Face causal LM + tokenizer behind the ``LanguageModel`` interface."""

    def __init__(self, model: Any, tokenizer: Any, name: str = "model"):
        self.model = model.eval()
        self.tok = tokenizer
        self.name = name
        if self.tok.pad_token_id is None:
            self.tok.pad_token = self.tok.eos_token
        self.tok.padding_side = "left"
        self.stop_ids = _stop_ids(tokenizer)
        self.clamped: dict[int, int] = {}  # requested max_new_tokens -> what the context allowed
        cfg = model.config
        self.max_context = int(
            getattr(cfg, "max_position_embeddings", None) or getattr(self.tok, "model_max_length", 2048)
        )

    @property
    def device(self) -> Any:
        return next(self.model.parameters()).device

    def chat_prompt(self, user_text: str) -> str | None:
        if not getattr(self.tok, "chat_template", None):
            return None
        return self.tok.apply_chat_template(
            [{"role": "user", "content": user_text}], tokenize=False, add_generation_prompt=True
        )

    def _encode(self, texts: list[str]) -> Any:
        # a chat-templated prompt already carries its BOS text; do not add a second one
        special = not any(self.tok.bos_token and t.startswith(self.tok.bos_token) for t in texts)
        return self.tok(texts, return_tensors="pt", padding=True, add_special_tokens=special)

    def n_tokens(self, text: str, *, special: bool = True) -> int:
        return len(self.tok(text, add_special_tokens=special)["input_ids"])

    def sample(
        self, prompts: list[str], *, max_new_tokens: int, temperature: float, seed: int, top_k: int = 5
    ) -> list[Sample]:
        """Sample with an explicit KV-cache loop; statistics come from the sampling logits. Shapes: B = len(prompts)."""
        import torch

        enc = self._encode(prompts)
        ids, attn = enc["input_ids"].to(self.device), enc["attention_mask"].to(self.device)
        longest = int(attn.sum(-1).max())
        if longest >= self.max_context:
            raise UserError(
                f"prompt is {longest} tokens, longer than {self.name}'s context ({self.max_context} tokens): "
                "shorten the probe's prompt"
            )
        if longest + max_new_tokens > self.max_context:  # the completion is cut where the context ends
            if max_new_tokens not in self.clamped:
                warnings.warn(f"{self.name}: max_new_tokens={max_new_tokens} cut to {self.max_context - longest} "
                              f"(context {self.max_context} tokens, prompt {longest})")
            self.clamped[max_new_tokens] = self.max_context - longest
            max_new_tokens = self.max_context - longest
        gen = torch.Generator(device=self.device).manual_seed(int(seed))
        stop = torch.tensor(self.stop_ids or [-1], device=self.device)
        pad = self.tok.pad_token_id
        B = ids.shape[0]
        done = torch.zeros(B, dtype=torch.bool, device=self.device)
        ids_steps: list[Any] = []
        alive_steps: list[Any] = []
        stats: dict[str, list[Any]] = {k: [] for k in ("lp", "h5", "hf", "tp", "ti")}
        pending: list[Any] = []  # raw logits [B, V] of steps whose statistics are not computed yet
        # statistics are computed for many steps at once (one batched call instead of one per
        # step), from the very logits the sampler used; the buffer is bounded by STATS_BUFFER_BYTES
        flush_every = max(1, STATS_BUFFER_BYTES // max(1, B * self.model.config.vocab_size * 4))

        def flush() -> None:
            if not pending:
                return
            logits = torch.stack(pending, dim=1)  # [B, t, V]
            st = token_stats(logits, temperature, top_k)
            done_steps = sum(x.shape[1] for x in stats["lp"])
            chosen = torch.stack(ids_steps[done_steps:], dim=1)  # [B, t] tokens sampled from these logits
            stats["lp"].append(st["logp"].gather(2, chosen[..., None]).squeeze(2))
            stats["h5"].append(torch.as_tensor(st["top5_bits"]).to(logits.device))
            stats["hf"].append(torch.as_tensor(st["full_bits"]).to(logits.device))
            stats["tp"].append(st["top_probs"])
            stats["ti"].append(st["top_ids"])
            pending.clear()

        with torch.inference_mode():
            pos = (attn.cumsum(-1) - 1).clamp(min=0)
            out = self.model(input_ids=ids, attention_mask=attn, position_ids=pos, use_cache=True, logits_to_keep=1)
            for _ in range(max_new_tokens):
                logits = out.logits[:, -1, :].float()
                probs = torch.softmax(logits / temperature, dim=-1)  # eq. 3.1
                nxt = torch.multinomial(probs, 1, generator=gen).squeeze(1)
                alive = ~done
                nxt = torch.where(alive, nxt, torch.full_like(nxt, pad))
                ids_steps.append(nxt)
                alive_steps.append(alive)
                pending.append(logits)
                if len(pending) >= flush_every:
                    flush()
                done = done | torch.isin(nxt, stop)
                if bool(done.all()):
                    break
                attn = torch.cat([attn, torch.ones_like(attn[:, :1])], dim=1)
                pos = pos[:, -1:] + 1
                out = self.model(
                    input_ids=nxt[:, None],
                    attention_mask=attn,
                    position_ids=pos,
                    past_key_values=out.past_key_values,
                    use_cache=True,
                )
            flush()
        stacked = {k: torch.cat(v, dim=1).cpu() for k, v in stats.items()}  # [B, T] or [B, T, k]
        stacked["ids"] = torch.stack(ids_steps, dim=1).cpu()
        stacked["alive"] = torch.stack(alive_steps, dim=1).cpu()
        return [self._to_sample(prompts[b], {k: v[b] for k, v in stacked.items()}) for b in range(B)]

    def _to_sample(self, prompt: str, s: dict[str, Any]) -> Sample:
        keep = s["alive"].numpy().astype(bool)
        ids = s["ids"].numpy()[keep].tolist()
        conv = self.tok.convert_ids_to_tokens
        return Sample(
            prompt=prompt,
            text=self.tok.decode(ids, skip_special_tokens=True),
            token_ids=ids,
            tokens=self.tok.batch_decode([[i] for i in ids]),
            logprobs=s["lp"].numpy()[keep].tolist(),
            top5_bits=s["h5"].numpy()[keep].tolist(),
            full_bits=s["hf"].numpy()[keep].tolist(),
            top_probs=s["tp"].numpy()[keep].tolist(),
            top_tokens=[conv(row) for row in s["ti"].numpy()[keep].tolist()],
        )

    def continuation_nll(self, prompts: list[str], continuations: list[str], batch_size: int = 32) -> list[float]:
        """Prompt and continuation are tokenised separately and joined, so the boundary is exact."""
        import torch

        out: list[float] = []
        for i in range(0, len(prompts), batch_size):
            pairs = []
            for p, c in zip(prompts[i : i + batch_size], continuations[i : i + batch_size], strict=True):
                add = not (self.tok.bos_token and p.startswith(self.tok.bos_token))
                pi = self.tok(p, add_special_tokens=add)["input_ids"]
                ci = self.tok(c, add_special_tokens=False)["input_ids"]
                pairs.append((pi, ci))
            L = max(len(a) + len(b) for a, b in pairs)
            ids = torch.full((len(pairs), L), self.tok.pad_token_id, dtype=torch.long)
            attn = torch.zeros_like(ids)
            for b, (pi, ci) in enumerate(pairs):  # left padding, as in sampling
                seq = pi + ci
                ids[b, L - len(seq):] = torch.tensor(seq)
                attn[b, L - len(seq):] = 1
            ids, attn = ids.to(self.device), attn.to(self.device)
            with torch.inference_mode():
                pos = (attn.cumsum(-1) - 1).clamp(min=0)
                logits = self.model(input_ids=ids, attention_mask=attn, position_ids=pos).logits.float()
            logp = torch.log_softmax(logits[:, :-1], -1).gather(2, ids[:, 1:, None]).squeeze(2)  # [B, L-1]
            for b, (_, ci) in enumerate(pairs):
                lp = logp[b, L - 1 - len(ci):]  # predictions of the continuation tokens
                out.append(float(-lp.mean()) if len(ci) else float("nan"))
        return out


def _stop_ids(tokenizer: Any) -> list[int]:
    """EOS plus the chat end-of-turn token where the vocabulary has one."""
    try:
        from collapselab.models import stop_token_ids
    except ImportError:  # pragma: no cover
        return [tokenizer.eos_token_id] if tokenizer.eos_token_id is not None else []
    return stop_token_ids(tokenizer)


def mean_or_nan(xs: list[float]) -> float:
    return float(np.mean(xs)) if len(xs) else float("nan")
