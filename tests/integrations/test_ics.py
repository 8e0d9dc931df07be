"""ics_file and ics_url: the icalendar project's real samples, bounded recurrences, conditional GET, bad input."""

from __future__ import annotations

import hashlib
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from mirror_desktop.core import models as m
from mirror_desktop.core.integrations import IntegrationService
from mirror_desktop.integrations.base import FetchContext, QuietSyncState, SourceError
from mirror_desktop.integrations.ics import MAX_ICS_BYTES, items_from_ics
from mirror_desktop.integrations.sync import sync_integration

from .conftest import DATA, FeedServer

pytest.importorskip("icalendar")
WIDE = (datetime(1990, 1, 1, tzinfo=UTC), datetime(2040, 1, 1, tzinfo=UTC))


def _ctx() -> FetchContext:
    return FetchContext(cursor={}, known={}, state=QuietSyncState(), now=datetime.now(UTC))


def _journal_fingerprint(storage: Any) -> tuple[Any, ...]:
    rows = storage.db.execute_sql("SELECT id, content, metadata FROM reflections ORDER BY id").fetchall()
    items = storage.db.execute_sql("SELECT * FROM integration_items ORDER BY integration_id, external_id").fetchall()
    return (hashlib.sha256(repr(rows).encode()).hexdigest(), hashlib.sha256(repr(items).encode()).hexdigest())


@pytest.mark.parametrize("name, expected", [
    ("example.ics", 3), ("timezoned.ics", 1), ("america_new_york.ics", 1), ("alarm_thunderbird_future.ics", 1),
    ("issue_1050_all_components.ics", 1), ("issue_1050_calendar_with_events_and_todos.ics", 2),
    ("calendar_with_unicode.ics", 0),
])
def test_real_samples_parse(name: str, expected: int) -> None:
    items = items_from_ics((DATA / name).read_bytes(), name, WIDE, _ctx())
    assert len(items) == expected
    assert len({i.external_id for i in items}) == expected


def test_time_zones_are_kept() -> None:
    (vienna,) = items_from_ics((DATA / "timezoned.ics").read_bytes(), "timezoned.ics", WIDE, _ctx())
    # DTSTART;TZID=Europe/Vienna:20120213T100000 is 09:00 UTC in winter; the zone name is kept
    assert vienna.starts_at == datetime(2012, 2, 13, 9, 0, tzinfo=UTC)
    assert vienna.extra["tzid"] == "Europe/Vienna" and vienna.title == "artsprint 2012"
    (ny,) = items_from_ics((DATA / "america_new_york.ics").read_bytes(), "ny.ics", WIDE, _ctx())
    assert ny.starts_at.tzinfo is not None and ny.extra.get("tzid")
    holidays = items_from_ics((DATA / "example.ics").read_bytes(), "example.ics", WIDE, _ctx())
    assert all(h.all_day for h in holidays)


@pytest.mark.parametrize("name, words", [
    ("big_bad_calendar.ics", "is not a valid iCalendar file"),
    ("parsing_error.ics", "broken EXDATE"),
    ("rfc_5545_RDATE_example.ics", "without a start time"),
])
def test_broken_samples_give_one_sentence(name: str, words: str) -> None:
    with pytest.raises(SourceError) as err:
        items_from_ics((DATA / name).read_bytes(), name, WIDE, _ctx())
    message = str(err.value)
    assert words in message and name in message and message.count("\n") == 0


def _rule_calendar(rule: str, start: str = "20200106T090000Z") -> bytes:
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:r@test\r\n"
            f"DTSTART:{start}\r\nDURATION:PT1H\r\nRRULE:{rule}\r\nSUMMARY:repeat\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n").encode()


def test_endless_rrule_expands_inside_the_window_only() -> None:
    window = (datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC))
    items = items_from_ics(_rule_calendar("FREQ=WEEKLY"), "weekly.ics", window, _ctx())
    assert len(items) in (4, 5)
    assert all(window[0] <= i.starts_at < window[1] for i in items)
    assert len({i.external_id for i in items}) == len(items)  # one id per occurrence
    assert all(i.external_id.startswith("r@test/") for i in items)


@pytest.mark.parametrize("rule", ["FREQ=SECONDLY", "FREQ=MINUTELY;BYMONTH=2", "FREQ=HOURLY;INTERVAL=1",
                                  "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30"])
