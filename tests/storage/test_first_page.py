"""The window's first page read straight from the file (storage/first_page.py, issue 12): the same rows as the
storage's own page, or None wherever only the opened storage can tell."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta, UTC
from pathlib import Path

from mirror_desktop.core import models as m
from mirror_desktop.core.enums import Visibility
from mirror_desktop.core.models import SearchFilters
from mirror_desktop.core.services import JournalService
from mirror_desktop.storage import cipher
from mirror_desktop.storage.cipher_convert import convert_journal
from mirror_desktop.storage.first_page import newest_reflections
from mirror_desktop.storage.journal import SQLiteStorage
from mirror_desktop.ui.journal.models.reflection_list import ReflectionRow


def _journal(path: Path, n: int = 30) -> Path:
    """Identities, anonymous rows, tags, rows without a word count and ties on the timestamp."""
    s = SQLiteStorage(path)
    try:
        svc = JournalService(s)
        a = svc.create_identity("Work")
        base = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
        for i in range(n):
            meta: dict[str, object] = {"tags": ["river", f"t{i % 3}"]} if i % 4 == 0 else {}
            if i % 5 == 0:
                meta["word_count"] = 7
            r = m.Reflection(content=f"Entry {i}\nsecond line of {i} with words", identity_id=a.id if i % 2 else None,
                             visibility=Visibility.SYNC_SUMMARY if i % 2 else Visibility.LOCAL_ONLY,
                             metadata=meta or None,
                             created_at=base + timedelta(minutes=i // 3))  # three rows share each minute
            s.reflections.create(r)
    finally:
        s.close()
    return path


def _storage_page(path: Path, limit: int) -> list[m.Reflection]:
    s = SQLiteStorage(path)
    try:
        return JournalService(s).reflections_page(SearchFilters(), limit=limit)
    finally:
        s.close()


def test_the_rows_are_the_storage_pages_rows_in_its_order(tmp_path):
    db = _journal(tmp_path / "a #folder?x=1 ünï %20" / "mirror_os.db")  # read through a file: URI
    for limit in (7, 200):
        expected = _storage_page(db, limit)
        found = newest_reflections(db, limit)
        assert found is not None
        assert [(r.id, r.created_at, r.identity_id, r.visibility, r.content, r.metadata) for r in found] == \
            [(r.id, r.created_at, r.identity_id, str(r.visibility), r.content, r.metadata) for r in expected]
        # and the list shows the same thing either way (tags, first line, word count)
        assert [ReflectionRow.of(r) for r in found] == [ReflectionRow.of(r) for r in expected]
    assert len(newest_reflections(db, 200) or []) == 30


def test_an_empty_journal_has_an_empty_first_page(tmp_path):
    db = tmp_path / "mirror_os.db"
    SQLiteStorage(db).close()
    assert newest_reflections(db, 200) == []


def test_none_where_only_the_opened_storage_can_tell(tmp_path):
    assert newest_reflections(tmp_path / "missing.db", 200) is None  # a new folder: the open creates it
    (tmp_path / "empty.db").write_bytes(b"")
    assert newest_reflections(tmp_path / "empty.db", 200) is None
    (tmp_path / "garbage.db").write_bytes(b"SQLite format 3\x00" + b"\x01" * 400)
    assert newest_reflections(tmp_path / "garbage.db", 200) is None  # damaged: the open says so in a sentence

    older = _journal(tmp_path / "older" / "mirror_os.db", n=3)
    con = sqlite3.connect(older)
    con.execute("DELETE FROM schema_version WHERE id = (SELECT max(id) FROM schema_version)")
    con.commit()
    con.close()
    assert newest_reflections(older, 200) is None  # to migrate first, with its progress shown


def test_an_encrypted_journal_is_left_to_the_open(tmp_path):
    db = _journal(tmp_path / "mirror_os.db", n=3)
    convert_journal(db, old_key=None, new_key=cipher.new_key("correct horse battery"))
    cipher.forget()
    assert newest_reflections(db, 200) is None


def test_reading_it_loads_no_peewee_and_writes_nothing(tmp_path):
    db = _journal(tmp_path / "mirror_os.db", n=3)
    con = sqlite3.connect(db)
    before = con.execute("SELECT count(*), max(created_at) FROM reflections").fetchone()
    con.close()
    code = ("import sys; from pathlib import Path; from mirror_desktop.storage.first_page import newest_reflections; "
            f"rows = newest_reflections(Path({str(db)!r}), 200); print(len(rows), 'peewee' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["3", "False"]
    con = sqlite3.connect(db)
    assert con.execute("SELECT count(*), max(created_at) FROM reflections").fetchone() == before
    con.close()


def test_it_leaves_no_files_behind_and_waits_for_no_replace(tmp_path):
    """It holds the journal's shared lock like every Mirror connection: while an `import --replace` holds the
    journal it answers None at once (the open does the waiting), and it leaves the folder as it found it."""
    from mirror_desktop.storage.journal_lock import exclusive_journal_lock

    db = _journal(tmp_path / "mirror_os.db", n=3)
    before = sorted(p.name for p in tmp_path.iterdir())
    assert len(newest_reflections(db, 200) or []) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no -wal or -shm left
    with exclusive_journal_lock(db):
        assert newest_reflections(db, 200) is None
    assert len(newest_reflections(db, 200) or []) == 3
