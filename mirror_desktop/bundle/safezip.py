"""Safe reading of an untrusted zip: validate the whole central directory first, then read members
only through byte-capped, hashing streams (shared/RELIABILITY.md, Bundles: zip slip, symlinks,
duplicates, zip bombs, lying sizes).

Nothing is ever extracted by name: callers get the validated ``ZipInfo`` objects and read each one
into a destination they choose inside their staging folder. No Qt here.
"""

from __future__ import annotations

import hashlib
import stat
import struct
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO
from collections.abc import Callable, Iterator

from mirror_desktop.core import safe_io
from mirror_desktop.bundle.errors import DamagedBundle, NotABundle, OperationCancelled, UnsafeArchive

READ_CHUNK = 1024 * 1024
_LOCAL_HEADER = struct.Struct("<4s5H3L2H")  # signature .. extra length: 30 bytes
_LOCAL_SIG = b"PK\x03\x04"


@dataclass(frozen=True)
class Limits:
    """Caps applied before a single member byte is decompressed."""

    max_members: int = 500_000
    max_central_directory: int = 128 * 1024 * 1024
    max_member_bytes: int = 64 * 1024 * 1024       # every member except the ones given larger caps
    big_member_bytes: int = 64 * 1024 * 1024 * 1024  # mirror_os.db
    max_total_bytes: int = 80 * 1024 * 1024 * 1024
    max_ratio: int = 200                          # uncompressed : compressed
    ratio_floor: int = 1024 * 1024                # small members may compress better than that
    max_name_length: int = 255


def _bad_name(name: str) -> str | None:
    """Why ``name`` is unsafe as a member name, or None."""
    if not name:
        return "a member has an empty name"
    if "\\" in name or ":" in name or "\x00" in name:
        return f"the member name {name!r} contains a backslash, colon or NUL"
    if any(ord(c) < 32 or ord(c) == 0x7F for c in name):
        return f"the member name {name!r} contains control characters"
    if name.startswith("/"):
        return f"the member {name!r} has an absolute path"
    body = name[:-1] if name.endswith("/") else name
    parts = body.split("/")
    if any(p in ("", ".", "..") for p in parts):
        return f"the member {name!r} contains an empty, '.' or '..' path part (a path traversal)"
    return None


def _fold(name: str) -> str:
    return unicodedata.normalize("NFC", name).casefold()


def _file_kind(info: zipfile.ZipInfo) -> str:
    """'file', 'dir' or the reason it is neither (symlink, device ...)."""
    is_dir_name = info.filename.endswith("/")
    mode = info.external_attr >> 16
    if info.create_system == 3 and mode:  # Unix attributes present
        fmt = stat.S_IFMT(mode)
        if fmt == stat.S_IFLNK:
            return f"the member {info.filename!r} is a symbolic link"
        if fmt == stat.S_IFDIR:
            return "dir" if is_dir_name else f"the member {info.filename!r} is marked as a folder"
        if fmt not in (stat.S_IFREG, 0):
            return f"the member {info.filename!r} is a special file"
    if info.external_attr & 0x10 and not is_dir_name:  # MS-DOS directory attribute
        return f"the member {info.filename!r} is marked as a folder"
    return "dir" if is_dir_name else "file"


