"""Creativity steering (Olson et al. 2024): the layer convention, the steering hook (exactly lambda*a at
layer l, nothing before it, removed after sampling), the direction as a difference of means, the cosine
score, the Spearman interval, the steer decoding's config errors and cache key."""

import math

import numpy as np
import pytest
import torch

from collapselab.config import compose
from collapselab.errors import UserError
from collapselab.steering import (
    add_to_residual, capture_residual, check_layer, compute_directions, cosine_scores, difference_of_means,
    load_direction, save_direction,
)
from collapselab.steering.activations import prompt_activations, text_activations
from collapselab.steering.hooks import decoder_layers
from collapselab.steering.validate import resolve_layers, spearman, spearman_ci

PROMPTS = ["Grace Hopper was a computer scientist", "Steve is the CEO"]


def _enc(lm, texts):
    enc = lm._encode(texts)
    return enc["input_ids"], enc["attention_mask"]


def _hooks(lm):
    """Forward hooks on the decoder blocks (transformers may keep its own: compare counts, not emptiness)."""
    return [len(blk._forward_hooks) for blk in decoder_layers(lm.model)]


def _run(lm, ids, attn, layers):
    pos = (attn.cumsum(-1) - 1).clamp(min=0)
    with torch.inference_mode(), capture_residual(lm.model, layers) as acts:
        out = lm.model(input_ids=ids, attention_mask=attn, position_ids=pos, output_hidden_states=True)
        return {k: v.clone() for k, v in acts.items()}, out


# ------------------------------------------------------------------ hooks
def test_layer_l_is_hidden_states_l(tiny_lm):
    """Layer 1 of a 2-layer model is HF's hidden_states[1] (the output of block 1); layer 2 is block 2's
    output before the final norm, so it differs from HF's last entry (which is normed)."""
    ids, attn = _enc(tiny_lm, PROMPTS)
    acts, out = _run(tiny_lm, ids, attn, [1, 2])
    assert torch.equal(acts[1], out.hidden_states[1])
    norm = tiny_lm.model.model.norm
    assert torch.allclose(norm(acts[2]), out.hidden_states[2], atol=1e-6)
    assert not torch.allclose(acts[2], out.hidden_states[2], atol=1e-3)


@pytest.mark.parametrize("layer", [1, 2])
def test_steering_adds_exactly_lambda_a_at_layer_l_and_nothing_before(tiny_lm, layer):
    """With lambda = 2.5 and a = (1, -1, 0, ...)/sqrt(2): block ``layer``'s output moves by exactly 2.5 a at
    every position; every block before it (and the embeddings, hidden_states[0]) is untouched. The hook is
    gone afterwards: a third pass equals the first."""
    ids, attn = _enc(tiny_lm, PROMPTS)
    a = torch.zeros(32)
    a[0], a[1] = 1 / math.sqrt(2), -1 / math.sqrt(2)
    hooks = _hooks(tiny_lm)
    before, out0 = _run(tiny_lm, ids, attn, [1, 2])
    with add_to_residual(tiny_lm.model, layer, 2.5 * a):
        after, out1 = _run(tiny_lm, ids, attn, [1, 2])
    diff = after[layer] - before[layer]
    assert torch.allclose(diff, (2.5 * a).expand_as(diff), atol=1e-5)
    for other in range(1, layer):
        assert torch.equal(after[other], before[other])
    assert torch.equal(out1.hidden_states[0], out0.hidden_states[0])
    if layer == 1:  # downstream blocks see the change (steering is not a no-op beyond l)
        assert not torch.allclose(after[2], before[2], atol=1e-4)
    again, _ = _run(tiny_lm, ids, attn, [1, 2])
    assert torch.equal(again[2], before[2]) and _hooks(tiny_lm) == hooks


