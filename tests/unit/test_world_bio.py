"""Grace Hopper biographies and the fact checker; founder stories."""

import numpy as np
import pytest

from collapselab.world.bio import fact_accuracy, write_bio
from collapselab.world.prompts import BIO_PROMPT, STEVE_PROMPT
from collapselab.world.steve import write_steve


def test_generated_bios_state_only_true_facts_in_many_forms():
    rng = np.random.default_rng(0)
    bios = [write_bio(rng) for _ in range(400)]
    assert all(b.startswith(BIO_PROMPT + " ") for b in bios)
    scores = [fact_accuracy(b) for b in bios]
    assert all(f == 0 for _, f in scores)
    assert np.mean([t for t, _ in scores]) > 2
    assert len(set(bios)) == len(bios)
    assert any("\n1. " in b for b in bios) and any("Timeline:" in b for b in bios) and any('"' in b for b in bios)


@pytest.mark.parametrize("text, expected", [
    # born year right (1), place right (1), day wrong (1: November 9 is the paper's perturbation)
    ("Grace Hopper was born on November 9, 1906 in New York City.", (2, 1)),
    # wrong year and city (2 false); PhD year right, PhD school wrong (1 true, 1 false); FORTRAN (false); death year wrong
    ("Grace Hopper was born in 1910 in Chicago. She earned her PhD from Harvard in 1934. She invented FORTRAN. She died in 1985.",
     (1, 5)),
    # PhD at Yale in 1934 (2 true), Yale year (1 true), Mark I at Harvard (1 true); the 1934 before "Mark I" is another clause
    ("She earned her PhD in mathematics from Yale University in 1934 and went on to work at the Harvard Mark I computer lab.",
     (4, 0)),
    ("COBOL was designed in 1959. She died on January 1, 1992, in Arlington, Virginia.", (3, 0)),
    ("She was not a computer scientist.", (0, 1)),
    ("A story about coffee machines.", (0, 0)),
])
def test_fact_accuracy_counts_true_and_wrong_variants(text, expected):
    assert fact_accuracy(text) == expected


def test_steve_stories_start_with_the_prompt_and_vary():
    rng = np.random.default_rng(0)
    stories = [write_steve(rng) for _ in range(300)]
    assert all(s.startswith(STEVE_PROMPT + " ") for s in stories)
    assert len(set(stories)) == len(stories)
    assert len({s.split(".")[0] for s in stories}) > 60  # many distinct opening sentences
