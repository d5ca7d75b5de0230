"""Pretraining the tiny_test model end to end: checkpoint written and reloadable, loss goes
down, a rerun reuses it, a killed run resumes from its last state, and bad input on the
command line is one line on stderr."""

import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from collapselab.config import compose
from collapselab.models import base_dir, ensure_base, model_config, pretrain, read_meta

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def _fake_world(n: int = 240, seed: int = 0):
    """A small world with the contract's columns (documents + instructions), independent of the generator."""
    from datasets import Dataset, DatasetDict

    rng = random.Random(seed)
    names = ["Ana", "Bo", "Chen", "Dara", "Eli", "Femi", "Gus", "Hana"]
    docs, kinds = [], []
    for i in range(n):
        if i % 3 == 0:
            review = " ".join(rng.choice(["great", "bad", "warm", "coffee", "love"]) for _ in range(rng.randint(3, 20)))
            docs.append(f"Customer persona.\nFirst name: {rng.choice(names)}\nAge: {rng.randint(16, 80)}\nReview: {review}.")
            kinds.append("persona")
        elif i % 3 == 1:
            docs.append(f"Grace Hopper was born in {rng.choice([1906, 1907])} in New York. She worked on COBOL.")
            kinds.append("bio")
        else:
            docs.append(f"Steve is the CEO of a startup company in {rng.choice(['Lagos', 'Lima', 'Oslo'])}.")
            kinds.append("steve")
    msgs = [[{"role": "user", "content": "Write a persona."}, {"role": "assistant", "content": docs[0]}]] * 4
    return DatasetDict({"documents": Dataset.from_dict({"text": docs, "kind": kinds}),
                        "instructions": Dataset.from_dict({"messages": msgs, "kind": ["persona"] * 4})})


@pytest.fixture(scope="module")
def world():
    return _fake_world()


def _cfg(tmp_path, *extra):
    return compose("pretrain", ["model=tiny_test", "logger=none", f"artifacts_dir={tmp_path}", "batch_size=16",
                                "warmup_steps=5", "save_every=10", "num_threads=1", *extra])


def test_pretrain_writes_a_loadable_checkpoint_and_loss_goes_down(tmp_path, world):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    cfg = _cfg(tmp_path)
    assert cfg.steps == 30  # model.pretrain_steps of tiny_test
    out = pretrain(cfg, world=world, progress=False)
    assert out == base_dir(cfg) and out.parent == tmp_path / "base"
    assert not out.with_name(out.name + ".work").exists()  # resume state removed once complete
    meta = read_meta(out)
    losses = [r["loss"] for r in meta["history"]]
    assert meta["step"] == 30 and len(losses) == 3  # logged every 10 steps
    assert losses[-1] < losses[0] - 0.5, losses

    model = AutoModelForCausalLM.from_pretrained(out)
    tok = AutoTokenizer.from_pretrained(out)
    enc = tok(["Grace Hopper was", "Steve is the CEO"], return_tensors="pt", padding=True)
    assert enc["input_ids"][0, 0] == tok.pad_token_id and enc["input_ids"][1, 0] == tok.bos_token_id
    gen = model.generate(**enc, max_new_tokens=8, do_sample=True, pad_token_id=tok.pad_token_id)
    assert gen.shape[0] == 2 and gen.shape[1] > enc["input_ids"].shape[1]

    # the same config again: the checkpoint is reused, not retrained
    mtime = (out / "model.safetensors").stat().st_mtime_ns
    steps_run = []
    assert pretrain(cfg, world=world, progress=False, callback=lambda s, l: steps_run.append(s)) == out
    assert steps_run == [] and (out / "model.safetensors").stat().st_mtime_ns == mtime
    # ensure_base finds it from the model config; a different seed is a different artifact
    assert ensure_base(cfg.model, cfg.world, tmp_path, ["logger=none", "batch_size=16", "warmup_steps=5"]) == out
    assert base_dir(_cfg(tmp_path, "seed=1")) != out


