"""The poll logic: schedule, backoff, status transitions, isolation, one transaction, events, bundles."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from mirror_desktop.core.integrations import IntegrationService
from mirror_desktop.integrations.base import QuietSyncState
from mirror_desktop.integrations.sync import (
    BACKOFF_MAX_S,
    backoff_delay,
    due_integrations,
    fetch,
    next_due,
    prepare,
    seconds_until_next,
    sync_due,
    sync_integration,
)

from .conftest import DATA

pytest.importorskip("icalendar")
NOW = datetime(2026, 12, 3, 12, tzinfo=UTC)


def _cal(tmp_path: Path, name: str = "cal.ics", sample: str = "example.ics") -> Path:
    path = tmp_path / name
    shutil.copy(DATA / sample, path)
    return path


def _vault(tmp_path: Path) -> Path:
    vault = tmp_path / "vault"
    vault.mkdir()
    (vault / "2026-12-01.md").write_text("---\ntags: [walk]\n---\nRain all day.\n")
    return vault


def test_notes_and_calendar_sync_on_both_backends(journal: Any, tmp_path: Path) -> None:
    svc = IntegrationService(journal)
    notes = svc.add("notes", "obsidian", path=str(_vault(tmp_path)))
    cal = svc.add("calendar", "ics_file", path=str(_cal(tmp_path)), look_back_days=20_000)
    assert [r.outcome for r in svc.sync_all()] == ["ok", "ok"]
    assert journal.reflections.count() == 1 and journal.integration_items.count() == 4
    assert [r.outcome for r in svc.sync_all()] == ["ok", "not_modified"]
    views = {v.integration.id: v for v in svc.list_integrations()}
    assert views[notes.id].items == 1 and views[cal.id].items == 3
    assert all(str(v.integration.status) == "active" and v.integration.last_sync for v in views.values())


def test_schedule_hourly_daily_manual_paused() -> None:
    from mirror_desktop.core import models as m
    from mirror_desktop.core.enums import IntegrationStatus, IntegrationType

    def integ(every: str, status: str = "active", last: datetime | None = NOW, meta: dict[str, Any] | None = None) -> Any:
        return m.Integration(integration_type=IntegrationType.CALENDAR, config={"provider": "ics_file", "sync_frequency": every},
                             status=IntegrationStatus(status), last_sync=last, metadata=meta, connected_at=NOW - timedelta(days=9))

    assert next_due(integ("hourly"), NOW) == NOW + timedelta(hours=1)
    assert next_due(integ("daily"), NOW) == NOW + timedelta(days=1)
    assert next_due(integ("daily", last=None), NOW) == NOW - timedelta(days=9)  # never synced: due now
    assert next_due(integ("manual"), NOW) is None
    assert next_due(integ("hourly", "paused"), NOW) is None
    assert next_due(integ("hourly", "disconnected"), NOW) is None
    failing = integ("daily", "error", meta={"consecutive_failures": 3, "last_attempt_at": "2026-12-03T12:00:00Z"})
    assert next_due(failing, NOW) == NOW + timedelta(minutes=20)  # 5 min doubled per failure
    assert [backoff_delay(n).total_seconds() for n in (1, 2, 3)] == [300, 600, 1200]
    assert backoff_delay(40).total_seconds() == BACKOFF_MAX_S
    hourly_failing = integ("hourly", "error", meta={"consecutive_failures": 9, "last_attempt_at": "2026-12-03T12:00:00Z"})
    assert next_due(hourly_failing, NOW) == NOW + timedelta(hours=1)  # backoff never later than the schedule


def test_sync_due_skips_paused_and_isolates_failures(sqlite_storage: Any, tmp_path: Path) -> None:
    svc = IntegrationService(sqlite_storage)
    good = svc.add("calendar", "ics_file", path=str(_cal(tmp_path)), look_back_days=20_000, every="hourly")
    bad = svc.add("calendar", "ics_file", path=str(_cal(tmp_path, "bad.ics", "parsing_error.ics")), every="hourly")
    paused = svc.add("calendar", "ics_file", path=str(_cal(tmp_path, "p.ics")), look_back_days=20_000)
    manual = svc.add("calendar", "ics_file", path=str(_cal(tmp_path, "m.ics")), look_back_days=20_000, every="manual")
    svc.pause(paused.id)
    now = datetime.now(UTC)
    assert {i.id for i in due_integrations(sqlite_storage, now)} == {good.id, bad.id}
    reports = {r.integration_id: r for r in sync_due(sqlite_storage, now=now)}
    assert set(reports) == {good.id, bad.id}
    assert reports[good.id].outcome == "ok" and reports[bad.id].outcome == "error"
    assert sqlite_storage.integration_items.count(integration_id=good.id) == 3
    assert str(sqlite_storage.integrations.get(paused.id).status) == "paused"
    assert sqlite_storage.integrations.get(paused.id).last_sync is None
    assert sqlite_storage.integrations.get(manual.id).last_sync is None
    # right after: nothing due; the failing one waits for its backoff
    assert due_integrations(sqlite_storage, now + timedelta(minutes=1)) == []
    assert [i.id for i in due_integrations(sqlite_storage, now + timedelta(minutes=6))] == [bad.id]
    assert 0 < seconds_until_next(sqlite_storage, now + timedelta(minutes=1)) <= 300
    # an explicit sync of a paused one is skipped with a sentence
    report = sync_integration(sqlite_storage, paused.id)
    assert report.outcome == "skipped" and "paused" in report.message


def test_cancel_writes_nothing(sqlite_storage: Any, tmp_path: Path) -> None:
    svc = IntegrationService(sqlite_storage)
    integ = svc.add("notes", "obsidian", path=str(_vault(tmp_path)))
    state = QuietSyncState()
    state.cancelled = True
    report = sync_integration(sqlite_storage, integ.id, state)
    assert report.outcome == "cancelled"
    after = sqlite_storage.integrations.get(integ.id)
    assert sqlite_storage.reflections.count() == 0 and str(after.status) == "active" and "last_error" not in (after.metadata or {})


def test_prepare_fetch_apply_split_for_a_worker(sqlite_storage: Any, tmp_path: Path) -> None:
    """The window's poller fetches off the database thread; the three steps compose to one sync."""
    from mirror_desktop.integrations.sync import apply

    integ = IntegrationService(sqlite_storage).add("calendar", "ics_file", path=str(_cal(tmp_path)), look_back_days=20_000)
    plan = prepare(sqlite_storage, integ.id)
    fetched = fetch(plan)  # no database access here
    assert fetched.error is None and fetched.result is not None
    assert sqlite_storage.integration_items.count() == 0
    report = apply(sqlite_storage, plan, fetched)
    assert report.added == 3 and sqlite_storage.integration_items.count() == 3


