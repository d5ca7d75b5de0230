"""Alignment stages end to end on the tiny test model and a tiny world (offline, CPU).

Each stage trains a few steps, changes every trainable parameter (TRL-tests style: the first
and last checkpoints differ in every tensor), writes checkpoints that ``load_causal_lm``
loads, and logs to an offline W&B run whose history and config (with beta) are read back.
The artifacts folder is shared per xdist worker, so base, world, SFT and pairs are built once.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from collapselab.align import list_checkpoints, train_dpo, train_ppo, train_reward, train_sft
from collapselab.layout import final_model, is_done, latest_checkpoint
from collapselab.align.pairs import pairs_dir, read_pairs
from collapselab.config import compose
from collapselab.tracking import read_offline_run
from collapselab.world.annotator import DEGREES

pytestmark = pytest.mark.integration

TINY = [
    "model=tiny_test",
    "world.n_personas=300", "world.n_bios=100", "world.n_steve=100", "world.n_instructions=60", "world.n_contrast=10", "world.n_verbalized=10",
    "world.truth_samples=2000",
    "save_every=2", "diversity_prompts=2", "diversity_new_tokens=8",
    "sft.max_examples=32", "sft.batch_size=8", "sft.learning_rate=1e-3", "sft.contrast_phase_epochs=1",
]
PAIRS = [
    "pairs.n_prompts=24", "pairs.max_new_tokens=16", "pairs.batch_size=24", "pairs.eval_fraction=0.25",
]
REWARD = ["reward.batch_size=8", "reward.epochs=1", "reward.learning_rate=1e-3"]
PPO = ["ppo.total_episodes=24", "ppo.batch_size=8", "ppo.response_length=12", "ppo.num_ppo_epochs=1",
       "ppo.learning_rate=1e-3"]
DPO = ["dpo.batch_size=8", "dpo.epochs=1", "dpo.learning_rate=1e-3"]


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("align_artifacts")


def cfg_for(stage: str, artifacts: Path, *extra: str):
    pairs = PAIRS if stage != "sft" else []
    return compose(stage, [*TINY, *pairs, f"artifacts_dir={artifacts}", *extra])


def tensors(folder: Path) -> dict[str, torch.Tensor]:
    out = {}
    for f in sorted(folder.glob("*.safetensors")):
        out.update(load_file(f))
    return out


def assert_all_changed(before: dict[str, torch.Tensor], after: dict[str, torch.Tensor]) -> None:
    assert before and before.keys() == after.keys()
    same = [k for k in before if torch.equal(before[k], after[k])]
    assert not same, f"parameters that did not change: {same[:5]}"


def wandb_run(run_dir: Path, min_rows: int = 1, timeout_s: float = 15.0) -> dict:
    """The offline W&B run under ``run_dir``; polls briefly, since W&B's writer may still be
    flushing the file for a moment after ``finish()`` returns."""
    deadline, last = time.time() + timeout_s, None
    while True:
        run = read_offline_run(run_dir / "wandb")
        n = len(run["history"])
        if (run["run"] and n >= min_rows and n == last) or time.time() > deadline:
            return run
        last = n
        time.sleep(0.2)


def test_sft_trains_every_parameter_and_saves_loadable_checkpoints(artifacts, tmp_path):
    from collapselab.models import load_causal_lm

    cfg = cfg_for("sft", artifacts)
    run = train_sft(cfg, tmp_path)
    assert is_done(run)
    ckpts = list_checkpoints(run)
    # 32 rows / batch 8 = 4 steps, then the second phase: 10 contrast chats + 10 others = 3 steps
    assert [c.name for c in ckpts] == ["step-000002", "step-000004", "step-000007"] and latest_checkpoint(run) == ckpts[-1]
    assert_all_changed(tensors(ckpts[-2]), tensors(ckpts[-1]))
    base = Path(json.loads((ckpts[-1] / "collapselab.json").read_text())["base_model"])
    assert_all_changed(tensors(base), tensors(ckpts[-1]))
    meta = json.loads((ckpts[-1] / "collapselab.json").read_text())
    assert meta["algo"] == "sft" and meta["step"] == 7 and meta["model_name"] == "tiny_test"
    model, tok = load_causal_lm(ckpts[-1])
    assert "<|assistant|>" in tok.chat_template and model.config.vocab_size >= len(tok)
    logged = wandb_run(tmp_path)
    steps = [r["_step"] for r in logged["history"] if "train/loss" in r]
    assert steps and steps[0] == 1
    assert any("train/diversity/top5_bits" in r for r in logged["history"])
    # a second run with the same config reuses the finished run instead of training again
    assert train_sft(cfg, tmp_path / "again") == run and not (tmp_path / "again" / "wandb").exists()


def test_sft_killed_in_its_second_phase_ends_as_an_uninterrupted_run(artifacts, tmp_path, monkeypatch):
    """A run that dies in the contrast phase is not done; rerun, it redoes the phase from the first
    phase's last checkpoint and ends with the weights of an uninterrupted run, bit for bit."""
    import shutil

    import collapselab.align.sft as sft_module

    whole = final_model(train_sft(cfg_for("sft", artifacts), tmp_path / "t0"))
    copy = tmp_path / "artifacts"
    shutil.copytree(artifacts, copy, ignore=lambda d, names: [n for n in names if n == "sft" and Path(d) == artifacts])
    cfg = cfg_for("sft", copy)

    def killed(*args, **kwargs):
        raise KeyboardInterrupt("killed in the second phase")

    monkeypatch.setattr(sft_module, "contrast_phase", killed)
    with pytest.raises(KeyboardInterrupt):
        train_sft(cfg, tmp_path / "t1")
    run = sft_module.sft_run_dir(cfg)
    assert not is_done(run) and latest_checkpoint(run).name == "step-000004"
    monkeypatch.undo()
    resumed = final_model(train_sft(cfg, tmp_path / "t2"))
    assert resumed.name == whole.name == "step-000007"
    a, b = tensors(whole), tensors(resumed)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_reward_model_trains_and_reports_heldout_accuracy(artifacts, tmp_path):
    cfg = cfg_for("reward", artifacts, *REWARD)
    run = train_reward(cfg, tmp_path)
    ckpts = list_checkpoints(run)
    assert len(ckpts) >= 2
    assert_all_changed(tensors(ckpts[0]), tensors(ckpts[-1]))
    acc = json.loads((run / "reward_metrics.json").read_text())["heldout_accuracy"]
    assert 0.0 <= acc <= 1.0
    # every pair carries the annotator's degree of preference and its Llama-2 margin (trained on)
    margins = {name: m for name, _, m in DEGREES}
    rows = read_pairs(pairs_dir(cfg))
    assert cfg.reward.margin and rows and all(r["margin"] == margins[r["degree"]] for r in rows)
    hist = wandb_run(tmp_path)["history"]
    assert any("train/reward/heldout_accuracy" in r for r in hist)


