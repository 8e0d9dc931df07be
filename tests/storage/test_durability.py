"""SQLite durability: pragmas read back, kill -9 mid-write and mid-migration, deleted text leaves the files."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from mirror_desktop.core.services import JournalService
from mirror_desktop.storage.journal import SQLiteStorage
from mirror_desktop.storage.migrations import load_migrations

WRITER = textwrap.dedent(
    """
    import sys
    from mirror_desktop.core import models as m
    from mirror_desktop.storage.journal import SQLiteStorage
    s = SQLiteStorage(sys.argv[1])
    ident = s.identities.create(m.Identity(metadata={"name": "w"}))
    print("ready", flush=True)
    i = 0
    while True:
        with s.transaction():
            r = s.reflections.create(m.Reflection(f"entry {i} " + "words " * 50, identity_id=ident.id))
            s.mirrorbacks.create(m.Mirrorback(r.id, "It sounds like a day.", "1.0.0"))
        print(r.id, flush=True)  # printed only after the commit returned
        i += 1
    """
)
# Markers end in consonants the porter stemmer never strips, so the index holds their exact bytes (a marker
# ending in "e" or "ed" was stored stemmed, and a scan for it could not fail).
UNSTEMMED = "bcdfghjkmn"


def test_every_pragma_is_set_on_app_connections(tmp_path: Path) -> None:
    s = SQLiteStorage(tmp_path / "mirror_os.db")
    try:
        read = {p: s.db.execute_sql(f"PRAGMA {p}").fetchone()[0]
                for p in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout", "secure_delete", "trusted_schema")}
    finally:
        s.close()
    assert read == {"journal_mode": "wal", "synchronous": 2, "foreign_keys": 1, "busy_timeout": 5000,
                    "secure_delete": 1, "trusted_schema": 0}


def _kill_rounds(tmp_path: Path, rounds: int) -> None:
    rng = random.Random(1234)
    db = tmp_path / "mirror_os.db"
    committed: list[str] = []
    for _ in range(rounds):
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(db)], stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.0, 0.15))
        os.kill(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        committed += [line.strip() for line in out.splitlines() if line.strip() and len(line.strip()) == 36]
        s = SQLiteStorage(db)
        try:
            assert s.db.execute_sql("PRAGMA integrity_check").fetchone()[0] == "ok"
            assert s.db.execute_sql("PRAGMA foreign_key_check").fetchall() == []
            ids = {r[0] for r in s.db.execute_sql("SELECT id FROM reflections").fetchall()}
            missing = [c for c in committed if c not in ids]
            assert not missing, f"{len(missing)} committed reflections lost"
            # no half transaction: every reflection has its mirrorback
            orphans = s.db.execute_sql(
                "SELECT count(*) FROM reflections r WHERE NOT EXISTS (SELECT 1 FROM mirrorbacks mb WHERE mb.reflection_id = r.id)"
            ).fetchone()[0]
            assert orphans == 0
            assert s.db.execute_sql("INSERT INTO reflections_fts(reflections_fts, rank) VALUES ('integrity-check', 1)") is not None
        finally:
            s.close()
    assert committed, "the writer never committed; the test proved nothing"


def test_kill_9_during_writes_short(tmp_path: Path) -> None:
    _kill_rounds(tmp_path, 8)


@pytest.mark.slow
def test_kill_9_during_writes_200_rounds(tmp_path: Path) -> None:
    _kill_rounds(tmp_path, 200)


MIGRATOR = textwrap.dedent(
    """
    import sys
    from mirror_desktop.storage.journal import SQLiteStorage
    print("start", flush=True)
    SQLiteStorage(sys.argv[1])
    print("done", flush=True)
    """
)


def test_kill_9_during_migration_leaves_a_whole_version(tmp_path: Path) -> None:
    versions = {"0"} | {mig.version for mig in load_migrations("sqlite")}
    rng = random.Random(99)
    seen = set()
    for i in range(10):
        db = tmp_path / f"j{i}.db"
        proc = subprocess.Popen([sys.executable, "-c", MIGRATOR, str(db)], stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        proc.stdout.readline()
        time.sleep(rng.uniform(0.0, 0.08))
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate()
        s = SQLiteStorage(db, migrate=False)
        try:
            assert s.db.execute_sql("PRAGMA integrity_check").fetchone()[0] == "ok"
            v = s.schema_version()
            assert v in versions
            present = set(s.db.get_tables())
            if v == "0":
                assert not ({"identities", "reflections"} & present), "tables without their version row"
            else:
                assert {"identities", "reflections"} <= present
            seen.add(v)
            s.migrate()  # and the journal can always finish migrating
            assert s.schema_version() == max(versions - {"0"}, key=lambda x: tuple(map(int, x.split("."))))
        finally:
            s.close()


def test_deleted_text_leaves_database_and_wal(tmp_path: Path) -> None:
    db = tmp_path / "mirror_os.db"
    s = SQLiteStorage(db)
    svc = JournalService(s)
    marker = "zqxmarker" + "".join(random.choice(UNSTEMMED) for _ in range(12))
    keep = svc.save_reflection("An ordinary evening, nothing to hide.")
    gone = svc.save_reflection(f"Secret words {marker} that must vanish after deletion.")
    svc.delete_reflection(gone.id)
    assert s.search(marker) == []
    assert s.reflections.find(keep.id) is not None
    s.close()
    for f in tmp_path.iterdir():
        if f.is_file():
            assert marker.encode() not in f.read_bytes(), f"marker still in {f.name}"


def test_words_of_an_edited_then_deleted_reflection_leave_database_and_wal(tmp_path: Path) -> None:
    """Edits update the index without secure-delete (migration 010); a deletion must still take every version's words."""
    db = tmp_path / "mirror_os.db"
    s = SQLiteStorage(db)
    svc = JournalService(s)
    marker = "zqxedited" + "".join(random.choice(UNSTEMMED) for _ in range(12))
    for i in range(30):
        svc.save_reflection(f"An ordinary evening number {i}, nothing to hide.")
    gone = svc.save_reflection(f"First draft with {marker} in it.")
    svc.save_reflection("First draft, the word taken out.", reflection_id=gone.id)
    assert s.search(marker) == []
    svc.save_reflection("First draft, the word taken out, and more.", reflection_id=gone.id)
    svc.delete_reflection(gone.id)
    assert s.search("draft") == []
    assert len(s.search("evening")) == 30
    s.close()
    for f in tmp_path.iterdir():
        if f.is_file():
            assert marker.encode() not in f.read_bytes(), f"marker still in {f.name}"
