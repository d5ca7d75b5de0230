"""The decoding group: truncation and conformative mixing by hand, the sampler's two KV caches,
plain sampling unchanged bit for bit, the cache key, config and tokenizer errors."""

import math

import pytest
import torch

from collapselab.config import compose
from collapselab.errors import UserError
from collapselab.probes.decoding import (
    Decoding,
    DecodingRule,
    check_same_tokenizer,
    entropy_bits,
    keep_mask,
    min_p_mask,
    mix_logits,
    mix_probs,
    top_p_mask,
)
from collapselab.probes.generation import HFLanguageModel

from tiny_models import tiny_llama, tiny_tokenizer


def _bits(ps):
    return -sum(p * math.log2(p) for p in ps if p > 0)


# ------------------------------------------------------------------ truncation by hand
P = torch.tensor([[0.05, 0.5, 0.2, 0.15, 0.1]])  # unsorted on purpose: the sets are scattered back by token id


def test_min_p_by_hand():
    """min_p = 0.25: threshold 0.25 * max p = 0.25 * 0.5 = 0.125; kept 0.5, 0.2, 0.15 (0.1 and 0.05 < 0.125).
    Renormalised over their mass 0.85: (0.5, 0.2, 0.15) / 0.85 = (0.588235, 0.235294, 0.176471),
    entropy 1.383100 bits."""
    assert min_p_mask(P, 0.25).tolist() == [[False, True, True, True, False]]
    q, bits = DecodingRule(min_p=0.25).distribution(P.log())
    assert q[0].tolist() == pytest.approx([0, 0.5 / 0.85, 0.2 / 0.85, 0.15 / 0.85, 0], abs=1e-6)
    assert bits.item() == pytest.approx(1.383100, abs=1e-5)
    assert min_p_mask(P, 1.0).tolist() == [[False, True, False, False, False]]  # min_p = 1: the mode only


def test_top_p_by_hand():
    """top_p = 0.6: descending 0.5, 0.2, 0.15, 0.1, 0.05 have mass above them 0, 0.5, 0.7, 0.85, 0.95;
    a token is kept while the mass above it is < 0.6: {0.5, 0.2} (together 0.7 >= 0.6).
    Renormalised: (5/7, 2/7) = (0.714286, 0.285714), entropy 0.863121 bits.
    top_p = 0.8 keeps {0.5, 0.2, 0.15} (mass above 0.15 is 0.7 < 0.8); a tiny top_p keeps the mode.
    Ties: (0.4, 0.3, 0.3) at top_p = 0.5 needs 0.4 and one 0.3; the other 0.3 ties with it and stays."""
    assert top_p_mask(P, 0.6).tolist() == [[False, True, True, False, False]]
    assert top_p_mask(P, 0.8).tolist() == [[False, True, True, True, False]]
    assert top_p_mask(P, 0.01).tolist() == [[False, True, False, False, False]]
    assert top_p_mask(torch.tensor([[0.3, 0.4, 0.3, 0.0]]), 0.5).tolist() == [[True, True, True, False]]
    q, bits = DecodingRule(top_p=0.6).distribution(P.log())
    assert q[0].tolist() == pytest.approx([0, 5 / 7, 2 / 7, 0, 0], abs=1e-6)
    assert bits.item() == pytest.approx(0.863121, abs=1e-5)


def test_top_p_and_min_p_together_keep_the_intersection():
    """top_p = 0.8 keeps {0.5, 0.2, 0.15}; min_p = 0.35 (threshold 0.175) keeps {0.5, 0.2}: both -> {0.5, 0.2}.
    Both off: no mask, and the rule is the identity."""
    assert keep_mask(P, top_p=0.8, min_p=0.35).tolist() == [[False, True, True, False, False]]
    assert keep_mask(P) is None and DecodingRule().identity and not DecodingRule(min_p=0.1).identity


