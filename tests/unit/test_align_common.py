"""Alignment plumbing without a model: run folders, atomic checkpoints, the NaN guard, the
Tracker callback, pair rows, and the stage configs' validation and artifact keys."""

from __future__ import annotations

import json
import math
from types import SimpleNamespace

import pytest

from collapselab.align.common import NonFiniteLoss, TrackerCallback, check_finite_logs, trainer_resume_point
from collapselab.layout import (
    checkpoint_step,
    final_model,
    is_done,
    latest_checkpoint,
    list_checkpoints,
    mark_done,
    save_checkpoint,
)
from collapselab.align.pairs import pick_prompts, preference_rows, to_rows
from collapselab.align.sft import split_messages
from collapselab.config import compose
from collapselab.errors import UserError


def _write(text):
    return lambda tmp: (tmp / "weights.txt").write_text(text)


def test_checkpoints_are_atomic_and_latest_moves_only_when_complete(tmp_path):
    save_checkpoint(tmp_path, 2, _write("a"), {"algo": "ppo", "beta": 0.1})
    assert latest_checkpoint(tmp_path).name == "step-000002"
    meta = json.loads((tmp_path / "checkpoints" / "step-000002" / "collapselab.json").read_text())
    assert meta == {"algo": "ppo", "beta": 0.1, "step": 2}

    def crash(tmp):
        (tmp / "half.bin").write_text("partial")
        raise KeyboardInterrupt  # killed while writing step 4

    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(tmp_path, 4, crash, {"algo": "ppo"})
    assert latest_checkpoint(tmp_path).name == "step-000002"
    assert [p.name for p in list_checkpoints(tmp_path)] == ["step-000002"]  # no half-written folder left
    assert not any(p.name.startswith(".step-000004") for p in (tmp_path / "checkpoints").iterdir())

    save_checkpoint(tmp_path, 10, _write("b"), {})
    assert [checkpoint_step(p) for p in list_checkpoints(tmp_path)] == [2, 10]
    assert latest_checkpoint(tmp_path).name == "step-000010"


def test_final_model_requires_a_finished_run(tmp_path):
    save_checkpoint(tmp_path, 3, _write("a"), {})
    with pytest.raises(UserError, match="not finished"):
        final_model(tmp_path)
    mark_done(tmp_path, {"step": 3})
    assert is_done(tmp_path) and final_model(tmp_path).name == "step-000003"


def test_resume_point_is_the_trainer_checkpoint_matching_latest(tmp_path):
    assert trainer_resume_point(tmp_path) is None
    save_checkpoint(tmp_path, 4, _write("a"), {})
    assert trainer_resume_point(tmp_path) is None  # the trainer's own state is missing
    (tmp_path / "trainer" / "checkpoint-4").mkdir(parents=True)
    (tmp_path / "trainer" / "checkpoint-4" / "trainer_state.json").write_text("{}")
    (tmp_path / "trainer" / "checkpoint-6").mkdir()  # newer but never confirmed by `latest`
    assert trainer_resume_point(tmp_path) == str(tmp_path / "trainer" / "checkpoint-4")


@pytest.mark.parametrize("key", ["loss", "loss/policy_avg", "objective/scores"])
@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_nonfinite_loss_stops_with_one_line(key, bad):
    with pytest.raises(NonFiniteLoss) as e:
        check_finite_logs({key: bad, "lr": 1e-3}, step=7)
    assert str(e.value).startswith(f"{key}={bad} at step 7") and "\n" not in str(e.value)
    assert isinstance(e.value, UserError)  # printed as one line by the entry point


def test_nan_in_a_non_loss_key_is_not_an_error():
    check_finite_logs({"loss": 0.5, "val/ratio_var": math.nan}, step=1)  # trl logs this nan on 1 minibatch


class _Tracker:
    def __init__(self):
        self.rows = []

    def log(self, row, step=None):
        self.rows.append((step, row))


def test_tracker_callback_prefixes_keys_and_offsets_steps():
    tracker = _Tracker()
    cb = TrackerCallback(tracker, step_offset=10)
    cb.on_log(None, SimpleNamespace(global_step=3), None, logs={"loss": 0.25, "objective/kl": 0.5, "note": "x"})
    assert tracker.rows == [(13, {"train/loss": 0.25, "train/objective/kl": 0.5})]
    with pytest.raises(NonFiniteLoss):
        cb.on_log(None, SimpleNamespace(global_step=4), None, logs={"loss": math.nan})
    assert len(tracker.rows) == 1  # the bad row is not logged


