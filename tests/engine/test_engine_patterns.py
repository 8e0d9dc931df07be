"""Pattern detection: each spec pattern and distortion, with hedged and negated absolutes left out."""

import pytest

from mirror_desktop.engine.patterns import PATTERN_NAMES, PatternDetector

detector = PatternDetector()

POSITIVE = [
    ("obligation_language", "I have to finish the report before Friday."),
    ("obligation_language", "I should call my sister, I'm supposed to be the reliable one."),
    ("absolute_thinking", "Everything is going wrong."),
    ("absolute_thinking", "He never listens to me."),
    ("internal_tension", "Part of me wants to stay, but part of me wants to go."),
    ("internal_tension", "I want to quit but I also need the money."),
    ("internal_tension", "I feel torn between my family and the new job."),
    ("past_trauma_reference", "When I was a kid my dad used to shout at us."),
    ("past_trauma_reference", "Growing up, nobody talked about feelings."),
    ("catastrophizing", "If I miss this deadline it will be a disaster."),
    ("catastrophizing", "What if I fail the exam and lose everything?"),
    ("mind_reading", "They probably think I'm useless at this job."),
    ("mind_reading", "I just know she hates me now."),
    ("fortune_telling", "I'll never find someone who gets me."),
    ("fortune_telling", "It's never going to change."),
    ("labeling", "I'm such an idiot."),
    ("labeling", "I am a complete failure."),
    ("personalization", "It's all my fault that they argued."),
    ("personalization", "The party went badly because of me."),
    ("emotional_reasoning", "I feel like a burden, so I must be one."),
    ("emotional_reasoning", "I feel guilty so it must be my fault."),
    ("overgeneralization", "This always happens to me."),
    ("overgeneralization", "Every time I try, it goes wrong."),
    ("overgeneralization", "Nobody ever asks how I am."),
]


@pytest.mark.parametrize(("pattern", "text"), POSITIVE)
def test_pattern_is_detected(pattern, text):
    assert pattern in detector.detect(text)


@pytest.mark.parametrize(
    "text",
    [
        "It is not always like this.",
        "I almost never sleep well.",
        "I don't always know what to say.",
        "Nearly everyone came to the party.",
        "It isn't everything, but it matters.",
        "Never mind, the evening was fine.",
        "She hardly ever calls.",
    ],
)
def test_hedged_or_negated_absolutes_are_not_absolute(text):
    assert "absolute_thinking" not in detector.detect(text)


@pytest.mark.parametrize(
    "text",
    [
        "We walked by the river and the light was soft.",
        "I made soup and read for an hour.",
        "The meeting moved to Thursday.",
    ],
)
def test_calm_text_has_no_patterns(text):
    assert detector.detect(text) == []


def test_i_must_be_is_not_obligation():
    assert "obligation_language" not in detector.detect("I must be tired tonight.")


def test_detect_returns_known_names_in_canonical_order():
    text = "I always have to do everything. Part of me wants to stop but I also can't. It's my fault."
    found = detector.detect(text)
    assert set(found) <= set(PATTERN_NAMES)
    assert found == sorted(found, key=PATTERN_NAMES.index)
    assert {"absolute_thinking", "obligation_language", "internal_tension", "personalization"} <= set(found)
