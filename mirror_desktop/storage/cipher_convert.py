"""Turning encryption on and off (issue 19): encrypt, decrypt and re-key a journal in place, kill-safe.

Each conversion writes a whole new file beside the journal with SQLCipher's ``sqlcipher_export``
(``<journal>.converting-<stamp>``), verifies it (integrity check, the same row count in every table,
a read of every row, FTS5's own check), then swaps it in: the old file gets a second name by a hard
link (``<journal>.replaced-<stamp>``), the new one is renamed over the journal (atomic), and only then
is the old content overwritten with zeros and removed. A kill at any moment leaves the journal name
on the complete old file or the complete new one; ``sweep_leftovers`` (run before every open) finishes
what a killed conversion left, overwriting any plaintext first.

The old write-ahead log is checkpointed and overwritten with zeros before its file is removed. On an
SSD or a copy-on-write file system (APFS, btrfs, ZFS) an overwrite may land on new blocks while the
old ones keep the words until the drive reuses them: see HONEST_NOTE.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from mirror_desktop.core.errors import StorageError
from mirror_desktop.core.safe_io import create_private_file, fsync_dir, private_dir, write_bytes_atomically
from mirror_desktop.storage import backups, cipher
from mirror_desktop.storage.database import sqlite_module
from mirror_desktop.storage.journal_lock import exclusive_journal_lock

HONEST_NOTE = ("Mirror overwrote the old plaintext journal and its write-ahead log before removing them, but on an "
               "SSD or a copy-on-write file system (APFS, btrfs, ZFS) the old blocks can survive until the drive "
               "reuses them, and older backups or snapshots made outside Mirror still hold the words; full-disk "
               "encryption (FileVault, BitLocker, LUKS) is what covers those.")
# Decrypting and re-keying overwrite only ciphertext, so HONEST_NOTE's "old plaintext" would be untrue for them;
# each says instead what is now true of the words at rest.
DECRYPT_NOTE = ("The journal and the copies Mirror keeps of it are plain SQLite files again: anyone who can read "
                "this computer's files can read them; `mirror encrypt` turns encryption back on.")
REKEY_NOTE = ("Only the new passphrase opens the journal and the copies Mirror keeps of it; copies made outside "
              "Mirror (other backups, snapshots) still open with the old passphrase.")
_STAMP = r"\d{8}_\d{6}_\d{6}"
_CHUNK = 1024 * 1024
Progress = Callable[[float, str], None]


@dataclass
class ConversionReport:
    journal: Path
    encrypted: bool
    rows: int = 0
    copies_converted: list[Path] = field(default_factory=list)
    copies_failed: list[Path] = field(default_factory=list)
    was_encrypted: bool = False

    @property
    def note(self) -> str:
        """What is true of the words at rest after this conversion (encrypt, decrypt or re-key)."""
        if not self.encrypted:
            return DECRYPT_NOTE
        return REKEY_NOTE if self.was_encrypted else HONEST_NOTE


def _fault(point: str) -> None:
    """Tests stop a conversion here with SIGKILL (MIRROR_TEST_KILL_AT=<point>) to prove it kill-safe."""
    if os.environ.get("MIRROR_TEST_KILL_AT") == point:
        import signal

        os.kill(os.getpid(), signal.SIGKILL)


def _connect(path: Path, key: cipher.JournalKey | None):  # type: ignore[no-untyped-def]
    """A bare connection (no journal lock: the caller holds it exclusively)."""
    mod = cipher.sqlcipher_module()
    con = mod.connect(f"file:{quote(path.resolve().as_posix())}", uri=True, isolation_level=None)
    if key is not None:
        cipher.apply_key(con, key)
    con.execute("PRAGMA trusted_schema = OFF")
    return con


def overwrite_and_remove(path: Path) -> bool:
    """Zeros over the whole file, fsync, then unlink; False when the file could not be overwritten."""
    done = True
    try:
        size = path.stat().st_size
        with open(path, "r+b", buffering=0) as fh:
            zeros = bytes(_CHUNK)
            left = size
            while left > 0:
                left -= fh.write(zeros[: min(left, _CHUNK)])
            os.fsync(fh.fileno())
    except FileNotFoundError:
        return True
    except OSError:
        done = False
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    return done


def _is_plain(path: Path) -> bool:
    return cipher.file_kind(path) == "plain"


def _zero_wal(journal: Path) -> None:
    """After a full checkpoint the WAL's frames are all in the main file; overwrite them in place."""
    wal = Path(f"{journal}-wal")
    with contextlib.suppress(FileNotFoundError):
        with open(wal, "r+b", buffering=0) as fh:
            size = os.fstat(fh.fileno()).st_size
            left = size
            while left > 0:
                left -= fh.write(bytes(min(left, _CHUNK)))
            os.fsync(fh.fileno())