def test_split_messages_and_pair_rows():
    conv = [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]
    assert split_messages(conv) == ([conv[0]], [conv[1]])
    assert split_messages(conv[:1]) == ([conv[0]], [])
    prompts = pick_prompts([conv, [{"role": "user", "content": "r"}]], n=5, seed=0)
    assert len(prompts) == 5 and sorted(p[0]["content"] for p in prompts[:2]) == ["q", "r"]  # all before repeats
    lab = {"prompt": "q", "chosen": "good", "rejected": "bad", "degree": "better", "margin": 2 / 3}
    rows = to_rows(prompts[:2], [lab] * 2, eval_fraction=0.0, seed=0)
    assert rows[0]["chosen"] == [{"role": "assistant", "content": "good"}]
    assert (rows[0]["degree"], rows[0]["margin"]) == ("better", 2 / 3)
    assert rows[0]["rejected"] == [{"role": "assistant", "content": "bad"}]
    assert {r["split"] for r in rows} == {"train"}
    with pytest.raises(ValueError):
        to_rows(prompts[:2], [], 0.0, 0)  # the annotator returned a different number of pairs
    # the reward model trains on the margin only with reward.margin; the degree and split never reach it
    assert set(preference_rows(rows, margin=True)[0]) == {"prompt", "chosen", "rejected", "margin"}
    assert preference_rows(rows, margin=True)[0]["margin"] == 2 / 3
    assert set(preference_rows(rows, margin=False)[0]) == {"prompt", "chosen", "rejected"}


@pytest.mark.parametrize(
    "stage, override, expected",
    [
        ("ppo", "beta=-0.1", "beta=-0.1: must be a finite number >= 0"),
        ("dpo", "beta=nan", "beta=nan: must be a finite number >= 0"),
        ("ppo", "beta=abc", "beta:"),
        ("dpo", "save_every=0", "save_every=0: must be > 0"),
        ("ppo", "model.lora_r=0", "model.lora_r=0: must be >= 1"),
        ("ppo", "ppo.num_mini_batches=3", "ppo.num_mini_batches=3: must divide batch_size=16"),
        ("dpo", "sft.persona_repeats=0", "sft.persona_repeats=0: must be > 0"),
        ("reward", "pairs.temperatures=[0.7]", "pairs.temperatures=[0.7]: must be a list of two numbers > 0"),
        ("dpo", "pairs.temperatures=[0,1]", "pairs.temperatures[0]=0.0: must be > 0"),
        ("sft", "model=gpt5", "model=gpt5 is unknown"),
        ("reward", "model.name_or_path=/no/such/folder", "model.name_or_path='/no/such/folder': no such folder"),
    ],
)
def test_bad_stage_config_is_one_line(stage, override, expected):
    with pytest.raises(UserError) as e:
        compose(stage, [override])
    assert expected in str(e.value) and "\n" not in str(e.value)


def test_upstream_settings_key_the_artifacts():
    a = compose("ppo", ["beta=0.01"])
    b = compose("ppo", ["beta=0.05"])
    c = compose("ppo", ["beta=0.01", "sft.learning_rate=1e-3"])
    assert a.reward_key() == b.reward_key() and a.run_key() != b.run_key()  # one reward model for a beta sweep
    assert a.sft_key() != c.sft_key() and a.run_key() != c.run_key()  # an upstream change rebuilds downstream
    dpo = compose("dpo", ["beta=0.01"])
    assert dpo.pairs_key() == a.pairs_key()  # PPO's reward model and DPO learn from the same pairs
    assert compose("ppo", ["save_every=3", "logger=none"]).run_key() == a.run_key()  # cadence and logging are not


def test_stage_yamls_spell_out_the_schema_defaults():
    """Each stage's own yaml block equals the schema default every other stage composes with."""
    from collapselab.config.align import DPOParams, PairsParams, PPOParams, RewardParams, SFTParams
    from collapselab.config.app import as_dict

    for stage, block, schema in (("sft", "sft", SFTParams), ("reward", "pairs", PairsParams),
                                 ("reward", "reward", RewardParams), ("ppo", "ppo", PPOParams),
                                 ("dpo", "dpo", DPOParams)):
        assert as_dict(getattr(compose(stage, []), block)) == as_dict(schema()), f"configs/{stage}.yaml {block}:"
    ppo, dpo = compose("ppo", []), compose("dpo", [])
    assert ppo.sft_key() == compose("sft", []).sft_key() == dpo.sft_key()
    assert ppo.pairs_key() == compose("reward", []).pairs_key() == dpo.pairs_key()


