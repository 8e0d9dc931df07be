"""Everything at rest follows the journal (issue 19, item 3): a canary planted before encryption is found in
no file under the data folder or the temp folder after a while of work (write, search, export, migrate, back up)."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import pytest

from mirror_desktop.cli.main import main
from mirror_desktop.core import models as m
from mirror_desktop.paths import AppPaths
from mirror_desktop.storage import backups, cipher
from mirror_desktop.storage.journal import SQLiteStorage
from mirror_desktop.storage.migrations import load_migrations

from enc_helpers import CANARY, make_journal


def _files_holding(root: Path, needle: bytes) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and not p.is_symlink() and needle in p.read_bytes()]


def test_no_canary_anywhere_after_encrypting_and_working(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    from mirror_desktop.bundle.export import export_bundle

    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setenv("TMPDIR", str(temp))
    monkeypatch.setattr(tempfile, "tempdir", None)
    monkeypatch.setattr(sys.stdin, "isatty", lambda: False, raising=False)
    data = tmp_path / "data"
    paths = AppPaths.resolve(data)
    journal = make_journal(paths.database)
    s = SQLiteStorage(journal)
    try:  # a plaintext backup made before encryption, and a draft
        s.backup_to(backups.new_backup_file(journal, "1.0.0"))
        s.db.execute_sql("PRAGMA wal_checkpoint(PASSIVE)")
    finally:
        s.close()
    assert _files_holding(data, CANARY.encode()), "the canary was never planted"

    pf = tmp_path / "pass.txt"
    pf.write_text("a long enough passphrase")
    assert main(["--data-dir", str(data), "encrypt", "--passphrase-file", str(pf)]) == 0

    s = SQLiteStorage(journal)  # unlocked by the command in this process
    try:
        ident = s.identities.list()[0]
        for i in range(20):
            s.reflections.create(m.Reflection(f"more about the {CANARY} and the sea {i}", identity_id=ident.id))
        assert len(s.search(CANARY, limit=100)) == 25
        out = tmp_path / "out"
        out.mkdir()
        export_bundle(s, out, paths=paths, passphrase="bundle pass", log2_n=10)
        first = load_migrations("sqlite")[0].version
        s.runner.rollback(first)
        s.migrate()  # backs up before migrating: VACUUM INTO an encrypted copy
        s.backup_to(backups.new_backup_file(journal, "after"))
        assert len(s.search(CANARY, limit=100)) == 25
    finally:
        s.close()
    assert len(backups.migration_backups(journal)) >= 3
    capsys.readouterr()
    for root in (data, temp, tmp_path / "out"):
        assert _files_holding(root, CANARY.encode()) == [], root
    cipher.forget()
