"""Hostile archives: everything is refused from the central directory, nothing lands outside staging."""

from __future__ import annotations

import json
import os
import stat
import struct
import sys
import zipfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_import import make_bundle, raw_journal  # noqa: E402

from mirror_desktop.bundle import manifest as mf  # noqa: E402
from mirror_desktop.bundle.errors import BundleError, DamagedBundle, UnsafeArchive  # noqa: E402
from mirror_desktop.bundle.importer import import_bundle  # noqa: E402
from mirror_desktop.bundle.safezip import Limits, loads_strict, open_safely  # noqa: E402
from mirror_desktop.paths import AppPaths  # noqa: E402


def open_bundle(path: Path, limits: Limits = Limits()):
    return open_safely(path, allowed=mf.is_layout_member, allowed_dirs=mf.DIRS, size_cap=mf.member_cap, limits=limits)


def zip_with(path: Path, entries: list[tuple[zipfile.ZipInfo | str, bytes]]) -> Path:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names on purpose
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            for info, data in entries:
                zf.writestr(info, data)
    return path


def symlink_info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


@pytest.mark.parametrize("entries, reason", [
    ([("../evil.txt", b"x")], "path traversal"),
    ([("constitution/../../evil.md", b"x")], "path traversal"),
    ([("/etc/evil", b"x")], "absolute path"),
    ([("constitution\\..\\evil.md", b"x")], "backslash"),
    ([("C:/evil", b"x")], "colon"),
    ([("config.json", b"{}"), ("config.json", b"{}")], "appears twice"),
    ([("constitution/a.md", b"x"), ("constitution/A.md", b"y")], "letter case"),
    ([("evolution/history/x.json", b"{}"), ("Evolution/history/x.json", b"{}")], "letter case"),
    ([("payload.exe", b"x")], "unexpected member"),
    ([("constitution/sub/x.md", b"x")], "unexpected member"),
    ([("weird/", b"")], "unexpected folder"),
    ([(symlink_info("config.json"), b"/etc/passwd")], "symbolic link"),
])
def test_refused_from_the_directory(entries, reason: str, tmp_path: Path) -> None:
    z = zip_with(tmp_path / "bad.zip", entries)
    with pytest.raises(UnsafeArchive, match=reason):
        open_bundle(z)


def test_bomb_refused_by_ratio(tmp_path: Path) -> None:
    z = zip_with(tmp_path / "bomb.zip", [("config.json", b"\0" * (10 * 1024 * 1024))])
    info = zipfile.ZipFile(z).getinfo("config.json")
    assert info.file_size / info.compress_size > 1000
    with pytest.raises(UnsafeArchive, match="zip bomb"):
        open_bundle(z)


def test_per_member_and_total_caps(tmp_path: Path) -> None:
    z = zip_with(tmp_path / "big.zip", [("config.json", os.urandom(2 * 1024 * 1024)),
                                        ("integrations/configs.json", os.urandom(2 * 1024 * 1024))])
    with pytest.raises(UnsafeArchive, match="above the limit"):
        open_safely(z, allowed=mf.is_layout_member, allowed_dirs=mf.DIRS, size_cap=lambda n: 1024 * 1024)
    with pytest.raises(UnsafeArchive, match="add up"):
        open_bundle(z, Limits(max_total_bytes=3 * 1024 * 1024))
    with pytest.raises(UnsafeArchive, match="members"):
        open_bundle(z, Limits(max_members=1))


def _patch_central_size(path: Path, name: bytes, new_size: int) -> None:
    data = bytearray(path.read_bytes())
    # find the central record for ``name``
    pos = 0
    while True:
        pos = data.find(b"PK\x01\x02", pos)
        assert pos >= 0
        n = struct.unpack_from("<H", data, pos + 28)[0]
        if bytes(data[pos + 46:pos + 46 + n]) == name:
            struct.pack_into("<I", data, pos + 24, new_size)
            break
        pos += 4
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("delta", [-10, +10])
def test_lying_sizes_refused_while_reading(delta: int, tmp_path: Path) -> None:
    payload = json.dumps({"k": "v" * 5000}).encode()
    z = zip_with(tmp_path / "lie.zip", [("config.json", payload)])
    _patch_central_size(z, b"config.json", len(payload) + delta)
    with open_bundle(z) as archive:
        with pytest.raises((UnsafeArchive, DamagedBundle)):
            archive.read_member("config.json")