def test_failure_inside_the_write_rolls_back_everything(sqlite_storage: Any, tmp_path: Path) -> None:
    vault = _vault(tmp_path)
    for i in range(30):
        (vault / f"n{i:02}.md").write_text(f"note {i}\n")
    (vault / "zz.md").write_bytes(b"\xff\xfe not utf-8")
    integ = IntegrationService(sqlite_storage).add("notes", "obsidian", path=str(vault))
    report = sync_integration(sqlite_storage, integ.id)
    assert report.outcome == "error" and "zz.md" in report.message
    assert sqlite_storage.reflections.count() == 0 and sqlite_storage.integration_items.count() == 0


def test_events_are_recorded_without_secrets(sqlite_storage: Any, tmp_path: Path) -> None:
    pw = tmp_path / "pw"
    pw.write_text("hunter2-very-secret\n")
    svc = IntegrationService(sqlite_storage)
    integ = svc.add("calendar", "ics_url", url="https://cal.example.org/u/private-path.ics", username="ana",
                    password_file=str(pw))
    svc.remove(integ.id)
    events = [e for e in sqlite_storage.evolution_events.list() if str(e.event_type).startswith("integration_")]
    assert [str(e.event_type) for e in events] == ["integration_add", "integration_remove"]
    for e in events:
        assert e.event_data == {"integration_id": integ.id, "integration_type": "calendar", "provider": "ics_url"}
        assert "hunter2" not in json.dumps(e.event_data) and "private-path" not in json.dumps(e.event_data)
    assert sqlite_storage.integrations.find(integ.id) is None


def test_config_problems_one_sentence_each(sqlite_storage: Any, tmp_path: Path) -> None:
    from mirror_desktop.integrations.base import ConfigError

    svc = IntegrationService(sqlite_storage)
    with pytest.raises(ConfigError) as err:
        svc.add("calendar", "caldav", url="ftp://x", every="weekly")
    problems = err.value.problems
    assert any("--every" in p for p in problems) and any("http://" in p for p in problems)
    assert any("--username" in p for p in problems) and any("--password-file" in p for p in problems)
    assert all(p.endswith(".") and p.count(". ") == 0 for p in problems)
    with pytest.raises(ConfigError, match="is a calendar source, not notes"):
        svc.add("notes", "ics_file", path=str(_cal(tmp_path)))
    with pytest.raises(ConfigError, match="no connector for the provider"):
        svc.add("calendar", "google_calendar")
    assert sqlite_storage.integrations.count() == 0