def _tables(con) -> list[str]:  # type: ignore[no-untyped-def]
    return [r[0] for r in con.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]


def _counts(con) -> dict[str, int]:  # type: ignore[no-untyped-def]
    return {t: int(con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]) for t in _tables(con)}


def _export(src: Path, target: Path, old_key: cipher.JournalKey | None, new_key: cipher.JournalKey | None,
            progress: Progress) -> int:
    """sqlcipher_export ``src`` into the empty file ``target``; verify it; returns the rows copied."""
    mod = cipher.sqlcipher_module()
    con = _connect(src, old_key)
    try:
        try:
            con.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except mod.DatabaseError:
            raise cipher.WrongPassphrase(cipher.WRONG_PASSPHRASE.format(path=src)) from None
        mode = con.execute("PRAGMA journal_mode").fetchone()[0]
        if mode == "wal":
            con.execute("PRAGMA wal_checkpoint(FULL)").fetchall()
            if old_key is None:
                _zero_wal(src)
        before = _counts(con)
        progress(0.2, "Copying the journal")
        attach_key = new_key.pragma_value(with_salt=True) if new_key is not None else "''"
        con.execute(f"ATTACH DATABASE ? AS conv KEY {attach_key}", (str(target),))
        try:
            if new_key is not None:
                for pragma in cipher.CIPHER_PRAGMAS:
                    con.execute(pragma.replace("PRAGMA ", "PRAGMA conv."))
            con.execute("SELECT sqlcipher_export('conv')").fetchall()
            version = int(con.execute("PRAGMA main.user_version").fetchone()[0])
            con.execute(f"PRAGMA conv.user_version = {version}")
        finally:
            con.execute("DETACH DATABASE conv")
        _fault("exported")
    except mod.OperationalError as exc:
        if "full" in str(exc).lower():
            raise StorageError("The disk is full, so the journal was not converted; free some space and try "
                               "again (the journal is unchanged).") from None
        raise StorageError(f"The journal could not be converted ({exc}); it is unchanged.") from None
    finally:
        con.close()
    with open(target, "rb+") as fh:
        os.fsync(fh.fileno())
    progress(0.6, "Checking the new copy")
    return _verify(target, new_key, before)


def _verify(target: Path, key: cipher.JournalKey | None, expected: dict[str, int]) -> int:
    """Integrity check, the same rows per table, every row read, FTS5's own check: or StorageError."""
    con = _connect(target, key)
    try:
        problems = con.execute("PRAGMA integrity_check").fetchall()
        if problems != [("ok",)]:
            raise StorageError(f"The converted copy failed its integrity check ({problems[0][0]}); the journal is unchanged.")
        if key is not None and con.execute("PRAGMA cipher_integrity_check").fetchall():
            raise StorageError("The encrypted copy failed its page check; the journal is unchanged.")
        got = _counts(con)
        if got != expected:
            raise StorageError("The converted copy does not hold the same rows as the journal; the journal is unchanged.")
        rows = 0
        for table in got:
            for _row in con.execute(f'SELECT * FROM "{table}"'):
                rows += 1
        if "reflections_fts" in got:
            con.execute("INSERT INTO reflections_fts(reflections_fts, rank) VALUES ('integrity-check', 1)")
        return rows
    finally:
        con.close()


