"""Issue 15: an import written in chunks (the window's way) lets other writes in and stays all-or-nothing.

``ImportService.run(write_chunk=...)`` hands each chunk of entries to the writer as its own short
write; a failure half-way, Cancel, or a process killed between chunks leaves the journal as it was
(the last one through ``recover_unfinished_imports`` at the next start).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mirror_desktop.core import attachments as att
from mirror_desktop.core import importing
from mirror_desktop.core.errors import MirrorError, OperationCancelled
from mirror_desktop.core.importing import ImportService, recover_unfinished_imports
from mirror_desktop.core.services import JournalService
from mirror_desktop.storage.journal import SQLiteStorage

from .importing_helpers import JPEG, dayone_entry, make_dayone, snapshot


@pytest.fixture
def storage(tmp_path: Path):
    s = SQLiteStorage(tmp_path / "j" / "mirror_os.db")
    yield s
    s.close()


class Writer:
    """Runs each chunk on the same storage and, between chunks, writes what a person typed (an autosave)."""

    def __init__(self, storage: Any, *, fail_after: int | None = None) -> None:
        self.storage, self.calls, self.fail_after = storage, 0, fail_after
        self.saved: list[str] = []

    def __call__(self, fn: Any) -> Any:
        if self.fail_after is not None and self.calls >= self.fail_after:
            raise OSError("the process was killed here")   # nothing after this point runs, not even the undo
        self.calls += 1
        result = fn(self.storage)
        self.saved.append(JournalService(self.storage).save_reflection(f"typed between chunks {self.calls}").id)
        return result


def with_a_photo(tmp_path: Path, at: int, n: int = 350) -> Path:
    """A Day One export of ``n`` entries; entry ``at`` shows one photo."""
    entries = [dayone_entry(f"E{i}", f"entry {i}") for i in range(n)]
    entries[at]["photos"] = [{"identifier": "P1", "md5": "aa11", "type": "jpeg"}]
    entries[at]["text"] = "with ![](dayone-moment://P1)"
    return make_dayone(tmp_path, entries, {"photos/aa11.jpeg": JPEG})


def in_progress(storage: Any) -> dict:
    return dict(storage.writing.get_setting(importing.IN_PROGRESS) or {})


def test_a_chunked_import_lets_saves_in_between_and_ends_complete(storage, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(importing, "BATCH", 100)
    writer = Writer(storage)
    report = ImportService(storage).run("dayone", with_a_photo(tmp_path, 7), write_chunk=writer)
    assert report.imported == 350 and report.attachments_imported == 1
    assert writer.calls >= 5   # four chunks of at most 100, then the batch marked finished
    imported = [r for r in storage.reflections.list() if r.source == "import"]
    assert len(imported) == 350
    assert all(storage.reflections.find(rid) is not None for rid in writer.saved)   # every save landed
    assert in_progress(storage) == {}
    photo = next(r for r in imported if "attachment:" in r.content)
    assert len(att.attachments_of(storage, photo.id)) == 1
    again = ImportService(storage).run("dayone", with_a_photo(tmp_path / "again", 7), write_chunk=Writer(storage))
    assert (again.imported, again.already_present) == (0, 350)


def test_a_bad_entry_after_some_chunks_removes_what_they_wrote(storage, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(importing, "BATCH", 100)
    JournalService(storage).save_reflection("Already here.")
    entries = [dayone_entry(f"E{n}", f"entry {n}") for n in range(350)]
    entries[330]["creationDate"] = "99999-01-01T00:00:00Z"
    writer = Writer(storage)
    before = snapshot(storage)
    with pytest.raises(MirrorError, match="99999"):
        ImportService(storage).run("dayone", make_dayone(tmp_path, entries), write_chunk=writer)
    assert writer.calls >= 3
    for rid in writer.saved:   # what the person typed meanwhile stays; nothing of the import does
        JournalService(storage).delete_reflection(rid)
    assert [r for r in storage.reflections.list() if r.source == "import"] == []
    assert snapshot(storage)[1] == before[1] and in_progress(storage) == {}


def test_cancel_between_chunks_removes_what_they_wrote(storage, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(importing, "BATCH", 100)

    class CancelLater:
        checks = 0

        def set_progress(self, fraction: float, message: str = "") -> None:
            pass

        def is_cancelled(self) -> bool:
            self.checks += 1
            return self.checks > 3

    writer = Writer(storage)
    with pytest.raises(OperationCancelled):
        ImportService(storage).run("dayone", make_dayone(tmp_path, [dayone_entry(f"E{n}", "x") for n in range(900)]),
                                   state=CancelLater(), write_chunk=writer)
    assert writer.calls >= 2
    assert [r for r in storage.reflections.list() if r.source == "import"] == [] and in_progress(storage) == {}


def test_a_process_killed_between_chunks_is_undone_at_the_next_start(storage, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(importing, "BATCH", 100)
    before = snapshot(storage)
    with pytest.raises(OSError):
        ImportService(storage).run("dayone", with_a_photo(tmp_path, 5), write_chunk=Writer(storage, fail_after=2))
    left = [r for r in storage.reflections.list() if r.source == "import"]
    assert len(left) == 200 and len(in_progress(storage)) == 1   # two chunks written, the batch unfinished
    assert recover_unfinished_imports(storage) == 200
    assert [r for r in storage.reflections.list() if r.source == "import"] == [] and in_progress(storage) == {}
    assert [r.content for r in storage.reflections.list()] == [c for c in (r[1] for r in before[1])] + [
        "typed between chunks 1", "typed between chunks 2"]
    folder = att.blob_folder(storage)
    assert folder is not None and not [p for p in folder.rglob("*") if p.is_file() and "tmp" not in p.parts]