def test_bundle_carries_sanitized_config_and_import_arrives_disconnected(sqlite_storage: Any, tmp_path: Path) -> None:
    import keyring
    from keyring.backends import fail

    from mirror_desktop.bundle.export import export_bundle
    from mirror_desktop.bundle.importer import import_bundle
    from mirror_desktop.paths import AppPaths
    from mirror_desktop.storage.journal import SQLiteStorage

    keyring.set_keyring(fail.Keyring())  # headless: the config keeps the password file's path
    pw = tmp_path / "secret-pw-file"
    pw.write_text("hunter2-very-secret\n")
    svc = IntegrationService(sqlite_storage)
    integ = svc.add("calendar", "ics_url", url="https://cal.example.org/x.ics", username="ana", password_file=str(pw))
    cal = svc.add("calendar", "ics_file", path=str(_cal(tmp_path)), look_back_days=20_000)
    assert sync_integration(sqlite_storage, cal.id).outcome == "ok"
    out = tmp_path / "out"
    out.mkdir()
    bundle = export_bundle(sqlite_storage, out, passphrase=None).path
    import zipfile

    with zipfile.ZipFile(bundle) as zf:
        configs = json.loads(zf.read("integrations/configs.json"))
        raw = b"".join(zf.read(n) for n in zf.namelist())
    assert b"hunter2" not in raw and b"secret-pw-file" not in raw
    assert {c["id"]: c["status"] for c in configs} == {integ.id: "disconnected", cal.id: "disconnected"}

    dst = AppPaths(tmp_path / "new", tmp_path / "new" / "config", tmp_path / "new" / "logs")
    import_bundle(bundle, dst)
    with SQLiteStorage(dst.database) as imported:
        got = {i.id: i for i in imported.integrations.list()}
        assert {str(i.status) for i in got.values()} == {"disconnected"}
        assert imported.integration_items.count() == 0  # a cache: refilled by the next sync
        isvc = IntegrationService(imported)
        assert sync_integration(imported, cal.id).outcome == "skipped"
        with pytest.raises(Exception, match="--password-file"):
            isvc.resume(integ.id)
        isvc.resume(cal.id)  # nothing to re-enter for a local file
        assert sync_integration(imported, cal.id).outcome == "ok"
        resumed = isvc.resume(integ.id, password_file=str(pw))
        assert str(resumed.status) == "active" and "needs_reauthorization" not in resumed.metadata


def test_poller_thread_syncs_and_stops_promptly_even_while_a_server_hangs(sqlite_storage: Any, tmp_path: Path,
                                                                          feed_server: Any) -> None:
    import threading
    import time

    from mirror_desktop.integrations.sync import Poller

    svc = IntegrationService(sqlite_storage)
    good = svc.add("calendar", "ics_file", path=str(_cal(tmp_path)), look_back_days=20_000, every="hourly")
    feed_server.feed.hang_s = 15  # longer than the test will wait
    svc.add("calendar", "ics_url", url=feed_server.url, every="hourly")
    lock = threading.Lock()
    db_threads: set[str] = set()

    def run_db(fn: Any) -> Any:  # the window's executor: one serial place for every read and write
        with lock:
            db_threads.add(threading.current_thread().name)
            return fn(sqlite_storage)

    reports: list[Any] = []
    poller = Poller(run_db, on_report=reports.append)
    thread = threading.Thread(target=poller.run, name="poller", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not any(r.integration_id == good.id for r in reports):
        time.sleep(0.05)
    assert any(r.integration_id == good.id and r.outcome == "ok" for r in reports)
    time.sleep(0.3)  # the poller is now waiting on the hanging server
    stopped_at = time.monotonic()
    poller.stop()
    thread.join(5)
    assert not thread.is_alive() and time.monotonic() - stopped_at < 2
    assert db_threads == {"poller"}  # every database call went through run_db, none from the fetch helpers
    assert sqlite_storage.integration_items.count(integration_id=good.id) == 3


def test_check_connection_writes_nothing_and_status_text(sqlite_storage: Any, tmp_path: Path, feed_server: Any) -> None:
    from mirror_desktop.core.integrations import status_text
    from mirror_desktop.integrations.base import AuthError, SourceError
    from mirror_desktop.integrations.sync import check_connection

    feed_server.feed.body = (DATA / "example.ics").read_bytes()
    sentence = check_connection("ics_url", {"provider": "ics_url", "url": feed_server.url, "look_back_days": 20_000})
    assert sentence.startswith("Connected to http://127.0.0.1") and "3 events" in sentence
    feed_server.feed.status = 500
    with pytest.raises(SourceError, match="HTTP 500"):
        check_connection("ics_url", {"provider": "ics_url", "url": feed_server.url})
    feed_server.feed.status, feed_server.feed.username, feed_server.feed.password = 200, "a", "b"
    with pytest.raises(AuthError):
        check_connection("ics_url", {"provider": "ics_url", "url": feed_server.url})
    assert sqlite_storage.integrations.count() == 0

    svc = IntegrationService(sqlite_storage)
    integ = svc.add("calendar", "ics_file", path=str(_cal(tmp_path)))
    assert status_text(sqlite_storage.integrations.get(integ.id)) == "Not synced yet."
    svc.pause(integ.id)
    assert status_text(sqlite_storage.integrations.get(integ.id)).startswith("Paused")
    imported = replace(sqlite_storage.integrations.get(integ.id), status="disconnected",
                       metadata={"needs_reauthorization": True})
    assert "imported bundle" in status_text(imported)
