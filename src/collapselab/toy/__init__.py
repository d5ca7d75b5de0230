"""Toy advantage-update simulator (numpy only): Table 1 replay and K-armed bandit rules vs the KL optimum.

Paper section 5.2: adding the advantage to a chosen response's logit extracts unbounded
reinforcement from one action (mode collapse); KL-regularised objectives instead have the
closed-form optimum pi0 exp(R/beta) / Z.
"""

from collapselab.toy.bandit import SimResult, simulate, summarize
from collapselab.toy.jeepiti import PAPER_TABLE1, find_errata, format_table, replay, run_jeepiti
from collapselab.toy.policy import entropy_bits, kl_optimum, softmax, total_variation
from collapselab.toy.rules import RULES, RuleParams, make_rule

__all__ = [
    "PAPER_TABLE1",
    "RULES",
    "RuleParams",
    "SimResult",
    "entropy_bits",
    "find_errata",
    "format_table",
    "kl_optimum",
    "make_rule",
    "replay",
    "run_jeepiti",
    "simulate",
    "softmax",
    "summarize",
    "total_variation",
]
