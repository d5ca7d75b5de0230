"""Chat templates (jinja, as Hugging Face tokenizers store them).

``TINY_TEMPLATE`` is the lab's own format: simple role markers, each turn closed by
``<|end|>``, and the end-of-sequence token after every assistant answer so generation
stops there::

    <s><|user|>
    Write a persona.<|end|>
    <|assistant|>
    First name: ...<|end|></s>

``LLAMA2_TEMPLATE`` is Llama-2-chat's ``[INST] ... [/INST]`` format (with ``<<SYS>>``).
Both templates start with ``bos_token``, as Llama-2's does: tokenize a rendered
conversation with ``add_special_tokens=False`` (``apply_chat_template(tokenize=True)``
does this), or the sequence gets two BOS tokens. Assistant answers are wrapped in
``{% generation %}`` so ``return_assistant_tokens_mask`` (trl's ``assistant_only_loss``) works.
"""

from __future__ import annotations

from typing import Any

ROLE_TOKENS = ("<|system|>", "<|user|>", "<|assistant|>", "<|end|>")
END_TOKEN = "<|end|>"

TINY_TEMPLATE = (
    "{{ bos_token }}"
    "{% for message in messages %}"
    "{% if message['role'] == 'assistant' %}"
    "{{ '<|assistant|>\n' }}{% generation %}{{ message['content'] + '<|end|>' + eos_token }}{% endgeneration %}"
    "{% if not loop.last %}{{ '\n' }}{% endif %}"
    "{% else %}"
    "{{ '<|' + message['role'] + '|>\n' + message['content'] + '<|end|>\n' }}"
    "{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% endif %}"
)

LLAMA2_TEMPLATE = (
    "{% if messages[0]['role'] == 'system' %}"
    "{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}"
    "{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}"
    "{% for message in loop_messages %}"
    "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}"
    "{% endif %}"
    "{% if loop.index0 == 0 and system_message != false %}"
    "{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}"
    "{% else %}{% set content = message['content'] %}{% endif %}"
    "{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}"
    "{% elif message['role'] == 'assistant' %}"
    "{{ ' ' }}{% generation %}{{ content.strip() + ' ' + eos_token }}{% endgeneration %}"
    "{% endif %}"
    "{% endfor %}"
)

TEMPLATES = {"tiny": TINY_TEMPLATE, "llama2": LLAMA2_TEMPLATE}


def set_chat_template(tokenizer: Any, name: str) -> Any:
    """Give ``tokenizer`` the named template (``tiny`` | ``llama2``); ``tokenizer`` keeps its own.

    Returns the tokenizer. A tokenizer without a template under ``tokenizer`` gets ``tiny``.
    """
    from collapselab.errors import UserError

    if name == "tokenizer":
        if not getattr(tokenizer, "chat_template", None):
            tokenizer.chat_template = TINY_TEMPLATE
        return tokenizer
    if name not in TEMPLATES:
        raise UserError(f"model.chat_template={name!r}: must be one of tiny, llama2, tokenizer")
    tokenizer.chat_template = TEMPLATES[name]
    return tokenizer


def stop_token_ids(tokenizer: Any) -> list[int]:
    """Token ids that end an answer: EOS, plus ``<|end|>`` where the vocabulary has it."""
    ids = [tokenizer.eos_token_id]
    end = tokenizer.convert_tokens_to_ids(END_TOKEN) if END_TOKEN in tokenizer.get_vocab() else None
    if end is not None and end not in ids:
        ids.append(end)
    return [i for i in ids if i is not None]
