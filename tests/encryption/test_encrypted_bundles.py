"""Bundles work the same on an encrypted journal (issue 19, item 1): export carries every reflection in a plain
SQLite file inside the bundle's own encryption; importing into an encrypted journal keeps it encrypted."""

from __future__ import annotations

from pathlib import Path

from mirror_desktop.bundle.export import export_bundle
from mirror_desktop.bundle.importer import import_bundle
from mirror_desktop.paths import AppPaths
from mirror_desktop.storage import cipher
from mirror_desktop.storage.cipher_convert import convert_journal
from mirror_desktop.storage.journal import SQLiteStorage

from enc_helpers import CANARY, make_journal


def test_export_from_encrypted_and_replace_import_into_encrypted(tmp_path: Path) -> None:
    src = AppPaths.resolve(tmp_path / "src")
    make_journal(src.database, n=7)
    key = cipher.new_key("source pass")
    convert_journal(src.database, old_key=None, new_key=key)
    s = SQLiteStorage(src.database, key=key)
    try:
        (tmp_path / "out").mkdir()
        result = export_bundle(s, tmp_path / "out", paths=src, passphrase="bundle pass", log2_n=10)
    finally:
        s.close()
    assert not [p for p in (src.data_dir / ".staging").rglob("*") if p.is_file()]

    plain_dst = AppPaths.resolve(tmp_path / "plain-dst")
    import_bundle(result.path, plain_dst, passphrase="bundle pass")
    s = SQLiteStorage(plain_dst.database)
    try:
        assert len(s.search(CANARY)) == 7 and s.key is None
    finally:
        s.close()

    enc_dst = AppPaths.resolve(tmp_path / "enc-dst")
    make_journal(enc_dst.database, n=1, word="other")
    dkey = cipher.new_key("destination pass")
    convert_journal(enc_dst.database, old_key=None, new_key=dkey)
    import_bundle(result.path, enc_dst, passphrase="bundle pass", mode="replace")
    assert cipher.file_kind(enc_dst.database) == "mirror"
    assert CANARY.encode() not in enc_dst.database.read_bytes()
    s = SQLiteStorage(enc_dst.database, key=dkey)
    try:
        assert len(s.search(CANARY)) == 7
    finally:
        s.close()
