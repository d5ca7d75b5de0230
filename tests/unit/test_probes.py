"""Harness pieces: perturbation rule, checkpoint resolution, the resumable sample cache,
statistics taken from the sampling logits, prompt-format choice and config errors."""

import json
import math

import numpy as np
import pytest
import torch

from collapselab.config import compose
from collapselab.errors import UserError
from collapselab.probes import Checkpoint, Sample, StubLanguageModel, resolve_checkpoints
from collapselab.probes.attractor import perturb
from collapselab.probes.cache import SampleCache, batch_seed
from collapselab.probes.generation import token_stats
from collapselab.probes.harness import resolve_format
from tiny_models import tiny_llama, tiny_tokenizer


# ------------------------------------------------------------------ attractor perturbation (sec. 5.1)
@pytest.mark.parametrize(
    "completion, expected",
    [
        # the paper's example: first sentence kept, the next one's "was" negated
        (" born on November 9, 1906 in New York City. She was a computer scientist.",
         "Grace Hopper was born on November 9, 1906 in New York City. She was not"),
        (" a pioneer. Her compiler is famous. She was", "Grace Hopper was a pioneer. Her compiler is not"),
        # next sentence without was/is: append " She was not"
        (" an admiral. Many people admired her.", "Grace Hopper was an admiral. She was not"),
        (" an admiral.", "Grace Hopper was an admiral. She was not"),
        # no finished sentence: the prompt's own "was" is negated
        (" a computer scientist who", "Grace Hopper was not"),
    ],
)
def test_perturb_negates_the_next_copula(completion, expected):
    assert perturb("Grace Hopper was", completion) == expected


# ------------------------------------------------------------------ statistics from the sampling logits
def test_token_stats_by_hand():
    """Five equal logits (the rest -inf-ish): top-5 entropy log2(5) = 2.3219 bits.
    Logits (ln 4, 0): p = (0.8, 0.2), H = -(0.8 log2 0.8 + 0.2 log2 0.2) = 0.7219 bits;
    at T = 2 the logits halve: p = (2/3, 1/3), H = 0.9183 bits."""
    neg = -1e4
    st = token_stats(torch.tensor([[0.0] * 5 + [neg] * 3, [math.log(4), 0.0] + [neg] * 6]), 1.0)
    assert st["top5_bits"].tolist() == pytest.approx([math.log2(5), 0.721928], abs=1e-5)
    assert st["full_bits"].tolist() == pytest.approx([math.log2(5), 0.721928], abs=1e-5)
    assert st["top_probs"][1, :2].tolist() == pytest.approx([0.8, 0.2])
    assert st["logp"][1, 0].item() == pytest.approx(math.log(0.8))
    st2 = token_stats(torch.tensor([[math.log(4), 0.0] + [neg] * 6]), 2.0)
    assert st2["top5_bits"].item() == pytest.approx(0.918296, abs=1e-5)


def _full_pass_logits(lm, prompt: str, token_ids: list[int]) -> torch.Tensor:
    """Logits that predicted each of ``token_ids`` after ``prompt``, from one forward pass without a cache."""
    ids = lm.tok(prompt, return_tensors="pt")["input_ids"]
    full = torch.cat([ids, torch.tensor([token_ids])], dim=1)
    with torch.no_grad():
        return lm.model(full).logits[0, ids.shape[1] - 1 : -1]


def test_sampling_stats_match_a_full_forward_pass(tiny_lm):
    """The KV-cache loop's per-token log-probs and eq. 3.2 entropies equal those of one full
    forward pass over prompt + completion (left padding, two prompts of different length)."""
    from collapselab.metrics import topk_entropy_bits

    prompts = ["Grace Hopper was", "Steve is the CEO of a startup company"]
    out = tiny_lm.sample(prompts, max_new_tokens=6, temperature=1.0, seed=3)
    for p, s in zip(prompts, out):
        logits = _full_pass_logits(tiny_lm, p, s.token_ids)
        lp = torch.log_softmax(logits, -1).gather(1, torch.tensor(s.token_ids)[:, None]).squeeze(1)
        assert s.logprobs == pytest.approx(lp.tolist(), abs=1e-4)
        assert s.top5_bits == pytest.approx(topk_entropy_bits(logits, k=5).tolist(), abs=1e-4)
        assert len(s.tokens) == len(s.top_probs) == len(s.full_bits) == len(s.token_ids)
    again = tiny_lm.sample(prompts, max_new_tokens=6, temperature=1.0, seed=3)
    assert [s.token_ids for s in again] == [s.token_ids for s in out]  # same seed, same samples


