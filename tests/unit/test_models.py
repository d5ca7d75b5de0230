"""Tokenizer, chat templates, model configs, LoRA settings and the loading paths (no pretraining here)."""

import json

import pytest
import torch

from collapselab.errors import UserError
from collapselab.models import (
    LLAMA2_TEMPLATE,
    ensure_base,
    load_causal_lm,
    lora_config,
    model_config,
    set_chat_template,
    stop_token_ids,
    train_tokenizer,
)

TEXTS = [f"Grace Hopper was born in {1900 + i % 9} in New York; she wrote COBOL program {i}." for i in range(120)] + [
    f"Customer persona.\nFirst name: Zoë\nAge: {20 + i}\nReview: I love it, coffee stays warm." for i in range(60)
]


@pytest.fixture(scope="module")
def tok():
    return train_tokenizer(TEXTS, vocab_size=320)


def _tiny_llama(tok, tmp_path, name="llama", pad=True):
    """A randomly initialised Llama with Llama-2's module names, saved like a hub checkpoint."""
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    cfg = LlamaConfig(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                      num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=128,
                      bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id)
    model = LlamaForCausalLM(cfg)
    folder = tmp_path / name
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    if not pad:  # Llama-2's tokenizer has no pad token
        tc = json.loads((folder / "tokenizer_config.json").read_text())
        tc.pop("pad_token", None)
        (folder / "tokenizer_config.json").write_text(json.dumps(tc))
    return model, folder


# ----------------------------------------------------------------------------- tokenizer


def test_tokenizer_round_trip_and_bos(tok):
    text = "Grace Hopper was born in 1906 — Zoë drinks 42°C coffee ☕."
    ids = tok(text)["input_ids"]
    assert ids[0] == tok.bos_token_id == 1
    assert tok.decode(ids, skip_special_tokens=True) == text  # byte-level: nothing is lost
    assert (tok.pad_token_id, tok.eos_token_id, tok.padding_side) == (0, 2, "left")


def test_tokenizer_learned_merges_from_the_corpus(tok):
    # "Grace", " Hopper" and " was" occur 120 times: each must be a single token
    assert tok.convert_ids_to_tokens(tok("Grace Hopper was")["input_ids"]) == ["<s>", "Grace", "ĠHopper", "Ġwas"]


def test_saved_tokenizer_reloads_with_autotokenizer(tok, tmp_path):
    from transformers import AutoTokenizer

    tok.save_pretrained(tmp_path)
    again = AutoTokenizer.from_pretrained(tmp_path)
    text = "First name: Zoë\nAge: 33"
    assert again(text)["input_ids"] == tok(text)["input_ids"]
    assert again.chat_template == tok.chat_template and again.padding_side == "left"
    batch = again(["a", "Grace Hopper was born"], padding=True)["attention_mask"]
    assert batch[0][0] == 0 and batch[0][-1] == 1  # left padding


# ----------------------------------------------------------------------------- chat templates


def test_tiny_chat_template_renders_roles_and_eos_after_answer(tok):
    msgs = [{"role": "user", "content": "Write a persona."}, {"role": "assistant", "content": "Age: 30"}]
    text = tok.apply_chat_template(msgs, tokenize=False)
    assert text == "<s><|user|>\nWrite a persona.<|end|>\n<|assistant|>\nAge: 30<|end|></s>"
    prompt = tok.apply_chat_template(msgs[:1], tokenize=False, add_generation_prompt=True)
    assert prompt == "<s><|user|>\nWrite a persona.<|end|>\n<|assistant|>\n" and text.startswith(prompt)


def test_tiny_chat_template_marks_only_the_answer(tok):
    msgs = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Age: 30"}]
    enc = tok.apply_chat_template(msgs, tokenize=True, return_dict=True, return_assistant_tokens_mask=True)
    ids, mask = enc["input_ids"], enc["assistant_masks"]
    answer = [i for i, m in zip(ids, mask, strict=True) if m]
    assert tok.decode(answer) == "Age: 30<|end|></s>"
    assert ids.count(tok.bos_token_id) == 1  # tokenize=True does not add a second BOS
    assert stop_token_ids(tok) == [tok.eos_token_id, tok.convert_tokens_to_ids("<|end|>")]


def test_llama2_chat_template(tok):
    set_chat_template(tok, "llama2")
    try:
        msgs = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi "},
                {"role": "assistant", "content": "Hello."}, {"role": "user", "content": "Age?"}]
        text = tok.apply_chat_template(msgs, tokenize=False)
        assert text == "<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi [/INST] Hello. </s><s>[INST] Age? [/INST]"
        assert tok.chat_template == LLAMA2_TEMPLATE
    finally:
        set_chat_template(tok, "tiny")


# ----------------------------------------------------------------------------- configs


