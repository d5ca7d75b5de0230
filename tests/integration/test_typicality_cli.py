"""eval/typicality.py on a tiny random Llama: typicality.json with a finite alpha and CI; bad pairs
give one stderr line and exit 2."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from collapselab.config import compose
from collapselab.errors import UserError
from collapselab.typicality import estimate, read_pairs

ROOT = Path(__file__).resolve().parents[2]
WORDS = ["Grace", "Hopper", "was", "a", "computer", "scientist", "born", "in", "New", "York", "Steve", "is",
         "the", "CEO", "of", "startup", "company", "coffee", "warm", "great", "."]


@pytest.fixture(scope="module")
def tiny_ref(tmp_path_factory) -> Path:
    """A randomly initialised Llama and the lab's BPE tokenizer (with the tiny chat template), saved as an HF folder."""
    import numpy as np
    from transformers import LlamaConfig, LlamaForCausalLM

    from collapselab.models import train_tokenizer

    rng = np.random.default_rng(0)
    tok = train_tokenizer([" ".join(rng.choice(WORDS, size=8)) for _ in range(300)], vocab_size=300)
    torch.manual_seed(0)
    cfg = LlamaConfig(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                      num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=128,
                      bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)
    folder = tmp_path_factory.mktemp("tiny_ref")
    LlamaForCausalLM(cfg).save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


def _pairs_file(path: Path, n: int = 40) -> Path:
    """n rows in the lab's conversational format (every fourth one as plain strings), with a quality field."""
    import numpy as np

    rng = np.random.default_rng(1)
    lines = []
    for i in range(n):
        user = " ".join(rng.choice(WORDS, size=4))
        a, b = (" ".join(rng.choice(WORDS, size=int(rng.integers(2, 9)))) for _ in range(2))
        if i % 4 == 3:
            row = {"prompt": user, "chosen": a, "rejected": b}
        else:
            row = {"prompt": [{"role": "user", "content": user}], "chosen": [{"role": "assistant", "content": a}],
                   "rejected": [{"role": "assistant", "content": b}], "split": "train"}
        row["quality"] = float(rng.normal())
        lines.append(json.dumps(row))
    path.write_text("\n".join(lines) + "\n")
    return path


def test_entry_point_writes_alpha_and_ci(tmp_path, tiny_ref):
    pairs = _pairs_file(tmp_path / "pairs.jsonl")
    cfg = compose("typicality", [f"pairs={pairs}", f"ref={tiny_ref}", "device=cpu", "batch_size=8"])
    out = estimate(cfg, tmp_path / "run")
    written = json.loads((tmp_path / "run" / "typicality.json").read_text())
    assert written["alpha"] == pytest.approx(out["alpha"])
    lo, hi = written["ci"]
    assert math.isfinite(written["alpha"]) and lo < written["alpha"] < hi and written["se"] > 0
    assert written["n"] == 40 and written["reduce"] == "sum" and written["ref"] == str(tiny_ref)
    assert written["pairs"] == str(pairs.resolve()) and written["meta"]["seed"] == 0
    # the same seed gives the same orientation and fit; reduce=mean and a quality covariate also fit
    again = estimate(cfg, tmp_path / "again")
    assert again["alpha"] == out["alpha"] and again["ci"] == out["ci"]
    cfg_q = compose("typicality", [f"pairs={pairs}", f"ref={tiny_ref}", "device=cpu", "reduce=mean",
                                   "quality_key=quality", "max_pairs=30"])
    q = estimate(cfg_q, tmp_path / "q")
    assert q["n"] == 30 and math.isfinite(q["alpha"]) and math.isfinite(q["quality_coef"])