class SafeArchive:
    """A zip whose central directory passed every check; read members with ``open_member``."""

    def __init__(self, zf: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo], dirs: set[str]) -> None:
        self._zf = zf
        self.members = members
        self.dirs = dirs

    def close(self) -> None:
        self._zf.close()

    def __enter__(self) -> SafeArchive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def names(self) -> list[str]:
        return sorted(self.members)

    def size(self, name: str) -> int:
        return int(self.members[name].file_size)

    def open_stream(self, name: str) -> BinaryIO:
        """A validated member as a stream (the reader caps what it takes; issue 15's media files)."""
        return self._zf.open(self.members[name], "r")  # type: ignore[return-value]

    def head(self, name: str, n: int = 32) -> bytes:
        """The first ``n`` decompressed bytes of a validated member (sniffing a file's type; issue 15)."""
        try:
            with self._zf.open(self.members[name], "r") as src:
                return bytes(src.read(min(n, int(self.members[name].file_size))))
        except (zipfile.BadZipFile, EOFError, zlib_error()) as exc:
            raise DamagedBundle(f"{name} cannot be decompressed: {exc}") from None

    def stream_member(self, name: str, sink: Callable[[bytes], Any], *, expected_size: int | None = None,
                      is_cancelled: Callable[[], bool] | None = None) -> tuple[int, str]:
        """Decompress one validated member into ``sink`` in chunks; returns (size, sha256 hex).

        The stream is capped at the size the central directory declared (and ``expected_size``,
        the manifest's); a member that yields more or fewer bytes is refused as lying.
        """
        info = self.members[name]
        cap = int(info.file_size) if expected_size is None else min(int(info.file_size), expected_size)
        if expected_size is not None and expected_size != info.file_size:
            raise DamagedBundle(f"{name} is {info.file_size} bytes in the zip but {expected_size} in the manifest")
        h = hashlib.sha256()
        total = 0
        try:
            with self._zf.open(info, "r") as src:
                while True:
                    if is_cancelled is not None and is_cancelled():
                        raise OperationCancelled()
                    chunk = src.read(min(READ_CHUNK, cap - total + 1))
                    if not chunk:
                        break
                    total += len(chunk)
                    if total > cap:
                        raise UnsafeArchive(f"the member {name} holds more data than it declares")
                    h.update(chunk)
                    sink(chunk)
        except (zipfile.BadZipFile, EOFError, zlib_error()) as exc:
            raise DamagedBundle(f"{name} cannot be decompressed: {exc}") from None
        if total != cap:
            raise UnsafeArchive(f"the member {name} holds less data than it declares")
        return total, h.hexdigest()

    def read_member(self, name: str, *, expected_size: int | None = None, cap: int = 64 * 1024 * 1024) -> tuple[bytes, str]:
        """A small member in memory (manifest, JSON files), refused above ``cap`` bytes."""
        if self.members[name].file_size > cap:
            raise UnsafeArchive(f"the member {name} is larger than {cap} bytes")
        parts: list[bytes] = []
        _, digest = self.stream_member(name, parts.append, expected_size=expected_size)
        return b"".join(parts), digest

    def copy_member(self, name: str, target: Path, *, expected_size: int | None = None,
                    is_cancelled: Callable[[], bool] | None = None) -> str:
        """Decompress one member to ``target`` (a path the caller chose in staging); returns sha256."""
        with open(target, "xb") as out:
            _, digest = self.stream_member(name, out.write, expected_size=expected_size, is_cancelled=is_cancelled)
        return digest


def zlib_error() -> type[BaseException]:
    import zlib

    return zlib.error


def _end_record(fh: BinaryIO) -> tuple[int, int]:
    """(entries, central directory size) from the end record, before zipfile parses anything."""
    endrec = zipfile._EndRecData(fh)  # type: ignore[attr-defined]  # stable since Python 2
    if not endrec:
        raise NotABundle("This file is not a Mirror bundle (it is not a zip or an age file); "
                         "choose a mirror_bundle_….zip or ….zip.age file.")
    return int(endrec[zipfile._ECD_ENTRIES_TOTAL]), int(endrec[zipfile._ECD_SIZE])  # type: ignore[attr-defined]


def open_safely(path: Path, *, allowed: Callable[[str], bool], allowed_dirs: frozenset[str],
                size_cap: Callable[[str], int], limits: Limits = Limits()) -> SafeArchive:
    """Validate the whole central directory of ``path``; return a SafeArchive or raise.

    ``allowed(name)`` says whether a file member is part of the layout; ``size_cap(name)`` is its
    largest acceptable uncompressed size.
    """
    path = Path(path)
    file_size = path.stat().st_size
    with open(path, "rb") as fh:
        entries, cd_size = _end_record(fh)
    if entries > limits.max_members:
        raise UnsafeArchive(f"it has {entries} members, more than a bundle can hold")
    if cd_size > limits.max_central_directory:
        raise UnsafeArchive("its table of contents is implausibly large")
    try:
        zf = zipfile.ZipFile(path, "r")
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise NotABundle(f"This file is not a readable zip ({exc}); choose a Mirror bundle.") from None
    try:
        members, dirs = _validate(zf, path, file_size, allowed, allowed_dirs, size_cap, limits)
    except BaseException:
        zf.close()
        raise
    return SafeArchive(zf, members, dirs)


