"""Small text helpers shared by the generator and the annotator: VADER, profanity, sentences."""

from __future__ import annotations

import functools
import re

# Words the annotator treats as profanity (the generator's rude reviews use them).
PROFANITY = ("damn", "goddamn", "crap", "shit", "hell", "screw", "bloody", "fuck", "fucking", "bullshit", "ass", "bitch", "wtf")
_PROFANITY_RE = re.compile(r"\b(" + "|".join(PROFANITY) + r")\b", re.IGNORECASE)
_SENT_RE = re.compile(r"(?<=[.!?])\s+")


@functools.lru_cache(maxsize=1)
def _analyzer():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def vader(text: str) -> float:
    """VADER compound polarity of ``text`` in [-1, 1] (Hutto and Gilbert 2015; paper section 3.1)."""
    return float(_analyzer().polarity_scores(text)["compound"]) if text.strip() else 0.0


def profanity_count(text: str) -> int:
    return len(_PROFANITY_RE.findall(text))


def sentences(text: str) -> list[str]:
    return [s for s in _SENT_RE.split(text.strip()) if s]
