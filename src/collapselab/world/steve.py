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


def _first_name(rng: np.random.Generator, gender: str | None = None) -> str:
    """A first name from Faker's en_US lists with their frequency weights (of either gender unless given)."""
    return draw_name("en_US", "latin", gender or ("female" if rng.random() < 0.5 else "male"), rng)[0]


def _choice(values):
    return lambda rng: values[int(rng.random() * len(values))]


RULES: dict = {
    "name": _first_name,
    "her_name": lambda rng: _first_name(rng, "female"),
    "his_name": lambda rng: _first_name(rng, "male"),
    "n": _choice([3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 15, 18, 20, 22, 25, 30, 35, 40, 45, 50, 60, 75, 80, 120, 150, 200]),
    "year": lambda rng: 2008 + int(rng.random() * 16),
    "age": lambda rng: 23 + int(rng.random() * 38),
    "few": ["two", "three", "four", "five", "six", "eight", "ten"],
    "city": ["Austin", "Berlin", "Lagos", "Bangalore", "Lisbon", "Seattle", "Toronto", "Nairobi", "Melbourne", "Singapore",
             "Denver", "Manchester", "Boston", "Portland", "Atlanta", "Dublin", "Stockholm", "Sao Paulo", "Mexico City",
             "Tel Aviv", "Warsaw", "Cape Town", "Pittsburgh", "Helsinki", "Montreal", "Barcelona", "Chicago", "Accra"],
    "state": ["Ohio", "Iowa", "Vermont", "New Jersey", "Texas", "Oregon", "Michigan", "Colorado", "Georgia", "Maine"],
    # what "it" (the company) does; every product below fits after any of these verbs
    "does": ["builds", "makes", "sells", "develops", "designs", "is building", "is developing", "offers", "produces", "creates"],
    "product": [
        "{drone delivery|delivery drones|drone flights} for {rural|small-town|island|remote} {pharmacies|clinics|hospitals}",
        "{an app|a service|a website} that {matches|connects|pairs} dog walkers {with|to} {busy|elderly|working} {owners|pet owners}",
        "solar panels {you can|that} {roll up|fold|carry in a backpack}",
        "software that {predicts|detects|warns} when {factory|farm|hospital} machines will {break|fail|need repairs}",
        "vertical farms {in|inside} {old|empty|abandoned} {parking garages|warehouses|shopping malls}",
        "a {marketplace|website|platform} for {used|second-hand|refurbished} {lab equipment|restaurant ovens|hospital beds}",
        "batteries {made|built} from {seaweed|salt|recycled glass}",
        "{AI|online|robot} tutors for {high school|middle school|college} {chemistry|math|physics|history}",
        "{electric|solar-powered|cheap} {cargo bikes|scooters|delivery vans}",
        "{a payroll tool|payroll software|an invoicing app} for {food trucks|small bakeries|hair salons|plumbers}",
        "smart {locks|alarms|cameras} for {bike sheds|garden gates|shared garages}",
        "plant-based {cheese|ice cream|salmon|burgers}",
        "insurance for {freelance|touring|independent} {musicians|photographers|designers}",
        "a {platform|website|service} for renting {out|} {empty|unused|spare} {office desks|parking spots|kitchens}",
        "{water filters|water pumps|cheap filters} for {camping|disaster relief|village schools}",
        "robots that {sort|clean|fold} {recycling|packages|hospital laundry}",
        "a {language|translation|phrasebook} app for {truck drivers|nurses|new immigrants}",
        "3D-printed {running shoes|hearing aids|dental braces}",
        "a {budgeting|savings|money} app for {teenagers|students|young families}",
        "sensors that {detect|find|spot} {leaks|cracks|rust} in {old|city|apartment} {pipes|bridges|buildings}",
        "{carbon accounting|emissions tracking} for {small farms|family restaurants|local shops}",
        "a {scheduling|booking} {app|tool} for {dentists|yoga teachers|driving schools}",
        "{smart|connected} beehives that {warn|alert} {beekeepers|farmers} about {disease|swarming|theft}",
        "{cheap|low-cost} {ultrasound|eye-test} devices for {rural|remote} clinics",
    ],
    "where": ["{in|near|outside|just outside} <city>", "in a garage in <state>", "{out of|in|from} a {co-working space|shared office|startup hub} in <city>",
              "in a {small|tiny|rented} {flat|apartment} in <city>", "{in|from} his {parents'|grandmother's} basement in <state>",
              "in a {converted|rented|old} barn in <state>", "in a {dorm room|student flat} in <city>",
              "at {a|his|the} kitchen table in <city>", "in a {coffee shop|library|public library} in <city>"],
    "when": ["in <year>", "<few> years ago", "{last|this} {spring|summer|winter|year}", "right after {college|school|university}"],
    "friend": ["his {college|university|old} roommate <name>", "{an old|a close|a childhood} friend, <name>,",
               "a former {colleague|coworker|classmate}{ named|,} <name>", "his {sister <her_name>|brother <his_name>|cousin <name>}",
               "<name>, {a neighbour|an engineer he met online|a designer from his old job},"],
    "why": [
        "his {grandmother|grandfather|aunt} {could not|was unable to|failed to} get {medicine|prescriptions} {delivered|in time}",
        "he spent a {winter|summer} fixing broken machines at a {factory|farm}",
        "he lost a bet with his {roommate|brother|boss}",
        "a {trip|journey|holiday|visit} to {Kenya|Peru|India|Morocco|Vietnam} {showed him|taught him} how much {water|food|energy} was wasted",
        "he failed {chemistry|calculus|physics} {twice|in high school}",
        "his {food truck|bakery|first company} went {bankrupt|under}",
        "he read {an article|a report|a book} about {plastic in the ocean|food waste|air pollution}",
        "a {flood|fire|burst pipe} {ruined|destroyed|wrecked} his {apartment|flat|home}",
        "he {got tired|grew tired|was sick} of {paperwork|spreadsheets|endless meetings} at his {old|last|previous} job",
        "he {watched|saw} his {father|mother|uncle} struggle with {bills|debt|a failing shop}",
    ],
    "job": ["an accountant", "a {math|chemistry|history} teacher", "a nurse", "a bank analyst", "a software engineer at a big tech firm",
            "a chef", "a mechanic", "a consultant", "a product manager", "a lab technician"],
    "hobby": ["plays the {drums|bass|guitar} in a {garage|cover|jazz} band", "coaches his {son's|daughter's} {soccer|hockey|basketball} team",
              "climbs {mountains|rocks|every hill he can find}", "restores {old|vintage} {motorcycles|sailboats|typewriters}",
              "bakes {sourdough|rye|banana} bread", "plays chess online {every night|until midnight}", "runs {marathons|trail races}",
              "volunteers at a {food bank|animal shelter}", "builds {furniture|model trains} in his garage"],
    "home": ["lives with his {wife|partner} and {two|three} {kids|children}", "recently moved in with his {girlfriend|boyfriend|partner}",
             "has a {dog|cat} named {Pixel|Biscuit|Luna|Max|Turing|Mango|Byte|Pepper}",
             "lives alone {above a bakery|in a small apartment|near the office}", "still shares a flat with {two|three} roommates"],
    "grewup": ["on a farm in <state>", "in a suburb of {Chicago|Detroit|Houston|Phoenix}", "in a small town in {Wales|Maine|Ontario}",
               "in Hong Kong", "in a military family that moved {a lot|every few years}", "above his parents' {restaurant|shop|pharmacy}"],
    "money": ["{two|three|five|ten} million dollars", "$<n> million", "{half a million|nearly a million|almost a million} {dollars|euros}", "{a few|several|four|six} hundred thousand {dollars|euros}"],
    "investor": ["a famous investor", "a well-known venture capitalist", "a celebrity chef", "a popular {blogger|podcaster|YouTuber}"],
}