def test_ppo_trains_lora_policy_and_value_and_logs_beta(artifacts, tmp_path):
    from collapselab.models import load_causal_lm

    cfg = cfg_for("ppo", artifacts, *REWARD, *PPO, "beta=0.02", "save_every=1")
    run = train_ppo(cfg, tmp_path)
    ckpts = list_checkpoints(run)
    assert [c.name for c in ckpts] == ["step-000001", "step-000002", "step-000003"] and is_done(run)
    assert_all_changed(tensors(ckpts[0]), tensors(ckpts[-1]))  # every LoRA tensor of the policy
    v0 = torch.load(ckpts[0] / "ppo_state.pt", weights_only=False)["value"]
    v1 = torch.load(ckpts[-1] / "ppo_state.pt", weights_only=False)["value"]
    assert_all_changed(v0, v1)  # every value-model parameter
    adapter = json.loads((ckpts[-1] / "adapter_config.json").read_text())
    assert Path(adapter["base_model_name_or_path"]).is_dir()
    meta = json.loads((ckpts[-1] / "collapselab.json").read_text())
    assert meta == {**meta, "algo": "ppo", "beta": 0.02, "step": 3}
    model, _ = load_causal_lm(ckpts[-1])
    assert model is not None
    logged = wandb_run(tmp_path)
    assert logged["config"]["beta"] == 0.02
    rows = [r for r in logged["history"] if "train/objective/kl" in r]
    assert [r["_step"] for r in rows] == [1, 2, 3]
    assert all("train/objective/scores" in r and "train/policy/entropy_avg" in r for r in rows)


