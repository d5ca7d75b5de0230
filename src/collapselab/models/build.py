"""Build the lab's tiny Llama from a ``ModelConfig`` and a trained tokenizer; LoRA settings."""

from __future__ import annotations

from typing import Any

from collapselab.config.model import ModelConfig


def tiny_llama_config(model_cfg: ModelConfig, tokenizer: Any) -> Any:
    """A ``LlamaConfig`` for the tiny architecture, its special-token ids taken from ``tokenizer``.

    Input and output embeddings are tied: at hidden 128 and a 3k vocabulary the embedding
    is a third of the parameters, and tying halves it with no loss at this scale.
    """
    from transformers import LlamaConfig

    from collapselab.models.chat import stop_token_ids

    return LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=model_cfg.hidden_size,
        intermediate_size=model_cfg.intermediate_size,
        num_hidden_layers=model_cfg.num_layers,
        num_attention_heads=model_cfg.num_heads,
        num_key_value_heads=model_cfg.num_kv_heads,
        max_position_embeddings=model_cfg.max_position_embeddings,
        rms_norm_eps=1e-5,
        tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=stop_token_ids(tokenizer),
        pad_token_id=tokenizer.pad_token_id,
        use_cache=True,
    )


def build_tiny_model(model_cfg: ModelConfig, tokenizer: Any) -> Any:
    """A randomly initialised ``LlamaForCausalLM`` (float32) with the generation defaults set."""
    from transformers import LlamaForCausalLM

    model = LlamaForCausalLM(tiny_llama_config(model_cfg, tokenizer))
    gc = model.generation_config
    gc.bos_token_id, gc.eos_token_id, gc.pad_token_id = (
        model.config.bos_token_id, model.config.eos_token_id, model.config.pad_token_id)
    return model


def n_params(model: Any) -> int:
    """Number of distinct parameters (tied weights counted once)."""
    return sum(p.numel() for p in model.parameters())


def lora_config(model_cfg: ModelConfig) -> Any:
    """The ``peft.LoraConfig`` (task CAUSAL_LM) the alignment stages attach to ``model_cfg``'s model."""
    from peft import LoraConfig, TaskType

    return LoraConfig(
        task_type=TaskType.CAUSAL_LM,
        r=model_cfg.lora_r,
        lora_alpha=model_cfg.lora_alpha,
        lora_dropout=model_cfg.lora_dropout,
        target_modules=list(model_cfg.lora_target_modules),
        bias="none",
    )
