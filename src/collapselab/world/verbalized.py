"""Verbalized sampling (Zhang et al. 2025, arXiv 2510.01171) in the tiny world: the request,
its answer format, the world's true probabilities, SFT records, and the parser.

Zhang et al. ask a chat model for a *set* of k responses, each with a numeric probability,
"sampled at random from the full distribution", instead of one response; one response is
then drawn from the stated probabilities (or all k are kept). Their prompt wraps each answer
in ``<response><text>..</text><probability>..</probability></response>`` tags; the tiny
model's context is 256 tokens and its BPE has no such tags, so the world uses one compact
line per persona (attributes only, no review)::

    1. Maria Garcia, Female, 34, Mexican, Latino, ISFJ, p=0.31

A full persona with its review is ~60-120 tokens, so k of them never fit; k = 5 attribute
lines plus the request and the chat markup take 178-205 tokens (docs/evaluation.md).

**The stated probability** of a line is its *world* probability: P(nationality) ·
P(ethnicity | nationality) · P(gender) · P(age) · P(MBTI), from ``population``'s tables
(names are left out: they are near-unique draws from thousands of Faker names, their
probability would decide every renormalisation, and the lab measures names only by count).
The k values are renormalised over the k lines shown (Zhang et al. ask for probabilities of
the set that sum to ~1) and written in hundredths by largest remainder, each at least 0.01,
so they sum to exactly 1.00. The k personas themselves are k independent draws from the world,
so *keeping all k* samples the world exactly; drawing one line by its stated probability
favours the set's most typical persona (a draw from P(x)·P(x)/Z-like weights, not P).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np

from collapselab.world.persona import GENDER_LABEL, _clean, _demonym, _gender, _key
from collapselab.world.population import AGES, GENDERS, NATIONALITIES, age_p, draw_attributes, mbti_p, nationality_p
from collapselab.world.prompts import PRODUCT

KIND = "persona-vs"
DEFAULT_K = 5
K_RANGE = (2, 10)  # k lines must fit the tiny model's 256-token context with the request
FORMAT_HINT = "One line each: name, gender, age, nationality, ethnicity, MBTI, p=probability."


def vs_requests(k: int) -> list[str]:
    """The verbalized-sampling request for k personas, in three phrasings (the first is the probe's).

    Adapted from Zhang et al. 2025 (their "full distribution" prompt): "generate a set of k
    possible responses ... each include a text and a numeric probability ... sample at random
    from the full distribution", with the compact one-line answer format stated."""
    return [
        f"Generate {k} customer personas for {PRODUCT}, each with its probability. "
        f"Sample at random from the full distribution. {FORMAT_HINT}",
        f"List {k} possible customers of {PRODUCT} with the probability of each, sampled at random "
        f"from the full distribution. {FORMAT_HINT}",
        f"Give {k} different customer personas for {PRODUCT} and how likely each one is. "
        f"Sample from the full distribution. {FORMAT_HINT}",
    ]


# ------------------------------------------------------------------ the world's probabilities
def attribute_logp(rec: dict) -> float:
    """log P_world of a persona's attribute values (nats): nationality, ethnicity | nationality,
    gender, age, MBTI (names excluded, see the module doc); -inf for a value the world lacks."""
    nat = rec.get("nationality")
    if nat not in NATIONALITIES:
        return -math.inf
    eth_p = NATIONALITIES[nat][5]
    ages = {int(a): float(p) for a, p in zip(AGES, age_p())}
    parts = [
        nationality_p()[nat],
        eth_p.get(rec.get("ethnicity"), 0.0) / sum(eth_p.values()),
        GENDERS.get(rec.get("gender"), 0.0),
        ages.get(rec.get("age"), 0.0) if isinstance(rec.get("age"), int) else 0.0,
        mbti_p().get(rec.get("mbti"), 0.0),
    ]
    return sum(math.log(p) for p in parts) if all(p > 0 for p in parts) else -math.inf


def renormalised(logps: list[float]) -> np.ndarray:
    """exp(logps) renormalised to sum to 1 (softmax); [k]. All -inf -> ValueError."""
    x = np.asarray(logps, dtype=float)
    if not np.isfinite(x).any():
        raise ValueError("renormalised: no value has positive probability")
    e = np.exp(x - x[np.isfinite(x)].max())
    return e / e.sum()


def hundredths(p: np.ndarray) -> list[float]:
    """``p`` (sums to 1) written in hundredths that sum to exactly 1.00, each >= 0.01.

    Largest remainder: each gets max(1, floor(100 p)) hundredths; the hundredths left over go
    to the largest remainders, and any excess (from the 0.01 floors) comes off the largest shares."""
    p = np.asarray(p, dtype=float)
    if not 1 <= len(p) <= 100:
        raise ValueError(f"hundredths: {len(p)} values cannot each get at least 0.01")
    raw = 100 * p / p.sum()
    units = np.maximum(1, np.floor(raw)).astype(int)
    left = 100 - int(units.sum())
    order = np.argsort(-(raw - units), kind="stable") if left > 0 else np.argsort(-units, kind="stable")
    i = 0
    while left != 0:
        j = order[i % len(order)]
        if left > 0:
            units[j] += 1
            left -= 1
        elif units[j] > 1:
            units[j] -= 1
            left += 1
        i += 1
    return [u / 100 for u in units]


def format_line(i: int, rec: dict, prob: float) -> str:
    """One persona line of a VS answer: ``i. First Last, Gender, age, Nationality, Ethnicity, MBTI, p=0.xx``."""
    def v(key: str) -> str:  # a few Faker surnames hold a comma ("Werl-Arnsberg, van"): fields are comma-separated
        return " ".join(re.sub(r"[,;|]", " ", str(rec[key])).split())

    g = GENDER_LABEL.get(rec["gender"], rec["gender"])
    return (f"{i}. {v('first_name')} {v('last_name')}, {g}, {rec['age']}, {v('nationality')}, "
            f"{v('ethnicity')}, {v('mbti')}, p={prob:.2f}")


def format_answer(recs: list[dict]) -> str:
    """The VS answer for these personas, each line with its stated world probability."""
    probs = hundredths(renormalised([attribute_logp(r) for r in recs]))
    return "\n".join(format_line(i + 1, r, p) for i, (r, p) in enumerate(zip(recs, probs, strict=True)))


def make_verbalized_instructions(n: int, coupling: float, profanity_rate: float, rng: np.random.Generator,
                                 k: int = DEFAULT_K) -> list[dict]:
    """``n`` SFT records {"messages": [user, assistant], "kind": "persona-vs"}: a VS request for k
    personas answered with k fresh world personas and their world probabilities (``format_answer``).

    ``coupling`` and ``profanity_rate`` shape only reviews, which VS answers do not carry; they are
    taken so the call matches ``instructions.make_instructions``. Draws from ``rng`` only."""
    del coupling, profanity_rate  # attributes are independent of both (population.draw_attributes)
    if not K_RANGE[0] <= k <= K_RANGE[1]:
        raise ValueError(f"k={k}: must be in {K_RANGE[0]}..{K_RANGE[1]} (k lines must fit the context)")
    attrs = draw_attributes(n * k, rng)
    requests = vs_requests(k)
    out = []
    for i in range(n):
        req = requests[int(rng.integers(len(requests)))]
        ans = format_answer(attrs[i * k:(i + 1) * k])
        out.append({"messages": [{"role": "user", "content": req}, {"role": "assistant", "content": ans}],
                    "kind": KIND})
    return out


# ------------------------------------------------------------------ parsing
_ITEM = re.compile(r"^\s*(?:\d{1,2}\s*[.):]|[-*\u2022])\s*(.*)$")
_PROB = re.compile(r"[\s,;|(]*\b(?:p|prob|probability)\s*(?:=|:|is)?\s*(\d+(?:\.\d+)?|\.\d+)\s*(%?)\s*\)?[\s.]*$",
                   re.I)
_PROB_BARE = re.compile(r"[\s,;|(]+(\d?\.\d+|\d+(?:\.\d+)?%)\s*\)?[\s.]*$")
_MBTI = re.compile(r"^([EI][NS][TF][JP])(?:-[AT])?$", re.I)
_AGE = re.compile(r"^(\d{1,3})(?:\s*(?:years?(?: old)?|y/?o|yrs?))?$", re.I)
_GENDER_WORD = re.compile(r"^(female|male|woman|man|non-?binary|other|f|m)$", re.I)


def _probability(line: str) -> tuple[float | None, str]:
    """(stated probability or None, the line without it). Percentages are divided by 100."""
    m = _PROB.search(line) or _PROB_BARE.search(line)
    if m is None:
        return None, line
    v = m.group(1)
    pct = v.endswith("%") or (m.re is _PROB and m.group(2) == "%")
    val = float(v.rstrip("%")) / (100 if pct else 1)
    return val, line[:m.start()]


def parse_vs_item(line: str) -> tuple[dict | None, float | None]:
    """(persona, stated probability) of one VS line; the persona is None when malformed.

    The persona has ``parse_persona``'s keys with ``review`` None. Fields are separated by
    commas, semicolons or bars, in any order: ``Key: value`` fields go by key; otherwise an MBTI
    type, an age ("34", "34 years old") and a gender word are recognised, and the other fields
    are name, nationality and ethnicity in that order. Well-formed: a name, an age and a stated
    probability in (0, 1]; a fourth free field, a field given twice, or none of them, makes it
    malformed."""
    prob, rest = _probability(line)
    got: dict = {}
    free: list[str] = []
    twice = False  # a field given twice ("39, Male, 26"): ambiguous, so malformed
    for raw in re.split(r"[,;|]", rest):
        f = _clean(raw)
        if not f:
            continue
        key = _key(f.split(":", 1)[0]) if ":" in f else None
        if key is not None:
            f = _clean(f.split(":", 1)[1])
        elif _MBTI.match(f):
            key = "mbti"
        elif _AGE.match(f):
            key = "age"
        elif _GENDER_WORD.match(f):
            key = "gender"
        else:
            free.append(f)
            continue
        twice |= key in got
        got[key] = f
    for name, val in zip(("name", "nationality", "ethnicity"), free):
        got.setdefault(name, val)
    if prob is not None and not 0 < prob <= 1:
        prob = None
    out: dict = dict.fromkeys(("first_name", "last_name", "gender", "age", "nationality", "ethnicity", "mbti",
                               "review"))
    first, last = got.get("first_name"), got.get("last_name")
    if not first and not last and got.get("name"):
        toks = got["name"].split()
        first, last = toks[0], (toks[-1] if len(toks) > 1 else None)
    out["first_name"], out["last_name"] = first or None, last or None
    m = re.search(r"\d{1,3}", got.get("age", ""))
    out["age"] = int(m.group()) if m and 0 < int(m.group()) < 120 else None
    out["gender"] = _gender(got["gender"]) if "gender" in got else None
    out["nationality"] = _demonym(got["nationality"]) if "nationality" in got else None
    out["ethnicity"] = got.get("ethnicity") or None
    mm = _MBTI.match(got.get("mbti", "").strip())
    out["mbti"] = mm.group(1).upper() if mm else None
    ok = (out["first_name"] or out["last_name"]) and out["age"] is not None and prob is not None and len(free) <= 3
    ok = ok and not twice
    return (out if ok else None), prob


@dataclass
class VSAnswer:
    """One parsed VS answer: k slots, each a persona (well-formed line) or None (malformed or missing).

    ``stated``: each slot's stated probability (None: missing, malformed or out of (0, 1]);
    ``probs``: the well-formed slots' stated probabilities renormalised to sum to 1 (0 elsewhere);
    ``n_lines``: item lines found; ``n_extra``: lines beyond k (ignored, and the answer is not ``ok``)."""

    k: int
    items: list[dict | None]
    stated: list[float | None]
    probs: list[float] = field(default_factory=list)
    n_lines: int = 0
    n_extra: int = 0

    @property
    def n_parsed(self) -> int:
        return sum(p is not None for p in self.items)

    @property
    def ok(self) -> bool:
        """Exactly k item lines, every one well-formed."""
        return self.n_lines == self.k and self.n_parsed == self.k

    @property
    def stated_sum(self) -> float | None:
        """Sum of the well-formed slots' stated probabilities before renormalising (None: no slot)."""
        vals = [s for s, p in zip(self.stated, self.items) if p is not None]
        return float(sum(vals)) if vals else None

    def draw(self, rng: np.random.Generator) -> int | None:
        """The slot drawn from the renormalised stated probabilities (None: nothing parsed)."""
        if not self.n_parsed:
            return None
        return int(rng.choice(self.k, p=np.asarray(self.probs)))


def parse_verbalized(text: str, k: int) -> VSAnswer:
    """Parse a VS answer into k slots (``VSAnswer``); nothing is dropped uncounted.

    Item lines are those opening with an enumerator ("1.", "2)", "-", "*"); when no line has
    one, every non-empty line is an item (other lines, e.g. a preamble, are not items). Line i
    fills slot i; missing lines leave their slots None, lines beyond k are counted in ``n_extra``.
    Stated probabilities of the well-formed lines are renormalised to sum to 1."""
    if k < 1:
        raise ValueError(f"k={k}: must be >= 1")
    lines = [ln for ln in text.splitlines() if ln.strip()]
    enumerated = [m.group(1) for ln in lines if (m := _ITEM.match(ln))]
    items = enumerated if enumerated else lines
    parsed = [parse_vs_item(ln) for ln in items[:k]]
    parsed += [(None, None)] * (k - len(parsed))
    ans = VSAnswer(k, [p for p, _ in parsed], [s for _, s in parsed], n_lines=len(items),
                   n_extra=max(0, len(items) - k))
    w = np.array([s if p is not None else 0.0 for p, s in parsed], dtype=float)
    ans.probs = (w / w.sum()).tolist() if w.sum() > 0 else [0.0] * k
    return ans
