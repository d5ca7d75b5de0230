"""Sampling with per-token statistics taken from the same forward passes that sample.

A ``LanguageModel`` is what probes talk to: ``sample`` draws completions at temperature T
(eq. 3.1) and returns, per generated token, the sampled token's log-probability, the
top-5 renormalised entropy (eq. 3.2) and the full-vocabulary entropy, all from the logits
the sampler used (no second pass), and the entropy of the distribution actually drawn from
(``probes.decoding``: truncation, conformative mixing with a base model). ``HFLanguageModel`` wraps a Hugging Face causal LM with
an explicit KV-cache loop; ``probes.stub.StubLanguageModel`` returns canned outputs for tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import math
import warnings

import numpy as np

from collapselab.errors import UserError
from collapselab.models.chat import stop_token_ids
from collapselab.probes.decoding import DecodingRule
from collapselab.probes.kvcache import KVStream


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
    # entropy (bits) of the distribution the token was drawn from: after decoding's truncation, mixing and
    # temperature (probes.decoding); equals full_bits for plain sampling
    sampled_bits: list[float] = field(default_factory=list)
    top_probs: list[list[float]] = field(default_factory=list)  # [T][k] softmax probabilities of the top-k tokens
    top_tokens: list[list[str]] = field(default_factory=list)  # [T][k]

    def to_json(self) -> dict[str, Any]:
        # built field by field: dataclasses.asdict deep-copies every per-token list first
        def r5(xs: list[float]) -> list[float]:
            return [round(float(x), 5) for x in xs]

        return {
            "prompt": self.prompt, "text": self.text, "token_ids": list(self.token_ids), "tokens": list(self.tokens),
            "logprobs": r5(self.logprobs), "top5_bits": r5(self.top5_bits), "full_bits": r5(self.full_bits),
            "sampled_bits": r5(self.sampled_bits),
            "top_probs": [r5(row) for row in self.top_probs], "top_tokens": [list(row) for row in self.top_tokens],
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Sample:
        s = cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})
        if "sampled_bits" not in d:  # cached before decoding rules existed: drawn from the model's own distribution
            s.sampled_bits = list(s.full_bits)
        return s


class LanguageModel(Protocol):
    """The generation interface every probe uses (HF models and the test stub implement it)."""

    name: str
    max_context: int

    def chat_prompt(self, user_text: str) -> str | None:
        """``user_text`` wrapped in the tokenizer's chat template (generation prompt added); None if no template."""

    def n_tokens(self, text: str, *, special: bool = True) -> int: ...

    def sample(
        self, prompts: list[str], *, max_new_tokens: int, temperature: float, seed: int, top_k: int = 5,
        decoding: DecodingRule | None = None, base: Any = None, base_prompts: list[str] | None = None,
        steer: Any = None,
    ) -> list[Sample]:
        """One completion per prompt, sampled at ``temperature`` (eq. 3.1), seeded by ``seed``.

        ``decoding``: the rule that picks the distribution drawn from (None: the model's own);
        conformative rules also take the ``base`` model and its ``base_prompts`` (one per prompt);
        ``steer`` (``probes.decoding.Steer``): add its vector to one layer's residual stream while sampling.
        Probes pass these only for a rule that changes sampling."""

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


def draw_tokens(probs: Any, generator: Any) -> Any:
    """One token per row of ``probs [B, V]`` (rows need not be normalised) -> ``[B, 1]`` long.

    Inverse-CDF sampling: an exact draw from each row's distribution using one uniform number per
    row; ``torch.multinomial`` draws one exponential per vocabulary entry instead, about a third of
    a small model's decoding step. Zero-probability entries are never drawn.
    """
    import torch

    cdf = probs.cumsum(dim=-1)
    u = torch.rand((probs.shape[0], 1), generator=generator, device=probs.device, dtype=cdf.dtype) * cdf[:, -1:]
    return torch.searchsorted(cdf, u, right=True).clamp_(max=probs.shape[-1] - 1)


