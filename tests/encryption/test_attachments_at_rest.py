"""Attachments follow the journal (issue 19, item 3): encrypting moves a reflection's pictures inside the encrypted
file and overwrites the plain copies; decrypting brings them back as files; a journal opened after a conversion
that stopped half-way puts them where its kind keeps them."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from mirror_desktop.cli.main import main
from mirror_desktop.core import attachments as att
from mirror_desktop.paths import AppPaths
from mirror_desktop.storage import cipher
from mirror_desktop.storage.cipher_convert import attachment_files
from mirror_desktop.storage.journal import SQLiteStorage

from enc_helpers import CANARY, make_journal

PICTURE = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\x0dIHDR" + (CANARY.encode() * 40)


def _holding(root: Path, needle: bytes) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]


@pytest.fixture
def journal_with_picture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path, str]:
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setenv("TMPDIR", str(temp))
    monkeypatch.setattr(tempfile, "tempdir", None)
    data = tmp_path / "data"
    journal = make_journal(AppPaths.resolve(data).database, word="plain words")
    s = SQLiteStorage(journal)
    try:
        rid = s.reflections.list()[0].id
        sha = att.add_attachment(s, rid, PICTURE, filename="sea.png").sha256
    finally:
        s.close()
    assert (attachment_files(journal) / sha[:2] / sha).is_file()
    pf = tmp_path / "pass.txt"
    pf.write_text("a long enough passphrase")
    return data, pf, sha


def test_encrypt_moves_pictures_inside_and_decrypt_brings_them_back(journal_with_picture, capsys) -> None:
    data, pf, sha = journal_with_picture
    journal = AppPaths.resolve(data).database
    assert main(["--data-dir", str(data), "encrypt", "--passphrase-file", str(pf)]) == 0
    assert _holding(data, CANARY.encode()) == []  # not beside the journal, not in the journal's file in clear
    s = SQLiteStorage(journal)  # unlocked by the command in this process
    try:
        assert att.blob_folder(s) is None
        assert att.read_blob(s, sha) == PICTURE
    finally:
        s.close()

    assert main(["--data-dir", str(data), "decrypt", "--journal-passphrase-file", str(pf)]) == 0
    cipher.forget()
    s = SQLiteStorage(journal)
    try:
        assert att.blob_folder(s) is not None
        assert att.read_blob(s, sha) == PICTURE
        assert s.db.execute_sql("SELECT count(*) FROM attachment_blobs").fetchone()[0] == 0
    finally:
        s.close()
    assert (attachment_files(journal) / sha[:2] / sha).read_bytes() == PICTURE
    capsys.readouterr()


def test_files_left_beside_an_encrypted_journal_go_inside_when_it_opens(journal_with_picture, capsys) -> None:
    """A conversion killed between the swap and the move, or a bundle restored into an encrypted journal."""
    data, pf, sha = journal_with_picture
    journal = AppPaths.resolve(data).database
    left = attachment_files(journal) / sha[:2] / sha
    kept = left.read_bytes()
    assert main(["--data-dir", str(data), "encrypt", "--passphrase-file", str(pf)]) == 0
    s = SQLiteStorage(journal)
    try:
        s.db.execute_sql("DELETE FROM attachment_blobs")  # as if the move had not happened yet
    finally:
        s.close()
    left.parent.mkdir(parents=True, exist_ok=True)
    left.write_bytes(kept)
    s = SQLiteStorage(journal)
    try:
        assert att.read_blob(s, sha) == PICTURE
    finally:
        s.close()
    assert not left.exists()
    cipher.forget()
    capsys.readouterr()