@pytest.mark.parametrize("name", ["tiny", "tiny_test", "llama2_7b", "llama2_7b_chat"])
def test_every_model_config_validates(name):
    cfg = model_config(name)
    assert cfg.name == name
    assert cfg.lora_target_modules == ["q_proj", "k_proj", "v_proj", "o_proj"]
    assert (cfg.name_or_path is None) == name.startswith("tiny")
    if name.startswith("llama2"):
        assert cfg.dtype == "bfloat16" and cfg.chat_template == "llama2"


def test_tiny_model_has_about_1_9m_parameters():
    from collapselab.models import build_tiny_model, n_params

    big = train_tokenizer(TEXTS, vocab_size=320)  # the corpus is too small to fill 8192 tokens
    cfg = model_config("tiny")
    # with the full 8192-token vocabulary: 8192*128 tied embedding + 4 layers of (4*128^2 + 3*128*384) + norms
    expected = 8192 * 128 + 4 * (4 * 128 * 128 + 3 * 128 * 384 + 2 * 128) + 128
    assert expected == 1_901_696
    model = build_tiny_model(cfg, big)
    assert n_params(model) == expected - (8192 - len(big)) * 128


@pytest.mark.parametrize(
    "override, expected",
    [
        ("lora_r=0", "model.lora_r=0: must be >= 1"),
        ("num_heads=3", "model.num_heads=3: must divide hidden_size=128"),
        ("max_position_embeddings=128", "model.max_position_embeddings=128: must be >= 192"),
        ("dtype=float8", "model.dtype='float8': must be one of float32, bfloat16, float16"),
        ("chat_template=chatml", "model.chat_template='chatml'"),
        ("pretrain_seed=-1", "model.pretrain_seed=-1: must be an integer from 0 to 4294967295"),
    ],
)
def test_bad_model_settings_are_one_line(override, expected):
    with pytest.raises(UserError) as e:
        model_config("tiny", [override])
    assert expected in str(e.value) and "\n" not in str(e.value)


def test_unknown_model_config_name():
    with pytest.raises(UserError, match=r"model=gpt5 is unknown \(available: llama2_7b, llama2_7b_chat, tiny"):
        model_config("gpt5")


def test_lora_config_follows_model_config():
    lc = lora_config(model_config("llama2_7b"))
    assert (lc.r, lc.lora_alpha, lc.lora_dropout) == (16, 32, 0.05)
    assert set(lc.target_modules) == {"q_proj", "k_proj", "v_proj", "o_proj"}
    assert str(lc.task_type.value if hasattr(lc.task_type, "value") else lc.task_type) == "CAUSAL_LM"


# ----------------------------------------------------------------------------- loading


def test_llama2_config_path_on_a_tiny_random_llama(tok, tmp_path):
    """model=llama2_7b model.name_or_path=<folder>: same resolution, loading, template and LoRA code path."""
    from peft import get_peft_model

    _, folder = _tiny_llama(tok, tmp_path, pad=False)
    cfg = model_config("llama2_7b", [f"name_or_path={folder}"])
    assert ensure_base(cfg, None, tmp_path / "artifacts") == folder
    model, t = load_causal_lm(folder, dtype="float32")
    assert t.pad_token == "<unk>" and t.padding_side == "left"  # no pad token in the folder: unk is used
    set_chat_template(t, cfg.chat_template)
    prompt = t.apply_chat_template([{"role": "user", "content": "Hi"}], tokenize=False)
    assert prompt == "<s>[INST] Hi [/INST]"
    peft_model = get_peft_model(model, lora_config(cfg))
    wrapped = [n for n, m in peft_model.named_modules() if hasattr(m, "lora_A")]
    assert len(wrapped) == 2 * 4  # 2 layers x q/k/v/o
    assert {n.split(".")[-1] for n in wrapped} == {"q_proj", "k_proj", "v_proj", "o_proj"}
    trainable = [n for n, p in peft_model.named_parameters() if p.requires_grad]
    assert trainable and all("lora_" in n for n in trainable)
    enc = t([prompt, prompt + " hello"], return_tensors="pt", padding=True, add_special_tokens=False)
    out = peft_model.generate(**enc, max_new_tokens=3, do_sample=False)
    assert out.shape == (2, enc["input_ids"].shape[1] + 3)


def test_adapter_folder_is_loaded_on_its_base_and_merged(tok, tmp_path):
    from peft import get_peft_model
    from transformers import LlamaForCausalLM

    _, base = _tiny_llama(tok, tmp_path)
    model = LlamaForCausalLM.from_pretrained(base)  # as the alignment stages load it: name_or_path recorded
    peft_model = get_peft_model(model, lora_config(model_config("tiny_test")))
    with torch.no_grad():  # a non-zero adapter, so merging changes the outputs
        for n, p in peft_model.named_parameters():
            if "lora_B" in n:
                p.fill_(0.05)
    adapter = tmp_path / "adapter"
    peft_model.save_pretrained(adapter)
    tok.save_pretrained(adapter)
    assert json.loads((adapter / "adapter_config.json").read_text())["base_model_name_or_path"] == str(base)
    ids = torch.tensor([[1, 5, 9, 12]])
    with torch.no_grad():
        want = peft_model(ids).logits
    merged, t = load_causal_lm(adapter)
    assert type(merged) is LlamaForCausalLM  # merge_and_unload: no PEFT wrapper left
    with torch.no_grad():
        torch.testing.assert_close(merged(ids).logits, want, atol=1e-4, rtol=1e-4)
        plain, _ = load_causal_lm(base)
        assert not torch.allclose(plain(ids).logits, want, atol=1e-3)