def test_size_differing_from_manifest_refused(tmp_path: Path) -> None:
    z = zip_with(tmp_path / "m.zip", [("config.json", b"{}")])
    with open_bundle(z) as archive:
        with pytest.raises(DamagedBundle, match="in the manifest"):
            archive.read_member("config.json", expected_size=3)


def test_overlapping_members_refused(tmp_path: Path) -> None:
    z = zip_with(tmp_path / "o.zip", [("config.json", b"{}" * 100), ("integrations/configs.json", b"[]" * 100)])
    data = bytearray(z.read_bytes())
    second = data.find(b"PK\x01\x02", data.find(b"PK\x01\x02") + 4)
    struct.pack_into("<I", data, second + 42, 0)  # its local header offset now points at the first member
    z.write_bytes(bytes(data))
    with pytest.raises((UnsafeArchive, DamagedBundle)):
        open_bundle(z)


def test_prepended_data_refused(tmp_path: Path) -> None:
    z = zip_with(tmp_path / "p.zip", [("config.json", b"{}")])
    z.write_bytes(b"MZ" + b"\0" * 100 + z.read_bytes())
    with pytest.raises((UnsafeArchive, BundleError)):
        open_bundle(z)


def test_zip_encryption_flag_refused(tmp_path: Path) -> None:
    z = zip_with(tmp_path / "e.zip", [("config.json", b"{}")])
    data = bytearray(z.read_bytes())
    cd = data.find(b"PK\x01\x02")
    data[cd + 8] |= 0x1  # general purpose flag: encrypted
    z.write_bytes(bytes(data))
    with pytest.raises(UnsafeArchive, match="zip encryption"):
        open_bundle(z)


def test_strict_json() -> None:
    assert loads_strict(b'{"a": [1, {"b": null}]}', "x") == {"a": [1, {"b": None}]}
    for bad in (b'{"a": 1, "a": 2}', b'{"a": NaN}', b'{"a": Infinity}', b"[" * 40 + b"]" * 40,
                b"[" * 100000 + b"]" * 100000, b"\xff\xfe", b"{"):
        with pytest.raises(DamagedBundle):
            loads_strict(bad, "x")


@pytest.mark.parametrize("extra", [
    {"../../outside.md": b"escaped"},
    {"constitution/../../../outside.md": b"escaped"},
    {"/tmp/outside.md": b"escaped"},
])
def test_import_of_a_hostile_bundle_creates_nothing_outside_staging(extra, tmp_path: Path) -> None:
    db = raw_journal(tmp_path / "j.db")
    bundle = tmp_path / "b.zip"
    make_bundle(bundle, db)
    data = zipfile.ZipFile(bundle)
    with zipfile.ZipFile(tmp_path / "h.zip", "w") as out:
        for n in data.namelist():
            out.writestr(n, data.read(n))
        for n, d in extra.items():
            out.writestr(zipfile.ZipInfo(n), d)
    before = {p for p in tmp_path.rglob("*")}
    dst = AppPaths.resolve(tmp_path / "dst")
    with pytest.raises(UnsafeArchive):
        import_bundle(tmp_path / "h.zip", dst)
    after = {p for p in tmp_path.rglob("*")} - before
    assert all(".staging" in str(p) or p == dst.data_dir for p in after)
    assert not list((dst.data_dir / ".staging").iterdir())
    assert not dst.database.exists()
    assert not Path("/tmp/outside.md").exists()


def test_member_not_listed_in_manifest_refused(tmp_path: Path) -> None:
    db = raw_journal(tmp_path / "j.db")
    make_bundle(tmp_path / "b.zip", db)
    src = zipfile.ZipFile(tmp_path / "b.zip")
    with zipfile.ZipFile(tmp_path / "x.zip", "w") as out:
        for n in src.namelist():
            out.writestr(n, src.read(n))
        out.writestr("constitution/extra.md", b"# not in the manifest")
    with pytest.raises(UnsafeArchive, match="does not list"):
        import_bundle(tmp_path / "x.zip", AppPaths.resolve(tmp_path / "dst"))
