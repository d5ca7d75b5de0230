"""A compositional grammar of reviews for the paper's product (section 3.1).

A review is an opener for its sentiment class, a Poisson number of body sentences from
that class's templates, optional style sentences (technical, emotional, age-flavoured)
and a closer. Slots ({feature}, {place}, ...) are filled from word lists, so distinct
sentences number in the tens of thousands. Words are chosen so VADER sees the intended
polarity: angry reviews reach about -0.95 and delighted ones about +0.97.
"""

from __future__ import annotations

import math
import re

import numpy as np

from collapselab.world.population import CLASSES, n_sentences_mean, sigmoid

SLOTS: dict[str, list[str]] = {
    "feature": ["the smartwatch app", "the keep-warm mode", "the Bluetooth pairing", "the heating plate", "the milk frother",
                "the distance sensor", "the auto-off timer", "the companion app", "the temperature display", "the brew scheduler",
                "the buzz on my watch", "the water tank", "the thermal carafe", "the setup process", "the firmware update",
                "the grinder", "the touch panel", "the reheat button"],
    "place": ["in the garden", "in the garage", "at the gym downstairs", "in a long meeting", "upstairs with the kids",
              "on the school run", "out walking the dog", "in the shower", "on a work call", "down the street",
              "at the mailbox", "in the basement office", "on the balcony", "at the corner shop"],
    "times": ["every morning", "on weekdays", "after my night shift", "before sunrise", "on lazy Sundays", "during exam season",
              "on busy mornings", "all winter", "before work", "on long weekends"],
    "people": ["my partner", "my roommate", "my husband", "my wife", "my boss", "my kids", "my neighbour", "my sister",
               "my dad", "my colleagues", "my mother", "my flatmates"],
    "good": ["great", "excellent", "wonderful", "fantastic", "brilliant", "amazing", "lovely", "superb", "awesome", "impressive"],
    "fine": ["good", "nice", "decent", "solid", "pleasant", "fine"],
    "bad": ["terrible", "awful", "horrible", "useless", "disappointing", "frustrating", "annoying", "pathetic", "dreadful", "poor"],
    "intens": ["really", "truly", "absolutely", "genuinely", "seriously", "incredibly"],
    "love": ["love", "adore", "enjoy", "appreciate"],
    "complaint": ["the app keeps disconnecting from my watch", "the coffee goes cold anyway", "the heating plate burns the coffee",
                  "my watch battery dies by noon", "it drops the Bluetooth connection whenever I leave the room",
                  "the keep-warm mode switches off on its own", "the firmware update broke it for a day",
                  "it beeps at me at six in the morning", "the water tank leaks", "the notifications never stop",
                  "the coffee tastes burnt after an hour", "the app wants my location all the time"],
    "n": ["20", "30", "40", "45", "60", "90"],
    "cups": ["four", "six", "eight", "ten", "twelve"],
}