def test_scores_condition_on_the_plain_request_or_the_chat_template(tmp_path, tiny_ref):
    """A conversational row is scored as log pi_ref(answer | "<user text>\\n") by default, the rule the
    pairs stage's biased annotator uses (so a planted alpha is recoverable), or through the chat
    template with prompt_format=chat; a plain-string row as log pi_ref(answer | prompt)."""
    from collapselab.models import load_causal_lm
    from collapselab.probes.generation import HFLanguageModel
    from collapselab.typicality import score_pairs

    model, tok = load_causal_lm(tiny_ref)
    lm = HFLanguageModel(model, tok)
    rows = [{"line": 1, "prompt": [{"role": "user", "content": "Steve is"}], "chosen": "the CEO", "rejected": "warm ."},
            {"line": 2, "prompt": "Grace Hopper", "chosen": "was born", "rejected": "coffee"}]
    chat = tok.apply_chat_template([{"role": "user", "content": "Steve is"}], add_generation_prompt=True,
                                   tokenize=False)
    assert chat.endswith("<|assistant|>\n")
    for fmt, first in (("plain", "Steve is\n"), ("chat", chat)):
        chosen, rejected = score_pairs(lm, rows, "sum", 4, "x.jsonl", fmt)
        s, _ = lm.continuation_logprobs([first, first, "Grace Hopper", "Grace Hopper"],
                                        ["the CEO", "warm .", "was born", "coffee"])
        assert chosen == pytest.approx(s[0::2], abs=1e-5) and rejected == pytest.approx(s[1::2], abs=1e-5)



def test_the_estimator_scores_the_part_of_each_answer_the_annotators_reduce_scores():
    """reduce=fields / attributes take log pi_ref over the same text as the lab's annotator
    (``typicality.scored``), so alpha planted with them is estimated on like terms."""
    from collapselab.typicality import score_pairs
    from collapselab.world.persona import canonical_attributes

    class CharLM:  # log pi_ref = -(characters of the continuation); tokens: one per character
        tok, max_context = type("Tok", (), {"bos_token": None})(), 10_000

        def n_tokens(self, text, special=False):
            return len(text)

        def continuation_logprobs(self, prompts, continuations, batch_size=None):
            return [-float(len(c)) for c in continuations], [len(c) for c in continuations]

    persona = "First name: Ada\nAge: 32\nReview: " + "Great. " * 20
    rows = [{"line": 1, "prompt": [{"role": "user", "content": "Create a customer persona."}],
             "chosen": persona, "rejected": "Age: 40\nReview: Bad."},
            {"line": 2, "prompt": "Tell me about Grace Hopper.", "chosen": "She was.", "rejected": "Review: x"}]
    chosen, rejected = score_pairs(CharLM(), rows, "attributes", 4, "x.jsonl")
    assert chosen == [-len(canonical_attributes(persona)), -8.0]
    assert rejected == [-len(canonical_attributes("Age: 40")), -9.0]  # a bio is scored whole
    chosen, rejected = score_pairs(CharLM(), rows, "fields", 4, "x.jsonl")
    assert chosen == [-len("First name: Ada\nAge: 32"), -8.0] and rejected == [-7.0, 0.0]

@pytest.mark.parametrize(
    "text, match",
    [
        ('{"prompt": "a", "chosen": "b"}\n{"prompt": "a", "chosen": "b", "rejected": "c"}\n',
         r"bad\.jsonl:1: row has no 'rejected'"),
        ('{"prompt": "a", "chosen": "b", "rejected": "c"}\n\n{"prompt": [], "chosen": "b", "rejected": "c"}\n',
         r"bad\.jsonl:3: prompt: expected a string or a list"),
        ('{"prompt": "a", "chosen": "b", "rejected": "c"}\nnot json\n', r"bad\.jsonl:2: not valid JSON"),
        ('{"prompt": "a", "chosen": "b", "rejected": "c"}\n', "1 pair\\(s\\) found; need at least 2"),
    ],
)
def test_bad_rows_name_the_line(tmp_path, text, match):
    (tmp_path / "bad.jsonl").write_text(text)
    with pytest.raises(UserError, match=match):
        read_pairs(tmp_path / "bad.jsonl")