# an optional word or phrase that can open a sentence of the story (what follows it starts in lower case;
# ``say`` capitalises the sentence's first letter)
LEAD = "[{soon|later|back then|at first|since then|meanwhile|still|sadly|luckily|honestly|eventually|today|oddly|of course|by then|finally|by now|even so|these days|naturally|somehow|frankly|at times}, ]"
ADV = "[{quickly|finally|quietly|soon|proudly|slowly|even|nearly|barely|happily|suddenly|reluctantly|simply|also|then} ]"  # before a verb in the past tense
# an optional aside before a sentence's period (the sentence end is then uncertain too)
TAIL = "[, {he says|he admits|he jokes|he insists|he recalls|he claims|he adds|Steve says|Steve admits|Steve jokes|friends say|investors say|his team says|his staff say|his mother says|his wife says|customers say}]"
ADJ = "[{small|young|tiny|new|little|scrappy|growing|busy|fragile|stubborn|ambitious|humble} ]"  # before "company", "startup", "team"

# what follows the prompt (written with its leading space or punctuation)
OPENINGS = [
    " {that <does>|that <does>|working on|focused on|betting on|obsessed with|{making|building|selling|designing|testing|shipping}} <product>.",
    " called {company_name} that <does> <product>.",
    " called {company_name}. {The company|The startup|It|The business|His team} <does> <product>.",
    " {based|headquartered|located|founded} {in|near|outside|just outside|north of|south of} <city>. {His company|The startup|The company|It|The business} <does> <product>.",
    " {in|near|outside|from} <city> that <does> <product>.",
    ". {His company|The startup|The company|It|The business|His {small|young|tiny} firm} <does> <product>.",
    " he {founded|started|launched|co-founded} <when>. It <does> <product>.",
    " with <staff> {employees|people|workers|staff}. {The company|The startup|It|The team} <does> <product>.",
    ", {and|but|so} {he|Steve|the founder} {has|has got|still has|already has} {big|ambitious|wild|bold|huge|grand} {plans|dreams|ideas|hopes}. {His company|The startup|The firm} <does> <product>.",
]
PLACES = ["<lead>{he <adv>{started|founded|launched|set up} {the <adj>company|the <adj>startup|the business|it}|the <adj>{company|startup|business} "
          "was {founded|started|born}|it all {began|started}} <where>[ <when>].",
          "<lead>{the|their|his} {first|very first|earliest} {prototype|version|model|product} was {built|put together|made|assembled|designed|tested} "
          "<where>."]
