"""Exports and bundles of a PostgreSQL journal carry attachments too (their bytes live in attachment_blobs)."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "attachments"))
from attachment_samples import png_bytes  # noqa: E402

from mirror_desktop.bundle import export as export_mod  # noqa: E402
from mirror_desktop.bundle.export import export_bundle  # noqa: E402
from mirror_desktop.bundle.importer import import_bundle  # noqa: E402
from mirror_desktop.core import attachments as att  # noqa: E402
from mirror_desktop.core import models as m  # noqa: E402
from mirror_desktop.exports.common import ExportRequest, run_export  # noqa: E402
from mirror_desktop.paths import AppPaths  # noqa: E402
from mirror_desktop.storage.journal import PostgresStorage, SQLiteStorage  # noqa: E402


@pytest.fixture
def pg(postgres_dsn: str):  # type: ignore[no-untyped-def]
    s = PostgresStorage(postgres_dsn)
    try:
        r = s.reflections.create(m.Reflection(content="A harbour day."))
        a = att.add_attachment(s, r.id, png_bytes(rgb=(5, 50, 150)), filename="harbour.png")
        s.reflections.update(m.Reflection(**{**r.__dict__, "content": f"A harbour day.\n\n{att.reference(a)}"}))
        yield s, a
    finally:
        s.close()


def test_markdown_and_day_one_exports_of_postgres_bring_the_picture(pg, tmp_path) -> None:
    s, a = pg
    md = run_export(s, ExportRequest("markdown", tmp_path / "md"))
    assert md.reflections == 1 and md.attachments == 1
    assert hashlib.sha256((tmp_path / "md" / "attachments" / f"{a.sha256}.png").read_bytes()).hexdigest() == a.sha256
    dayone = run_export(s, ExportRequest("json", tmp_path / "dayone"))
    assert dayone.attachments == 1 and len(list((tmp_path / "dayone" / "photos").iterdir())) == 1


def test_a_postgres_bundle_carries_the_picture_into_sqlite(pg, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(export_mod, "default_log2_n", 2)
    s, a = pg
    out = tmp_path / "out"
    out.mkdir()
    bundle = export_bundle(s, out, staging_root=tmp_path / "stage").path
    dst = AppPaths.resolve(tmp_path / "dst")
    import_bundle(bundle, dst)
    local = SQLiteStorage(dst.database)
    try:
        assert att.read_blob(local, a.sha256) == png_bytes(rgb=(5, 50, 150))
        assert local.attachments.count() == 1
    finally:
        local.close()


def test_merging_a_bundle_into_postgres_brings_the_bytes(postgres_dsn, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(export_mod, "default_log2_n", 2)
    src = AppPaths.resolve(tmp_path / "src")
    s = SQLiteStorage(src.database)
    try:
        r = s.reflections.create(m.Reflection(content="From the laptop."))
        a = att.add_attachment(s, r.id, png_bytes(rgb=(90, 9, 9)), filename="laptop.png")
        out = tmp_path / "out"
        out.mkdir()
        bundle = export_bundle(s, out, paths=src).path
    finally:
        s.close()
    pg = PostgresStorage(postgres_dsn)
    try:
        import_bundle(bundle, AppPaths.resolve(tmp_path / "unused"), mode="merge", storage=pg)
        assert [x.sha256 for x in att.attachments_of(pg, r.id)] == [a.sha256]
        assert att.read_blob(pg, a.sha256) == png_bytes(rgb=(90, 9, 9))
    finally:
        pg.close()
