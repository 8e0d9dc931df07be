"""The newest reflections, read straight from the journal file before the storage layer has loaded (issue 12).

The window's first frame is the list of reflections. Asking the storage for it means loading peewee, the
repositories and 14 model classes and checking the schema first: some 60 ms of the interpreter, while the
window is being built on the other thread (one interpreter lock for both), before the first row can be
painted. The first page needs none of that: one SELECT, on a connection of its own.

``newest_reflections`` answers only where that SELECT means exactly what the storage's own unfiltered page
(``ReflectionRepository.page``) means: an SQLite journal, not encrypted, at the newest schema. Anything else
(a new folder, a journal to migrate or to unlock, a damaged file) answers None, and the window asks the
opened storage as before. The storage opens right after the first paint (workers/executor.py, ``peek``).
No peewee here, by design; tests/storage/test_first_page.py checks the rows against the storage's page.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

from mirror_desktop.storage.cipher import file_kind
from mirror_desktop.storage.journal_lock import shared_journal_lock_now
from mirror_desktop.storage.migrations import newest_version
from mirror_desktop.storage.timestamps import parse_timestamp

class StoredReflection(NamedTuple):
    """The columns of one reflection the list shows, as stored (visibility as its text)."""

    id: str
    created_at: datetime
    identity_id: str | None
    visibility: str
    content: str
    metadata: dict[str, Any] | None


def newest_reflections(database: Path, limit: int) -> list[StoredReflection] | None:
    """The ``limit`` newest reflections (newest first, as the list orders them), or None where only the opened
    storage can say (see the module's docstring). Its statements only read; it never raises for a journal it
    cannot read."""
    try:
        if file_kind(database) != "plain":
            return None  # missing, empty, encrypted (SQLCipher) or not a journal
    except OSError:
        return None
    # Like every connection Mirror opens, it holds the journal's shared lock (storage/journal_lock.py), so it
    # never reads across another process's `import --replace`; while one runs it leaves the wait to the open.
    try:
        with shared_journal_lock_now(database) as held:
            return _read(database, limit) if held else None
    except OSError:
        return None


def _read(database: Path, limit: int) -> list[StoredReflection] | None:
    try:
        from pysqlite3 import dbapi2 as sqlite  # the library peewee uses where it is installed
    except ImportError:
        import sqlite3 as sqlite
    try:
        # Read-write but reading only: closing it as the last connection removes the -wal and -shm files it
        # opened with, as every Mirror connection does (a read-only one would leave them behind).
        con = sqlite.connect(str(database), timeout=0.5, isolation_level=None, check_same_thread=False)
    except sqlite.Error:
        return None
    try:
        con.execute("PRAGMA query_only = ON")
        con.execute("BEGIN")  # the version and the rows from one snapshot
        version = con.execute("SELECT version FROM schema_version ORDER BY id DESC LIMIT 1").fetchone()
        if version is None or version[0] != newest_version("sqlite"):
            return None  # to migrate (the open shows its progress), or newer than this app (the open says so)
        rows = con.execute("SELECT id, created_at, identity_id, visibility, content, metadata FROM reflections "
                           "ORDER BY created_at DESC, id DESC LIMIT ?", (limit,)).fetchall()
        return [StoredReflection(r[0], parse_timestamp(r[1]), r[2], r[3], r[4],  # type: ignore[arg-type]
                                 None if r[5] is None else json.loads(r[5])) for r in rows]
    except (sqlite.Error, ValueError):
        return None
    finally:
        con.close()