def test_missing_pairs_file_is_one_stderr_line(tmp_path):
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    r = subprocess.run([sys.executable, str(ROOT / "eval" / "typicality.py"), f"pairs={tmp_path}/none.jsonl",
                        "ref=tiny", f"hydra.run.dir={tmp_path}/run", f"artifacts_dir={tmp_path}/artifacts"],
                       capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert r.returncode == 2, r.stderr
    assert len(lines) == 1 and "none.jsonl" in lines[0] and "no such file" in lines[0], r.stderr
    assert "Traceback" not in r.stderr + r.stdout
    assert not (tmp_path / "run" / "typicality.json").exists() and not (tmp_path / "artifacts").exists()


def test_pairs_from_hf_datasets_files_and_folders_read_like_the_jsonl(tmp_path, tiny_ref):
    """A Parquet file, a saved DatasetDict (by split) and rows whose prompt is implicit in both answers (TRL's
    conversational format without a prompt column, Anthropic HH's strings) give the JSONL's rows and its alpha."""
    import datasets

    jsonl = _pairs_file(tmp_path / "pairs.jsonl", n=12)
    raw = [json.loads(line) for line in jsonl.read_text().splitlines()]
    conv = [r for r in raw if isinstance(r["prompt"], list)]  # one schema per dataset: the conversational rows
    (tmp_path / "conv.jsonl").write_text("".join(json.dumps(r) + "\n" for r in conv))
    want = read_pairs(tmp_path / "conv.jsonl", quality_key="quality")
    datasets.Dataset.from_list(conv).to_parquet(str(tmp_path / "conv.parquet"))
    implicit = [{"chosen": r["prompt"] + r["chosen"], "rejected": r["prompt"] + r["rejected"], "quality": r["quality"]}
                for r in conv]
    datasets.DatasetDict({"train": datasets.Dataset.from_list(conv[:2]),
                          "test": datasets.Dataset.from_list(implicit)}).save_to_disk(str(tmp_path / "saved"))
    assert read_pairs(tmp_path / "conv.parquet", quality_key="quality") == want
    assert read_pairs(tmp_path / "saved", quality_key="quality", split="test") == want
    assert len(read_pairs(tmp_path / "saved")) == 2  # split train by default
    hh = [{"chosen": "\n\nHuman: Is coffee warm?\n\nAssistant: It is great.",
           "rejected": "\n\nHuman: Is coffee warm?\n\nAssistant: It isn't."},  # the answers share "It is"
          {"chosen": "a cup of coffee", "rejected": "a cup of tea"}]  # no "Assistant:": cut at a space
    (tmp_path / "hh.json").write_text(json.dumps(hh))
    assert [(r["prompt"], r["chosen"], r["rejected"]) for r in read_pairs(tmp_path / "hh.json")] == [
        ("\n\nHuman: Is coffee warm?\n\nAssistant:", " It is great.", " It isn't."), ("a cup of", " coffee", " tea")]
    (tmp_path / "mixed.json").write_text(jsonl.read_text())  # JSONL under .json, string and turn rows mixed:
    assert read_pairs(tmp_path / "mixed.json") == read_pairs(jsonl)  # read line by line, as the JSONL is
    fits = [estimate(compose("typicality", [f"pairs={p}", f"ref={tiny_ref}", "device=cpu", *extra]), tmp_path / name)
            for name, p, extra in (("a", tmp_path / "conv.jsonl", []), ("b", tmp_path / "saved", ["split=test"]))]
    assert fits[0]["alpha"] == fits[1]["alpha"] and fits[0]["n"] == fits[1]["n"] == len(conv)


@pytest.mark.parametrize("make, args, match", [
    (lambda d: d.joinpath("bad.parquet").write_text("not parquet"), ["bad.parquet"],
     r"^pairs='.*bad\.parquet': HF datasets cannot read it \(.+\)$"),
    (lambda d: __import__("datasets").DatasetDict({"train": __import__("datasets").Dataset.from_list(
        [{"prompt": "a", "chosen": "b", "rejected": "c"}] * 2)}).save_to_disk(str(d / "saved")), ["saved", "eval"],
     r"^split='eval': pairs='.*saved' has the splits train$"),
    (lambda d: d.joinpath("x.jsonl").write_text('{"chosen": "ab", "rejected": "cd"}\n' * 2), ["x.jsonl"],
     r"x\.jsonl:1: the row has no prompt, and chosen and rejected share no start"),
    (lambda d: d.joinpath("y.jsonl").write_text('{"chosen": "Yes", "rejected": "Yes, indeed"}\n' * 2), ["y.jsonl"],
     r"y\.jsonl:1: the row has no prompt, .* \(or one of them is all of the other's start\)"),
])
def test_unreadable_datasets_are_one_line(tmp_path, make, args, match):
    make(tmp_path)
    with pytest.raises(UserError, match=match) as e:
        read_pairs(tmp_path / args[0], split=args[1] if len(args) > 1 else "train")
    assert "\n" not in str(e.value)
