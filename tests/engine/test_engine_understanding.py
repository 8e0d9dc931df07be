"""Issue 13: the detector reads structure, not keywords. Each category the issue names has cases of its
own here (none copied from the corpus): someone else's words, negation and hedges, word senses,
meaning-level patterns, typos, Spanish and German, languages the engine does not read."""

import pytest

from mirror_desktop.engine import MirrorCore
from mirror_desktop.engine.patterns import PATTERN_NAMES, PatternDetector
from mirror_desktop.engine.structure import canonical, detect_language, read

detector = PatternDetector()


def found(text: str) -> set[str]:
    return set(detector.detect(text))


# ---- someone else's words are not the writer's ----------------------------------------------------

@pytest.mark.parametrize(("text", "absent"), [
    ("My dad says I should sell the car before winter.", "obligation_language"),
    ("The nurse told me I have to fast from midnight.", "obligation_language"),
    ("My partner said nobody ever listens to him at work.", "absolute_thinking"),
    ("“You always leave the lights on,” she said, laughing.", "absolute_thinking"),
    ("According to my brother, I'm a total failure at DIY.", "labeling"),
    ("Apparently I need to be more of a team player.", "obligation_language"),
    ("In the book the heroine is sure she will never be loved.", "absolute_thinking"),
    ("We watched a film where the father never forgives anyone.", "absolute_thinking"),
])
def test_quoted_and_reported_speech_is_not_the_writers(text, absent):
    assert absent not in found(text)


def test_reported_words_the_writer_takes_back_count_again():
    assert "obligation_language" in found("Gran says I should rest more, and she's right, I have to slow down.")


# ---- negation and hedges ---------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "absent"), [
    ("I don't have to go in tomorrow.", "obligation_language"),
    ("Maybe I should take a day off, not sure yet.", "obligation_language"),
    ("It's not my fault the bus was late.", "personalization"),
    ("I'm not a loser, I had a bad week.", "labeling"),
    ("I don't think it will always be this hard.", "absolute_thinking"),
    ("The evenings aren't always lonely.", "absolute_thinking"),
    ("I wonder if my boss thinks I'm slow.", "mind_reading"),
    ("The exam might go badly, or it might be fine.", "fortune_telling"),
])
def test_a_writer_doubting_or_denying_a_pattern_does_not_get_it(text, absent):
    assert absent not in found(text)


# ---- word senses -----------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "I must have left my umbrella on the bus.",
    "She must be exhausted after the night shift.",
    "I must be getting old, I fell asleep at nine.",
    "Ich muss den Schlüssel im Büro vergessen haben.",
    "Debo de haber dejado el móvil en el coche.",
    "I got to see my nephew play football today.",
])
def test_epistemic_must_and_chances_are_not_obligation(text):
    assert "obligation_language" not in found(text)


@pytest.mark.parametrize("text", [
    "I must call the plumber about the leak.",
    "I shouldn't have snapped at Lou.",
    "We need to sort out the loft before the sale.",
    "Ich sollte meine Oma öfter besuchen.",
    "Tengo que entregar el trabajo mañana.",
])
def test_deontic_modals_are_obligation(text):
    assert "obligation_language" in found(text)


@pytest.mark.parametrize("text", [
    "Never mind, the train came in the end.",
    "I've never been to Scotland.",
    "We ate everything on the table.",
    "I'm totally exhausted after the move.",
])
def test_idioms_and_literal_uses_are_not_absolute_thinking(text):
    assert "absolute_thinking" not in found(text)


# ---- meaning-level patterns ------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "pattern"), [
    ("My sister thinks I'm irresponsible with money.", "mind_reading"),
    ("The new manager looks at me like I'm a problem to be solved.", "mind_reading"),
    ("My landlord is a liar.", "labeling"),
    ("I'm useless at everything practical.", "labeling"),
    ("If the car breaks down I lose the job, and then we lose the flat.", "catastrophizing"),
    ("What if the scan shows something and I don't see the kids grow up?", "catastrophizing"),
    ("My father used to hit us when he drank.", "past_trauma_reference"),
    ("After the crash I couldn't sit in a passenger seat for a year.", "past_trauma_reference"),
    ("I love my job and I'm exhausted by it.", "internal_tension"),
    ("Part of me is relieved she moved out.", "internal_tension"),
    ("It's because I went back to work that he's struggling.", "personalization"),
    ("I feel like a fraud, so I probably am one.", "emotional_reasoning"),
    ("Every time I relax, something breaks.", "overgeneralization"),
    ("I'll never get a place of my own.", "fortune_telling"),
])
def test_meaning_level_patterns_are_found(text, pattern):
    assert pattern in found(text)