def test_hostile_rrule_is_refused_not_expanded(rule: str) -> None:
    window = (datetime(2020, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC))
    with pytest.raises(SourceError) as err:
        items_from_ics(_rule_calendar(rule), "hostile.ics", window, _ctx())
    assert "hostile.ics" in str(err.value)


def test_non_utf8_calendar_is_refused() -> None:
    data = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:l\r\nDTSTART:20200101T000000Z\r\nSUMMARY:caf\xe9\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    with pytest.raises(SourceError, match="not UTF-8"):
        items_from_ics(data.encode("latin-1"), "latin.ics", WIDE, _ctx())


# -- ics_file through the sync ---------------------------------------------------------------------

def _add_file(storage: Any, path: Path, days: int = 20_000) -> str:
    return IntegrationService(storage).add("calendar", "ics_file", path=str(path), look_back_days=days).id


def test_ics_file_sync_resync_and_no_duplicates(sqlite_storage: Any, tmp_path: Path) -> None:
    cal = tmp_path / "holidays.ics"
    shutil.copy(DATA / "example.ics", cal)
    iid = _add_file(sqlite_storage, cal)
    assert sync_integration(sqlite_storage, iid).added == 3
    assert sync_integration(sqlite_storage, iid).outcome == "not_modified"
    cal.write_bytes(cal.read_bytes() + b"\r\n")  # touched: new mtime and size, same events
    report = sync_integration(sqlite_storage, iid)
    assert report.outcome == "ok" and report.added == 0 and report.unchanged == 3
    assert sqlite_storage.integration_items.count(integration_id=iid) == 3


def test_broken_file_keeps_last_good_items_and_journal(sqlite_storage: Any, tmp_path: Path) -> None:
    cal = tmp_path / "cal.ics"
    shutil.copy(DATA / "example.ics", cal)
    iid = _add_file(sqlite_storage, cal)
    sqlite_storage.reflections.create(m.Reflection(content="my day"))
    assert sync_integration(sqlite_storage, iid).outcome == "ok"
    good = sqlite_storage.integrations.get(iid)
    before = _journal_fingerprint(sqlite_storage)
    for broken in ("parsing_error.ics", "big_bad_calendar.ics"):
        shutil.copy(DATA / broken, cal)
        report = sync_integration(sqlite_storage, iid)
        integ = sqlite_storage.integrations.get(iid)
        assert report.outcome == "error" and str(integ.status) == "error"
        assert broken in integ.metadata["last_error"] or "cal.ics" in integ.metadata["last_error"]
        assert integ.last_sync == good.last_sync
        assert _journal_fingerprint(sqlite_storage) == before
    shutil.copy(DATA / "example.ics", cal)
    assert sync_integration(sqlite_storage, iid).outcome == "not_modified"  # the same bytes as the last good sync
    integ = sqlite_storage.integrations.get(iid)
    assert str(integ.status) == "active" and "last_error" not in integ.metadata


def test_200_mb_calendar_is_refused_before_reading(sqlite_storage: Any, tmp_path: Path) -> None:
    big = tmp_path / "huge.ics"
    with open(big, "wb") as fh:
        fh.truncate(200 * 1024 * 1024)  # sparse: no 200 MB written, the size alone is refused
    iid = _add_file(sqlite_storage, big)
    report = sync_integration(sqlite_storage, iid)
    assert report.outcome == "error" and "200 MB" in report.message and "50 MB" in report.message
    assert MAX_ICS_BYTES < 200 * 1024 * 1024


def test_missing_file_is_an_error_sentence(sqlite_storage: Any, tmp_path: Path) -> None:
    cal = tmp_path / "gone.ics"
    shutil.copy(DATA / "example.ics", cal)
    iid = _add_file(sqlite_storage, cal)
    cal.unlink()
    report = sync_integration(sqlite_storage, iid)
    assert report.outcome == "error" and "is not there any more" in report.message


def test_auto_reflect_turns_new_events_into_drafts(sqlite_storage: Any, tmp_path: Path) -> None:
    cal = tmp_path / "c.ics"
    shutil.copy(DATA / "example.ics", cal)
    iid = IntegrationService(sqlite_storage).add("calendar", "ics_file", path=str(cal), look_back_days=20_000,
                                                 auto_reflect=True).id
    assert sync_integration(sqlite_storage, iid).drafts == 3
    drafts = sqlite_storage.drafts.list()
    assert len(drafts) == 3 and any("New Year's Day" in d.content for d in drafts)
    assert all(d.metadata["integration_id"] == iid for d in drafts)
    cal.write_bytes(cal.read_bytes() + b"\r\n")
    assert sync_integration(sqlite_storage, iid).drafts == 0  # only new items
    assert sqlite_storage.reflections.count() == 0


