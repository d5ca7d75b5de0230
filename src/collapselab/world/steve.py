"""Founder stories continuing "Steve is the CEO of a startup company" (Experiment 3, section 3.3).

A phrase grammar (``world.text.expand``): what the company builds, for whom, where and when
it began, who Steve is, a problem, a turn of fortune and where he is now. Every part has
choices at the word and phrase level (synonyms, optional modifiers, company names, cities,
numbers, co-founders' names drawn from Faker's weighted en_US lists), so a model that learns
these stories is uncertain at many tokens, not only where a sentence starts
(the paper's eq. 3.2 measures exactly that per-token uncertainty).
"""

from __future__ import annotations

import numpy as np

from collapselab.world.population import draw_name
from collapselab.world.prompts import STEVE_PROMPT
from collapselab.world.text import capitalize, expand

_PREFIX = ["Blue", "Bright", "Green", "Pixel", "Quantum", "North", "Open", "Red", "Sun", "Iron", "Cloud", "Tiny", "Swift",
           "Silver", "Harbor", "Maple", "Nova", "Pine", "Atlas", "Echo"]
_SUFFIX = ["loop", "leaf", "path", "stack", "forge", "wave", "nest", "works", "bit", "box", "mint", "lab", "ly", "hub",
           "grid", "field", "spark", "line"]


def _company(rng: np.random.Generator) -> str:
    return _PREFIX[int(rng.random() * len(_PREFIX))] + _SUFFIX[int(rng.random() * len(_SUFFIX))]


def _first_name(rng: np.random.Generator) -> str:
    """A first name from Faker's en_US lists with their frequency weights."""
    return draw_name("en_US", "latin", "female" if rng.random() < 0.5 else "male", rng)[0]


def _choice(values):
    return lambda rng: values[int(rng.random() * len(values))]


