"""The tiny world: determinism, the dataset contract, ground truth against the generated
documents, the coupling knob, VADER range, keyed storage and one-line config errors."""

import math

import numpy as np
import pytest

from collapselab.config import compose
from collapselab.config.world import MakeWorldConfig, WorldConfig, tiny_test_world
from collapselab.errors import UserError
from collapselab.world import build_world, ground_truth, load_world, parse_persona
from collapselab.world.build import generate
from collapselab.world.persona import generate_personas
from collapselab.world.population import AGES, BASE_CLASS_P, CLASSES, MBTI_TYPES, NATIONALITIES, age_p, mbti_p
from collapselab.world.prompts import BIO_PROMPT, PERSONA_PROMPT, STEVE_PROMPT
from collapselab.world.text import sentences
from collapselab.world.truth import POSITIVE, group_of


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("artifacts")
    cfg = tiny_test_world(truth_samples=500)
    return cfg, root, load_world(cfg, root)


def _small(**over):
    return tiny_test_world(n_personas=40, n_bios=10, n_steve=10, n_instructions=9, truth_samples=100, **over)


def test_same_seed_same_world_other_seed_other_world():
    a, b, c = generate(_small()), generate(_small()), generate(_small(seed=1))
    assert a == b
    assert [d["text"] for d in a[0]] != [d["text"] for d in c[0]]


def test_documents_follow_the_contract(world):
    cfg, _, dd = world
    docs = dd["documents"].to_list()
    assert set(dd) == {"documents", "instructions"}
    for col in ("text", "kind", "first_name", "last_name", "gender", "age", "nationality", "ethnicity", "mbti", "sentiment"):
        assert col in dd["documents"].column_names
    kinds = [d["kind"] for d in docs]
    assert (kinds.count("persona"), kinds.count("bio"), kinds.count("steve")) == (cfg.n_personas, cfg.n_bios, cfg.n_steve)
    start = {"persona": PERSONA_PROMPT, "bio": BIO_PROMPT + " ", "steve": STEVE_PROMPT}
    assert all(d["text"].startswith(start[d["kind"]]) for d in docs)
    blank = [d for d in docs if d["kind"] != "persona"]
    assert all(d["age"] == -1 and d["first_name"] == "" and d["mbti"] == "" for d in blank)
    per = [d for d in docs if d["kind"] == "persona"]
    assert all(d["gender"] in ("female", "male", "other") and d["mbti"] in MBTI_TYPES for d in per)


def test_every_persona_document_parses_back_to_its_attributes(world):
    docs = [d for d in world[2]["documents"].to_list() if d["kind"] == "persona"]
    for d in docs:
        p = parse_persona(d["text"])
        assert p is not None, d["text"]
        assert {k: p[k] for k in ("first_name", "last_name", "gender", "age", "nationality", "ethnicity", "mbti", "review")} == \
            {k: d[k] for k in ("first_name", "last_name", "gender", "age", "nationality", "ethnicity", "mbti", "review")}


def test_instructions_are_chat_pairs_a_third_per_kind(world):
    from collapselab.world import alignment_messages

    every = world[2]["instructions"].to_list()
    inst = [r for r in every if r["kind"] in ("persona", "bio", "steve")]
    assert len(inst) == world[0].n_instructions
    # then the contrastive requests, SFT data only: alignment draws the three document kinds
    rest = every[len(inst):]
    contrast, vs = rest[:world[0].n_contrast], rest[world[0].n_contrast:]
    assert len(contrast) == world[0].n_contrast == 20 and len(vs) == world[0].n_verbalized == 20
    assert {r["kind"] for r in contrast} == {"persona-unusual", "persona-ordinary"}
    assert {r["kind"] for r in vs} == {"persona-vs"}
    assert alignment_messages(world[2]) == [r["messages"] for r in inst]
    assert all([m["role"] for m in r["messages"]] == ["user", "assistant"] for r in inst)
    assert {k: sum(r["kind"] == k for r in inst) for k in ("persona", "bio", "steve")} == {"persona": 20, "bio": 20, "steve": 20}
    assert all(parse_persona(r["messages"][1]["content"]) for r in inst if r["kind"] == "persona")
    assert len({r["messages"][0]["content"] for r in inst}) >= 8  # several phrasings per kind


