"""An encrypted journal (issue 19, item 1): every pragma holds, search, migrations, rollback and readers work,
and each kind of file Mirror cannot open is refused in its own sentence."""

from __future__ import annotations

from pathlib import Path

import pytest

from mirror_desktop.core import models as m
from mirror_desktop.core.errors import StorageError
from mirror_desktop.storage import cipher
from mirror_desktop.storage.cipher_convert import convert_journal
from mirror_desktop.storage.journal import SQLiteStorage
from mirror_desktop.storage.migrations import load_migrations

from enc_helpers import CANARY

PRAGMAS = ("journal_mode", "synchronous", "foreign_keys", "busy_timeout", "secure_delete", "trusted_schema")
EXPECTED = {"journal_mode": "wal", "synchronous": 2, "foreign_keys": 1, "busy_timeout": 5000,
            "secure_delete": 1, "trusted_schema": 0}


def _encrypt(journal: Path, passphrase: str = "correct horse battery") -> cipher.JournalKey:
    key = cipher.new_key(passphrase)
    convert_journal(journal, old_key=None, new_key=key)
    cipher.forget()  # as a new process would start: nothing unlocked
    return key


def test_every_pragma_holds_on_an_encrypted_journal_and_its_reader(plain_journal: Path) -> None:
    key = _encrypt(plain_journal)
    s = SQLiteStorage(plain_journal, key=key)
    r = s.open_reader()
    try:
        assert {p: s.db.execute_sql(f"PRAGMA {p}").fetchone()[0] for p in PRAGMAS} == EXPECTED
        assert s.db.execute_sql("PRAGMA cipher_version").fetchone()[0].startswith("4.")
        settings = {row[0] for row in s.db.execute_sql("PRAGMA cipher_settings").fetchall()}
        assert "PRAGMA cipher_hmac_algorithm = HMAC_SHA256;" in settings
        assert "PRAGMA cipher_page_size = 4096;" in settings
        assert s.db.execute_sql("PRAGMA cache_size").fetchone()[0] == -cipher.ENCRYPTED_CACHE_KIB
        assert {p: r.db.execute_sql(f"PRAGMA {p}").fetchone()[0] for p in PRAGMAS} == EXPECTED
        assert r.db.execute_sql("PRAGMA query_only").fetchone()[0] == 1
        assert [h.reflection.id for h in r.search(CANARY)] == [h.reflection.id for h in s.search(CANARY)]
        assert len(s.search(CANARY)) == 5
    finally:
        r.close()
        s.close()
    assert CANARY.encode() not in plain_journal.read_bytes()
    assert plain_journal.read_bytes()[:16] == key.salt


def test_writes_drafts_search_and_a_second_connection_work_encrypted(plain_journal: Path) -> None:
    key = _encrypt(plain_journal)
    cipher.remember(key)  # unlocked once: every later open of the file finds it by its salt
    s = SQLiteStorage(plain_journal)
    try:
        ident = s.identities.list()[0]
        s.reflections.create(m.Reflection("a new line about otters", identity_id=ident.id))
        assert len(s.search("otters")) == 1
        assert s.db.execute_sql("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        s.close()


def test_migrations_and_rollback_work_encrypted(plain_journal: Path) -> None:
    key = _encrypt(plain_journal)
    newest = load_migrations("sqlite")[-1].version
    first = load_migrations("sqlite")[0].version
    s = SQLiteStorage(plain_journal, key=key)
    try:
        s.runner.rollback(first)
        assert s.schema_version() == first
        s.migrate()
        assert s.schema_version() == newest
        assert len(s.search(CANARY)) == 5
    finally:
        s.close()


def test_a_backup_of_an_encrypted_journal_is_encrypted_with_the_same_key(plain_journal: Path, tmp_path: Path) -> None:
    key = _encrypt(plain_journal)
    s = SQLiteStorage(plain_journal, key=key)
    target = tmp_path / "copy.db"
    try:
        s.backup_to(target)
    finally:
        s.close()
    assert CANARY.encode() not in target.read_bytes()
    copy = SQLiteStorage(target, migrate=False, key=key)
    try:
        assert len(copy.search(CANARY)) == 5
    finally:
        copy.close()


def test_without_a_key_the_journal_is_locked_in_one_sentence(plain_journal: Path) -> None:
    _encrypt(plain_journal)
    with pytest.raises(cipher.JournalLocked, match="is encrypted and no passphrase was given"):
        SQLiteStorage(plain_journal)


def test_a_wrong_passphrase_is_refused_and_changes_nothing(plain_journal: Path) -> None:
    _encrypt(plain_journal)
    before = plain_journal.read_bytes()
    with pytest.raises(cipher.WrongPassphrase, match="does not open the journal"):
        cipher.unlock(plain_journal, "not the passphrase")
    wrong = cipher.derive_key("not it", cipher.file_salt(plain_journal) or b"")
    with pytest.raises(cipher.WrongPassphrase):
        SQLiteStorage(plain_journal, key=wrong)
    assert plain_journal.read_bytes() == before


def test_unlock_with_the_right_passphrase(plain_journal: Path) -> None:
    _encrypt(plain_journal, "right one")
    key = cipher.unlock(plain_journal, "right one")
    s = SQLiteStorage(plain_journal)  # remembered by unlock
    try:
        assert len(s.search(CANARY)) == 5
        assert s.key == key
    finally:
        s.close()


def test_empty_passphrase_refused() -> None:
    with pytest.raises(StorageError, match="empty passphrase"):
        cipher.new_key("")


def test_not_a_database_sqlcipher_not_mirror_and_newer_format_are_told_apart(tmp_path: Path) -> None:
    text = tmp_path / "notes.db"
    text.write_text("just some notes\n" * 100)
    with pytest.raises(StorageError, match="not an SQLite database"):
        SQLiteStorage(text)
    # Another program's SQLCipher database (its own passphrase KDF, its own random salt).
    other = tmp_path / "other.db"
    con = cipher.sqlcipher_module().connect(str(other))
    con.execute("PRAGMA key = 'theirs'")
    con.execute("CREATE TABLE t (x)")
    con.commit()
    con.close()
    with pytest.raises(StorageError, match="SQLCipher\\) database but not a Mirror journal"):
        SQLiteStorage(other)
    with pytest.raises(StorageError, match="but not a Mirror journal"):
        cipher.unlock(other, "theirs")
    # A journal whose salt says a later format (a newer SQLCipher's settings).
    newer = tmp_path / "newer.db"
    key = cipher.new_key("pass")
    salt = key.salt[:14] + b"2" + key.salt[15:]
    s = SQLiteStorage(newer, key=cipher.JournalKey(key.raw, salt))
    s.close()
    with pytest.raises(StorageError, match="encrypted by a newer Mirror"):
        SQLiteStorage(newer)


def test_plain_journals_are_unchanged(plain_journal: Path) -> None:
    assert plain_journal.read_bytes()[:16] == b"SQLite format 3\x00"
    s = SQLiteStorage(plain_journal)
    try:
        assert s.key is None
        assert type(s.db).__name__ == "LockedSqliteDatabase"
        assert {p: s.db.execute_sql(f"PRAGMA {p}").fetchone()[0] for p in PRAGMAS} == EXPECTED
    finally:
        s.close()
