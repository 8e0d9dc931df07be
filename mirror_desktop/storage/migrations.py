"""The migration runner: applies, verifies and rolls back the SQL files in migrations/.

Each file carries a header (``-- Version: 1.0.0``, ``-- Description: ...``) and a trailing
``-- ROLLBACK:`` section of commented statements that undo it. Applying a file and recording its
``schema_version`` row (with the file's SHA-256) happen in one transaction, so a crash leaves the
journal at exactly version v or v+1 (shared/RELIABILITY.md, Migrations).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, UTC
from pathlib import Path
from collections.abc import Callable
from typing import TYPE_CHECKING

from mirror_desktop.core.errors import (
    ChecksumMismatchError,
    MigrationError,
    SchemaTooNewError,
)
from mirror_desktop.resources import migrations_dir

if TYPE_CHECKING:  # peewee loads with the runner, not with ``--version``'s look at the shipped files (issue 12)
    from importlib.resources.abc import Traversable

    import peewee

ROLLBACK_MARKER = "-- ROLLBACK:"
_VERSION_RE = re.compile(r"^--\s*Version:\s*(\d+\.\d+\.\d+)\s*$", re.M)
_DESCRIPTION_RE = re.compile(r"^--\s*Description:\s*(.+?)\s*$", re.M)


def parse_version(text: str) -> tuple[int, int, int]:
    """``"1.2.0"`` → ``(1, 2, 0)``; ``"0"`` means "no schema" (used by rollback --to 0)."""
    if text.strip() == "0":
        return (0, 0, 0)
    m = re.fullmatch(r"(\d+)\.(\d+)\.(\d+)", text.strip())
    if not m:
        raise MigrationError(f"{text!r} is not a schema version; use MAJOR.MINOR.PATCH like 1.0.0, or 0 for none.")
    return (int(m[1]), int(m[2]), int(m[3]))


@dataclass(frozen=True)
class MigrationFile:
    """One migration file as shipped: its name, version, description, SQL both ways, checksum."""

    name: str
    version: str
    description: str
    forward_sql: str
    rollback_sql: str
    checksum: str

    @property
    def version_tuple(self) -> tuple[int, int, int]:
        return parse_version(self.version)

    @classmethod
    def parse(cls, name: str, raw: bytes) -> MigrationFile:
        import hashlib  # here: the window's first page asks only for the newest version (newest_version)

        text = raw.decode("utf-8")
        vm = _VERSION_RE.search(text)
        if not vm:
            raise MigrationError(f"Migration {name} has no '-- Version:' header; the installation is damaged, reinstall Mirror.")
        dm = _DESCRIPTION_RE.search(text)
        if ROLLBACK_MARKER not in text:
            raise MigrationError(f"Migration {name} has no '{ROLLBACK_MARKER}' section; the installation is damaged, reinstall Mirror.")
        forward, _, rollback = text.partition(ROLLBACK_MARKER)
        rollback_lines = []
        for line in rollback.splitlines():
            stripped = line.strip()
            if stripped.startswith("--"):
                rollback_lines.append(stripped[2:].lstrip(" "))
        return cls(
            name=name,
            version=vm[1],
            description=dm[1] if dm else "",
            forward_sql=forward,
            rollback_sql="\n".join(rollback_lines),
            checksum=hashlib.sha256(raw).hexdigest(),
        )


@dataclass(frozen=True)
class AppliedMigration:
    """A ``schema_version`` row."""

    id: int
    version: str
    description: str | None
    applied_at: str
    checksum: str | None


@dataclass(frozen=True)
class MigrationStatus:
    """What ``mirror db status`` reports."""

    current_version: str
    app_version: str
    applied: list[AppliedMigration]
    pending: list[MigrationFile]


def _migration_files(dialect: str, folder: Path | None = None) -> list[Traversable]:
    """The shipped migration files for ``dialect`` (NNN_name.sql), in order."""
    source = folder if folder is not None else migrations_dir(dialect)
    return sorted((f for f in source.iterdir() if f.name.endswith(".sql")), key=lambda f: f.name)


def load_migrations(dialect: str, folder: Path | None = None) -> list[MigrationFile]:
    """The shipped migration files for ``dialect``, in order (NNN_name.sql)."""
    migrations = [MigrationFile.parse(f.name, f.read_bytes()) for f in _migration_files(dialect, folder)]
    versions = [m.version_tuple for m in migrations]
    if versions != sorted(versions) or len(set(versions)) != len(versions):
        raise MigrationError("The shipped migrations are not in increasing version order; reinstall Mirror.")
    return migrations


def newest_version(dialect: str) -> str | None:
    """The newest shipped schema version, from the last file's header alone (no checksums, no other files)."""
    files = _migration_files(dialect)
    found = _VERSION_RE.search(files[-1].read_text(encoding="utf-8")) if files else None
    return found[1] if found else None


def split_sqlite_statements(sql: str, complete: Callable[[str], bool]) -> list[str]:
    """Split a script into statements with SQLite's own parser (triggers hold inner semicolons)."""
    statements: list[str] = []
    buf = ""
    for line in sql.splitlines(keepends=True):
        buf += line
        if complete(buf):
            stmt = buf.strip()
            if stmt and not all(ln.strip().startswith("--") or not ln.strip() for ln in stmt.splitlines()):
                statements.append(stmt)
            buf = ""
    if buf.strip() and not all(ln.strip().startswith("--") or not ln.strip() for ln in buf.splitlines()):
        statements.append(buf.strip())
    return statements