def test_sampler_steers_at_the_layer_and_removes_the_hook(tiny_lm):
    """The first token's recorded top-5 probabilities under ``steer`` equal softmax of the prefill logits
    computed by hand with the same hook; scale 0 reproduces plain sampling; the hook is removed after
    sampling (also when sampling fails)."""
    from collapselab.probes.decoding import Steer

    a = np.zeros(32, dtype=np.float32)
    a[3] = 1.0
    st = Steer(layer=1, scale=6.0, vector=a, fingerprint="x")
    hooks = _hooks(tiny_lm)
    kw = {"max_new_tokens": 4, "temperature": 1.0, "seed": 3}
    steered = tiny_lm.sample(PROMPTS, steer=st, **kw)
    ids, attn = _enc(tiny_lm, PROMPTS)
    pos = (attn.cumsum(-1) - 1).clamp(min=0)
    with torch.inference_mode(), add_to_residual(tiny_lm.model, 1, 6.0 * torch.as_tensor(a)):
        logits = tiny_lm.model(input_ids=ids, attention_mask=attn, position_ids=pos).logits[:, -1].float()
    top = torch.softmax(logits, -1).topk(5).values
    for b in range(2):
        assert steered[b].top_probs[0] == pytest.approx(top[b].tolist(), abs=1e-5)
    plain = tiny_lm.sample(PROMPTS, **kw)
    assert plain[0].top_probs[0] != pytest.approx(steered[0].top_probs[0], abs=1e-4)
    zero = tiny_lm.sample(PROMPTS, steer=Steer(1, 0.0, a, "x"), **kw)
    assert [s.token_ids for s in zero] == [s.token_ids for s in plain] and zero[0].logprobs == plain[0].logprobs
    assert _hooks(tiny_lm) == hooks
    with pytest.raises(ValueError):
        tiny_lm.sample(PROMPTS, steer=st, decoding=_conformative(), **kw)  # no base: fails inside the hook
    assert _hooks(tiny_lm) == hooks


def _conformative():
    from collapselab.probes.decoding import DecodingRule

    return DecodingRule(weight=0.5)


def test_layer_out_of_range_is_a_one_line_error(tiny_lm):
    for bad in (0, 3, -1, "2"):
        with pytest.raises(UserError) as e:
            check_layer(tiny_lm.model, bad, "decoding.layer")
        assert str(e.value) == f"decoding.layer={bad!r}: out of range, the model has 2 decoder layers (allowed: 1..2)"
    assert check_layer(tiny_lm.model, 2) == 2


# ------------------------------------------------------------------ direction and score
def test_difference_of_means_by_hand():
    """pos rows (1, 2), (3, 4): mean (2, 3); neg (0, 0), (1, 0): mean (0.5, 0). a = (1.5, 3),
    |a| = sqrt(2.25 + 9) = 3.354102; unit a = (0.447214, 0.894427)."""
    a, norm = difference_of_means(np.array([[1.0, 2], [3, 4]]), np.array([[0.0, 0], [1, 0]]))
    assert norm == pytest.approx(3.354102, abs=1e-6)
    assert a.tolist() == pytest.approx([0.447214, 0.894427], abs=1e-6)
    raw, _ = difference_of_means(np.array([[1.0, 2], [3, 4]]), np.array([[0.0, 0], [1, 0]]), normalise=False)
    assert raw.tolist() == pytest.approx([1.5, 3.0])
    with pytest.raises(ValueError, match="equal"):
        difference_of_means(np.ones((2, 2)), np.ones((3, 2)))


def test_direction_is_the_difference_of_last_token_means(tiny_lm):
    """compute_directions on two prompt sets = unit(mean of the creative prompts' last-token block-l output
    - mean of the boring ones'), the last token read from HF's hidden_states of each prompt alone."""
    creative, boring = ["Grace Hopper was", "New York was a company"], ["Steve is the CEO", "a computer", "born in"]
    d = compute_directions(tiny_lm, [1], prompts=(creative, boring), checkpoint="ck")[1]

    def last(text):
        ids = tiny_lm.tok(text, return_tensors="pt")["input_ids"]
        with torch.inference_mode():
            return tiny_lm.model(input_ids=ids, output_hidden_states=True).hidden_states[1][0, -1].numpy()

    diff = np.mean([last(t) for t in creative], 0) - np.mean([last(t) for t in boring], 0)
    assert d.vector == pytest.approx(diff / np.linalg.norm(diff), abs=1e-4)
    assert d.meta["raw_norm"] == pytest.approx(float(np.linalg.norm(diff)), rel=1e-4)
    assert (d.meta["layer"], d.meta["n_creative"], d.meta["n_boring"], d.meta["position"]) == (1, 2, 3, "last")


