"""Causal LMs for the lab: the tiny Llama (tokenizer, build, pretraining), loading any HF
model / PEFT adapter / hub name, LoRA settings and chat templates.

Public API::

    ensure_base(model_cfg, world_cfg, artifacts_dir, pretrain_overrides=None) -> Path | str
    load_causal_lm(path_or_name, dtype="float32", device="cpu") -> (model, tokenizer)
    lora_config(model_cfg) -> peft.LoraConfig
    pretrain(cfg: PretrainConfig) -> Path
    train_tokenizer(texts, vocab_size) -> PreTrainedTokenizerFast
    chat.TINY_TEMPLATE, chat.LLAMA2_TEMPLATE, chat.set_chat_template(tokenizer, name)
"""

from collapselab.models.build import build_tiny_model, lora_config, n_params
from collapselab.models.chat import LLAMA2_TEMPLATE, TINY_TEMPLATE, set_chat_template, stop_token_ids
from collapselab.models.loading import check_model_folder, ensure_base, load_causal_lm, model_config, prepare_tokenizer
from collapselab.models.pretrain import base_dir, pretrain, read_meta
from collapselab.models.tokenizer import train_tokenizer

__all__ = [
    "LLAMA2_TEMPLATE",
    "TINY_TEMPLATE",
    "base_dir",
    "build_tiny_model",
    "check_model_folder",
    "ensure_base",
    "load_causal_lm",
    "lora_config",
    "model_config",
    "n_params",
    "prepare_tokenizer",
    "pretrain",
    "read_meta",
    "set_chat_template",
    "stop_token_ids",
    "train_tokenizer",
]
