"""Unit-test fixtures."""

import pytest

from tiny_models import tiny_llama, tiny_tokenizer


@pytest.fixture(scope="module")
def tiny_lm():
    """A random 2-layer Llama (``tiny_models.tiny_llama``, seed 0) behind ``HFLanguageModel``."""
    return tiny_llama(tiny_tokenizer())
