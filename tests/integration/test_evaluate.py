"""The harness end to end: on a stub model with canned outputs (known metric values, cache
reuse, W&B read back) and on the tiny_test model through the real entry point, plus the
entry point's one-line errors."""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from collapselab.config import compose
from collapselab.metrics import METRICS
from collapselab.probes import Checkpoint, StubLanguageModel, evaluate
from collapselab.tracking import read_offline_run
from collapselab.world import format_persona

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
SMALL = ["entropy.n_samples=6", "semantic.n_samples=12", "persona.n_samples=6", "attractor.n_perturbations=4",
         "n_boot=40", "n_boot_slow=5", "tsne=false", "base_model=null", "semantic.k_max=4", "persona.k_max=4"]
WORLD = ["world.n_personas=300", "world.n_bios=100", "world.n_steve=100", "world.n_instructions=60", "world.n_contrast=10", "world.n_verbalized=10",
         "world.truth_samples=2000"]
# two-token logits: p = (0.8, 0.2), so eq. 3.2 gives H = -(0.8 log2 0.8 + 0.2 log2 0.2) = 0.7219 bits per token
LOGITS = [math.log(4), 0.0, -1e4, -1e4, -1e4, -1e4]
H = -(0.8 * math.log2(0.8) + 0.2 * math.log2(0.2))

BIOS = [f" a computer scientist, number {i}. She was born in {1900 + i} and wrote program {i * 7}." for i in range(12)]
NAMES = ["Ann", "Bo", "Cy", "Dee", "Eve", "Fay"]
PERSONAS = [format_persona({"first_name": n, "last_name": "Smith", "gender": "female", "age": 20 + 3 * i,
                            "nationality": "American", "ethnicity": "White", "mbti": "INTJ",
                            "review": "Great machine. I love it."}, header=False) for i, n in enumerate(NAMES)]


def _stubs(repetitive: bool):
    bios = BIOS[:1] if repetitive else BIOS
    personas = PERSONAS[:1] if repetitive else PERSONAS
    return StubLanguageModel({"": bios, "persona": personas}, LOGITS, name="stub")


def _run(tmp_path, out, logger="wandb"):
    cfg = compose("evaluate", ["checkpoints=[a,b]", f"logger={logger}", f"artifacts_dir={tmp_path / 'art'}", *SMALL])
    cks = [Checkpoint("run", "run", "ppo-b0.1-step000010", step=10, algo="ppo", beta=0.1, fingerprint="fp10"),
           Checkpoint("run", "run", "ppo-b0.1-step000020", step=20, algo="ppo", beta=0.1, fingerprint="fp20")]
    stubs = {"fp10": _stubs(False), "fp20": _stubs(True)}
    report = evaluate(cfg, tmp_path / out, lambda ck: stubs[ck.fingerprint], cks)
    return report, stubs


