"""The SQL side of export and import: snapshots, the hostile-database checks, staging and merging.

Export: ``VACUUM INTO`` gives a consistent copy of a live journal (never a file copy, so a write in
progress cannot tear it); ``finalize_bundle_db`` then empties the drafts table and rebuilds the file
so no freed page keeps deleted text, in rollback-journal mode so the single file is complete.

Import (shared/RELIABILITY.md, "hostile SQLite file inside a bundle"): the bundled file is opened
read-only and immutable with ``trusted_schema=OFF``; its schema must equal, object for object, the
schema a fresh journal has at the same version (built here by migrating an empty temporary file),
so an extra trigger, view or table is refused before any row is read; ``integrity_check`` must say
ok; only then are rows copied, column by column, into a fresh staging journal whose own CHECK and
foreign-key constraints re-validate every value, and whose triggers rebuild the full-text index.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from collections.abc import Callable

import peewee

from mirror_desktop.core.errors import StorageError
from mirror_desktop.storage.database import BUSY_TIMEOUT_MS, SQLITE_MAGIC, sqlite_module
from mirror_desktop.storage.migrations import load_migrations, parse_version

# Foreign-key order: parents before children. drafts never travel (migration 002). attachments
# (migration 004, issue 15) travel with their bytes as attachments/<sha256> members of the bundle.
COPY_ORDER = (
    "identities", "reflections", "attachments", "mirrorbacks", "threads", "thread_reflections", "tensions", "axes",
    "engine_runs", "engine_feedback", "evolution_proposals", "evolution_history", "evolution_events",
    "integrations",
)
KEYS = {"thread_reflections": ("thread_id", "reflection_id")}
# Adapter tables that travel too, when both journals have them (issue 16: the person's templates,
# from schema 1.4.0). Not spec tables, so the manifest does not count them.
EXTENSION_COPY = ("templates",)
# Created by ANALYZE / PRAGMA optimize; read only by the query planner, never compared.
_TOLERATED = {"sqlite_stat1", "sqlite_stat4"}


class BundledDbRefused(StorageError):
    """The bundled database is not a plain Mirror journal; ``detail`` says why."""

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(f"The journal inside the bundle was refused ({detail}).")


class BundledSchemaTooNew(StorageError):
    def __init__(self, version: str, app_version: str) -> None:
        self.version = version
        self.app_version = app_version
        super().__init__(f"The bundled journal uses schema {version}; this Mirror knows up to {app_version}.")


def _connect(target: str, *, uri: bool = False) -> Any:
    from mirror_desktop.storage import cipher

    # An encrypted live journal (issue 19) is reached with the key this process unlocked for it.
    key = cipher.key_for(target) if not uri and cipher.is_encrypted(target) else None
    mod = cipher.sqlcipher_module() if key is not None else sqlite_module()
    con = mod.connect(target, isolation_level=None, uri=uri, check_same_thread=False)
    if key is not None:
        cipher.apply_key(con, key)
    con.execute("PRAGMA trusted_schema=OFF")
    con.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    return con


def _readonly_uri(path: Path) -> str:
    # immutable: no locks, no -wal/-shm files, nothing written next to a file we do not trust.
    return Path(path).resolve().as_uri() + "?mode=ro&immutable=1"


def fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# -- export ----------------------------------------------------------------------------------

def finalize_bundle_db(path: Path) -> None:
    """Make a staged copy ready to travel: no drafts or integration items, no freed pages, one file.

    A copy of an encrypted journal is decrypted here, as late as possible: a bundle holds a plain
    SQLite file inside its own (age) encryption, and the staging folder is wiped after (issue 19)."""
    from mirror_desktop.storage import cipher
    from mirror_desktop.storage.cipher_convert import convert_file

    if cipher.file_kind(path) == "mirror":
        convert_file(path, cipher.key_for(path), None)
    con = _connect(str(path))
    try:
        con.execute("PRAGMA secure_delete=ON")
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "drafts" in tables:
            con.execute("DELETE FROM drafts")
        if "integration_items" in tables:
            # Fetched calendar events and note records (migration 003) are a cache of other services'
            # data: a bundle never carries them; a sync after re-authorisation fetches them again.
            con.execute("DELETE FROM integration_items")
        for table in ("sync_state", "sync_changes", "sync_rows", "sync_inbox", "sync_identity_links", "sync_identity_keys",
                      "sync_applying"):
            if table in tables:
                # Sync's books (migration 007) belong to this device: a journal restored elsewhere must not
                # pose as it (same device id, cursor) nor carry the server's address or pulled ciphertext.
                con.execute(f"DELETE FROM {table}")
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        mode = con.execute("PRAGMA journal_mode=DELETE").fetchone()[0]
        if str(mode).lower() != "delete":
            raise StorageError(f"The staged copy {path} is still in use; try the export again.")
        # VACUUM INTO a sibling rather than VACUUM in place: in-place VACUUM builds its copy in the
        # temp store, which some SQLite builds keep in memory (peak memory grew with the journal).
        compact = path.with_name(path.name + ".compact")
        compact.unlink(missing_ok=True)
        con.execute("VACUUM INTO ?", (str(compact),))
    finally:
        con.close()
    os.replace(compact, path)
    con = _connect(str(path))
    try:
        ok = con.execute("PRAGMA quick_check").fetchone()[0]
        if ok != "ok":
            raise StorageError(f"The staged copy of the journal failed its integrity check ({ok}); try again.")
    finally:
        con.close()


def table_counts(path: Path, tables: tuple[str, ...]) -> dict[str, int]:
    """Rows per table of a database file we made (read-only)."""
    con = _connect(_readonly_uri(path), uri=True)
    try:
        present = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        return {t: int(con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]) for t in tables if t in present}
    finally:
        con.close()


# -- import: the hostile-database checks ---------------------------------------------------

_reference_cache: dict[str, set[tuple[str, str, str, str]]] = {}


def _normalise_sql(sql: str | None) -> str:
    return "" if sql is None else re.sub(r"\s+", " ", sql).strip()


def _schema_of(con: Any, schema: str = "main") -> set[tuple[str, str, str, str]]:
    rows = con.execute(f"SELECT type, name, tbl_name, sql FROM {schema}.sqlite_master").fetchall()
    return {(str(t), str(n), str(tb), _normalise_sql(s)) for t, n, tb, s in rows if n not in _TOLERATED}


def reference_schema(version: str) -> set[tuple[str, str, str, str]]:
    """The schema a fresh journal has at ``version``: built by migrating an empty temp file."""
    if version not in _reference_cache:
        from mirror_desktop.storage.journal import SQLiteStorage

        with tempfile.TemporaryDirectory(prefix="mirror-ref-") as tmp:
            store = SQLiteStorage(Path(tmp) / "ref.db", migrate=False)
            try:
                store.runner.migrate(target=version)
            finally:
                store.close()
            con = _connect(str(Path(tmp) / "ref.db"))
            try:
                _reference_cache[version] = _schema_of(con)
            finally:
                con.close()
    return _reference_cache[version]


@dataclass(frozen=True)
class BundledDb:
    """What the checks learnt about a bundled database that passed them."""

    path: Path
    schema_version: str
    counts: dict[str, int] = field(default_factory=dict)


def inspect_bundled_db(path: Path) -> BundledDb:
    """Run every check on a bundled database; raise BundledDbRefused / BundledSchemaTooNew."""
    path = Path(path)
    with open(path, "rb") as fh:
        if fh.read(16) != SQLITE_MAGIC:
            raise BundledDbRefused("it is not an SQLite database")
    migrations = load_migrations("sqlite")
    shipped = [m.version for m in migrations]
    mod = sqlite_module()
    try:
        con = _connect(_readonly_uri(path), uri=True)
    except mod.Error as exc:
        raise BundledDbRefused(f"it cannot be opened: {exc}") from None
    try:
        con.execute("PRAGMA query_only=ON")
        con.execute("PRAGMA cell_size_check=ON")
        try:
            actual = _schema_of(con)
        except mod.Error as exc:
            raise BundledDbRefused(f"its schema cannot be read: {exc}") from None
        version_table = [s for s in actual if s[1] == "schema_version"]
        if version_table != [s for s in reference_schema(shipped[0]) if s[1] == "schema_version"]:
            raise BundledDbRefused("it has no valid schema_version table")
        try:
            versions = [str(r[0]) for r in con.execute("SELECT version FROM schema_version ORDER BY id")]
        except mod.Error as exc:
            raise BundledDbRefused(f"its schema_version table cannot be read: {exc}") from None
        if not versions:
            raise BundledDbRefused("it records no schema version")
        current = versions[-1]
        try:
            newer = parse_version(current) > parse_version(shipped[-1])
        except Exception:
            raise BundledDbRefused(f"it records an invalid schema version {current!r}") from None
        if newer:
            raise BundledSchemaTooNew(current, shipped[-1])
        if versions != shipped[:len(versions)]:
            raise BundledDbRefused(f"its schema history {', '.join(versions)} is not one Mirror ever shipped")
        expected = reference_schema(current)
        extra = sorted(f"{t} {n}" for t, n, _, _ in actual - expected)
        missing = sorted(f"{t} {n}" for t, n, _, _ in expected - actual)
        if extra or missing:
            names = {n for _, n, _, _ in actual ^ expected}
            detail = "; ".join(filter(None, [
                f"unexpected or altered: {', '.join(extra[:5])}" if extra else "",
                f"missing or altered: {', '.join(missing[:5])}" if missing else "",
            ]))
            raise BundledDbRefused(f"its schema differs from a Mirror journal ({detail})" if names else "its schema differs")
        try:
            problems = [r[0] for r in con.execute("PRAGMA integrity_check(20)")]
        except mod.Error as exc:
            raise BundledDbRefused(f"it is damaged: {exc}") from None
        if problems != ["ok"]:
            raise BundledDbRefused(f"it is damaged: {problems[0]}")
        present = {n for t, n, _, _ in actual if t == "table"}
        tables = [t for t in COPY_ORDER if t in present]  # attachments only from schema 1.3.0 on
        counts = {t: int(con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]) for t in tables}
    except mod.DatabaseError as exc:
        raise BundledDbRefused(f"it is damaged: {exc}") from None
    finally:
        con.close()
    return BundledDb(path, current, counts)


# Rows per INSERT … SELECT while staging. One statement per table made SQLite hold the whole
# full-text index it was building for reflections in memory (about 95 MiB at 100k reflections);
# statements of 1000 rows keep the import's peak near the export's (BENCHMARKS.md, Bundles).
COPY_BATCH_ROWS = 1000


def _copy_table(con: Any, table: str, batch: int | None = None) -> int:
    """Copy ``src.table`` into ``main.table`` column by column, ``batch`` rows per statement, in rowid order.

    Keyset paging on rowid (never rowid ranges: a hostile file may use sparse rowids up to 2**63).
    """
    batch = max(int(batch or COPY_BATCH_ROWS), 1)
    cols = ", ".join(f'"{r[1]}"' for r in con.execute(f'PRAGMA main.table_info("{table}")'))
    insert = f'INSERT INTO main."{table}" ({cols}) SELECT {cols} FROM src."{table}"'
    copied = 0
    after = ""  # the first page has no lower bound
    params: tuple[Any, ...] = ()
    while True:
        row = con.execute(f'SELECT rowid FROM src."{table}" {after} ORDER BY rowid LIMIT 1 OFFSET ?',
                          (*params, batch - 1)).fetchone()
        if row is None:  # the rest fits in one batch
            cur = con.execute(f"{insert} {after} ORDER BY rowid", params)
            return copied + max(int(cur.rowcount), 0)
        upto = "AND rowid <= ?" if after else "WHERE rowid <= ?"
        cur = con.execute(f"{insert} {after} {upto} ORDER BY rowid", (*params, row[0]))
        copied += max(int(cur.rowcount), 0)
        after, params = "WHERE rowid > ?", (row[0],)


def _has_table(con: Any, schema: str, table: str) -> bool:
    return con.execute(f"SELECT 1 FROM {schema}.sqlite_master WHERE type = 'table' AND name = ?",
                       (table,)).fetchone() is not None


def build_staging_journal(bundled: BundledDb, target: Path, *,
                          on_table: Callable[[str, int, int], None] | None = None) -> dict[str, int]:
    """Create a fresh journal at ``target`` (schema = the bundle's) and copy every row into it.

    Rows pass the staging journal's own CHECK and foreign-key constraints; its triggers rebuild the
    full-text index. Returns rows copied per table. The caller migrates ``target`` afterwards.
    """
    from mirror_desktop.storage.journal import SQLiteStorage

    store = SQLiteStorage(target, migrate=False)
    try:
        store.runner.migrate(target=bundled.schema_version)
    finally:
        store.close()
    mod = sqlite_module()
    con = _connect(str(target), uri=False)
    copied: dict[str, int] = {}
    try:
        con.execute("PRAGMA foreign_keys=ON")
        con.execute("PRAGMA secure_delete=ON")
        con.execute("ATTACH DATABASE ? AS src", (_readonly_uri(bundled.path),))
        if _schema_of(con, "src") != reference_schema(bundled.schema_version):
            raise BundledDbRefused("its schema changed while it was being read")
        con.execute("BEGIN IMMEDIATE")
        try:
            in_src = {r[0] for r in con.execute("SELECT name FROM src.sqlite_master WHERE type = 'table'")}
            for i, table in enumerate(COPY_ORDER):
                if table not in in_src:  # a table newer than the bundle's schema (attachments before 1.3.0)
                    continue
                copied[table] = _copy_table(con, table)
                if on_table is not None:
                    on_table(table, i + 1, len(COPY_ORDER))
            for table in EXTENSION_COPY:
                if _has_table(con, "src", table) and _has_table(con, "main", table):
                    _copy_table(con, table)
            # The migration history travels too, so the copy is exact; opening the staged journal
            # then checks each recorded checksum against the shipped migration files.
            con.execute("DELETE FROM main.schema_version")
            con.execute("INSERT INTO main.schema_version (id, version, description, applied_at, checksum) "
                        "SELECT id, version, description, applied_at, checksum FROM src.schema_version")
            bad = con.execute("PRAGMA main.foreign_key_check").fetchall()
            if bad:
                raise BundledDbRefused(f"a {bad[0][0]} row refers to a {bad[0][2]} row that does not exist")
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("DETACH DATABASE src")
        ok = con.execute("PRAGMA integrity_check").fetchone()[0]
        if ok != "ok":
            raise BundledDbRefused(f"the copied journal failed its integrity check ({ok})")
    except mod.IntegrityError as exc:
        raise BundledDbRefused(f"a row breaks the journal's rules ({str(exc).splitlines()[0]})") from None
    except mod.DatabaseError as exc:
        raise BundledDbRefused(f"it could not be read ({str(exc).splitlines()[0]})") from None
    finally:
        con.close()
    return copied


# -- import: replace and merge -----------------------------------------------------------------

def sidecar_files(path: Path) -> list[Path]:
    return [Path(f"{path}{suffix}") for suffix in ("-wal", "-shm", "-journal")]


def quiesce_sqlite(path: Path) -> None:
    """Fold the WAL into the main file and leave WAL mode, so the file alone is the whole journal.

    Refuses (one sentence) when another connection still has the journal open.
    """
    in_use = "The journal is in use by another Mirror window or program; close it and try again."
    con = _connect(str(path))
    con.execute("PRAGMA busy_timeout=1000")
    try:
        busy = con.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        if busy and busy[0]:
            raise StorageError(in_use)
        mode = con.execute("PRAGMA journal_mode=DELETE").fetchone()[0]
        if str(mode).lower() != "delete":
            raise StorageError(in_use)
    except sqlite_module().OperationalError:
        raise StorageError(in_use) from None
    finally:
        con.close()
    wal = Path(f"{path}-wal")
    if wal.exists() and wal.stat().st_size > 0:
        raise StorageError(in_use)
    for extra in (wal, Path(f"{path}-shm")):
        extra.unlink(missing_ok=True)


@dataclass
class TableMerge:
    inserted: int = 0
    duplicates: int = 0
    conflicts: int = 0
    conflict_ids: list[str] = field(default_factory=list)


def _merge_templates(live_db: peewee.Database) -> TableMerge | None:
    """The bundle's templates that are new by id and by name join the live ones; a template with a
    name the person already uses keeps theirs (a conflict), an identical one is a duplicate."""
    for schema in ("src", "main"):
        if live_db.execute_sql(f"SELECT 1 FROM {schema}.sqlite_master WHERE type = 'table' "
                               "AND name = 'templates'").fetchone() is None:
            return None
    cols = "id, name, body, created_at, updated_at, metadata"
    same = "m.id = s.id AND m.name = s.name AND m.body = s.body"
    clash = "m.id = s.id OR lower(trim(m.name)) = lower(trim(s.name))"
    tm = TableMerge()
    tm.duplicates = int(live_db.execute_sql(
        f"SELECT count(*) FROM src.templates s WHERE EXISTS (SELECT 1 FROM main.templates m WHERE {same})").fetchone()[0])
    clashing = live_db.execute_sql(
        f"SELECT s.id FROM src.templates s WHERE EXISTS (SELECT 1 FROM main.templates m WHERE {clash}) "
        f"AND NOT EXISTS (SELECT 1 FROM main.templates m WHERE {same})").fetchall()
    tm.conflicts = len(clashing)
    tm.conflict_ids = [r[0] for r in clashing[:50]]
    cur = live_db.execute_sql(f"INSERT INTO main.templates ({cols}) SELECT {cols} FROM src.templates s "
                              f"WHERE NOT EXISTS (SELECT 1 FROM main.templates m WHERE {clash})")
    tm.inserted = max(int(cur.rowcount), 0)
    return tm


def merge_sqlite(live_db: peewee.Database, staged: Path, *,
                 before_commit: Callable[[dict[str, TableMerge]], None] | None = None,
                 overwrite: dict[str, set[str]] | None = None) -> dict[str, TableMerge]:
    """Merge the staged journal into the live one by primary key, in one transaction.

    New rows are inserted; identical rows are duplicates (skipped, counted); same key with other
    content is a conflict (the live row is kept, the key reported). ``overwrite`` names rows (by
    table and id) whose live version gives way to the staged one: the importer's untouched default
    tensions taking the bundle's history (issue 11, item 8). ``before_commit(report)`` runs inside
    the transaction (the import event is recorded there, so it commits with the rows).
    """
    live_db.execute_sql("ATTACH DATABASE ? AS src", (str(staged),))
    report: dict[str, TableMerge] = {}
    try:
        with live_db.atomic():
            for table in COPY_ORDER:
                gone = sorted((overwrite or {}).get(table, ()))
                for i in range(0, len(gone), 500):
                    part = gone[i:i + 500]
                    live_db.execute_sql(f'DELETE FROM main."{table}" WHERE id IN ({", ".join("?" * len(part))})', part)
                cols = [r[1] for r in live_db.execute_sql(f'PRAGMA main.table_info("{table}")').fetchall()]
                keys = KEYS.get(table, ("id",))
                on = " AND ".join(f'm."{k}" = s."{k}"' for k in keys)
                same = " AND ".join(f'm."{c}" IS s."{c}"' for c in cols)
                tm = TableMerge()
                overlap = int(live_db.execute_sql(
                    f'SELECT count(*) FROM src."{table}" s JOIN main."{table}" m ON {on}').fetchone()[0])
                tm.duplicates = int(live_db.execute_sql(
                    f'SELECT count(*) FROM src."{table}" s JOIN main."{table}" m ON {on} WHERE {same}').fetchone()[0])
                tm.conflicts = overlap - tm.duplicates
                if tm.conflicts:
                    key_expr = " || '/' || ".join(f's."{k}"' for k in keys)
                    tm.conflict_ids = [r[0] for r in live_db.execute_sql(
                        f'SELECT {key_expr} FROM src."{table}" s JOIN main."{table}" m ON {on} '
                        f'WHERE NOT ({same}) LIMIT 50').fetchall()]
                col_list = ", ".join(f'"{c}"' for c in cols)
                sel = ", ".join(f's."{c}"' for c in cols)
                # thread positions are UNIQUE per thread: a clash with a live member is a conflict too.
                # An attachment is UNIQUE per (reflection, file): one the live side attached on its own is kept.
                verb = "INSERT OR IGNORE" if table in ("thread_reflections", "attachments") else "INSERT"
                cur = live_db.execute_sql(
                    f'{verb} INTO main."{table}" ({col_list}) SELECT {sel} FROM src."{table}" s '
                    f'WHERE NOT EXISTS (SELECT 1 FROM main."{table}" m WHERE {on})')
                tm.inserted = max(int(cur.rowcount), 0)
                if table == "thread_reflections":
                    fresh = int(live_db.execute_sql(
                        f'SELECT count(*) FROM src."{table}"').fetchone()[0]) - overlap
                    tm.conflicts += max(fresh - tm.inserted, 0)
                report[table] = tm
            for table in EXTENSION_COPY:
                merged = _merge_templates(live_db) if table == "templates" else None
                if merged is not None:
                    report[table] = merged
            bad = live_db.execute_sql("PRAGMA main.foreign_key_check").fetchall()
            if bad:
                raise StorageError(f"The merge would leave a {bad[0][0]} row without its {bad[0][2]}; nothing was merged.")
            if before_commit is not None:
                before_commit(report)
    finally:
        live_db.execute_sql("DETACH DATABASE src")
    return report