TEMPLATES: dict[str, list[str]] = {
    "delighted": [
        "I {intens} {love} this coffee machine.", "{Feature} works perfectly and my coffee is still hot while I am {place}.",
        "Best purchase I have made this year, {intens} {good}.", "It has made my mornings so much happier.",
        "We all {love} it at home, {people} included.", "My coffee stays warm while I am {place}, which is {good}.",
        "The watch buzzes when the coffee is ready and I love that little touch.", "Worth every penny, I would happily buy it again.",
        "Honestly the best kitchen gadget I own.", "What a {good} idea, and it actually works.",
        "I never drink cold coffee anymore, {intens} {good}.", "{Feature} is {good} and so easy to use.",
        "This machine is a joy {times}.", "I am thrilled with how well it keeps my coffee warm.",
    ],
    "positive": [
        "{Feature} works well and the coffee tastes {fine}.", "It does what it promises and keeps my coffee warm while I am {place}.",
        "Pretty {fine} machine overall.", "Setup took a few minutes but it has worked well since.",
        "I like that I can check the temperature from my watch.", "Nice design, and {feature} is handy.",
        "Good value for the price.", "{People} were impressed when I showed them the app.",
        "A clever gadget that makes {times} easier.", "The coffee is hot and tasty {times}.",
        "I am happy with it so far.", "{Feature} is {fine} and simple.",
    ],
    "mixed": [
        "{Feature} is {fine}, but {feature} is {bad}.", "The coffee is fine, though {complaint}.",
        "It works most of the time, but {complaint}.", "I like the idea, but it needs work.",
        "Not bad, not great.", "Some days it is {fine}, other days {complaint}.",
        "It keeps the coffee warm, but a regular thermos does the same.", "The design is nice, but {complaint}.",
        "{Feature} is okay, and {feature} could be better.", "I have mixed feelings about it.",
    ],
    "negative": [
        "{Feature} is {bad}.", "Sadly {complaint}.", "I expected more for this price.",
        "The coffee was lukewarm after I had been {place} for ten minutes.", "I am not happy with it.",
        "It is a {bad} gadget that solves a problem nobody has.", "I regret buying it.",
        "Unfortunately {complaint}, which is {bad}.", "{People} tried it and were disappointed too.",
        "The app is confusing and slow.",
    ],
    "angry": [
        "This is the worst coffee machine I have ever owned.", "I hate this thing.",
        "{Feature} is {intens} {bad} and {complaint}.", "Complete waste of money, I want a refund.",
        "Customer support ignored me for three weeks, {bad}.", "It ruined my mornings because {complaint}.",
        "Do not buy this useless junk.", "I am furious that {complaint}.", "Horrible product, stupid idea, awful app.",
        "It broke after a week and nobody cares.",
    ],
}
OPENERS = {
    "delighted": ["Wow!", "Absolutely love it.", "Amazing machine.", "Best gadget ever.", "So happy with this!"],
    "positive": ["Pretty good.", "Nice machine.", "Happy with it.", "Good purchase.", "Works well."],
    "mixed": ["It is okay.", "Mixed feelings.", "Not sure yet.", "Decent, with flaws.", "Could be better."],
    "negative": ["Disappointed.", "Not great.", "Meh.", "Not worth it.", "Expected better."],
    "angry": ["Terrible.", "Awful product.", "What a disaster.", "Worst purchase ever.", "Absolute garbage."],
}
CLOSERS = {
    "delighted": ["Highly recommended!", "Five stars.", "I recommend it to everyone."],
    "positive": ["Four stars.", "I would recommend it.", "Happy customer."],
    "mixed": ["Three stars.", "Maybe after a few updates.", "Okay for the price."],
    "negative": ["Two stars.", "I would not recommend it.", "Returning it."],
    "angry": ["One star, and that is generous.", "Avoid at all costs.", "Never again."],
}
STYLE = {
    "spec": ["It keeps the coffee warm up to {n} meters from the watch.", "Pairing with my watch took {n} seconds.",
             "It holds {cups} cups and reheats in under two minutes.", "The app shows the temperature to the degree.",
             "The keep-warm mode starts when my watch is {n} meters away."],
    "feel": ["Coming back to a warm cup makes me smile.", "It feels like someone is looking after me in the morning.",
             "It makes the house feel cosy.", "I feel less rushed {times}."],
    "old": ["My grandson had to set it up for me.", "I do not see why a coffee pot needs to talk to a watch.",
            "In my day a kettle was enough.", "The buttons on the app are too small for my eyes."],
    "young": ["Lowkey obsessed with it.", "It looks cool on my desk in the dorm.", "Ngl the app is kind of cute.",
              "It gets me through all-nighters before exams."],
}
PROFANE = {
    "neg": ["This damn thing is a piece of crap.", "What the hell were they thinking?", "Absolute shit, do not waste your money.",
            "The app is a goddamn joke.", "Screw this machine and screw their support.", "Bloody useless piece of junk."],
    "pos": ["Holy shit, my coffee is actually hot!", "Damn good coffee machine.", "Hell yeah, no more cold coffee."],
}
PROFANE_WEIGHT = np.array([4.0, 2.0, 1.0, 0.5, 0.5])  # P(profane | class) ∝ this (angry reviews swear most)