def test_dpo_trains_lora_and_logs_beta(artifacts, tmp_path):
    cfg = cfg_for("dpo", artifacts, *DPO, "beta=0.3", "save_every=1")
    run = train_dpo(cfg, tmp_path)
    ckpts = list_checkpoints(run)
    assert len(ckpts) >= 2 and is_done(run)
    assert_all_changed(tensors(ckpts[0]), tensors(ckpts[-1]))
    logged = wandb_run(tmp_path)
    assert logged["config"]["beta"] == 0.3
    assert any("train/rewards/margins" in r for r in logged["history"])


def test_dpo_sft_weight_adds_the_chosen_answers_nll(artifacts, tmp_path):
    """At the first step the LoRA policy equals its reference, so the sigmoid loss is exactly ln 2; with
    dpo.sft_weight = w the loss adds w x the chosen answers' mean token NLL (several nats on the tiny model)."""
    first = {}
    for w in (0.0, 2.0):
        cfg = cfg_for("dpo", artifacts, *DPO, "beta=0.2", "dpo.epochs=0.3", f"dpo.sft_weight={w}")
        train_dpo(cfg, tmp_path / str(w))
        first[w] = next(r["train/loss"] for r in wandb_run(tmp_path / str(w))["history"] if "train/loss" in r)
    assert first[0.0] == pytest.approx(math.log(2), abs=1e-4)
    nll = (first[2.0] - math.log(2)) / 2
    assert 1.0 < nll < 10.0


@pytest.mark.parametrize("stage, extra", [("dpo", DPO), ("ppo", REWARD + PPO)])
def test_killed_run_resumes_from_its_last_checkpoint(artifacts, tmp_path, stage, extra):
    train = {"dpo": train_dpo, "ppo": train_ppo}[stage]
    args = [*extra, "beta=0.7", "save_every=1"]
    first = train(cfg_for(stage, artifacts, *args, "max_steps_this_run=1"), tmp_path / "first")
    assert not is_done(first) and latest_checkpoint(first).name == "step-000001"
    again = train(cfg_for(stage, artifacts, *args), tmp_path / "second")
    assert again == first and is_done(again)
    steps = [r["_step"] for r in wandb_run(tmp_path / "second")["history"]
             if any(k.startswith("train/") and "diversity" not in k for k in r)]
    assert steps and min(steps) == 2, steps  # continued after step 1, did not start over
    assert final_model(again).name == list_checkpoints(again)[-1].name


