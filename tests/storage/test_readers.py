"""Reader connections (issue 12): extra read-only connections answer while the writer is busy.

The same bodies run on SQLite (WAL: readers see the last commit while a write transaction is open)
and on PostgreSQL (a second, read-only session). No timing: each test proves progress by order of
events (the read answered while the write was still open).
"""

from __future__ import annotations

import queue
import threading
from typing import Any

import pytest

from mirror_desktop.core import models as m
from mirror_desktop.core.errors import MirrorError
from mirror_desktop.core.services import JournalService
from mirror_desktop.core.tensions import TensionService

# Generous: only a guard so that a broken build fails instead of hanging the suite.
DEADLOCK_GUARD_S = 60


def committed(storage: Any, text: str) -> m.Reflection:
    return storage.reflections.create(m.Reflection(content=text))


def test_reader_sees_committed_rows_not_an_open_write(storage: Any) -> None:
    kept = committed(storage, "The heron stood in the shallows all morning.")
    reader = storage.open_reader()
    try:
        with storage.transaction():
            storage.reflections.create(m.Reflection(content="A second heron arrived at dusk."))
            # The writer's transaction is still open here: the reader answers from the last commit.
            assert [h.reflection.id for h in reader.search("heron")] == [kept.id]
            assert reader.reflections.count() == 1
        assert len(reader.search("heron")) == 2  # a new read sees the commit
    finally:
        reader.close()


def test_search_on_a_reader_answers_while_a_background_write_holds_the_writer(storage: Any) -> None:
    kept = committed(storage, "Kintsugi: the bowl is mended with gold.")
    holding, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def background() -> None:  # a slow job on the writer connection, mid-transaction
        try:
            with storage.transaction():
                storage.reflections.create(m.Reflection(content="Another kintsugi bowl, still drying."))
                holding.set()
                release.wait(DEADLOCK_GUARD_S)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            storage.close()  # this thread's connection

    answers: queue.Queue[tuple[list[str], bool]] = queue.Queue()

    def interactive() -> None:  # the window's read connection, on its own thread
        reader = storage.open_reader()
        try:
            hits = [h.reflection.id for h in JournalService(reader).search("kintsugi")]
            answers.put((hits, release.is_set()))
        finally:
            reader.close()

    writer = threading.Thread(target=background)
    writer.start()
    try:
        assert holding.wait(DEADLOCK_GUARD_S)
        asker = threading.Thread(target=interactive)
        asker.start()
        hits, background_done = answers.get(timeout=DEADLOCK_GUARD_S)
        asker.join()
    finally:
        release.set()
        writer.join()
    assert not background_done, "the search only answered after the background job finished"
    assert hits == [kept.id]
    assert not errors


def test_a_reader_refuses_writes_and_changes_nothing(storage: Any) -> None:
    committed(storage, "Only this one.")
    reader = storage.open_reader()
    try:
        with pytest.raises(Exception) as caught:
            reader.reflections.create(m.Reflection(content="Written through a reader."))
        assert "read" in str(caught.value).lower()  # read-only / query_only, said by the database
        assert reader.reflections.count() == 1
    finally:
        reader.close()
    assert storage.reflections.count() == 1


def test_a_reader_serves_the_window_reads(storage: Any) -> None:
    svc = JournalService(storage)
    r = svc.save_reflection("The ferry was late; we watched the gulls.")
    thread = svc.create_thread("Ferries")
    svc.add_to_threads(r.id, [thread.id])
    TensionService(storage).ensure_seeds()
    reader = storage.open_reader()
    try:
        rs = JournalService(reader)
        assert [x.id for x in rs.reflections_page()] == [r.id]
        assert rs.get_reflection(r.id).content == r.content
        assert [x.id for _, x in rs.thread_timeline(thread.id)] == [r.id]
        assert TensionService(reader).map_data().groups
        assert reader.schema_version() == storage.schema_version()
    finally:
        reader.close()


def test_a_reader_of_a_missing_sqlite_journal_is_refused(tmp_path: Any) -> None:
    from mirror_desktop.storage.journal import SQLiteStorage

    s = SQLiteStorage(tmp_path / "mirror_os.db")
    s.close()
    (tmp_path / "mirror_os.db").unlink()
    with pytest.raises(MirrorError):
        s.open_reader()
    assert not (tmp_path / "mirror_os.db").exists()