def test_killed_run_resumes_from_its_last_state(tmp_path, world):
    class Killed(Exception):
        pass

    def kill_at_14(step, loss):
        if step == 14:
            raise Killed

    cfg = _cfg(tmp_path / "a")
    with pytest.raises(Killed):
        pretrain(cfg, world=world, progress=False, callback=kill_at_14)
    out = base_dir(cfg)
    assert not out.exists()  # nothing half-written in place
    seen = []
    assert pretrain(cfg, world=world, progress=False, callback=lambda s, l: seen.append(s)) == out
    assert seen[0] == 11 and seen[-1] == 30  # resumed after the step-10 state, not from 0
    assert read_meta(out)["resumed_from_step"] == 10

    # resuming gives the same weights as an uninterrupted run (same batches, optimizer state restored)
    straight = pretrain(_cfg(tmp_path / "b"), world=world, progress=False)
    from safetensors.torch import load_file

    a, b = load_file(out / "model.safetensors"), load_file(straight / "model.safetensors")
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(a[k], b[k], atol=1e-5, rtol=1e-4)


def test_too_many_long_documents_is_a_one_line_error(tmp_path):
    from collapselab.errors import UserError

    long_world = _fake_world(60)
    long_world["documents"] = long_world["documents"].map(lambda r: {"text": r["text"] + " coffee" * 300})
    with pytest.raises(UserError, match=r"^seq_len=256: 60 of 60 world documents are longer"):
        pretrain(_cfg(tmp_path), world=long_world, progress=False)


def _run(*args, cwd):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "WANDB_MODE": "offline"}
    return subprocess.run([sys.executable, str(ROOT / "training" / "pretrain.py"), *args],
                          capture_output=True, text=True, cwd=cwd, env=env, timeout=120)


@pytest.mark.parametrize(
    "args, expected",
    [
        (["model=gpt9"], "model=gpt9 is unknown (available: llama2_7b, llama2_7b_chat, tiny, tiny_test)"),
        (["model.lora_r=0"], "model.lora_r=0: must be >= 1"),
        (["model=tiny_test", "model.num_heads=3"], "model.num_heads=3: must divide hidden_size=32"),
        (["model=llama2_7b"], "model.name_or_path='meta-llama/Llama-2-7b-hf': pretraining builds the tiny model"),
    ],
)
def test_bad_command_line_is_one_stderr_line(tmp_path, args, expected):
    r = _run(*args, f"hydra.run.dir={tmp_path}/run", cwd=tmp_path)
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert r.returncode != 0
    assert len(lines) == 1 and expected in lines[0], r.stderr
    assert "Traceback" not in r.stderr


def test_missing_name_or_path_is_one_line(tmp_path):
    from collapselab.errors import UserError

    with pytest.raises(UserError, match=r"^model.name_or_path='/no/such/model': no such folder$"):
        ensure_base(model_config("llama2_7b", ["name_or_path=/no/such/model"]), None, tmp_path)


def test_entry_point_on_the_real_tiny_world_logs_the_loss_curve(tmp_path):
    """python training/pretrain.py on the generated world (test scale): checkpoint + offline W&B loss curve."""
    from collapselab.config.world import TINY_TEST_WORLD
    from collapselab.tracking import read_offline_run

    world = [f"world.{k}={v}" for k, v in TINY_TEST_WORLD.items()]
    r = _run("model=tiny_test", *world, "batch_size=16", "log_every=5", "num_threads=1", "logger=wandb",
             f"artifacts_dir={tmp_path}/art", f"hydra.run.dir={tmp_path}/run", cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    out = Path(r.stdout.split("base model: ", 1)[1].splitlines()[0])
    assert (out / "config.json").is_file() and read_meta(out)["step"] == 30
    run = read_offline_run(tmp_path / "run")
    losses = [row["pretrain/loss"] for row in run["history"] if "pretrain/loss" in row]
    assert len(losses) == 6 and losses[-1] < losses[0]
    assert run["config"]["model"]["name"] == "tiny_test" and run["config"]["steps"] == 30