# ------------------------------------------------------------------ conformative mixture by hand
P_INSTRUCT = torch.tensor([[0.7, 0.2, 0.1, 0.0]])
P_BASE = torch.tensor([[0.1, 0.1, 0.4, 0.4]])


def test_conformative_linear_by_hand():
    """w = 0.5, min_p = 0.2, truncation on the instruct model: threshold 0.2 * 0.7 = 0.14 keeps tokens
    {0, 1} (0.7, 0.2 >= 0.14; 0.1 < 0.14; 0). Linear mixture 0.5 p_i + 0.5 p_b = (0.4, 0.15, 0.25, 0.2);
    restricted to {0, 1} and renormalised over 0.55: (0.727273, 0.272727, 0, 0), entropy 0.845351 bits.
    Tokens 2 and 3, which the base favours, stay out: a min-p set taken on the mixture
    (threshold 0.2 * 0.4 = 0.08) would have kept all four. Nucleus top_p = 0.8 on the instruct model
    (mass above: 0, 0.7, 0.9) keeps the same {0, 1}."""
    lp_i, lp_b = P_INSTRUCT.log(), P_BASE.log()
    assert mix_probs(P_INSTRUCT, P_BASE, 0.5)[0].tolist() == pytest.approx([0.4, 0.15, 0.25, 0.2])
    want = [0.4 / 0.55, 0.15 / 0.55, 0.0, 0.0]
    for rule in (DecodingRule(min_p=0.2, weight=0.5), DecodingRule(top_p=0.8, weight=0.5)):
        q, bits = rule.distribution(lp_i, lp_b)
        assert q[0].tolist() == pytest.approx(want, abs=1e-6)
        assert bits.item() == pytest.approx(_bits(want), abs=1e-5)
    assert _bits(want) == pytest.approx(0.845351, abs=1e-6)


def test_conformative_loglinear_by_hand():
    """Same case, log-linear: softmax(0.5 log p_i + 0.5 log p_b) is proportional to sqrt(p_i p_b) =
    (sqrt .07, sqrt .02, sqrt .04, 0) = (0.264575, 0.141421, 0.2, 0); restricted to {0, 1}:
    (0.651669, 0.348331, 0, 0), entropy 0.932569 bits."""
    a, b = math.sqrt(0.07), math.sqrt(0.02)
    want = [a / (a + b), b / (a + b), 0.0, 0.0]
    q, bits = DecodingRule(min_p=0.2, weight=0.5, mix="loglinear").distribution(P_INSTRUCT.log(), P_BASE.log())
    assert q[0].tolist() == pytest.approx(want, abs=1e-6)
    assert want[0] == pytest.approx(0.651669, abs=1e-6)
    assert bits.item() == pytest.approx(0.932569, abs=1e-5)


def test_mixture_weights_at_the_ends():
    """w = 0 is the instruct model, w = 1 the base, for both mixes (no 0 * -inf = nan)."""
    lp_i, lp_b = P_INSTRUCT.log(), P_BASE.log()
    assert torch.equal(mix_probs(P_INSTRUCT, P_BASE, 0.0), P_INSTRUCT)
    assert torch.equal(mix_probs(P_INSTRUCT, P_BASE, 1.0), P_BASE)
    assert torch.equal(mix_logits(lp_i, lp_b, 0.0), lp_i) and torch.equal(mix_logits(lp_i, lp_b, 1.0), lp_b)


# ------------------------------------------------------------------ the sampler
PROMPTS = ["Grace Hopper was", "Steve is the CEO of a startup company", "New York"]
# HFLanguageModel.sample at commit cfca95c (before the decoding group) on tiny_lm, seed 11, 9 new tokens
GOLDEN = {
    1.0: ([[45, 49, 175, 277, 81, 149, 240, 217, 250], [146, 174, 38, 80, 138, 30, 229, 251, 17],
           [295, 206, 171, 233, 230, 226, 261, 174, 128]],
          [-5.72165, -5.956, -5.62678, -5.55479, -5.48033, -5.67035, -5.66947, -5.66208, -5.53582]),
    0.7: ([[45, 49, 175, 277, 81, 149, 240, 217, 250], [146, 174, 37, 79, 137, 30, 229, 251, 17],
           [295, 206, 171, 233, 230, 226, 261, 174, 127]],
          [-5.73371, -6.06807, -5.59749, -5.49472, -5.38773, -5.65961, -5.65879, -5.64787, -5.46803]),
}