def test_reviews_span_angry_to_delighted_with_a_little_profanity(world):
    s = np.array([d["sentiment"] for d in world[2]["documents"].to_list() if d["kind"] == "persona"])
    assert s.min() < -0.85 and s.max() > 0.93
    assert 0.15 < (s <= -0.05).mean() < 0.45  # a real share of unhappy customers


def test_review_grammar_gives_plentiful_distinct_sentences():
    recs = generate_personas(800, 1.0, 0.03, np.random.default_rng(0), sentiment=False)
    sents = [x for r in recs for x in sentences(r["review"])]
    assert len(set(sents)) > 600, len(set(sents))
    n = [len(sentences(r["review"])) for r in recs]
    assert min(n) == 1 and max(n) >= 6  # one short sentence to a paragraph


def test_truth_without_coupling_is_the_base_mix_for_every_group():
    """coupling=0: P(class | anything) = BASE_CLASS_P, so positive share = 0.33 + 0.22 = 0.55 everywhere."""
    t = ground_truth(_small(coupling=0.0))
    for grouping in ("E/I", "T/F", "age_band", "nationality"):
        for dist in t["sentiment_class"][grouping].values():
            assert np.allclose([dist[c] for c in CLASSES], BASE_CLASS_P)
        assert all(math.isclose(v, 0.55) for v in t["positive_share"][grouping].values())
    a = t["attributes"]
    for key in ("gender", "nationality", "ethnicity", "mbti", "age", "age_band"):
        assert math.isclose(sum(a[key].values()), 1.0), key
    assert len(a["nationality"]) == len(NATIONALITIES) >= 25 and len(a["mbti"]) == 16
    assert min(map(int, a["age"])) <= 15 and max(map(int, a["age"])) >= 80


def test_truth_matches_generated_personas_within_sampling_error():
    cfg = _small()
    truth = ground_truth(cfg)
    n = 4000
    recs = generate_personas(n, cfg.coupling, cfg.profanity_rate, np.random.default_rng(123), sentiment=False)

    def close(obs_hits, n_obs, p):
        return abs(obs_hits / n_obs - p) < 4 * math.sqrt(p * (1 - p) / n_obs) + 1e-9

    for c in CLASSES:
        assert close(sum(r["sentiment_class"] == c for r in recs), n, truth["sentiment_class"]["all"][c]), c
    for grouping in ("E/I", "T/F", "age_band"):  # E/I and T/F are correlated under the type table
        for g, p in truth["positive_share"][grouping].items():
            members = [r for r in recs if group_of(r, grouping) == g]
            assert close(sum(r["sentiment_class"] in POSITIVE for r in members), len(members), p), (grouping, g)
    for key, value in (("nationality", "American"), ("gender", "female"), ("ethnicity", "White"), ("mbti", "ISFJ"),
                       ("mbti", "INFJ")):
        assert close(sum(r[key] == value for r in recs), n, truth["attributes"][key][value]), (key, value)
    assert close(sum(r["mbti"][0] == "E" for r in recs), n, truth["attributes"]["mbti_letters"]["E"])
    for band, p in truth["attributes"]["age_band"].items():
        assert close(sum(group_of(r, "age_band") == band for r in recs), n, p), band
    ages = np.array([r["age"] for r in recs])
    assert abs(ages.mean() - truth["attributes"]["age_mean"]) < 4 * truth["attributes"]["age_sd"] / math.sqrt(n)
    assert close(sum(r["profane"] for r in recs), n, truth["profane_share"])


def test_coupling_moves_the_sentiment_by_attribute_table():
    t0, t1 = ground_truth(_small(coupling=0.0)), ground_truth(_small())
    e0, e1 = t0["positive_share"]["E/I"], t1["positive_share"]["E/I"]
    assert e0["E"] == pytest.approx(e0["I"])
    assert e1["E"] - e1["I"] > 0.25  # extraverts gush by default
    old, young = t1["positive_share"]["age_band"]["60+"], t1["positive_share"]["age_band"]["14-24"]
    assert young - old > 0.2  # older customers are sceptical of smartwatch gadgets
    recs = generate_personas(2000, 0.0, 0.03, np.random.default_rng(5), sentiment=False)
    pos = {g: np.mean([r["sentiment_class"] in POSITIVE for r in recs if r["mbti"][0] == g]) for g in "EI"}
    assert abs(pos["E"] - pos["I"]) < 0.07  # independent at coupling 0 (4 standard errors)


