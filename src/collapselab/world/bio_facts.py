"""The Grace Hopper fact table that ``bio`` composes biographies from.

``Fact`` (sentence frames and timeline entries for one true fact), ``FACTS`` and ``FACT_IDS``,
``EXTRAS`` (follow-up sentences per fact) and ``RULES`` (the phrase rules the frames share),
all in the grammar of ``world.text.expand``. The phrasings are written to the rules of
``bio.fact_accuracy`` (tests/unit/test_world_bio.py).
"""

from __future__ import annotations

from dataclasses import dataclass


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