def test_direction_from_answers_is_the_difference_of_their_mean_text_states(tiny_lm):
    """position=answers: unit(mean over the creative answers of each answer's mean block-l output over its own
    tokens, read after its request - the same over the boring answers); an empty answer is left out."""
    from collapselab.steering.direction import ContrastAnswers

    creative = (["Grace Hopper was", "Grace Hopper was"], [" a computer scientist", " born in New York"])
    boring = (["Steve is the CEO", "Steve is the CEO", "Steve is the CEO"], [" of a startup", " company", ""])
    ans = ContrastAnswers(creative, boring, 1.0, 0)
    d = compute_directions(tiny_lm, [1], position="answers", answers=ans, prompts=(["x"], ["y"]))[1]

    def mean_text(prompt, text):
        pi = tiny_lm.tok(prompt)["input_ids"]
        ci = tiny_lm.tok(text, add_special_tokens=False)["input_ids"]
        with torch.inference_mode():
            hs = tiny_lm.model(input_ids=torch.tensor([pi + ci]), output_hidden_states=True).hidden_states[1][0]
        return hs[len(pi):].mean(0).numpy()

    diff = np.mean([mean_text(*pt) for pt in zip(*creative)], 0) - np.mean([mean_text(*pt) for pt in zip(*boring)][:2], 0)
    assert d.vector == pytest.approx(diff / np.linalg.norm(diff), abs=1e-4)
    assert (d.meta["position"], d.meta["n_creative"], d.meta["n_boring"]) == ("answers", 2, 2)


def test_contrast_answers_cycle_the_phrasings_in_batches(tiny_lm):
    """n answers per side, prompt i = phrasing i mod len, drawn batch_size at a time; the same seed draws the same."""
    from collapselab.steering.direction import contrast_answers

    prompts = (["Grace Hopper was", "New York was"], ["Steve is the CEO"])
    a = contrast_answers(tiny_lm, 5, seed=3, max_new_tokens=4, batch_size=2, prompts=prompts)
    assert a.creative[0] == ["Grace Hopper was", "New York was"] * 2 + ["Grace Hopper was"]
    assert a.boring[0] == ["Steve is the CEO"] * 5 and len(a.creative[1]) == len(a.boring[1]) == 5
    assert contrast_answers(tiny_lm, 5, seed=3, max_new_tokens=4, batch_size=2, prompts=prompts).creative == a.creative
    with pytest.raises(ValueError, match="n=0"):
        contrast_answers(tiny_lm, 0)


def test_direction_round_trips_with_provenance(tiny_lm, tmp_path):
    d = compute_directions(tiny_lm, [2])[2]
    p = save_direction(d, tmp_path / "dir" / "direction-l2")
    assert p.name == "direction-l2.npz" and p.with_suffix(".json").is_file()
    back = load_direction(p)
    assert back.layer == 2 and np.array_equal(back.vector, d.vector) and back.fingerprint == d.fingerprint
    assert back.meta["creative_prompts"] and back.meta["date"] and back.meta["fingerprint"] == d.fingerprint
    assert not list(p.parent.glob("*.tmp"))
    with pytest.raises(UserError, match=r"^decoding.direction='nope': no direction file"):
        load_direction("nope", "decoding.direction")


def test_cosine_score_by_hand():
    """a = (2, 0): cos((1, 0), a) = 1; cos((1, 1), a) = 1/sqrt(2) = 0.707107; cos((-3, 0), a) = -1;
    a zero row has no angle (nan). Scaling a or a row changes nothing."""
    acts = np.array([[1.0, 0], [1, 1], [-3, 0], [0, 0]])
    s = cosine_scores(acts, np.array([2.0, 0]))
    assert s[:3].tolist() == pytest.approx([1.0, 0.707107, -1.0], abs=1e-6) and math.isnan(s[3])
    assert cosine_scores(acts * 7, np.array([0.5, 0]))[:3].tolist() == pytest.approx(s[:3].tolist())