def test_stub_end_to_end_metrics_files_wandb_and_cache(tmp_path):
    report, stubs = _run(tmp_path, "out1")
    div, rep = (report.results[n] for n in ("ppo-b0.1-step000010", "ppo-b0.1-step000020"))
    # every DESIGN.md key of the probes that apply (no reward model, no base model configured; creativity
    # is not a default probe and reads an HF model's layers; the persona/vs_* keys belong to
    # prompt_format=verbalized, test_verbalized_eval.py)
    expected = {k for k in METRICS if not k.startswith(("quality/", "creativity/", "persona/vs_"))
                and not k.endswith("_tv_truth") and k != "entropy/base_nll"}
    expected |= {"quality/toxicity_rate"}
    assert expected - set(div) == set()
    assert "quality/reward_mean" not in div and "quality/base_nll" not in div and "entropy/base_nll" not in div
    # eq. 3.2 by hand, and its CI collapses onto it (every completion has the same entropy)
    assert div["entropy/top5_bits_mean"] == pytest.approx(H, abs=1e-4)
    assert div["entropy/top5_bits_mean_ci_lo"] == pytest.approx(H, abs=1e-4)
    assert div["entropy/top5_bits_sd"] == pytest.approx(0, abs=1e-6)
    # the repetitive checkpoint: identical texts -> TF-IDF similarity 1, one name, distinct share 1/6
    assert rep["semantic/tfidf_cos_mean"] == pytest.approx(1.0) and div["semantic/tfidf_cos_mean"] < 0.9
    assert rep["persona/n_first_names"] == 1 and div["persona/n_first_names"] == 6
    assert rep["persona/first_name_distinct_share"] == pytest.approx(1 / 6)
    assert div["persona/age_min"] == 20 and div["persona/age_max"] == 35 and div["persona/parse_rate"] == 1
    # Wilson interval of 6 parsed of 6: centre 1.32013 / 1.64027 = 0.80483, half 0.19517
    assert div["persona/parse_rate_ci_lo"] == pytest.approx(0.6097, abs=1e-3)
    assert div["persona/parse_rate_ci_hi"] == pytest.approx(1.0)
    assert rep["lexical/distinct_2"] < div["lexical/distinct_2"]
    for key in ("semantic/tfidf_cos_mean", "lexical/distinct_2", "attractor/recovery_rate"):
        assert div[f"{key}_ci_lo"] <= div[key] <= div[f"{key}_ci_hi"], key
    meta = div["meta"]
    assert meta["step"] == 10 and meta["algo"] == "ppo" and meta["beta"] == 0.1 and meta["seed"] == 0
    assert meta["sample_counts"] == {"steve": 6, "bio": 12, "persona": 6, "attractor": 4}
    assert meta["versions"]["torch"] and "seconds" in meta and meta["config"]["entropy"]["n_samples"] == 6
    assert meta["prompt_format"] == "plain"  # the stub has no chat template
    # files
    d = tmp_path / "out1" / "ppo-b0.1-step000010"
    assert json.loads((d / "metrics.json").read_text())["entropy/top5_bits_mean"] == div["entropy/top5_bits_mean"]
    rows = [json.loads(x) for x in (d / "samples.jsonl").read_text().splitlines()]
    assert {r["probe"] for r in rows} == {"entropy", "semantic", "persona", "attractor"} and len(rows) == 28
    assert {p.name for p in (d / "figures").iterdir()} >= {"entropy_sample.png", "persona_attributes.png",
                                                            "attractor_perturbed.png"}
    assert (tmp_path / "out1" / "entropy_boxplot.png").is_file()
    # one W&B run: curves against the training step
    run = read_offline_run(tmp_path / "out1")
    scalar_rows = [r for r in run["history"] if "eval/entropy/top5_bits_mean" in r]
    assert [r["_step"] for r in scalar_rows] == [10, 20]
    assert scalar_rows[1]["eval/semantic/tfidf_cos_mean"] == pytest.approx(1.0)
    assert run["config"]["seed"] == 0
    # rerun in a new run dir: every sample comes from the cache, same numbers
    report2, stubs2 = _run(tmp_path, "out2", logger="none")
    assert report2.generated == 0 and all(s.calls == 0 for s in stubs2.values())
    assert {k: v for k, v in report2.results["ppo-b0.1-step000020"].items() if k != "meta"} == {
        k: v for k, v in rep.items() if k != "meta"}


def test_stub_run_writes_only_registered_keys(tmp_path):
    """Every key of metrics.json resolves in the metric registry (a metric, a companion, or an
    interval bound of a metric that declares an interval method) and belongs to the probe of its
    prefix. The stub counts as a tiny-world checkpoint with a base model, so the world-truth
    companions and quality/base_nll are written too; every present metric that declares an
    interval method has both bounds."""
    from collapselab.metrics import resolve

    small = [o for o in SMALL if not o.startswith("base_model=")]
    world = [o for o in WORLD if not o.startswith("world.truth_samples=")] + ["world.truth_samples=300"]  # faster truth
    cfg = compose("evaluate", ["checkpoints=[a]", "logger=none", f"artifacts_dir={tmp_path / 'art'}",
                               "base_model=auto", *small, *world])
    ck = Checkpoint("run", "run", "tiny-stub", step=10, algo="ppo", beta=0.1, base_model="stub-base",
                    model_name="tiny_stub", fingerprint="fp-tiny")
    stub = _stubs(False)
    evaluate(cfg, tmp_path / "out", lambda c: stub, [ck])
    written = json.loads((tmp_path / "out" / "tiny-stub" / "metrics.json").read_text())
    keys = set(written) - {"meta"}
    for key in sorted(keys):
        assert resolve(key).probe == key.split("/")[0], key
    assert {"persona/n_unparsed", "persona/attribute_entropy_mean_truth", "persona/nationality_tv_truth",
            "semantic/fact_accuracy", "quality/base_nll", "quality/base_nll_ci_lo", "entropy/base_nll"} <= keys
    # the stub's base puts p = 0.8 on every token it is asked about: NLL = -ln 0.8 = 0.2231 nats per token
    assert written["entropy/base_nll"] == pytest.approx(-math.log(0.8), abs=1e-4)
    rows = [json.loads(x) for x in (tmp_path / "out" / "tiny-stub" / "samples.jsonl").read_text().splitlines()]
    assert all(r["base_nll"] == pytest.approx(0.2231, abs=1e-4) for r in rows if r["probe"] == "entropy")
    with_interval = {k for k in keys if k in METRICS and METRICS[k].ci != "none"}
    assert with_interval and all({f"{k}_ci_lo", f"{k}_ci_hi"} <= keys for k in with_interval), sorted(
        k for k in with_interval if f"{k}_ci_lo" not in keys)