class HFLanguageModel:
    """A Hugging Face causal LM + tokenizer behind the ``LanguageModel`` interface."""

    def __init__(self, model: Any, tokenizer: Any, name: str = "model"):
        self.model = model.eval()
        self.tok = tokenizer
        self.name = name
        if self.tok.pad_token_id is None:
            self.tok.pad_token = self.tok.eos_token
        self.tok.padding_side = "left"
        self.stop_ids = stop_token_ids(tokenizer)
        self.clamped: dict[int, int] = {}  # requested max_new_tokens -> what the context allowed
        self._token_texts: dict[int, str] = {}  # token id -> decode([id]), see _token_text
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

    def _fit(self, prompts: list[str], max_new_tokens: int) -> tuple[Any, Any, int]:
        """Encoded prompts ``ids``/``attn`` ``[B, L]`` on the device, and ``max_new_tokens`` cut to the context."""
        enc = self._encode(prompts)
        ids, attn = enc["input_ids"].to(self.device), enc["attention_mask"].to(self.device)
        longest = int(attn.sum(-1).max())
        if longest >= self.max_context:
            raise UserError(
                f"prompt is {longest} tokens, longer than {self.name}'s context ({self.max_context} tokens): "
                "shorten the probe's prompt"
            )
        if longest + max_new_tokens > self.max_context:  # the completion is cut where the context ends
            if max_new_tokens not in self.clamped:  # the same text for every checkpoint: Python shows it once
                warnings.warn(f"max_new_tokens={max_new_tokens} cut to {self.max_context - longest} where the model's "
                              f"context ({self.max_context} tokens) ends after a {longest}-token prompt", stacklevel=2)
            self.clamped[max_new_tokens] = self.max_context - longest
            max_new_tokens = self.max_context - longest
        return ids, attn, max_new_tokens

    def sample(
        self, prompts: list[str], *, max_new_tokens: int, temperature: float, seed: int, top_k: int = 5,
        decoding: DecodingRule | None = None, base: HFLanguageModel | None = None,
        base_prompts: list[str] | None = None, steer: Any = None,
    ) -> list[Sample]:
        """Sample with an explicit KV-cache loop; statistics come from the sampling logits. Shapes: B = len(prompts).

        Per step: one log-softmax of logits / T gives the model's own distribution (eq. 3.1), the
        sampled token's log-prob, the full-vocabulary entropy and the top-k log-probs; only
        [B] and [B, k] results are kept, written into buffers allocated once. Eq. 3.2 is
        applied to all kept top-k log-probs in one ``metrics.topk_entropy_bits`` call at the end.
        ``decoding`` (``probes.decoding``; None: the model's own distribution) says which distribution
        the token is drawn from; conformative decoding also advances ``base``'s KV cache over
        ``base_prompts`` (its own prompt format), feeding it the same sampled tokens. The per-token
        statistics stay on this model's own distribution; ``sampled_bits`` is the entropy of the one drawn from.
        ``steer`` (``probes.decoding.Steer``; Olson et al. 2024): ``scale * vector`` is added to decoder layer
        ``layer``'s output at every position of the prefill and of every step (a forward hook, removed on
        return); the statistics are then those of the steered model.
        """
        import contextlib

        from collapselab.steering.hooks import add_to_residual

        hook = contextlib.nullcontext() if steer is None else add_to_residual(self.model, steer.layer,
                                                                              steer.scale * _tensor(steer.vector))
        with hook:
            return self._sample(prompts, max_new_tokens=max_new_tokens, temperature=temperature, seed=seed,
                                top_k=top_k, decoding=decoding, base=base, base_prompts=base_prompts)

    def _sample(
        self, prompts: list[str], *, max_new_tokens: int, temperature: float, seed: int, top_k: int,
        decoding: DecodingRule | None, base: HFLanguageModel | None, base_prompts: list[str] | None,
    ) -> list[Sample]:
        import torch

        from collapselab.metrics import topk_entropy_bits

        rule = None if decoding is None or decoding.identity else decoding
        guided = rule is not None and rule.conformative
        if guided and (base is None or base_prompts is None or len(base_prompts) != len(prompts)):
            raise ValueError("conformative decoding needs the base model and one base prompt per prompt")
        dev = self.device
        ids, attn, T = self._fit(prompts, max_new_tokens)
        if guided:
            base_ids, base_attn, T = base._fit(base_prompts, T)
        gen = torch.Generator(device=dev).manual_seed(int(seed))
        stop = torch.tensor(self.stop_ids or [-1], device=dev)
        pad = self.tok.pad_token_id
        B = ids.shape[0]
        k = min(top_k, self.model.config.vocab_size)
        # per-step results [B, T(, k)], filled column by column; columns past the last step stay unused
        tok_ids = torch.full((B, T), pad, dtype=torch.long, device=dev)
        alive = torch.zeros((B, T), dtype=torch.bool, device=dev)
        lp = torch.zeros((B, T), device=dev)
        h_full = torch.zeros((B, T), device=dev)
        h_drawn = torch.zeros((B, T if rule is not None else 0), device=dev)  # bits, of the distribution drawn from
        top_lp = torch.zeros((B, T, k), device=dev)
        top_ids = torch.zeros((B, T, k), dtype=torch.long, device=dev)
        # the rows still decoding: ``rows`` [b] indexes them in the [B, ...] buffers, ``done`` [b] marks the ones
        # that stopped since the last compaction; once a quarter of them have, they leave the batch (caches too)
        rows = torch.arange(B, device=dev)
        done = torch.zeros(B, dtype=torch.bool, device=dev)
        # a GPU syncs on every "all finished?" check; check less often there (extra steps only write pads)
        check_every = 1 if dev.type == "cpu" else 8
        steps = 0
        with torch.inference_mode():
            own = KVStream(self.model, ids, attn, T)
            guide = KVStream(base.model, base_ids, base_attn, T) if guided else None
            for t in range(T):
                x = own.logits()
                if temperature != 1.0:
                    x = x / temperature
                logp = torch.log_softmax(x, dim=-1)  # [b, V], eq. 3.1
                p = logp.exp()
                if rule is None:
                    nxt = draw_tokens(p, gen)  # [b, 1]
                else:
                    logp_base = None
                    if guided:
                        xb = guide.logits().to(dev)
                        logp_base = torch.log_softmax(xb / temperature if temperature != 1.0 else xb, dim=-1)
                    q, bits = rule.distribution(logp, logp_base, p)  # [b, V], the distribution drawn from
                    nxt = draw_tokens(q, gen)
                    h_drawn[rows, t] = bits
                lp[rows, t] = logp.gather(1, nxt).squeeze(1)
                # full-vocabulary entropy in nats (0 log 0 = 0: nansum drops the 0 * -inf of -inf logits)
                h_full[rows, t] = torch.nansum(p * logp, dim=-1).neg_()
                top_lp[rows, t], top_ids[rows, t] = torch.topk(logp, k, dim=-1)
                nxt = nxt.squeeze(1).masked_fill_(done, pad)
                alive[rows, t] = ~done
                tok_ids[rows, t] = nxt
                steps = t + 1
                done |= torch.isin(nxt, stop)
                if t + 1 == T:
                    break
                if (t + 1) % check_every == 0:
                    n_done = int(done.sum())
                    if n_done == len(rows):
                        break
                    if 4 * n_done >= len(rows):  # compact: the finished rows stop costing compute
                        keep = (~done).nonzero().squeeze(1)
                        rows, done, nxt = rows[keep], done[keep], nxt[keep]
                        own.keep(keep)
                        if guide is not None:
                            guide.keep(keep.to(base.device))
                own.advance(nxt, t)
                if guide is not None:
                    guide.advance(nxt.to(base.device), t)
        # eq. 3.2 on the kept top-k log-probs: they are the top-k logits / T shifted by one log-partition
        # per row, which the renormalisation cancels, so this equals topk_entropy_bits(logits, k, T)
        h5 = topk_entropy_bits(top_lp[:, :steps], k=k, temperature=1.0) if steps else lp[:, :0]
        h_full = h_full[:, :steps] / math.log(2)
        stacked = {
            "ids": tok_ids[:, :steps], "alive": alive[:, :steps], "lp": lp[:, :steps], "h5": h5, "hf": h_full,
            "hs": h_full if rule is None else h_drawn[:, :steps],  # plain: drawn from the model's own distribution
            "tp": top_lp[:, :steps].exp(), "ti": top_ids[:, :steps],
        }
        stacked = {key: v.cpu().numpy() for key, v in stacked.items()}
        return [self._to_sample(prompts[b], {key: v[b] for key, v in stacked.items()}) for b in range(B)]

    def _to_sample(self, prompt: str, s: dict[str, Any]) -> Sample:
        keep = s["alive"].astype(bool)
        ids = s["ids"][keep].tolist()
        return Sample(
            prompt=prompt,
            text=self.tok.decode(ids, skip_special_tokens=True),
            token_ids=ids,
            tokens=[self._token_text(i) for i in ids],
            logprobs=s["lp"][keep].tolist(),
            top5_bits=s["h5"][keep].tolist(),
            full_bits=s["hf"][keep].tolist(),
            sampled_bits=s["hs"][keep].tolist(),
            top_probs=s["tp"][keep].tolist(),
            top_tokens=[self.tok.convert_ids_to_tokens(row) for row in s["ti"][keep].tolist()],
        )

    def _token_text(self, token_id: int) -> str:
        """``decode([token_id])``, memoised per id (a completion's tokens repeat a small vocabulary)."""
        text = self._token_texts.get(token_id)
        if text is None:
            text = self._token_texts[token_id] = self.tok.decode([token_id])
        return text

    def continuation_nll(self, prompts: list[str], continuations: list[str], batch_size: int = 32) -> list[float]:
        """Mean negative log-likelihood (nats/token) of each continuation; nan for an empty one."""
        sums, counts = self.continuation_logprobs(prompts, continuations, batch_size=batch_size)
        return [-s / n if n else float("nan") for s, n in zip(sums, counts)]

    def continuation_logprobs(self, prompts: list[str], continuations: list[str],
                              batch_size: int = 32) -> tuple[list[float], list[int]]:
        """Summed log-probability (nats) of each continuation given its prompt, and its token count.

        Prompt and continuation are tokenised separately and joined, so the boundary is exact;
        rows are left-padded as in sampling, and batched in order of length (less padding), the
        results returned in the input order. Shapes: two lists of ``len(prompts)``.
        """
        import torch

        pairs = []
        for p, c in zip(prompts, continuations, strict=True):
            add = not (self.tok.bos_token and p.startswith(self.tok.bos_token))
            pairs.append((self.tok(p, add_special_tokens=add)["input_ids"],
                          self.tok(c, add_special_tokens=False)["input_ids"]))
        order = sorted(range(len(pairs)), key=lambda i: len(pairs[i][0]) + len(pairs[i][1]))
        sums, counts = [0.0] * len(pairs), [0] * len(pairs)
        for i in range(0, len(order), batch_size):
            rows = order[i : i + batch_size]
            L = max(len(pairs[r][0]) + len(pairs[r][1]) for r in rows)
            ids = torch.full((len(rows), L), self.tok.pad_token_id, dtype=torch.long)
            attn = torch.zeros_like(ids)
            for b, r in enumerate(rows):  # left padding, as in sampling
                seq = pairs[r][0] + pairs[r][1]
                ids[b, L - len(seq):] = torch.tensor(seq)
                attn[b, L - len(seq):] = 1
            ids, attn = ids.to(self.device), attn.to(self.device)
            # the continuations end every row (left padding), so only the last K = longest + 1 positions'
            # logits are needed: the vocabulary head skips the prompts
            K = max(len(pairs[r][1]) for r in rows) + 1
            with torch.inference_mode():
                pos = (attn.cumsum(-1) - 1).clamp(min=0)
                logits = self.model(input_ids=ids, attention_mask=attn, position_ids=pos,
                                    logits_to_keep=K).logits[:, :-1].float()  # [B, K-1], predicting ids[:, L-K+1:]
                logp = logits.gather(2, ids[:, L - K + 1:, None]).squeeze(2) - torch.logsumexp(logits, -1)
            for b, r in enumerate(rows):
                n = len(pairs[r][1])
                lp = logp[b, K - 1 - n:] if n else logp[b, :0]  # predictions of the continuation tokens
                sums[r], counts[r] = float(lp.sum()), n
        return sums, counts


