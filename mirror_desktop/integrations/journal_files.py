"""What the readers of other apps' journals share (Day One, jrnl, RedNotebook; issue 15).

Each reader is a connector (``integrations/base.py``) of the ``journal`` integration type whose
items are notes: the one-shot import (``core/importing.py``) reads them once into reflections, and
a ``journal`` integration can poll the same reader. Everything here refuses bad input with one
sentence (``ImportRefused``) before a single row is written: a zip is validated by
``bundle/safezip.py`` (zip slip, bombs, lying sizes), JSON is parsed strictly (duplicate keys, NaN,
deep nesting), dates must be real and within the years Mirror stores, media files are size-capped
and sniffed from their bytes (an "image" that is a program is refused).
"""

from __future__ import annotations

import hashlib
import os
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

from mirror_desktop.core.safe_io import StrictJSONError, loads_strict
from mirror_desktop.integrations.base import SourceError

# The largest media file an import accepts (a photo or video of a journal entry); bigger ones are refused.
MAX_MEDIA_BYTES = 200 * 1024 * 1024
# The largest JSON or month file read into memory at once.
MAX_JSON_BYTES = 512 * 1024 * 1024
MAX_TEXT_BYTES = 64 * 1024 * 1024
MIN_YEAR, MAX_YEAR = 1, 9999


class ImportRefused(SourceError):
    """The file is not what the chosen app writes, or is damaged or hostile; nothing was imported."""


@dataclass(frozen=True)
class MediaRef:
    """A photo (or audio, video, PDF) an entry refers to, as found in the export.

    ``where`` is the member name inside a zip or the path inside the export folder (None when the
    export lacks the file); ``identifier`` is the app's own id (Day One's ``dayone-moment://`` id).
    """

    kind: str  # "photo" | "video" | "audio" | "pdf"
    identifier: str
    where: str | None
    media_type: str
    size: int
    md5: str | None = None
    sniffed: str | None = None  # what the bytes are: "jpeg", "png" … ; None when empty or unknown

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "identifier": self.identifier, "path": self.where, "type": self.media_type,
                "size": self.size, "md5": self.md5, "sniffed": self.sniffed}


def entry_key(*parts: str) -> str:
    """A content hash for apps without ids (jrnl): the same entry always gives the same key."""
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\x1f")
    return h.hexdigest()[:40]


