"""Snippets cut from a highlighted text (core.search_query.cut_snippet, issue 12 item 4): the window a search
hit shows, chosen and cut in Python from FTS5's highlight() of the entry (no journal needed)."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from mirror_desktop.core.search_query import HL_END, HL_START, SNIPPET_LENGTH, cut_snippet

ELL = "…"
FILLER = ("I walked home slowly after work and thought about the week. Nothing much happened, which was fine. "
          "The bus was late again; I read on my phone. ")


def mark(word: str) -> str:
    return f"{HL_START}{word}{HL_END}"


def plain(snippet: str) -> str:
    return snippet.strip(ELL).replace(HL_START, "").replace(HL_END, "")


def test_a_short_text_is_shown_whole_with_its_marks() -> None:
    text = f"A slow walk in the {mark('garden')} after rain."
    assert cut_snippet(text) == text


def test_a_match_deep_in_a_long_text_is_shown_from_the_start_of_its_sentence() -> None:
    text = FILLER * 3 + f"Then my sister called about the {mark('typewriter')} she found. " + FILLER * 3
    got = cut_snippet(text)
    assert got.startswith(ELL + "Then my sister called about the " + mark("typewriter"))
    assert got.endswith(ELL) and len(plain(got)) <= SNIPPET_LENGTH
    source, shown = plain(text), plain(got)
    assert source[source.index(shown) + len(shown)] == " "  # cut between words


def test_a_match_in_the_first_sentence_starts_at_the_text_and_one_near_the_end_reaches_back() -> None:
    opening = cut_snippet(f"Today the {mark('river')} was high. " + FILLER * 4)
    assert opening.startswith("Today the " + mark("river")) and opening.endswith(ELL)
    # no sentence begins within reach of the match: it is centred, and at the end the window reaches back
    words = " ".join(f"w{i}" for i in range(200))
    closing = cut_snippet(f"{words} {mark('heron')} w200 w201")
    assert closing.startswith(ELL) and closing.endswith(mark("heron") + " w200 w201")
    assert SNIPPET_LENGTH - 8 <= len(plain(closing)) <= SNIPPET_LENGTH
    middle = cut_snippet(f"{words} {mark('heron')} {words}")
    before, after = plain(middle).split("heron")
    assert abs(len(before) - len(after)) <= 8  # the match in the middle


def test_the_window_holding_the_most_different_words_wins_over_an_earlier_lone_one() -> None:
    text = (f"The {mark('river')} was loud. " + FILLER * 3 + f"By the {mark('river')} I felt {mark('calm')}. "
            + FILLER * 2)
    got = cut_snippet(text)
    assert mark("river") in got and mark("calm") in got and got.startswith(ELL + "By the ")


def test_more_matches_of_one_word_win_and_the_first_of_equals_is_kept() -> None:
    once, twice = f"one {mark('tea')} here. ", f"two {mark('tea')} and {mark('tea')} again. "
    text = once + FILLER * 3 + twice + FILLER * 3 + twice + FILLER
    got = cut_snippet(text)
    assert got.count(mark("tea")) == 2
    assert text.index(plain(got)[:20].replace("tea", mark("tea"))) < len(once + FILLER * 3 + twice)


def test_a_phrase_cut_at_the_edge_keeps_its_marks_paired() -> None:
    words = " ".join(f"w{i}" for i in range(25))  # the phrase begins inside the window and ends past it
    text = f"{mark('start')} {words} {HL_START}my mother and my father and the whole family{HL_END} " + FILLER
    got = cut_snippet(text)
    assert got.count(HL_START) == got.count(HL_END) == 2
    assert got.index(HL_START, 1) < got.rindex(HL_END)


def test_text_without_spaces_is_cut_at_the_length() -> None:
    text = "今日は" * 100 + mark("川") + "を見た" * 100
    got = cut_snippet(text)
    assert mark("川") in got and got.startswith(ELL) and got.endswith(ELL)
    assert len(plain(got)) <= SNIPPET_LENGTH + 1


def test_a_text_without_marks_gives_its_opening() -> None:
    got = cut_snippet(FILLER * 3)
    assert got.startswith("I walked home") and got.endswith(ELL) and len(plain(got)) <= SNIPPET_LENGTH
    assert cut_snippet("  \n ") == ""


WORD = st.from_regex(r"[A-Za-zéü]{1,9}", fullmatch=True)
GAP = st.sampled_from([" ", " ", " ", ", ", ". ", "! ", "\n", "\n\n", ": ", " - "])


@st.composite
def marked_texts(draw: st.DrawFn) -> str:
    words = draw(st.lists(WORD, min_size=1, max_size=120))
    marked = draw(st.sets(st.integers(0, len(words) - 1), max_size=6))
    out = []
    for i, w in enumerate(words):
        w = f"{w}{i:03d}"  # every word unique, so the oracle finds where a snippet was cut from
        out.append(mark(w) if i in marked else w)
        out.append(draw(GAP))
    return "".join(out)


@settings(max_examples=300, deadline=None)
@given(marked_texts())
def test_any_snippet_is_a_whole_worded_part_of_its_text_around_a_match(text: str) -> None:
    got = cut_snippet(text)
    body = got.removeprefix(ELL).removesuffix(ELL)
    assert re.fullmatch(f"([^{HL_START}{HL_END}]*{HL_START}[^{HL_START}{HL_END}]+{HL_END})*[^{HL_START}{HL_END}]*",
                        body), got  # marks paired, in order
    source = text.replace(HL_START, "").replace(HL_END, "")
    shown = plain(body)
    at = source.find(shown)
    assert shown and at >= 0, got
    if HL_START in text:
        assert HL_START in body  # a match is shown
    assert len(shown) <= SNIPPET_LENGTH
    # cut between words, and an ellipsis exactly where words are left out
    assert at == 0 or not source[at - 1].isalnum()
    assert at + len(shown) == len(source) or not source[at + len(shown)].isalnum()
    assert got.startswith(ELL) == bool(source[:at].strip())
    assert got.endswith(ELL) == bool(source[at + len(shown):].strip())


def test_a_phrase_longer_than_a_snippet_is_shown_whole() -> None:
    phrase = " ".join(["and then I walked"] * 12)
    text = FILLER * 3 + f"{HL_START}{phrase}{HL_END} home. " + FILLER * 3
    got = cut_snippet(text)
    assert mark(phrase) in got and got.startswith(ELL) and got.endswith(ELL)


def test_a_match_in_a_list_item_begins_at_the_item_without_its_mark() -> None:
    text = FILLER * 3 + f"What helped today:\n- The walk by the {mark('river')}\n- Soup\n" + FILLER * 2
    assert cut_snippet(text).startswith(f"…The walk by the {mark('river')}\n- Soup")


def test_marks_typed_in_the_text_itself_do_not_move_the_window() -> None:
    """Private-use characters (icon fonts put glyphs there) may be in what someone wrote: a lone mark is not a
    match."""
    text = f"Stray {HL_END} here and {HL_START} there. " + FILLER * 3 + f"Then the {mark('heron')} flew off. " + FILLER
    got = cut_snippet(text)
    assert got.startswith(f"…Then the {mark('heron')} flew off.")