_SLOT = re.compile(r"\{(\w+)\}")


def fill(template: str, rng: np.random.Generator) -> str:
    """Fill ``{slot}`` / ``{Slot}`` (capitalised) placeholders with random words."""

    def sub(m: re.Match) -> str:
        key = m.group(1)
        word = SLOTS[key.lower()][rng.integers(len(SLOTS[key.lower()]))]
        return word[:1].upper() + word[1:] if key[:1].isupper() else word

    return _SLOT.sub(sub, template)


def _pick(items: list[str], rng: np.random.Generator) -> str:
    return items[rng.integers(len(items))]


def style_probs(mbti: str, age: int, coupling: float) -> dict[str, float]:
    """P(style feature) for one customer; at coupling 0 everyone gets the same probabilities."""
    e = 1 if mbti[0] == "E" else -1
    t = 1 if mbti[2] == "T" else -1
    return {
        "exclaim": sigmoid(-1.0 + coupling * 1.6 * e),
        "spec": sigmoid(-1.5 + coupling * 1.2 * t),
        "feel": sigmoid(-1.5 - coupling * 1.2 * t),
        "old": sigmoid(-2.5 + coupling * 3.0 * (age >= 60)),
        "young": sigmoid(-2.5 + coupling * 3.0 * (age < 25)),
    }


def profane_p(cls: int, rate: float) -> float:
    """P(profane | class), normalised so the share over the base class mix is ``rate``."""
    from collapselab.world.population import BASE_CLASS_P

    return float(min(1.0, rate * PROFANE_WEIGHT[cls] / float(BASE_CLASS_P @ PROFANE_WEIGHT)))


def write_review(attrs: dict, cls: int, coupling: float, profanity_rate: float, rng: np.random.Generator) -> dict:
    """One review by the customer ``attrs`` in sentiment class ``cls`` (index into CLASSES).

    Returns {"review": str, "n_sentences": int, "profane": bool}.
    """
    name = CLASSES[cls]
    mbti, age, nat = attrs["mbti"], attrs["age"], attrs["nationality"]
    probs = style_probs(mbti, age, coupling)
    lam = n_sentences_mean(mbti, age, nat, cls, coupling)
    n_body = min(int(rng.poisson(lam)), 5)
    parts: list[str] = []
    if rng.random() < 0.5:
        parts.append(_pick(OPENERS[name], rng))
    body = [fill(_pick(TEMPLATES[name], rng), rng) for _ in range(n_body)]
    for key in ("spec", "feel", "old", "young"):
        if rng.random() < probs[key]:
            body.insert(int(rng.integers(len(body) + 1)), fill(_pick(STYLE[key], rng), rng))
    parts += body
    profane = bool(rng.random() < profane_p(cls, profanity_rate))
    if profane:
        parts.insert(int(rng.integers(len(parts) + 1)), _pick(PROFANE["neg" if cls <= 2 else "pos"], rng))
    if not parts or rng.random() < 0.4:
        parts.append(_pick(CLOSERS[name], rng))
    if rng.random() < probs["exclaim"] and cls != 2:
        parts = [p[:-1] + "!" if p.endswith(".") else p for p in parts]
    parts = parts[:8]  # keep a persona document well inside the tiny model's context
    # drop exact repeats (two draws of the same slot-free template)
    seen: set[str] = set()
    parts = [p for p in parts if not (p in seen or seen.add(p))]
    return {"review": " ".join(parts), "n_sentences": len(parts), "profane": profane}


def expected_sentences_poisson(lam: float, cap: int = 6) -> float:
    """E[min(Poisson(lam), cap)] (for documentation and checks)."""
    p = [math.exp(-lam) * lam**k / math.factorial(k) for k in range(cap)]
    return sum(k * pk for k, pk in enumerate(p)) + cap * (1 - sum(p))