@pytest.mark.parametrize("temperature", [1.0, 0.7])
def test_plain_sampling_is_todays_sampler_bit_for_bit(tiny_lm, temperature):
    """Plain, top_p = 1, min_p = 0: the token ids are those the sampler drew before the decoding group
    existed (recorded at cfca95c; log-probs of the first completion to 1e-4), and passing the rule
    explicitly changes no bit of any per-token record. Drawn from the model's own distribution, so
    sampled_bits equals full_bits exactly."""
    ids, lp0 = GOLDEN[temperature]
    out = tiny_lm.sample(PROMPTS, max_new_tokens=9, temperature=temperature, seed=11)
    assert [s.token_ids for s in out] == ids
    assert out[0].logprobs == pytest.approx(lp0, abs=1e-4)
    again = tiny_lm.sample(PROMPTS, max_new_tokens=9, temperature=temperature, seed=11, decoding=DecodingRule())
    assert [s.to_json() for s in again] == [s.to_json() for s in out]
    assert all(s.sampled_bits == s.full_bits for s in out)


def _record_inputs(lm):
    """Record the input_ids of every forward call of ``lm.model``; returns (list, hook handle)."""
    calls = []
    handle = lm.model.register_forward_pre_hook(lambda mod, args, kw: calls.append(kw["input_ids"].clone()),
                                                with_kwargs=True)
    return calls, handle


def _full_pass_logp(lm, prompt, token_ids, temperature):
    """log_softmax(logits / T) that predicted each of ``token_ids`` after ``prompt``: one pass, no cache."""
    ids = lm._encode([prompt])["input_ids"]
    with torch.no_grad():
        logits = lm.model(torch.cat([ids, torch.tensor([token_ids])], dim=1)).logits[0, ids.shape[1] - 1 : -1]
    return torch.log_softmax(logits.float() / temperature, -1)


@pytest.mark.parametrize("mix", ["linear", "loglinear"])
def test_conformative_models_see_their_own_prompts_and_the_same_continuation(tiny_lm, mix):
    """The instruct model is prefilled with its chat prompts, the base with the plain prompts; every
    later step feeds both the same sampled token. Each token's sampled_bits equals the entropy of
    the rule applied to full forward passes of (chat prompt + completion) and (plain + completion),
    and the per-token log-probs stay the instruct model's own."""
    base = tiny_llama(tiny_lm.tok, seed=1, name="base")
    plain = ["Grace Hopper was", "Steve is the CEO of a startup company"]
    chat = [tiny_lm.chat_prompt("Tell me about Grace Hopper."), tiny_lm.chat_prompt("Who is Steve?")]
    rule = DecodingRule(top_p=0.9, weight=0.5, mix=mix)
    seen_i, h_i = _record_inputs(tiny_lm)
    seen_b, h_b = _record_inputs(base)
    try:
        out = tiny_lm.sample(chat, max_new_tokens=6, temperature=0.8, seed=2, decoding=rule, base=base,
                             base_prompts=plain)
    finally:
        h_i.remove()
        h_b.remove()
    assert torch.equal(seen_i[0], tiny_lm._encode(chat)["input_ids"])
    assert torch.equal(seen_b[0], base._encode(plain)["input_ids"])
    assert len(seen_i) == len(seen_b) and all(torch.equal(a, b) for a, b in zip(seen_i[1:], seen_b[1:]))
    fed = torch.cat(seen_i[1:], dim=1)  # [B, steps - 1]
    for b, (s, c, p) in enumerate(zip(out, chat, plain)):
        assert fed[b, : len(s.token_ids) - 1].tolist() == s.token_ids[:-1]
        lp_i = _full_pass_logp(tiny_lm, c, s.token_ids, 0.8)
        lp_b = _full_pass_logp(base, p, s.token_ids, 0.8)
        assert s.sampled_bits == pytest.approx(rule.distribution(lp_i, lp_b)[1].tolist(), abs=1e-4)
        own = lp_i.gather(1, torch.tensor(s.token_ids)[:, None]).squeeze(1)
        assert s.logprobs == pytest.approx(own.tolist(), abs=1e-4)
        assert all(h < f for h, f in zip(s.sampled_bits, s.full_bits))  # top-p 0.9 of a near-uniform model


