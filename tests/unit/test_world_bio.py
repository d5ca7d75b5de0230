"""Grace Hopper biographies and the fact checker; founder stories."""

import numpy as np
import pytest

from collapselab.metrics.lexical import distinct_n
from collapselab.metrics.semantic import tfidf_similarity
from collapselab.world.bio import compose_bio, fact_accuracy, write_bio
from collapselab.world.bio_facts import EXTRAS, FACT_IDS, FACTS, RULES
from collapselab.world.prompts import BIO_PROMPT, STEVE_PROMPT
from collapselab.world.steve import write_steve
from collapselab.world.text import capitalize, expand


def test_generated_bios_state_only_true_facts_in_many_forms():
    rng = np.random.default_rng(0)
    bios = [write_bio(rng) for _ in range(400)]
    assert all(b.startswith(BIO_PROMPT + " ") for b in bios)
    scores = [fact_accuracy(b) for b in bios]
    assert all(f == 0 for _, f in scores)
    assert np.mean([t for t, _ in scores]) > 2
    assert len(set(bios)) == len(bios)
    assert any("\n1. " in b for b in bios) and any("\n- " in b for b in bios) and any('"' in b for b in bios)
    assert any(any(h in b for h in ("Timeline:", "Key dates:", "Milestones:")) for b in bios)


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
    """The story may go on right after the prompt with " that ...", " called ...", ". The startup ..." or
    ", and ...": the prompt is the paper's, with no trailing space, so its first token is uncertain too."""
    rng = np.random.default_rng(0)
    stories = [write_steve(rng) for _ in range(300)]
    assert all(s.startswith(STEVE_PROMPT) and s[len(STEVE_PROMPT)] in " .," for s in stories)
    assert len(set(stories)) == len(stories)
    assert len({s.split(".")[0] for s in stories}) > 60  # many distinct opening sentences
    assert len({s[len(STEVE_PROMPT):].split()[0] for s in stories}) >= 10  # many distinct next words


# ------------------------------------------------------------------ the phrase grammar
def test_expand_makes_every_choice_and_is_deterministic():
    rules = {"org": ["the Navy", "the {WAVES|Reserve}"], "n": lambda rng: int(rng.random() * 3)}
    seen = {expand("{She|Hopper} [later ]joined <org> <n> times , twice.", rules, np.random.default_rng(i)) for i in range(400)}
    assert "She joined the Navy 0 times, twice." in seen  # optional part left out, spaces tidied
    assert "Hopper later joined the Reserve 2 times, twice." in seen
    assert len(seen) == 2 * 2 * 3 * 3  # subject x optional x org x number
    a = [expand("{a|b|c}[d]<org>", rules, np.random.default_rng(7)) for _ in range(3)]
    assert a[0] == a[1] == a[2]


@pytest.mark.parametrize("bad", ["{a|b", "[a", "a}b", "x <missing> y"])
def test_expand_rejects_malformed_templates(bad):
    with pytest.raises((ValueError, KeyError)):
        expand(bad, {}, np.random.default_rng(0))


def _samples(template: str, n: int, seed: int, sentence: bool = True) -> list[str]:
    rng = np.random.default_rng(seed)
    return [(capitalize if sentence else str)(expand(template, RULES, rng)) for _ in range(n)]


def test_fact_banks_are_well_formed():
    assert len(set(FACT_IDS)) == len(FACT_IDS)
    assert all(isinstance(v, tuple) and all(isinstance(x, str) for x in v) for v in EXTRAS.values())
    assert set(EXTRAS) <= set(FACT_IDS)
    for f in FACTS:
        assert isinstance(f.frames, tuple) and f.frames and all(isinstance(x, str) for x in f.frames), f.id
        assert not f.year or f.timeline, f.id  # a dated fact can appear in a timeline


@pytest.mark.parametrize("fact", FACTS, ids=FACT_IDS)
def test_every_phrasing_of_a_fact_checks_as_true(fact):
    """Every frame and timeline entry of a checked fact is recognised as at least one true fact and
    never as a wrong one; an unchecked fact, and every follow-up sentence, is neither."""
    for i, frame in enumerate(fact.frames):
        for s in _samples(frame, 40, i):
            t, f = fact_accuracy(BIO_PROMPT + " a pioneer. " + s)
            assert f == 0 and (t >= 1 if fact.checked else t == 0), s
    for i, entry in enumerate(fact.timeline):
        for s in _samples(entry, 20, 100 + i, sentence=False):  # after "1992: ", in lower case
            t, f = fact_accuracy(f"{fact.year}: {s}.")
            assert f == 0 and (t >= 1 if fact.checked else t == 0), s
    for i, extra in enumerate(EXTRAS.get(fact.id, ())):
        for s in _samples(extra, 20, 200 + i):
            assert fact_accuracy(s) == (0, 0), s


def test_every_generated_bio_states_its_facts_checkably():
    """Over many bios: no fact is ever wrong, and every checked fact stated counts as true at least once."""
    rng = np.random.default_rng(3)
    checked = {f.id for f in FACTS if f.checked} | {"bug"}  # the anecdote about the moth is checkable
    for _ in range(1000):
        text, ids = compose_bio(rng)
        n_true, n_false = fact_accuracy(text)
        assert n_false == 0, text
        assert n_true >= sum(i in checked for i in ids), (ids, text)
        assert len(ids) == len(set(ids)), text  # no fact twice


def test_same_seed_same_documents_other_seed_other_documents():
    for write in (write_bio, write_steve):
        a = [write(np.random.default_rng(5)) for _ in range(3)]
        one, two = np.random.default_rng(11), np.random.default_rng(11)
        assert [write(one) for _ in range(50)] == [write(two) for _ in range(50)]
        other = np.random.default_rng(12)
        assert [write(np.random.default_rng(11)) for _ in range(1)] != [write(other) for _ in range(1)]
        assert a[0] == a[1] == a[2]


def test_world_documents_are_varied_at_the_word_level_and_keep_their_length():
    """Measured on the world itself (docs/world.md): TF-IDF similarity of 200 bios 0.28 -> ~0.15 and
    distinct-2 of 200 founder stories 0.10 -> ~0.21, at about the old lengths (~320 / ~300 characters)."""
    rng = np.random.default_rng(0)
    bios = [write_bio(rng) for _ in range(200)]
    stories = [write_steve(rng) for _ in range(200)]
    assert tfidf_similarity(bios).mean() < 0.18
    assert distinct_n(stories, 2) > 0.17
    assert 250 < np.mean([len(b) for b in bios]) < 380 and 250 < np.mean([len(s) for s in stories]) < 380