def test_sampling_stats_at_temperature_equal_token_stats_of_a_full_pass(tiny_lm):
    """At T = 0.7 every per-token record (log-prob at T, eq. 3.2 entropy, full entropy, top-k
    probabilities and tokens) equals ``token_stats`` of the logits of one full forward pass."""
    prompts = ["Grace Hopper was", "Steve is the CEO of a startup company", "New York"]
    out = tiny_lm.sample(prompts, max_new_tokens=7, temperature=0.7, seed=1)
    for p, s in zip(prompts, out):
        logits = _full_pass_logits(tiny_lm, p, s.token_ids)
        st = token_stats(logits, 0.7)
        lp = st["logp"].gather(1, torch.tensor(s.token_ids)[:, None]).squeeze(1)
        assert s.logprobs == pytest.approx(lp.tolist(), abs=1e-4)
        assert s.top5_bits == pytest.approx(st["top5_bits"].tolist(), abs=1e-4)
        assert s.full_bits == pytest.approx(st["full_bits"].tolist(), abs=1e-4)
        assert np.asarray(s.top_probs) == pytest.approx(st["top_probs"].numpy(), abs=1e-4)
        assert s.top_tokens == [tiny_lm.tok.convert_ids_to_tokens(r) for r in st["top_ids"].tolist()]
        assert s.tokens == [tiny_lm.tok.decode([i]) for i in s.token_ids]


def test_draw_tokens_follows_the_distribution():
    """Row (0.5, 0.3, 0.2, 0): 10000 draws land within 0.015 of each probability and never on the
    zero entry; an unnormalised row (2, 0, 0, 2) gives indices 0 and 3 half the time each."""
    from collapselab.probes.generation import draw_tokens

    gen = torch.Generator().manual_seed(0)
    probs = torch.tensor([[0.5, 0.3, 0.2, 0.0], [2.0, 0.0, 0.0, 2.0]]).repeat(10000, 1)
    got = draw_tokens(probs, gen).squeeze(1).reshape(10000, 2)
    freq = torch.bincount(got[:, 0], minlength=4).double() / 10000
    assert freq.tolist() == pytest.approx([0.5, 0.3, 0.2, 0.0], abs=0.015)
    assert set(got[:, 1].tolist()) == {0, 3} and (got[:, 1] == 0).double().mean().item() == pytest.approx(0.5, abs=0.015)


