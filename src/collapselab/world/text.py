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


# ------------------------------------------------------------------ a tiny phrase grammar
# Template syntax (used by the biography and founder-story generators):
#   {a|b|c}   one alternative, uniformly      [x]   x or nothing, with probability 1/2 each
#   <name>    a rule: ``rules[name]`` is a list of templates (one drawn uniformly) or a
#             callable ``rng -> str`` (numbers, names)
# Alternatives nest freely. Choices are made with ``rng.random()`` in the order they appear,
# so a template expands the same way for the same generator state.
_TOKEN = re.compile(r"[{}\[\]|<>]")


@functools.lru_cache(maxsize=4096)
def _parse(template: str) -> tuple:
    """The template as a tree: a sequence of str | ("alt", seqs) | ("opt", seq) | ("ref", name)."""

    def seq(i: int, stop: str) -> tuple[list, int]:
        out: list = []
        while i < len(template):
            m = _TOKEN.search(template, i)
            j = m.start() if m else len(template)
            if j > i:
                out.append(template[i:j])
            if not m:
                return out, len(template)
            c = template[j]
            if c in stop:
                return out, j
            if c == "{":
                alts = []
                k = j
                while True:
                    part, k = seq(k + 1, "|}")
                    alts.append(tuple(part))
                    if k >= len(template):
                        raise ValueError(f"unclosed '{{' in template {template!r}")
                    if template[k] == "}":
                        break
                out.append(("alt", tuple(alts)))
                i = k + 1
            elif c == "[":
                part, k = seq(j + 1, "]")
                if k >= len(template):
                    raise ValueError(f"unclosed '[' in template {template!r}")
                out.append(("opt", tuple(part)))
                i = k + 1
            elif c == "<":
                k = template.index(">", j)
                out.append(("ref", template[j + 1:k]))
                i = k + 1
            else:
                raise ValueError(f"unexpected {c!r} at {j} in template {template!r}")
        if stop:
            raise ValueError(f"unclosed group in template {template!r}")
        return out, i

    return tuple(seq(0, "")[0])


def expand(template: str, rules: dict, rng) -> str:
    """``template`` with every choice made by ``rng`` (see the syntax above), spaces tidied.

    Example: expand("{She|Hopper} [later ]joined <org>.", {"org": ["the Navy"]}, rng)
    -> "Hopper later joined the Navy." (or one of the other three strings).
    """
    out: list[str] = []

    def walk(nodes) -> None:
        for n in nodes:
            if isinstance(n, str):
                out.append(n)
            elif n[0] == "alt":
                walk(n[1][int(rng.random() * len(n[1]))])
            elif n[0] == "opt":
                if rng.random() < 0.5:
                    walk(n[1])
            else:
                r = rules[n[1]]
                if callable(r):
                    out.append(str(r(rng)))
                else:
                    walk(_parse(r[int(rng.random() * len(r))]))

    walk(_parse(template))
    return tidy("".join(out))


_SPACES = re.compile(r"[ \t]+")
_SPACE_PUNCT = re.compile(r" +([,.;:!?])")


def tidy(text: str) -> str:
    """Collapse runs of spaces, drop spaces before punctuation and a doubled comma."""
    text = _SPACE_PUNCT.sub(r"\1", _SPACES.sub(" ", text)).replace(",,", ",").replace(",.", ".")
    return text.strip(" ")


def capitalize(text: str) -> str:
    """First letter upper-cased, the rest untouched ("iPhone" style words are not expected here)."""
    return text[:1].upper() + text[1:]
