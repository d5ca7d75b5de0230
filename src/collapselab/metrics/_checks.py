"""Input validation shared by the metric modules (empty input -> ValueError with a clear message)."""

from __future__ import annotations


def check_texts(texts, min_n: int = 1, what: str = "texts") -> list[str]:
    """Return ``texts`` as a list of str, or raise: a bare string is a TypeError (it would be
    iterated character by character), fewer than ``min_n`` texts a ValueError."""
    if isinstance(texts, str):
        raise TypeError(f"{what} must be a list of strings, not a single string")
    texts = list(texts)
    if len(texts) < min_n:
        raise ValueError(f"{what}: need at least {min_n} text(s), got {len(texts)}")
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            raise TypeError(f"{what}[{i}] must be a str, got {type(t).__name__}")
    return texts
