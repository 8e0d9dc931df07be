"""The offline rules engine: deterministic, varied, quoting, non-directive replies and honest telemetry."""

import json
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import assert_reply_keeps_the_constitution, corpus

from mirror_desktop.engine import EngineConfig, Generation, MirrorCore, SuggestedTension, TensionRef

core = MirrorCore()
TENSIONS = [
    TensionRef("t-control", "Control vs Surrender", "Control", "Surrender"),
    TensionRef("t-work", "Work vs Family", "Work", "Family"),
]


def test_default_engine_is_the_offline_rules_engine():
    g = core.generate("I have to finish the report tonight.")
    assert isinstance(g, Generation)
    assert g.engine_mode == "manual"
    assert g.model_name is None
    assert g.engine_version == "1.0.0"
    assert g.duration_ms > 0
    assert isinstance(g.directive_score, float)
    assert core.health_check().ok


def test_same_input_and_config_give_the_same_reply():
    text = "Part of me wants to quit, but part of me loves the work. I always end up staying late."
    first = core.generate(text, TENSIONS)
    again = MirrorCore(EngineConfig()).generate(text, TENSIONS)
    assert first.text == again.text
    assert first.patterns == again.patterns
    assert first.flags == again.flags


def test_variant_changes_phrasing_deterministically(entries):
    changed = 0
    for text in entries[:30]:
        v1, v1_again = core.generate(text, variant=1), core.generate(text, variant=1)
        assert v1.text == v1_again.text
        changed += v1.text != core.generate(text, variant=0).text
    assert changed >= 20


def test_different_entries_get_different_openings():
    openings = {" ".join(core.generate(text).text.split()[:3]) for text in corpus(20, seed=11)}
    assert len(openings) >= 5, openings


def test_quotes_are_the_writers_own_words(entries):
    quoted_at_all = 0
    for text in entries:
        reply = core.generate(text).text
        quotes = re.findall(r"“([^”]*)”", reply)
        quoted_at_all += bool(quotes)
        assert all(q in text for q in quotes)
    assert quoted_at_all == len(entries)


def test_two_hundred_replies_keep_the_constitution(entries):
    for i, text in enumerate(entries):
        g = core.generate(text, TENSIONS, variant=i % 3)
        assert_reply_keeps_the_constitution(g.text, text)
        assert "explicit_advice" not in g.flags
        assert "directive_threshold_exceeded" not in g.flags
        assert g.directive_score == 0.0


def test_replies_are_tentative_and_short(entries):
    tentative = ("it sounds", "it seems", "seem", "part of you", "may", "might")
    for text in entries[:50]:
        reply = core.generate(text).text
        assert any(t in reply.lower() for t in tentative), reply
        assert len(re.findall(r"[.?]( |$)", reply)) <= 4, reply


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=400), st.integers(min_value=0, max_value=5))
def test_random_text_never_breaks_the_rules(text, variant):
    g = core.generate(text, TENSIONS, variant=variant)
    assert g.duration_ms > 0
    if g.flags.get("crisis_language"):
        return
    assert_reply_keeps_the_constitution(g.text, text)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from([
    "I have to", "always", "never", "part of me", "but", "I want", "freedom", "security", "work",
    "rest", "my fault", "they think I'm", "a failure", "disaster", "!", "?", "%", "“", "\"", ",",
    "\n", "you should", "try", "when I was a kid", "everyone", "not always",
]), max_size=30).map(" ".join))
def test_pattern_heavy_random_text_never_breaks_the_rules(text):
    g = core.generate(text, TENSIONS)
    assert_reply_keeps_the_constitution(g.text, text)


def test_double_sided_reflection_for_ambivalence():
    g = core.generate("Part of me wants to stay, but part of me wants to go.")
    assert "internal_tension" in g.patterns
    # Issue 13: no 4-word sequence twice, so the second side is "another part", not "part of you" again.
    assert g.text.lower().count("part of you") == 1 and "another part" in g.text
    assert "“wants to stay”" in g.text and "“wants to go”" in g.text


def test_user_tensions_surface_by_stem():
    g = core.generate("I keep controlling every little thing at home.", TENSIONS)
    assert g.tensions_surfaced == ["t-control"]
    assert "control" in g.text.lower()


def test_new_tension_is_suggested_when_two_poles_appear():
    g = core.generate("I crave freedom, yet I feel safe only when things are secure.", TENSIONS)
    assert g.suggested_tensions == [SuggestedTension("Freedom vs Security", "Freedom", "Security")]
    assert g.suggested_tensions[0].origin == "llm_suggested"


def test_no_suggestion_when_an_existing_tension_covers_the_poles():
    tensions = [TensionRef("t-fs", "Independence vs Safety", "Independence", "Safety")]
    g = core.generate("I crave freedom, yet I feel safe only when things are secure.", tensions)
    assert g.suggested_tensions == []
    assert g.tensions_surfaced == ["t-fs"]


def test_empty_and_punctuation_only_text():
    for text in ("", "   ", "!!!", "?!?"):
        g = core.generate(text)
        assert g.text and g.text.count("?") <= 1 and "!" not in g.text
        assert g.patterns == []


def test_no_reflection_text_leaks_into_telemetry():
    marker = "Zorblewick"
    text = (
        f"I have to tell {marker} the truth. Part of me wants to leave {marker}, but I also want to stay. "
        f"I always feel controlled by {marker}. I want freedom and security. I want to disappear."
    )
    for tensions in ([], TENSIONS):
        for variant in range(3):
            g = core.generate(text, tensions, variant=variant)
            telemetry = json.dumps(
                {
                    "patterns": g.patterns,
                    "tensions": g.tensions_surfaced,
                    "suggested": [s.__dict__ for s in g.suggested_tensions],
                    "flags": g.flags,
                    "model": g.model_name,
                    "mode": g.engine_mode,
                    "version": g.engine_version,
                    "metadata": g.metadata(),
                }
            )
            assert marker.lower() not in telemetry.lower()


def test_long_entry_is_handled():
    text = " ".join(corpus(60, seed=3))
    g = core.generate(text, TENSIONS)
    assert_reply_keeps_the_constitution(g.text, text)
    assert len(g.text) < 600