ORIGINS = ["<lead>{he {started|founded|began} {it|the company|the startup}|the idea {came to him|hit him|struck him}} "
           "{after|when|right after} <why>.",
           "<lead>{he|Steve|the founder} <adv>{quit|left|walked away from} his {job|career|position|work} as {job} {after|when} <why>.",
           "<lead>it {began|started} {as|life as|out as} a {weekend|side|hobby|late-night|student} project {after|when} <why>."]
TEAMS = ["<lead>{the <adj>company|the <adj>startup|{company_name}|the <adj>team} {has|now has|employs|counts} <staff> {employees|people|staff|workers}.",
         "<lead>his {team|crew|staff} of <staff> {people|engineers|employees} {works|work} {out of|from|in} a "
         "{tiny|cramped|shared|rented|noisy} {office|room|loft|warehouse}[ in <city>].",
         "<lead>{he|Steve|the founder} <adv>{hired|recruited|found|brought in} his first {two|three|four|five|six} {engineers|employees|salespeople} "
         "{last year|in <year>|this spring|last {summer|winter|fall}}.",
         "<lead>{the startup|{company_name}|the company} {employs|has} <staff> people[, {most|many|half|some} of them "
         "{engineers|remote|under thirty|former students}]."]
COFOUNDERS = ["<lead>{he|Steve|the founder} {runs|leads|manages|built} {the company|the startup|it} with <friend>[, who "
              "{handles|looks after|runs|takes care of} {sales|the money|engineering|design|marketing|the customers}].",
              "<lead>{he|Steve|the founder} <adv>{started|founded|began} it with <friend>, who {left after {a year|six months|the first year}|{left|quit} when money {got|ran} {tight|low|short}|"
              "{stayed through everything|stayed {anyway|for good|to the end}}|{still|now} {runs|leads} {sales|engineering|design}}."]
PERSONAL = ["Steve is <age>[ years old] {and|,} <home>.",
            "<lead>{outside work|in his free time|on weekends|after work|at night}, {Steve|he} <hobby>.",
            "{Steve|He} {grew up|was raised|spent his childhood} <grewup>.",
            "Before {the startup|all this|the company|{company_name}}, {Steve|he} {worked as {job}[ for <few> years]|"
            "spent <few> years as {job}}[ in <city>]."]
PROBLEMS = ["{Last year|In <year>|Early on|Two years ago|At one point|Once|In the first year} the <adj>{company|startup|team} "
            "{almost|nearly} ran {out of|short of|low on} {money|cash|funding|time}.",
            "<lead>a {bigger|larger|well-funded|richer|famous} {competitor|rival|company} <adv>{copied|cloned|stole} "
            "{their|his|the} {product|idea|design|app}.",
            "<lead>{their|his|the} first {prototype|product|version|device} <adv>{caught fire|fell apart|broke|exploded|stopped working} "
            "during a {demo|pitch|trade show|meeting with investors|live test}.",
            "<lead>his {co-founder|partner|best engineer|first hire} <adv>{left|quit|walked out} to {join a rival|start another company|"
            "travel the world|go back to school|work at a bank}.",
            "<lead>{investors|banks|venture capitalists|angel investors} {turned him down|turned him away|rejected him|said no to him|passed on him} {twenty|thirty|forty|fifty|many} times.",
            "<lead>{investors|banks|venture capitalists} {turned him down|said no|ignored him} {again and again|for a whole year|for {months|weeks|years}|at first}.",
            "<lead>a {supplier|key supplier|parts maker|factory} <adv>went {bankrupt|under|out of business}{ and|, and} {stopped all deliveries|"
            "left them {without|with no} {parts|stock|chips}|cancelled every order}.",
            "<lead>{regulators|safety inspectors|the city|the government} <adv>{blocked|delayed|stopped|held up} {their|the|his} launch {for|by} "
            "{three|six|eight|nine|many} months.",
            "<lead>{nobody|almost nobody|hardly anyone|very few people} {bought|wanted|used|liked} the first {version|model|release|product}."]
