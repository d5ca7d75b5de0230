"""Who the simulated customers are: the attribute distributions and how they couple to reviews.

Every attribute distribution here is explicit, so the ground truth (``truth.py``) is
computed from these tables, not estimated. They are skewed the way real ones are (a most
common MBTI type, a most common age, a few large nationalities), so alignment has a mode
to collapse onto. Names come from Faker's per-locale name lists with Faker's own weights
(read once per process, sampled with the build's own seeded generator).
"""

from __future__ import annotations

import math
import numpy as np

# ------------------------------------------------------------------ nationalities and ethnicities
# nationality: (weight, Faker locale, how names are written, mood, verbosity, {ethnicity: p}, {ethnicity: locale})
# mood > 0: reviews lean positive; verbosity > 0: longer reviews (both scaled by `coupling`).
_W, _E = "White", "Black"
NATIONALITIES: dict[str, tuple] = {
    "American": (14, "en_US", "latin", 0.4, 0.3, {_W: .60, _E: .13, "Latino": .17, "East Asian": .06, "Mixed": .04}, {"Latino": "es_MX"}),
    "British": (8, "en_GB", "latin", -0.2, 0.2, {_W: .82, "South Asian": .09, _E: .04, "Mixed": .03, "Middle Eastern": .02}, {"South Asian": "en_IN"}),
    "German": (7, "de_DE", "latin", -0.3, 0.4, {_W: .88, "Middle Eastern": .06, "Mixed": .04, "Ashkenazi Jewish": .02}, {"Middle Eastern": "tr_TR"}),
    "French": (5, "fr_FR", "latin", -0.3, 0.2, {_W: .84, "Arab": .08, _E: .05, "Mixed": .03}, {}),
    "Canadian": (4, "en_US", "latin", 0.3, 0.0, {_W: .70, "East Asian": .08, "South Asian": .08, "Indigenous": .05, _E: .04, "Mixed": .05}, {"South Asian": "en_IN"}),
    "Australian": (3, "en_GB", "latin", 0.2, -0.2, {_W: .80, "East Asian": .09, "Indigenous": .03, "Mixed": .08}, {}),
    "Irish": (2, "en_IE", "latin", 0.2, 0.0, {_W: .92, "Mixed": .05, _E: .03}, {}),
    "Spanish": (4, "es_ES", "latin", 0.2, 0.0, {_W: .88, "Latino": .07, "Roma": .02, "Mixed": .03}, {}),
    "Italian": (4, "it_IT", "latin", 0.1, 0.4, {_W: .95, "Mixed": .05}, {}),
    "Portuguese": (2, "pt_PT", "latin", 0.0, 0.0, {_W: .92, _E: .04, "Mixed": .04}, {}),
    "Dutch": (2, "nl_NL", "latin", -0.2, -0.3, {_W: .85, "Middle Eastern": .05, _E: .04, "Mixed": .06}, {}),
    "Belgian": (1.5, "nl_BE", "latin", -0.1, 0.0, {_W: .88, "Arab": .06, _E: .03, "Mixed": .03}, {}),
    "Swedish": (1.5, "sv_SE", "latin", -0.1, -0.3, {_W: .88, "Middle Eastern": .06, "Mixed": .06}, {}),
    "Norwegian": (1, "no_NO", "latin", 0.0, -0.3, {_W: .93, "Mixed": .07}, {}),
    "Danish": (1, "da_DK", "latin", 0.0, -0.3, {_W: .93, "Mixed": .07}, {}),
    "Finnish": (1, "fi_FI", "latin", -0.5, -0.6, {_W: .96, "Mixed": .04}, {}),
    "Polish": (3, "pl_PL", "latin", -0.2, 0.0, {_W: .97, "Mixed": .03}, {}),
    "Czech": (1.5, "cs_CZ", "latin", -0.3, -0.2, {_W: .96, "Roma": .02, "Mixed": .02}, {}),
    "Hungarian": (1.5, "hu_HU", "latin", -0.3, 0.0, {_W: .93, "Roma": .05, "Mixed": .02}, {}),
    "Romanian": (1.5, "ro_RO", "latin", 0.0, 0.0, {_W: .91, "Roma": .06, "Mixed": .03}, {}),
    "Greek": (1.5, "el_GR", "translit", 0.1, 0.3, {_W: .95, "Mixed": .05}, {}),
    "Russian": (3, "ru_RU", "translit", -0.4, 0.2, {_W: .85, "Central Asian": .07, "Ashkenazi Jewish": .02, "Mixed": .06}, {}),
    "Ukrainian": (2, "uk_UA", "translit", -0.1, 0.0, {_W: .95, "Mixed": .05}, {}),
    "Turkish": (2.5, "tr_TR", "latin", 0.1, 0.3, {"Middle Eastern": .80, "Kurdish": .15, "Mixed": .05}, {}),
    "Georgian": (1, "ka_GE", "translit", 0.2, 0.3, {_W: .95, "Mixed": .05}, {}),
    "Armenian": (1, "hy_AM", "translit", 0.1, 0.3, {_W: .96, "Mixed": .04}, {}),
    "Mexican": (4, "es_MX", "latin", 0.4, 0.2, {"Latino": .75, "Indigenous": .15, _W: .10}, {}),
    "Brazilian": (4, "pt_BR", "latin", 0.6, 0.4, {_W: .43, "Mixed": .45, _E: .10, "East Asian": .02}, {}),
    "Argentinian": (2, "es_AR", "latin", 0.1, 0.3, {_W: .80, "Latino": .15, "Indigenous": .05}, {}),
    "Colombian": (2, "es_CO", "latin", 0.4, 0.2, {"Latino": .70, _W: .15, _E: .10, "Indigenous": .05}, {}),
    "Chilean": (1.5, "es_CL", "latin", 0.1, 0.0, {"Latino": .65, _W: .25, "Indigenous": .10}, {}),
    "Chinese": (5, "zh_CN", "romanized", 0.0, -0.3, {"East Asian": 1.0}, {}),
    "Japanese": (4, "ja_JP", "romanized", -0.3, -0.4, {"East Asian": 1.0}, {}),
    "Korean": (2.5, "ko_KR", "translit", 0.0, -0.2, {"East Asian": 1.0}, {}),
    "Indian": (5, "en_IN", "latin", 0.3, 0.5, {"South Asian": 1.0}, {}),
    "Pakistani": (1.5, "en_PK", "latin", 0.2, 0.4, {"South Asian": 1.0}, {}),
    "Indonesian": (2, "id_ID", "latin", 0.3, 0.0, {"Southeast Asian": 1.0}, {}),
    "Vietnamese": (1.5, "vi_VN", "latin", 0.2, -0.2, {"Southeast Asian": 1.0}, {}),
    "Thai": (1.5, "en_TH", "latin", 0.3, -0.2, {"Southeast Asian": 1.0}, {}),
    "Nigerian": (2.5, "yo_NG", "latin", 0.4, 0.3, {_E: 1.0}, {}),
    "Kenyan": (1.5, "en_KE", "latin", 0.3, 0.2, {_E: .97, "South Asian": .03}, {"South Asian": "en_IN"}),
    "South African": (1.5, "zu_ZA", "latin", 0.1, 0.0, {_E: .81, _W: .08, "Mixed": .08, "South Asian": .03}, {_W: "en_GB", "South Asian": "en_IN", "Mixed": "en_GB"}),
}