def test_truncated_plain_sampling_records_the_truncated_entropy(tiny_lm):
    """min_p = 0.9 on the near-uniform random model keeps only tokens within 10% of the mode: every
    sampled token lies in that set, and sampled_bits is the entropy of the renormalised set."""
    rule = DecodingRule(min_p=0.9)
    out = tiny_lm.sample(PROMPTS[:1], max_new_tokens=5, temperature=1.0, seed=0, decoding=rule)
    lp = _full_pass_logp(tiny_lm, PROMPTS[0], out[0].token_ids, 1.0)
    keep = min_p_mask(lp.exp(), 0.9)
    assert all(keep[t, i] for t, i in enumerate(out[0].token_ids))
    assert out[0].sampled_bits == pytest.approx(rule.distribution(lp)[1].tolist(), abs=1e-4)


# ------------------------------------------------------------------ probes: prompts, cache key
def _ctx(tmp_path, decoding, fmt="chat", overrides=()):
    from collapselab.probes.base import ProbeContext
    from collapselab.probes.cache import SampleCache
    from collapselab.probes.checkpoints import Checkpoint
    from collapselab.probes.stub import StubLanguageModel

    cfg = compose("evaluate", ["checkpoints=[stub]", "logger=none", "persona.n_samples=2", "entropy.n_samples=2",
                               *overrides])
    lm = StubLanguageModel(["First name: Ada"], [0.0] * 6, chat_template=True)
    ck = Checkpoint(spec="stub", path="stub", name="stub", fingerprint="f")
    return ProbeContext(lm=lm, cfg=cfg, ckpt=ck, out_dir=tmp_path, cache=SampleCache(tmp_path / "cache"),
                        prompt_format=fmt, decoding=decoding)


def test_probes_give_the_base_its_plain_prompt_and_key_the_cache_by_rule(tmp_path):
    """Conformative: the persona chat request's base prompt is PERSONA_PROMPT; with chat_probes=all the
    Steve request's is STEVE_PROMPT (the template prefix stripped). Plain untruncated sampling keeps the
    cache key it had (a second context reads the first one's samples); a rule makes a new key, and
    decoding.temperature replaces the probe's own."""
    from collapselab.world import prompts as wp

    conf = Decoding(DecodingRule(top_p=0.9, weight=0.5), method="conformative", truncation="nucleus",
                    base=object(), base_fingerprint="b")
    ctx = _ctx(tmp_path, conf, overrides=["chat_probes=all"])
    ctx.samples("persona")
    ctx.samples("steve")
    (r1, bp1), (r2, bp2) = ctx.lm.decodings
    assert r1 is conf.rule and bp1 == [wp.PERSONA_PROMPT] * 2 and bp2 == [wp.STEVE_PROMPT] * 2
    plain = _ctx(tmp_path, None)
    plain.samples("persona")
    assert plain.lm.calls == 2 and not plain.lm.decodings
    same = _ctx(tmp_path, Decoding(DecodingRule()))  # plain, nothing set: the old key, read from the cache
    same.samples("persona")
    assert same.lm.calls == 0
    hot = _ctx(tmp_path, Decoding(DecodingRule(), temperature=0.5))
    assert hot.samples("persona") and hot.lm.calls == 2  # another temperature: another key
    assert len(list((tmp_path / "cache").glob("persona-*.jsonl"))) == 3


