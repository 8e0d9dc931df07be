"""The poller's QThread (issue 14, item 4): database steps on the executor, progress over a round, isolation, stop.

A real journal, a real executor thread and real calendar files; the poller runs on its own QThread as in
the window. Nothing here asserts how long anything takes.
"""

from __future__ import annotations

import shutil
import threading
from pathlib import Path
from typing import Any

from PySide6.QtCore import QThread

from mirror_desktop.app import open_journal
from mirror_desktop.core.integrations import IntegrationService
from mirror_desktop.storage.journal import SQLiteStorage
from mirror_desktop.workers.executor import DatabaseExecutor
from mirror_desktop.workers.integrations import IntegrationsClient, PollerThread, items_by_day

DATA = Path(__file__).resolve().parents[1] / "data" / "ics"


def _journal(tmp_path: Path, calendars: list[str]) -> tuple[Path, list[str]]:
    db = tmp_path / "j" / "mirror_os.db"
    db.parent.mkdir(parents=True)
    s = SQLiteStorage(db)
    ids = []
    for n, name in enumerate(calendars):
        cal = tmp_path / f"cal{n}.ics"
        shutil.copy(DATA / name, cal)
        ids.append(IntegrationService(s).add("calendar", "ics_file", path=str(cal), look_back_days=20000).id)
    s.close()
    return db, ids


def _executor(qtbot: Any, db: Path, threads: list[QThread] | None = None) -> DatabaseExecutor:
    def open_() -> Any:
        if threads is not None:
            threads.append(QThread.currentThread())
        return open_journal(db)

    ex = DatabaseExecutor(open_)
    with qtbot.waitSignal(ex.opened, timeout=15000):
        ex.start()
    return ex


def test_a_round_reports_progress_and_one_broken_source_never_stops_the_others(qtbot, tmp_path: Path) -> None:
    db, ids = _journal(tmp_path, ["example.ics", "example.ics", "example.ics"])
    shutil.copy(DATA / "parsing_error.ics", tmp_path / "cal1.ics")  # the second one is broken
    ex = _executor(qtbot, db)
    poller = PollerThread(ex)
    progress: list[tuple[str, int, str]] = []
    reports: list[Any] = []
    poller.sync_progressed.connect(lambda i, p, s: progress.append((i, p, s)))
    poller.sync_finished.connect(reports.append)
    try:
        poller.start()
        qtbot.waitUntil(lambda: len(reports) == 3, timeout=30000)
    finally:
        assert poller.stop()
        assert ex.shutdown()
    assert [r.integration_id for r in reports] == ids
    assert [r.outcome for r in reports] == ["ok", "error", "ok"]
    assert [(p, s) for _i, p, s in progress] == [(0, "1 of 3"), (33, "2 of 3"), (67, "3 of 3")]
    s = SQLiteStorage(db)
    try:
        assert [s.integration_items.count(integration_id=i) for i in ids] == [3, 0, 3]
        assert str(s.integrations.get(ids[1]).status) == "error"
    finally:
        s.close()


def test_database_steps_run_on_the_executor_thread_never_the_pollers(qtbot, tmp_path: Path) -> None:
    db, ids = _journal(tmp_path, ["example.ics"])
    db_threads: list[QThread] = []
    ex = _executor(qtbot, db, db_threads)
    seen: list[Any] = []
    real_submit = ex.submit

    def submit(fn: Any, *a: Any, **kw: Any) -> Any:
        def watched(storage: Any) -> Any:
            seen.append(QThread.currentThread())
            return fn(storage)
        return real_submit(watched, *a, **kw)

    ex.submit = submit  # type: ignore[method-assign]
    poller = PollerThread(ex)
    done: list[Any] = []
    poller.sync_finished.connect(done.append)
    try:
        poller.start()
        qtbot.waitUntil(lambda: bool(done), timeout=30000)
    finally:
        assert poller.stop()
        assert ex.shutdown()
    assert done[0].ok and seen and all(t is db_threads[0] for t in seen)


def test_sync_now_runs_a_manual_integration_and_stop_is_prompt_when_idle(qtbot, tmp_path: Path) -> None:
    db = tmp_path / "j" / "mirror_os.db"
    db.parent.mkdir(parents=True)
    cal = tmp_path / "c.ics"
    shutil.copy(DATA / "example.ics", cal)
    s = SQLiteStorage(db)
    iid = IntegrationService(s).add("calendar", "ics_file", path=str(cal), look_back_days=20000, every="manual").id
    s.close()
    ex = _executor(qtbot, db)
    client = IntegrationsClient(ex, tmp_path / "secrets")
    try:
        client.start_polling()
        with qtbot.waitSignal(client.sync_finished, timeout=30000) as finished:
            client.sync_now(iid)
        assert finished.args[0].integration_id == iid and finished.args[0].added == 3
        # Asleep until the next due integration (none: manual): stop wakes it and the thread ends.
        assert client.shutdown()
        assert not client.poller.running
    finally:
        client.shutdown()
        assert ex.shutdown()