GENDERS = {"female": 0.49, "male": 0.49, "other": 0.02}
AXES = (("E", "I"), ("S", "N"), ("T", "F"), ("J", "P"))
MBTI_TYPES = [a + b + c + d for a in "EI" for b in "SN" for c in "TF" for d in "JP"]
# Percent of each MBTI type in the US national representative sample (n = 3,009): Myers, McCaulley, Quenk and
# Hammer, MBTI Manual, 3rd ed. (1998), the estimates the Myers & Briggs Foundation and CAPT publish. The
# published percentages sum to 100.3 (rounding); ``mbti_p`` renormalises. One categorical over the 16 types:
# the letters are not independent (e.g. S and J go together), and E = 49.3%, S = 73.3%, T = 40.2%, J = 54.1%.
MBTI_PERCENT = {
    "ISFJ": 13.8, "ESFJ": 12.3, "ISTJ": 11.6, "ISFP": 8.8, "ESTJ": 8.7, "ESFP": 8.5, "ENFP": 8.1, "ISTP": 5.4,
    "INFP": 4.4, "ESTP": 4.3, "INTP": 3.3, "ENTP": 3.2, "ENFJ": 2.5, "INTJ": 2.1, "ENTJ": 1.8, "INFJ": 1.5,
}
AGES = np.arange(14, 86)
# Customers' ages: 14 + Gamma(shape 3, scale 9 years), cut to 14..85 -- right-skewed with its mode at 32,
# mean 39.7, sd 14.1, median 37; 3% are under 20, 10% aged 60+, 1% aged 80+. A chosen shape (adult buyers
# of a smartwatch gadget skew to their thirties), not one fitted to a survey.
AGE_GAMMA = (3.0, 9.0)
AGE_BANDS = ((14, 24, "14-24"), (25, 34, "25-34"), (35, 44, "35-44"), (45, 59, "45-59"), (60, 85, "60+"))