class MigrationRunner:
    """Applies, verifies and rolls back migrations on one open database."""

    def __init__(self, db: peewee.Database, dialect: str, *, folder: Path | None = None,
                 backup: Callable[[str], None] | None = None) -> None:
        self.db = db
        self.dialect = dialect
        self.migrations = load_migrations(dialect, folder)
        self._backup = backup

    # -- reading state -------------------------------------------------------------------
    def _has_version_table(self) -> bool:
        return "schema_version" in self.db.get_tables()

    def applied(self) -> list[AppliedMigration]:
        if not self._has_version_table():
            return []
        rows = self.db.execute_sql(
            "SELECT id, version, description, applied_at, checksum FROM schema_version ORDER BY id"
        ).fetchall()
        return [AppliedMigration(r[0], r[1], r[2], str(r[3]), r[4]) for r in rows]

    @property
    def app_version(self) -> str:
        return self.migrations[-1].version if self.migrations else "0"

    def current_version(self) -> str:
        applied = self.applied()
        return applied[-1].version if applied else "0"

    def status(self) -> MigrationStatus:
        applied = self.applied()
        done = {a.version for a in applied}
        return MigrationStatus(
            current_version=applied[-1].version if applied else "0",
            app_version=self.app_version,
            applied=applied,
            pending=[m for m in self.migrations if m.version not in done],
        )

    def verify(self) -> None:
        """Refuse a database newer than the app, or one whose applied files changed since."""
        applied = self.applied()
        if not applied:
            return
        current = applied[-1].version
        if parse_version(current) > parse_version(self.app_version):
            raise SchemaTooNewError(
                f"This journal uses schema {current}, but this Mirror only knows up to {self.app_version}; "
                f"install a Mirror that supports schema {current} to open it."
            )
        by_version = {m.version: m for m in self.migrations}
        for row in applied:
            shipped = by_version.get(row.version)
            if shipped is None:
                raise MigrationError(
                    f"This journal records schema {row.version}, which this Mirror does not ship; "
                    "install the Mirror version that created it."
                )
            if row.checksum and row.checksum != shipped.checksum:
                raise ChecksumMismatchError(
                    f"Migration file {self.dialect}/{shipped.name} changed after it was applied to this journal; "
                    "reinstall Mirror or restore the original file."
                )

    def needs_migration(self) -> bool:
        return bool(self.status().pending)

    # -- changing state ------------------------------------------------------------------
    def _execute_script(self, sql: str) -> None:
        if self.dialect == "sqlite":
            from mirror_desktop.storage.database import sqlite_module

            for stmt in split_sqlite_statements(sql, sqlite_module().complete_statement):
                self.db.execute_sql(stmt)
        else:
            # PostgreSQL's simple query protocol runs a multi-statement script inside our transaction.
            with self.db.cursor() as cur:
                cur.execute(sql)

    def migrate(self, target: str | None = None,
                progress: Callable[[int, int, str], None] | None = None) -> list[str]:
        """Apply every pending migration up to ``target`` (default: all); returns versions applied."""
        self.verify()
        status = self.status()
        goal = parse_version(target) if target else parse_version(self.app_version)
        todo = [m for m in status.pending if m.version_tuple <= goal]
        if not todo:
            return []
        if status.applied and self._backup is not None:
            self._backup(status.current_version)
        done: list[str] = []
        for i, mig in enumerate(todo):
            if progress:
                progress(i, len(todo), mig.version)
            with self.db.atomic():
                self._execute_script(mig.forward_sql)
                self.db.execute_sql(
                    "INSERT INTO schema_version (version, description, applied_at, checksum) VALUES (%s, %s, %s, %s)"
                    .replace("%s", self.db.param),
                    (mig.version, mig.description, _now_for(self.dialect), mig.checksum),
                )
            done.append(mig.version)
        if progress:
            progress(len(todo), len(todo), self.app_version)
        return done

    def rollback(self, to_version: str) -> list[str]:
        """Run ROLLBACK sections in reverse order down to ``to_version`` ("0" removes every table)."""
        goal = parse_version(to_version)
        applied = self.applied()
        known = {"0.0.0"} | {a.version for a in applied}
        if ".".join(map(str, goal)) not in known:
            versions = ", ".join(["0"] + [a.version for a in applied])
            raise MigrationError(f"{to_version} is not a version this journal has been at; choose one of: {versions}.")
        self.verify()
        by_version = {m.version: m for m in self.migrations}
        undo = [a for a in reversed(applied) if parse_version(a.version) > goal]
        if undo and self._backup is not None:
            self._backup(applied[-1].version)
        undone: list[str] = []
        for row in undo:
            mig = by_version[row.version]
            with self.db.atomic():
                self._execute_script(mig.rollback_sql)
                if self._has_version_table():
                    self.db.execute_sql(f"DELETE FROM schema_version WHERE id = {self.db.param}", (row.id,))
            undone.append(row.version)
        return undone


def _now_for(dialect: str) -> object:
    now = datetime.now(UTC)
    if dialect == "sqlite":
        return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"
    return now