def test_persona_chats_are_repeated_in_the_sft_data():
    from datasets import Dataset, DatasetDict

    from collapselab.align.sft import sft_dataset

    def chat(q: str) -> list[dict]:
        return [{"role": "user", "content": q}, {"role": "assistant", "content": q.upper()}]

    inst = Dataset.from_list([{"messages": chat("p1"), "kind": "persona"}, {"messages": chat("b1"), "kind": "bio"},
                              {"messages": chat("s1"), "kind": "steve"}, {"messages": chat("p2"), "kind": "persona"}])
    world = DatasetDict({"instructions": inst})
    prompts = [r["prompt"][0]["content"] for r in sft_dataset(world, None, seed=0, persona_repeats=3)]
    assert sorted(prompts) == ["b1"] + ["p1"] * 3 + ["p2"] * 3 + ["s1"]  # 2 personas x 3 + 2 others = 8 rows
    assert len(sft_dataset(world, 5, seed=0, persona_repeats=3)) == 5  # max_examples cuts after repeating
    assert len(sft_dataset(world, None, seed=0)) == 4


def test_the_contrast_phase_draws_its_other_half_from_the_chosen_pool():
    """``sft.contrast_other``: with more contrast chats than others, every other chat of the pool is drawn, so
    the phase's rows show the pool: uniform (each non-contrast chat once), first_phase (persona chats twice),
    instructions (the same without the verbalized-sampling chats)."""
    from datasets import Dataset, DatasetDict

    from collapselab.align.sft import contrast_mix

    def chat(q: str) -> list[dict]:
        return [{"role": "user", "content": q}, {"role": "assistant", "content": q.upper()}]

    kinds = {"u": "persona-unusual", "o": "persona-ordinary", "p": "persona", "b": "bio", "s": "steve",
             "v": "persona-vs"}
    names = [f"u{i}" for i in range(6)] + [f"o{i}" for i in range(6)] + ["p1", "p2", "b1", "s1", "v1", "v2"]
    world = DatasetDict({"instructions": Dataset.from_list([{"messages": chat(n), "kind": kinds[n[0]]}
                                                            for n in names])})

    def others(**kw) -> list[str]:
        rows = [r["prompt"][0]["content"] for r in contrast_mix(world, 0, **kw)]
        assert sorted(r for r in rows if r[0] in "uo") == sorted(names[:12])  # every contrast chat, once
        return sorted(r for r in rows if r[0] not in "uo")

    assert others() == ["b1", "p1", "p2", "s1", "v1", "v2"]
    assert others(other="first_phase", persona_repeats=2) == ["b1", "p1", "p1", "p2", "p2", "s1", "v1", "v2"]
    assert others(other="instructions", persona_repeats=2) == ["b1", "p1", "p1", "p2", "p2", "s1"]


def test_adapter_base_is_made_absolute_so_checkpoints_load_from_anywhere(tmp_path, monkeypatch):
    from collapselab.align.common import absolute_path, patch_adapter_base

    (tmp_path / "sft").mkdir()
    (tmp_path / "ad").mkdir()
    (tmp_path / "ad" / "adapter_config.json").write_text('{"base_model_name_or_path": "x", "r": 4}')
    monkeypatch.chdir(tmp_path)
    patch_adapter_base(tmp_path / "ad", "sft")  # relative to the working directory
    cfg = json.loads((tmp_path / "ad" / "adapter_config.json").read_text())
    assert cfg == {"base_model_name_or_path": str(tmp_path / "sft"), "r": 4}
    assert absolute_path("meta-llama/Llama-2-7b-hf") == "meta-llama/Llama-2-7b-hf"  # a hub name stays


class _Tok:
    def apply_chat_template(self, messages, add_generation_prompt, tokenize):
        return "|".join(m["content"] for m in messages) + "|A:"

    def __call__(self, text, add_special_tokens):
        return {"input_ids": [ord(c) for c in text]}


def test_ppo_prompts_keep_repeats_and_refuse_a_set_smaller_than_a_batch():
    from collapselab.align.ppo import prompt_dataset

    conv = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]
    other = [{"role": "user", "content": "odd"}, {"role": "assistant", "content": "x"}]
    world = {"instructions": {"messages": [conv, conv, other, [conv[0]]], "kind": ["bio", "steve", "persona-vs", "bio"]}}
    ds = prompt_dataset(world, _Tok(), batch_size=3)
    # repeats kept, the answer dropped; a kind the annotator does not score (SFT data only) is not a prompt
    assert ds["input_ids"] == [[ord(c) for c in "hi|A:"]] * 3
    with pytest.raises(UserError, match="ppo.batch_size=4: the world has only 3 instruction prompts"):
        prompt_dataset(world, _Tok(), batch_size=4)  # trl's loader would loop forever
