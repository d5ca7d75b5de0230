"""The metric registry: what a registration stores, how metrics.json keys resolve (interval bounds
derived, companions explicit), that the harness refuses an unregistered key, and that the paper
table reads the paper's numbers from the registrations."""

import pytest

import collapselab.probes  # noqa: F401 - registers the companion keys the probes emit
from collapselab.config import compose
from collapselab.lab.paper import HEADLINES
from collapselab.metrics import (
    CI_METHODS,
    COMPANIONS,
    METRICS,
    PaperValues,
    check_keys,
    distinct_n,
    higher_is_more_diverse,
    lookup,
    paper_metrics,
    persona_stats,
    register,
    register_companion,
    resolve,
)
from collapselab.probes import Checkpoint, StubLanguageModel, evaluate
from collapselab.probes.base import PROBES, ProbeInfo, ProbeResult


@pytest.fixture
def scratch_registry():
    """Registrations made in a test are undone afterwards (the tables are process-global)."""
    saved = dict(METRICS), dict(COMPANIONS)
    yield
    for table, before in zip((METRICS, COMPANIONS), saved, strict=True):
        table.clear()
        table.update(before)


def test_register_stores_function_direction_ci_and_paper(scratch_registry):
    paper = PaperValues(2, "4.2", "0.16", "0.35", +1)

    @register("semantic/test_mean_len", higher_is_better=True, probe="semantic", description="mean length",
              more_diverse=True, ci="bootstrap_mean", paper=paper)
    def mean_len(texts):
        return sum(map(len, texts)) / len(texts)

    info = METRICS["semantic/test_mean_len"]
    assert info.fn is mean_len and info.ci == "bootstrap_mean" and info.paper == paper
    assert info.more_diverse is True and info.higher_is_better is True and not info.is_companion
    assert info.compute(["ab", "abcd"]) == 3.0  # (2 + 4) / 2
    assert mean_len(["a"]) == 1.0  # the decorator returns the function unchanged


def test_register_refuses_duplicates_bad_ci_and_interval_names(scratch_registry):
    with pytest.raises(ValueError, match="already registered"):
        register("semantic/vendi", higher_is_better=True, probe="semantic", description="x")
    with pytest.raises(ValueError, match="already registered"):  # one namespace for metrics and companions
        register_companion("persona/parse_rate", probe="persona", description="x")
    with pytest.raises(ValueError, match="already registered"):
        register("persona/n_unparsed", higher_is_better=False, probe="persona", description="x")
    with pytest.raises(ValueError, match="ci='bootstrap'"):
        register("semantic/new", higher_is_better=True, probe="semantic", description="x", ci="bootstrap")
    with pytest.raises(ValueError, match="interval keys are derived"):
        register("semantic/new_ci_lo", higher_is_better=True, probe="semantic", description="x")
    with pytest.raises(KeyError, match="not a registered metric"):
        register_companion("semantic/new_truth", probe="semantic", description="x", of="semantic/nope")
    with pytest.raises(ValueError, match="must be \\+1 or -1"):
        PaperValues(1, "4.1", "a", "b", 0)
    assert "semantic/new" not in METRICS and "semantic/new_truth" not in COMPANIONS


def test_every_registration_says_how_it_is_computed():
    """A function, or (fn=None, a value the probe derives) a sentence saying how; a known CI method."""
    for info in [*METRICS.values(), *COMPANIONS.values()]:
        assert info.fn is not None or info.derived, info.name
        assert info.ci in CI_METHODS and info.description, info.name
        assert info.name.startswith(info.probe + "/")
    assert all(c.ci == "none" and c.paper is None and c.more_diverse is None for c in COMPANIONS.values())
    # the key families the harness writes beside the DESIGN.md metrics
    assert {"persona/n_unparsed", "persona/attribute_entropy_mean_truth", "persona/nationality_tv_truth",
            "persona/age_tv_truth", "semantic/fact_accuracy", "semantic/facts_per_text"} <= set(COMPANIONS)


