"""The serial database executor: writes from the worker while the GUI reads, migrations with progress."""

from __future__ import annotations

import threading
from pathlib import Path

from mirror_desktop.app import open_journal
from mirror_desktop.core.errors import StorageError
from mirror_desktop.core.services import JournalService
from mirror_desktop.storage.journal import SQLiteStorage
from mirror_desktop.workers.executor import DatabaseExecutor
from mirror_desktop.workers.journal import JournalClient


def _open(qtbot, path: Path):  # type: ignore[no-untyped-def]
    ex = DatabaseExecutor(lambda: open_journal(path))
    progress: list[tuple[int, int, str]] = []
    ex.migration_progressed.connect(lambda i, n, v: progress.append((i, n, v)))
    with qtbot.waitSignal(ex.opened, timeout=15000):
        ex.start()
    return ex, progress


def test_migrations_run_on_the_worker_with_progress(qtbot, tmp_path):
    ex, progress = _open(qtbot, tmp_path / "j" / "mirror_os.db")
    try:
        assert progress, "a fresh journal migrates"
        steps = progress[-1][1]
        assert progress[-1][0] == steps and [p[0] for p in progress] == list(range(steps + 1))
    finally:
        assert ex.shutdown()


def test_writes_from_the_executor_while_the_gui_reads(qtbot, tmp_path):
    path = tmp_path / "j" / "mirror_os.db"
    ex, _ = _open(qtbot, path)
    client = JournalClient(ex)
    errors: list[str] = []
    client.operation_failed.connect(errors.append)
    done: list[str] = []
    n = 150
    for i in range(n):
        client.save_reflection(f"entry {i}", reflection_id=f"00000000-0000-4000-8000-{i:012d}", identity_id=None,
                               visibility="local_only", tags=[], draft_id=None, on_result=lambda r: done.append(r.id))
    reader = SQLiteStorage(path)  # the GUI thread's own connection, reading while the worker writes
    seen: list[int] = []
    try:
        while len(done) < n:
            seen.append(JournalService(reader).count_reflections())
            qtbot.wait(5)
        seen.append(JournalService(reader).count_reflections())
    finally:
        reader.close()
    assert errors == []
    assert seen == sorted(seen) and seen[-1] == n
    assert ex.shutdown()


def test_a_damaged_file_fails_to_open_and_is_not_touched(qtbot, tmp_path):
    path = tmp_path / "mirror_os.db"
    path.write_bytes(b"\x00garbage" * 64)
    before = path.read_bytes()
    ex = DatabaseExecutor(lambda: open_journal(path))
    with qtbot.waitSignal(ex.open_failed, timeout=15000) as failed:
        ex.start()
    assert isinstance(failed.args[0], StorageError)
    assert ex.shutdown()
    assert path.read_bytes() == before


def test_shutdown_runs_queued_jobs_first(qtbot, tmp_path):
    path = tmp_path / "mirror_os.db"
    ex, _ = _open(qtbot, path)
    client = JournalClient(ex)
    for i in range(20):
        client.call(lambda s, i=i: s.save_reflection(f"queued {i}"))
    assert ex.shutdown()
    reader = SQLiteStorage(path)
    try:
        assert JournalService(reader).count_reflections() == 20
    finally:
        reader.close()


def _open_lanes(qtbot, path: Path):  # type: ignore[no-untyped-def]
    from mirror_desktop.app import open_reader

    ex = DatabaseExecutor(lambda: open_journal(path), open_reader=lambda: open_reader(path))
    with qtbot.waitSignal(ex.opened, timeout=15000):
        ex.start()
    qtbot.waitUntil(lambda: all(lane.ready for lane in ex._lanes.values()), timeout=15000)
    return ex


def test_a_search_answers_while_a_slow_background_job_runs(qtbot, tmp_path):
    """Issue 12: interactive reads never wait behind background work (the related-reflections job)."""
    import threading

    path = tmp_path / "j" / "mirror_os.db"
    ex = _open_lanes(qtbot, path)
    client = JournalClient(ex)
    with qtbot.waitSignal(client.reflection_saved, timeout=10000):
        client.save_reflection("The river walk at dusk.", reflection_id="r1", identity_id=None,
                               visibility="local_only", tags=[], draft_id=None)
    release, started, finished = threading.Event(), threading.Event(), []

    def slow(_storage):  # type: ignore[no-untyped-def]
        started.set()
        release.wait(30)
        return "slow done"

    ex.submit(slow, finished.append, lane="background")
    assert started.wait(10)
    hits: list = []
    client.search("river", None, hits.append, lambda exc: hits.append(exc))
    qtbot.waitUntil(lambda: bool(hits), timeout=10000)
    assert finished == []  # the background job is still running: the search did not wait for it
    assert [h.reflection.id for h in hits[0]] == ["r1"]
    release.set()
    qtbot.waitUntil(lambda: finished == ["slow done"], timeout=10000)
    assert ex.shutdown()


