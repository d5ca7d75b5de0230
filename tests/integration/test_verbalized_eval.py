"""prompt_format=verbalized through the harness on a stub chat model with canned VS answers: k
personas per call (or one drawn per call), parse failures counted at both levels, the review
metrics undefined rather than zero, the cache reused, and the one-line error without a template."""

import json
import math

import pytest

from collapselab.config import compose
from collapselab.errors import UserError
from collapselab.probes import Checkpoint, StubLanguageModel, evaluate

pytestmark = pytest.mark.integration
LOGITS = [math.log(4), 0.0, -1e4, -1e4, -1e4, -1e4]
GOOD = ["1. Ann Smith, Female, 20, American, White, INTJ, p=0.40\n2. Bo Chen, Male, 31, Chinese, East Asian, ISFJ, "
        "p=0.30\n3. Cy Diaz, Male, 45, Mexican, Latino, ENFP, p=0.30",
        "1. Dee Okafor, Female, 52, Nigerian, Black, ESTJ, p=0.5\n2. Eve Berg, Female, 64, Swedish, White, INFP, "
        "p=0.5\n3. Fay Roy, Female, 28, Indian, South Asian, ISTP, p=0.5"]
BAD = ["I am sorry, I cannot help with that.",
       "1. Gus Lee, Male, 33, Korean, East Asian, ENTP\n2. Hal Ng, Male, 70, Vietnamese, Southeast Asian, ESFP, p=1"]
SMALL = ["persona.n_samples=12", "persona.vs_k=3", "n_boot=20", "n_boot_slow=3", "tsne=false", "base_model=null",
         "persona.k_max=3", "logger=none", "probes=[persona]", "prompt_format=verbalized"]


def _run(tmp_path, out, *overrides, chat=True, answers=None):
    cfg = compose("evaluate", ["checkpoints=[a]", f"artifacts_dir={tmp_path / 'art'}", *SMALL, *overrides])
    stub = StubLanguageModel({"": answers or GOOD + BAD}, LOGITS, name="stub", chat_template=chat)
    ck = Checkpoint("run", "run", "sft-stub", step=1, algo="sft", fingerprint="fp-vs")
    report = evaluate(cfg, tmp_path / out, lambda c: stub, [ck])
    return report.results["sft-stub"], stub, tmp_path / out / "sft-stub"


def test_all_k_personas_per_call_with_both_levels_of_failure_counted(tmp_path):
    m, stub, d = _run(tmp_path, "out")
    assert stub.calls == 4  # ceil(12 / 3) calls, cycling GOOD, GOOD, BAD, BAD
    # slots: 3 + 3 + 0 (refusal) + 1 (line 1 states no probability, line 2 parses, line 3 missing)
    assert m["persona/parse_rate"] == pytest.approx(7 / 12) and m["persona/n_unparsed"] == 5
    assert m["persona/vs_parse_rate"] == pytest.approx(2 / 4) and m["persona/vs_n_unparsed"] == 2
    assert m["persona/vs_item_rate"] == pytest.approx(7 / 12)
    assert m["persona/vs_stated_sum_mean"] == pytest.approx((1.0 + 1.5 + 1.0) / 3)
    assert m["persona/vs_parse_rate_ci_lo"] < 0.5 < m["persona/vs_parse_rate_ci_hi"]
    assert m["persona/n_first_names"] == 7 and m["persona/age_min"] == 20 and m["persona/age_max"] == 70
    assert m["persona/n_nationalities"] == 7 and m["persona/female_share"] == pytest.approx(4 / 7)
    # no reviews in VS answers: undefined, never 0
    meta = m["meta"]
    for key in ("persona/sentiment_mean", "persona/review_chars_mean", "persona/review_kmeans_k"):
        assert key not in m and key in meta["undefined_metrics"], key
    assert "persona/review_chars_mean_ci_lo" not in m
    assert any("verbalized" in n and "review_chars_mean" in n for n in meta["notes"])
    assert meta["prompt_format"] == "verbalized" and meta["sample_counts"] == {"persona": 4}
    rows = [json.loads(x) for x in (d / "samples.jsonl").read_text().splitlines()]
    assert len(rows) == 12 and [r["call"] for r in rows] == [0] * 3 + [1] * 3 + [2] * 3 + [3] * 3
    assert rows[0]["parsed"]["first_name"] == "Ann" and rows[0]["stated"] == 0.4 and rows[6]["parsed"] is None
    # the same command again: every answer from the cache, same numbers
    m2, stub2, _ = _run(tmp_path, "out2")
    assert stub2.calls == 0 and {k: v for k, v in m2.items() if k != "meta"} == {
        k: v for k, v in m.items() if k != "meta"}


