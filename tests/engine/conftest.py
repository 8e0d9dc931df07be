"""Shared helpers for the engine tests: a varied corpus and reply-invariant checks."""

import random
import re

import pytest

FRAGMENTS = [
    "I have to finish the report tonight.",
    "Part of me wants to quit, but part of me loves the work.",
    "I always end up staying late.",
    "We walked by the river and the light was soft.",
    "My sister called and I didn't pick up.",
    "I want freedom but I also need security.",
    "They probably think I'm lazy.",
    "It is not always like this.",
    "When I was a kid my mother used to go quiet for days.",
    "What if it all goes wrong?",
    "I'm such a failure at keeping in touch.",
    "It's my fault the dinner was tense.",
    "I feel anxious, so something must be wrong.",
    "Nobody ever asks how I am.",
    "The garden needs water and I keep forgetting.",
    "I felt calm for once, reading on the balcony.",
    "Work is eating the weekends and I never rest.",
    "I keep controlling every detail and I can't let go.",
    "Should I stay in this city or leave?",
    "Everyone says you should just relax!",
    "Tired. Heavy. 100% done with this week.",
    "I'm excited about the trip, and nervous too.",
    "Nothing I do seems to be enough.",
    "My friend said I might try therapy, I don't know.",
]

BANNED_OUTSIDE_QUOTES = [
    "you should", "you must", "you need to", "have you tried", "have you considered", "i recommend",
    "i suggest", "it might help", "make sure", "i understand how you feel", "great job", "well done",
    "proud of you", "amazing", "diagnos", "disorder", "%", "!",
]

QUOTE_RE = re.compile(r"“([^”]*)”")


def corpus(n: int, seed: int = 7) -> list[str]:
    """``n`` different entries of one to five fragments, the same every run."""
    rng = random.Random(seed)
    out = []
    while len(out) < n:
        entry = " ".join(rng.sample(FRAGMENTS, rng.randint(1, 5)))
        if entry not in out:
            out.append(entry)
    return out


def without_quotes(reply: str) -> str:
    return QUOTE_RE.sub(" ", reply)


def assert_reply_keeps_the_constitution(reply: str, source: str) -> None:
    """The invariants every non-crisis reply must hold."""
    assert reply.strip()
    assert reply.count("?") <= 1, reply
    assert "!" not in reply, reply
    for quoted in QUOTE_RE.findall(reply):
        assert quoted and quoted in source, (quoted, source)
    own = without_quotes(reply).lower().replace("’", "'")
    for phrase in BANNED_OUTSIDE_QUOTES:
        assert phrase not in own, (phrase, reply)


@pytest.fixture
def entries() -> list[str]:
    return corpus(200)