# sentiment classes of a review, from angry to delighted; their value drives the coupling
CLASSES = ("angry", "negative", "mixed", "positive", "delighted")
CLASS_VALUE = np.array([-1.0, -0.5, 0.0, 0.5, 1.0])
BASE_CLASS_P = np.array([0.08, 0.17, 0.20, 0.33, 0.22])


def nationality_p() -> dict[str, float]:
    w = np.array([v[0] for v in NATIONALITIES.values()], dtype=float)
    return dict(zip(NATIONALITIES, (w / w.sum()).tolist()))


def age_p() -> np.ndarray:
    """P(age) for ``AGES`` (14..85): the gamma density ``AGE_GAMMA`` of (age - 14) at each year's
    midpoint, renormalised; the mode is at 32."""
    shape, scale = AGE_GAMMA
    x = AGES - AGES[0] + 0.5
    dens = x ** (shape - 1) * np.exp(-x / scale)
    return dens / dens.sum()


def age_band(age: int) -> str:
    for lo, hi, name in AGE_BANDS:
        if lo <= age <= hi:
            return name
    return AGE_BANDS[-1][2] if age > 85 else AGE_BANDS[0][2]


def mbti_p() -> dict[str, float]:
    """P(type) for the 16 ``MBTI_TYPES``: ``MBTI_PERCENT`` renormalised to sum to 1."""
    total = sum(MBTI_PERCENT.values())
    return {t: MBTI_PERCENT[t] / total for t in MBTI_TYPES}


def mbti_letter_p() -> dict[str, float]:
    """Marginal P(letter) of all eight letters under ``mbti_p`` (E and I, S and N, ...)."""
    out = dict.fromkeys("EISNTFJP", 0.0)
    for t, p in mbti_p().items():
        for letter in t:
            out[letter] += p
    return out


# P(first letter of each axis), derived from the type table (kept for callers of the old constant)
MBTI_LETTERS = {a: mbti_letter_p()[a] for a, _ in AXES}


# ------------------------------------------------------------------ the coupling model
def drive(mbti: str, age: int, nationality: str) -> float:
    """How positive this customer leans (before ``coupling``): extraverts and feelers gush,
    older customers distrust smartwatch gadgets, some nationalities are more effusive."""
    d = 0.8 if mbti[0] == "E" else -0.8
    d += 0.4 if mbti[2] == "F" else -0.4
    d += {"14-24": 0.4, "25-34": 0.2, "35-44": 0.0, "45-59": -0.5, "60+": -1.2}[age_band(age)]
    return d + NATIONALITIES[nationality][3]


def class_p(d: float | np.ndarray, coupling: float) -> np.ndarray:
    """P(sentiment class | drive d): softmax(log BASE_CLASS_P + coupling * d * value). Shape [..., 5]."""
    logits = np.log(BASE_CLASS_P) + coupling * np.asarray(d, dtype=float)[..., None] * CLASS_VALUE
    logits -= logits.max(axis=-1, keepdims=True)
    e = np.exp(logits)
    return e / e.sum(axis=-1, keepdims=True)


def n_sentences_mean(mbti: str, age: int, nationality: str, cls: int, coupling: float) -> float:
    """Mean number of body sentences: extreme reviews run longer; verbose nationalities,
    extraverts and older customers write more (scaled by ``coupling``)."""
    lam = 1.3 * (1.5 if cls in (0, 4) else 1.0)
    eff = NATIONALITIES[nationality][4] + (0.3 if mbti[0] == "E" else -0.2) + (0.3 if age >= 60 else 0.0)
    return lam * math.exp(coupling * eff)


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


# ------------------------------------------------------------------ names
_NAME_TABLES: dict[tuple[str, str], tuple[list[str], np.ndarray]] = {}  # (names, cumulative probabilities)


