"""Attachments in bundles (issue 15, item 3): carried with checksums, verified on import, in share exports
only with their reflection's consent."""

from __future__ import annotations

import hashlib
import json
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "attachments"))
from attachment_samples import png_bytes  # noqa: E402

from mirror_desktop.bundle import export as export_mod  # noqa: E402
from mirror_desktop.bundle.errors import DamagedBundle, HostileDatabase  # noqa: E402
from mirror_desktop.bundle.export import export_bundle  # noqa: E402
from mirror_desktop.bundle.importer import import_bundle  # noqa: E402
from mirror_desktop.core import attachments as att  # noqa: E402
from mirror_desktop.core import models as m  # noqa: E402
from mirror_desktop.core.enums import Visibility  # noqa: E402
from mirror_desktop.paths import AppPaths  # noqa: E402
from mirror_desktop.storage.journal import SQLiteStorage  # noqa: E402


@pytest.fixture(autouse=True)
def _low_work_factor(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(export_mod, "default_log2_n", 2)


@pytest.fixture
def source(tmp_path: Path) -> dict[str, Any]:
    paths = AppPaths.resolve(tmp_path / "src")
    s = SQLiteStorage(paths.database)
    try:
        me = s.identities.create(m.Identity(metadata={"name": "Me"}))
        public = s.reflections.create(m.Reflection(content="shared day", identity_id=me.id,
                                                   visibility=Visibility.SYNC_FULL_PUBLIC))
        private = s.reflections.create(m.Reflection(content="private day", identity_id=me.id))
        shared_pic = att.add_attachment(s, public.id, png_bytes(rgb=(1, 100, 1)), filename="shared.png")
        private_pic = att.add_attachment(s, private.id, png_bytes(rgb=(200, 1, 1)), filename="private.png")
    finally:
        s.close()
    return {"paths": paths, "public_pic": shared_pic, "private": private_pic, "public_id": public.id}


def _export(paths: AppPaths, out: Path, *, share: bool = False) -> Path:
    out.mkdir(exist_ok=True)
    s = SQLiteStorage(paths.database)
    try:
        return export_bundle(s, out, paths=paths, share=share).path
    finally:
        s.close()


def test_bundle_carries_attachments_with_checksums_and_import_restores_them(source, tmp_path) -> None:
    bundle = _export(source["paths"], tmp_path / "out")
    with zipfile.ZipFile(bundle) as zf:
        manifest = json.loads(zf.read("MANIFEST.json"))
        for key in ("public_pic", "private"):
            sha = source[key].sha256
            data = zf.read(f"attachments/{sha}")
            assert hashlib.sha256(data).hexdigest() == sha
            assert manifest["members"][f"attachments/{sha}"]["sha256"] == sha
    dst = AppPaths.resolve(tmp_path / "dst")
    import_bundle(bundle, dst)
    s = SQLiteStorage(dst.database)
    try:
        assert s.attachments.count() == 2
        assert att.read_blob(s, source["public_pic"].sha256) == png_bytes(rgb=(1, 100, 1))
        assert att.blob_path(s, source["private"].sha256) is not None
    finally:
        s.close()


def test_merge_brings_the_files_too(source, tmp_path) -> None:
    bundle = _export(source["paths"], tmp_path / "out")
    dst = AppPaths.resolve(tmp_path / "dst")
    s = SQLiteStorage(dst.database)
    s.reflections.create(m.Reflection(content="already here"))
    s.close()
    import_bundle(bundle, dst, mode="merge")
    s = SQLiteStorage(dst.database)
    try:
        assert s.attachments.count() == 2 and s.reflections.count() == 3
        assert att.read_blob(s, source["private"].sha256) == png_bytes(rgb=(200, 1, 1))
    finally:
        s.close()


def test_share_export_carries_only_the_consenting_reflections_attachments(source, tmp_path) -> None:
    bundle = _export(source["paths"], tmp_path / "share", share=True)
    with zipfile.ZipFile(bundle) as zf:
        names = zf.namelist()
    assert f"attachments/{source['public_pic'].sha256}" in names
    assert f"attachments/{source['private'].sha256}" not in names
    dst = AppPaths.resolve(tmp_path / "dst")
    import_bundle(bundle, dst)
    s = SQLiteStorage(dst.database)
    try:
        assert [a.reflection_id for a in s.attachments.list()] == [source["public_id"]]
    finally:
        s.close()


def _rewrite(bundle: Path, target: Path, change: dict[str, bytes | None]) -> Path:
    """A copy of ``bundle`` with members replaced (bytes) or dropped (None), the manifest updated to match."""
    with zipfile.ZipFile(bundle) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    manifest = json.loads(members["MANIFEST.json"])
    for name, data in change.items():
        if data is None:
            members.pop(name)
            manifest["members"].pop(name)
        else:
            members[name] = data
            manifest["members"][name] = {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    members["MANIFEST.json"] = json.dumps(manifest).encode()
    with zipfile.ZipFile(target, "w") as zf:
        for n, d in members.items():
            zf.writestr(n, d)
    return target


def test_a_changed_missing_or_executable_attachment_is_refused(source, tmp_path) -> None:
    bundle = _export(source["paths"], tmp_path / "out")
    sha = source["private"].sha256
    dst = AppPaths.resolve(tmp_path / "dst")
    swapped = _rewrite(bundle, tmp_path / "swapped.zip", {f"attachments/{sha}": png_bytes(rgb=(0, 0, 0))})
    with pytest.raises(DamagedBundle, match="does not match its own checksum"):
        import_bundle(swapped, dst)
    missing = _rewrite(bundle, tmp_path / "missing.zip", {f"attachments/{sha}": None})
    with pytest.raises(DamagedBundle, match="is missing"):
        import_bundle(missing, dst)
    exe = b"MZ" + b"\0" * 100
    evil_sha = hashlib.sha256(exe).hexdigest()
    s = SQLiteStorage(source["paths"].database)
    try:  # a row naming the program's bytes, as a hand-made bundle could hold
        s.db.execute_sql("UPDATE attachments SET sha256 = ? WHERE sha256 = ?", (evil_sha, sha))
    finally:
        s.close()
    (source["paths"].database.with_name("mirror_os.attachments") / evil_sha[:2]).mkdir()
    (source["paths"].database.with_name("mirror_os.attachments") / evil_sha[:2] / evil_sha).write_bytes(exe)
    evil = _export(source["paths"], tmp_path / "evil")
    with pytest.raises(HostileDatabase, match="not a picture"):
        import_bundle(evil, dst)
    assert not dst.database.exists()


def test_a_failed_merge_leaves_no_stray_files(source, tmp_path, monkeypatch) -> None:
    from mirror_desktop.bundle import importer

    bundle = _export(source["paths"], tmp_path / "out")
    dst = AppPaths.resolve(tmp_path / "dst")
    s = SQLiteStorage(dst.database)
    s.reflections.create(m.Reflection(content="already here"))
    s.close()

    def fail(step: str) -> None:
        if step == "merge-before-commit":
            raise RuntimeError("power cut")

    monkeypatch.setattr(importer, "FAULT_HOOK", fail)
    with pytest.raises(RuntimeError):
        import_bundle(bundle, dst, mode="merge")
    folder = dst.database.with_name("mirror_os.attachments")
    assert not [p for p in folder.glob("*/*") if p.parent.name != "tmp"]
    s = SQLiteStorage(dst.database)
    try:
        assert s.attachments.count() == 0 and s.reflections.count() == 1
    finally:
        s.close()