def test_sample_cached_before_sampled_bits_existed_reads_full_bits():
    from collapselab.probes import Sample

    s = Sample.from_json({"prompt": "p", "text": "t", "full_bits": [1.5, 2.0]})
    assert s.sampled_bits == [1.5, 2.0]


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize(
    "overrides, expected",
    [
        (["decoding=conformative", "decoding.weight=1.5"], "decoding.weight=1.5: must be between 0.0 and 1.0"),
        (["decoding=conformative", "decoding.weight=-0.1"], "decoding.weight=-0.1: must be between"),
        (["decoding.min_p=-0.1"], "decoding.min_p=-0.1: must be 0 (off) or in (0, 1]"),
        (["decoding.min_p=1.5"], "decoding.min_p=1.5: must be 0 (off) or in (0, 1]"),
        (["decoding.top_p=0"], "decoding.top_p=0.0: must be in (0, 1]"),
        (["decoding.top_p=1.2"], "decoding.top_p=1.2: must be in (0, 1]"),
        (["decoding.method=beam"], "decoding.method='beam': must be one of plain, conformative"),
        (["decoding=beam"], "decoding=beam is unknown (available: conformative, plain, steer)"),
        (["decoding=conformative", "decoding.mix=geometric"], "decoding.mix='geometric': must be one of linear"),
        (["decoding=conformative", "decoding.truncation=typical"], "decoding.truncation='typical': must be one of"),
        (["decoding=conformative", "decoding.min_p=0.1"], "decoding.min_p=0.1: truncation=nucleus reads top_p only"),
        (["decoding.weight=0.3"], "decoding.weight=0.3: only read by method=conformative"),
        (["decoding.temperature=0"], "decoding.temperature=0.0: must be > 0"),
    ],
)
def test_decoding_config_errors_name_the_key(overrides, expected):
    with pytest.raises(UserError) as e:
        compose("evaluate", ["checkpoints=[tiny]", *overrides])
    assert expected in str(e.value) and "\n" not in str(e.value)


def test_conformative_config_composes_with_its_defaults():
    d = compose("evaluate", ["checkpoints=[tiny]", "decoding=conformative", "decoding.truncation=min_p",
                             "decoding.top_p=1.0", "decoding.min_p=0.1"]).decoding
    assert (d.method, d.weight, d.base, d.mix, d.truncation, d.min_p) == ("conformative", 0.5, "auto", "linear",
                                                                          "min_p", 0.1)


def test_base_with_another_tokenizer_is_a_one_line_error(tiny_lm, tmp_path):
    """decoding.base=auto resolves the checkpoint's pretrained base; a base with another vocabulary is refused,
    naming decoding.base, before anything is sampled. A checkpoint without a base under auto is refused too."""
    from collapselab.probes.checkpoints import Checkpoint
    from collapselab.probes.harness import build_decoding, check_decoding_bases

    other = tiny_llama(tiny_tokenizer(vocab_size=280), name="other")
    folder = tmp_path / "base"
    folder.mkdir()
    (folder / "config.json").write_text("{}")  # resolve_checkpoints needs a model folder; `load` is the stub
    cfg = compose("evaluate", ["checkpoints=[x]", "logger=none", "decoding=conformative"])
    ck = Checkpoint(spec="x", path="x", name="sft", base_model=str(folder))
    with pytest.raises(UserError) as e:
        build_decoding(cfg, ck, tiny_lm, lambda path: other)
    assert str(e.value).startswith(f"decoding.base={str(folder)!r}: its tokenizer differs") and "\n" not in str(e.value)
    dec = build_decoding(cfg, ck, tiny_lm, lambda path: tiny_llama(tiny_lm.tok, seed=1))
    assert dec.base_path == str(folder) and dec.rule == DecodingRule(top_p=0.95, weight=0.5)
    with pytest.raises(UserError, match=r"decoding.base=auto: bare name\(s\) no base model"):
        check_decoding_bases(cfg, [Checkpoint(spec="y", path="y", name="bare")])
    with pytest.raises(UserError, match="its tokenizer differs"):
        check_same_tokenizer(tiny_lm, other, ["Grace Hopper was"], "other")


