"""Founder stories continuing "Steve is the CEO of a startup company" (Experiment 3, section 3.3).

A broad grammar: what the company builds, for whom, where, how it began, a problem, a
turn of fortune and where Steve is now, each from its own list, in varying order.
"""

from __future__ import annotations

import numpy as np

from collapselab.world.prompts import STEVE_PROMPT

PRODUCTS = ["drone delivery for rural pharmacies", "an app that matches dog walkers with busy owners", "solar panels you can roll up",
            "software that predicts when factory machines will break", "vertical farms in old parking garages",
            "a marketplace for used lab equipment", "batteries made from seaweed", "AI tutors for high school chemistry",
            "electric cargo bikes", "a payroll tool for food trucks", "smart locks for bike sheds", "plant-based cheese",
            "insurance for freelance musicians", "a platform for renting out empty office desks", "water filters for camping",
            "robots that sort recycling", "a language app for truck drivers", "3D-printed running shoes",
            "a budgeting app for teenagers", "sensors that detect leaks in old pipes", "carbon accounting for small farms"]
PLACES = ["in Austin", "in a garage in Ohio", "in Berlin", "out of a co-working space in Lagos", "in Bangalore",
          "in a small flat in Lisbon", "in Seattle", "in Toronto", "from his parents' basement in New Jersey", "in Nairobi",
          "in Melbourne", "in a converted barn in Vermont", "in Singapore", "in Denver", "in Manchester"]
ORIGINS = ["He started it after {why}.", "The idea came to him when {why}.", "He founded it with two college friends after {why}.",
           "He quit his job at a bank after {why}.", "It began as a weekend project after {why}."]
WHYS = ["his grandmother could not get her medicine delivered", "he spent a winter fixing broken machines at a factory",
        "he lost a bet with his roommate", "a trip to Kenya showed him how much water was wasted",
        "he failed chemistry twice", "his food truck went bankrupt", "he read an article about plastic in the ocean",
        "a flood ruined his apartment", "he got tired of paperwork at his old job", "he watched his father struggle with bills"]
TEAMS = ["The company has {n} employees.", "His team of {n} people works out of a tiny office.", "He hired his first {n} engineers last year.",
         "Today the startup employs {n} people."]
PROBLEMS = ["Last year the company almost ran out of money.", "A bigger competitor copied their product.",
            "Their first prototype caught fire during a demo.", "His co-founder left to join a rival.",
            "Investors turned him down forty times.", "A supplier went bankrupt and stopped all deliveries.",
            "Regulators blocked their launch for six months.", "Nobody bought the first version."]
TURNS = ["Then a famous investor tweeted about them and sales tripled.", "A hospital chain signed a three-year contract.",
         "He pivoted to selling to schools, and it worked.", "A crowdfunding campaign raised two million dollars in a week.",
         "Things got worse before they got better.", "He sold his car to pay salaries and kept going.",
         "A grant from the city kept them alive.", "They won a startup competition and the prize money saved them."]
NOWS = ["Now he is preparing to raise a Series B.", "He still answers every customer email himself.",
        "He hopes to expand to Europe next year.", "Some days he wonders whether he should have stayed at the bank.",
        "He sleeps four hours a night and says he loves it.", "He is thinking about selling the company.",
        "He wants to be profitable by next summer.", "He runs every morning before work to clear his head."]
PERSONAL = ["Steve is {age} years old and {life}.", "Outside work, Steve {hobby}.", "Steve grew up {where}."]
LIFE = ["lives with his wife and two kids", "recently moved in with his girlfriend", "has a dog named Pixel", "lives alone above a bakery"]
HOBBIES = ["plays the drums in a garage band", "coaches his son's soccer team", "climbs mountains", "restores old motorcycles",
           "bakes sourdough bread", "plays chess online every night"]
WHERES = ["on a farm in Iowa", "in a suburb of Chicago", "in a small town in Wales", "in Hong Kong", "in a military family that moved a lot"]


def _pick(xs: list[str], rng: np.random.Generator) -> str:
    return xs[rng.integers(len(xs))]


def write_steve(rng: np.random.Generator) -> str:
    """One founder story starting with ``STEVE_PROMPT``."""
    opening = f"{STEVE_PROMPT} {['that builds', 'that sells', 'working on', 'that makes'][rng.integers(4)]} {_pick(PRODUCTS, rng)}."
    if rng.random() < 0.7:
        opening += f" {['He started the company', 'The company was founded', 'It all began'][rng.integers(3)]} {_pick(PLACES, rng)}."
    middle = [
        _pick(ORIGINS, rng).replace("{why}", _pick(WHYS, rng)),
        _pick(TEAMS, rng).replace("{n}", str(int(rng.choice([3, 5, 8, 12, 20, 35, 60, 150])))),
        _pick(PERSONAL, rng).replace("{age}", str(int(rng.integers(23, 61)))).replace("{life}", _pick(LIFE, rng))
        .replace("{hobby}", _pick(HOBBIES, rng)).replace("{where}", _pick(WHERES, rng)),
    ]
    keep = [m for m in middle if rng.random() < 0.6]
    rng.shuffle(keep)
    arc = []
    if rng.random() < 0.8:
        arc = [_pick(PROBLEMS, rng)] + ([_pick(TURNS, rng)] if rng.random() < 0.8 else [])
    end = [_pick(NOWS, rng)] if rng.random() < 0.7 else []
    return " ".join([opening, *keep, *arc, *end])