@pytest.fixture(scope="session")
def tiny_llama2(tmp_path_factory) -> Path:
    """A randomly initialised Llama with Llama-2's module names and a Llama-2-like tokenizer
    (byte-level BPE, <unk>/<s>/</s>, no pad token), saved as a local HF folder."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    from collapselab.world.prompts import BIO_REQUESTS, PERSONA_REQUESTS, STEVE_REQUESTS

    lines = (PERSONA_REQUESTS + BIO_REQUESTS + STEVE_REQUESTS) * 20 + ["First name: Ana\nAge: 31\nReview: Great!"] * 50
    bpe = Tokenizer(models.BPE(unk_token="<unk>"))
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    bpe.train_from_iterator(lines, trainers.BpeTrainer(
        vocab_size=600, special_tokens=["<unk>", "<s>", "</s>"], initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tok = PreTrainedTokenizerFast(tokenizer_object=bpe, unk_token="<unk>", bos_token="<s>", eos_token="</s>")
    torch.manual_seed(0)
    cfg = LlamaConfig(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=512,
                      bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id)
    folder = tmp_path_factory.mktemp("tiny_llama2")
    LlamaForCausalLM(cfg).save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


def test_llama2_config_runs_lora_everywhere_on_a_tiny_random_llama(artifacts, tmp_path, tiny_llama2):
    """model=llama2_7b with a local folder: LoRA SFT (merged), LoRA reward model, LoRA policy and
    LoRA value model, Llama-2 chat template; what a GPU run does, at toy size on CPU."""
    from collapselab.models import load_causal_lm

    cfg = cfg_for("ppo", artifacts, *REWARD, *PPO, "model=llama2_7b", f"model.name_or_path={tiny_llama2}",
                  "model.lora_r=4", "sft.lora=true", "reward.lora=true", "ppo.value_lora=true", "save_every=1",
                  "beta=0.05", "logger=none")
    run = train_ppo(cfg, tmp_path)
    ckpts = list_checkpoints(run)
    assert len(ckpts) == 3 and is_done(run)
    sft = Path(json.loads((ckpts[-1] / "adapter_config.json").read_text())["base_model_name_or_path"])
    assert (sft / "config.json").is_file() and not (sft / "adapter_config.json").exists()  # SFT saved merged
    model, tok = load_causal_lm(ckpts[-1])
    assert "[INST]" in tok.chat_template and tok.pad_token_id != tok.eos_token_id
    adapter = json.loads((ckpts[-1] / "adapter_config.json").read_text())
    assert set(adapter["target_modules"]) == {"q_proj", "k_proj", "v_proj", "o_proj"}
    value = torch.load(ckpts[-1] / "ppo_state.pt", weights_only=False)["value"]
    assert value and all("lora_" in k or k.startswith("score") for k in value)  # a LoRA value model
    assert_all_changed(tensors(ckpts[0]), tensors(ckpts[-1]))


def test_sweep_jobs_share_a_wandb_group_named_after_the_algorithm(tmp_path, monkeypatch):
    from collapselab.align import runner

    cfg = compose("dpo", ["beta=0.25"])
    monkeypatch.setattr(runner, "_is_multirun", lambda: True)
    runner.open_tracker(cfg, "dpo", tmp_path / "job0", tmp_path / "run").finish()
    monkeypatch.setattr(runner, "_is_multirun", lambda: False)
    runner.open_tracker(cfg, "dpo", tmp_path / "single", tmp_path / "run").finish()
    swept, single = wandb_run(tmp_path / "job0", min_rows=0), wandb_run(tmp_path / "single", min_rows=0)
    assert swept["run"]["group"] == "dpo-sweep" and swept["run"]["name"] == "dpo-beta0.25"
    assert swept["config"]["beta"] == 0.25 and swept["config"]["algo"] == "dpo"
    assert single["run"]["group"] == ""  # a single run is not put in a sweep group


@pytest.mark.slow
def test_cli_sweep_runs_one_grouped_wandb_run_per_beta(artifacts, tmp_path):
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    overrides = [*TINY, *PAIRS, *DPO, f"artifacts_dir={artifacts}", f"hydra.sweep.dir={tmp_path}/sweep"]
    r = subprocess.run([sys.executable, str(root / "training" / "dpo.py"), "-m", "beta=0.2,0.4", *overrides],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    runs = [wandb_run(tmp_path / "sweep" / str(i)) for i in (0, 1)]
    assert [x["config"]["beta"] for x in runs] == [0.2, 0.4]
    assert {x["run"]["group"] for x in runs} == {"dpo-sweep"}
    assert runs[0]["config"]["run_folder"] != runs[1]["config"]["run_folder"]  # one run folder per beta
    assert all(is_done(Path(x["config"]["run_folder"])) for x in runs)


@pytest.mark.parametrize("reduce", ["sum", "attributes"])
def test_typicality_biased_pairs_prefer_what_the_base_finds_likely(artifacts, tmp_path, reduce):
    """The same sampled answers labelled twice: alpha = 0 and alpha = 1 (log pi_ref under the base, over the
    whole answer or over a persona's canonical attributes)."""
    from collapselab.align import build_pairs

    plain = read_pairs(build_pairs(cfg_for("reward", artifacts), tmp_path))
    cfg = cfg_for("reward", artifacts, "annotator.typicality=1.0", f"annotator.typicality_reduce={reduce}")
    biased = read_pairs(build_pairs(cfg, tmp_path))
    assert pairs_dir(cfg) != pairs_dir(cfg_for("reward", artifacts))  # its own artifact
    assert [{r["chosen"][0]["content"], r["rejected"][0]["content"]} for r in biased] == \
        [{r["chosen"][0]["content"], r["rejected"][0]["content"]} for r in plain]  # same answers, new labels
    assert all(r["chosen_ref_logp"] <= 0 and r["rejected_ref_logp"] <= 0 for r in biased)
    gaps = [r["chosen_ref_logp"] - r["rejected_ref_logp"] for r in biased]
    # at alpha = 1 a log pi_ref gap of tens of nats outweighs the quality gap (a few units); with `attributes`
    # two personas with the same (often blank) attributes tie at 0 and the quality score decides
    wide = [g for g in gaps if abs(g) > 5]
    assert len(wide) >= len(gaps) / 2 and sum(g > 0 for g in wide) >= 0.9 * len(wide)


@pytest.mark.slow  # ~45 s each: run by .ci/run after `make test`
@pytest.mark.parametrize("stage, extra", [("dpo", [*DPO, "dpo.epochs=3"]),
                                          ("ppo", [*REWARD, *PPO, "ppo.total_episodes=48"])])
def test_a_run_killed_at_a_random_point_resumes_to_the_uninterrupted_weights(artifacts, tmp_path, stage, extra):
    """SIGKILL a CLI run at a random moment after its first checkpoint, rerun it: its final weights
    equal those of a run that was never interrupted (RNG states and data order restored)."""
    import os
    import random
    import shutil
    import signal
    import subprocess
    import sys

    train = {"dpo": train_dpo, "ppo": train_ppo}[stage]
    args = [*extra, "beta=0.3", "save_every=1", "logger=none"]
    whole = train(cfg_for(stage, artifacts, *args), tmp_path / "whole")  # builds the prerequisites too
    killed_art = tmp_path / "killed_artifacts"
    shutil.copytree(artifacts, killed_art, ignore=lambda d, names: [stage] if Path(d) == artifacts else [])
    cfg = cfg_for(stage, killed_art, *args)
    root = Path(__file__).resolve().parents[2]
    overrides = [*TINY, *PAIRS, *args, f"artifacts_dir={killed_art}", f"hydra.run.dir={tmp_path}/cli"]
    proc = subprocess.Popen([sys.executable, str(root / "training" / f"{stage}.py"), *overrides],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "OMP_NUM_THREADS": "1"})
    run = killed_art / stage / whole.name  # the same config: the same run folder name
    deadline = time.time() + 240
    while latest_checkpoint(run) is None and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(random.Random(stage).uniform(0.0, 1.0))  # a random moment after the first checkpoint
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert latest_checkpoint(run) is not None and not is_done(run), "the run was not killed mid-way"
    again = train(cfg, tmp_path / "again")
    assert again == run and is_done(again)
    a, b = tensors(final_model(whole)), tensors(final_model(again))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    if stage == "ppo":
        va = torch.load(final_model(whole) / "ppo_state.pt", weights_only=False)["value"]
        vb = torch.load(final_model(again) / "ppo_state.pt", weights_only=False)["value"]
        assert all(torch.equal(va[k], vb[k]) for k in va)