# -- ics_url against a stand-in server ------------------------------------------------------------

def _add_url(storage: Any, url: str, **kw: Any) -> str:
    return IntegrationService(storage).add("calendar", "ics_url", url=url, look_back_days=20_000, **kw).id


def test_ics_url_conditional_get(sqlite_storage: Any, feed_server: FeedServer) -> None:
    feed_server.feed.body = (DATA / "example.ics").read_bytes()
    iid = _add_url(sqlite_storage, feed_server.url)
    assert sync_integration(sqlite_storage, iid).added == 3
    report = sync_integration(sqlite_storage, iid)
    assert report.outcome == "not_modified"
    assert feed_server.feed.requests[-1].get("if-none-match") == '"v1"'
    feed_server.feed.body = (DATA / "timezoned.ics").read_bytes()
    feed_server.feed.etag = '"v2"'
    report = sync_integration(sqlite_storage, iid)
    assert report.added == 1 and report.removed == 3
    assert [i.title for i in sqlite_storage.integration_items.for_integration(iid)] == ["artsprint 2012"]


def test_ics_url_500_hang_and_401(sqlite_storage: Any, feed_server: FeedServer, tmp_path: Path) -> None:
    feed_server.feed.body = (DATA / "example.ics").read_bytes()
    iid = _add_url(sqlite_storage, feed_server.url)
    assert sync_integration(sqlite_storage, iid).outcome == "ok"
    feed_server.feed.status = 500
    report = sync_integration(sqlite_storage, iid)
    assert report.outcome == "error" and "HTTP 500" in report.message
    feed_server.feed.status = 200
    feed_server.feed.hang_s = 4
    report = sync_integration(sqlite_storage, iid, timeout=1)
    assert report.outcome == "error" and "did not answer within 1 s" in report.message
    assert sqlite_storage.integration_items.count(integration_id=iid) == 3  # the last good sync's items
    feed_server.feed.hang_s = 0
    feed_server.feed.username, feed_server.feed.password = "bob", "secret"
    report = sync_integration(sqlite_storage, iid)
    assert report.outcome == "disconnected" and "refused the credentials" in report.message
    assert str(sqlite_storage.integrations.get(iid).status) == "disconnected"


def test_ics_url_with_credentials_and_oversized_body(sqlite_storage: Any, feed_server: FeedServer, tmp_path: Path) -> None:
    feed_server.feed.body = (DATA / "example.ics").read_bytes()
    feed_server.feed.username, feed_server.feed.password = "bob", "s3cret"
    pw = tmp_path / "pw"
    pw.write_text("s3cret\n")
    iid = _add_url(sqlite_storage, feed_server.url, username="bob", password_file=str(pw))
    assert sync_integration(sqlite_storage, iid).outcome == "ok"
    feed_server.feed.etag = '"big"'
    feed_server.feed.content_length = 200 * 1024 * 1024  # a server that announces 200 MB
    report = sync_integration(sqlite_storage, iid)
    assert report.outcome == "error" and "more than the 50 MB" in report.message


def test_unreachable_url(sqlite_storage: Any) -> None:
    from .conftest import free_port

    iid = _add_url(sqlite_storage, f"http://127.0.0.1:{free_port()}/cal.ics")
    report = sync_integration(sqlite_storage, iid, timeout=3)
    assert report.outcome == "error" and "cannot be reached" in report.message


def test_window_moves_with_the_day(sqlite_storage: Any, feed_server: FeedServer) -> None:
    weekly = _rule_calendar("FREQ=DAILY", start="20200101T090000Z")
    feed_server.feed.body = weekly
    iid = IntegrationService(sqlite_storage).add("calendar", "ics_url", url=feed_server.url, look_back_days=2).id
    now = datetime(2026, 6, 10, 12, tzinfo=UTC)
    assert sync_integration(sqlite_storage, iid, now=now).outcome == "ok"
    n = sqlite_storage.integration_items.count(integration_id=iid)
    later = now + timedelta(days=1)
    report = sync_integration(sqlite_storage, iid, now=later)
    assert report.outcome == "ok" and report.added == 1  # a new day: re-read, the next occurrence arrives
    assert "if-none-match" not in feed_server.feed.requests[-1]
    assert sqlite_storage.integration_items.count(integration_id=iid) == n + 1  # the oldest stays as history
