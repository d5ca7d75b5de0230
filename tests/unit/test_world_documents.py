"""The harness's metrics on the world's own documents (world.documents): the report's world column."""

import json

import numpy as np
import pytest

from collapselab.config.world import tiny_test_world
from collapselab.metrics.persona import persona_stats
from collapselab.metrics.semantic import tfidf_similarity
from collapselab.world import build_world, document_stats, ground_truth, load_truth, parse_persona
from collapselab.world.bio import write_bio
from collapselab.world.documents import DOCUMENT_STREAM
from collapselab.world.persona import format_persona, generate_personas


def test_same_world_same_numbers_other_seed_other_numbers():
    cfg = tiny_test_world(truth_samples=100)
    a, b = document_stats(cfg, n=30), document_stats(cfg, n=30)
    assert a == b and a["n"] == 30
    assert document_stats(tiny_test_world(truth_samples=100, seed=1), n=30) != a


def test_the_numbers_are_the_harness_metrics_on_fresh_documents_of_their_own_stream():
    """Re-derived by hand from the same stream: personas first, then bios (the order document_stats draws in)."""
    cfg = tiny_test_world(truth_samples=100)
    got = document_stats(cfg, n=20)
    rng = np.random.default_rng([cfg.seed, DOCUMENT_STREAM])
    texts = [format_persona(r) for r in generate_personas(20, cfg.coupling, cfg.profanity_rate, rng, sentiment=False)]
    bios = [write_bio(rng) for _ in range(20)]
    want = persona_stats([parse_persona(t) for t in texts])
    assert {k: got[k] for k in want} == pytest.approx(want, nan_ok=True)
    assert got["semantic/tfidf_cos_mean"] == pytest.approx(float(tfidf_similarity(bios).mean()))
    # every world persona parses (the generator and the parser agree), and the world is half female (Wilson-wide)
    assert got["persona/parse_rate"] == 1.0
    big = document_stats(cfg, n=200)
    assert 0.4 < big["persona/female_share"] < 0.6 and big["persona/mbti_coverage"] > 0.8


def test_truth_json_carries_them_and_an_older_world_gets_them_on_load(tmp_path):
    cfg = tiny_test_world(truth_samples=100)
    assert ground_truth(cfg)["documents"] == document_stats(cfg)
    path = build_world(cfg, tmp_path) / "truth.json"
    truth = json.loads(path.read_text())
    assert truth["documents"] == document_stats(cfg)
    del truth["documents"]  # as a world built before the field was written
    path.write_text(json.dumps(truth))
    assert load_truth(cfg, tmp_path)["documents"] == document_stats(cfg)


def test_too_few_documents_is_an_error():
    with pytest.raises(ValueError, match="n=1"):
        document_stats(tiny_test_world(), n=1)


def test_make_world_prints_and_keeps_them(tmp_path, capsys):
    """The build's summary (printed, and summary.json) carries the same numbers as truth.json, for a world built
    before the field too."""
    from collapselab.config.world import MakeWorldConfig
    from collapselab.world.make import make_world

    cfg = MakeWorldConfig(world=tiny_test_world(n_personas=40, n_bios=10, n_steve=10, n_instructions=9,
                                                truth_samples=100), artifacts_dir=str(tmp_path / "a"))
    summary = make_world(cfg, tmp_path / "out")
    d = document_stats(cfg.world)
    assert {k.removeprefix("world/documents/"): v for k, v in summary.items() if k.startswith("world/documents/")} == d
    assert json.loads((tmp_path / "out" / "summary.json").read_text())["world/documents/persona/age_sd"] == d["persona/age_sd"]
    printed = capsys.readouterr().out
    assert ("200 fresh documents of each kind" in printed and f"{d['persona/n_nationalities']:.0f} nationalities, age sd "
            f"{d['persona/age_sd']:.1f}" in printed)
    truth = tmp_path / "a" / "world" / summary["world/path"].rsplit("/", 1)[1] / "truth.json"
    old = json.loads(truth.read_text())
    del old["documents"]
    truth.write_text(json.dumps(old))
    assert make_world(cfg, tmp_path / "out2")["world/documents/steve/words_mean"] == d["steve/words_mean"]
