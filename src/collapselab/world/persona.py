"""Customer personas with a review (Experiment 1, section 3.1): generate, format, parse.

``parse_persona`` is what the evaluation harness runs on any model's output, so it is
lenient: `Key: value` lines, markdown bold, list bullets, "32 years old", "INFJ (Advocate)",
a full "Name:" instead of first/last, a review on the lines after its key.
"""

from __future__ import annotations

import re

import numpy as np

from collapselab.world.population import CLASSES, class_p, draw_attributes, draw_index, drive
from collapselab.world.prompts import PERSONA_PROMPT
from collapselab.world.reviews import write_review
from collapselab.world.text import vader

FIELDS = ("first_name", "last_name", "gender", "age", "nationality", "ethnicity", "mbti", "review")
LABELS = {"first_name": "First name", "last_name": "Last name", "gender": "Gender", "age": "Age",
          "nationality": "Nationality", "ethnicity": "Ethnicity", "mbti": "Personality", "review": "Review"}
GENDER_LABEL = {"female": "Female", "male": "Male", "other": "Non-binary"}


def generate_personas(n: int, coupling: float, profanity_rate: float, rng: np.random.Generator,
                      sentiment: bool = True) -> list[dict]:
    """``n`` customers with a review. Sentiment class ~ P(class | attributes) (``population.class_p``).

    Each record: the FIELDS plus ``sentiment`` (VADER compound of the review), ``sentiment_class``
    (angry | negative | mixed | positive | delighted), ``n_sentences``, ``profane``.
    ``sentiment=False`` skips VADER (the slow part) and leaves ``sentiment`` None.
    """
    out = []
    for a in draw_attributes(n, rng):
        p = class_p(drive(a["mbti"], a["age"], a["nationality"]), coupling)
        cls = draw_index(np.cumsum(p), rng)
        r = write_review(a, cls, coupling, profanity_rate, rng)
        out.append({**a, **r, "sentiment": vader(r["review"]) if sentiment else None, "sentiment_class": CLASSES[cls]})
    return out


def format_persona(rec: dict, header: bool = True) -> str:
    """The persona as `Key: value` lines, after ``PERSONA_PROMPT`` when ``header`` (plain documents)."""
    vals = {**rec, "gender": GENDER_LABEL.get(rec["gender"], rec["gender"])}
    body = "\n".join(f"{LABELS[k]}: {vals[k]}" for k in FIELDS)
    return (PERSONA_PROMPT + body) if header else body


# ------------------------------------------------------------------ parsing
_LINE = re.compile(
    r"^\s*(?:[-*\u2022>#]+\s*|\d+[.)]\s*)?(?:\*\*|__)?\s*([A-Za-z][A-Za-z /'\-()]{0,40}?)\s*(?:\*\*|__)?\s*:\s*(?:\*\*|__)?\s*(.*)$"
)
_KEYS = [
    (re.compile(r"^(first|given|fore) ?name$"), "first_name"),
    (re.compile(r"^(last|family|sur) ?name$"), "last_name"),
    (re.compile(r"^((full|customer|persona) )?name$|^customer$|^persona$"), "name"),
    (re.compile(r"^(gender|sex)( identity)?$"), "gender"),
    (re.compile(r"^age( group)?$"), "age"),
    (re.compile(r"^(nationality|country|citizenship|country of origin|origin)$"), "nationality"),
    (re.compile(r"^(ethnicity|race|ethnic background|ethnic origin|race ?/ ?ethnicity|ethnicity ?/ ?race)$"), "ethnicity"),
    (re.compile(r"personality|mbti|myers"), "mbti"),
    (re.compile(r"review|testimonial|feedback|comment"), "review"),
]
_HEADER = PERSONA_PROMPT.split(" for ")[0]  # "Customer persona"
_COUNTRY = {
    "usa": "American", "us": "American", "u.s.": "American", "united states": "American", "america": "American",
    "united states of america": "American", "uk": "British", "united kingdom": "British", "england": "British",
    "english": "British", "great britain": "British", "germany": "German", "france": "French", "spain": "Spanish",
    "italy": "Italian", "china": "Chinese", "japan": "Japanese", "korea": "Korean", "south korea": "Korean",
    "south korean": "Korean", "india": "Indian", "mexico": "Mexican", "brazil": "Brazilian", "canada": "Canadian",
    "australia": "Australian", "russia": "Russian", "nigeria": "Nigerian", "ireland": "Irish", "poland": "Polish",
    "sweden": "Swedish", "netherlands": "Dutch", "argentina": "Argentinian", "argentine": "Argentinian",
    "turkey": "Turkish", "greece": "Greek", "portugal": "Portuguese", "kenya": "Kenyan", "vietnam": "Vietnamese",
    "thailand": "Thai", "indonesia": "Indonesian", "pakistan": "Pakistani", "colombia": "Colombian", "chile": "Chilean",
}