def _new_name(journal: Path, kind: str) -> Path:
    return journal.with_name(f"{journal.name}.{kind}-{backups.stamp_now()}")


def convert_file(path: Path, old_key: cipher.JournalKey | None, new_key: cipher.JournalKey | None,
                 progress: Progress | None = None) -> int:
    """Convert one closed SQLite file (journal or copy) in place: export, verify, atomic swap, wipe the old."""
    progress = progress or (lambda _f, _s: None)
    target = _new_name(path, "converting")
    os.close(create_private_file(target))
    try:
        rows = _export(path, target, old_key, new_key, progress)
        _fault("verified")
        progress(0.85, "Swapping the new journal in")
        aside = _new_name(path, "replaced")
        os.link(path, aside)  # the journal name never points at nothing
        _fault("linked")
        os.replace(target, path)
        fsync_dir(path.parent)
        _fault("swapped")
        overwrite_and_remove(aside) if old_key is None else aside.unlink()
        for side in (Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")):
            # An old sidecar beside the new file would be replayed into it: never keep one.
            if side.exists():
                overwrite_and_remove(side)
        fsync_dir(path.parent)
    except BaseException:
        overwrite_and_remove(target)
        with contextlib.suppress(OSError):
            Path(f"{target}-journal").unlink()
        raise
    progress(1.0, "Done")
    return rows


def sweep_leftovers(journal: Path) -> int:
    """Finish what a killed conversion left beside ``journal``; only while nobody has the journal open."""
    journal = Path(journal)
    pattern = re.compile(rf"{re.escape(journal.name)}\.(converting|replaced)-{_STAMP}(-journal)?")
    try:
        found = [p for p in journal.parent.iterdir() if pattern.fullmatch(p.name)]
    except OSError:
        return 0
    if not found:
        return 0
    removed = 0
    try:
        with exclusive_journal_lock(journal):
            live = journal.stat().st_ino if journal.exists() else None
            for p in found:
                if p.stat().st_ino == live:
                    p.unlink()  # a second name of the live journal (killed between link and rename)
                else:
                    overwrite_and_remove(p)
                removed += 1
            fsync_dir(journal.parent)
    except (StorageError, OSError):
        return removed
    return removed


@contextlib.contextmanager
def _held(journal: Path) -> Iterator[None]:
    with exclusive_journal_lock(journal):
        yield


def convert_journal(journal: Path, *, old_key: cipher.JournalKey | None, new_key: cipher.JournalKey | None,
                    progress: Progress | None = None, copies: bool = True) -> ConversionReport:
    """Encrypt (old_key None), decrypt (new_key None) or re-key the closed journal and, with ``copies``,
    every copy Mirror keeps of it (backups/, import rollback files). Raises with the journal unchanged."""
    journal = Path(journal)
    progress = progress or (lambda _f, _s: None)
    if not journal.is_file():
        raise StorageError(f"There is no journal at {journal}; check the path.")
    sweep_leftovers(journal)
    plain = _is_plain(journal)
    if old_key is None and not plain:
        raise cipher.JournalLocked(cipher.ENCRYPTED_NO_KEY.format(path=journal))
    if old_key is not None and plain:
        raise StorageError(f"The journal {journal} is not encrypted; there is nothing to decrypt or re-key.")
    if old_key is not None and not cipher.key_opens(journal, old_key):
        raise cipher.WrongPassphrase(cipher.WRONG_PASSPHRASE.format(path=journal))
    sqlite_module()  # the same capability check as every open
    with _held(journal):
        rows = convert_file(journal, old_key, new_key, lambda f, s: progress(f * (0.8 if copies else 1.0), s))
    if (old_key is None) != (new_key is None):
        # Attachments follow: into the journal it now is, or out to files beside it (opening settles them).
        from mirror_desktop.storage.journal import SQLiteStorage

        SQLiteStorage(journal, migrate=False, create=False, key=new_key).close()
    report = ConversionReport(journal, new_key is not None, rows, was_encrypted=old_key is not None)
    if new_key is not None:
        cipher.remember(new_key)
    if copies:
        report.copies_converted, report.copies_failed = convert_copies(journal, old_key, new_key)
    progress(1.0, "Done")
    return report


def convert_copies(journal: Path, old_key: cipher.JournalKey | None,
                   new_key: cipher.JournalKey | None) -> tuple[list[Path], list[Path]]:
    """Bring every copy of the journal to its new state; a copy no known key opens is left and reported."""
    done: list[Path] = []
    failed: list[Path] = []
    for copy in backups.all_copies(journal):
        kind = cipher.file_kind(copy)
        src_key = None if kind == "plain" else (old_key if old_key and cipher.key_opens(copy, old_key) else cipher.key_for(copy))
        if kind != "plain" and src_key is None:
            failed.append(copy)
            continue
        if (kind == "plain" and new_key is None) or (src_key is not None and new_key is not None and src_key.raw == new_key.raw):
            continue
        try:
            convert_file(copy, src_key, new_key)
            done.append(copy)
        except (StorageError, OSError):
            failed.append(copy)
    return done, failed


# -- attachments follow the journal (issue 19) -----------------------------------------------------------------

_SHA_RE = re.compile(r"[0-9a-f]{64}")
_BLOBS_DDL = ("CREATE TABLE IF NOT EXISTS attachment_blobs (sha256 TEXT PRIMARY KEY NOT NULL CHECK (length(sha256) = 64 "
              "AND sha256 NOT GLOB '*[^0-9a-f]*'), data BLOB NOT NULL)")  # as migration 009 makes it


def attachment_files(journal: Path) -> Path:
    """``mirror_os.db`` → ``mirror_os.attachments/``: where a plain journal's attachment files live (migration 004)."""
    return journal.with_name(journal.stem + ".attachments")


def settle_attachments(db: Any, journal: Path, encrypted: bool) -> int:
    """Put a journal's attachment bytes where its kind keeps them; returns how many moved.

    An encrypted journal keeps them inside itself (attachment_blobs): files found beside it (an encrypt just
    done or killed half-way, a bundle restored into it) go in, checked against their name, and are then
    overwritten. A plain journal keeps files: rows found in the table (a decrypt, a copy of an encrypted
    journal) go out as 0600 files and leave the table. Runs where the journal is opened for writing."""
    moved = 0
    folder = attachment_files(journal)
    if encrypted:
        files = sorted(p for p in folder.glob("[0-9a-f][0-9a-f]/*") if _SHA_RE.fullmatch(p.name)) \
            if folder.is_dir() else []
        if not files:
            return 0
        db.execute_sql(_BLOBS_DDL)
        with db.atomic():
            for p in files:
                data = p.read_bytes()
                if hashlib.sha256(data).hexdigest() == p.name:
                    db.execute_sql("INSERT OR IGNORE INTO attachment_blobs (sha256, data) VALUES (?, ?)", (p.name, data))
                    moved += 1
        for p in files:
            overwrite_and_remove(p)
            with contextlib.suppress(OSError):
                p.parent.rmdir()
        return moved
    try:
        if db.execute_sql("SELECT 1 FROM attachment_blobs LIMIT 1").fetchone() is None:
            return 0
    except Exception:  # noqa: BLE001 - a journal before migration 009 has no table, so nothing to move
        return 0
    for sha, data in db.execute_sql("SELECT sha256, data FROM attachment_blobs").fetchall():
        if not _SHA_RE.fullmatch(str(sha)):
            continue
        target = private_dir(private_dir(folder) / sha[:2]) / sha
        if not target.exists():
            write_bytes_atomically(target, bytes(data))
        moved += 1
    db.execute_sql("DELETE FROM attachment_blobs")
    return moved