def test_auto_base_is_the_pretrained_root_not_the_parent(tiny_lm, tmp_path):
    """Mind the Gap guides an instruct model with its own base: for a PPO checkpoint trained from RS, itself from SFT
    and SFT from the pretrained base, decoding.base=auto loads the pretrained base (it loaded RS, the parent)."""
    import json

    from collapselab.layout import META_FILE
    from collapselab.probes.checkpoints import Checkpoint
    from collapselab.probes.harness import build_decoding

    for name, parent in {"base": None, "sft": "base", "rs": "sft"}.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "config.json").write_text("{}")
        meta = {"algo": "pretrain"} if parent is None else {"algo": name, "base_model": str(tmp_path / parent)}
        (tmp_path / name / META_FILE).write_text(json.dumps(meta))
    loaded = []
    cfg = compose("evaluate", ["checkpoints=[x]", "logger=none", "decoding=conformative"])
    ck = Checkpoint(spec="x", path="x", name="ppo", algo="ppo", base_model=str(tmp_path / "rs"))
    dec = build_decoding(cfg, ck, tiny_lm, lambda path: loaded.append(path) or tiny_llama(tiny_lm.tok, seed=1))
    assert loaded == [str(tmp_path / "base")] and dec.base_path == str(tmp_path / "base")