def test_a_read_after_a_queued_write_sees_the_write(qtbot, tmp_path):
    """A read asked for while writes are queued runs behind them, so it never shows an older journal."""
    path = tmp_path / "j" / "mirror_os.db"
    ex = _open_lanes(qtbot, path)
    client = JournalClient(ex)
    for i in range(20):
        client.save_reflection(f"entry {i}", reflection_id=f"r{i}", identity_id=None, visibility="local_only",
                               tags=[], draft_id=None)
    counts: list[int] = []
    client.query(lambda s: s.count_reflections(), counts.append)
    qtbot.waitUntil(lambda: bool(counts), timeout=10000)
    assert counts == [20]
    assert ex.shutdown()


def test_a_cancelled_job_still_lets_the_executor_go_idle(qtbot, tmp_path):
    ex, _ = _open(qtbot, tmp_path / "j" / "mirror_os.db")
    ran: list[int] = []
    gate = threading.Event()
    ex.submit(lambda s: gate.wait(10))  # holds the worker, so the job below is still queued when cancelled
    job = ex.submit(lambda s: ran.append(1))
    job.cancel()
    gate.set()
    qtbot.waitUntil(lambda: ex.pending == 0, timeout=10000)
    assert ran == []
    assert ex.shutdown()



def test_opening_an_older_journal_records_its_upgrade(qtbot, tmp_path):
    """Issue 17, item 5: the window's open migrates an older journal and writes the upgrade event."""
    path = tmp_path / "j" / "mirror_os.db"
    s = SQLiteStorage(path)
    newest = s.schema_version()
    s.runner.rollback("1.2.0")
    s.close()
    ex, progress = _open(qtbot, path)
    assert ex.shutdown()
    s = SQLiteStorage(path, migrate=False)
    try:
        ups = [e for e in s.evolution_events.list() if str(e.event_type) == "upgrade"]
        assert [(e.from_version, e.to_version) for e in ups] == [("1.2.0", newest)]
    finally:
        s.close()


def test_a_look_ahead_comes_before_the_open_which_waits_for_the_window(qtbot, tmp_path):
    """issue 12: the window's first page is read before the storage loads; the open waits for release_open()."""
    path = tmp_path / "j" / "mirror_os.db"
    SQLiteStorage(path).close()
    events: list[str] = []
    ex = DatabaseExecutor(lambda: open_journal(path), peek=lambda: ["row"])
    ex.peeked.connect(lambda found: events.append(f"peeked {found}"))
    ex.opened.connect(lambda _s: events.append("opened"))
    try:
        with qtbot.waitSignal(ex.peeked, timeout=15000):
            ex.start()
        qtbot.wait(400)  # well inside PEEK_HOLD_S: the open is still held
        assert events == ["peeked ['row']"]
        with qtbot.waitSignal(ex.opened, timeout=15000):
            ex.release_open()
        assert events == ["peeked ['row']", "opened"]
    finally:
        assert ex.shutdown()


def test_a_look_ahead_that_cannot_tell_does_not_hold_the_open(qtbot, tmp_path):
    path = tmp_path / "j" / "mirror_os.db"

    def fails() -> object:
        raise OSError("unreadable")

    for peek in (lambda: None, fails):
        found: list[object] = []
        ex = DatabaseExecutor(lambda: open_journal(path), peek=peek)
        ex.peeked.connect(found.append)
        try:
            with qtbot.waitSignal(ex.opened, timeout=15000):
                ex.start()  # never released: it opens anyway, at once
            assert found == [None]
        finally:
            assert ex.shutdown()


def test_shutdown_lets_a_held_open_finish_and_close(qtbot, tmp_path, monkeypatch):
    from mirror_desktop.workers import executor

    monkeypatch.setattr(executor, "PEEK_HOLD_S", 60.0)  # held far longer than shutdown waits, unless released
    path = tmp_path / "j" / "mirror_os.db"
    SQLiteStorage(path).close()
    ex = DatabaseExecutor(lambda: open_journal(path), peek=lambda: [])
    with qtbot.waitSignal(ex.peeked, timeout=15000):
        ex.start()
    assert ex.shutdown(10000)
