"""The copies of a SQLite journal Mirror keeps: backups before migrations and rollback files of imports.

Each copy is a whole journal, deleted reflections included, so they are bounded: the newest
``KEEP_BACKUPS`` migration backups are kept, and as many import rollback copies (shared/RELIABILITY.md,
"backups keep deleted words and fill the disk"); ``purge_backups`` removes them all on request.
Only files Mirror named are ever touched: ``<data>/backups/<stem>-schema-<version>-<stamp>.db`` and
``<journal>.rollback-<stamp>``.
"""

from __future__ import annotations

import os
import re
from datetime import datetime, UTC
from pathlib import Path

from mirror_desktop.core.models import BackupPurge
from mirror_desktop.core.safe_io import create_private_file, fsync_dir, private_dir

KEEP_BACKUPS = 5
_STAMP = r"\d{8}_\d{6}_\d{6}"


def backups_dir(journal: Path) -> Path:
    return Path(journal).parent / "backups"


def stamp_now() -> str:
    return datetime.now(UTC).strftime("%Y%m%d_%H%M%S_%f")


def new_backup_file(journal: Path, from_version: str) -> Path:
    """An empty 0600 file in a 0700 backups folder, named for the version it keeps; VACUUM INTO fills it."""
    journal = Path(journal)
    folder = private_dir(backups_dir(journal))
    target = folder / f"{journal.stem}-schema-{from_version}-{stamp_now()}.db"
    os.close(create_private_file(target))
    return target


def _stamp_of(path: Path) -> str:
    found = re.search(_STAMP, path.name)
    return found.group(0) if found else ""


def migration_backups(journal: Path) -> list[Path]:
    """The migration backups of ``journal``, oldest first."""
    journal = Path(journal)
    folder = backups_dir(journal)
    pattern = re.compile(rf"{re.escape(journal.stem)}-schema-.+-{_STAMP}\.db")
    try:
        found = [p for p in folder.iterdir() if p.is_file() and not p.is_symlink() and pattern.fullmatch(p.name)]
    except OSError:
        return []
    return sorted(found, key=lambda p: (_stamp_of(p), p.name))


def rollback_copies(journal: Path) -> list[Path]:
    """The journals an import with replace set aside (``<journal>.rollback-<stamp>``), oldest first."""
    journal = Path(journal)
    pattern = re.compile(rf"{re.escape(journal.name)}\.rollback-{_STAMP}")
    try:
        found = [p for p in journal.parent.iterdir() if p.is_file() and not p.is_symlink() and pattern.fullmatch(p.name)]
    except OSError:
        return []
    return sorted(found, key=lambda p: (_stamp_of(p), p.name))


def all_copies(journal: Path) -> list[Path]:
    """Every older copy of the journal Mirror keeps: migration backups, then import rollback files."""
    return migration_backups(journal) + rollback_copies(journal)


def _remove(paths: list[Path], report: BackupPurge) -> None:
    for p in paths:
        # A copy may have been opened by hand; its sidecars hold the same words.
        for f in (p, Path(f"{p}-wal"), Path(f"{p}-shm"), Path(f"{p}-journal")):
            try:
                size = f.stat().st_size
                f.unlink()
            except FileNotFoundError:
                continue
            except OSError:
                report.failed.append(f)
                continue
            report.removed.append(f)
            report.bytes += size
    for folder in {p.parent for p in paths}:
        try:
            fsync_dir(folder)
        except OSError:
            pass


def prune_backups(journal: Path, keep: int = KEEP_BACKUPS) -> BackupPurge:
    """Remove all but the newest ``keep`` migration backups."""
    report = BackupPurge()
    backups = migration_backups(journal)
    if keep >= 0 and len(backups) > keep:
        _remove(backups[: len(backups) - keep], report)
    return report


def prune_rollback_copies(journal: Path, keep: int = KEEP_BACKUPS) -> BackupPurge:
    """Remove all but the newest ``keep`` rollback copies an import with replace set aside."""
    report = BackupPurge()
    copies = rollback_copies(journal)
    if keep >= 0 and len(copies) > keep:
        _remove(copies[: len(copies) - keep], report)
    return report


def purge_backups(journal: Path) -> BackupPurge:
    """Remove every older copy of the journal (migration backups and import rollback files)."""
    report = BackupPurge()
    _remove(all_copies(journal), report)
    return report
