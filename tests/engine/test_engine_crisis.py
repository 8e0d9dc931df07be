"""Crisis language takes its own calm path with help resources, even when negated."""

import pytest

from mirror_desktop.engine import EngineConfig, MirrorCore
from mirror_desktop.engine._data import default_rules

core = MirrorCore()


@pytest.mark.parametrize(
    "text",
    [
        "Some nights I think about suicide.",
        "Everyone would be better off without me.",
        "I just want to disappear.",
        "I want to end it all.",
        "I've been thinking about hurting myself again.",
        "I don't want to live like this.",
        "I keep thinking about self harm.",
        "I’m not going to kill myself, but the thought keeps coming.",
    ],
)
def test_crisis_language_gets_the_crisis_path(text):
    g = core.generate(text)
    assert g.flags["crisis_language"] is True
    assert "help exists" in g.text.lower()
    for resource in default_rules().crisis_resources:
        assert resource in g.text
    assert "?" not in g.text and "!" not in g.text
    assert "explicit_advice" not in g.flags


def test_default_resources_are_the_ones_asked_for():
    resources = " ".join(default_rules().crisis_resources)
    for needle in ("emergency services", "988", "Samaritans", "116 123", "findahelpline.com"):
        assert needle in resources


def test_crisis_resources_are_configurable():
    custom = ("Lifeline Australia: 13 11 14.",)
    g = MirrorCore(EngineConfig(crisis_resources=custom)).generate("I want to die.")
    assert "13 11 14" in g.text
    assert "988" not in g.text


def test_ordinary_sadness_is_not_crisis():
    g = core.generate("I felt sad and tired today, and the rain did not help.")
    assert "crisis_language" not in g.flags


def test_crisis_reply_is_deterministic():
    assert core.generate("I want to disappear.").text == core.generate("I want to disappear.").text
