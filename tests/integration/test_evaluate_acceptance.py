"""The issue's acceptance check: on two tiny models, the base and a deliberately collapsed
copy (the base fine-tuned a few dozen steps on a handful of repeated answers), the harness
ranks the collapsed one as less diverse on every probe's headline metric."""

import json
from pathlib import Path

import pytest

from collapselab.config import compose
from collapselab.metrics import higher_is_more_diverse
from collapselab.probes import PROBES, evaluate

pytestmark = [pytest.mark.integration, pytest.mark.slow]

WORLD = ["world.n_personas=300", "world.n_bios=100", "world.n_steve=100", "world.n_instructions=60", "world.n_contrast=10", "world.n_verbalized=10",
         "world.truth_samples=2000"]
PROBE_SIZES = ["entropy.n_samples=12", "semantic.n_samples=16", "persona.n_samples=16",
               "persona.max_new_tokens=96", "semantic.max_new_tokens=48", "attractor.n_perturbations=8",
               "attractor.max_new_tokens=24", "n_boot=50", "n_boot_slow=10", "tsne=false"]


def build_base(artifacts: Path, steps: int = 300) -> Path:
    from collapselab.models import ensure_base, model_config

    cfg = compose("evaluate", ["logger=none", "checkpoints=[x]", *WORLD])
    return Path(ensure_base(model_config("tiny_test"), cfg.world, artifacts, [f"steps={steps}", "logger=none"],
                            progress=False))


def build_collapsed(base: Path, out: Path, steps: int = 40) -> Path:
    """The base fine-tuned on three fixed answers (one persona, one biography, one story)."""
    import torch

    from collapselab.models import load_causal_lm
    from collapselab.world import format_persona, prompts

    model, tok = load_causal_lm(base)
    model.train()
    texts = [
        format_persona({"first_name": "Emily", "last_name": "Jones", "gender": "female", "age": 32,
                        "nationality": "American", "ethnicity": "White", "mbti": "ENFJ",
                        "review": "I love this coffee machine. It keeps my coffee warm."}),
        "Grace Hopper was an American computer scientist. She invented the first compiler.",
        "Steve is the CEO of a startup company. He works hard every day and loves his team.",
    ]
    enc = tok([t + tok.eos_token for t in texts], return_tensors="pt", padding=True, add_special_tokens=True)
    labels = enc["input_ids"].masked_fill(enc["attention_mask"] == 0, -100)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    torch.manual_seed(0)
    for _ in range(steps):
        loss = model(**enc, labels=labels).loss
        loss.backward()
        opt.step()
        opt.zero_grad()
    model.eval()
    model.save_pretrained(out)
    tok.save_pretrained(out)
    (out / "collapselab.json").write_text(json.dumps({"algo": "collapsed", "step": steps, "beta": None,
                                                      "base_model": str(base), "model_name": "tiny_test"}))
    return out


def test_collapsed_model_is_less_diverse_on_every_probe(tmp_path):
    base = build_base(tmp_path / "art")
    collapsed = build_collapsed(base, tmp_path / "collapsed")
    cfg = compose("evaluate", [f"checkpoints=[{base},{collapsed}]", "logger=none", "prompt_format=plain",
                               f"artifacts_dir={tmp_path / 'art'}", *WORLD, *PROBE_SIZES])
    report = evaluate(cfg, tmp_path / "out")
    (b, mb), (c, mc) = report.results.items()
    lines = []
    for name in cfg.probes:
        key = PROBES[name].headline
        if name == "quality":  # toxicity is not a diversity measure; the collapsed model must be closer to itself
            continue
        more = higher_is_more_diverse(key)
        lines.append(f"{key}: base={mb.get(key)} collapsed={mc.get(key)}")
        assert key in mb and key in mc, lines
        assert (mb[key] > mc[key]) if more else (mb[key] < mc[key]), lines
    print("\n".join(lines))
