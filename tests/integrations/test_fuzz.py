"""Fuzzing the source parsers (RELIABILITY.md, "Bad input everywhere else"): any input ends in items or one
SourceError sentence, never another exception."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mirror_desktop.integrations.base import FetchContext, QuietSyncState, SourceError
from mirror_desktop.integrations.ics import items_from_ics
from mirror_desktop.integrations.obsidian import note_tags, split_note

from .conftest import DATA

pytest.importorskip("icalendar")
WINDOW = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2030, 1, 1, tzinfo=UTC))
SEED = (DATA / "timezoned.ics").read_bytes()
LINES = [b"BEGIN:VCALENDAR", b"END:VCALENDAR", b"BEGIN:VEVENT", b"END:VEVENT", b"DTSTART:20200101T000000Z",
         b"DTSTART;VALUE=DATE:20200101", b"DTEND:19990101T000000Z", b"RRULE:FREQ=DAILY;COUNT=3", b"RRULE:FREQ=YEARLY",
         b"RRULE:FREQ=MONTHLY;BYMONTHDAY=31", b"EXDATE:", b"RDATE;VALUE=PERIOD:20200101T000000Z/PT1H", b"UID:x",
         b"SUMMARY:\xc3\xa9t\xc3\xa9", b"DURATION:P1D", b"DTSTART;TZID=Nowhere/Land:20200101T090000", b"RRULE:FREQ=",
         b"BEGIN:VTIMEZONE", b"TZID:Nowhere/Land", b"END:VTIMEZONE", b" folded", b"\xff\xfe", b""]


def _ctx() -> FetchContext:
    return FetchContext(cursor={}, known={}, state=QuietSyncState(), now=datetime.now(UTC))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(LINES), max_size=30))
def test_ics_from_fragments(lines: list[bytes]) -> None:
    data = b"\r\n".join(lines)
    try:
        items = items_from_ics(data, "fuzz.ics", WINDOW, _ctx())
    except SourceError as exc:
        assert str(exc) and "\n" not in str(exc)
    else:
        assert all(i.starts_at is not None and i.ends_at >= i.starts_at for i in items)


@settings(max_examples=100, deadline=None)
@given(st.integers(0, len(SEED)), st.binary(max_size=20))
def test_ics_truncated_or_spliced(cut: int, junk: bytes) -> None:
    try:
        items_from_ics(SEED[:cut] + junk, "cut.ics", WINDOW, _ctx())
    except SourceError as exc:
        assert "cut.ics" in str(exc)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_front_matter_any_text(text: str) -> None:
    try:
        meta, body = split_note("---\n" + text + "\n---\nbody #tag", "n.md")
    except SourceError as exc:
        assert "n.md" in str(exc)
    else:
        assert isinstance(meta, dict)
        assert all(isinstance(t, str) and t for t in note_tags(meta, body))
