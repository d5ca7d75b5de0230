"""Contrastive requests: "write an unusual persona" vs "write an ordinary persona" (issue #14).

The creativity direction of Olson et al. (2024, arXiv 2412.06060) is the difference of a model's
internal states when asked to answer "creatively" vs "boringly". A tiny-world model only knows what
those words mean if its SFT data says so; these records say it with the world's own distributions:
an *unusual* persona is drawn from the tails of every attribute distribution, an *ordinary* one from
their modes. ``persona_surprisal`` is the ground truth the score is validated against.

How the answers are drawn (a choice; the issue leaves it open). Every categorical the world samples a
persona from (nationality, ethnicity given nationality, gender, age, MBTI type, first and last name
given locale and gender, and the review's sentiment class given the attributes) is **tempered**:
``q_T(x) ∝ p(x)^(1/T)``, T = ``UNUSUAL_T`` (flattened: rare values gain mass) or ``ORDINARY_T``
(sharpened: the mode dominates). Why tempering rather than rejection on a surprisal quantile:

- "unusual" then holds at every line of the answer (an unusual nationality *and* an unusual type ...),
  so each field teaches the model the request's meaning; a quantile of the summed surprisal would be
  dominated by the names (several nats each) and leave the other attributes near their modes;
- the support is the world's: no value the world lacks is ever written, and the coupling of reviews
  to attributes is kept (the sentiment class is drawn from the tempered P(class | attributes));
- the ordering is guaranteed, not only likely: for each categorical, the expected surprisal under p of
  a draw from q_T, E_q[-log p], increases with T (its derivative is Var_q(log p) / T^2 >= 0), and the
  attributes are drawn independently given nationality, so unusual answers are more surprising under
  the world than world samples (T = 1), which are more surprising than ordinary ones;
- no rejection loop: the cost is one draw per attribute.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from collapselab.world.persona import format_persona
from collapselab.world.population import (
    AGE_BANDS, AGES, CLASSES, GENDERS, NATIONALITIES, _pool, age_band, age_p, class_p, drive, mbti_p, nationality_p,
)
from collapselab.world.prompts import PRODUCT
from collapselab.world.reviews import write_review

UNUSUAL_T = 3.0  # flattens: P(American) 0.115 -> 0.042, P(ISFJ) 0.138 -> 0.085, P(other gender) 0.02 -> 0.147
ORDINARY_T = 1 / 3  # sharpens: P(American) 0.115 -> 0.598, P(ISFJ) 0.138 -> 0.293, P(other gender) -> 3e-5
FLOOR_P = 1e-4  # probability given a value the world never produces (an invented nationality, age 120)

UNUSUAL_REQUESTS = [
    f"Create an unusual customer persona for {PRODUCT}: someone surprising, not the typical buyer. Give their first "
    "name, last name, gender, age, nationality, ethnicity and personality type (MBTI), then their review.",
    f"Invent a surprising, out-of-the-ordinary customer for {PRODUCT}, with their review.",
    f"Write a creative, unexpected customer profile and product review for {PRODUCT}.",
    f"Describe an unlikely buyer of {PRODUCT}, the kind you rarely meet, and give their review.",
    f"Generate one rare, unconventional customer persona with a review of {PRODUCT}.",
]
ORDINARY_REQUESTS = [
    f"Create an ordinary customer persona for {PRODUCT}: someone typical, the most common kind of buyer. Give their "
    "first name, last name, gender, age, nationality, ethnicity and personality type (MBTI), then their review.",
    f"Invent a typical, run-of-the-mill customer for {PRODUCT}, with their review.",
    f"Write a plain, predictable customer profile and product review for {PRODUCT}.",
    f"Describe a likely buyer of {PRODUCT}, the kind you meet every day, and give their review.",
    f"Generate one common, conventional customer persona with a review of {PRODUCT}.",
]
# the two sides line up phrasing by phrasing (pairs differ in the creativity words only, as in EasySteer)
CONTRAST_KINDS = {"persona-unusual": (UNUSUAL_REQUESTS, UNUSUAL_T), "persona-ordinary": (ORDINARY_REQUESTS, ORDINARY_T)}


def temper(p: np.ndarray, t: float) -> np.ndarray:
    """``p^(1/t)`` renormalised (``p [K]`` probabilities; zeros stay zero). t > 1 flattens, t < 1 sharpens."""
    p = np.asarray(p, dtype=float)
    with np.errstate(divide="ignore"):
        logq = np.where(p > 0, np.log(p) / t, -np.inf)
    q = np.exp(logq - logq.max())
    return q / q.sum()


def _draw(values: list, p: np.ndarray, t: float, rng: np.random.Generator):
    q = temper(p, t)
    return values[min(int(np.searchsorted(np.cumsum(q), rng.random(), side="right")), len(values) - 1)]


@functools.lru_cache(maxsize=None)
def _name_p(locale: str, which: str, how: str) -> tuple[tuple[str, ...], np.ndarray]:
    """(names, probabilities) of the world's name list (``population._pool``, whose cdf it differences)."""
    names, cdf = _pool(locale, which, how)
    return tuple(names), np.diff(np.concatenate([[0.0], cdf / cdf[-1]]))


def _name_source(nat: str, eth: str) -> tuple[str, str]:
    """(locale, how) the world draws a ``nat``/``eth`` customer's names from (``population.draw_attributes``)."""
    loc, how, eth_loc = NATIONALITIES[nat][1], NATIONALITIES[nat][2], NATIONALITIES[nat][6]
    loc2 = eth_loc.get(eth, loc)
    return loc2, ("latin" if loc2 != loc else how)