def check_text(text: str, what: str) -> str:
    """Text Mirror can store: UTF-8 encodable (no lone surrogates), without NUL characters."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ImportRefused(f"{what} holds characters that are not valid Unicode (a broken surrogate pair); "
                            "fix that entry in the other app and export again. Nothing was imported.") from None
    return text.replace("\x00", "")


def utc_instant(value: datetime, what: str) -> datetime:
    """An aware datetime in UTC, refusing dates outside the years 1-9999 (Mirror stores no others)."""
    try:
        if value.tzinfo is None:
            value = value.astimezone()  # the importing computer's local time, as the app showed it
        out = value.astimezone(UTC)
    except (OverflowError, ValueError, OSError):
        raise ImportRefused(f"{what} has the date {value.isoformat()}, which Mirror cannot store; "
                            "correct it in the other app and export again. Nothing was imported.") from None
    if not MIN_YEAR <= out.year <= MAX_YEAR:
        raise ImportRefused(f"{what} has a date in the year {out.year}, outside the years 1 to 9999 Mirror stores; "
                            "correct it in the other app and export again. Nothing was imported.")
    return out


def bad_date(what: str, text: str) -> ImportRefused:
    shown = text if len(text) <= 60 else text[:57] + "…"
    return ImportRefused(f"{what} has the date {shown!r}, which is not a real date between the years 1 and 9999; "
                         "correct it in the other app and export again. Nothing was imported.")


def local_noon(day: date) -> datetime:
    """A day without a time (RedNotebook) at local noon, so no time zone moves it to another date."""
    return datetime.combine(day, time(12)).astimezone().astimezone(UTC)


def parse_json(data: bytes, what: str) -> Any:
    try:
        return loads_strict(data)
    except StrictJSONError as exc:
        raise ImportRefused(f"{what} is not valid JSON ({exc}); export it again from the app. Nothing was imported.") from None


def read_capped(path: Path, cap: int, what: str) -> bytes:
    try:
        size = path.stat().st_size
        if size > cap:
            raise ImportRefused(f"{what} is {size / 1024 / 1024:.0f} MB, more than the {cap // (1024 * 1024)} MB "
                                "Mirror reads from one file; split the export. Nothing was imported.")
        with open(path, "rb") as fh:
            data = fh.read(cap + 1)
    except OSError as exc:
        raise ImportRefused(f"{what} cannot be read ({exc.strerror}); check the path and its permissions.") from None
    if len(data) > cap:
        raise ImportRefused(f"{what} grew while it was read; try again when the app is not writing it.")
    return data


def is_zip(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(4) in (b"PK\x03\x04", b"PK\x05\x06")
    except OSError:
        return False


def open_zip(path: Path, app: str, *, size_cap: Callable[[str], int]) -> Any:
    """A SafeArchive of ``path`` (every member name, size and ratio checked), or ImportRefused in words."""
    from mirror_desktop.bundle.errors import BundleError, DamagedBundle, UnsafeArchive
    from mirror_desktop.bundle.safezip import Limits, open_safely

    try:
        with zipfile.ZipFile(path) as probe:
            dirs = frozenset(n for n in probe.namelist() if n.endswith("/"))
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise ImportRefused(f"{path.name} is not a readable zip (it is damaged or cut short); "
                            f"export it again from {app}. Nothing was imported.") from None
    try:
        return open_safely(path, allowed=lambda _name: True, allowed_dirs=dirs, size_cap=size_cap,
                           limits=Limits(max_member_bytes=MAX_JSON_BYTES, big_member_bytes=MAX_JSON_BYTES,
                                         max_total_bytes=64 * 1024 * 1024 * 1024))
    except UnsafeArchive as exc:
        raise ImportRefused(f"{path.name} was refused because {exc.detail}; it is not a safe {app} export. "
                            "Nothing was imported.") from None
    except DamagedBundle as exc:
        raise ImportRefused(f"{path.name} is damaged ({exc.detail}); export it again from {app}. "
                            "Nothing was imported.") from None
    except BundleError:
        raise ImportRefused(f"{path.name} is not a readable zip (it is damaged or cut short); "
                            f"export it again from {app}. Nothing was imported.") from None


def read_member(archive: Any, name: str, cap: int, app: str) -> bytes:
    from mirror_desktop.bundle.errors import BundleError

    try:
        data, _ = archive.read_member(name, cap=cap)
    except BundleError as exc:
        detail = getattr(exc, "detail", str(exc))
        raise ImportRefused(f"{name} in the {app} export cannot be read ({detail}); export it again. "
                            "Nothing was imported.") from None
    return bytes(data)


# -- what media bytes really are -----------------------------------------------------------------

_IMAGES = (
    (b"\xff\xd8\xff", "jpeg"), (b"\x89PNG\r\n\x1a\n", "png"), (b"GIF87a", "gif"), (b"GIF89a", "gif"),
    (b"II*\x00", "tiff"), (b"MM\x00*", "tiff"), (b"BM", "bmp"),
)
_PROGRAMS = (
    (b"\x7fELF", "a Linux program"), (b"MZ", "a Windows program"), (b"#!", "a script"),
    (b"\xcf\xfa\xed\xfe", "a macOS program"), (b"\xce\xfa\xed\xfe", "a macOS program"),
    (b"\xca\xfe\xba\xbe", "a macOS program"), (b"\xfe\xed\xfa\xcf", "a macOS program"),
)


def sniff(head: bytes) -> str | None:
    """What the first bytes of a file are: an image type, "heic", "webp", "mp4", "pdf", "program:…", or None."""
    for magic, what in _PROGRAMS:
        if head.startswith(magic):
            return f"program:{what}"
    for magic, kind in _IMAGES:
        if head.startswith(magic):
            return kind
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        return "heic" if brand in (b"heic", b"heix", b"mif1", b"msf1", b"avif") else "mp4"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "webp"
    if head.startswith(b"%PDF"):
        return "pdf"
    return None


IMAGE_KINDS = frozenset({"jpeg", "png", "gif", "tiff", "bmp", "heic", "webp"})


def check_media(kind: str, name: str, size: int, head: bytes, app: str, cap: int) -> str | None:
    """Refuse a media file that is too large or is really a program (a photo must be an image)."""
    if size > cap:
        shown = f"{size / 1024 ** 3:.1f} GB" if size >= 1024 ** 3 else f"{size / 1024 ** 2:.0f} MB"
        raise ImportRefused(f"The {kind} {name} in the {app} export is {shown}, more than the "
                            f"{cap // (1024 * 1024)} MB Mirror keeps for one attachment; remove it from the export, "
                            "then import again. Nothing was imported.")
    if size == 0:
        return None  # an export without the file's bytes (real Day One exports have them): nothing to check
    found = sniff(head)
    if found is not None and found.startswith("program:"):
        raise ImportRefused(f"The {kind} {name} in the {app} export is not a {kind} but {found[8:]}; "
                            "remove it from the export, then import again. Nothing was imported.")
    if kind == "photo" and found not in IMAGE_KINDS:
        raise ImportRefused(f"The photo {name} in the {app} export is not an image its bytes show; "
                            "remove it from the export, then import again. Nothing was imported.")
    return found


def file_head(path: Path, n: int = 32) -> tuple[int, bytes]:
    """(size, first bytes) of a regular file; a missing one is (0, b"")."""
    try:
        st = os.stat(path)
        with open(path, "rb") as fh:
            return st.st_size, fh.read(n)
    except OSError:
        return 0, b""


class MediaSource:
    """The media files of an export (a zip or a folder) opened once, to stream them into attachments."""

    def __init__(self, path: Path, app: str) -> None:
        self.path = path.parent if path.suffix.lower() == ".json" and path.is_file() else path
        self.app = app
        self.archive: Any = None
        if not self.path.is_dir():
            self.archive = open_zip(path, app, size_cap=lambda _n: MAX_JSON_BYTES)

    def open(self, where: str) -> Any:
        """A binary stream of one media file named as the reader found it (a member, or a path in the folder)."""
        if self.archive is not None:
            if where not in self.archive.members:
                raise ImportRefused(f"{where} is not in {self.path.name} any more; export it again. Nothing was imported.")
            return self.archive.open_stream(where)
        target = (self.path / where).resolve()
        if not target.is_relative_to(self.path.resolve()):
            raise ImportRefused(f"{where} lies outside the export folder {self.path.name}; it was refused. "
                                "Nothing was imported.")
        return open(target, "rb")

    def close(self) -> None:
        if self.archive is not None:
            self.archive.close()

    def __enter__(self) -> MediaSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