def test_text_activations_average_the_text_tokens_only(tiny_lm):
    """The text's vector is the mean of block-l outputs over its own tokens, read after its prompt (prompt
    and text tokenised apart and joined); padding in a batch with a longer pair changes nothing."""
    prompt, text = "Grace Hopper was", " a computer scientist born in New York"
    pi = tiny_lm.tok(prompt)["input_ids"]
    ci = tiny_lm.tok(text, add_special_tokens=False)["input_ids"]
    with torch.inference_mode():
        hs = tiny_lm.model(input_ids=torch.tensor([pi + ci]), output_hidden_states=True).hidden_states[1][0]
    want = hs[len(pi):].mean(0).numpy()
    got = text_activations(tiny_lm, [prompt, "Steve is the CEO of a startup company . Steve"], [text, " is"], [1])[1]
    assert got[0] == pytest.approx(want, abs=1e-4)
    assert math.isnan(text_activations(tiny_lm, [prompt], [""], [1])[1][0, 0])


def test_prompt_activation_mean_position(tiny_lm):
    ids = tiny_lm.tok("Steve is the CEO")["input_ids"]
    with torch.inference_mode():
        hs = tiny_lm.model(input_ids=torch.tensor([ids]), output_hidden_states=True).hidden_states[1][0]
    got = prompt_activations(tiny_lm, ["Steve is the CEO", "Grace Hopper was a computer scientist born"], [1],
                             position="mean")[1][0]
    assert got == pytest.approx(hs.mean(0).numpy(), abs=1e-4)


# ------------------------------------------------------------------ validation statistics
def test_spearman_and_its_interval():
    """x = 1..5, y = (2, 1, 4, 3, 5): rank differences d = (-1, 1, -1, 1, 0), sum d^2 = 4,
    rho = 1 - 6*4 / (5*24) = 0.8. A perfectly monotone pair has rho 1 and every resample 1 (one repeated
    value resamples are skipped); nan pairs are dropped."""
    assert spearman([1, 2, 3, 4, 5], [2, 1, 4, 3, 5]) == pytest.approx(0.8)
    x = np.arange(30.0)
    assert spearman_ci(x, x**2, n_boot=200) == pytest.approx((1.0, 1.0))
    lo, hi = spearman_ci(x, -x + np.where(x % 2, 5.0, 0.0), n_boot=200)
    assert -1 <= lo < hi < 0
    assert spearman([1, 2, np.nan, 4], [1, 2, 3, 4]) == pytest.approx(1.0)


def test_resolve_layers():
    assert resolve_layers("all", 4) == [1, 2, 3, 4] and resolve_layers(2, 4) == [2] and resolve_layers([3, 1], 4) == [1, 3]
    with pytest.raises(UserError, match=r"^layer=5: out of range, the model has 4 decoder layers"):
        resolve_layers(5, 4)


# ------------------------------------------------------------------ decoding=steer config and cache key
@pytest.mark.parametrize(
    "overrides, expected",
    [
        (["decoding=steer"], "decoding.layer=None: method=steer needs the decoder layer"),
        (["decoding=steer", "decoding.layer=0"], "decoding.layer=0: must be a decoder layer >= 1"),
        (["decoding=steer", "decoding.layer=2", "decoding.direction=null"], "decoding.direction=None: method=steer needs"),
        (["decoding=steer", "decoding.layer=2", "decoding.scale=null"], "decoding.scale=None: method=steer needs lambda"),
        (["decoding.method=steering"], "decoding.method='steering': must be one of plain, conformative, steer"),
        (["decoding.layer=2"], "decoding.layer=2: only read by method=steer"),
        (["decoding=steer", "decoding.layer=1", "decoding.weight=0.5"], "decoding.weight=0.5: only read by method=conf"),
    ],
)
def test_steer_config_errors_name_the_key(overrides, expected):
    with pytest.raises(UserError) as e:
        compose("evaluate", ["checkpoints=[tiny]", *overrides])
    assert expected in str(e.value) and "\n" not in str(e.value)