@pytest.mark.parametrize(("text", "absent"), [
    ("When I was little we spent summers by the lake.", "past_trauma_reference"),
    ("I want pasta and I need a nap.", "internal_tension"),
    ("It rained, but we went to the beach anyway.", "internal_tension"),
    ("He's not a liar, he was confused.", "labeling"),
])
def test_meaning_level_negatives(text, absent):
    assert absent not in found(text)


# ---- typos -----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("word", "mended"), [
    ("evryone", "everyone"), ("allways", "always"), ("failiure", "failure"), ("definately", "definitely"),
    ("shud", "should"), ("im", "i'm"), ("dont", "don't"), ("nights", "nights"), ("party", "party"),
])
def test_typo_mending_is_tolerant_but_leaves_real_words_alone(word, mended):
    assert canonical(word) == mended


@pytest.mark.parametrize(("text", "pattern"), [
    ("i realy shud call my mum tonite", "obligation_language"),
    ("evryone at work hates me", "absolute_thinking"),
    ("im such a failiure", "labeling"),
    ("its all my falt", "personalization"),
])
def test_misspelt_cue_words_still_count(text, pattern):
    assert pattern in found(text)


# ---- languages ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "pattern"), [
    ("Nadie me entiende en el trabajo.", "absolute_thinking"),
    ("Soy un desastre con el dinero.", "labeling"),
    ("Mi jefe piensa que soy lento.", "mind_reading"),
    ("Niemand hört mir je zu.", "absolute_thinking"),
    ("Ich bin so ein Idiot.", "labeling"),
    ("Es ist meine Schuld, dass sie gegangen ist.", "personalization"),
])
def test_spanish_and_german_are_read(text, pattern):
    assert pattern in found(text)


@pytest.mark.parametrize(("text", "lang"), [
    ("Je dois finir ce rapport ce soir, mais je suis très fatiguée et je ne sais pas pourquoi.", "fr"),
    ("Oggi non ho voglia di fare niente, sono molto stanca e mi manca la mia famiglia.", "it"),
    ("Ich habe heute den ganzen Tag gearbeitet und bin sehr müde.", "de"),
    ("Hoy fue un día largo y estoy muy cansada, pero contenta.", "es"),
    ("Long day, but the walk home was lovely.", "en"),
])
def test_language_is_recognised(text, lang):
    assert detect_language(text) == lang


def test_a_language_the_engine_does_not_read_is_named_gently_and_nothing_is_guessed():
    text = "Je dois toujours tout faire moi-même, et personne ne m'aide jamais à la maison."
    g = MirrorCore().generate(text)
    assert g.patterns == []
    assert g.flags.get("language_not_read") == "fr"
    assert "does not read French" in g.text
    assert g.text.count("?") == 1


# ---- the output the window's chips read ----------------------------------------------------------------

def test_generation_reports_known_pattern_names_in_canonical_order():
    g = MirrorCore().generate("I always have to fix everything. It's my fault the party went wrong. My sister thinks I'm lazy.")
    assert g.patterns == sorted(g.patterns, key=PATTERN_NAMES.index)
    assert {"obligation_language", "absolute_thinking", "personalization", "mind_reading"} <= set(g.patterns)
    assert g.metadata()["patterns_detected"] == g.patterns


def test_hits_point_into_the_text_verbatim():
    text = "Honestly? I’m such an idiot. Mum says I should rest."
    for hit in detector.hits(text):
        assert 0 <= hit.start < hit.end <= len(text)
    assert [text[h.start:h.end] for h in detector.hits(text) if h.name == "labeling"] == ["I’m such an idiot"]


def test_reading_marks_other_voices_with_placeholders():
    sent = read("Tom reckons I'll never get the job.").sentences[0]
    assert sent.canon.startswith("tom _")
    assert "never" not in sent.canon
