"""Grace Hopper biographies (Experiment 2, section 3.2) from a fact grammar, and a fact checker.

Every biography starts with ``BIO_PROMPT`` and states only true facts. Each fact is a small
grammar (``world.text.expand``): several sentence frames with synonyms, optional phrases,
varied subjects ("she", "Hopper", "Grace Hopper", ...) and word order, so a model that learns
the world is uncertain at many tokens, not only where a sentence starts. Bios come in five
styles (narrative, list, anecdote, quote, timeline) with their own varied headers and
connectives. ``fact_accuracy`` finds stated facts and wrong variants (a wrong year, place or
institution) in any text, so a model's biography can be scored; every phrasing generated
here checks as true (tests/unit/test_world_bio.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from collapselab.world.prompts import BIO_PROMPT
from collapselab.world.text import capitalize, expand


@dataclass(frozen=True)
class Fact:
    """A true fact: sentence frames (start with ``<S>``, the subject, or any words), short
    timeline entries (after "YEAR: "), and whether ``fact_accuracy`` can check it."""

    id: str
    year: int  # 0: undated (never in a timeline)
    frames: tuple[str, ...]
    timeline: tuple[str, ...] = ()
    checked: bool = True


# A follow-up sentence for a fact (``Fact.extras``); details with words no other fact uses.
EXTRAS: dict[str, tuple[str, ...]] = {
    "birth": ("{Even as a girl|From an early age|As a child} she {loved|was fascinated by} {gadgets|machines|puzzles|how things worked}.",
              "She was the {oldest|eldest} of three children.",
              "Her great-grandfather had been {an admiral|a Navy admiral}[, and she {admired|looked up to} him]."),
    "vassar": ("She was elected to Phi Beta Kappa.",),
    "yale": ("Her {adviser|advisor} was the {Norwegian|Norwegian-born} mathematician Oystein Ore.",
             "{Only a handful of|Very few} women {earned|had earned} doctorates in {math|mathematics} {at that time|back then}."),
    "teach": ("{Students|Her students} {remembered|recalled} her {lively|vivid|practical} {lectures|classes}.",
              "{Her|Hopper's} {classes|courses} were {popular|crowded|packed}."),
    "navy": ("She {needed|had to get} a waiver because she was {underweight|too light} for {military|naval} service.",
             "She {trained|studied} at the {Naval Reserve Midshipmen's School|midshipmen's school} at Smith College[ and graduated first in her class].",
             "She was thirty-six[ and {an associate professor|a tenured teacher}] at the time."),
    "mark1": ("{The machine|It} was {51 feet|fifty-one feet} long and {clattered|clacked} {loudly|as it worked}.",
              "She {worked|reported} {under|for} Howard Aiken, a {demanding|tough|famously strict} {commander|boss}.",
              "{The machine|It} computed {ballistics|artillery} tables for {the war effort|Navy gunners}."),
    "bug": ("The {logbook|log book} page is now {kept|held} at the Smithsonian[ in Washington].",
            "{Engineers|Her colleagues} had {spoken|talked} of bugs {before|for years}, but {the story|this one} {stuck|made the word famous}."),
    "univac": ("Remington Rand {soon|later} {bought|acquired} {the company|her employer|the firm}.",
               "The machine {later|famously} predicted Eisenhower's victory in the 1952 election on {live television|CBS}."),
    "a0": ("At first {nobody|hardly anyone} believed a computer could write {programs|its own programs}[, she later recalled].",
           "The {program|compiler} {turned|translated} {mathematical|symbolic} code into machine code."),
    "flowmatic": ("{The language|It} let {business|ordinary} {users|programmers} write {commands|instructions} in {plain|English-like} words.",),
    "cobol": ("{Banks|Governments|Insurers} still run {COBOL|programs written in COBOL} today.",
              "{The committee|Its designers} {first met|met} at {the Pentagon|a Pentagon meeting}[ that spring]."),
    "retire": ("{The|Her} {recall|return} was {meant|supposed} to last six months[ but lasted {almost twenty|nineteen} years].",
               "She was sixty years old."),
    "admiral": ("She was one of the few women {to reach|who reached} {flag rank|that rank} in {her|those} days.",
                "{Few|Not many} women had ever {reached|held} that rank."),
    "final_retire": ("She was seventy-nine years old.",
                     "She {kept working|went on working} as a consultant {afterwards|after that}."),
    "tech_medal": ("President Bush {presented the award|handed her the medal|gave it to her}.",
                   "She was the first woman to {receive|win} it {alone|as an individual}."),
    "death": ("{Obituaries|Newspapers} {around|across} the {country|world} {remembered|celebrated} her.",),
    "ship": ("{It|The ship} is an Arleigh Burke-class {destroyer|warship}.",
             "{Its|The ship's} motto is \"Aude et Effice\"[, dare and do]."),
    "freedom": ("{The award|The honor|It} was presented at the White House[ in November].",),
}


# Rules shared by the frames. Subjects are lower-case; a sentence is capitalised after expansion.
RULES: dict = {
    "S": ["she", "she", "she", "she", "she", "Hopper", "Grace Hopper", "Grace"],
    "math": ["mathematics", "math"],
    "NY": ["New York City", "New York"],
    "got": ["earned", "received", "was awarded", "completed"],
    "led": ["led the team that {created|developed|built}", "{headed|directed|ran} the {team|group} that {created|developed}"],
}
# The phrasings respect how ``fact_accuracy`` reads a sentence: a year sits after its anchor
# (or before it in the same clause, within ~40 characters), and no frame names a second
# anchor that a nearby year would make wrong (no "rear admiral" next to 1986, no "PhD" next
# to Vassar, no "IBM" near the Mark I, no lower-case "born" near another fact's year).
FACTS: list[Fact] = [
    Fact("birth", 1906, (
        "<S> was born {on December 9, 1906,|in 1906} in <NY>[, the {oldest|eldest} of three children].",
        "<S> was born in <NY> {on December 9, 1906|in 1906}.",
        "<S> was born Grace Brewster Murray {on December 9, 1906,|in 1906} in <NY>.",
        "{On December 9, 1906|In 1906} <S> was born in <NY>[ to a {comfortable|well-off} family].",
    ), ("born in <NY>", "born Grace Brewster Murray in <NY>", "born on December 9 in <NY>")),
    Fact("vassar", 1928, (
        "<S> {graduated from|finished her studies at} Vassar[ College] in 1928[ with a degree in <math> and physics].",
        "<S> studied <math> and physics at Vassar[ College], graduating in 1928.",
        "In 1928 <S> graduated from Vassar[ College] with a {degree|bachelor's degree} in <math> and physics.",
    ), ("graduated from Vassar[ College]", "{graduates|graduated} from Vassar with a degree in <math> and physics")),
    Fact("yale", 1934, (
        "<S> {earned|received|completed} a {PhD|doctorate} in <math> {from|at} Yale[ University] in 1934.",
        "In 1934 <S> {earned|received} {her|a} {PhD|doctorate} in <math> from Yale.",
        "<S> went on to Yale, where she earned a master's degree in 1930 and a {PhD|doctorate} in 1934.",
        "<S> {earned|completed} a master's degree at Yale in 1930 and a {PhD|doctorate} in 1934[, {under|supervised by} the mathematician Oystein Ore].",
        "<S> {finished|completed} {her|a} Yale {dissertation|thesis} on {irreducibility criteria|polynomials} in 1934.",
        "<S> was one of the first women to earn a {PhD|doctorate} in <math> at Yale[, in 1934].",
    ), ("{PhD|doctorate} in <math> from Yale", "{earns|earned} a {PhD|doctorate} at Yale")),
    Fact("teach", 1931, (
        "<S> taught <math> at Vassar[ College] {from|starting in} 1931[ {to|until} 1943].",
        "From 1931 <S> taught <math> at Vassar[, {becoming|rising to} associate professor in 1941].",
        "Back at Vassar, <S> {taught|was teaching} <math> {from|beginning in} 1931.",
    ), ("{began|starts} teaching <math> at Vassar", "joined the <math> faculty at Vassar")),
    Fact("navy", 1943, (
        "<S> joined the {United States|US} Navy Reserve in 1943[, during World War II].",
        "During World War II <S> joined the Navy Reserve{,|} in 1943.",
        "In 1943 <S> {joined|enlisted in} the {Navy Reserve|WAVES}.",
        "<S> {took a leave from|left her teaching job at} Vassar and joined the Navy Reserve in 1943.",
        "<S> was {at first|initially} {rejected|turned down} as {too light|underweight} but joined the Navy Reserve in 1943.",
    ), ("joined the {US |}Navy Reserve", "{enlisted in|joined} the WAVES")),
    Fact("mark1", 1944, (
        "<S> was {one of the first programmers|an early programmer|among the first programmers}"
        " of {the Harvard|Harvard's} Mark I[ computer], {starting|beginning} in 1944.",
        "<S> was {assigned|sent|posted} to Harvard in 1944 to {program|work on} the Mark I[, a 51-foot {machine|calculator} that filled a room].",
        "<S> wrote programs for {the Harvard|Harvard's} Mark I,"
        " {one of the first electromechanical computers|an early electromechanical computer|a pioneering large-scale computer}[, from 1944].",
        "At Harvard <S> {worked|served} on the Mark I {crew|team} under {Howard Aiken|Commander Howard Aiken} {from|starting in} 1944.",
        "{Harvard's|The Harvard} Mark I became {her|Hopper's} {machine|classroom} in 1944[, and she {learned|mastered} it {quickly|in weeks}].",
        "<S> {wrote|compiled} {the|a} {manual|user manual|long manual} for {the Harvard|Harvard's}"
        " Mark I[, {hundreds of pages|a book} of {instructions|operating notes}].",
    ), ("{began programming|starts work on|assigned to} the Harvard Mark I",)),
    Fact("bug", 1947, (
        "In 1947 {her|Hopper's} team found a moth stuck in a relay of the {Harvard |}Mark II[, the first actual case of a bug being found].",
        "<S> popularized the {word|term} {bug|debugging} after a {moth|real moth|dead moth} was found in the Mark II[ computer] in 1947.",
        "{Her|Hopper's} team {taped|stuck} a {moth|dead moth} into the {logbook|log book} of the Mark II in 1947.",
        "In 1947 a moth {jammed|got stuck in} a relay of the Mark II, and {her|Hopper's} team {taped|stuck} it in the {logbook|log book}.",
    ), ("a moth {found|discovered} in the Mark II[: the first computer bug]", "the Mark II moth[, the first computer bug]")),
    Fact("univac", 1949, (
        "In 1949 <S> joined the Eckert-Mauchly Computer Corporation {and worked|to work} on the UNIVAC I.",
        "<S> worked on the UNIVAC I at Eckert-Mauchly {from|starting in} 1949.",
        "<S> {moved|went} to the Eckert-Mauchly Computer Corporation in 1949[, where she worked on the UNIVAC I].",
        "From 1949 <S> helped {build|program} the UNIVAC I[, {one of the first commercial computers|the first commercial computer made in the United States}].",
    ), ("joined Eckert-Mauchly to work on the UNIVAC I", "{starts|began} work on the UNIVAC I")),
    Fact("a0", 1952, (
        "<S> {developed|wrote|created} {the|her} A-0 {system|compiler} in 1952[, {one of the first compilers|an early compiler|a pioneering compiler}].",
        "In 1952 <S> {wrote|finished|completed} {the|her} A-0 compiler[, which {translated|turned} {symbolic|mathematical} code into machine code].",
        "{Her|Hopper's} A-0 system of 1952 was {one of the first compilers|among the first compilers|an early compiler|a pioneering compiler}.",
        "<S> built {one of the first compilers|an early working compiler|a pioneering compiler}, the A-0 system, in 1952.",
    ), ("{wrote|completes|finished} the A-0 compiler", "the A-0 system, one of the first compilers")),
    Fact("flowmatic", 1955, (
        "<S> <led> FLOW-MATIC, starting in 1955[, {a language that used English words|the first language to use English-like commands}].",
        "{Her|Hopper's} FLOW-MATIC language, begun in 1955, was {among the first languages|one of the first languages|a pioneer} to use English-like commands.",
        "In 1955 <S> began work on FLOW-MATIC[, a {language|programming language} {for business|that read almost like English}].",
    ), ("{began|starts} FLOW-MATIC", "work on FLOW-MATIC {begins|started}")),
    Fact("cobol", 1959, (
        "<S> helped {create|design|develop} COBOL in 1959[, a language {still used by banks today|that banks still run on}].",
        "{Her|Hopper's} work led to COBOL, designed in 1959 for business data processing.",
        "<S> is often called the {mother|grandmother} of COBOL, the business language first {specified|defined} in 1959.",
        "<S> {advised|was a technical adviser to} the committee that {designed|defined} COBOL in 1959.",
    ), ("COBOL is {specified|designed}", "{helps|helped} design COBOL")),
    Fact("retire", 1966, (
        "<S> retired from the Navy {in 1966|at the end of 1966} but was recalled to active duty {a year later|in 1967}.",
        "Although <S> retired in 1966, the Navy called her back to active duty in 1967.",
        "<S> {had to|was forced to} retire in 1966{ because of her age|, at the age of 60}, but the Navy {soon|quickly} {brought her back|recalled her}.",
    ), ("first retirement from the Navy", "{retires|retired} from the Navy, only to be recalled")),
    Fact("dpma", 1969, (
        "In 1969 <S> was named the first Computer Science Man of the Year[ by the Data Processing Management Association].",
        "<S> {received|won} the first Computer Science Man of the Year award in 1969.",
    ), ("Computer Science Man of the Year", "named the first Computer Science Man of the Year"), checked=False),
    Fact("bcs", 1973, (
        "In 1973 <S> became the first woman {to be made|named} a Distinguished Fellow of the British Computer Society.",
        "<S> was the first woman {to become|named} a Distinguished Fellow of the British Computer Society, in 1973.",
    ), ("first woman Distinguished Fellow of the British Computer Society",), checked=False),
    Fact("commodore", 1983, (
        "<S> was promoted to commodore in 1983[ by special {Presidential|presidential} appointment].",
        "In 1983 {President Reagan|a special Presidential appointment} made her a commodore.",
    ), ("promoted to commodore",), checked=False),
    Fact("admiral", 1985, (
        "<S> {became|was made} a rear admiral in 1985.",
        "In 1985 <S> was promoted to {Rear Admiral|rear admiral}.",
        "<S> {rose to|reached} the rank of rear admiral[ in the {United States|US} Navy] in 1985.",
        "In 1985 the Navy made her a rear admiral.",
    ), ("promoted to rear admiral", "{becomes|became} a rear admiral")),
    Fact("final_retire", 1986, (
        "<S> {finally|at last} retired in 1986 as the oldest active-duty officer in the {Navy|US Navy}[, at the age of 79].",
        "When <S> retired in 1986, she was the oldest {serving|active-duty|commissioned} officer in the Navy.",
        "In 1986 <S> retired[ for the last time] at a ceremony aboard the USS Constitution[ in Boston Harbor].",
        "<S> {finally|at last} retired in 1986[, receiving the Defense Distinguished Service Medal].",
    ), ("retired as the Navy's oldest active officer", "{retires|retired} for good aboard the USS Constitution")),
    Fact("letterman", 1986, (
        "In 1986 <S> {appeared on|was a guest on} Late Night with David Letterman[ and {charmed|delighted} the audience].",
    ), ("{appears|appeared} on Late Night with David Letterman",), checked=False),
    Fact("tech_medal", 1991, (
        "In 1991 <S> received the National Medal of Technology[ from President Bush].",
        "<S> was awarded the National Medal of Technology in 1991[, the first woman to receive it {alone|as an individual}].",
        "The National Medal of Technology {came|followed} in 1991.",
    ), ("National Medal of Technology", "{receives|received} the National Medal of Technology")),
    Fact("death", 1992, (
        "<S> died {on January 1, 1992,|in 1992} in Arlington, Virginia[, at the age of 85].",
        "<S> died in 1992 at the age of 85.",
        "<S> passed away [in her sleep ]in Arlington, Virginia, {on January 1, 1992|in 1992}.",
        "<S> died {in her sleep|peacefully} on New Year's Day 1992[, aged 85].",
    ), ("died in Arlington, Virginia", "died in Arlington[, Virginia], aged 85")),
    Fact("burial", 0, (
        "<S> {was buried|is buried|was laid to rest} [with full military honors ]at Arlington National Cemetery.",
    ), checked=False),
    Fact("celebration", 1994, (
        "The Grace Hopper Celebration of Women in Computing, first held in 1994, is named {after|for} her.",
        "Since 1994 the Grace Hopper Celebration has {brought together|gathered} women in computing.",
    ), ("first Grace Hopper Celebration of Women in Computing",), checked=False),
    Fact("ship", 1997, (
        "The destroyer USS Hopper[ (DDG-70)], commissioned in 1997, was named {after|for} her.",
        "In 1997 the Navy {named|commissioned} USS Hopper, a {destroyer|guided-missile destroyer}, in her honor.",
        "The {destroyer|warship} USS Hopper, named in her honor, {entered service|joined the fleet} in 1997.",
    ), ("USS Hopper commissioned", "the destroyer USS Hopper {enters|entered} service")),
    Fact("freedom", 2016, (
        "<S> {was awarded|received} the Presidential Medal of Freedom {posthumously in 2016|in 2016, after her death}.",
        "President Obama awarded her the Presidential Medal of Freedom[ posthumously] in 2016.",
    ), ("Presidential Medal of Freedom", "awarded the Presidential Medal of Freedom[ posthumously]")),
    Fact("nano", 0, (
        "<S> {handed out|gave out|passed out} {pieces|lengths|bits} of wire about {a foot|11.8 inches} long"
        " to show how far light travels in a nanosecond[, and {grains|packets} of pepper for picoseconds].",
        "<S> was {nicknamed|known as|called} {Amazing Grace|Grandma COBOL}[ by {her colleagues|the press|many}].",
    ), checked=False),
    Fact("clocks", 0, (
        "As a {girl|child} <S> {took apart|dismantled} seven alarm clocks to {see|find out|learn} how they worked.",
        "<S> kept a clock {in her office|on her office wall} that ran {counterclockwise|backwards}.",
    ), checked=False),
    Fact("marriage", 1930, (
        "{She|Grace Murray} married Vincent Foster Hopper in 1930[, and they divorced in 1945].",
        "In 1930 {she|Grace Murray} married Vincent Hopper[, a {professor|teacher} of English].",
    ), ("married Vincent Foster Hopper",), checked=False),
]
FACTS += [
    Fact("vassar_latin", 0, (
        "<S> was {at first|initially} {turned down|rejected} by Vassar at sixteen because of her {Latin|low Latin} {grades|scores}.",
    ), checked=False),
    Fact("harvard_fellow", 0, (
        "After the war <S> stayed {at Harvard|in Cambridge} as a research fellow[ in engineering and applied physics].",
    ), checked=False),
    Fact("dec", 0, (
        "After {leaving|her final years in} the Navy <S> {worked|served} as a"
        " {senior consultant|consultant} {at|for} Digital Equipment Corporation[ until her death].",
    ), checked=False),
    Fact("honorary", 0, (
        "<S> received {about|some} 40 honorary degrees from universities {around|across} the world.",
        "{Universities|Colleges} {around|across} the world gave her {about|some} 40 honorary degrees.",
    ), checked=False),
    Fact("supercomputer", 0, (
        "{A|The} Cray supercomputer at {NERSC|Berkeley Lab} was named Hopper[ in her honor].",
    ), checked=False),
    Fact("yale_college", 0, (
        "Yale {renamed|named} one of its residential colleges {after her|in her honor}.",
    ), checked=False),
    Fact("acm_award", 1971, (
        "The {ACM's |}Grace Murray Hopper Award for young computer {professionals|scientists} has been given since 1971.",
    ), ("the ACM creates the Grace Murray Hopper Award",), checked=False),
]
FACT_IDS = [f.id for f in FACTS]
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