def test_build_steer_checks_layer_and_direction(tiny_lm, tmp_path):
    """The layer is checked against the loaded model (2 layers here); a direction file computed at another
    layer, or for another hidden size, is refused; auto computes one; the cache key carries layer, scale and
    the direction's fingerprint (scale 0 still differs from plain: another key, same draws)."""
    from collapselab.probes.checkpoints import Checkpoint
    from collapselab.probes.harness import build_decoding
    from collapselab.steering import Direction

    ck = Checkpoint(spec="x", path="x", name="sft")

    def build(*o):
        return build_decoding(compose("evaluate", ["checkpoints=[x]", "decoding=steer", *o]), ck, tiny_lm, None)

    with pytest.raises(UserError, match=r"^decoding.layer=3: out of range, the model has 2 decoder layers"):
        build("decoding.layer=3")
    p1 = save_direction(compute_directions(tiny_lm, [1])[1], tmp_path / "d1")
    with pytest.raises(UserError, match=r"^decoding.layer=2: decoding.direction=.* was computed at layer 1"):
        build("decoding.layer=2", f"decoding.direction={p1}")
    wide = save_direction(Direction(np.ones(8, dtype=np.float32), 1), tmp_path / "wide")
    with pytest.raises(UserError, match="a vector of 8 dimensions, but sft's hidden size is 32"):
        build("decoding.layer=1", f"decoding.direction={wide}")
    dec = build("decoding.layer=1", f"decoding.direction={p1}", "decoding.scale=3")
    assert dec.steer.layer == 1 and dec.steer.scale == 3.0 and dec.cache_key()["steer"]["scale"] == 3.0
    auto = build("decoding.layer=1", "decoding.scale=3")
    assert auto.steer.fingerprint == dec.steer.fingerprint  # the same world prompts, the same model
    assert build("decoding.layer=1", "decoding.scale=0").cache_key() != dec.cache_key()


def test_probes_pass_the_steer_to_the_sampler(tmp_path):
    from collapselab.probes.base import ProbeContext
    from collapselab.probes.cache import SampleCache
    from collapselab.probes.checkpoints import Checkpoint
    from collapselab.probes.decoding import Decoding, DecodingRule, Steer
    from collapselab.probes.stub import StubLanguageModel

    cfg = compose("evaluate", ["checkpoints=[stub]", "logger=none", "persona.n_samples=2"])
    st = Steer(1, 2.0, np.ones(4), "fp")
    lm = StubLanguageModel(["First name: Ada"], [0.0] * 6, chat_template=True)
    ctx = ProbeContext(lm=lm, cfg=cfg, ckpt=Checkpoint(spec="s", path="s", name="s", fingerprint="f"), out_dir=tmp_path,
                       cache=SampleCache(tmp_path / "cache"), prompt_format="chat",
                       decoding=Decoding(DecodingRule(), method="steer", steer=st))
    ctx.samples("persona")
    assert lm.steers == [st]


# ------------------------------------------------------------------ the creativity probe
@pytest.fixture(scope="module")
def long_lm():
    """``tiny_models.tiny_llama``'s model with a 1024-token context (the persona prompt is long in its BPE)."""
    from transformers import LlamaConfig, LlamaForCausalLM

    from collapselab.probes import HFLanguageModel
    from tiny_models import tiny_tokenizer

    tok = tiny_tokenizer()
    torch.manual_seed(0)
    cfg = LlamaConfig(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                      num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=1024,
                      bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)
    return HFLanguageModel(LlamaForCausalLM(cfg), tok, name="long")