def _tensor(x: Any) -> Any:
    import torch

    return torch.as_tensor(np.asarray(x, dtype=np.float32))


def batch_seed(seed: int, start: int) -> int:
    """The seed of the batch that starts at sample ``start`` (distinct per batch, stable per run seed)."""
    return (int(seed) * 1_000_003 + int(start)) % (2**63 - 1)


def sample_batched(
    lm: LanguageModel, prompts: list[str], *, max_new_tokens: int, temperature: float, seed: int,
    batch_size: int, top_k: int = 5, desc: str | None = None,
) -> list[Sample]:
    """One completion per prompt, in batches of ``batch_size``, each seeded by ``batch_seed(seed, start)``.

    The seeding rule is the probes' sample cache's (``probes.cache``), so a set sampled here and
    the same set sampled by a probe are the same draws. ``desc``: a progress bar with this label.
    """
    from tqdm.auto import tqdm

    out: list[Sample] = []
    with tqdm(total=len(prompts), desc=desc, unit="sample", disable=desc is None) as bar:
        for start in range(0, len(prompts), batch_size):
            batch = prompts[start : start + batch_size]
            out += lm.sample(batch, max_new_tokens=max_new_tokens, temperature=temperature,
                             seed=batch_seed(seed, start), top_k=top_k)
            bar.update(len(batch))
    return out


def mean_or_nan(xs: list[float]) -> float:
    return float(np.mean(xs)) if len(xs) else float("nan")
