"""Issue 13, item 4: replies over the corpus's dev split claim no history, repeat no 4-word phrase,
quote whole clauses, and keep the constitution."""

import json
import re
from pathlib import Path

import pytest

from conftest import assert_reply_keeps_the_constitution

from mirror_desktop.engine import ConstitutionChecker, MirrorCore, TensionRef
from mirror_desktop.engine.compose import _CLAUSE_STARTS, no_repeated_phrase, repeated_phrase

CORPUS = Path(__file__).parent / "corpus" / "reflections.jsonl"
DEV = [r for r in map(json.loads, CORPUS.read_text("utf-8").splitlines()) if r["split"] == "dev"]
TENSIONS = [TensionRef("t-work", "Work vs Family", "Work", "Family"),
            TensionRef("t-ctl", "Control vs Surrender", "Control", "Surrender")]
HISTORY = re.compile(r"\b(?:been tracking|you have been|you've been|last time|before now|once again|as before|"
                     r"in earlier|previous entries|you often|keep coming back)\b", re.I)
QUOTE = re.compile(r"“([^”]*)”")
core = MirrorCore()


def replies():
    for i, row in enumerate(DEV):
        for tensions in ((), TENSIONS):
            g = core.generate(row["text"], tensions, variant=i % 3)
            if "crisis_language" not in g.flags:
                yield row["text"], g


@pytest.fixture(scope="module")
def generated():
    return list(replies())


def test_replies_claim_no_history(generated):
    for source, g in generated:
        own = QUOTE.sub(" ", g.text)
        assert not HISTORY.search(own), g.text


def test_no_four_word_sequence_twice(generated):
    for _source, g in generated:
        assert repeated_phrase(g.text) is None, g.text


def test_long_quotes_end_where_a_clause_ends(generated):
    checked = 0
    for source, g in generated:
        for q in QUOTE.findall(g.text):
            if len(q.split()) < 5:
                continue   # a cue word or two ("I have to") is quoted as words, not as a clause
            at = source.find(q)
            assert at >= 0, (q, source)
            rest = source[at + len(q):]
            nxt = re.match(r"\s*([^\W\d_]+)", rest)
            ends_clause = not nxt or not rest[:1].isspace() or nxt.group(1).lower() in _CLAUSE_STARTS
            assert ends_clause, (q, source)
            checked += 1
    assert checked > 100


def test_every_reply_keeps_the_constitution(generated):
    checker = ConstitutionChecker()
    for source, g in generated:
        assert_reply_keeps_the_constitution(g.text, source)
        assert not checker.check(g.text, source=source).violations, g.text


def test_no_repeated_phrase_drops_the_sentence_that_repeats():
    out = no_repeated_phrase(["It sounds like this matters a lot.", "It sounds like this matters to you.",
                              "What is here?"])
    assert out == ["It sounds like this matters a lot.", "What is here?"]


def test_checker_flags_invented_history_and_repeats():
    checker = ConstitutionChecker()
    assert "invented_history" in checker.check("This touches the pull that you have been tracking.").violations
    assert "repeated_phrase" in checker.check("It seems part of you wants this, and part of you wants that.").violations
    assert not checker.check("It seems part of you wants this, and another part wants that.").violations


def test_an_empty_journal_gets_no_talk_of_tracking():
    g = core.generate("Work ate the whole weekend and I missed the kids' match.")
    assert "track" not in g.text.lower()


@pytest.mark.parametrize(("text", "words"), [
    ("Siempre tengo que ser yo la que lo arregla todo en casa.", ("Parece", "Suena", "Escribiste", "Esas palabras", "Hay una frase")),
    ("Ich muss immer die Starke sein, und niemand fragt, wie es mir geht.", ("Es klingt", "Es scheint", "Du hast", "Diese Worte", "Da ist")),
])
def test_spanish_and_german_writers_are_answered_in_their_language(text, words):
    g = core.generate(text)
    assert g.text.startswith(words), g.text
    assert "It sounds" not in g.text and "It seems" not in g.text
    assert g.text.count("?") == 1 and repeated_phrase(g.text) is None


def test_a_label_for_someone_else_is_not_called_a_word_for_yourself():
    for variant in range(6):
        g = core.generate("My landlord is a crook. The boiler has been broken for a month.", variant=variant)
        assert "labeling" in g.patterns
        assert "for yourself" not in g.text and "about yourself" not in g.text, g.text
