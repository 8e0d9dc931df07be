"""Issue 16's pure rules: tags, reminder times, reflection dates, and the time zone periods the day
summaries count in (no journal needed)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from mirror_desktop.core.errors import ValidationError
from mirror_desktop.core.templates import check_body
from mirror_desktop.core.writing import (
    check_reflection_date,
    normalize_tag,
    normalize_tags,
    parse_clock,
    system_zone_name,
    zone,
    zone_periods,
)


@pytest.mark.parametrize("text, tag", [("sleep", "sleep"), ("#sleep", "sleep"), (" late-night ", "late-night"),
                                       ("🌙", "🌙"), ("café", "café"), ("a_b/c", "a_b/c")])
def test_tags_that_are_one_word_are_kept(text: str, tag: str) -> None:
    assert normalize_tag(text) == tag


@pytest.mark.parametrize("text", ["two words", "tab\there", "a#b", 'q"x', "a,b", "", "#", "x" * 65, "bell\x07"])
def test_tags_search_could_not_find_are_refused_in_one_sentence(text: str) -> None:
    with pytest.raises(ValidationError) as err:
        normalize_tag(text)
    assert str(err.value).count(".") >= 1 and "\n" not in str(err.value)


def test_tag_lists_drop_duplicates_without_case_and_keep_old_tags() -> None:
    assert normalize_tags(["Work", "work", "#sleep", ""]) == ["sleep", "Work"]
    assert normalize_tags(["oddly peaceful", "new"], keep=["Oddly Peaceful"]) == ["new", "Oddly Peaceful"]


@pytest.mark.parametrize("text, value", [("21:30", time(21, 30)), ("7:05", time(7, 5)), (" 00:00 ", time(0, 0)),
                                         ("23:59", time(23, 59))])
def test_reminder_times(text: str, value: time) -> None:
    assert parse_clock(text) == value


@pytest.mark.parametrize("text", ["25:61", "24:00", "12:60", "9", "nine", "-1:00", "12:5"])
def test_impossible_reminder_times_are_refused(text: str) -> None:
    with pytest.raises(ValidationError, match="not a time of day"):
        parse_clock(text)


def test_reflection_dates_from_1900_to_a_few_minutes_from_now() -> None:
    now = datetime(2024, 6, 9, 12, tzinfo=UTC)
    assert check_reflection_date(datetime(1900, 1, 1, tzinfo=UTC), now=now).year == 1900
    assert check_reflection_date(now + timedelta(minutes=5), now=now) == now + timedelta(minutes=5)
    stamp = check_reflection_date(datetime(2024, 1, 1, 12, 0, 0, 123456, tzinfo=UTC), now=now)
    assert stamp.microsecond == 123000  # the millisecond the journal stores
    for bad in (now + timedelta(minutes=6), datetime(1899, 12, 31, 23, tzinfo=UTC), datetime(2024, 1, 1)):
        with pytest.raises(ValidationError):
            check_reflection_date(bad, now=now)


def test_zone_periods_find_each_daylight_saving_change_to_the_minute() -> None:
    periods = zone_periods(zone("Europe/Berlin"), day_start_hour=4)
    starts = {p[0]: (p[1], p[2]) for p in periods if p[0] is not None}
    assert starts[datetime(2024, 3, 31, 1, 0, tzinfo=UTC)] == (120, -120)
    assert starts[datetime(2024, 10, 27, 1, 0, tzinfo=UTC)] == (60, -180)
    assert zone_periods(zone("UTC"), 0) == [(None, 0, 0)]
    kolkata = zone_periods(zone("Asia/Kolkata"), 0)
    assert kolkata[-1][1:] == (330, 330)


def test_the_system_zone_comes_from_tz(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "America/Sao_Paulo")
    assert system_zone_name() == "America/Sao_Paulo"
    with pytest.raises(ValidationError, match="not a time zone"):
        zone("Mars/Olympus_Mons")


def test_template_bodies_empty_or_over_64_kb_are_refused() -> None:
    assert check_body("What stayed with me?") == "What stayed with me?"
    for bad in ("", " \n\t", "x" * (64 * 1024 + 1), "é" * (32 * 1024 + 1), "a\x00b"):
        with pytest.raises(ValidationError):
            check_body(bad)
