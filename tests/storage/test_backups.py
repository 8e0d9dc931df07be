"""Issue 11, item 4: backups are bounded, deleting says what older copies may hold, purge removes them.

shared/RELIABILITY.md, "backups keep deleted words and fill the disk": 16 migrations leave at most
the bound (5); purge leaves no marker on disk.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from mirror_desktop.bundle import export as export_mod
from mirror_desktop.bundle.export import export_bundle
from mirror_desktop.bundle.importer import import_bundle
from mirror_desktop.core.services import JournalService
from mirror_desktop.paths import AppPaths
from mirror_desktop.storage import backups
from mirror_desktop.storage.journal import SQLiteStorage

MARKER = "zebra-quartz-marker-7731"


def mirror(*args: str) -> subprocess.CompletedProcess[str]:
    r = subprocess.run([sys.executable, "-m", "mirror_desktop.cli", *args], capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    return r


def files_holding(root: Path, needle: str) -> list[Path]:
    raw = needle.encode()
    return [p for p in root.rglob("*") if p.is_file() and raw in p.read_bytes()]


def test_sixteen_migrations_leave_at_most_the_bound_and_keep_the_newest(tmp_path: Path) -> None:
    paths = AppPaths.resolve(tmp_path / "journal")
    s = SQLiteStorage(paths.database)
    made: list[Path] = []
    try:
        for _ in range(8):  # 8 rollbacks and 8 migrations: 16 backups made
            s.runner.rollback("1.0.0")
            made.append(backups.migration_backups(paths.database)[-1])
            s.migrate()
            made.append(backups.migration_backups(paths.database)[-1])
    finally:
        s.close()
    kept = backups.migration_backups(paths.database)
    assert len(set(made)) == 16
    assert len(kept) == backups.KEEP_BACKUPS == 5
    assert kept == made[-5:]
    assert sorted(p.name for p in (paths.data_dir / "backups").iterdir()) == sorted(p.name for p in kept)


def test_the_bound_leaves_files_mirror_did_not_name_alone(tmp_path: Path) -> None:
    paths = AppPaths.resolve(tmp_path / "journal")
    (paths.data_dir / "backups").mkdir(parents=True)
    mine = paths.data_dir / "backups" / "my own copy.db"
    mine.write_bytes(b"kept")
    s = SQLiteStorage(paths.database, keep_backups=2)
    try:
        for _ in range(3):
            s.runner.rollback("1.0.0")
            s.migrate()
    finally:
        s.close()
    assert len(backups.migration_backups(paths.database)) == 2
    assert mine.read_bytes() == b"kept"


def test_deleting_says_older_copies_may_hold_it_and_purge_leaves_no_marker(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(export_mod, "default_log2_n", 2)
    paths = AppPaths.resolve(tmp_path / "journal")
    s = SQLiteStorage(paths.database)
    svc = JournalService(s)
    try:
        early = svc.save_reflection("written before any backup")
        secret = svc.save_reflection(f"the words I never said: {MARKER}")
        s.runner.rollback("1.0.0")
        s.migrate()  # two backups, both holding the marker
        bundle = export_bundle(s, tmp_path, paths=paths, filename="b.zip").path
    finally:
        s.close()
    import_bundle(bundle, paths, mode="replace")  # and a rollback copy of the journal
    assert backups.rollback_copies(paths.database)
    s = SQLiteStorage(paths.database)
    svc = JournalService(s)
    try:
        notice = svc.delete_reflection(secret.id)
        assert notice.backups_may_hold == 3
        assert "3 older backups of the journal may still hold its text" in notice.message
        assert "purge backups" in notice.message.lower() and "\n" not in notice.message
        # The journal itself is clean; the copies are not, as the notice said.
        holders = files_holding(paths.data_dir, MARKER)
        assert holders and all(".rollback-" in p.name or p.parent.name == "backups" for p in holders)
    finally:
        s.close()
    out = json.loads(mirror("--data-dir", str(paths.data_dir), "db", "purge-backups", "--json").stdout)
    assert out["removed"] == 3 and out["bytes"] > 0
    assert files_holding(paths.data_dir, MARKER) == []
    assert files_holding(tmp_path / "journal", MARKER) == []
    s = SQLiteStorage(paths.database)
    try:
        # Nothing older is left: the next deletion says so.
        assert JournalService(s).delete_reflection(early.id).backups_may_hold == 0
        assert s.reflections.count() == 0
    finally:
        s.close()
    assert "no backups to purge" in mirror("--data-dir", str(paths.data_dir), "db", "purge-backups").stdout


def test_a_reflection_written_after_the_last_backup_is_in_no_copy(tmp_path: Path) -> None:
    paths = AppPaths.resolve(tmp_path / "journal")
    s = SQLiteStorage(paths.database)
    try:
        s.runner.rollback("1.0.0")
        s.migrate()
        for copy in backups.all_copies(paths.database):
            os.utime(copy, (1_000_000_000, 1_000_000_000))  # made long ago
        svc = JournalService(s)
        later = svc.save_reflection("written after every backup")
        notice = svc.delete_reflection(later.id)
        assert notice.backups_may_hold == 0
        assert notice.message == "The reflection is deleted; no backup of the journal holds a copy of it."
    finally:
        s.close()


def test_import_rollback_copies_are_bounded_too(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(export_mod, "default_log2_n", 2)
    paths = AppPaths.resolve(tmp_path / "journal")
    s = SQLiteStorage(paths.database)
    JournalService(s).save_reflection("one entry")
    bundle = export_bundle(s, tmp_path, paths=paths, filename="b.zip").path
    s.close()
    kept = []
    for _ in range(backups.KEEP_BACKUPS + 2):
        kept.append(import_bundle(bundle, paths, mode="replace").rollback_file)
    assert backups.rollback_copies(paths.database) == kept[-backups.KEEP_BACKUPS:]
