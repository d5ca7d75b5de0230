"""Byte-level BPE tokenizer trained on the world's texts, wrapped for ``transformers``.

Plain text gets ``<s>`` prepended (a Llama-style post-processor), so prompting the base
model with ``"Grace Hopper was"`` starts from BOS exactly as every pretraining document
did. ``AutoTokenizer.from_pretrained(folder)`` loads what ``save_pretrained`` writes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from collapselab.models.chat import ROLE_TOKENS, TINY_TEMPLATE

BOS, EOS, PAD, UNK = "<s>", "</s>", "<pad>", "<unk>"
SPECIAL_TOKENS = [PAD, BOS, EOS, UNK, *ROLE_TOKENS]  # ids 0..7 in this order


def train_tokenizer(texts: Iterable[str], vocab_size: int) -> Any:
    """Train a byte-level BPE on ``texts``; returns a ``PreTrainedTokenizerFast``.

    bos/eos/pad/unk and the chat role markers are special tokens; padding is on the left
    (generation); the chat template is the lab's ``tiny`` one.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token=None, byte_fallback=False))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        min_frequency=2,
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    bos_id = tok.token_to_id(BOS)
    tok.post_processor = processors.TemplateProcessing(
        single=f"{BOS} $A", pair=f"{BOS} $A {BOS} $B", special_tokens=[(BOS, bos_id)]
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token=BOS,
        eos_token=EOS,
        pad_token=PAD,
        unk_token=UNK,
        additional_special_tokens=list(ROLE_TOKENS),
        padding_side="left",
        clean_up_tokenization_spaces=False,
        model_max_length=1_000_000,
    )
    fast.chat_template = TINY_TEMPLATE
    return fast


def world_texts(world: Any) -> list[str]:
    """Every text in a world DatasetDict: documents, then instruction turns (for the BPE)."""
    texts = list(world["documents"]["text"])
    if "instructions" in world:
        for msgs in world["instructions"]["messages"]:
            texts += [m["content"] for m in msgs]
    return texts