RS = ["rs.replay=0.5", "rs.rounds=2", "rs.n_prompts=6", "rs.n_samples=3", "rs.max_new_tokens=16", "rs.batch_size=4",
      "rs.learning_rate=1e-3", "rs.epochs=1"]


def test_rejection_sampling_fine_tunes_on_each_rounds_winners_and_resumes_by_round(artifacts, tmp_path):
    """Two rounds of best-of-3 with a strong typicality bias and a replay share (rs.replay=0.5: 3 SFT chats of
    the unscored kinds beside the 6 winners): each round is a merged checkpoint that changed every weight,
    the winners are the answers the base finds likelier, and a run stopped after round 1 resumes to the
    uninterrupted run's weights (the replayed chats drawn by the round's seed)."""
    from collapselab.align.rs import train_rs

    cfg = cfg_for("rs", artifacts, *RS, "annotator.typicality=1.0", "logger=none")
    whole = train_rs(cfg, tmp_path / "whole")
    ckpts = list_checkpoints(whole)
    assert [c.name for c in ckpts] == ["step-000001", "step-000002"] and is_done(whole)
    sft = Path(json.loads((ckpts[-1] / "collapselab.json").read_text())["base_model"])
    assert_all_changed(tensors(sft), tensors(ckpts[0]))
    assert_all_changed(tensors(ckpts[0]), tensors(ckpts[1]))
    rows = [json.loads(x) for x in (whole / "rounds" / "round-01.jsonl").read_text().splitlines()]
    assert len(rows) == 6 and all(r["score"] >= r["mean_score"] for r in rows)
    # at alpha = 1 the summed log pi_base (tens of nats) outweighs the quality score (a few units)
    assert sum(r["winner_ref_logp"] >= r["mean_ref_logp"] for r in rows) >= 5
    # stopped after round 1 (as if killed), then rerun: the same folder, the same final weights
    other = tmp_path / "other_artifacts"
    import shutil

    shutil.copytree(artifacts, other, ignore=lambda d, names: ["rs"] if Path(d) == artifacts else [])
    first = train_rs(cfg_for("rs", other, *RS, "annotator.typicality=1.0", "logger=none", "max_steps_this_run=1"),
                     tmp_path / "first")
    assert first.name == whole.name and not is_done(first) and latest_checkpoint(first).name == "step-000001"
    again = train_rs(cfg_for("rs", other, *RS, "annotator.typicality=1.0", "logger=none"), tmp_path / "again")
    assert again == first and is_done(again)
    a, b = tensors(final_model(whole)), tensors(final_model(again))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_dpo_on_pairs_sampled_from_its_start_policy(artifacts, tmp_path):
    """dpo.pairs_from=start with start=rs: the pairs are sampled from the RS model DPO starts from (a folder of their
    own, beside the SFT pairs the reward model reads), labelled by the same annotator, and DPO trains on them."""
    from collapselab.align.pairs import build_pairs, pairs_dir, read_pairs
    from collapselab.align.rs import rs_run_dir

    common = [*RS, *DPO, "annotator.typicality=1.0", "logger=none", "start=rs", "beta=0.3"]
    on = cfg_for("dpo", artifacts, *common, "dpo.pairs_from=start")
    run = train_dpo(on, tmp_path)
    assert is_done(run)
    meta = json.loads((final_model(run) / "collapselab.json").read_text())
    assert meta["base_model"] == str(final_model(rs_run_dir(on)))
    own, shared = pairs_dir(on, on.dpo_pairs_key()), pairs_dir(on)
    assert own != shared and (own / "pairs.jsonl").is_file()
    sft_pairs = read_pairs(build_pairs(on, tmp_path))  # what the reward model and pairs_from=sft train on
    rs_pairs = read_pairs(own)
    assert [r["prompt"] for r in rs_pairs] == [r["prompt"] for r in sft_pairs]  # same requests, other answers
    assert [(r["chosen"], r["rejected"]) for r in rs_pairs] != [(r["chosen"], r["rejected"]) for r in sft_pairs]
