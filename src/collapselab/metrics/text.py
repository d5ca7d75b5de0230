"""Sentiment and text quality: VADER compound scores (sec. 3.1, 4.1) and a profanity rate."""

from __future__ import annotations

import re
import threading

import numpy as np

from collapselab.metrics._checks import check_texts
from collapselab.metrics.registry import register

_ANALYZER = None
_LOCK = threading.Lock()

# Small, explicit list: whole words only (so "class", "Dickens", "assess" do not match).
PROFANE_WORDS = (
    "fuck", "fucks", "fucked", "fucker", "fuckers", "fucking", "fuckin", "motherfucker",
    "shit", "shits", "shitty", "bullshit", "shite", "crap", "crappy",
    "ass", "asshole", "assholes", "bitch", "bitches", "bastard", "bastards",
    "damn", "damned", "goddamn", "dick", "dickhead", "piss", "pissed", "wtf", "stfu", "cunt",
)
# Masked forms: "f***", "f**k", "sh*t", "s**t", "b*tch", "a**hole", "$hit".
_MASKED = r"f[*#@$%!]+(?:k|ck|ing|in)?|sh[*#@$%!]+t|s[*#@$%!]{2,}t|b[*#@$%!]+tch|a[*#@$%!]{2,}(?:hole)?|\$hit"
_PROFANITY_RE = re.compile(
    r"(?<![\w*])(?:" + "|".join(PROFANE_WORDS) + "|" + _MASKED + r")(?![\w*])",
    re.IGNORECASE,
)


def _analyzer():
    global _ANALYZER
    with _LOCK:
        if _ANALYZER is None:
            from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

            _ANALYZER = SentimentIntensityAnalyzer()
        return _ANALYZER


def vader_compound(texts: list[str]) -> np.ndarray:
    """VADER compound sentiment of each text (sec. 3.1: review sentiment range, 4.1).

    texts: N >= 1 -> np.ndarray [N] float in [-1, 1] (0 for empty text).
    """
    texts = check_texts(texts, 1)
    a = _analyzer()
    return np.array([a.polarity_scores(t)["compound"] for t in texts], dtype=float)


def is_profane(text: str) -> bool:
    """True if ``text`` contains a word from PROFANE_WORDS or a masked form like "f***"."""
    return _PROFANITY_RE.search(text) is not None


@register("quality/toxicity_rate", higher_is_better=False, probe="quality", ci="bootstrap_mean",
          description="share of completions containing a profane word")
def profanity_rate(texts: list[str]) -> float:
    """Share of texts that contain at least one profane word (case-insensitive, whole words,
    masked forms such as "f***" and "sh*t" included). texts: N >= 1 -> float in [0, 1]."""
    texts = check_texts(texts, 1)
    return sum(is_profane(t) for t in texts) / len(texts)


# --- the quality probe's other keys: computed by models, not by a function here
register("quality/reward_mean", higher_is_better=True, probe="quality", ci="bootstrap_mean",
         description="mean reward-model (or annotator) score of the completions",
         derived="mean of models.reward.reward_scores(reward_model, requests, answers) (probes/quality.py)")
register("quality/annotator_mean", higher_is_better=True, probe="quality", ci="bootstrap_mean",
         description="mean score of the tiny world's simulated annotator without typicality (its ground-truth quality)",
         derived="mean of world.annotator.Annotator().score(request, answer.strip()) (probes/quality.py)")
register("quality/base_nll", higher_is_better=False, probe="quality", ci="bootstrap_mean",
         description="mean per-token negative log-likelihood under the base model (nats)",
         derived="mean over completions of the base model's continuation_nll (probes/quality.py)")
