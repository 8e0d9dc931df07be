"""Issue 13, item 1: the recall-first safety detector. Cases of its own (the corpus's crisis set is
measured in test_engine_corpus.py on dev and in benchmarks/ on test)."""

import pytest

from mirror_desktop.engine import EngineConfig, MirrorCore
from mirror_desktop.engine.crisis import CrisisDetector, resources_for

detector = CrisisDetector()
core = MirrorCore()


@pytest.mark.parametrize(("text", "sign"), [
    ("Walked out to the viaduct again tonight. Stood by the railway bridge and thought how easy it would be.", "place"),
    ("There's a ledge on the top floor of the office car park. I went up at lunch to be sure it was still open.", "place"),
    ("I've been putting my sleeping tablets aside every night. There are enough now.", "means"),
    ("Got a rope from the hardware shop. Didn't tell anyone what for.", "means"),
    ("This is my last entry. Thank you for being the one place I could be honest.", "farewell"),
    ("Left letters for Dad and Kim in the desk drawer, where they'll be found.", "farewell"),
    ("Sorted the passwords for my brother and gave my things away. Everything is in order.", "affairs"),
    ("My kids would be better off without me dragging them down.", "burden"),
    ("I want it all to stop. Not for a night, for good.", "stop"),
    ("I'd like to go to sleep and not wake up.", "direct"),
    ("im not gonna kill myself but i keep thinking about it", "direct"),
    ("Estoy harta. Todos estarían mejor sin mí.", "burden"),
    ("Solo quiero que todo se acabe.", "stop"),
    ("Ich will einfach, dass alles aufhört.", "stop"),
    ("Ich habe schon einen Tag ausgesucht.", "plan"),
    ("Meiner Familie ginge es besser, wenn es mich nicht mehr gäbe.", "burden"),
    ("Honestly I wish I'd never been born.", "direct"),
    ("I've written my note and I feel strangely calm.", "direct"),
    ("Life isn't worth living like this.", "direct"),
    ("I won't be a problem for anyone much longer.", "direct"),
    ("A veces pienso en tirarme del puente.", "direct"),
    ("Ich will allem ein Ende setzen.", "direct"),
])

def test_indirect_and_direct_signs_are_found(text, sign):
    finding = detector.find(text)
    assert finding.crisis, text
    assert sign in finding.signs


@pytest.mark.parametrize("text", [
    "This budget is killing me, four spreadsheets and no coffee.",
    "I wanted to die of embarrassment when my mic was on.",
    "I'm dying to try the new bakery.",
    "The novel ends with a woman who plans her own suicide; I couldn't sleep after it.",
    "Gave my old clothes to the charity shop before the move.",
    "Picked a date for the party: Saturday the 9th.",
    "Walked over the bridge with Ana and watched the boats.",
    "Fifteen years ago I tried to end my life. Today I'm glad I'm here, gardening with my son.",
    "Ran a training session on suicide prevention for new volunteers.",
    "I just want this week to be over.",
    "Cut myself slicing bread, nothing serious.",
    "Esta reunión me está matando.",
    "Ich sterbe vor Hunger, wann gibt es Essen?",
    "Wrote a note to the teacher about Sam's dentist appointment.",
    "This film isn't worth the ticket price.",
])
def test_hard_negatives_stay_quiet(text):
    assert not detector.detect(text), detector.find(text)


def test_a_flagged_reflection_always_gets_the_crisis_path_never_a_mirrorback():
    text = "I keep looking at the pills I saved. There are enough now. I always have to be the strong one."
    g = core.generate(text)
    assert g.flags["crisis_language"] is True
    assert "help exists" in g.text.lower()
    assert "“" not in g.text and "?" not in g.text


def test_help_lines_follow_the_configured_country():
    g = MirrorCore(EngineConfig(crisis_country="DE")).generate("Ich will nicht mehr leben.")
    assert "TelefonSeelsorge" in g.text and "0800 111 0 111" in g.text
    g = MirrorCore(EngineConfig(crisis_country="au")).generate("I want to die.")
    assert "13 11 14" in g.text
    assert resources_for("ZZ", ("fallback",)) == ("fallback",)


def test_the_crisis_reply_speaks_the_writers_language():
    g = core.generate("Todos estarían mejor sin mí. Ya he elegido el día, después del cumpleaños de mamá.")
    assert g.flags["crisis_language"] is True
    assert "Hay ayuda" in g.text


def test_crisis_past_the_word_cap_is_still_found_when_told_over_two_sentences():
    from mirror_desktop.core.mirrorbacks import MirrorbackService

    head = "Ordinary day. " * 10
    tail = "Bought rope today. Didn't tell anyone what for."
    kept = MirrorbackService._keep_crisis(core, head, head + tail)
    assert detector.detect(kept)


@pytest.mark.parametrize("text", [
    "Je veux mourir, je n'en peux plus.",
    "Voglio morire, non ce la faccio più.",
    "Eu quero morrer, não aguento mais.",
])
def test_unmistakable_phrases_in_languages_the_engine_does_not_read_still_get_help(text):
    g = core.generate(text)
    assert g.flags["crisis_language"] is True
    assert "help exists" in g.text.lower()