def test_registered_functions_compute_the_metric():
    """distinct-1 of ["a b a", "b c"]: unigrams a b a b c -> 3 distinct / 5 = 0.6; persona_stats is
    a group function, its value is picked by name (2 of 3 parsed -> parse_rate 2/3)."""
    texts = ["a b a", "b c"]
    assert resolve("lexical/distinct_1").compute(texts) == pytest.approx(0.6) == distinct_n(texts, 1)
    parsed = [{"first_name": "Ann", "age": 30}, None, {"first_name": "Bo", "age": 40}]
    assert resolve("persona/parse_rate").compute(parsed) == pytest.approx(2 / 3)
    assert resolve("persona/age_sd").compute(parsed) == persona_stats(parsed)["persona/age_sd"] == 5.0
    with pytest.raises(ValueError, match="tfidf_similarity"):  # derived by the probe: says how
        resolve("semantic/tfidf_cos_mean").compute(texts)


def test_interval_keys_resolve_to_a_metric_that_declares_an_interval():
    assert resolve("persona/parse_rate_ci_lo") is METRICS["persona/parse_rate"]  # wilson
    assert resolve("eval/semantic/vendi_ci_hi") is METRICS["semantic/vendi"]  # W&B prefix
    assert resolve("persona/n_unparsed").companion_of == "persona/parse_rate"
    with pytest.raises(KeyError, match="ci='none'"):  # no interval declared, so the bound is unknown
        resolve("persona/age_min_ci_lo")
    with pytest.raises(KeyError, match="unknown metric key 'semantic/nope'"):
        resolve("semantic/nope")
    with pytest.raises(KeyError):  # a companion has no interval
        resolve("persona/n_unparsed_ci_lo")
    assert lookup("semantic/nope") is None
    assert higher_is_more_diverse("semantic/tfidf_cos_mean_ci_lo") is False
    assert higher_is_more_diverse("persona/attribute_entropy_mean_truth") is None


def test_check_keys_refuses_unregistered_and_foreign_keys():
    check_keys(["persona/parse_rate", "persona/parse_rate_ci_hi", "persona/gender_tv_truth"], "persona")
    with pytest.raises(ValueError, match="probe 'persona' emitted unknown metric key 'persona/typo'"):
        check_keys(["persona/parse_rate", "persona/typo"], "persona")
    with pytest.raises(ValueError, match="'semantic/vendi', which is registered for probe 'semantic'"):
        check_keys(["semantic/vendi"], "lexical")


def test_harness_refuses_an_unregistered_key_before_writing(tmp_path, monkeypatch):
    """A probe returning a key nobody registered stops evaluate() with a ValueError naming the key
    and the probe; no metrics.json is written for that checkpoint."""

    def leaky(ctx):
        return ProbeResult({"lexical/distinct_2": 0.5, "lexical/distinct_2_ci_lo": 0.4, "lexical/n_words": 7.0})

    monkeypatch.setitem(PROBES, "lexical", ProbeInfo("lexical", leaky, "lexical/distinct_2"))
    cfg = compose("evaluate", ["checkpoints=[a]", "probes=[lexical]", "logger=none", f"artifacts_dir={tmp_path}"])
    ck = Checkpoint("a", "a", "a", fingerprint="fp")
    with pytest.raises(ValueError, match="probe 'lexical' emitted unknown metric key 'lexical/n_words'"):
        evaluate(cfg, tmp_path / "out", lambda c: StubLanguageModel(["x"], [0.0, 0.0]), [ck])
    assert not (tmp_path / "out" / "a" / "metrics.json").exists()


def test_paper_table_reads_the_registry():
    """Every metric with the paper's values has a row and every row's values come from the
    registration; every row has an interval method (the verdict needs separated intervals)."""
    assert {h.key for h in HEADLINES} == set(paper_metrics())
    entropy = next(h for h in HEADLINES if h.key == "entropy/top5_bits_mean")
    # sec. 4.3: 1.48 (STD 0.17) base, 0.96 (STD 0.12) aligned: alignment lowered it
    assert (entropy.experiment, entropy.paper_base, entropy.paper_aligned, entropy.direction) == (
        "Exp 3", "1.48 (sd 0.17)", "0.96 (sd 0.12)", -1)
    for h in HEADLINES:
        assert h.paper is METRICS[h.key].paper and METRICS[h.key].ci != "none", h.key
