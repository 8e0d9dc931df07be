"""CalDAV against a real Radicale server: first sync, unchanged re-sync (sync token), edits, deletions, bad credentials."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from mirror_desktop.core.integrations import IntegrationService
from mirror_desktop.integrations.sync import sync_integration

from .conftest import Radicale

pytest.importorskip("caldav")


def _event(uid: str, summary: str, start: datetime, rrule: str | None = None) -> str:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Mirror tests//EN", "BEGIN:VEVENT", f"UID:{uid}",
             f"DTSTAMP:{datetime.now(UTC):%Y%m%dT%H%M%SZ}", f"DTSTART:{start:%Y%m%dT%H%M%SZ}",
             f"DTEND:{start + timedelta(hours=1):%Y%m%dT%H%M%SZ}", f"SUMMARY:{summary}"]
    if rrule:
        lines.append(f"RRULE:{rrule}")
    lines += ["END:VEVENT", "END:VCALENDAR", ""]
    return "\r\n".join(lines)


def _calendar(server: Radicale, name: str = "Work") -> Any:
    client = server.client()
    principal = client.principal()
    return principal.make_calendar(name=name)


def _add(storage: Any, server: Radicale, password_file: Path | None = None, **kw: Any) -> str:
    return IntegrationService(storage).add("calendar", "caldav", url=server.url, username=server.username,
                                           password_file=str(password_file or server.password_file),
                                           look_back_days=30, **kw).id


def test_caldav_first_sync_then_unchanged_then_edit_and_delete(sqlite_storage: Any, radicale: Radicale) -> None:
    cal = _calendar(radicale)
    now = datetime.now(UTC).replace(microsecond=0, second=0, minute=0)
    cal.save_event(_event("standup", "Standup", now - timedelta(days=20), "FREQ=WEEKLY"))
    cal.save_event(_event("dentist", "Dentist", now - timedelta(days=2)))
    iid = _add(sqlite_storage, radicale)

    first = sync_integration(sqlite_storage, iid)
    assert first.outcome == "ok", first.message
    items = sqlite_storage.integration_items.for_integration(iid)
    titles = [i.title for i in items]
    # a weekly series from 20 days ago: occurrences inside the window (30 days back, 14 ahead) only
    assert titles.count("Standup") in (5, 6, 7) and titles.count("Dentist") == 1
    assert all(i.kind == "event" and i.reflection_id is None for i in items)
    assert sqlite_storage.reflections.count() == 0  # events are context, not reflections
    integ = sqlite_storage.integrations.get(iid)
    assert str(integ.status) == "active" and integ.last_sync is not None

    again = sync_integration(sqlite_storage, iid)
    assert again.outcome == "not_modified"  # the sync token says nothing changed
    assert len(sqlite_storage.integration_items.for_integration(iid)) == len(items)

    dentist = next(e for e in cal.search(event=True) if "dentist" in e.data)
    dentist.delete()
    cal.save_event(_event("lunch", "Lunch with Ana", now - timedelta(days=1)))
    third = sync_integration(sqlite_storage, iid)
    assert third.outcome == "ok" and third.added == 1 and third.removed == 1
    titles = [i.title for i in sqlite_storage.integration_items.for_integration(iid)]
    assert "Dentist" not in titles and "Lunch with Ana" in titles
    assert len(titles) == len(set(i.external_id for i in sqlite_storage.integration_items.for_integration(iid)))


def test_caldav_password_lives_in_keychain_not_database(sqlite_storage: Any, radicale: Radicale,
                                                        memory_keyring: Any) -> None:
    _calendar(radicale)
    iid = _add(sqlite_storage, radicale)
    assert sync_integration(sqlite_storage, iid).outcome == "ok"
    integ = sqlite_storage.integrations.get(iid)
    assert integ.config.get("credentials") == "keychain" and "password_file" not in integ.config
    assert ("mirror-desktop", f"integration:{iid}") in memory_keyring.store
    sqlite_storage.db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    db = Path(sqlite_storage.location)
    for f in [db, *db.parent.glob(db.name + "-*")]:
        assert radicale.password.encode() not in f.read_bytes()


def test_caldav_wrong_password_disconnects_and_keeps_items(sqlite_storage: Any, radicale: Radicale,
                                                          tmp_path: Path) -> None:
    cal = _calendar(radicale)
    cal.save_event(_event("x", "Planning", datetime.now(UTC) - timedelta(days=1)))
    pw = tmp_path / "pw"
    pw.write_text(radicale.password + "\n")
    iid = _add(sqlite_storage, radicale, password_file=pw)
    assert sync_integration(sqlite_storage, iid).outcome == "ok"
    before = sqlite_storage.integrations.get(iid)

    # The keychain entry is replaced by a wrong password: the server refuses it.
    IntegrationService(sqlite_storage).resume(iid, password_file=str(_write(tmp_path / "bad", "nope")))
    report = sync_integration(sqlite_storage, iid)
    after = sqlite_storage.integrations.get(iid)
    assert report.outcome == "disconnected"
    assert str(after.status) == "disconnected"
    assert "refused the user name or password" in after.metadata["last_error"]
    assert after.last_sync == before.last_sync  # last_sync only moves on success
    assert [i.title for i in sqlite_storage.integration_items.for_integration(iid)] == ["Planning"]
    # disconnected is skipped until the credentials are entered again
    assert sync_integration(sqlite_storage, iid).outcome == "skipped"
    IntegrationService(sqlite_storage).resume(iid, password_file=str(pw))
    assert sync_integration(sqlite_storage, iid).outcome in ("ok", "not_modified")
    assert str(sqlite_storage.integrations.get(iid).status) == "active"


def test_caldav_headless_keeps_password_file_path(sqlite_storage: Any, radicale: Radicale, tmp_path: Path) -> None:
    import keyring
    from keyring.backends import fail

    keyring.set_keyring(fail.Keyring())  # no usable keychain (the autouse fixture restores it)
    _calendar(radicale)
    pw = tmp_path / "caldav.pw"
    pw.write_text(radicale.password + "\n")
    iid = _add(sqlite_storage, radicale, password_file=pw)
    integ = sqlite_storage.integrations.get(iid)
    assert integ.config["password_file"] == str(pw.resolve())
    assert radicale.password not in repr(integ.config) + repr(integ.metadata)
    assert sync_integration(sqlite_storage, iid).outcome == "ok"
    pw.write_text("changed-and-wrong\n")  # read at every sync
    assert sync_integration(sqlite_storage, iid).outcome == "disconnected"


def test_caldav_unreachable_server_is_an_error(sqlite_storage: Any, radicale: Radicale, tmp_path: Path) -> None:
    from .conftest import free_port

    svc = IntegrationService(sqlite_storage)
    iid = svc.add("calendar", "caldav", url=f"http://127.0.0.1:{free_port()}/", username="alice",
                  password_file=str(radicale.password_file)).id
    report = sync_integration(sqlite_storage, iid, timeout=5)
    assert report.outcome == "error"
    assert "cannot be reached" in report.message or "could not be read" in report.message
    assert str(sqlite_storage.integrations.get(iid).status) == "error"


def _write(path: Path, text: str) -> Path:
    path.write_text(text + "\n")
    return path


@pytest.mark.parametrize("status, hang, outcome, words", [
    (500, 0.0, "error", "HTTP 500"),
    (200, 6.0, "error", "did not answer"),
    (401, 0.0, "disconnected", "refused the user name or password"),
])
def test_caldav_server_that_fails_hangs_or_refuses(sqlite_storage: Any, feed_server: Any, tmp_path: Path,
                                                   status: int, hang: float, outcome: str, words: str) -> None:
    pw = _write(tmp_path / "pw", "whatever")
    iid = IntegrationService(sqlite_storage).add("calendar", "caldav", url=feed_server.url.rsplit("/", 1)[0] + "/",
                                                 username="ana", password_file=str(pw)).id
    if status == 401:
        feed_server.feed.username, feed_server.feed.password = "ana", "other"
    else:
        feed_server.feed.status = status
    feed_server.feed.hang_s = hang
    report = sync_integration(sqlite_storage, iid, timeout=2)
    assert report.outcome == outcome and words in report.message, report.message
    assert str(sqlite_storage.integrations.get(iid).status) == outcome
    assert sqlite_storage.integrations.get(iid).last_sync is None