def tempered_persona(t: float, coupling: float, profanity_rate: float, rng: np.random.Generator) -> dict:
    """One persona record (``persona.generate_personas``'s keys, no VADER) with every categorical tempered by ``t``."""
    nat_p = nationality_p()
    nat = _draw(list(nat_p), np.array(list(nat_p.values())), t, rng)
    eth_p = NATIONALITIES[nat][5]
    eth = _draw(list(eth_p), np.array(list(eth_p.values())), t, rng)
    gender = _draw(list(GENDERS), np.array(list(GENDERS.values())), t, rng)
    age = int(_draw(list(AGES), age_p(), t, rng))
    mp = mbti_p()
    mbti = _draw(list(mp), np.array(list(mp.values())), t, rng)
    loc, how = _name_source(nat, eth)
    g = gender if gender != "other" else ("female" if rng.random() < 0.5 else "male")
    first = _draw(*_name_p(loc, g, how), t, rng)
    last = _draw(*_name_p(loc, "last_" + g, how), t, rng)
    attrs = {"first_name": first, "last_name": last, "gender": gender, "age": age, "nationality": nat,
             "ethnicity": eth, "mbti": mbti}
    cls = CLASSES.index(_draw(list(CLASSES), class_p(drive(mbti, age, nat), coupling), t, rng))
    return {**attrs, **write_review(attrs, cls, coupling, profanity_rate, rng), "sentiment": None,
            "sentiment_class": CLASSES[cls]}


def make_contrast_instructions(n: int, coupling: float, profanity_rate: float, rng: np.random.Generator) -> list[dict]:
    """``n`` chat records {"messages": [user, assistant], "kind"}, the shape of ``instructions.make_instructions``.

    Kinds alternate ``persona-unusual`` / ``persona-ordinary`` (half each); the request is one of that
    side's phrasings, the answer a persona tempered at ``UNUSUAL_T`` / ``ORDINARY_T`` written as the
    ordinary persona answers are (``format_persona(header=False)``). Deterministic for ``rng``'s seed.
    """
    kinds = list(CONTRAST_KINDS)
    out = []
    for i in range(n):
        kind = kinds[i % 2]
        requests, t = CONTRAST_KINDS[kind]
        req = requests[int(rng.integers(len(requests)))]
        ans = format_persona(tempered_persona(t, coupling, profanity_rate, rng), header=False)
        out.append({"messages": [{"role": "user", "content": req}, {"role": "assistant", "content": ans}], "kind": kind})
    return out


# ------------------------------------------------------------------ ground truth: surprisal under the world
def _nll(p: float) -> float:
    return -math.log(max(float(p), FLOOR_P))


def _casefold(s: object) -> str:
    return " ".join(str(s).split()).casefold()


def persona_surprisal_parts(persona: dict, *, names: bool = True) -> dict[str, float] | None:
    """Per attribute, -log P_world (nats) of a parsed persona's value (``world.persona.parse_persona``'s keys).

    Parts: ``nationality``, ``ethnicity`` (given nationality), ``gender``, ``age_band``, ``mbti`` and,
    with ``names``, ``first_name`` / ``last_name`` (given the locale the world draws that nationality's
    and ethnicity's names from, and the gender; "other": the mean of both lists). A value the world never
    produces gets ``FLOOR_P``. None when gender, age, nationality or MBTI is missing (not surprisal 0).
    """
    nat_raw, mbti, gender, age = persona.get("nationality"), persona.get("mbti"), persona.get("gender"), persona.get("age")
    if nat_raw is None or mbti is None or gender is None or age is None:
        return None
    nat_p = {_casefold(k): (k, v) for k, v in nationality_p().items()}
    nat, p_nat = nat_p.get(_casefold(nat_raw), (None, 0.0))
    parts = {"nationality": _nll(p_nat), "gender": _nll(GENDERS.get(str(gender), 0.0)),
             "mbti": _nll(mbti_p().get(str(mbti).upper(), 0.0))}
    ap = age_p()
    age_ok = isinstance(age, int) and int(AGES[0]) <= age <= int(AGES[-1])
    bands = {name: float(ap[(AGES >= lo) & (AGES <= hi)].sum()) for lo, hi, name in AGE_BANDS}
    parts["age_band"] = _nll(bands[age_band(int(age))] if age_ok else 0.0)
    eth_p = {} if nat is None else {_casefold(k): (k, v) for k, v in NATIONALITIES[nat][5].items()}
    eth, p_eth = eth_p.get(_casefold(persona.get("ethnicity") or ""), (None, 0.0))
    parts["ethnicity"] = _nll(p_eth)
    if names:
        for key, which in (("first_name", ""), ("last_name", "last_")):
            parts[key] = _nll(_name_prob(nat, eth, str(gender), which, persona.get(key)))
    return parts


def _name_prob(nat: str | None, eth: str | None, gender: str, which: str, name: object) -> float:
    if nat is None or not name:
        return 0.0
    loc, how = _name_source(nat, eth if eth is not None else "")
    genders = ("female", "male") if gender not in ("female", "male") else (gender,)
    total = 0.0
    for g in genders:
        total += _name_index(loc, which + g, how).get(str(name).casefold(), 0.0) / len(genders)
    return total


@functools.lru_cache(maxsize=None)
def _name_index(locale: str, which: str, how: str) -> dict[str, float]:
    """casefolded name -> its probability in the world's list (a name listed twice: summed)."""
    out: dict[str, float] = {}
    for n, p in zip(*_name_p(locale, which, how)):
        out[n.casefold()] = out.get(n.casefold(), 0.0) + float(p)
    return out


def persona_surprisal(persona: dict, *, names: bool = True) -> float:
    """-log P_world (nats) of a parsed persona's attribute values, the sum of ``persona_surprisal_parts``;
    nan when a required attribute is missing."""
    parts = persona_surprisal_parts(persona, names=names)
    return float("nan") if parts is None else float(sum(parts.values()))
