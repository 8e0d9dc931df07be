"""Migrations: up → down → up gives the same schema, checksums are verified, newer journals are refused."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from mirror_desktop.core.errors import ChecksumMismatchError, MigrationError, SchemaTooNewError
from mirror_desktop.resources import migrations_dir
from mirror_desktop.storage.journal import open_storage
from mirror_desktop.storage.migrations import MigrationRunner, load_migrations

SPEC_TABLES = {"identities", "reflections", "mirrorbacks", "threads", "thread_reflections", "tensions", "axes",
               "engine_runs", "engine_feedback", "evolution_proposals", "evolution_history", "evolution_events",
               "integrations", "schema_version"}


def normalised_schema(storage: Any) -> list[tuple[str, ...]]:
    """Everything that defines the schema, as comparable rows, whitespace-normalised."""
    if storage.dialect == "sqlite":
        rows = storage.db.execute_sql(
            "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name"
        ).fetchall()
        return [(t, n, tb, re.sub(r"\s+", " ", s or "")) for t, n, tb, s in rows]
    queries = [
        "SELECT table_name, column_name, data_type, is_nullable, coalesce(column_default, ''), coalesce(generation_expression, '') "
        "FROM information_schema.columns WHERE table_schema = 'public' ORDER BY table_name, column_name",
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE connamespace = 'public'::regnamespace ORDER BY 1, 2",
        "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1, 2",
        "SELECT event_object_table, trigger_name, event_manipulation, action_statement FROM information_schema.triggers "
        "WHERE trigger_schema = 'public' ORDER BY 1, 2, 3",
        "SELECT proname, pg_get_functiondef(oid) FROM pg_proc WHERE pronamespace = 'public'::regnamespace ORDER BY 1",
    ]
    out: list[tuple[str, ...]] = []
    for q in queries:
        out += [tuple(str(v) for v in r) for r in storage.db.execute_sql(q).fetchall()]
    return out


def tables(storage: Any) -> set[str]:
    return set(storage.db.get_tables())


def versions(dialect: str) -> list[str]:
    return [m.version for m in load_migrations(dialect)]


def test_every_file_has_header_and_rollback(backend: str) -> None:
    migs = load_migrations(backend)
    assert migs[0].name == "001_core.sql" and migs[0].version == "1.0.0"
    for mig in migs:
        text = (migrations_dir(backend) / mig.name).read_text()
        for header in ("-- Migration:", "-- Version:", "-- Date:", "-- Description:", "-- ROLLBACK:"):
            assert header in text, f"{mig.name} lacks {header}"
        assert mig.rollback_sql.strip(), f"{mig.name} has an empty rollback"


def test_fresh_journal_has_every_spec_table(storage: Any) -> None:
    assert SPEC_TABLES <= tables(storage)
    assert storage.schema_version() == versions(storage.dialect)[-1]
    applied = storage.runner.applied()
    assert [a.version for a in applied] == versions(storage.dialect)
    assert all(a.checksum and len(a.checksum) == 64 for a in applied)


def test_up_down_up_from_every_version(journal_location: dict[str, Any]) -> None:
    storage = open_storage(**journal_location, migrate=False)
    try:
        runner = storage.runner
        snapshots: dict[str, list[tuple[str, ...]]] = {"0": normalised_schema(storage)}
        for v in versions(storage.dialect):
            runner.migrate(target=v)
            snapshots[v] = normalised_schema(storage)
        full = snapshots[versions(storage.dialect)[-1]]
        for v in ["0", *versions(storage.dialect)]:
            runner.rollback(v)
            assert normalised_schema(storage) == snapshots[v], f"rollback to {v} did not restore its schema"
            assert storage.schema_version() == v
            runner.migrate()
            assert normalised_schema(storage) == full, f"up again from {v} differs"
        runner.rollback("0")
        assert not (SPEC_TABLES & tables(storage)), "rollback --to 0 must remove every spec table"
    finally:
        storage.close()


def test_unknown_rollback_version_changes_nothing(storage: Any) -> None:
    before = normalised_schema(storage)
    with pytest.raises(MigrationError, match="not a version this journal has been at"):
        storage.runner.rollback("0.5.0")
    with pytest.raises(MigrationError, match="MAJOR.MINOR.PATCH"):
        storage.runner.rollback("latest")
    assert normalised_schema(storage) == before


def test_edited_migration_is_refused_naming_the_file(backend: str, journal_location: dict[str, Any], tmp_path: Path) -> None:
    folder = tmp_path / "migs"
    shutil.copytree(Path(str(migrations_dir(backend))), folder)
    storage = open_storage(**journal_location, migrate=False)
    try:
        MigrationRunner(storage.db, backend, folder=folder).migrate()
        core = folder / "001_core.sql"
        core.write_text(core.read_text().replace("-- Description:", "-- Description: (edited)"))
        with pytest.raises(ChecksumMismatchError, match="001_core.sql"):
            MigrationRunner(storage.db, backend, folder=folder).verify()
        with pytest.raises(ChecksumMismatchError):
            MigrationRunner(storage.db, backend, folder=folder).migrate()
    finally:
        storage.close()


def test_newer_journal_is_refused_with_the_version_needed(journal_location: dict[str, Any]) -> None:
    storage = open_storage(**journal_location)
    p = storage.db.param
    with storage.transaction():
        storage.db.execute_sql(f"INSERT INTO schema_version (version, description, applied_at, checksum) VALUES ({p}, {p}, {p}, {p})",
                               ("7.0.0", "from the future", storage.models.SchemaVersion.applied_at.db_value(
                                   __import__("datetime").datetime.now(__import__("datetime").timezone.utc)), "x"))
    storage.close()
    with pytest.raises(SchemaTooNewError, match="7.0.0"):
        open_storage(**journal_location)


def test_a_refused_journal_is_not_left_open(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mirror_desktop.storage import journal

    path = tmp_path / "mirror_os.db"
    storage = open_storage(sqlite_path=path)
    with storage.transaction():
        storage.db.execute_sql("INSERT INTO schema_version (version, description, applied_at, checksum) "
                               "VALUES ('7.0.0', 'from the future', '2030-01-01T00:00:00.000Z', 'x')")
    storage.close()
    opened: list[Any] = []
    real = journal.open_sqlite
    monkeypatch.setattr(journal, "open_sqlite", lambda *a, **k: opened.append(real(*a, **k)) or opened[-1])
    with pytest.raises(SchemaTooNewError):
        open_storage(sqlite_path=path)
    assert len(opened) == 1 and opened[0].is_closed()


def test_sqlite_backup_before_migrating(tmp_path: Path) -> None:
    path = tmp_path / "mirror_os.db"
    storage = open_storage(sqlite_path=path, migrate=False)
    storage.runner.migrate(target="1.0.0")
    storage.identities.create(__import__("mirror_desktop.core.models", fromlist=["Identity"]).Identity(metadata={"name": "kept"}))
    storage.migrate()
    storage.close()
    backups = list((tmp_path / "backups").glob("*.db"))
    assert len(backups) == 1 and "schema-1.0.0" in backups[0].name
    old = open_storage(sqlite_path=backups[0], migrate=False)
    try:
        assert old.schema_version() == "1.0.0"
        assert old.counts()["identities"] == 1
    finally:
        old.close()


def test_fresh_journal_is_not_backed_up(tmp_path: Path) -> None:
    open_storage(sqlite_path=tmp_path / "mirror_os.db").close()
    assert not (tmp_path / "backups").exists()