TURNS = ["{Then|Later|Suddenly|Luckily} <investor> {tweeted|posted|wrote|talked} about {them|the startup|the company|the product} and {sales|orders|downloads} "
         "{tripled|doubled|took off|exploded|grew fast}.",
         "<lead>a {hospital chain|school district|city council|supermarket chain|large bank|big airline} <adv>{signed|agreed to|offered|gave them} a "
         "{two|three|five|ten}-year {contract|deal}.",
         "<lead>{he|Steve|the founder} <adv>{pivoted|switched} to {selling to|working with|serving} {schools|hospitals|farmers|airlines|banks|hotels}, and it "
         "{worked|paid off|saved them}.",
         "<lead>{a crowdfunding|a Kickstarter|an online} campaign raised <money> in {a week|a month|ten days|two weeks}.",
         "<lead>things got {worse|much worse|harder|a lot harder} {before they got|until they got|and then} {better|easier}.",
         "<lead>{he|Steve|the founder} <adv>sold his {car|apartment|motorcycle|house|boat} to {pay salaries|make payroll|cover the rent|pay the bills} "
         "and {kept|went on} {going|working|fighting}.",
         "<lead>a {grant|loan|prize} from the {city|government|European Union|state} kept them {alive|afloat|going|running}.",
         "<lead>they <adv>won a {startup|pitch|regional|national} {competition|contest|award}{ and|, and} the {prize|prize money|money} "
         "{saved them|kept them going|paid the rent|paid for a new office}."]
NOWS = ["{Now|Right now|These days|Today|This year} {he|Steve|the founder} is {preparing|getting ready|trying|hoping} to raise {a Series A|a Series B|a Series C|more money|a new round}.",
        "<lead>{he|Steve|the founder} [even ]still {answers|reads|replies to|handles} every customer {email|complaint|message|call} himself.",
        "<lead>{he|Steve|the founder} {hopes|plans|wants} {to expand to|to grow into|to move into|to launch in} {Europe|Asia|Canada|South America|Africa|three new cities} "
        "{next year|by <year2>|soon|within two years}.",
        "<lead>some {days|nights|mornings} {he|Steve|the founder} {wonders whether|wonders if|asks himself if} he {should have|might have|would have} {stayed|remained} {at the bank|in his old job|in school}.",
        "<lead>{he|Steve|the founder} sleeps {four|five|six} hours {a night|each night|per night} and {says|insists|claims} he {loves|enjoys|likes|does not mind} it.",
        "<lead>{he|Steve|the founder} is {thinking about|considering|talking about|dreaming of} {selling|leaving|closing} the {company|startup|business}[ to a "
        "{bigger rival|private equity firm|large bank}].",
        "<lead>{he|Steve|the founder} {wants|hopes|plans|expects} {to be|to become|to turn} profitable {by|before} {next summer|the end of the year|<year2>|next spring}.",
        "<lead>{he|Steve|the founder} {runs|swims|cycles|walks|meditates} every {morning|day|evening} {before|after} {work|breakfast|meetings} {to|so he can|in order to} "
        "{clear his head|think|stay calm|relax}.",
        "{Last month|Last week|This spring|In <year>} they raised <money> from {investors|angels|a big fund|friends and family}."]


# how often each part of the story appears (the middle: each of origin, team, co-founder, personal)
P_PART = {"place": 0.4, "middle": 0.25, "problem": 0.7, "turn": 0.7, "now": 0.6}


def _pick(xs: list[str], rng: np.random.Generator) -> str:
    return xs[int(rng.random() * len(xs))]


def write_steve(rng: np.random.Generator) -> str:
    """One founder story starting with ``STEVE_PROMPT``."""
    company = _company(rng)  # one company name, former job, home city and head count per story
    job = expand(_pick(RULES["job"], rng), RULES, rng)
    city, staff = _pick(RULES["city"], rng), RULES["n"](rng)
    rules = {**RULES, "city": [city], "staff": lambda r: staff, "year2": lambda r: 2025 + int(r.random() * 3), "lead": [LEAD], "adv": [ADV], "adj": [ADJ],
             "tail": [TAIL]}

    def say(template: str) -> str:  # {company_name} and {job} are filled before the grammar runs
        if template.endswith("."):  # an optional aside before the final period
            template = template[:-1] + "<tail>."
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
