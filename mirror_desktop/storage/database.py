"""The one database factory: opens SQLite files with safe pragmas, or PostgreSQL from a DSN.

Every connection the app makes comes from here, so the defences in shared/RELIABILITY.md
(WAL, synchronous=FULL, foreign keys, busy timeout, secure_delete, trusted_schema=OFF, and
BEGIN IMMEDIATE for every write transaction) cannot be forgotten by a caller. It also creates the
journal 0600 (SQLite gives its -wal and -shm the journal's mode), makes an existing journal private
again, and holds the journal's shared lock (storage/journal_lock.py) while a connection is open.
"""

from __future__ import annotations

import os
import sqlite3 as _stdlib_sqlite3
from pathlib import Path
from urllib.parse import quote

import peewee

from mirror_desktop.core.errors import StorageError
from mirror_desktop.core.safe_io import create_private_file, make_private, private_dir
from mirror_desktop.storage import cipher
from mirror_desktop.storage.journal_lock import SharedJournalLock, discard_lock_file, lock_path

BUSY_TIMEOUT_MS = 5000

SQLITE_PRAGMAS: dict[str, object] = {
    "journal_mode": "wal",
    "synchronous": 2,  # FULL: a committed transaction survives power loss, not only a crash
    "foreign_keys": 1,
    "busy_timeout": BUSY_TIMEOUT_MS,
    "secure_delete": 1,
    "trusted_schema": 0,
}

SQLITE_MAGIC = b"SQLite format 3\x00"

_capability_checked = False


def sqlite_module():  # type: ignore[no-untyped-def]
    """The DB-API module peewee uses: pysqlite3 (a recent SQLite) where installed, else sqlite3."""
    return peewee.sqlite3 or _stdlib_sqlite3


def _check_sqlite_capabilities() -> None:
    """Refuse an SQLite library too old for the schema, with a sentence that says what to do.

    The schema validates JSON in CHECK constraints while trusted_schema=OFF, which needs the JSON
    functions to be marked innocuous (SQLite 3.45+); FTS5 secure-delete needs 3.42+.
    """
    global _capability_checked
    if _capability_checked:
        return
    mod = sqlite_module()
    con = mod.connect(":memory:", isolation_level=None)
    try:
        con.execute("PRAGMA trusted_schema=OFF")
        con.execute("CREATE TABLE t (j TEXT CHECK (json_valid(j)))")
        con.execute("INSERT INTO t VALUES ('{}')")
        con.execute("CREATE VIRTUAL TABLE f USING fts5 (x)")
        con.execute("INSERT INTO f (f, rank) VALUES ('secure-delete', 1)")
    except mod.Error:
        raise StorageError(
            f"This Python's SQLite {mod.sqlite_version} is too old for Mirror (it needs 3.45 or newer); "
            "install the pysqlite3-binary package or a newer Python."
        ) from None
    finally:
        con.close()
    _capability_checked = True


class JournalDatabase(peewee.SqliteDatabase):
    """peewee's SQLite database, with a ROLLBACK that does not hide why a transaction ended.

    After some errors (a full disk, an I/O error) SQLite rolls the transaction back by itself; the
    ROLLBACK peewee then sends fails with "cannot rollback - no transaction is active", and that
    sentence replaced the real one ("database or disk is full") everywhere (issue 11, item 14).
    """

    def rollback(self) -> None:
        if not self.is_closed() and not self.connection().in_transaction:
            return
        super().rollback()


class _KeyedConnection:
    """Connections through sqlcipher3 (playhouse.sqlcipher_ext's driver), keyed before any pragma runs.

    The key is the raw 32 bytes storage/cipher.py derived once, so no connection pays for a KDF.
    """

    journal_key: cipher.JournalKey | None = None
    new_file = False

    def _connect(self) -> object:
        mod = cipher.sqlcipher_module()
        conn = mod.connect(self.database, timeout=self._timeout, isolation_level=None,  # type: ignore[attr-defined]
                           **self.connect_params)  # type: ignore[attr-defined]
        try:
            assert self.journal_key is not None
            cipher.apply_key(conn, self.journal_key, new=self.new_file)
            self._add_conn_hooks(conn)  # type: ignore[attr-defined]
        except Exception:
            conn.close()
            raise
        return conn


def _database_class(base: type, key: cipher.JournalKey | None) -> type:
    """``base`` for a plain journal; for an encrypted one, the same class keyed through SQLCipher."""
    if key is None:
        return base
    from playhouse.sqlcipher_ext import SqlCipherDatabase

    return type(f"Encrypted{base.__name__}", (_KeyedConnection, base), {
        "journal_key": key, "server_version": SqlCipherDatabase.server_version})


def _key_of(path: Path, key: cipher.JournalKey | None) -> cipher.JournalKey | None:
    """The key an existing file needs (None for a plain journal); refuses a file Mirror cannot unlock."""
    kind = cipher.file_kind(path)
    if kind in ("missing", "empty", "plain"):
        return None
    cipher.check_openable(path)
    key = key or cipher.key_for(path)
    if key is None:
        raise cipher.JournalLocked(cipher.ENCRYPTED_NO_KEY.format(path=path))
    return key