def _key(raw: str) -> str | None:
    k = re.sub(r"\(.*?\)", "", raw).strip().lower().replace("_", " ")
    k = re.sub(r"\s+", " ", k)
    for pat, name in _KEYS:
        if pat.search(k):
            return name
    return None


def _clean(v: str) -> str:
    return v.strip().strip("*_`").strip().strip("\"'\u201c\u201d").strip()


def _gender(v: str) -> str | None:
    v = v.lower()
    if re.search(r"non-?binary|other|genderqueer|gender ?fluid|agender|\bnb\b|\bx\b", v):
        return "other"
    if re.search(r"female|woman|girl|\bf\b|\bshe\b", v):
        return "female"
    if re.search(r"male|\bman\b|boy|\bm\b|\bhe\b", v):
        return "male"
    return None


def _demonym(v: str) -> str | None:
    v = _clean(v).rstrip(".")
    if not v:
        return None
    return _COUNTRY.get(v.lower(), v[:1].upper() + v[1:])


def attribute_lines(text: str) -> str:
    """The part of a persona answer before its review: the lines up to (not including) the first line
    that ``parse_persona`` reads as the ``Review`` key, without the newline before it. The whole text
    when no line is a review line (a bio, a story, a persona cut off before its review)."""
    pos = 0
    for line in text.splitlines(keepends=True):
        m = _LINE.match(line.rstrip("\r\n"))
        if m and _key(m.group(1)) == "review":
            return text[:pos].rstrip("\r\n")
        pos += len(line)
    return text


def parse_persona(text: str) -> dict | None:
    """Normalised attributes from a persona in (almost) any `Key: value` layout, or None.

    Returns {first_name, last_name, gender ("female"|"male"|"other"|None), age (int|None),
    nationality, ethnicity, mbti (4 upper-case letters or None), review}; None when a name,
    an age or a review is missing.
    """
    out = persona_attributes(text)
    if not (out["first_name"] or out["last_name"]) or out["age"] is None or not out["review"]:
        return None
    return out


def canonical_attributes(text: str) -> str:
    """A persona answer's attributes re-written in the world's own layout: the `Key: value` lines of
    ``format_persona`` from "First name" to "Personality" with the values ``persona_attributes`` reads
    (normalised: "Female", an integer age, a demonym, a bare MBTI type), a value it cannot read left
    blank ("Nationality:"). The same text for the same attributes, whatever the answer's layout,
    length or review."""
    vals = persona_attributes(text)
    lines = []
    for k in FIELDS[:-1]:
        v = vals[k]
        v = GENDER_LABEL.get(v, v) if k == "gender" else v
        lines.append(f"{LABELS[k]}: {v}" if v is not None else f"{LABELS[k]}:")
    return "\n".join(lines)


def persona_attributes(text: str) -> dict:
    """``parse_persona``'s normalised fields without its check: every field, None where absent."""
    got: dict[str, str] = {}
    review_lines: list[str] | None = None
    for line in text.splitlines():
        m = _LINE.match(line)
        key = _key(m.group(1)) if m else None
        if got and (key in got or line.startswith(_HEADER)):
            break  # a second persona begins (a base model running on): keep the first
        if key is not None:
            review_lines = None
            got[key] = m.group(2)
            if key == "review":
                review_lines = [m.group(2)]
        elif review_lines is not None and line.strip():
            review_lines.append(line)
    if review_lines is not None:
        got["review"] = " ".join(_clean(x) for x in review_lines if _clean(x))
    out: dict = dict.fromkeys(FIELDS)
    first, last = _clean(got.get("first_name", "")), _clean(got.get("last_name", ""))
    if not first and not last and got.get("name"):
        toks = [t for t in re.split(r"[\s,]+", _clean(got["name"])) if t and not re.match(r"^(mr|mrs|ms|dr|miss)\.?$", t, re.I)]
        toks = [t for t in toks if not t.isdigit()]
        if toks:
            first, last = toks[0], (toks[-1] if len(toks) > 1 else "")
    out["first_name"], out["last_name"] = first or None, last or None
    if "age" in got:
        m = re.search(r"\d{1,3}", got["age"])
        if m and 0 < int(m.group()) < 120:
            out["age"] = int(m.group())
    out["gender"] = _gender(got["gender"]) if "gender" in got else None
    out["nationality"] = _demonym(got["nationality"]) if "nationality" in got else None
    out["ethnicity"] = _clean(got["ethnicity"]).rstrip(".") or None if "ethnicity" in got else None
    if "mbti" in got:
        m = re.search(r"\b([EI][NS][TF][JP])(?:-[AT])?\b", got["mbti"].upper())
        out["mbti"] = m.group(1) if m else None
    out["review"] = _clean(got.get("review", "")) or None
    return out
