"""Absolute words, sweeping or literal (issue 13): the model in engine/absolutes.py, category by category.

Each category of literal use found in the dev batches (LABELLING.md: schedules, other people's habits,
counts, one occasion, what an action was done to, idioms, experiences not yet had, intensifiers) has
cases of its own here, written for this file and in no corpus file, so the model never trained on them;
so do sweeping uses about the writer, their life and other people. The model is statistical, so a
category passes when at least three in four of its cases are read right; structure (negation, hedges,
quotes, reported speech) is not the model's call and must be right every time.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mirror_desktop.engine.absolutes import candidate_features, default_absolute_model, load_absolute_model
from mirror_desktop.engine.patterns import PatternDetector
from mirror_desktop.engine.structure import read

A = "absolute_thinking"
detector = PatternDetector()
CORPUS = Path(__file__).parent / "corpus"

LITERAL = {
    "schedule": [
        "The launderette is always shut on Sunday mornings, so the sheets went back in the bag.",
        "The night bus never stops at our corner after midnight.",
        "Swimming lessons are always at half past four on Thursdays.",
        "The canteen never serves fish on Mondays.",
        "Der Supermarkt hat sonntags immer geschlossen.",
        "La biblioteca nunca abre los lunes.",
    ],
    "their_habit": [
        "My uncle always hums when he drives.",
        "The baby always falls asleep in the car seat within five minutes.",
        "Our neighbour's parrot never stops talking about biscuits.",
        "Mi tío siempre silba cuando conduce.",
        "Mein Onkel summt immer beim Autofahren.",
    ],
    "count": [
        "Everyone in the relay team got a medal, even the reserves.",
        "Nobody on our floor has a balcony.",
        "All twenty seedlings came up, and none of them wilted.",
        "Todos los niños de la clase recibieron un diploma.",
    ],
    "occasion": [
        "Everyone was quiet during the fireworks last night.",
        "Nobody spoke in the lift this morning, and then the doors opened on the wrong floor.",
        "Everything smelled of smoke after the bonfire.",
        "Anoche todos cantaron en el cumpleaños de mi abuelo.",
    ],
    "object": [
        "I ironed everything for the week and put it away.",
        "We cleared everything out of the garage on Saturday.",
        "I told the nurse everything about the rash.",
        "Lo limpiamos todo antes de devolver las llaves.",
    ],
    "idiom": [
        "The checkout queue took forever, but the cashier was lovely.",
        "Never mind the weather, the picnic was great.",
        "Best birthday ever, honestly.",
        "That crossword clue was impossible, and Gran got it in a minute.",
    ],
    "experience": [
        "I've never eaten a fig straight from the tree before today.",
        "Never been on a sailing boat until this weekend.",
        "Nunca he montado en globo; el sábado lo probamos.",
        "Ich war noch nie in Wien, im Frühling fahren wir hin.",
    ],
    "intensifier": [
        "Totally drenched after the football, but we won.",
        "Completely full after the wedding buffet.",
        "Totally agree with the new rota.",
        "Völlig erledigt nach dem Umzug, aber glücklich.",
    ],
}

SWEEPING = {
    "self": [
        "I always let people down.",
        "I never get anything right at work.",
        "I'm always the one who apologises first.",
        "Siempre lo hago todo mal.",
        "Ich mache nie etwas richtig.",
    ],
    "life": [
        "Nothing ever works out for me.",
        "Everything in my life is going wrong right now.",
        "It's impossible to be happy in this job.",
        "Nada me sale bien.",
        "Alles in meinem Leben geht schief.",
    ],
    "others": [
        "Nobody ever listens to me at home.",
        "My boss never appreciates anything I do.",
        "Everyone always takes advantage of me.",
        "Nadie me entiende.",
        "Niemand interessiert sich für mich.",
    ],
}

# Structure decides these before the model: they must never count.
STRUCTURE = [
    "Not everyone at the meeting agreed, and that was fine.",
    "Maybe nobody noticed the typo.",
    "\u201cYou always forget the bread,\u201d my partner said, laughing.",
    "My friend says everyone in her office is lazy.",
    "I don't think everything is ruined.",
    "I'm not saying nobody ever calls.",
    "In the film the hero never gives up.",
]


def _share(texts: list[str], want: bool) -> float:
    return sum((A in detector.detect(t)) == want for t in texts) / len(texts)


@pytest.mark.parametrize("category", sorted(LITERAL))
def test_each_kind_of_literal_use_is_mostly_read_as_literal(category):
    misread = [t for t in LITERAL[category] if A in detector.detect(t)]
    assert _share(LITERAL[category], False) >= 0.75, misread


@pytest.mark.parametrize("category", sorted(SWEEPING))
def test_sweeping_uses_about_self_life_and_others_are_found(category):
    missed = [t for t in SWEEPING[category] if A not in detector.detect(t)]
    assert _share(SWEEPING[category], True) >= 0.75, missed


@pytest.mark.parametrize("text", STRUCTURE)
def test_negated_hedged_quoted_reported_and_fictional_uses_never_count(text):
    assert A not in detector.detect(text)


def test_the_same_word_in_the_same_sentence_shape_turns_on_its_use():
    # One pair per word: a schedule against a view of oneself.
    assert A not in detector.detect("The ferry never runs in February.")
    assert A in detector.detect("I never run out of ways to let people down.")
    assert A not in detector.detect("Everyone at the party got a slice of cake.")
    assert A in detector.detect("Everyone at work ignores me.")


def test_the_rules_alone_still_work_without_the_model():
    rules = PatternDetector(use_model=False)
    assert A in rules.detect("Nobody ever asks how I am.")
    assert A not in rules.detect("The bakery is always closed on Mondays.")


def test_a_missing_absolute_model_leaves_the_rules_deciding(monkeypatch):
    import mirror_desktop.engine.absolutes as absolutes

    def broken():
        raise FileNotFoundError("absolute_model.json")

    monkeypatch.setattr(absolutes, "load_absolute_model", broken)
    absolutes.default_absolute_model.cache_clear()
    try:
        assert absolutes.default_absolute_model() is None
        assert A in PatternDetector().detect("Nobody ever asks how I am.")
        assert A not in PatternDetector().detect("The bakery is always closed on Mondays.")
    finally:
        absolutes.default_absolute_model.cache_clear()


def test_model_is_small_loaded_once_deterministic_and_refuses_other_features(monkeypatch, tmp_path):
    from mirror_desktop.resources import resource

    raw = resource("engine", "absolute_model.json").read_bytes()
    assert len(raw) < 5 * 1024 * 1024
    model = default_absolute_model()
    assert model is not None and model is default_absolute_model()
    assert 0.0 < model.threshold <= 1.0
    sent = read("Nothing I cook ever turns out right.").sentences[0]
    cand = detector.absolute_candidates(sent)[0]
    assert model.probability(sent, cand) == model.probability(sent, cand)
    assert "c=NOTHING" in candidate_features(sent, cand)

    meta = json.loads(raw)
    meta["feature_version"] = -1
    (tmp_path / "engine").mkdir()
    (tmp_path / "engine" / "absolute_model.json").write_text(json.dumps(meta), "utf-8")
    import mirror_desktop.resources as resources

    monkeypatch.setattr(resources, "resource", lambda *parts: tmp_path.joinpath(*parts))
    with pytest.raises(RuntimeError, match="retrain"):
        load_absolute_model()


def test_dev_batches_are_dev_only_and_new():
    reflections = [json.loads(line) for line in (CORPUS / "reflections.jsonl").read_text("utf-8").splitlines()]
    seen = {r["text"] for r in reflections}
    for path in sorted(CORPUS.glob("dev_extra*.jsonl")):
        rows = [json.loads(line) for line in path.read_text("utf-8").splitlines()]
        assert {r["split"] for r in rows} == {"dev"}, path
        texts = {r["text"] for r in rows}
        assert not texts & seen, path
        seen |= texts
    extra2 = [json.loads(line) for line in (CORPUS / "dev_extra2.jsonl").read_text("utf-8").splitlines()]
    assert len(extra2) >= 200 and {r["language"] for r in extra2} == {"en", "es", "de"}