@pytest.mark.parametrize("guided", [False, True])
def test_rows_that_stop_leave_the_batch_and_the_others_are_unchanged(tiny_lm, guided):
    """Half the vocabulary made stop tokens: rows stop at different steps, so finished rows are dropped
    from the batch (and from both caches) mid-sample. Each completion still ends at its first stop
    token, and every per-token record equals a full forward pass over its own prompt + completion."""
    lm = HFLanguageModel(tiny_lm.model, tiny_lm.tok, name="tiny")
    lm.stop_ids = list(range(3, lm.model.config.vocab_size, 2))
    prompts = [PROMPTS[i % 3] + " " * (i // 3) for i in range(12)]  # 12 rows, prompts of several lengths
    kw = {}
    if guided:
        kw = dict(decoding=DecodingRule(weight=0.5), base=tiny_llama(tiny_lm.tok, seed=1, name="base"),
                  base_prompts=list(prompts))
    seen, handle = _record_inputs(lm)
    try:
        out = lm.sample(prompts, max_new_tokens=8, temperature=0.9, seed=5, **kw)
    finally:
        handle.remove()
    assert [x.shape[0] for x in seen][0] == 12 and min(x.shape[0] for x in seen) < 12  # rows were dropped
    lengths = [len(s.token_ids) for s in out]
    assert len(set(lengths)) > 2 and min(lengths) < 4  # rows stopped at several steps, some early
    stop = set(lm.stop_ids)
    for s, p in zip(out, prompts):
        ids = s.token_ids
        assert all(i not in stop for i in ids[:-1]) and (ids[-1] in stop or len(ids) == 8)
        lp = _full_pass_logp(lm, p, ids, 0.9)
        own = lp.gather(1, torch.tensor(ids)[:, None]).squeeze(1)
        assert s.logprobs == pytest.approx(own.tolist(), abs=1e-4)
        assert s.full_bits == pytest.approx(entropy_bits(lp).tolist(), abs=1e-4)
        if guided:
            lp_b = _full_pass_logp(kw["base"], p, ids, 0.9)
            assert s.sampled_bits == pytest.approx(
                kw["decoding"].distribution(lp, lp_b)[1].tolist(), abs=1e-4)


def test_continuation_logprobs_equal_one_unpadded_pass_per_row(tiny_lm):
    """Rows of different lengths, batched by length two at a time (padding, reordering, the vocabulary head
    on the last positions only): each sum equals one forward pass over that row alone, in the input order."""
    prompts = ["Grace Hopper was", "New York", "Steve is the CEO of a startup company", "A", "New York"]
    conts = [" a rear admiral of the navy", " is", "", " who wrote many of the first programs", " city"]
    sums, counts = tiny_lm.continuation_logprobs(prompts, conts, batch_size=2)
    for p, c, got, n in zip(prompts, conts, sums, counts):
        ids = tiny_lm.tok(c, add_special_tokens=False)["input_ids"]
        assert n == len(ids)
        want = float(_full_pass_logp(tiny_lm, p, ids, 1.0).gather(1, torch.tensor(ids)[:, None]).sum()) if ids else 0
        assert got == pytest.approx(want, abs=1e-4)


def test_truncated_entropy_skips_the_zeros_and_equals_the_plain_formula():
    """The entropy of a truncated, renormalised row: prob_entropy_bits (xlogy, no log of the zeros) equals
    -sum q log2 q over the kept tokens, and entropy_bits on log q (to float rounding); renormalise sums to 1 on
    the kept tokens and leaves its input alone."""
    from collapselab.probes.decoding import prob_entropy_bits, renormalise

    p = torch.softmax(torch.randn(4, 300, generator=torch.Generator().manual_seed(1)) * 3, -1)
    before = p.clone()
    keep = p > 2e-3
    q = renormalise(p, keep)
    assert torch.equal(p, before) and torch.equal(q > 0, keep) and torch.allclose(q.sum(-1), torch.ones(4))
    logq = torch.where(keep, q, 1.0).log().masked_fill(~keep, float("-inf"))
    assert torch.allclose(prob_entropy_bits(q), entropy_bits(logq, q), rtol=0, atol=1e-6)
    by_hand = [-sum(float(v) * math.log2(float(v)) for v in row[row > 0]) for row in q]
    assert prob_entropy_bits(q).tolist() == pytest.approx(by_hand, abs=1e-5)


def test_nucleus_among_candidates_equals_the_full_sort():
    """nucleus_floor sorts only the tokens above (1 - top_p) / 2V on CPU; the set equals the one from a
    full sort of every row (cumulative sums in float64, as torch's CPU cumsum), peaked, flat and tied rows."""
    import numpy as np

    from collapselab.probes.decoding import top_p_mask

    def full_sort(p, top_p):
        s = torch.from_numpy(np.ascontiguousarray(np.sort(p.numpy(), axis=-1)[..., ::-1]))
        return p >= s.gather(-1, (s.cumsum(-1)[..., :-1] < top_p).sum(-1, keepdim=True))

    g = torch.Generator().manual_seed(0)
    for scale in (0.5, 2.0, 8.0, 16.0):
        for V in (7, 300, 2048):
            x = torch.randn(6, V, generator=g) * scale
            x = torch.round(x) if V == 300 else x  # ties at the boundary
            p = torch.softmax(x, -1)
            for top_p in (0.5, 0.9, 0.95, 0.99):
                assert torch.equal(top_p_mask(p, top_p), full_sort(p, top_p)), (scale, V, top_p)
    # one batch mixing both passes: peaked rows (nucleus among p >= (1 - top_p) / 64), a head with a long
    # flat tail (the nucleus reaches into it: the second pass), near-uniform rows, and top_p next to 1
    V = 4096
    tail = torch.full((V,), 0.3 / (V - 1))
    tail[0] = 0.7
    x = torch.cat([torch.randn(3, V, generator=g) * 8, tail.log()[None], torch.randn(2, V, generator=g) * 0.1])
    p = torch.softmax(x, -1)
    for top_p in (0.5, 0.9, 0.95, 0.99, 1 - 1e-9):
        assert torch.equal(top_p_mask(p, top_p), full_sort(p, top_p)), top_p
    assert int(top_p_mask(p, 0.95)[3].sum()) > V // 2  # the tail row really took the second pass