def _refuse_wrong_key(db: peewee.SqliteDatabase, path: Path, exc: BaseException) -> None:
    if getattr(db, "journal_key", None) is not None and "not a database" in str(exc):
        raise cipher.WrongPassphrase(cipher.WRONG_PASSPHRASE.format(path=path)) from None


def is_read_only(path: Path | str) -> bool:
    """Whether an existing journal file cannot be written (its mode, or a read-only file system)."""
    path = Path(path)
    return path.is_file() and not os.access(path, os.W_OK)


def _open_sqlite_read_only(path: Path, key: cipher.JournalKey | None = None) -> peewee.SqliteDatabase:
    """A journal Mirror may read but not write (issue 11, item 14): search and lists still work.

    No WAL switch and no writes. SQLite reads a WAL journal read-only when it can create its -shm
    file beside it; in a folder it cannot write either, with no -wal left behind, the file cannot
    change under us, so it is opened as immutable.
    """
    pragmas = {k: v for k, v in SQLITE_PRAGMAS.items() if k != "journal_mode"}
    wal = path.with_name(path.name + "-wal")
    immutable = not os.access(path.parent, os.W_OK | os.X_OK) and not wal.exists()
    target = f"file:{quote(path.resolve().as_posix())}?mode=ro" + ("&immutable=1" if immutable else "")
    db = _database_class(JournalDatabase, key)(target, pragmas=list(pragmas.items()), uri=True)
    try:
        db.connect(reuse_if_open=True)
        db.execute_sql("SELECT count(*) FROM sqlite_master").fetchone()
    except (peewee.DatabaseError, peewee.OperationalError) as exc:
        db.close()
        _refuse_wrong_key(db, path, exc)
        raise StorageError(f"The read-only journal {path} cannot be opened ({exc}); make it writable or open a copy.") from None
    return db


class LockedSqliteDatabase(JournalDatabase):
    """peewee's SQLite database, holding the journal's shared lock from its first connection to close().

    A replace in another process (or thread) holds the lock exclusively: opening then waits a moment
    and is refused in one sentence instead of writing into a file about to be swapped away.
    """

    def __init__(self, database: str, *args: object, **kwargs: object) -> None:
        super().__init__(database, *args, **kwargs)  # type: ignore[arg-type]
        self.journal_lock = SharedJournalLock(database)

    def _connect(self) -> object:
        took = self.journal_lock.acquire()
        try:
            return super()._connect()  # type: ignore[misc]
        except BaseException:
            if took:
                self.journal_lock.release()
            raise

    def close(self) -> bool:
        try:
            return bool(super().close())
        finally:
            self.journal_lock.release()


def _make_journal_private(path: Path) -> None:
    """An existing journal (and its -wal/-shm) left readable by an older version: 0600 now."""
    for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")):
        if p.exists():
            make_private(p)


def open_sqlite(path: Path | str, *, create: bool = True, readonly: bool = False,
                reader: bool = False, key: cipher.JournalKey | None = None) -> peewee.SqliteDatabase:
    """Open (or create) the SQLite journal at ``path`` with every pragma set and verified.

    ``readonly``: for commands that only read (search, lists) a journal that cannot be written; nothing is
    created or written. ``reader=True`` opens an extra connection for reads only (issue 12): ``query_only``
    refuses any write, and its transactions begin DEFERRED, so a reader never queues for the write lock; in
    WAL mode it reads the last committed state while the writer's transaction is still open.

    ``key``: an encrypted journal's key (issue 19); without one, a key this process unlocked for the
    file's salt is used, and an encrypted file with none at hand is refused (cipher.JournalLocked). A new
    file created with a key is encrypted from its first page.
    """
    _check_sqlite_capabilities()
    path = Path(path)
    if readonly and path.is_file():
        return _open_sqlite_read_only(path, _key_of(path, key))
    if reader:
        create = False
    if path.exists() and path.is_dir():
        raise StorageError(f"{path} is a folder, not a journal file; point Mirror at a .db file instead.")
    if not path.exists():
        if not create:
            raise StorageError(f"There is no journal at {path}; check the path or create a new journal.")
        parent = path.parent
        try:
            if not parent.exists():
                private_dir(parent)  # a folder Mirror makes for a journal is private
        except OSError as exc:
            raise StorageError(f"Cannot create the folder {parent} ({exc.strerror}); choose a folder you can write to.") from None
        if not os.access(parent, os.W_OK | os.X_OK):
            raise StorageError(f"The folder {parent} is not writable; choose a folder you can write to.")
        try:
            os.close(create_private_file(path))  # 0600 before SQLite writes a byte (its -wal/-shm follow)
        except FileExistsError:
            pass
        except OSError as exc:
            raise StorageError(f"Cannot create the journal {path} ({exc.strerror}); choose a folder you can write to.") from None
    elif not reader and not os.access(path, os.W_OK):
        raise StorageError(f"The journal {path} is read-only; make it writable or open a copy.")
    new_file = cipher.file_kind(path) in ("missing", "empty")
    key = key if new_file else _key_of(path, key)
    _make_journal_private(path)
    had_lock_file = lock_path(path).exists()
    pragmas = list(SQLITE_PRAGMAS.items()) + ([("query_only", 1)] if reader else [])
    if key is not None:
        pragmas.append(("cache_size", -cipher.ENCRYPTED_CACHE_KIB))
    db_class = _database_class(LockedSqliteDatabase, key)
    db = db_class(str(path), pragmas=pragmas, lock_type="DEFERRED" if reader else "IMMEDIATE")
    if key is not None and new_file:
        db.new_file = True  # the first connection writes the salt; later ones read it from the file
    try:
        db.connect(reuse_if_open=True)
        db.execute_sql("SELECT count(*) FROM sqlite_master").fetchone()
        if key is not None:
            db.new_file = False
    except peewee.DatabaseError as exc:
        db.close()
        if not had_lock_file:
            discard_lock_file(path)
        _refuse_wrong_key(db, path, exc)
        raise StorageError(f"{path} cannot be opened as a journal ({exc}); restore a backup or choose another file.") from None
    except peewee.OperationalError as exc:
        db.close()
        raise StorageError(f"{path} cannot be opened ({exc}); check that the disk is available and not full.") from None
    return db