def test_stop_while_a_fetch_hangs_abandons_it_and_writes_nothing(qtbot, tmp_path: Path) -> None:
    import socket

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    accepted = threading.Event()
    conns: list[socket.socket] = []

    def accept() -> None:
        try:
            conns.append(server.accept()[0])
            accepted.set()
        except OSError:
            pass

    threading.Thread(target=accept, daemon=True).start()
    db = tmp_path / "j" / "mirror_os.db"
    db.parent.mkdir(parents=True)
    s = SQLiteStorage(db)
    iid = IntegrationService(s).add("calendar", "ics_url", url=f"http://127.0.0.1:{server.getsockname()[1]}/c.ics").id
    s.close()
    ex = _executor(qtbot, db)
    poller = PollerThread(ex)
    reports: list[Any] = []
    poller.sync_finished.connect(reports.append)
    try:
        poller.start()
        qtbot.waitUntil(accepted.is_set, timeout=15000)
        assert poller.stop()
        assert not poller.running
        qtbot.waitUntil(lambda: bool(reports), timeout=5000)  # the queued report arrives
        assert [r.outcome for r in reports] == ["cancelled"]
    finally:
        poller.stop()
        assert ex.shutdown()
        server.close()
        for c in conns:
            c.close()
    s = SQLiteStorage(db)
    try:
        integ = s.integrations.get(iid)
        assert integ.last_sync is None and "last_error" not in (integ.metadata or {})
    finally:
        s.close()


def test_items_by_day_places_all_day_and_overnight_events_on_their_days() -> None:
    from datetime import UTC, date, datetime

    from mirror_desktop.core import models as m

    holiday = m.IntegrationItem("i", "h", "event", "v", title="Holiday", all_day=True,
                                starts_at=datetime(2022, 3, 8, tzinfo=UTC), ends_at=datetime(2022, 3, 9, tzinfo=UTC))
    trip = m.IntegrationItem("i", "t", "event", "v", title="Trip", all_day=True,
                             starts_at=datetime(2022, 3, 9, tzinfo=UTC), ends_at=datetime(2022, 3, 12, tzinfo=UTC))
    days = items_by_day([holiday, trip], date(2022, 3, 7), date(2022, 3, 12))
    assert {d: [i.title for i in items] for d, items in days.items()} == {
        date(2022, 3, 8): ["Holiday"], date(2022, 3, 9): ["Trip"], date(2022, 3, 10): ["Trip"], date(2022, 3, 11): ["Trip"]}


def _gated(tmp_path: Path, gated_calendar: Any) -> tuple[Path, str, Any]:
    source = gated_calendar("test_gated")
    db = tmp_path / "j" / "mirror_os.db"
    db.parent.mkdir(parents=True)
    s = SQLiteStorage(db)
    iid = IntegrationService(s).add("calendar", "test_gated", every="manual").id
    s.close()
    return db, iid, source


def test_a_write_lands_while_a_sync_is_still_reading_its_source(qtbot, tmp_path: Path, gated_calendar: Any) -> None:
    """Issue 14: the reading and comparing of a sync runs off the write lane (an autosave waited 5 s
    behind a big first sync): a journal write submitted mid-sync lands before the sync ends."""
    from mirror_desktop.core import models as m

    db, iid, source = _gated(tmp_path, gated_calendar)
    ex = _executor(qtbot, db)
    poller = PollerThread(ex)
    reports: list[Any] = []
    landed: list[Any] = []
    poller.sync_finished.connect(reports.append)
    try:
        poller.start()
        poller.sync_now(iid)
        qtbot.waitUntil(source.entered.is_set, timeout=15000)
        ex.submit(lambda s: s.drafts.create(m.Draft(content="typed while the sync reads")), landed.append)
        qtbot.waitUntil(lambda: bool(landed), timeout=10000)
        assert not reports  # the sync is still at its gate
        source.gate.set()
        qtbot.waitUntil(lambda: bool(reports), timeout=15000)
        assert reports[0].outcome == "ok" and reports[0].added == 3
    finally:
        source.gate.set()
        poller.stop()
        assert ex.shutdown()


def test_cancel_stops_a_running_sync_writes_nothing_and_says_so(qtbot, tmp_path: Path, gated_calendar: Any) -> None:
    db, iid, source = _gated(tmp_path, gated_calendar)
    ex = _executor(qtbot, db)
    client = IntegrationsClient(ex, tmp_path / "secrets")
    reports: list[Any] = []
    client.sync_finished.connect(reports.append)
    try:
        client.start_polling()
        client.sync_now(iid)
        qtbot.waitUntil(source.entered.is_set, timeout=15000)
        client.cancel_sync(iid)
        qtbot.waitUntil(lambda: bool(reports), timeout=15000)
        assert [(r.outcome, r.message) for r in reports] == [("cancelled", "Sync cancelled; nothing was changed.")]
        source.gate.set()
        # The poller goes on: the next Sync now runs whole.
        source.entered.clear()
        client.sync_now(iid)
        qtbot.waitUntil(lambda: len(reports) == 2, timeout=15000)
        assert reports[1].outcome == "ok" and reports[1].added == 3
    finally:
        source.gate.set()
        client.shutdown()
        assert ex.shutdown()


def test_a_cancelled_sync_leaves_the_journal_as_it_was(qtbot, tmp_path: Path, gated_calendar: Any) -> None:
    db, iid, source = _gated(tmp_path, gated_calendar)
    ex = _executor(qtbot, db)
    poller = PollerThread(ex)
    reports: list[Any] = []
    poller.sync_finished.connect(reports.append)
    try:
        poller.start()
        poller.sync_now(iid)
        qtbot.waitUntil(source.entered.is_set, timeout=15000)
        poller.cancel(iid)
        source.gate.set()
        qtbot.waitUntil(lambda: bool(reports), timeout=15000)
        assert reports[0].outcome == "cancelled"
    finally:
        source.gate.set()
        poller.stop()
        assert ex.shutdown()
    s = SQLiteStorage(db)
    try:
        integ = s.integrations.get(iid)
        assert s.integration_items.count(integration_id=iid) == 0
        assert integ.last_sync is None and "last_error" not in (integ.metadata or {}) and str(integ.status) == "active"
    finally:
        s.close()