def test_creativity_probe_scores_the_persona_samples(long_lm, tmp_path):
    """The probe reads the persona probe's cached set (a second context samples nothing), emits registered
    keys only, scores every sample in [-1, 1] with the mean inside its interval, at the middle layer
    ceil(2/2) = 1 under auto; a direction file fixes the layer, and a conflicting creativity.layer is refused."""
    from collapselab.metrics.registry import check_keys
    from collapselab.probes.base import ProbeContext
    from collapselab.probes.cache import SampleCache
    from collapselab.probes.checkpoints import Checkpoint
    from collapselab.probes.creativity import creativity_probe

    def ctx(*o):
        cfg = compose("evaluate", ["checkpoints=[x]", "logger=none", "persona.n_samples=4", "persona.max_new_tokens=6",
                                   "n_boot=50", *o])
        return ProbeContext(lm=long_lm, cfg=cfg, ckpt=Checkpoint(spec="x", path="x", name="x", fingerprint="f"),
                            out_dir=tmp_path, cache=SampleCache(tmp_path / "cache"), prompt_format="plain")

    c = ctx("probes=[persona,creativity]")
    res = creativity_probe(c)
    check_keys(res.metrics, "creativity")
    m = res.metrics
    scores = np.array(res.data["scores"])
    assert len(scores) == 4 and np.all(np.abs(scores) <= 1) and m["creativity/layer"] == 1.0
    assert m["creativity/score_mean_ci_lo"] <= m["creativity/score_mean"] <= m["creativity/score_mean_ci_hi"]
    assert m["creativity/score_mean"] == pytest.approx(scores.mean())
    p2 = save_direction(compute_directions(long_lm, [2])[2], tmp_path / "d2")
    c2 = ctx(f"creativity.direction={p2}")
    assert creativity_probe(c2).metrics["creativity/layer"] == 2.0
    assert c.cache.generated == 4 and c2.cache.generated == 0  # the cached persona set, not a new one
    with pytest.raises(UserError, match=r"^creativity.layer=1: creativity.direction=.* was computed at layer 2"):
        creativity_probe(ctx(f"creativity.direction={p2}", "creativity.layer=1"))


@pytest.mark.parametrize(
    "overrides, expected",
    [
        ([], "checkpoint=None: give a checkpoint folder"),
        (["checkpoint=x", "layer=0"], "layer=0: must be a decoder layer >= 1, a list of them, or all"),
        (["checkpoint=x", "layer=[1,first]"], "layer=[1, 'first']: must be a decoder layer"),
        (["checkpoint=x", "position=first"], "position='first': must be one of answers, last, mean"),
        (["checkpoint=x", "n_answers=0"], "n_answers=0"),
        (["checkpoint=x", "n_samples=0", "n_world=0"], "nothing to score"),
    ],
)
def test_steer_entry_point_config_errors(overrides, expected):
    with pytest.raises(UserError) as e:
        compose("steer", overrides)
    assert expected in str(e.value) and "\n" not in str(e.value)
    assert compose("steer", ["checkpoint=x", "layer=[3,1]"]).layer == [3, 1]


def test_steer_validation_writes_directions_and_the_report(long_lm, tmp_path):
    """eval/steer.py's library call on a saved tiny model: one direction file pair per layer (loadable, at
    its layer), steer.json with a Spearman row per layer and set, rho inside its interval."""
    from collapselab.steering.validate import steer_validation

    folder = tmp_path / "ck"
    long_lm.model.save_pretrained(folder)
    long_lm.tok.save_pretrained(folder)
    cfg = compose("steer", [f"checkpoint={folder}", "layer=all", "n_samples=3", "max_new_tokens=8", "n_world=12",
                            "n_boot=50", f"artifacts_dir={tmp_path / 'art'}", "world.n_personas=50", "n_answers=4"])
    r = steer_validation(cfg, tmp_path / "out")
    assert sorted(r["layers"]) == ["1", "2"] and r["n_world"] == 12 and r["n_world_scored"] == 12
    assert r["position"] == "answers" and r["answers_creative"]["n"] == 4 and r["answers_boring"]["n"] == 4
    for layer in (1, 2):
        assert load_direction(tmp_path / "out" / f"direction-l{layer}.npz").layer == layer
        w = r["layers"][str(layer)]["world_surprisal_spearman"]
        assert w["n"] == 12 and w["ci_lo"] <= w["rho"] <= w["ci_hi"]
    assert (tmp_path / "out" / "steer.json").is_file()


