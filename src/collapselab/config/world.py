"""World schema: the ``world:`` node every stage embeds, and ``make_world``'s primary schema.

The world is the generated corpus (personas with reviews, Grace Hopper biographies,
founder stories, chat instructions) plus its ground truth; see ``collapselab.world``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from collapselab.config.app import register_schema
from collapselab.config.common import LoggerConfig, between, positive, seed_range

# The generators' version, part of every artifact key (the world node is hashed into each one), so
# a world, base or run made by older generators is never reused. 1: whole template sentences,
# independent MBTI letters, normal ages; 2: word-level grammars, MBTI at population frequencies,
# a right-skewed age distribution (docs/world.md).
WORLD_VERSION = 2


@dataclass
class WorldConfig:
    """How big the generated world is and how strongly a customer's attributes shape their review."""

    seed: int = 0
    n_personas: int = 6000  # persona + review documents
    n_bios: int = 3000  # "Grace Hopper was ..." biographies
    n_steve: int = 3000  # "Steve is the CEO of a startup company ..." stories
    n_instructions: int = 3000  # chat (request, answer) pairs, a third per kind
    # "write an unusual / an ordinary persona" chats (world/contrast.py): SFT data from which the models learn
    # what the two requests mean, so a creativity direction can be read from them (Olson et al. 2024). 1000,
    # about the persona chats' number: continuing the SFT model on 1000 of them plus 1000 ordinary chats gave
    # score-vs-surprisal Spearman 0.37 [0.17, 0.53] at layer 2, against -0.03 without (docs/evaluation.md)
    n_contrast: int = 1000
    # verbalized-sampling chats (world/verbalized.py, Zhang et al. 2025): "k personas with their probabilities",
    # answered with k world personas (attribute lines) and their renormalised world probabilities, so the tiny chat
    # models learn the format. 3000: continued SFT needed ~3200 presentations to parse 0.78 of the lines
    # (docs/evaluation.md, "Verbalized sampling")
    n_verbalized: int = 3000
    # 0: attributes independent of the review; 1: realistic (extraverts gush, older
    # customers are sceptical of smartwatch gadgets, some nationalities write longer reviews)
    coupling: float = 1.0
    profanity_rate: float = 0.03  # share of reviews that are rude or profane
    truth_samples: int = 10000  # personas drawn (not stored) to estimate the non-analytic truths
    version: int = WORLD_VERSION  # the generators' version (not a knob: only the current one is built)

    def problems(self) -> list[str]:
        out = [] if self.version == WORLD_VERSION else [
            f"version={self.version}: this code builds world version {WORLD_VERSION} only"]
        out += positive("n_personas", self.n_personas) + positive("n_bios", self.n_bios)
        out += positive("n_steve", self.n_steve) + positive("n_instructions", self.n_instructions, strict=False)
        out += positive("n_contrast", self.n_contrast, strict=False)
        out += positive("n_verbalized", self.n_verbalized, strict=False)
        out += positive("coupling", self.coupling, strict=False) + between("profanity_rate", self.profanity_rate, 0.0, 1.0)
        out += positive("truth_samples", self.truth_samples)
        return out + seed_range("seed", self.seed, legacy=False)  # numpy.random.default_rng alone


# The scale tests use: builds in a second or two.
TINY_TEST_WORLD = {"n_personas": 300, "n_bios": 100, "n_steve": 100, "n_instructions": 60, "n_contrast": 20,
                   "n_verbalized": 20,
                   "truth_samples": 2000}


def tiny_test_world(**over) -> WorldConfig:
    """A ``WorldConfig`` at test scale (``TINY_TEST_WORLD``), with keyword overrides."""
    return WorldConfig(**{**TINY_TEST_WORLD, **over})


@dataclass
class MakeWorldConfig:
    """``python scripts/make_world.py``: build the world under ``artifacts_dir`` and print a summary."""

    world: WorldConfig = field(default_factory=WorldConfig)
    artifacts_dir: str = "artifacts"
    logger: LoggerConfig = field(default_factory=LoggerConfig)


register_schema("make_world", MakeWorldConfig)
