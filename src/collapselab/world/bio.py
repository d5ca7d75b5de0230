"""Grace Hopper biographies (Experiment 2, section 3.2) from a fact bank, and a fact checker.

Every biography starts with ``BIO_PROMPT`` and states only true facts, in many orders,
styles (narrative, list, anecdote, quote, timeline) and lengths. ``fact_accuracy`` finds
stated facts and wrong variants (a wrong year, place or institution) in any text, so a
model's biography can be scored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from collapselab.world.prompts import BIO_PROMPT

# (id, year, sentence templates with {She}, timeline entry)
FACTS: list[tuple[str, int, list[str], str]] = [
    ("birth", 1906, ["{She} was born on December 9, 1906, in New York City.", "{She} was born in New York City in 1906.",
                     "Born in New York City in 1906, {she} loved taking clocks apart as a child."], "born in New York City"),
    ("vassar", 1928, ["{She} graduated from Vassar College in 1928 with a degree in mathematics and physics.",
                      "{She} studied mathematics and physics at Vassar College, graduating in 1928."], "graduated from Vassar College"),
    ("yale", 1934, ["{She} earned a PhD in mathematics from Yale University in 1934.",
                    "In 1934 {she} received her doctorate in mathematics from Yale.",
                    "{She} went on to Yale, where {she} earned a master's degree in 1930 and a PhD in 1934."], "PhD in mathematics from Yale"),
    ("teach", 1931, ["{She} taught mathematics at Vassar College from 1931.", "For more than a decade {she} taught mathematics at Vassar."],
     "began teaching mathematics at Vassar"),
    ("navy", 1943, ["{She} joined the United States Navy Reserve in 1943, during World War II.",
                    "During World War II {she} joined the Navy Reserve, in 1943."], "joined the US Navy Reserve"),
    ("mark1", 1944, ["{She} was one of the first programmers of the Harvard Mark I computer, starting in 1944.",
                     "In 1944 {she} was assigned to Harvard to program the Mark I.",
                     "{She} wrote programs for the Harvard Mark I, one of the first electromechanical computers."], "began programming the Harvard Mark I"),
    ("bug", 1947, ["In 1947 {her} team found a moth stuck in a relay of the Harvard Mark II, the first actual case of a bug being found.",
                   "{She} popularized the word bug after a moth was found in the Mark II computer in 1947."], "a moth found in the Mark II: the first computer bug"),
    ("univac", 1949, ["In 1949 {she} joined the Eckert-Mauchly Computer Corporation and worked on the UNIVAC I.",
                      "{She} worked on the UNIVAC I at the Eckert-Mauchly Computer Corporation from 1949."], "joined Eckert-Mauchly to work on the UNIVAC I"),
    ("a0", 1952, ["{She} developed the A-0 system in 1952, one of the first compilers.",
                  "In 1952 {she} wrote the A-0 compiler, which translated symbolic code into machine code."], "wrote the A-0 compiler"),
    ("flowmatic", 1955, ["{She} led the team that created FLOW-MATIC, starting in 1955, a language that used English words.",
                         "Her FLOW-MATIC language, begun in 1955, was among the first to use English-like commands."], "began FLOW-MATIC"),
    ("cobol", 1959, ["{She} helped create COBOL in 1959, a language still used by banks today.",
                     "{Her} work led to COBOL, designed in 1959 for business data processing.",
                     "{She} is often called the mother of COBOL, the business language first specified in 1959."], "COBOL is specified"),
    ("retire", 1966, ["{She} retired from the Navy in 1966 but was recalled to active duty a year later.",
                      "Although {she} retired in 1966, the Navy called {her} back to active duty in 1967."], "first retirement from the Navy"),
    ("dpma", 1969, ["In 1969 {she} was named the first Computer Science Man of the Year.",
                    "{She} received the first Computer Science Man of the Year award in 1969."], "Computer Science Man of the Year"),
    ("admiral", 1985, ["{She} became a rear admiral in 1985.", "In 1985 {she} was promoted to Rear Admiral.",
                       "{She} rose to the rank of rear admiral in the United States Navy in 1985."], "promoted to rear admiral"),
    ("final_retire", 1986, ["{She} finally retired in 1986 as the oldest active-duty officer in the Navy.",
                            "When {she} retired in 1986, {she} was the oldest serving officer in the Navy."], "retired as the Navy's oldest active officer"),
    ("tech_medal", 1991, ["In 1991 {she} received the National Medal of Technology.",
                          "{She} was awarded the National Medal of Technology in 1991."], "National Medal of Technology"),
    ("death", 1992, ["{She} died on January 1, 1992, in Arlington, Virginia.", "{She} died in 1992 at the age of 85.",
                     "{She} passed away in Arlington, Virginia, in 1992."], "died in Arlington, Virginia"),
    ("ship", 1997, ["The destroyer USS Hopper, commissioned in 1997, was named after {her}.",
                    "In 1997 the Navy commissioned the destroyer USS Hopper in {her} honor."], "USS Hopper commissioned"),
    ("freedom", 2016, ["In 2016 {she} was awarded the Presidential Medal of Freedom after her death.",
                       "{She} received the Presidential Medal of Freedom in 2016."], "Presidential Medal of Freedom"),
    ("nano", 0, ["{She} handed out pieces of wire about a foot long to show how far light travels in a nanosecond.",
                 "{She} was nicknamed Amazing Grace.", "{Her} nickname was Amazing Grace."], ""),
]
LEADS = [
    "an American computer scientist and United States Navy rear admiral", "a pioneer of computer programming",
    "born on December 9, 1906, in New York City", "one of the first programmers of the Harvard Mark I computer",
    "a mathematician who helped invent the first compiler", "the computer scientist behind COBOL",
    "a Navy officer and a pioneer of computing", "one of the most important people in the history of software",
    "a mathematics professor who became a computing pioneer", "known as Amazing Grace",
]
QUOTES = [
    "It's easier to ask forgiveness than it is to get permission.", "The most dangerous phrase in the language is, 'We've always done it this way.'",
    "A ship in port is safe, but that's not what ships are built for.", "Humans are allergic to change.",
]
STYLES = ("narrative", "list", "anecdote", "quote", "timeline")


def _she(template: str, rng: np.random.Generator) -> str:
    subj = ["She", "Hopper", "Grace Hopper"][rng.integers(3)]
    s = template.replace("{She}", subj).replace("{she}", "she").replace("{Her}", "Her").replace("{her}", "her")
    return s


def write_bio(rng: np.random.Generator) -> str:
    """One biography starting with ``BIO_PROMPT``; only true facts."""
    style = STYLES[rng.choice(len(STYLES), p=[0.4, 0.15, 0.15, 0.15, 0.15])]
    lead = f"{BIO_PROMPT} {LEADS[rng.integers(len(LEADS))]}."
    k = int(rng.integers(2, 6))
    idx = rng.choice(len(FACTS), size=k, replace=False)
    if style in ("timeline", "anecdote"):
        idx = sorted(idx, key=lambda i: FACTS[i][1] or 3000)
    picks = [FACTS[i] for i in idx]
    sents = [_she(f[2][rng.integers(len(f[2]))], rng) for f in picks]
    if style == "narrative":
        return " ".join([lead, *sents])
    if style == "list":
        head = ["Here are some facts about her:", "Some key facts:", "Highlights of her life:"][rng.integers(3)]
        return "\n".join([f"{lead} {head}", *(f"{i + 1}. {s}" for i, s in enumerate(sents))])
    if style == "quote":
        q = QUOTES[rng.integers(len(QUOTES))]
        say = ["She once said", "She liked to say", "In her own words"][rng.integers(3)]
        return " ".join([lead, *sents[:2], f'{say}: "{q}"', *sents[2:]])
    if style == "timeline":
        items = [f"{f[1]}: {f[3]}." for f in picks if f[1]]
        return "\n".join([f"{lead} Timeline:", *items]) if items else " ".join([lead, *sents])
    story = ("One famous story: in 1947 her team found a moth stuck in a relay of the Harvard Mark II, "
             "taped it into the logbook and wrote that it was the first actual case of a bug being found.")
    if rng.random() < 0.5:
        story = ("To explain a nanosecond, she handed out pieces of wire about a foot long, "
                 "the distance light travels in a billionth of a second.")
    return " ".join([lead, story, *sents[:2]])


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
