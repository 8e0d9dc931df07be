"""The constitution checker: counts directives outside the writer's quotes and emits the spec's flags."""

import pytest

from mirror_desktop.engine._data import default_rules
from mirror_desktop.engine.checker import ConstitutionChecker

checker = ConstitutionChecker()


def test_threshold_comes_from_rules_json():
    assert default_rules().directive_threshold == 0.15
    assert checker.threshold == 0.15


@pytest.mark.parametrize(
    ("reply", "phrase"),
    [
        ("You should rest more.", "you should"),
        ("I think you must tell her.", "you must"),
        ("Maybe you need to slow down.", "you need to"),
        ("You have to look after yourself.", "you have to"),
        ("You ought to call him.", "you ought to"),
        ("Have you tried going to bed earlier?", "have you tried"),
        ("Have you considered a walk?", "have you considered"),
        ("I recommend a short break.", "i recommend"),
        ("I suggest writing a list.", "i suggest"),
        ("It might help to breathe.", "it might help"),
        ("Make sure you eat today.", "make sure"),
        ("Try to sleep earlier.", "try"),
        ("Just take a break.", "take"),
        ("Don't be so hard on yourself.", "don't"),
        ("Remember that you matter.", "remember"),
    ],
)
def test_each_directive_form_is_counted(reply, phrase):
    result = checker.check(reply)
    assert result.directive_count >= 1
    assert phrase in result.explicit_advice


@pytest.mark.parametrize(
    "reply",
    [
        "It sounds like rest seems far away right now.",
        "Rest seems far away.",
        "Part of you wants to leave, and part of you wants to stay.",
        "You do not have to carry it alone.",
        "It sounds like you try very hard.",
        "Do you notice it more at night?",
    ],
)
def test_reflective_sentences_are_not_directives(reply):
    result = checker.check(reply)
    assert result.directive_count == 0, result.explicit_advice
    assert result.flags() == {}


def test_quoted_writer_words_are_ignored():
    source = "Everyone keeps saying you should just rest. I have to keep going."
    reply = "It sounds like “you should just rest” is something you hear a lot, and “I have to keep going” is louder."
    result = checker.check(reply, source=source)
    assert result.directive_count == 0
    assert result.explicit_advice == []
    # The quoted words are the writer's, so they are not Mirror's words either.
    assert result.total_words == len("It sounds like is something you hear a lot and is louder".split())


def test_straight_quotes_count_as_quotes_too():
    source = 'my boss said "you must be faster"'
    result = checker.check('You heard "you must be faster" today.', source=source)
    assert result.directive_count == 0


def test_quotes_the_writer_never_wrote_are_counted():
    result = checker.check("As they say, “you should rest”.", source="I was tired all day.")
    assert result.directive_count == 1
    assert result.explicit_advice == ["you should"]


def test_flag_structure_is_exactly_the_spec():
    reply = "You should rest. Try to sleep. It might help to walk. I suggest tea."
    result = checker.check(reply)
    flags = result.flags()
    assert set(flags) == {"directive_threshold_exceeded", "explicit_advice"}
    exceeded = flags["directive_threshold_exceeded"]
    assert set(exceeded) == {"ratio", "threshold", "directive_count", "total_words"}
    assert exceeded["directive_count"] == 4
    assert exceeded["total_words"] == 14
    assert exceeded["threshold"] == 0.15
    assert exceeded["ratio"] == round(4 / 14, 4)
    assert flags["explicit_advice"] == ["you should", "it might help", "i suggest", "try"]


def test_ratio_at_or_below_threshold_has_no_threshold_flag():
    # One directive in twenty words is advice (flagged) but below the ratio ceiling.
    reply = "You should rest. " + " ".join(["word"] * 18)
    flags = checker.check(reply).flags()
    assert "directive_threshold_exceeded" not in flags
    assert flags["explicit_advice"] == ["you should"]


def test_no_double_count_for_make_sure_at_sentence_start():
    assert checker.check("Make sure you sleep.").directive_count == 1


def test_every_occurrence_is_counted():
    assert checker.check("You should rest. You should eat. You should sleep.").directive_count == 3


def test_banned_phrases_and_punctuation_are_reported_as_violations():
    result = checker.check("I understand how you feel! You are 80% sad. What now? Why?")
    assert "i understand how you feel" in result.banned_phrases
    assert "%" in result.banned_phrases
    assert set(result.violations) == {"banned_phrase", "too_many_questions", "exclamation_mark"}


def test_custom_threshold():
    assert ConstitutionChecker(threshold=0.5).check("You should rest now please.").flags().get(
        "directive_threshold_exceeded"
    ) is None


def test_advice_sentences_lists_only_advising_sentences():
    reply = "It sounds heavy. You should rest. What is here for you?"
    assert checker.advice_sentences(reply) == ["You should rest."]