# ------------------------------------------------------------------ arguments checked before anything is built
@pytest.fixture()
def nothing_built(monkeypatch):
    """Resolving a model-config name builds the world and pretrains its base (minutes on a fresh checkout):
    here it fails the test, so the errors below must come before it."""
    from collapselab.probes import harness

    def resolver(cfg):
        def build(name):
            raise AssertionError(f"built {name} before checking the arguments")
        return build

    monkeypatch.setattr(harness, "_model_resolver", resolver)


def test_evaluate_checks_directions_and_layers_before_building_a_checkpoint(tiny_lm, tmp_path, nothing_built):
    from collapselab.probes.harness import evaluate
    from collapselab.steering import Direction

    d1 = save_direction(compute_directions(tiny_lm, [1])[1], tmp_path / "d1")  # hidden 32, as tiny_test
    wide = save_direction(Direction(np.ones(8, dtype=np.float32), 1), tmp_path / "wide")
    steer = ["decoding=steer", "decoding.scale=4"]
    cases = [
        ([*steer, "decoding.layer=1", f"decoding.direction={tmp_path / 'none.npz'}"],
         "decoding.direction='.*none.npz': no direction file"),
        ([*steer, "decoding.layer=2", f"decoding.direction={d1}"], "decoding.layer=2: decoding.direction=.* at layer 1"),
        ([*steer, "decoding.layer=3", "decoding.direction=auto"],
         r"decoding.layer=3: out of range, tiny_test has 2 decoder layers \(allowed: 1..2\)"),
        ([*steer, "decoding.layer=1", f"decoding.direction={wide}"],
         "decoding.direction=.*wide.npz': a vector of 8 dimensions, but tiny_test's hidden size is 32"),
        (["probes=[persona,creativity]", "creativity.layer=3"], "creativity.layer=3: out of range, tiny_test has 2"),
        (["probes=[persona,creativity]", f"creativity.direction={tmp_path / 'none'}"], "creativity.direction=.*: no"),
        (["decoding=conformative", f"decoding.base={tmp_path / 'none'}"], "decoding.base=.*: no such checkpoint"),
    ]
    for overrides, expected in cases:
        cfg = compose("evaluate", ["checkpoints=[tiny_test]", "logger=none", f"artifacts_dir={tmp_path / 'art'}",
                                   *overrides])
        with pytest.raises(UserError, match=f"^{expected}"):
            evaluate(cfg, tmp_path / "out")


def test_steer_checks_the_layer_before_building_the_checkpoint(tmp_path, nothing_built):
    from collapselab.steering.validate import steer_validation

    cfg = compose("steer", ["checkpoint=tiny_test", "layer=[1,3]", f"artifacts_dir={tmp_path / 'art'}"])
    with pytest.raises(UserError, match=r"^layer=\[1, 3\]: out of range, the model has 2 decoder layers"):
        steer_validation(cfg, tmp_path / "out")


def test_decoder_shape_reads_config_files_only(tiny_lm, tmp_path):
    """A model folder's config.json, an adapter's base, a run's checkpoints, a tiny model config's architecture;
    None where nothing local tells."""
    import json

    from collapselab.probes.checkpoints import decoder_shape

    tiny_lm.model.config.save_pretrained(tmp_path / "full")  # config.json alone: no weights needed
    step = tmp_path / "run" / "checkpoints" / "step-000004"
    step.mkdir(parents=True)
    (step / "adapter_config.json").write_text(json.dumps({"base_model_name_or_path": str(tmp_path / "full")}))
    known = {"tiny", "tiny_test"}
    assert decoder_shape(str(tmp_path / "full")) == (2, 32)
    assert decoder_shape(str(step)) == decoder_shape(str(tmp_path / "run")) == (2, 32)
    assert decoder_shape("tiny_test", known) == (2, 32) and decoder_shape("tiny", known) == (4, 128)
    assert decoder_shape(str(tmp_path / "missing"), known) is None and decoder_shape("tiny_test") is None
