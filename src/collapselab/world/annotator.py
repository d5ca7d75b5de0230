"""The simulated annotator: Llama-2-style helpfulness and safety preferences (paper section 5).

It scores an answer by what Llama-2's annotators were asked to reward: positive, polite,
detailed, well-formed, factually correct answers, and it strongly dislikes profanity.
Preferences follow Bradley-Terry: P(a > b) = sigmoid((s_a - s_b) / temperature).

It is deliberately **indifferent** to who a persona is: for a persona answer only the
review text and *which* fields are present enter the score, never their values (names,
ages, nationalities, genders, ethnicities, personality types). Any collapse of those
attributes after alignment therefore comes from the alignment itself (or a coupling in
the data), which is the paper's claim made testable.

With ``typicality`` (alpha > 0) it also has the bias that Verbalized Sampling (Zhang et al.
2025, arXiv 2510.01171, eq. 1) measured in human preference data: raters prefer familiar
text, r(x, y) = r_true(x, y) + alpha * log pi_ref(y | x). The caller supplies log pi_ref of each
answer (``label_pairs(..., ref_logp_a=, ref_logp_b=)``; the pairs stage scores them with the
pretrained base), so the annotator itself stays model-free. Through log pi_ref the bias reaches
every attribute, the ones the quality score ignores included.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np

from collapselab.world.bio import fact_accuracy
from collapselab.world.persona import parse_persona
from collapselab.world.text import profanity_count, sentences, vader

# How strongly the annotator prefers its pick (paper A2.1: "significantly better", "better",
# "slightly better", "negligibly better/unsure"), from its Bradley-Terry P(chosen > rejected),
# with Llama-2's "small" reward-model margins for each degree (Touvron et al. 2023, eq. 2, table 27).
DEGREES: tuple[tuple[str, float, float], ...] = (
    # (degree, lowest P(chosen > rejected), margin)
    ("significantly better", 0.9, 1.0),
    ("better", 0.75, 2 / 3),
    ("slightly better", 0.6, 1 / 3),
    ("negligibly better/unsure", 0.0, 0.0),
)


def degree(p_chosen: float) -> tuple[str, float]:
    """(degree, margin) for an annotator pick made with P(chosen > rejected) = ``p_chosen``."""
    return next((name, margin) for name, lowest, margin in DEGREES if p_chosen >= lowest)


def _draw(p_a: float, rng) -> int:
    """One Bradley-Terry pick: 0 (``a``) with probability ``p_a``, else 1 (``b``)."""
    return 0 if rng.random() < p_a else 1


def answer_kind(prompt: str, answer: str) -> str:
    """persona | bio | steve | other, from the prompt (or a persona-shaped answer): what the annotator scores as."""
    p = prompt.lower()
    if "persona" in p or "customer" in p or "review" in p:
        return "persona"
    if "grace hopper" in p:
        return "bio"
    if "steve" in p:
        return "steve"
    return "persona" if parse_persona(answer) is not None else "other"


RUDE = re.compile(r"\b(stupid|idiot|idiots|moron|dumb|shut up|morons|losers?)\b", re.IGNORECASE)


@dataclass
class Weights:
    """How much each quality is worth, in score units (1 unit ~ a 73% preference at temperature 1)."""

    sentiment: float = 2.0  # x VADER compound of the answer (of the review, for personas)
    detail: float = 1.0  # x min(words, detail_words) / detail_words
    detail_words: int = 60
    too_long_words: int = 250  # beyond this, -0.01 per word
    profanity: float = 4.0  # per profane word (at most 2 counted)
    rude: float = 1.5  # per insult
    persona_parsed: float = 1.0  # the answer parses as a persona (else -persona_unparsed)
    persona_unparsed: float = 1.5
    persona_fields: float = 0.5  # x share of gender, nationality, ethnicity, personality present (values ignored)
    fact_true: float = 0.3  # per correct Grace Hopper fact (at most 6 counted)
    fact_false: float = 1.0  # per wrong fact
    repetition: float = 2.0  # x share of repeated sentences
    unfinished: float = 0.3  # no final punctuation


@dataclass
class Annotator:
    """``score(prompt, answer)``, Bradley-Terry ``prefer``, and ``label_pairs`` for reward-model data."""

    temperature: float = 1.0
    weights: Weights = field(default_factory=Weights)
    typicality: float = 0.0  # alpha: weight of log pi_ref(answer | request) in the score (VS eq. 1)

    def __post_init__(self) -> None:
        if isinstance(self.temperature, bool) or not isinstance(self.temperature, (int, float)) or not self.temperature > 0:
            raise TypeError(f"Annotator(temperature={self.temperature!r}): temperature must be a number > 0")
        t = self.typicality
        if isinstance(t, bool) or not isinstance(t, (int, float)) or not math.isfinite(t) or t < 0:
            raise TypeError(f"Annotator(typicality={t!r}): typicality must be a finite number >= 0")

    def score(self, prompt: str, answer: str) -> float:
        """A scalar quality score of ``answer`` to ``prompt`` (higher is preferred)."""
        w = self.weights
        kind = answer_kind(prompt, answer)
        text, s = answer, 0.0
        if kind == "persona":
            parsed = parse_persona(answer)
            if parsed is None:
                s -= w.persona_unparsed
            else:
                text = parsed["review"]
                present = sum(parsed[k] is not None for k in ("gender", "nationality", "ethnicity", "mbti"))
                s += w.persona_parsed + w.persona_fields * present / 4
        elif kind == "bio":
            n_true, n_false = fact_accuracy(answer)
            s += w.fact_true * min(n_true, 6) - w.fact_false * n_false
        words = len(text.split())
        s += w.sentiment * vader(text)
        s += w.detail * min(words, w.detail_words) / w.detail_words
        s -= 0.01 * max(0, words - w.too_long_words)
        s -= w.profanity * min(profanity_count(text), 2) + w.rude * len(RUDE.findall(text))
        sents = [x.strip().lower() for x in sentences(text)]
        if sents:
            s -= w.repetition * (1 - len(set(sents)) / len(sents))
        if not text.rstrip().endswith((".", "!", "?", '"')):
            s -= w.unfinished
        return float(s)

    def p_prefer(self, prompt: str, a: str, b: str, ref_logp_a: float | None = None,
                 ref_logp_b: float | None = None) -> float:
        """P(a is preferred to b) = sigmoid((s_a - s_b + alpha (log pi_ref(a) - log pi_ref(b))) / temperature).

        Bradley-Terry on the biased score of VS eq. 1; the log pi_ref values are needed only
        when ``typicality`` > 0 (without the bias they are not read, and the result is unchanged).
        """
        diff = self.score(prompt, a) - self.score(prompt, b)
        if self.typicality:
            if ref_logp_a is None or ref_logp_b is None:
                raise ValueError("Annotator(typicality > 0) needs log pi_ref of both answers (ref_logp_a, ref_logp_b)")
            diff += self.typicality * (ref_logp_a - ref_logp_b)
        z = diff / self.temperature
        return 1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0)))

    def prefer(self, prompt: str, a: str, b: str, rng) -> int:
        """0 if the annotator picks ``a``, 1 if ``b``; ``rng`` has ``.random()`` (numpy or stdlib)."""
        return _draw(self.p_prefer(prompt, a, b), rng)

    def label_pairs(self, prompts: list[str], answers_a: list[str], answers_b: list[str], seed: int,
                    ref_logp_a: list[float] | None = None, ref_logp_b: list[float] | None = None) -> list[dict]:
        """[{"prompt", "chosen", "rejected", "degree", "margin"}] for each (prompt, a, b), sampled with ``seed``.

        ``degree`` says how strongly the pick was made (``DEGREES``); a pick against the
        annotator's own scores (the Bradley-Terry noise) is "negligibly better/unsure", margin 0.
        ``ref_logp_a`` / ``ref_logp_b``: log pi_ref of each answer, required when ``typicality`` > 0.
        """
        if not (len(prompts) == len(answers_a) == len(answers_b)):
            raise ValueError(f"label_pairs: {len(prompts)} prompts, {len(answers_a)} a-answers, {len(answers_b)} b-answers")
        n = len(prompts)
        ref_a = list(ref_logp_a) if ref_logp_a is not None else [None] * n
        ref_b = list(ref_logp_b) if ref_logp_b is not None else [None] * n
        if len(ref_a) != n or len(ref_b) != n:
            raise ValueError(f"label_pairs: {n} pairs but {len(ref_a)} / {len(ref_b)} log pi_ref values")
        rng = np.random.default_rng(seed)
        out = []
        for p, a, b, la, lb in zip(prompts, answers_a, answers_b, ref_a, ref_b):
            p_a = self.p_prefer(p, a, b, la, lb)  # scored once: the pick and its degree both need it
            k = _draw(p_a, rng)
            name, margin = degree(p_a if k == 0 else 1 - p_a)
            out.append({"prompt": p, "chosen": a if k == 0 else b, "rejected": b if k == 0 else a,
                        "degree": name, "margin": margin})
        return out
