"""The `mirror db` and `mirror search` commands: output, exit codes, and nothing changed on bad input."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from mirror_desktop.core import models as m
from mirror_desktop.storage.journal import SQLiteStorage
from mirror_desktop.storage.migrations import load_migrations

# Other issues add migrations: the newest version is read, never written here.
VERSIONS = [mig.version for mig in load_migrations("sqlite")]
NEWEST = VERSIONS[-1]


def mirror(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mirror_desktop.cli", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=120)


def digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def assert_one_sentence_error(r: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert r.returncode != 0
    assert "Traceback" not in r.stderr
    lines = [ln for ln in r.stderr.strip().splitlines() if ln.strip()]
    assert len(lines) == 1, r.stderr
    for n in needles:
        assert n in lines[0], lines[0]


def test_new_data_dir_gets_a_migrated_journal(tmp_path: Path) -> None:
    r = mirror("--data-dir", str(tmp_path / "new"), "db", "status")
    assert r.returncode == 0, r.stderr
    assert f"schema version: {NEWEST}" in r.stdout
    assert all(f"applied {v}" in r.stdout for v in VERSIONS)
    assert (tmp_path / "new" / "mirror_os.db").exists()


def test_env_var_names_the_data_dir(tmp_path: Path) -> None:
    r = mirror("db", "status", env={"MIRROR_DATA_DIR": str(tmp_path / "env")})
    assert r.returncode == 0 and (tmp_path / "env" / "mirror_os.db").exists()


def test_rollback_to_zero_and_migrate_again(tmp_path: Path) -> None:
    d = str(tmp_path)
    assert mirror("--data-dir", d, "db", "status").returncode == 0
    r = mirror("--data-dir", d, "db", "rollback", "--to", "0")
    assert r.returncode == 0 and "schema version 0" in r.stdout
    s = SQLiteStorage(tmp_path / "mirror_os.db", migrate=False)
    assert not {"identities", "reflections", "schema_version"} & set(s.db.get_tables())
    s.close()
    r = mirror("--data-dir", d, "db", "migrate")
    assert r.returncode == 0 and f"schema version {NEWEST}" in r.stdout
    r = mirror("--data-dir", d, "db", "rollback", "--to", "1.0.0")
    assert r.returncode == 0 and f"rolled back {', '.join(reversed(VERSIONS[1:]))}" in r.stdout


def test_unknown_rollback_version(tmp_path: Path) -> None:
    mirror("--data-dir", str(tmp_path), "db", "status")
    before = digest(tmp_path)
    r = mirror("--data-dir", str(tmp_path), "db", "rollback", "--to", "3.0.0")
    assert_one_sentence_error(r, "3.0.0")
    assert digest(tmp_path) == before


@pytest.mark.parametrize("content,needle", [(b"this is not a database at all" * 10, "not a Mirror journal"),
                                            (b"SQLite format 3\x00" + b"\xff" * 4000, "cannot be opened")])
def test_corrupt_or_foreign_file(tmp_path: Path, content: bytes, needle: str) -> None:
    f = tmp_path / "x.db"
    f.write_bytes(content)
    before = digest(tmp_path)
    r = mirror("--db", str(f), "db", "status")
    assert_one_sentence_error(r, needle)
    assert digest(tmp_path) == before


def test_missing_file(tmp_path: Path) -> None:
    r = mirror("--db", str(tmp_path / "nope.db"), "db", "status")
    assert_one_sentence_error(r, "no journal")
    assert not (tmp_path / "nope.db").exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere; the permission check cannot fail")
def test_unwritable_directory(tmp_path: Path) -> None:  # pragma: no cover - CI runs as root
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    r = mirror("--data-dir", str(ro), "db", "status")
    assert_one_sentence_error(r, "not writable")


def test_unwritable_location(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where a folder should be")
    r = mirror("--data-dir", str(blocker / "journal"), "db", "status")
    assert_one_sentence_error(r, "Cannot create the folder")


def test_bad_dsn() -> None:
    r = mirror("--postgres", "postgresql://nobody@127.0.0.1:1/none", "db", "status")
    assert_one_sentence_error(r, "Cannot connect to PostgreSQL")
    r = mirror("--postgres", "this is = not a dsn ===", "db", "status")
    assert_one_sentence_error(r, "DSN")


def test_tampered_migration_is_refused(tmp_path: Path) -> None:
    mirror("--data-dir", str(tmp_path), "db", "status")
    s = SQLiteStorage(tmp_path / "mirror_os.db", migrate=False)
    with s.transaction():
        s.db.execute_sql("UPDATE schema_version SET checksum = 'deadbeef' WHERE version = '1.0.0'")
    s.close()
    before = digest(tmp_path)
    r = mirror("--data-dir", str(tmp_path), "db", "status")
    assert_one_sentence_error(r, "001_core.sql", "changed after it was applied")
    assert digest(tmp_path) == before


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    mirror("--data-dir", str(tmp_path), "db", "status")
    s = SQLiteStorage(tmp_path / "mirror_os.db", migrate=False)
    with s.transaction():
        s.db.execute_sql("INSERT INTO schema_version (version, description, applied_at, checksum) "
                         "VALUES ('2.0.0', 'future', '2030-01-01T00:00:00.000Z', 'x')")
    s.close()
    r = mirror("--data-dir", str(tmp_path), "search", "anything")
    assert_one_sentence_error(r, "2.0.0")


def test_search_prints_ranked_results(tmp_path: Path) -> None:
    s = SQLiteStorage(tmp_path / "mirror_os.db")
    s.reflections.create(m.Reflection("The river was loud tonight, and the river kept me awake."))
    s.reflections.create(m.Reflection("A quiet walk by the river."))
    s.reflections.create(m.Reflection("Nothing about water here."))
    s.close()
    r = mirror("--data-dir", str(tmp_path), "search", "river", "--json")
    assert r.returncode == 0, r.stderr
    import json

    hits = json.loads(r.stdout)
    assert len(hits) == 2 and "[river]" in hits[0]["snippet"]
    assert hits[0]["rank"] <= hits[1]["rank"] or hits[0]["snippet"].count("[river]") >= hits[1]["snippet"].count("[river]")
    r = mirror("--data-dir", str(tmp_path), "search", "river")
    assert r.returncode == 0 and r.stdout.count("[river]") >= 2
    r = mirror("--data-dir", str(tmp_path), "search", "--", "-river")
    assert_one_sentence_error(r, "add a word")
    r = mirror("--data-dir", str(tmp_path), "search", "river", "--since", "last week")
    assert_one_sentence_error(r, "YYYY-MM-DD")


@pytest.mark.parametrize("extra, needle", [
    (["--limit", "99999999999999999999"], "--limit must be from 1"),
    (["--limit", "0"], "--limit must be from 1"),
    (["--since", "0001-01-01"], "out of range"),
    (["--until", "9999-12-31"], "out of range"),
    (["--visibility", "everyone"], "not a visibility"),
])
def test_search_arguments_out_of_range_are_one_sentence(extra: list[str], needle: str, tmp_path: Path) -> None:
    s = SQLiteStorage(tmp_path / "mirror_os.db")
    s.reflections.create(m.Reflection("A quiet walk by the river."))
    s.close()
    r = mirror("--data-dir", str(tmp_path), "search", "river", *extra)
    assert_one_sentence_error(r, needle)


def test_a_locked_journal_is_one_sentence_and_nothing_is_saved(tmp_path: Path) -> None:
    s = SQLiteStorage(tmp_path / "mirror_os.db")
    s.close()
    # Another program holds the write lock for longer than the busy timeout.
    holder = sqlite3.connect(tmp_path / "mirror_os.db", isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        r = mirror("--data-dir", str(tmp_path), "reflect", "written while the journal was locked")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert_one_sentence_error(r, "busy")
    s = SQLiteStorage(tmp_path / "mirror_os.db")
    try:
        assert s.reflections.count() == 0
    finally:
        s.close()


def test_search_prints_times_on_the_local_clock(tmp_path: Path) -> None:
    from datetime import datetime, UTC

    s = SQLiteStorage(tmp_path / "mirror_os.db")
    s.reflections.create(m.Reflection("A late walk by the river.", created_at=datetime(2026, 3, 1, 23, 30, tzinfo=UTC)))
    s.close()
    r = mirror("--data-dir", str(tmp_path), "search", "river", env={"TZ": "Asia/Tokyo"})  # UTC+9, no DST
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("2026-03-02 08:30  "), r.stdout
    r = mirror("--data-dir", str(tmp_path), "search", "river", "--since", "2026-03-02", env={"TZ": "Asia/Tokyo"})
    assert r.stdout.startswith("2026-03-02 08:30  "), r.stdout  # the day it prints is the day --since means


def _upgrades(journal: Path) -> list[m.EvolutionEvent]:
    s = SQLiteStorage(journal, migrate=False)
    try:
        return [e for e in s.evolution_events.list() if str(e.event_type) == "upgrade"]
    finally:
        s.close()


def test_a_command_that_brings_an_older_journal_up_to_date_records_the_upgrade(tmp_path: Path) -> None:
    """Issue 17, item 5: a schema change is an upgrade event, also when a command migrates on opening."""
    d = str(tmp_path)
    assert mirror("--data-dir", d, "db", "status").returncode == 0
    assert _upgrades(tmp_path / "mirror_os.db") == []  # a new journal is an installation, not an upgrade
    assert mirror("--data-dir", d, "db", "rollback", "--to", "1.2.0").returncode == 0
    r = mirror("--data-dir", d, "list", "--json")
    assert r.returncode == 0, r.stderr
    ups = _upgrades(tmp_path / "mirror_os.db")
    assert [(e.from_version, e.to_version) for e in ups] == [("1.2.0", NEWEST)]
    assert ups[0].event_data["migrations"] == VERSIONS[VERSIONS.index("1.2.0") + 1:]