def test_draw_one_persona_per_call_is_seeded(tmp_path):
    m, stub, d = _run(tmp_path, "out", "persona.n_samples=8", "persona.vs_select=draw")
    assert stub.calls == 8
    rows = [json.loads(x) for x in (d / "samples.jsonl").read_text().splitlines()]
    assert len(rows) == 8 and [r["call"] for r in rows] == list(range(8))
    # a refusal draws nothing; the half-parsed answer can only draw its one well-formed line (slot 1)
    assert [r["slot"] for r in rows[2::4]] == [None, None] and [r["slot"] for r in rows[3::4]] == [1, 1]
    assert m["persona/parse_rate"] == pytest.approx(6 / 8)
    again, _, d2 = _run(tmp_path, "out2", "persona.n_samples=8", "persona.vs_select=draw")
    assert [json.loads(x)["slot"] for x in (d2 / "samples.jsonl").read_text().splitlines()] == [r["slot"] for r in rows]


def test_world_calibration_of_the_stated_probabilities(tmp_path):
    """The stub counts as a tiny-world checkpoint here (its model name starts with "tiny"); a
    world-made answer states the world's own shares, so its TV to the world is at most rounding."""
    import numpy as np

    from collapselab.world.verbalized import make_verbalized_instructions

    recs = make_verbalized_instructions(2, 1.0, 0.03, np.random.default_rng(0), k=3)
    world = [r["messages"][1]["content"] for r in recs]
    cfg = compose("evaluate", ["checkpoints=[a]", f"artifacts_dir={tmp_path / 'art'}", *SMALL, "persona.n_samples=6"])
    stub = StubLanguageModel({"": world}, LOGITS, chat_template=True)
    ck = Checkpoint("run", "run", "tiny-vs", step=1, algo="sft", model_name="tiny_stub", fingerprint="fp-w")
    m = evaluate(cfg, tmp_path / "o", lambda c: stub, [ck]).results["tiny-vs"]
    assert m["persona/vs_parse_rate"] == 1 and m["persona/vs_stated_tv_world"] <= 0.015
    stub_flat = StubLanguageModel({"": [GOOD[1]]}, LOGITS, chat_template=True)  # equal shares: not the world's
    m2 = evaluate(cfg, tmp_path / "o2", lambda c: stub_flat,
                  [Checkpoint("run", "run", "tiny-flat", step=1, algo="sft", model_name="tiny_stub",
                              fingerprint="fp-f")]).results["tiny-flat"]
    assert m2["persona/vs_stated_tv_world"] > 0.2


def test_no_chat_template_is_a_one_line_user_error(tmp_path):
    with pytest.raises(UserError, match=r"prompt_format=verbalized: sft-stub has no chat template") as e:
        _run(tmp_path, "out", chat=False)
    assert "\n" not in str(e.value)
    with pytest.raises(UserError, match="vs_select"):
        compose("evaluate", ["checkpoints=[a]", "persona.vs_select=some"])
    with pytest.raises(UserError, match="vs_k=1"):
        compose("evaluate", ["checkpoints=[a]", "persona.vs_k=1"])