RULES: dict = {
    "name": _first_name,
    "n": _choice([3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 15, 18, 20, 22, 25, 30, 35, 40, 45, 50, 60, 75, 80, 120, 150, 200]),
    "year": lambda rng: 2008 + int(rng.random() * 16),
    "age": lambda rng: 23 + int(rng.random() * 38),
    "few": ["two", "three", "four", "five", "six", "eight", "ten"],
    "city": ["Austin", "Berlin", "Lagos", "Bangalore", "Lisbon", "Seattle", "Toronto", "Nairobi", "Melbourne", "Singapore",
             "Denver", "Manchester", "Boston", "Portland", "Atlanta", "Dublin", "Stockholm", "Sao Paulo", "Mexico City",
             "Tel Aviv", "Warsaw", "Cape Town", "Pittsburgh", "Helsinki", "Montreal", "Barcelona", "Chicago", "Accra"],
    "state": ["Ohio", "Iowa", "Vermont", "New Jersey", "Texas", "Oregon", "Michigan", "Colorado", "Georgia", "Maine"],
    # what "it" (the company) does; every product below fits after any of these verbs
    "does": ["builds", "makes", "sells", "develops", "designs", "is building", "is developing", "offers"],
    "product": [
        "drone delivery for {rural|small-town|island} {pharmacies|clinics|hospitals}",
        "an app that {matches|connects|pairs} dog walkers with {busy|elderly|working} {owners|pet owners}",
        "solar panels you can {roll up|fold|carry in a backpack}",
        "software that predicts when {factory|farm|hospital} machines will {break|fail|need repairs}",
        "vertical farms in {old|empty|abandoned} {parking garages|warehouses|shopping malls}",
        "a marketplace for {used|second-hand|refurbished} {lab equipment|restaurant ovens|hospital beds}",
        "batteries made from {seaweed|salt|recycled glass}",
        "AI tutors for {high school|middle school|college} {chemistry|math|physics|history}",
        "{electric|solar-powered} {cargo bikes|scooters|delivery vans}",
        "a payroll tool for {food trucks|small bakeries|hair salons|plumbers}",
        "smart locks for {bike sheds|garden gates|shared garages}",
        "plant-based {cheese|ice cream|salmon|burgers}",
        "insurance for {freelance|touring|independent} {musicians|photographers|designers}",
        "a platform for renting out {empty|unused|spare} {office desks|parking spots|kitchens}",
        "water filters for {camping|disaster relief|village schools}",
        "robots that sort {recycling|packages|hospital laundry}",
        "a language app for {truck drivers|nurses|new immigrants}",
        "3D-printed {running shoes|hearing aids|dental braces}",
        "a budgeting app for {teenagers|students|young families}",
        "sensors that detect {leaks|cracks|rust} in {old|city|apartment} {pipes|bridges|buildings}",
        "carbon accounting for {small farms|family restaurants|local shops}",
        "a {scheduling|booking} app for {dentists|yoga teachers|driving schools}",
        "{smart|connected} beehives that warn {beekeepers|farmers} about {disease|swarming|theft}",
        "{cheap|low-cost} {ultrasound|eye-test} devices for {rural|remote} clinics",
    ],
    "where": ["in <city>", "in a garage in <state>", "out of a co-working space in <city>", "in a {small|tiny|rented} flat in <city>",
              "{in|from} his parents' basement in <state>", "in a converted barn in <state>", "in a dorm room in <city>",
              "at a kitchen table in <city>"],
    "when": ["in <year>", "<few> years ago", "{last|this} {spring|summer|winter|year}", "right after college"],
    "friend": ["his {college|university} roommate <name>", "an old friend, <name>,", "a former colleague named <name>",
               "his {sister|brother|cousin} <name>", "<name>, {a neighbour|an engineer he met online|a designer from his old job},"],
    "why": [
        "his {grandmother|grandfather|aunt} could not get {medicine|prescriptions} delivered",
        "he spent a {winter|summer} fixing broken machines at a {factory|farm}",
        "he lost a bet with his {roommate|brother|boss}",
        "a trip to {Kenya|Peru|India|Morocco} showed him how much {water|food|energy} was wasted",
        "he failed {chemistry|calculus|physics} {twice|in high school}",
        "his {food truck|bakery|first company} went {bankrupt|under}",
        "he read {an article|a report|a book} about {plastic in the ocean|food waste|air pollution}",
        "a {flood|fire|burst pipe} ruined his apartment",
        "he got tired of {paperwork|spreadsheets|endless meetings} at his old job",
        "he watched his {father|mother|uncle} struggle with {bills|debt|a failing shop}",
    ],
    "job": ["an accountant", "a {math|chemistry|history} teacher", "a nurse", "a bank analyst", "a software engineer at a big tech firm",
            "a chef", "a mechanic", "a consultant", "a product manager", "a lab technician"],
    "hobby": ["plays the {drums|bass|guitar} in a {garage|cover|jazz} band", "coaches his {son's|daughter's} {soccer|hockey|basketball} team",
              "climbs {mountains|rocks|every hill he can find}", "restores {old|vintage} {motorcycles|sailboats|typewriters}",
              "bakes sourdough bread", "plays chess online {every night|until midnight}", "runs {marathons|trail races}",
              "volunteers at a {food bank|animal shelter}", "builds {furniture|model trains} in his garage"],
    "home": ["lives with his {wife|partner} and {two|three} {kids|children}", "recently moved in with his {girlfriend|boyfriend|partner}",
             "has a {dog|cat} named {Pixel|Biscuit|Luna|Max|Turing|Mango|Byte|Pepper}",
             "lives alone {above a bakery|in a small apartment|near the office}", "still shares a flat with {two|three} roommates"],
    "grewup": ["on a farm in <state>", "in a suburb of {Chicago|Detroit|Houston|Phoenix}", "in a small town in {Wales|Maine|Ontario}",
               "in Hong Kong", "in a military family that moved {a lot|every few years}", "above his parents' {restaurant|shop|pharmacy}"],
    "money": ["{two|three|five|ten} million dollars", "$<n> million", "half a million dollars", "{a few|several} hundred thousand dollars"],
    "investor": ["a famous investor", "a well-known venture capitalist", "a celebrity chef", "a popular {blogger|podcaster|YouTuber}"],
}

# what follows the prompt (written with its leading space or punctuation)
OPENINGS = [
    " {that <does>|that <does>|working on|focused on|{making|building|selling}} <product>.",
    " called {company_name} that <does> <product>.",
    " called {company_name}. {The company|The startup|It} <does> <product>.",
    " {based|headquartered} in <city>. {His company|The startup|The company|It} <does> <product>.",
    " in <city> that <does> <product>.",
    ". {His company|The startup|The company|It} <does> <product>.",
    " he founded <when>. It <does> <product>.",
    " with <staff> {employees|people}. {The company|The startup|It} <does> <product>.",
    ", and he has {big|ambitious|wild} plans. {His company|The startup} <does> <product>.",
]
PLACES = ["{He started the company|He founded the startup|The company was founded|It all {began|started}|He launched it} <where>[ <when>].",
          "{The first prototype|Their first prototype} was {built|put together} {in a garage in <state>|in a dorm room in <city>|"
          "at a kitchen table in <city>|in his parents' basement in <state>|in a converted barn in <state>}."]
ORIGINS = ["{He started it|He founded the company|The idea came to him} {after|when} <why>.",
           "He {quit|left} his job as {job} {after|when} <why>.",
           "It began as a {weekend|side|hobby} project {after|when} <why>."]
TEAMS = ["{The company|The startup|{company_name}} {has|now has} <staff> {employees|people|staff}.",
         "His team of <staff> {people|engineers} works out of a {tiny|cramped|shared|rented} office[ in <city>].",
         "He hired his first {two|three|four|five} engineers {last year|in <year>|this spring}.",
         "Today {the startup|{company_name}} employs <staff> people[, {most|many|half} of them {engineers|remote|under thirty}]."]