def environment_error(exc: BaseException) -> StorageError | None:
    """One sentence for a database failure the environment caused (locked, full, read-only, damaged).

    Returns None for anything else (a constraint or a programming error is a bug, not the disk), so
    callers re-raise it. The CLI uses this so a busy or full journal never ends in a traceback.
    """
    # SQLite rolls a transaction back by itself on some errors (a full disk); the rollback peewee then
    # tries fails with "cannot rollback - no transaction is active", which hides the real cause.
    while "no transaction is active" in str(exc) and exc.__context__ is not None:
        exc = exc.__context__
    mod = sqlite_module()
    kinds = (peewee.OperationalError, mod.OperationalError)
    damaged_kinds = (peewee.DatabaseError, mod.DatabaseError)
    bugs = (peewee.IntegrityError, peewee.ProgrammingError, peewee.DataError, peewee.InternalError,
            peewee.NotSupportedError, mod.IntegrityError, mod.ProgrammingError, mod.DataError,
            mod.InternalError, mod.NotSupportedError)
    if isinstance(exc, bugs) or not isinstance(exc, kinds + damaged_kinds):
        return None
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    low = detail.lower()
    if "locked" in low or "busy" in low:
        return StorageError("The journal is busy (another Mirror window or program is writing to it); "
                            "close it and try again.")
    if "full" in low:
        return StorageError("The disk is full; free some space and try again.")
    if "readonly" in low or "read-only" in low:
        return StorageError("The journal cannot be written (its file or folder is read-only); "
                            "check the permissions and try again.")
    if isinstance(exc, kinds):
        return StorageError(f"The journal could not be read or written ({detail}); check that the disk is "
                            "available and try again.")
    return StorageError(f"The journal is damaged ({detail}); restore a backup or open another journal.")


def open_postgres(dsn: str, *, connect_timeout: int = 5, reader: bool = False) -> peewee.PostgresqlDatabase:
    """Connect to PostgreSQL with a DSN (URL or key=value form); ``reader=True``: a read-only session."""
    try:
        import psycopg  # noqa: F401  (peewee needs it; give a clear error when it is missing)
        from psycopg.conninfo import conninfo_to_dict
    except ImportError:
        raise StorageError("PostgreSQL support needs the psycopg package; install it with pip install 'psycopg[binary]'.") from None
    try:
        params = conninfo_to_dict(dsn)
    except Exception:
        raise StorageError("The PostgreSQL address is not a valid DSN; use a form like postgresql://user@host:5432/dbname.") from None
    dbname = params.pop("dbname", None)
    if not dbname:
        raise StorageError("The PostgreSQL DSN names no database; add one, as in postgresql://user@host:5432/dbname.")
    params.setdefault("connect_timeout", connect_timeout)
    # No server-side prepared statements: after five runs a prepared search gets PostgreSQL's generic
    # plan, which cannot see how common a word is and ran 4x slower at 100k reflections (BENCHMARKS.md).
    params["prepare_threshold"] = None
    if reader:
        # The server refuses any write in this session (issue 12: extra connections only read).
        params["options"] = (str(params.get("options") or "") + " -c default_transaction_read_only=on").strip()
    db = peewee.PostgresqlDatabase(str(dbname), **params)  # type: ignore[arg-type]
    try:
        db.connect(reuse_if_open=True)
    except peewee.OperationalError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "connection failed"
        raise StorageError(f"Cannot connect to PostgreSQL ({first}); check the DSN and that the server is running.") from None
    return db