def test_build_is_keyed_by_config_and_never_regenerated(world, tmp_path):
    cfg, root, _ = world
    path = build_world(cfg, root)
    stamp = (path / "truth.json").stat().st_mtime_ns
    assert build_world(cfg, root) == path and (path / "truth.json").stat().st_mtime_ns == stamp
    assert build_world(tiny_test_world(truth_samples=500, coupling=0.5), tmp_path) != path
    assert (path / "config.json").exists() and ground_truth(cfg)["coupling"] == cfg.coupling


def test_world_config_errors_are_one_line():
    assert isinstance(compose("make_world", []), MakeWorldConfig)
    assert compose("make_world", ["world.coupling=0"]).world.coupling == 0.0
    for override, expected in (("world.colour=1", "unknown config key 'world.colour'"),
                               ("world.coupling=-1", "world.coupling=-1.0: must be >= 0"),
                               ("world.profanity_rate=2", "world.profanity_rate=2.0: must be between 0.0 and 1.0"),
                               ("world.n_personas=0", "world.n_personas=0: must be > 0")):
        with pytest.raises(UserError, match=expected.replace("(", r"\(").replace(")", r"\)")):
            compose("make_world", [override])


def test_unwritable_artifacts_dir_is_a_user_error(tmp_path):
    from collapselab.world.make import make_world

    blocker = tmp_path / "file"
    blocker.write_text("x")
    cfg = MakeWorldConfig(world=_small(), artifacts_dir=str(blocker / "sub"))
    with pytest.raises(UserError, match="artifacts_dir="):
        make_world(cfg, tmp_path / "out")


def test_default_world_is_sized_for_the_tiny_model():
    cfg = WorldConfig()
    assert (cfg.n_personas, cfg.n_bios, cfg.n_steve, cfg.n_instructions) == (6000, 3000, 3000, 3000)
    assert cfg.coupling > 0


def test_kl_optimal_shares_by_hand():
    """groups a, a, b with rewards 0, 0, ln 2 at beta 1: weights 1, 1, 2, so a and b get 1/2 each;
    at beta 0.5 the weights are 1, 1, 4: a gets 1/3. A huge beta leaves pi0's shares (2/3, 1/3)."""
    from collapselab.world.truth import kl_optimal_shares

    g, r = ["a", "a", "b"], [0.0, 0.0, math.log(2)]
    assert kl_optimal_shares(g, r, 1.0) == pytest.approx({"a": 0.5, "b": 0.5})
    assert kl_optimal_shares(g, r, 0.5) == pytest.approx({"a": 1 / 3, "b": 2 / 3})
    assert kl_optimal_shares(g, r, 1e9) == pytest.approx({"a": 2 / 3, "b": 1 / 3})


def test_truth_predicts_extraverts_take_over_only_with_coupling():
    """Without coupling the optimum keeps the world's extravert share (0.49 under the MBTI type table;
    it was 0.52 when the letters were drawn independently)."""
    on = ground_truth(tiny_test_world())["sampled"]["kl_optimum"]["0.1"]["E/I"]["E"]
    t0 = ground_truth(tiny_test_world(coupling=0.0))
    off = t0["sampled"]["kl_optimum"]["0.1"]["E/I"]["E"]
    assert on > 0.8 and abs(off - t0["attributes"]["mbti_letters"]["E"]) < 0.15


def test_truth_attribute_tables_are_the_sampled_ones():
    """truth.json's MBTI and age tables are exactly the distributions the sampler draws from."""
    a = ground_truth(_small())["attributes"]
    assert a["mbti"] == pytest.approx(mbti_p())
    assert max(a["mbti"], key=a["mbti"].get) == "ISFJ"
    assert [a["age"][str(int(x))] for x in AGES] == pytest.approx(age_p().tolist())
    assert 30 <= int(max(a["age"], key=a["age"].get)) <= 35
    assert a["mbti_letters"]["E"] + a["mbti_letters"]["I"] == pytest.approx(1.0)
