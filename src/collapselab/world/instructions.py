"""Chat (request, answer) pairs for SFT: each kind's request in several phrasings, answered
with a fresh document of that kind (a persona without the plain-text header)."""

from __future__ import annotations

import numpy as np

from collapselab.world.bio import write_bio
from collapselab.world.persona import format_persona, generate_personas
from collapselab.world.prompts import BIO_REQUESTS, PERSONA_REQUESTS, STEVE_REQUESTS
from collapselab.world.steve import write_steve

KINDS = ("persona", "bio", "steve")


def make_instructions(n: int, coupling: float, profanity_rate: float, rng: np.random.Generator) -> list[dict]:
    """``n`` records {"messages": [user, assistant], "kind"}, kinds in turn (a third each)."""
    kinds = [KINDS[i % 3] for i in range(n)]
    personas = iter(generate_personas(kinds.count("persona"), coupling, profanity_rate, rng))
    out = []
    for kind in kinds:
        if kind == "persona":
            req, ans = PERSONA_REQUESTS[rng.integers(len(PERSONA_REQUESTS))], format_persona(next(personas), header=False)
        elif kind == "bio":
            req, ans = BIO_REQUESTS[rng.integers(len(BIO_REQUESTS))], write_bio(rng)
        else:
            req, ans = STEVE_REQUESTS[rng.integers(len(STEVE_REQUESTS))], write_steve(rng)
        out.append({"messages": [{"role": "user", "content": req}, {"role": "assistant", "content": ans}], "kind": kind})
    return out
