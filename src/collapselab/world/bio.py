"""Grace Hopper biographies (Experiment 2, section 3.2) from a fact grammar, and a fact checker.

Every biography starts with ``BIO_PROMPT`` and states only true facts. Each fact (the table
is in ``bio_facts``) is a small grammar (``world.text.expand``): several sentence frames with
synonyms, optional phrases, varied subjects ("she", "Hopper", "Grace Hopper", ...) and word
order, so a model that learns the world is uncertain at many tokens, not only where a
sentence starts. Here are the leads and the five styles (narrative, list, anecdote, quote,
timeline) with their own varied headers and connectives. ``fact_accuracy`` finds stated
facts and wrong variants (a wrong year, place or institution) in any text, so a model's
biography can be scored; every phrasing generated here checks as true
(tests/unit/test_world_bio.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from collapselab.world.bio_facts import EXTRAS, FACTS, RULES, Fact
from collapselab.world.prompts import BIO_PROMPT
from collapselab.world.text import capitalize, expand


# (lead, whether a tail may follow): what comes after "Grace Hopper was"
LEADS: list[tuple[str, bool]] = [
    ("{an American|a pioneering|a brilliant|a groundbreaking|a trailblazing|an influential} "
     "{computer scientist|mathematician|programmer|computing pioneer}[ and {United States|US|American} Navy rear admiral]", True),
    ("{one of the first programmers|among the first programmers|an early programmer} of {the Harvard|Harvard's} Mark I[ computer]", True),
    ("born on December 9, 1906, in <NY>", False),
    ("a {mathematician|mathematics professor} who {helped invent|built|wrote} {the first compiler|one of the first compilers|an early compiler}", False),
    ("{the computer scientist|the programmer|the naval officer|the mathematician} behind COBOL", True),
    ("{best known|remembered|famous} for {her work on COBOL|the first compiler|popularizing the term bug|making programming languages readable}", False),
    ("a {Navy|naval} officer and {a pioneer of computing|one of the first programmers|an early programmer}", True),
    ("{one of the most important|one of the most influential} {people|figures|women} in"
     " {the history of software|software history|computing history|the history of programming}", True),
    ("{known as|nicknamed} {Amazing Grace|the Queen of Code|Grandma COBOL}", False),
    ("a {mathematics professor|Vassar mathematics professor} who became {a computing pioneer|one of the first programmers|a software pioneer}", False),
    ("{a visionary|an outspoken|a tireless} {advocate|champion} of {programming languages|software} that {ordinary|business} people could read", False),
    ("{a teacher|an educator} at heart[, who {trained|mentored} {generations|a generation} of {young programmers|computer scientists}]", False),
]
# an optional second half of a noun-phrase lead (no years, no checked anchors)
LEAD_TAILS = [
    "whose work {made|helped make} computers {easier to program|usable by ordinary people}",
    "who {devoted|gave} {her life|decades|more than forty years} to {computing|making computers useful|teaching people to program}",
    "{famous|known} for her {sharp wit|blunt humor|love of teaching|impatience with bureaucracy}",
    "who {believed|insisted} that {computers|programs} should {understand|speak} {English|plain English}",
    "and one of the {founders|pioneers|architects} of modern {programming|software}",
    "who {changed|shaped} how {people|the world} {write|think about} software",
]
LEAD_TAIL_P = 0.3
QUOTES = [
    "It's easier to ask forgiveness than it is to get permission.",
    "The most dangerous phrase in the language is, 'We've always done it this way.'",
    "A ship in port is safe, but that's not what ships are built for.",
    "Humans are allergic to change.",
    "You manage things; you lead people.",
    "If it's a good idea, go ahead and do it.",
]
SAY = "{She|Hopper|Grace Hopper} {once said|liked to say|often said|famously said|is remembered for saying}"
CONNECTIVES = ["Later", "After that", "Soon after", "Years later", "Eventually", "In time", "Next"]
LIST_HEADS = ["Here are some facts about her:", "Some key facts:", "Highlights of her life:", "A few things to know:",
              "Key facts about her life:", "What she is remembered for:"]
BULLETS = ["{i}. ", "{i}) ", "- ", "* "]
TIMELINE_HEADS = ["Timeline:", "Key dates:", "A short timeline:", "Her life in dates:", "Milestones:"]
TIMELINE_FORMS = ["{y}: {e}.", "{y} - {e}.", "- {y}: {e}.", "{y}: {e}"]
STORIES = {
    "bug": "{One famous story|A famous story|A story she liked to tell}: in 1947 a moth {got stuck|was found} in a relay of the "
           "Harvard Mark II, and {her|Hopper's} team {taped|stuck} it into the {logbook|log book} as the first actual case of a bug being found.",
    "nano": "To explain a nanosecond, she {handed out|gave out|passed out} {pieces|lengths} of wire about {a foot|11.8 inches} long, "
            "the distance light travels in a billionth of a second.",
    "clocks": "As a {girl|child} she {took apart|dismantled} seven alarm clocks[ one after another] to {see|find out} how they worked.",
}
EXTRA_P = 0.75  # chance a stated fact gets a follow-up sentence from EXTRAS
UNCHECKED_WEIGHT = 0.5  # facts fact_accuracy cannot check are drawn half as often as the checked ones
N_FACTS_CDF = np.cumsum([0.15, 0.4, 0.35, 0.1])[:-1]  # P(1..4 facts after the lead)
STYLES = ("narrative", "list", "anecdote", "quote", "timeline")


def _sentence(fact: Fact, rng: np.random.Generator) -> str:
    """One frame of ``fact``, and now and then a follow-up sentence with more detail."""
    s = capitalize(expand(fact.frames[int(rng.random() * len(fact.frames))], RULES, rng))
    extras = EXTRAS.get(fact.id, ())
    if extras and rng.random() < EXTRA_P:
        s += " " + expand(extras[int(rng.random() * len(extras))], RULES, rng)
    return s


def _timeline_entry(fact: Fact, form: str, rng: np.random.Generator) -> str:
    entry = expand(fact.timeline[int(rng.random() * len(fact.timeline))], RULES, rng)
    return form.format(y=fact.year, e=entry)


def compose_bio(rng: np.random.Generator) -> tuple[str, list[str]]:
    """(biography, ids of the facts it states after the lead) -- ``write_bio`` with its bookkeeping."""
    style = STYLES[rng.choice(len(STYLES), p=[0.4, 0.15, 0.15, 0.15, 0.15])]
    lead_i = int(rng.random() * len(LEADS))
    lead = f"{BIO_PROMPT} {expand(LEADS[lead_i][0], RULES, rng)}"
    if LEADS[lead_i][1] and rng.random() < LEAD_TAIL_P:
        lead += ", " + expand(LEAD_TAILS[int(rng.random() * len(LEAD_TAILS))], RULES, rng)
    lead += "."
    story_id = list(STORIES)[int(rng.random() * len(STORIES))] if style == "anecdote" else None
    skip = {story_id, "birth" if LEADS[lead_i][0].startswith("born") else None}  # never state a fact twice
    pool = [i for i, f in enumerate(FACTS) if f.id not in skip and (f.year or style != "timeline")]
    k = 1 + int(np.searchsorted(N_FACTS_CDF, rng.random(), side="right"))
    if style in ("list", "timeline"):
        k = max(k, 2)  # a list of one is no list
    w = np.array([1.0 if FACTS[i].checked else UNCHECKED_WEIGHT for i in pool])
    idx = list(rng.choice(pool, size=k, replace=False, p=w / w.sum()))
    chrono = style in ("timeline", "anecdote") or rng.random() < 0.5
    if chrono:
        idx = sorted(idx, key=lambda i: FACTS[i].year or 3000)
    picks = [FACTS[i] for i in idx]
    ids = [f.id for f in picks]
    if style == "timeline":
        form = TIMELINE_FORMS[int(rng.random() * len(TIMELINE_FORMS))]
        head = TIMELINE_HEADS[int(rng.random() * len(TIMELINE_HEADS))]
        return "\n".join([f"{lead} {head}", *(_timeline_entry(f, form, rng) for f in picks)]), ids
    sents = [_sentence(f, rng) for f in picks]
    if style == "narrative":
        if chrono:  # now and then a connective between consecutive events
            sents = [_connect(s, rng) if i and rng.random() < 0.3 else s for i, s in enumerate(sents)]
        return " ".join([lead, *sents]), ids
    if style == "list":
        head = LIST_HEADS[int(rng.random() * len(LIST_HEADS))]
        bullet = BULLETS[int(rng.random() * len(BULLETS))]
        return "\n".join([f"{lead} {head}", *(bullet.format(i=i + 1) + s for i, s in enumerate(sents))]), ids
    if style == "quote":
        q = QUOTES[int(rng.random() * len(QUOTES))]
        say = expand(SAY, RULES, rng) + (":" if rng.random() < 0.5 else ",")
        return " ".join([lead, *sents[:2], f'{say} "{q}"', *sents[2:]]), ids
    story = expand(STORIES[story_id], RULES, rng)
    return " ".join([lead, story, *sents[:2]]), [*ids[:2], story_id]


def _connect(sentence: str, rng: np.random.Generator) -> str:
    """"Later, she ..." for a sentence that starts with its subject; others are left alone."""
    if not sentence.startswith(("She ", "Hopper ", "Grace ")):
        return sentence
    head = CONNECTIVES[int(rng.random() * len(CONNECTIVES))]
    return f"{head}, {'s' + sentence[1:] if sentence.startswith('She ') else sentence}"


def write_bio(rng: np.random.Generator) -> str:
    """One biography starting with ``BIO_PROMPT``; only true facts."""
    return compose_bio(rng)[0]


# ------------------------------------------------------------------ checking
@dataclass(frozen=True)
class Check:
    """A fact detected by ``anchor``; the nearest year (``years``) or entity (``true``/``false``) decides it."""

    name: str
    anchor: str
    years: frozenset = frozenset()
    true: str | None = None
    false: str | None = None


_CITIES = r"Chicago|Boston|London|Philadelphia|San Francisco|Washington|Los Angeles|Detroit|Baltimore|Paris|Cambridge"
_SCHOOLS = r"Harvard|Columbia|MIT|Princeton|Stanford|Cornell|Berkeley|Oxford|Cambridge"
_MONTHS = r"January|February|March|April|May|June|July|August|September|October|November"
CHECKS = [
    Check("birth_year", r"\bborn\b", frozenset({1906})),
    Check("birth_place", r"\bborn\b", true=r"New York", false=_CITIES),
    Check("birth_day", r"\bborn\b", true=r"December 9\b", false=rf"\b(?:{_MONTHS}) \d{{1,2}}\b|December (?!9\b)\d{{1,2}}\b"),
    Check("vassar", r"\bVassar\b", frozenset({1928, 1931, 1941, 1943})),
    Check("yale", r"\bYale\b", frozenset({1930, 1934})),
    Check("phd", r"\bPh\.? ?D\b|\bdoctorate\b|\bdoctoral\b", frozenset({1934}), true=r"\bYale\b", false=_SCHOOLS + r"|Vassar"),
    Check("navy", r"\b(?:joined|enlisted in|entered)\b[^.]{0,30}\bNavy\b|\bNavy Reserve\b|\bWAVES\b", frozenset({1943, 1944})),
    Check("mark1", r"\bMark I\b", frozenset({1944}), true=r"\bHarvard\b", false=r"\bMIT|Princeton|IBM|Stanford|Yale\b"),
    Check("bug", r"\bmoth\b", frozenset({1945, 1947}), true=r"Mark II\b", false=r"\bENIAC|UNIVAC|Mark I\b(?! *I)"),
    Check("univac", r"\bUNIVAC\b|Eckert", frozenset({1949, 1950, 1951})),
    Check("a0", r"\bA-0\b", frozenset({1951, 1952})),
    Check("flowmatic", r"FLOW-?MATIC", frozenset({1955, 1956, 1957, 1958, 1959})),
    Check("cobol", r"\bCOBOL\b", frozenset({1959, 1960})),
    Check("retire", r"\bretire", frozenset({1966, 1967, 1986})),
    Check("admiral", r"\b[Rr]ear [Aa]dmiral\b", frozenset({1983, 1985})),
    Check("death_year", r"\bdied\b|\bpassed away\b|\bdeath in\b", frozenset({1992}), true=r"\bArlington\b", false=_CITIES + r"|New York"),
    Check("death_age", r"\bdied\b", true=r"\bage of 85\b|\baged 85\b", false=r"\bage of (?!85)\d\d\b|\baged (?!85)\d\d\b"),
    Check("tech_medal", r"Medal of Technology", frozenset({1991})),
    Check("freedom", r"Medal of Freedom", frozenset({2016})),
    Check("ship", r"USS Hopper", frozenset({1996, 1997})),
]
# claims that are false wherever they appear
FALSE_CLAIMS = [
    r"\b(?:invented|created|developed|designed|wrote)\b[^.]{0,20}\b(?:FORTRAN|Java|BASIC|Pascal|C\+\+|Python|LISP|JavaScript)\b",
    r"\b(?:worked on|programmed|built)\b[^.]{0,15}\bENIAC\b",
    r"\b(?:joined|served in|enlisted in)\b[^.]{0,10}\b(?:Army|Air Force|Marines)\b",
    r"\b(?:was not|wasn't) (?:a|an) (?:computer scientist|programmer|mathematician|Navy officer)\b",
]
_YEAR = re.compile(r"\b(1[89]\d\d|20[0-4]\d)\b")
_SENT = re.compile(r"(?<=[.!?\n])\s+|\n+")
_CLAUSE = re.compile(r",|;| and | but | then ")
WINDOW = 60  # characters either side of an anchor that a year or entity may sit in


def _nearest(pattern: str, sent: str, a0: int, a1: int) -> tuple[int, str] | None:
    best = None
    for m in re.finditer(pattern, sent):
        if m.start() >= a1:
            d = m.start() - a1
        elif _CLAUSE.search(sent[m.end():a0]):  # a year before the anchor must be in the same clause
            continue
        else:
            d = 1.5 * (a0 - m.end())  # prefer what follows the anchor
        if -1 <= d <= WINDOW and (best is None or d < best[0]):
            best = (d, m.group())
    return best


def fact_accuracy(text: str) -> tuple[int, int]:
    """(n_true, n_false): facts about Grace Hopper stated correctly and wrongly in ``text``.

    Each check counts at most once per sentence; a year decides a dated fact, the nearest
    named place/institution decides an entity fact, and ``FALSE_CLAIMS`` are always wrong.
    """
    n_true = n_false = 0
    for sent in _SENT.split(text):
        for c in CHECKS:
            m = re.search(c.anchor, sent)
            if not m:
                continue
            if c.years:
                y = _nearest(_YEAR.pattern, sent, m.start(), m.end())
                if y is not None:
                    n_true, n_false = (n_true + 1, n_false) if int(y[1]) in c.years else (n_true, n_false + 1)
            if c.true:
                t = _nearest(c.true, sent, m.start(), m.end())
                f = _nearest(c.false, sent, m.start(), m.end()) if c.false else None
                if t is not None and (f is None or t[0] <= f[0]):
                    n_true += 1
                elif f is not None:
                    n_false += 1
        n_false += sum(bool(re.search(p, sent)) for p in FALSE_CLAIMS)
    return n_true, n_false