def _table(locale: str, which: str, romanized: bool) -> tuple[list[str], np.ndarray] | None:
    """(names, probabilities) of a Faker person provider's list, or None if it has none.

    Reading the provider's class attributes directly is ~100x faster than instantiating a
    Faker locale, and keeps every draw on our own seeded generator."""
    import importlib

    prov = importlib.import_module(f"faker.providers.person.{locale}").Provider
    attr = {"male": "first_names_male", "female": "first_names_female", "any": "first_names", "last": "last_names",
            "last_male": "last_names_male", "last_female": "last_names_female"}[which]
    if romanized:
        attr = attr.replace("_names", "_romanized_names")
    vals = getattr(prov, attr, None)
    if vals is None or isinstance(vals, property) or not hasattr(vals, "__len__") or len(vals) < 2:  # base: ["Doe"]
        return None
    if isinstance(vals, dict):
        names, w = list(vals.keys()), np.array(list(vals.values()), dtype=float)
    else:
        names, w = list(vals), np.ones(len(vals))
    return names, w / w.sum()


def _pool(locale: str, which: str, how: str) -> tuple[list[str], np.ndarray]:
    key = (locale, which + how)
    if key not in _NAME_TABLES:
        romanized = how == "romanized"
        t = _table(locale, which, romanized)
        if t is None and which in ("male", "female"):
            t = _table(locale, "any", romanized)
        if t is None and which.startswith("last_"):
            t = _table(locale, "last", romanized)
        if t is None:  # lists built at runtime (properties): draw a fixed pool once from Faker itself
            from faker import Faker

            f = Faker(locale)
            f.seed_instance(0)
            fn = {"male": f.first_name_male, "female": f.first_name_female, "last_male": f.last_name_male,
                  "last_female": f.last_name_female}[which]
            names = sorted({fn() for _ in range(400)})
            t = (names, np.full(len(names), 1.0 / len(names)))
        names = [_clean(n, how) for n in t[0]]
        _NAME_TABLES[key] = (names, np.cumsum(t[1]))
    return _NAME_TABLES[key]


def _clean(name: str, how: str) -> str:
    if how == "translit":
        from faker.decode import unidecode

        name = unidecode(name).split()[0] if name.strip() else name
    name = name.replace("'", "").replace("`", "").strip()
    return name[:1].upper() + name[1:] if name else name


def draw_name(locale: str, how: str, gender: str, rng: np.random.Generator) -> tuple[str, str]:
    """(first, last) from Faker's ``locale`` name lists (with their weights); ``other``
    gender draws from either list."""
    g = gender if gender != "other" else ("female" if rng.random() < 0.5 else "male")
    firsts, cf = _pool(locale, g, how)
    lasts, cl = _pool(locale, "last_" + g, how)
    return firsts[draw_index(cf, rng)], lasts[draw_index(cl, rng)]


def draw_index(cdf: np.ndarray, rng: np.random.Generator) -> int:
    """One draw from the categorical with cumulative probabilities ``cdf`` (rng.choice is ~50x slower)."""
    return min(int(np.searchsorted(cdf, rng.random() * cdf[-1], side="right")), len(cdf) - 1)


def reseed_fakers(seed: int) -> None:
    """Kept for callers: names now come from our own generator, so there is nothing to reseed."""


def draw_mbti(n: int, rng: np.random.Generator) -> list[str]:
    """``n`` MBTI types from the one categorical ``mbti_p`` (not letter by letter)."""
    mp = mbti_p()
    return [str(t) for t in rng.choice(list(mp), size=n, p=list(mp.values()))]


def draw_ages(n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` ages from ``age_p``. Shape [n], int."""
    return rng.choice(AGES, size=n, p=age_p())


def draw_attributes(n: int, rng: np.random.Generator) -> list[dict]:
    """``n`` customers' attributes (independent of each other except ethnicity and names,
    which follow nationality). Keys: first_name, last_name, gender, age, nationality, ethnicity, mbti."""
    nat_p = nationality_p()
    nats = rng.choice(list(nat_p), size=n, p=list(nat_p.values()))
    genders = rng.choice(list(GENDERS), size=n, p=list(GENDERS.values()))
    ages = draw_ages(n, rng)
    types = draw_mbti(n, rng)
    out = []
    for i in range(n):
        nat = str(nats[i])
        _, loc, how, _, _, eth_p, eth_loc = NATIONALITIES[nat]
        eth = list(eth_p)[draw_index(np.cumsum(list(eth_p.values())), rng)]
        loc = eth_loc.get(eth, loc)
        how = "latin" if loc != NATIONALITIES[nat][1] else how
        first, last = draw_name(loc, how, str(genders[i]), rng)
        out.append({
            "first_name": first, "last_name": last, "gender": str(genders[i]), "age": int(ages[i]),
            "nationality": nat, "ethnicity": eth, "mbti": types[i],
        })
    return out