def test_a_runs_latest_pointer_and_a_finished_run_load_their_checkpoint(tok, tmp_path):
    """``<run>/checkpoints/latest`` and a finished run folder load as evaluate and steer read them (the checkpoint
    the pointer names; the run's final checkpoint); an unfinished run says what to name instead."""
    from collapselab.models.loading import run_model

    _, folder = _tiny_llama(tok, tmp_path)
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    folder.rename(run / "checkpoints" / "step-000004")
    (run / "checkpoints" / "latest").write_text("step-000004\n")
    with pytest.raises(UserError, match=r"^checkpoint='.*run': a training run that has not finished; name one of"):
        load_causal_lm(run)
    (run / "done.json").write_text("{}")
    for spec in (run / "checkpoints" / "latest", run):
        assert run_model(spec, "ref") == run / "checkpoints" / "step-000004"
        model, _ = load_causal_lm(spec)
        assert model.config.num_hidden_layers == 2
    assert run_model(tmp_path / "elsewhere") == tmp_path / "elsewhere"  # any other path: itself
    (run / "checkpoints" / "latest").write_text("step-000009\n")
    with pytest.raises(UserError, match=r"^ref='.*latest': points at no complete checkpoint$"):
        run_model(run / "checkpoints" / "latest", "ref")


@pytest.mark.parametrize("kind", ["missing", "empty", "file"])
def test_bad_paths_are_one_line_errors(tmp_path, kind):
    path = tmp_path / "nothing-here"
    if kind == "empty":
        path.mkdir()
    elif kind == "file":
        path.write_text("x")
    expected = {"missing": "no such folder", "empty": "holds no model", "file": "is a file"}[kind]
    with pytest.raises(UserError) as e:
        load_causal_lm(path)
    assert str(path) in str(e.value) and expected in str(e.value) and "\n" not in str(e.value)
    with pytest.raises(UserError, match=rf"^model.name_or_path='{path}': {expected}"):
        ensure_base(model_config("llama2_7b", [f"name_or_path={path}"]), None, tmp_path)


def test_model_config_name_resolves_to_its_hub_name_and_never_downloads():
    # HF_HUB_OFFLINE=1 (tests/conftest.py): the llama2_7b config resolves to a hub name that is not cached
    with pytest.raises(UserError) as e:
        load_causal_lm("llama2_7b")
    assert "meta-llama/Llama-2-7b-hf" in str(e.value) and "\n" not in str(e.value)


# ----------------------------------------------------------------------------- check_base report


def test_persona_report_on_canned_samples():
    from collapselab.models.check import persona_report, verdicts

    header = "Customer persona for a coffee machine.\n"
    good = ("First name: Ana\nLast name: Li\nGender: Female\nAge: {age}\nNationality: {nat}\nEthnicity: East Asian\n"
            "Personality: {mbti}\nReview: {review}")
    texts = [good.format(age=18, nat="Chinese", mbti="ENFP", review="I love it, wonderful and great!"),
             good.format(age=70, nat="Kenyan", mbti="ISTJ", review="Terrible, awful, I hate it."),
             "gibberish with no fields"]
    truth = {"sampled": {"vader_mean": {"E/I": {"E": 0.5, "I": 0.1}}}}
    r = persona_report(header, texts, truth)
    assert r["parse_rate"] == pytest.approx(2 / 3) and r["mbti_types"] == 2 and r["nationalities"] == 2
    assert (r["age_min"], r["age_max"], r["age_sd"]) == (18, 70, 26)  # population sd of {18, 70}
    assert r["negative_share"] == 0.5  # one of the two parsed reviews has VADER < -0.05
    e, i = r["coupling"]["E/I"]["E"], r["coupling"]["E/I"]["I"]
    assert e["n"] == i["n"] == 1 and e["model"] > 0.5 > -0.5 > i["model"] and (e["truth"], i["truth"]) == (0.5, 0.1)
    v = verdicts({"persona": r})
    assert not v["parse rate >= 90%"] and v["ages from < 20 to > 65"] and v["negative reviews >= 10%"]


def test_bio_report_counts_true_and_false_facts():
    from collapselab.models.check import bio_report

    r = bio_report([" born in 1906 in New York.", " born in 1950 in New York."])
    # year + place right in the first; the second gets the place right and the year wrong
    assert (r["facts_true"], r["facts_false"], r["fact_accuracy"]) == (3, 1, 0.75)
