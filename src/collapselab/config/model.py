"""Model schema (the ``model:`` node every stage embeds) and the pretraining schema.

``ModelConfig`` describes either the lab's own tiny Llama (``name_or_path: null``: built
and pretrained on the world by ``collapselab.models.ensure_base``) or any Hugging Face
causal LM (a local checkpoint folder or a hub name), plus the LoRA settings and chat
template the alignment stages use with it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from collapselab.config.app import register_schema
from collapselab.config.common import LoggerConfig, choice, positive, seed_range
from collapselab.config.world import WorldConfig

DTYPES = ("float32", "bfloat16", "float16")
CHAT_TEMPLATES = ("tiny", "llama2", "tokenizer")

# The longest world documents (personas with a long review) run to about 165 BPE tokens
# with the 3k vocabulary (more with a smaller one); a context below this cannot hold them.
# Pretraining also checks the real lengths (models.pretrain.encode_documents).
MIN_CONTEXT = 192


@dataclass
class ModelConfig:
    """Which causal LM a stage uses, its tiny architecture when built here, LoRA and chat template."""

    name: str = "tiny"  # short name for paths, reports and W&B
    name_or_path: str | None = None  # None: the lab's tiny model pretrained on the world
    # tiny Llama architecture (used only when name_or_path is None)
    hidden_size: int = 128
    num_layers: int = 4
    num_heads: int = 4
    num_kv_heads: int = 4
    intermediate_size: int = 384
    vocab_size: int = 8192  # BPE vocabulary trained on the world, special tokens included
    max_position_embeddings: int = 256
    pretrain_steps: int = 1000  # optimizer steps the tiny base is pretrained for (pretrain.yaml `steps`)
    # seed of the tiny base's pretraining (pretrain.yaml `seed`): another seed, another base of the same config,
    # which every later stage then starts from (a lab per base: lab.model=[model.pretrain_seed=N]; docs/alignment.md)
    pretrain_seed: int = 0
    dtype: str = "float32"  # float32 | bfloat16 | float16
    # LoRA (alignment stages)
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.0
    lora_target_modules: list[str] = field(default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj"])
    chat_template: str = "tiny"  # tiny | llama2 | tokenizer (keep the tokenizer's own)
    # recompute activations in the backward pass (trl's default): saves GPU memory on 7B, but on the
    # tiny model it only costs time (PPO ~20% slower per update); not part of any artifact key
    gradient_checkpointing: bool = False

    @property
    def is_tiny(self) -> bool:
        """True when this is the lab's own model, built and pretrained here."""
        return self.name_or_path is None

    def arch(self) -> dict[str, Any]:
        """The fields that determine the tiny model's weights (hashed into the base artifact key)."""
        keys = ("hidden_size", "num_layers", "num_heads", "num_kv_heads", "intermediate_size", "vocab_size",
                "max_position_embeddings")
        return {k: getattr(self, k) for k in keys}

    def problems(self) -> list[str]:
        out: list[str] = []
        if not self.name or "/" in self.name:
            out.append(f"name={self.name!r}: must be a non-empty short name without '/'")
        if self.name_or_path is not None and not str(self.name_or_path).strip():
            out.append("name_or_path='': must be null (the tiny model) or a folder / hub name")
        for k in ("hidden_size", "num_layers", "num_heads", "num_kv_heads", "intermediate_size", "pretrain_steps"):
            out += positive(k, getattr(self, k))
        out += seed_range("pretrain_seed", self.pretrain_seed)  # the base's seed_everything (pretrain.yaml's seed)
        if self.num_heads > 0 and self.hidden_size % self.num_heads:
            out.append(f"num_heads={self.num_heads}: must divide hidden_size={self.hidden_size}")
        if self.num_kv_heads > 0 and self.num_heads % self.num_kv_heads:
            out.append(f"num_kv_heads={self.num_kv_heads}: must divide num_heads={self.num_heads}")
        if self.vocab_size < 300:
            out.append(f"vocab_size={self.vocab_size}: must be >= 300 (256 byte tokens + specials + merges)")
        if self.max_position_embeddings < MIN_CONTEXT:
            out.append(
                f"max_position_embeddings={self.max_position_embeddings}: must be >= {MIN_CONTEXT}, "
                "a model this size cannot fit the world's documents in its context"
            )
        out += choice("dtype", self.dtype, DTYPES)
        if self.lora_r < 1:
            out.append(f"lora_r={self.lora_r}: must be >= 1")
        out += positive("lora_alpha", self.lora_alpha)
        if not 0 <= self.lora_dropout < 1:
            out.append(f"lora_dropout={self.lora_dropout}: must be in [0, 1)")
        if not self.lora_target_modules:
            out.append("lora_target_modules=[]: must name at least one module, e.g. [q_proj, v_proj]")
        out += choice("chat_template", self.chat_template, CHAT_TEMPLATES)
        return out


@dataclass
class PretrainConfig:
    """``python training/pretrain.py``: the tiny base model trained from scratch on the world's documents."""

    model: ModelConfig = field(default_factory=ModelConfig)
    world: WorldConfig = field(default_factory=WorldConfig)
    steps: int = 1000  # optimizer steps; pretrain.yaml sets ${model.pretrain_steps}
    batch_size: int = 32  # documents per step (each document is one sequence, padded per batch)
    seq_len: int = 256  # tokens; longer documents are truncated (an error if many are)
    lr: float = 3e-3
    warmup_steps: int = 50
    weight_decay: float = 0.01
    save_every: int = 200  # steps between resumable checkpoints (model + optimizer + step)
    log_every: int = 10
    seed: int = 0
    num_threads: int | None = None  # torch CPU threads; None = one per 64 hidden units, at most the cores
    artifacts_dir: str = "artifacts"
    logger: LoggerConfig = field(default_factory=LoggerConfig)

    def train_key(self) -> dict[str, Any]:
        """The settings that determine the trained weights (logging and checkpoint cadence excluded)."""
        keys = ("steps", "batch_size", "seq_len", "lr", "warmup_steps", "weight_decay", "seed")
        return {k: getattr(self, k) for k in keys}

    def problems(self) -> list[str]:
        out: list[str] = []
        for k in ("steps", "batch_size", "seq_len", "lr", "save_every", "log_every"):
            out += positive(k, getattr(self, k))
        out += seed_range("seed", self.seed) + positive("warmup_steps", self.warmup_steps, strict=False)
        out += positive("weight_decay", self.weight_decay, strict=False)
        if self.seq_len > self.model.max_position_embeddings:
            out.append(f"seq_len={self.seq_len}: must be <= model.max_position_embeddings="
                       f"{self.model.max_position_embeddings}")
        if self.num_threads is not None and self.num_threads < 1:
            out.append(f"num_threads={self.num_threads}: must be >= 1 or null (automatic)")
        if not self.model.is_tiny:
            out.append(f"model.name_or_path={self.model.name_or_path!r}: pretraining builds the tiny model only, "
                       "set model.name_or_path=null (e.g. model=tiny)")
        return out


register_schema("model", ModelConfig)
register_schema("pretrain", PretrainConfig)