COFOUNDERS = ["He runs the company with <friend>[, who {handles|looks after|runs} {sales|the money|engineering|design}].",
              "He started it with <friend>, who {left after a year|left when money got tight|stayed through everything}."]
PERSONAL = ["Steve is <age> years old and <home>.", "{Outside work|In his free time|On weekends}, Steve <hobby>.", "Steve grew up <grewup>.",
            "Before {the startup|all this}, Steve worked as {job}[ for <few> years]."]
PROBLEMS = ["{Last year|In <year>|Early on|Two years ago|At one point} the company {almost|nearly} ran out of {money|cash}.",
            "A {bigger|larger|well-funded} competitor {copied|cloned} their product.",
            "Their first prototype {caught fire|fell apart|broke} during a {demo|pitch|trade show}.",
            "His co-founder left to {join a rival|start another company|travel the world}.",
            "Investors turned him down {twenty|thirty|forty|fifty} times.",
            "Investors turned him down {again and again|for a whole year}.",
            "A {supplier|key supplier|parts maker} went {bankrupt|under} and {stopped all deliveries|left them without parts}.",
            "{Regulators|Safety inspectors|The city} {blocked|delayed} their launch for {three|six|eight|nine} months.",
            "{Nobody|Almost nobody|Hardly anyone} bought the first {version|model|release}."]
TURNS = ["Then <investor> {tweeted|posted|wrote} about them and sales {tripled|doubled|took off}.",
         "A {hospital chain|school district|city council|supermarket chain} signed a {two|three|five}-year contract.",
         "He pivoted to selling to {schools|hospitals|farmers|airlines}, and it {worked|paid off}.",
         "A crowdfunding campaign raised <money> in {a week|a month|ten days}.",
         "Things got {worse|much worse} before they got better.",
         "He sold his {car|apartment|motorcycle} to {pay salaries|make payroll|cover the rent} and kept going.",
         "A grant from the {city|government|European Union} kept them {alive|afloat|going}.",
         "They won a {startup|pitch|regional} competition and the prize money {saved them|kept them going|paid the rent}."]
NOWS = ["{Now|Right now|These days} he is {preparing|getting ready|trying} to raise a Series {A|B|C}.",
        "He still {answers|reads|replies to} every customer {email|complaint|message} himself.",
        "He hopes to expand to {Europe|Asia|Canada|South America|three new cities} {next year|by <year2>}.",
        "Some days he wonders whether he should have stayed {at the bank|in his old job}.",
        "He sleeps {four|five} hours a night and {says|insists} he {loves|enjoys} it.",
        "He is {thinking about|considering} selling the company[ to a {bigger rival|private equity firm}].",
        "He wants to be profitable by {next summer|the end of the year|<year2>}.",
        "He {runs|swims|cycles} every morning before work to {clear his head|think|stay calm}.",
        "Last month they raised <money> from investors."]


# how often each part of the story appears (the middle: each of origin, team, co-founder, personal)
P_PART = {"place": 0.4, "middle": 0.3, "problem": 0.8, "turn": 0.8, "now": 0.7}


def _pick(xs: list[str], rng: np.random.Generator) -> str:
    return xs[int(rng.random() * len(xs))]


def write_steve(rng: np.random.Generator) -> str:
    """One founder story starting with ``STEVE_PROMPT``."""
    company = _company(rng)  # one company name, former job, home city and head count per story
    job = expand(_pick(RULES["job"], rng), RULES, rng)
    city, staff = _pick(RULES["city"], rng), RULES["n"](rng)
    rules = {**RULES, "city": [city], "staff": lambda r: staff, "year2": lambda r: 2025 + int(r.random() * 3)}

    def say(template: str) -> str:  # {company_name} and {job} are filled before the grammar runs
        return capitalize(expand(template.replace("{company_name}", company).replace("{job}", job), rules, rng))

    parts = [say(STEVE_PROMPT + _pick(OPENINGS, rng))]
    if rng.random() < P_PART["place"]:
        parts.append(say(_pick(PLACES, rng)))
    middle = [say(_pick(group, rng)) for group in (ORIGINS, TEAMS, COFOUNDERS, PERSONAL) if rng.random() < P_PART["middle"]]
    rng.shuffle(middle)  # background in any order
    parts += middle
    if rng.random() < P_PART["problem"]:
        parts.append(say(_pick(PROBLEMS, rng)))
        if rng.random() < P_PART["turn"]:
            parts.append(say(_pick(TURNS, rng)))
    if rng.random() < P_PART["now"]:
        parts.append(say(_pick(NOWS, rng)))
    return " ".join(parts)