def test_continuation_nll_is_the_mean_token_nll(tiny_lm):
    """NLL of " computer scientist" after "Grace Hopper was" = -mean log p(continuation tokens | prefix),
    worked out from one unpadded forward pass; batched with a longer pair (left padding) it is the same."""
    tok, model = tiny_lm.tok, tiny_lm.model
    p_ids = tok("Grace Hopper was")["input_ids"]
    c_ids = tok(" computer scientist", add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        logits = model(torch.tensor([p_ids + c_ids])).logits[0]
    lp = torch.log_softmax(logits, -1)
    expected = -np.mean([lp[len(p_ids) - 1 + j, c].item() for j, c in enumerate(c_ids)])
    got = tiny_lm.continuation_nll(["Grace Hopper was", "Steve is the CEO of a startup company"],
                                   [" computer scientist", " in New York"])
    assert got[0] == pytest.approx(expected, abs=1e-4)


def test_prompt_longer_than_context_is_a_user_error(tiny_lm):
    with pytest.raises(UserError, match="longer than rand's context"):
        tiny_lm.sample(["Grace Hopper was " * 40], max_new_tokens=4, temperature=1.0, seed=0)
    with pytest.warns(UserWarning, match="cut to"):  # a completion running past the context is cut there
        s = tiny_lm.sample(["Grace Hopper was"], max_new_tokens=200, temperature=1.0, seed=0)
    assert len(s[0].token_ids) <= 64


def test_the_context_cut_is_said_once_for_all_checkpoints():
    """An evaluation of many checkpoints of one model printed the same cut once per checkpoint."""
    import warnings

    tok = tiny_tokenizer()
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("default")  # Python's own: the first of each distinct warning text
        for name in ("base", "ppo-b0.02"):
            tiny_llama(tok, name=name).sample(["Grace Hopper was"], max_new_tokens=200, temperature=1.0, seed=0)
    cuts = [str(w.message) for w in seen if "cut to" in str(w.message)]
    assert len(cuts) == 1 and cuts[0].startswith("max_new_tokens=200 cut to ")


# ------------------------------------------------------------------ checkpoints
def _ckpt(folder, step, algo="ppo", beta=0.01):
    folder.mkdir(parents=True)
    (folder / "adapter_config.json").write_text("{}")
    (folder / "collapselab.json").write_text(json.dumps({"algo": algo, "beta": beta, "step": step,
                                                         "base_model": "/b", "model_name": "tiny"}))


def test_training_run_folder_means_all_checkpoints_in_step_order(tmp_path):
    run = tmp_path / "ppo" / "abc"
    for step in (20, 5, 10):
        _ckpt(run / "checkpoints" / f"step-{step:06d}", step)
    (run / "checkpoints" / "step-000030").mkdir()  # incomplete: no model files yet
    single = tmp_path / "my model"
    single.mkdir()
    (single / "config.json").write_text("{}")
    cks = resolve_checkpoints([str(run), str(single), str(single)])
    assert [c.name for c in cks] == ["ppo-b0.01-step000005", "ppo-b0.01-step000010", "ppo-b0.01-step000020",
                                     "my_model", "my_model-2"]
    assert [c.step for c in cks[:3]] == [5, 10, 20] and cks[0].aligned and cks[0].base_model == "/b"
    assert not cks[3].aligned and cks[3].step is None
    # checkpoints/latest, the run's pointer file, names the checkpoint it points at
    (run / "checkpoints" / "latest").write_text("step-000010\n")
    assert [c.step for c in resolve_checkpoints([str(run / "checkpoints" / "latest")])] == [10]


def test_bad_checkpoints_are_one_line_errors(tmp_path):
    (tmp_path / "empty").mkdir()
    for spec, msg in [(str(tmp_path / "nope"), "no such checkpoint folder"),
                      (str(tmp_path / "empty"), "holds no model")]:
        with pytest.raises(UserError, match=msg) as e:
            resolve_checkpoints([spec], known_models={"tiny"})
        assert "\n" not in str(e.value) and str(e.value).startswith("checkpoints=")


def test_a_hub_model_in_the_local_cache_resolves_offline(tmp_path, monkeypatch):
    """With HF_HUB_OFFLINE=1 (the Makefile's) a hub name resolves when its weights are in the HF cache, as
    the README's GPU command needs; one not cached is a one-line error that says why."""
    import huggingface_hub.constants

    snap = tmp_path / "models--acme--tinybase" / "snapshots" / "abc123"
    snap.mkdir(parents=True)
    (snap / "config.json").write_text("{}")
    (tmp_path / "models--acme--tinybase" / "refs").mkdir()
    (tmp_path / "models--acme--tinybase" / "refs" / "main").write_text("abc123")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    [ck] = resolve_checkpoints(["acme/tinybase"], known_models={"tiny"})
    assert (ck.path, ck.name) == ("acme/tinybase", "acme_tinybase")
    with pytest.raises(UserError, match=r"^checkpoints='acme/other': .* or a hub model in the local HF cache "
                                        r"\(HF_HUB_OFFLINE=1: nothing is downloaded\)$"):
        resolve_checkpoints(["acme/other"], known_models={"tiny"})


def test_prompt_format_auto():
    stub_chat = StubLanguageModel(["x"], [0.0, 0.0], chat_template=True)
    stub_plain = StubLanguageModel(["x"], [0.0, 0.0])
    ppo = Checkpoint("a", "a", "a", algo="ppo")
    base = Checkpoint("b", "/m/Llama-2-7b-hf", "b")
    chat_name = Checkpoint("c", "/m/Llama-2-7b-chat-hf", "c")
    assert resolve_format("auto", ppo, stub_chat) == "chat"
    assert resolve_format("auto", chat_name, stub_chat) == "chat"
    assert resolve_format("auto", base, stub_chat) == "plain"
    assert resolve_format("auto", ppo, stub_plain) == "plain"  # no template: plain text
    assert resolve_format("plain", ppo, stub_chat) == "plain"


@pytest.mark.parametrize("spec, aligned", [
    ("meta-llama/Llama-2-7b-chat-hf", True), ("Qwen/Qwen2.5-0.5B-Instruct", True), ("google/gemma-2-2b-it", True),
    ("HuggingFaceTB/SmolLM2-135M-Instruct", True), ("/m/llama2_7b_chat", True),
    ("meta-llama/Llama-2-7b-hf", False), ("google/gemma-2-2b", False), ("Qwen/Qwen2.5-0.5B", False),
    ("/runs/pretrain-step001000", False), ("/m/digit-model", False),
])
def test_a_model_whose_name_says_it_is_instruction_tuned_is_aligned(spec, aligned):
    """Only "chat" counted: an instruct model of unknown origin was taken for a pretrained base, got plain
    prompts under prompt_format=auto and was scored as its own base (entropy/base_nll, quality/base_nll)."""
    assert Checkpoint(spec, spec, "c").aligned is aligned


# ------------------------------------------------------------------ cache
def _maker(log, fail_at=None):
    def make(start, stop, seed):
        if fail_at is not None and start >= fail_at:
            raise KeyboardInterrupt  # killed mid-run
        log.append((start, stop, seed))
        return [Sample(prompt="p", text=f"t{i}", token_ids=[i]) for i in range(start, stop)]

    return make


def test_cache_resumes_a_killed_run_and_reuses_a_finished_one(tmp_path):
    key = {"probe": "bio", "seed": 7}
    cache = SampleCache(tmp_path)
    log = []
    with pytest.raises(KeyboardInterrupt):
        cache.get(key, 10, _maker(log, fail_at=4), batch_size=4)
    assert log == [(0, 4, batch_seed(7, 0))]
    log2 = []
    out = cache.get(key, 10, _maker(log2), batch_size=4)
    assert [s.text for s in out] == [f"t{i}" for i in range(10)]
    assert log2 == [(4, 8, batch_seed(7, 4)), (8, 10, batch_seed(7, 8))]  # only what was missing
    log3 = []
    assert [s.text for s in SampleCache(tmp_path).get(key, 10, _maker(log3), batch_size=4)] == [s.text for s in out]
    assert log3 == []  # a finished set generates nothing
    assert SampleCache(tmp_path).get({**key, "seed": 8}, 2, _maker(log3), batch_size=4) and log3  # new key: new samples


def test_a_sample_set_does_not_depend_on_what_was_cached_before(tmp_path):
    """A set of n samples is drawn in the batches a fresh run draws, whatever set of the same probe was cached first:
    a smaller set is not extended (its last batch was cut short, so its draws differ) and a larger one is not cut. A
    batch torn by a kill is drawn again whole, on the same grid."""
    key = {"probe": "steve", "seed": 3}
    fresh = []
    SampleCache(tmp_path / "fresh").get(key, 12, _maker(fresh), batch_size=8)
    assert fresh == [(0, 8, batch_seed(3, 0)), (8, 12, batch_seed(3, 8))]
    for first in (5, 20):  # a smaller, then a larger set cached first
        log = []
        cache = SampleCache(tmp_path / f"after-{first}")
        cache.get(key, first, _maker([]), batch_size=8)
        cache.get(key, 12, _maker(log), batch_size=8)
        assert log == fresh
    cache = SampleCache(tmp_path / "torn")
    partial = cache.path(key, 12).with_suffix(".partial.jsonl")
    partial.parent.mkdir(parents=True)
    partial.write_text("".join(json.dumps(Sample(prompt="p", text=f"t{i}", token_ids=[i]).to_json()) + "\n"
                               for i in range(3)))  # 3 rows of the first batch of 8 were written, then a kill
    log = []
    cache.get(key, 12, _maker(log), batch_size=8)
    assert log == fresh


# ------------------------------------------------------------------ config
@pytest.mark.parametrize(
    "override, expected",
    [
        ("probes=[entropy,nope]", "probes='nope': unknown probe (allowed: entropy, semantic"),
        ("entropy.n_samples=1", "entropy.n_samples=1: must be >= 2"),
        ("prompt_format=json", "prompt_format='json': must be one of auto, plain, chat"),
        ("checkpoints=[]", "checkpoints=[]"),
    ],
)
def test_config_errors_name_the_key(override, expected):
    with pytest.raises(UserError) as e:
        compose("evaluate", ["checkpoints=[tiny]", override])
    assert expected in str(e.value) and "\n" not in str(e.value)


# ------------------------------------------------------------------ compare
def _metrics_file(path, name, algo, beta, step, value):
    path.mkdir(parents=True)
    (path / "metrics.json").write_text(json.dumps({
        "entropy/top5_bits_mean": value, "entropy/top5_bits_mean_ci_lo": value - 0.1,
        "entropy/top5_bits_mean_ci_hi": value + 0.1, "semantic/kmeans_k": 3,
        "meta": {"name": name, "algo": algo, "beta": beta, "step": step}}))


def test_compare_reads_globs_and_writes_table_and_curves(tmp_path):
    from collapselab.config.evaluate import CompareConfig
    from collapselab.probes.compare import compare

    _metrics_file(tmp_path / "e1" / "base", "base", None, None, None, 1.5)
    for step, v in ((10, 1.2), (20, 1.0)):
        _metrics_file(tmp_path / "e2" / f"ppo{step}", f"ppo-b0.1-step{step:06d}", "ppo", 0.1, step, v)
    _metrics_file(tmp_path / "e2" / "dpo", "dpo-b0.5-step000020", "dpo", 0.5, 20, 1.4)
    cfg = CompareConfig(inputs=[str(tmp_path / "e1"), str(tmp_path / "e2" / "*" / "metrics.json")])
    out = compare(cfg, tmp_path / "cmp")
    assert [r["name"] for r in out["rows"]] == ["base", "dpo-b0.5-step000020", "ppo-b0.1-step000010",
                                                "ppo-b0.1-step000020"]
    md = (tmp_path / "cmp" / "compare.md").read_text()
    assert "| entropy/top5_bits_mean | 1.5 [1.4, 1.6] | 1.4 [1.3, 1.5] | 1.2 [1.1, 1.3] | 1 [0.9, 1.1] |" in md
    assert set(out["figures"]) == {"entropy/top5_bits_mean", "semantic/kmeans_k"}
    assert all(p.is_file() and p.stat().st_size > 0 for p in out["figures"].values())
    with pytest.raises(UserError, match="inputs='.*nothing': no metrics.json"):
        compare(CompareConfig(inputs=[str(tmp_path / "nothing")]), tmp_path / "cmp2")
    with pytest.raises(UserError, match="metrics='x/y': not in the inputs"):
        compare(CompareConfig(inputs=[str(tmp_path / "e1")], metrics=["x/y"]), tmp_path / "cmp3")


def test_compare_draws_a_decoding_sweep_against_its_knob(tmp_path):
    """Three conformative weights of one checkpoint are one sweep over decoding.weight; plain sampling at
    min_p 0 (off) and 0.1 is another, over min_p."""
    from collapselab.config.evaluate import CompareConfig
    from collapselab.probes.compare import compare, decoding_sweeps

    def run(folder, value, **decoding):
        _metrics_file(tmp_path / folder, "rs-step000003", "rs", None, 3, value)
        f = tmp_path / folder / "metrics.json"
        data = json.loads(f.read_text())
        data["meta"]["config"] = {"decoding": {"method": "plain", "top_p": 1.0, "min_p": 0.0, **decoding}}
        f.write_text(json.dumps(data))

    for w, v in ((0.75, 1.3), (0.25, 0.9), (0.5, 1.1)):
        run(f"w{w}", v, method="conformative", mix="linear", weight=w, top_p=0.95)
    run("plain", 0.8)
    run("minp", 1.0, min_p=0.1)
    out = compare(CompareConfig(inputs=[str(tmp_path)]), tmp_path / "cmp")
    sweeps = decoding_sweeps(out["rows"])
    assert set(sweeps) == {("rs-step000003", "conformative (linear)", "weight"), ("rs-step000003", "plain", "min_p")}
    assert [x for x, _ in sweeps[("rs-step000003", "conformative (linear)", "weight")]] == [0.25, 0.5, 0.75]
    assert out["figures"]["sweep/entropy/top5_bits_mean"].is_file()
    md = (tmp_path / "cmp" / "compare.md").read_text()
    assert "rs-step000003 (conformative (linear), weight=0.5, top_p=0.95)" in md and "rs-step000003 (plain, min_p=0.1)" in md
    assert "| rs-step000003 |" in md  # plain sampling keeps the bare name


def test_reward_scores_render_the_chat_pair(tiny_lm, tmp_path):
    """reward_scores = the score head's logit on the chat-rendered (request, answer), batched with padding."""
    from transformers import LlamaConfig, LlamaForSequenceClassification

    from collapselab.probes.quality import reward_scores

    tok = tiny_lm.tok
    torch.manual_seed(1)
    cfg = LlamaConfig(vocab_size=len(tok), hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                      num_attention_heads=2, num_key_value_heads=2, num_labels=1, pad_token_id=tok.pad_token_id)
    rm = LlamaForSequenceClassification(cfg).eval()
    rm.save_pretrained(tmp_path / "rm")
    tok.save_pretrained(tmp_path / "rm")
    pairs = [("Tell me about Grace Hopper.", "Grace Hopper was a computer scientist."), ("Who?", "Steve")]
    got = reward_scores(str(tmp_path / "rm"), [q for q, _ in pairs], [a for _, a in pairs])
    for (q, a), g in zip(pairs, got):
        text = tok.apply_chat_template([{"role": "user", "content": q}, {"role": "assistant", "content": a}],
                                       tokenize=False)
        with torch.no_grad():
            want = rm(**tok(text, return_tensors="pt", add_special_tokens=False)).logits[0, 0].item()
        assert g == pytest.approx(want, abs=1e-4)
    with pytest.raises(UserError, match="reward_model="):
        reward_scores(str(tmp_path), ["q"], ["a"])


def test_chat_probes_all_opens_the_answer_with_the_paper_prompt_and_strips_markup():
    """chat_probes=all: a chat-format checkpoint gets the request in its template, the answer forced
    to open with the paper's prompt; text metrics see only what follows the template."""
    from collapselab.config import compose
    from collapselab.probes.base import ProbeContext
    from collapselab.probes.stub import StubLanguageModel
    from collapselab.world import prompts as wp

    cfg = compose("evaluate", ["checkpoints=[stub]", "chat_probes=all", "logger=none"])
    lm = StubLanguageModel(["x"], [0.0, 0.0], chat_template=True)
    ctx = ProbeContext(lm=lm, cfg=cfg, ckpt=None, out_dir=None, cache=None, prompt_format="chat")
    prompt = ctx.spec("steve").prompt
    assert prompt == f"<|user|>\n{wp.STEVE_REQUESTS[0]}<|end|>\n<|assistant|>\n{wp.STEVE_PROMPT}"
    assert ctx.visible(prompt, " and more.") == wp.STEVE_PROMPT + " and more."
    plain = ProbeContext(lm=lm, cfg=compose("evaluate", ["checkpoints=[stub]", "logger=none"]), ckpt=None, out_dir=None, cache=None,
                         prompt_format="chat")
    assert plain.spec("bio").prompt == wp.BIO_PROMPT  # the paper's protocol: plain text for Exp. 2-3


def test_quality_scores_bios_only_under_verbalized_sampling():
    """A verbalized persona sample is k attribute lines with probabilities: neither the reward model nor the
    base scores it as a persona answer, so quality reads the bios alone there."""
    from types import SimpleNamespace

    from collapselab.probes.quality import _texts

    def ctx(fmt):
        sample = SimpleNamespace(prompt="P", text="T")
        return SimpleNamespace(cfg=SimpleNamespace(probes=["semantic", "persona", "quality"]), prompt_format=fmt,
                               samples=lambda name: [sample], visible=lambda prompt, text: prompt + text)

    assert len(_texts(ctx("chat"))[0]) == 2 and len(_texts(ctx("verbalized"))[0]) == 1


def test_quality_gives_the_annotators_score_without_typicality_by_hand():
    """Two bios, scored as the annotator scores a "Tell me about Grace Hopper." answer. VADER's lexicon rates
    "grace" 1.8, so both texts have compound 1.8 / sqrt(1.8^2 + 15) = 0.42146. "Grace Hopper was born in 1906."
    (6 words, one true fact): 2 x 0.42146 + 1 x 6/60 + 0.3 x 1 = 1.24292. " Grace Hopper was here" (4 words,
    no fact, no final stop; the leading space is stripped): 2 x 0.42146 + 4/60 - 0.3 = 0.60958. Mean 0.92625."""
    import math
    from types import SimpleNamespace

    from collapselab.probes.quality import quality_probe

    samples = [SimpleNamespace(prompt="Grace Hopper was", text=" born in 1906."),
               SimpleNamespace(prompt="Grace Hopper was", text=" here")]
    ctx = SimpleNamespace(cfg=SimpleNamespace(probes=["semantic", "quality"], reward_model=None, n_boot=200, seed=0),
                          prompt_format="plain", samples=lambda name: samples, visible=lambda prompt, text: prompt + text,
                          base_lm=lambda own=False: None)
    m = quality_probe(ctx).metrics
    v = 1.8 / math.sqrt(1.8**2 + 15)
    assert m["quality/annotator_mean"] == pytest.approx(((2 * v + 0.1 + 0.3) + (2 * v + 4 / 60 - 0.3)) / 2, abs=1e-4)
    assert m["quality/annotator_mean_ci_lo"] <= m["quality/annotator_mean"] <= m["quality/annotator_mean_ci_hi"]


def test_base_lm_scores_under_the_named_base_or_a_base_under_itself():
    """entropy/base_nll needs a reference on the base row too: a checkpoint that names no base (a pretrained
    base) scores under itself when asked (own=True, as the entropy and quality probes ask); without own it is
    skipped; a chat or instruct model of unknown origin is never its own base; base_model=null
    skips both; a named base is loaded through the context's loader."""
    from collapselab.probes.base import ProbeContext

    me, other = StubLanguageModel(["x"], [0.0, 0.0]), StubLanguageModel(["y"], [0.0, 0.0])
    loaded = []

    def ctx(overrides, base_model, algo="pretrain", spec="c"):
        cfg = compose("evaluate", ["checkpoints=[stub]", "logger=none", *overrides])
        ck = Checkpoint(spec=spec, path=spec, name="c", fingerprint="f", base_model=base_model, algo=algo)
        return ProbeContext(lm=me, cfg=cfg, ckpt=ck, out_dir=None, cache=None, prompt_format="plain",
                            loader=lambda path: loaded.append(path) or other)

    assert ctx([], None).base_lm(own=True) is me and ctx([], None).base_lm() is None
    # a hub model without metadata: a base scores under itself, a chat model (or a PPO run that lost its
    # metadata) is never its own reference
    assert ctx([], None, algo=None, spec="meta-llama/Llama-2-7b-hf").base_lm(own=True) is me
    assert ctx([], None, algo=None, spec="meta-llama/Llama-2-7b-chat-hf").base_lm(own=True) is None
    assert ctx([], None, algo=None, spec="Qwen/Qwen2.5-0.5B-Instruct").base_lm(own=True) is None
    assert ctx([], None, algo="ppo").base_lm(own=True) is None
    assert ctx([], "b").base_lm(own=True) is other and ctx([], "b").base_lm() is other and loaded == ["b", "b"]
    assert ctx(["base_model=null"], "b").base_lm(own=True) is None and ctx(["base_model=null"], None).base_lm(own=True) is None
    assert ctx(["base_model=z"], None).base_lm(own=True) is other and loaded[-1] == "z"


def test_base_lm_follows_the_lineage_to_the_pretrained_base(tmp_path):
    """collapselab.json's base_model is the model a run started from (PPO from RS, RS from SFT): base NLL is taken
    under the pretrained base at the root, not under the parent."""
    from collapselab.layout import META_FILE, pretrained_root
    from collapselab.probes.base import ProbeContext

    chain = {"base": None, "sft": "base", "rs": "sft", "ppo": "rs"}
    for name, parent in chain.items():
        (tmp_path / name).mkdir()
        meta = {"algo": "pretrain" if parent is None else name}
        if parent:
            meta["base_model"] = str(tmp_path / parent)
        (tmp_path / name / META_FILE).write_text(json.dumps(meta))
    assert pretrained_root(tmp_path / "ppo") == pretrained_root(tmp_path / "sft") == str(tmp_path / "base")
    assert pretrained_root("meta-llama/Llama-2-7b-hf") == "meta-llama/Llama-2-7b-hf"  # a hub name is a root
    loaded = []
    ck = Checkpoint(spec="p", path=str(tmp_path / "ppo"), name="p", fingerprint="f", algo="ppo",
                    base_model=str(tmp_path / "rs"))
    ctx = ProbeContext(lm=StubLanguageModel(["x"], [0.0, 0.0]), cfg=compose("evaluate", ["checkpoints=[s]", "logger=none"]),
                       ckpt=ck, out_dir=None, cache=None, prompt_format="chat", loader=lambda path: loaded.append(path))
    ctx.base_lm()
    assert loaded == [str(tmp_path / "base")]


def test_a_base_model_that_does_not_load_names_the_base_model_key():
    """base_model=<bad path>: the one-line error names the key the user set, not only the loader's 'checkpoint='."""
    from collapselab.probes.base import ProbeContext

    def loader(path):
        raise UserError(f"checkpoint={path!r}: no such folder")

    ck = Checkpoint(spec="c", path="c", name="c", fingerprint="f", algo="ppo")
    ctx = ProbeContext(lm=StubLanguageModel(["x"], [0.0, 0.0]),
                       cfg=compose("evaluate", ["checkpoints=[s]", "logger=none", "base_model=/nope"]),
                       ckpt=ck, out_dir=None, cache=None, prompt_format="plain", loader=loader)
    with pytest.raises(UserError, match=r"^base_model='/nope' .*checkpoint='/nope': no such folder"):
        ctx.base_lm()


def test_a_model_config_whose_base_needs_more_context_says_what_to_pass(tmp_path, monkeypatch):
    """``checkpoints=[tiny_test]`` on the default world: its base's documents outgrow the model config's context,
    and the keys that fix it (seq_len, model.max_position_embeddings) are pretraining's, not evaluation's. The
    error gives a pretraining command, on the evaluation's own world, that composes."""
    import re
    import shlex

    import collapselab.models as models
    from collapselab.models.pretrain import encode_documents
    from collapselab.probes.harness import _model_resolver
    from tiny_models import WORDS, tiny_tokenizer

    texts = [" ".join(WORDS * 6)] * 10  # about 300 tokens each: longer than the 256 of tiny_test's config
    monkeypatch.setattr(models, "ensure_base", lambda mc, world, art: encode_documents(tiny_tokenizer(), texts, 256))
    cfg = compose("evaluate", ["checkpoints=[tiny_test]", "world.n_personas=300", f"artifacts_dir={tmp_path}"])
    with pytest.raises(UserError) as e:
        _model_resolver(cfg)("tiny_test")
    msg = str(e.value)
    assert msg.startswith("checkpoints='tiny_test': seq_len=256: 10 of 10 world documents are longer") and "\n" not in msg
    longest = int(re.search(r"up to (\d+) tokens", msg).group(1))
    command = shlex.split(re.search(r"`python training/pretrain.py ([^`]*)`", msg).group(1))
    n = math.ceil(longest / 64) * 64
    assert command == ["model=tiny_test", f"seq_len={n}", f"model.max_position_embeddings={n}", "world.n_personas=300",
                       f"artifacts_dir={tmp_path}"]
    built = compose("pretrain", command)  # the command composes, with a context that holds the longest document
    assert built.seq_len == built.model.max_position_embeddings >= longest and built.world == cfg.world


def test_intervals_stay_within_what_the_statistic_can_take(tmp_path):
    """Re-centring moves the bootstrap median onto the point estimate, which can push an end past the
    statistic's range: distinct-n of all-distinct bios is 1 (their resamples repeat bios, so they read lower) and
    stays within [0, 1]; k by silhouette is 1 for a set of one distinct point, and its interval keeps it."""
    from collapselab.probes.base import ProbeContext
    from collapselab.probes.cache import SampleCache
    from collapselab.probes.lexical import lexical_probe
    from collapselab.probes.semantic import kmeans_k_ci

    cfg = compose("evaluate", ["checkpoints=[s]", "logger=none", "semantic.n_samples=40", "n_boot_slow=10"])
    lm = StubLanguageModel([f"a{i} b{i} c{i} d{i} e{i}" for i in range(40)], [0.0] * 6)  # no word twice
    ck = Checkpoint(spec="s", path="s", name="s", fingerprint="f")
    ctx = ProbeContext(lm=lm, cfg=cfg, ckpt=ck, out_dir=tmp_path, cache=SampleCache(tmp_path / "cache"),
                       prompt_format="plain")
    m = lexical_probe(ctx).metrics
    assert m["lexical/distinct_2"] == 1.0 and m["lexical/distinct_2_ci_lo"] < 1.0 == m["lexical/distinct_2_ci_hi"]
    from collapselab.metrics import best_kmeans

    same = np.ones((30, 8))  # every completion the same: k = 1, below the search's k_min, and inside its interval
    m = {"semantic/kmeans_k": float(best_kmeans(same, k_min=cfg.semantic.k_min, k_max=cfg.semantic.k_max)[0])}
    kmeans_k_ci(m, same, cfg)
    assert m["semantic/kmeans_k"] == 1.0 and m["semantic/kmeans_k_ci_lo"] == 1.0 <= m["semantic/kmeans_k_ci_hi"]