def _validate(zf: zipfile.ZipFile, path: Path, file_size: int, allowed: Callable[[str], bool],
              allowed_dirs: frozenset[str], size_cap: Callable[[str], int],
              limits: Limits) -> tuple[dict[str, zipfile.ZipInfo], set[str]]:
    infos = zf.infolist()
    if len(infos) > limits.max_members:
        raise UnsafeArchive(f"it has {len(infos)} members, more than a bundle can hold")
    seen: dict[str, str] = {}
    members: dict[str, zipfile.ZipInfo] = {}
    dirs: set[str] = set()
    total = 0
    for info in infos:
        name = info.filename
        if len(name) > limits.max_name_length:
            raise UnsafeArchive("a member name is too long")
        why = _bad_name(name)
        if why:
            raise UnsafeArchive(why)
        # zipfile turns backslashes into slashes on Windows only; the raw name must agree too.
        if getattr(info, "orig_filename", name) != name:
            raise UnsafeArchive(f"the member name {info.orig_filename!r} is not a plain path")
        folded = _fold(name)
        if folded in seen:
            same = seen[folded] == name
            raise UnsafeArchive(
                f"the member {name!r} appears twice" if same
                else f"the members {seen[folded]!r} and {name!r} differ only in letter case"
            )
        seen[folded] = name
        kind = _file_kind(info)
        if kind not in ("file", "dir"):
            raise UnsafeArchive(kind)
        if info.flag_bits & 0x1:
            raise UnsafeArchive(f"the member {name} is encrypted with zip encryption")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise UnsafeArchive(f"the member {name} uses an unsupported compression method")
        if kind == "dir":
            if name not in allowed_dirs:
                raise UnsafeArchive(f"it contains an unexpected folder {name!r}")
            if info.file_size:
                raise UnsafeArchive(f"the folder entry {name!r} holds data")
            dirs.add(name)
            continue
        if not allowed(name):
            raise UnsafeArchive(f"it contains an unexpected member {name!r}")
        size = int(info.file_size)
        if size > size_cap(name):
            raise UnsafeArchive(f"the member {name} is {size} bytes, above the limit for it")
        packed = int(info.compress_size)
        if info.compress_type == zipfile.ZIP_STORED and packed != size:
            raise UnsafeArchive(f"the stored member {name} declares two different sizes")
        if size > limits.ratio_floor and size > limits.max_ratio * max(packed, 1):
            raise UnsafeArchive(f"the member {name} would expand {size // max(packed, 1)}:1 (a zip bomb)")
        total += size
        if total > limits.max_total_bytes:
            raise UnsafeArchive("its members add up to more than a bundle can hold")
        members[name] = info
    _check_layout_on_disk(zf, path, file_size, infos)
    return members, dirs


def _check_layout_on_disk(zf: zipfile.ZipFile, path: Path, file_size: int, infos: list[zipfile.ZipInfo]) -> None:
    """Local headers exist where the directory says, carry the same names, and never overlap.

    Overlapping members are how "quines" and overlapped-entry bombs get their leverage.
    """
    start_dir = getattr(zf, "start_dir", file_size)
    ordered = sorted(infos, key=lambda i: i.header_offset)
    with open(path, "rb") as fh:
        if ordered and ordered[0].header_offset != 0:
            raise UnsafeArchive("there is unexplained data before its first member")
        end_prev = 0
        for info in ordered:
            off = info.header_offset
            if off < end_prev:
                raise UnsafeArchive(f"the member {info.filename} overlaps another member")
            fh.seek(off)
            raw = fh.read(_LOCAL_HEADER.size)
            if len(raw) != _LOCAL_HEADER.size:
                raise DamagedBundle("a member's header lies beyond the end of the file")
            fields = _LOCAL_HEADER.unpack(raw)
            if fields[0] != _LOCAL_SIG:
                raise DamagedBundle(f"the header of {info.filename} is missing")
            name_len, extra_len = fields[9], fields[10]
            local_name = fh.read(name_len)
            central_name = info.orig_filename.encode("utf-8" if info.flag_bits & 0x800 else "cp437", "replace")
            if local_name != central_name:
                raise UnsafeArchive(f"the member {info.filename} has a different name in its own header")
            end = off + _LOCAL_HEADER.size + name_len + extra_len + int(info.compress_size)
            if info.flag_bits & 0x8:  # data descriptor follows: at least 12 bytes
                end += 12
            if end > start_dir:
                raise UnsafeArchive(f"the member {info.filename} runs into the table of contents")
            end_prev = end


# -- strict JSON (RELIABILITY.md, "Bad input everywhere else") ---------------------------------

def loads_strict(data: bytes, what: str) -> Any:
    """Parse a bundle's JSON strictly (core.safe_io.loads_strict); a refusal names the member."""
    try:
        return safe_io.loads_strict(data)
    except safe_io.StrictJSONError as exc:
        raise DamagedBundle(f"{what} is not valid JSON ({exc})") from None


def iter_chunks(fh: BinaryIO, size: int = READ_CHUNK) -> Iterator[bytes]:
    while True:
        chunk = fh.read(size)
        if not chunk:
            return
        yield chunk
