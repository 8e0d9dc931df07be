"""Issue 15: the start-up sweep (attachment files no row refers to, unfinished chunked imports), and a save
that lands while a big import runs in the window's executor.

Real SQLite journals and the real DatabaseExecutor with its read and background lanes.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from mirror_desktop.app import open_journal, open_reader
from mirror_desktop.core import attachments as att
from mirror_desktop.core import importing
from mirror_desktop.core.services import JournalService
from mirror_desktop.storage.journal import SQLiteStorage
from mirror_desktop.workers.attachments import sweep_at_start
from mirror_desktop.workers.executor import DatabaseExecutor
from mirror_desktop.workers.importing import ImportingClient
from mirror_desktop.workers.journal import JournalClient
from tests.attachments.attachment_samples import png_bytes
from tests.integrations.importing_helpers import dayone_entry, make_dayone


def _lanes(qtbot, path: Path) -> DatabaseExecutor:  # type: ignore[no-untyped-def]
    ex = DatabaseExecutor(lambda: open_journal(path), open_reader=lambda: open_reader(path))
    with qtbot.waitSignal(ex.opened, timeout=15000):
        ex.start()
    qtbot.waitUntil(lambda: all(lane.ready for lane in ex._lanes.values()) and len(ex._lanes) == 2, timeout=15000)
    return ex


def _orphan(storage: Any, data: bytes) -> Path:
    """A blob moved into place by a transaction that never committed (a crash mid-import)."""
    r = JournalService(storage).save_reflection("Holder.")
    prepared = att.prepare_attachment(storage, data, filename="o.png")
    try:
        with storage.transaction():
            att.attach_prepared(storage, r.id, prepared)
            raise RuntimeError("killed")
    except RuntimeError:
        pass
    folder = att.blob_folder(storage)
    assert folder is not None
    return folder / prepared.sha256[:2] / prepared.sha256


def test_the_start_up_sweep_removes_orphans_and_unfinished_imports_and_keeps_what_rows_name(qtbot, tmp_path) -> None:
    path = tmp_path / "j" / "mirror_os.db"
    s = SQLiteStorage(path)
    kept_refl = JournalService(s).save_reflection("A picture I keep.")
    kept = att.add_attachment(s, kept_refl.id, png_bytes(rgb=(1, 1, 1)), filename="k.png")
    orphan = _orphan(s, png_bytes(rgb=(2, 2, 2)))
    assert orphan.is_file()
    # A chunked import that a killed process left half-written.
    s.writing.set_setting(importing.IN_PROGRESS, {"deadbeef": "dayone"})
    from mirror_desktop.core import models as m
    from mirror_desktop.core.enums import Source

    s.reflections.create(m.Reflection(content="half an import", source=Source.IMPORT,
                                      metadata={"import": {"app": "dayone", "id": "X", "batch": "deadbeef"}}))
    s.close()

    ex = _lanes(qtbot, path)
    looked = sweep_at_start(ex)
    assert looked.lane == "background"
    qtbot.waitUntil(lambda: ex.pending == 0 and not orphan.exists(), timeout=15000)
    assert ex.shutdown()
    s = SQLiteStorage(path)
    try:
        assert att.read_blob(s, kept.sha256) == png_bytes(rgb=(1, 1, 1))
        assert [r.content for r in s.reflections.list()] == ["A picture I keep.", "Holder."]
        assert importing.unfinished_imports(s) == []
    finally:
        s.close()


def test_a_file_a_row_names_by_the_time_of_removal_is_kept(tmp_path) -> None:
    """The candidates are found without the write lock; the removal checks each again under it."""
    s = SQLiteStorage(tmp_path / "j" / "mirror_os.db")
    try:
        data = png_bytes(rgb=(3, 3, 3))
        orphan = _orphan(s, data)
        candidates = att.orphan_candidates(s)
        assert candidates == {orphan.name}
        r = JournalService(s).save_reflection("Now it is attached.")
        att.add_attachment(s, r.id, data, filename="now.png")   # same content: a row names the file again
        assert att.release_blobs(s, candidates) == 0
        assert att.read_blob(s, orphan.name) == data
    finally:
        s.close()


def test_a_save_during_a_big_import_lands_before_the_import_ends(qtbot, tmp_path, monkeypatch) -> None:
    """The import writes in chunks: between two of them the write lane is free for an autosave."""
    monkeypatch.setattr(importing, "BATCH", 50)
    gate, release = threading.Event(), threading.Event()
    real_commit = importing._Run.commit_chunk

    def commit_and_pause(self: Any) -> None:
        real_commit(self)
        if len(self.written) >= 100 and not gate.is_set():
            gate.set()                 # two chunks are in; hold the import here, between chunks
            release.wait(20)

    monkeypatch.setattr(importing._Run, "commit_chunk", commit_and_pause)
    path = tmp_path / "j" / "mirror_os.db"
    export = make_dayone(tmp_path, [dayone_entry(f"E{n}", f"entry {n}") for n in range(400)])
    ex = _lanes(qtbot, path)
    imports, journal = ImportingClient(ex), JournalClient(ex)
    outcome: list[Any] = []

    def connect(task: Any) -> None:
        task.finished.connect(outcome.append)
        task.failed.connect(outcome.append)

    imports.start("dayone", export, identity_id=None, time_format=None, dry_run=False, connect=connect)
    qtbot.waitUntil(gate.is_set, timeout=20000)
    saved: list[Any] = []
    journal.save_reflection("Typed while the import ran.", reflection_id="typed", identity_id=None,
                            visibility="local_only", tags=[], draft_id=None, on_result=saved.append)
    try:
        qtbot.waitUntil(lambda: bool(saved), timeout=10000)   # landed while the import waits between chunks
        assert outcome == []
    finally:
        release.set()
    qtbot.waitUntil(lambda: bool(outcome), timeout=30000)
    assert isinstance(outcome[0], importing.ImportReport) and outcome[0].imported == 400
    assert imports.shutdown() and ex.shutdown()
    s = SQLiteStorage(path)
    try:
        assert s.reflections.count() == 401 and importing.unfinished_imports(s) == []
    finally:
        s.close()