def _cli(*args, cwd):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "WANDB_SILENT": "true", "WANDB_MODE": "offline"}
    return subprocess.run([sys.executable, str(ROOT / "eval" / "evaluate.py"), *args], capture_output=True,
                          text=True, cwd=cwd, env=env, timeout=240)


def test_tiny_model_through_the_entry_point(tmp_path):
    out = tmp_path / "run"
    r = _cli("checkpoints=[tiny_test]", "probes=[entropy,semantic,lexical,quality]", f"artifacts_dir={tmp_path}",
             f"hydra.run.dir={out}", "entropy.n_samples=4", "semantic.n_samples=6", "semantic.max_new_tokens=24",
             "entropy.max_new_tokens=16", "n_boot=20", "n_boot_slow=5", "tsne=false", *WORLD, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    m = json.loads((out / "tiny_test" / "metrics.json").read_text())
    # a barely trained model: top-5 entropy between 0 and log2(5) bits
    assert 0 < m["entropy/top5_bits_mean"] <= math.log2(5) + 1e-6
    assert m["meta"]["sample_counts"] == {"steve": 4, "bio": 6} and m["meta"]["model_name"] == "tiny_test"
    assert {"semantic/vendi", "lexical/self_bleu", "quality/toxicity_rate"} <= set(m)
    run = read_offline_run(out)
    assert any("eval/entropy/top5_bits_mean" in h for h in run["history"])
    assert run["config"]["checkpoints"] == ["tiny_test"]


@pytest.mark.parametrize(
    "args, expected",
    [
        (["checkpoints=[/no/such/ckpt]"], "checkpoints='/no/such/ckpt': no such checkpoint folder"),
        (["checkpoints=[tiny]", "probes=[entropy,typo]"], "probes='typo': unknown probe"),
        (["checkpoints=[tiny]", "semantic.n_samples=1"], "semantic.n_samples=1: must be >= 2"),
        pytest.param(["checkpoints=[tiny]", "device=cuda"], "device=cuda: torch cannot use CUDA here",
                     marks=pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="a CUDA GPU is here")),
    ],
)
def test_bad_input_is_one_line(tmp_path, args, expected):
    r = _cli(*args, "logger=none", f"hydra.run.dir={tmp_path}/run", f"artifacts_dir={tmp_path}", cwd=tmp_path)
    assert r.returncode != 0
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and expected in lines[0] and "Traceback" not in r.stderr, r.stderr


def test_review_clusters_off_skips_only_the_review_k(tmp_path):
    """persona.review_clusters=false (the lab's mitigations): no review k, interval or review t-SNE, while the
    other review metrics are the same as with clustering on (the same cached samples)."""
    keys = ("persona/review_kmeans_k", "persona/review_kmeans_k_ci_lo", "persona/review_kmeans_k_ci_hi")
    out = {}
    for on in (True, False):
        cfg = compose("evaluate", ["checkpoints=[a]", "logger=none", f"artifacts_dir={tmp_path / 'art'}",
                                   "probes=[persona]", f"persona.review_clusters={str(on).lower()}", *SMALL])
        ck = Checkpoint("run", "run", "stub", step=10, algo="ppo", beta=0.1, fingerprint="fp")
        stub = _stubs(False)
        out[on] = evaluate(cfg, tmp_path / f"out-{on}", lambda c: stub, [ck]).results["stub"]
    assert all(k in out[True] for k in keys) and not any(k in out[False] for k in keys)
    rest = {k: v for k, v in out[True].items() if k != "meta" and k not in keys}
    assert rest and rest == {k: v for k, v in out[False].items() if k != "meta"}
