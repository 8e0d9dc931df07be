"""Attachments (issue 15): files kept with reflections, named by their SHA-256, typed by their bytes.

Where the bytes live:

* **SQLite journal** - files in a folder beside the journal, ``<journal stem>.attachments/``, one
  file per distinct content at ``<first two hex digits>/<sha256>`` (0600 files, 0700 folders). The
  journal holds only the rows (table ``attachments``, migration 004). ``tmp/`` in that folder holds
  files being prepared.
* **PostgreSQL journal** - the bytes in the ``attachment_blobs`` table (bytea), so every client of
  the database sees them and they go with it.

Adding a file is two steps so that a caller's transaction holds only quick work:
``prepare_attachment`` (outside any transaction) streams the source through SHA-256 into a private
temp file, refusing it if it is larger than the cap or its bytes are not a known picture, document,
sound or film (an executable or unknown content is refused with one sentence);
``attach_prepared`` (inside the caller's ``storage.transaction()``) moves the bytes into place and
inserts the row. ``add_attachment`` does both. If the transaction rolls back, a blob that was moved
into place is an orphan: ``sweep_orphans`` removes it (and stale temp files) later.

Deleting: rows go with their reflection (ON DELETE CASCADE); ``release_blobs`` then removes the
bytes no row names any more. On SQLite, the check "does any row name it?" and the unlink run in a
write transaction, so they cannot interleave with another connection's transaction that attaches
the same content (that one moves the blob into place inside its own write transaction).

In reflection text an attachment is referenced as ``![name](attachment:<sha256>)`` (see
``reference``); the editor and the preview show those as images.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import secrets
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, BinaryIO
from collections.abc import Iterable, Iterator

from mirror_desktop.core import models as m
from mirror_desktop.core.errors import MirrorError, NotFoundError
from mirror_desktop.core.ports import MirrorStorage
from mirror_desktop.core.safe_io import create_private_file, fsync_dir, private_dir, sweep_stale

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
# The cap can be changed per installation: MIRROR_MAX_ATTACHMENT_MB=200 (whole megabytes, at least 1).
MAX_ENV = "MIRROR_MAX_ATTACHMENT_MB"
SCHEME = "attachment:"
# ![alt](attachment:<sha256>) - the alt text may hold anything but a closing bracket or a line break.
REFERENCE_RE = re.compile(r"!\[([^\]\n]*)\]\(attachment:([0-9a-f]{64})\)")
_CHUNK = 1024 * 1024
# A temp file untouched this long belongs to no running prepare (a prepare writes as it reads).
STALE_TEMP_S = 6 * 3600.0
# How many leading bytes the type sniffer looks at.
SNIFF_BYTES = 64


class AttachmentRefused(MirrorError):
    """A file that cannot be attached; the message is one sentence saying why and what to do."""


class AttachmentTooLarge(AttachmentRefused):
    pass


class AttachmentTypeRefused(AttachmentRefused):
    pass


# -- type sniffing -----------------------------------------------------------------------------

_ISO_BRANDS = {
    b"heic": "image/heic", b"heix": "image/heic", b"heim": "image/heic", b"heis": "image/heic",
    b"hevc": "image/heic", b"hevx": "image/heic", b"mif1": "image/heif", b"msf1": "image/heif",
    b"avif": "image/avif", b"avis": "image/avif",
    b"qt  ": "video/quicktime", b"M4A ": "audio/mp4", b"M4B ": "audio/mp4", b"M4V ": "video/mp4",
    b"isom": "video/mp4", b"iso2": "video/mp4", b"mp41": "video/mp4", b"mp42": "video/mp4",
    b"avc1": "video/mp4", b"3gp4": "video/3gpp", b"3gp5": "video/3gpp", b"3g2a": "video/3gpp2",
}
IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp", "image/tiff",
                         "image/heic", "image/heif", "image/avif"})
# Images Qt can decode without extra plug-ins: thumbnails, previews and PDF export show these.
DISPLAYABLE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp"})
EXTENSIONS = {
    "image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/webp": "webp", "image/bmp": "bmp",
    "image/tiff": "tiff", "image/heic": "heic", "image/heif": "heif", "image/avif": "avif",
    "application/pdf": "pdf", "video/quicktime": "mov", "video/mp4": "mp4", "audio/mp4": "m4a",
    "video/3gpp": "3gp", "video/3gpp2": "3g2", "audio/mpeg": "mp3", "audio/wav": "wav", "audio/ogg": "ogg",
    "audio/flac": "flac", "audio/aac": "aac",
}


def sniff_type(head: bytes) -> str | None:
    """The media type the leading bytes show (magic numbers), or None for anything not accepted.

    Executables (PE ``MZ``, ELF, Mach-O, scripts with ``#!``), archives and unknown content all give
    None: an attachment is a picture, a PDF, a sound or a film, whatever its name says.
    """
    h = head
    if h.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if h.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if h.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if h[:4] == b"RIFF" and h[8:12] == b"WEBP":
        return "image/webp"
    if h[:4] == b"RIFF" and h[8:12] == b"WAVE":
        return "audio/wav"
    if h.startswith(b"BM") and len(h) >= 14 and int.from_bytes(h[2:6], "little") >= 26 and h[6:10] == b"\0\0\0\0":
        return "image/bmp"
    if h.startswith((b"II*\x00", b"MM\x00*")):
        return "image/tiff"
    if h.startswith(b"%PDF-"):
        return "application/pdf"
    if len(h) >= 12 and h[4:8] == b"ftyp":
        return _ISO_BRANDS.get(h[8:12])
    if h.startswith(b"ID3") or (len(h) >= 2 and h[0] == 0xFF and h[1] in (0xFB, 0xF3, 0xF2)):
        return "audio/mpeg"
    if len(h) >= 2 and h[0] == 0xFF and h[1] in (0xF1, 0xF9):
        return "audio/aac"
    if h.startswith(b"OggS"):
        return "audio/ogg"
    if h.startswith(b"fLaC"):
        return "audio/flac"
    return None


def _refuse_type(head: bytes, name: str) -> AttachmentTypeRefused:
    if head.startswith((b"MZ", b"\x7fELF", b"#!", b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe",
                        b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe")):
        return AttachmentTypeRefused(f"{name} is a program, not a picture or document, so it was not attached.")
    return AttachmentTypeRefused(f"{name} is not a picture, PDF, sound or film Mirror recognises from its "
                                 "contents, so it was not attached; attach a PNG, JPEG, GIF, WebP, HEIC or PDF.")


def max_attachment_bytes() -> int:
    """The size cap: $MIRROR_MAX_ATTACHMENT_MB when it is a whole number of at least 1, else 50 MB."""
    raw = os.environ.get(MAX_ENV, "").strip()
    if raw.isdigit() and int(raw) >= 1:
        return int(raw) * 1024 * 1024
    return DEFAULT_MAX_BYTES


def _human(n: int) -> str:
    return f"{n / (1024 * 1024):.0f} MB" if n >= 1024 * 1024 else f"{n / 1024:.0f} KB"


# -- where the bytes live ------------------------------------------------------------------------

def files_folder(storage: MirrorStorage) -> Path | None:
    """``mirror_os.db`` → ``mirror_os.attachments/`` beside an SQLite journal (None for PostgreSQL). Not created here."""
    if storage.dialect != "sqlite":
        return None
    path = Path(storage.location)
    return path.with_name(path.stem + ".attachments")


def blob_folder(storage: MirrorStorage) -> Path | None:
    """The folder that holds a plain SQLite journal's attachment files; None where the bytes live in the
    database: PostgreSQL, and an encrypted journal (issue 19: its pictures are as unreadable as its text)."""
    if getattr(storage, "key", None) is not None:
        return None
    return files_folder(storage)


def _blob_path(folder: Path, sha256: str) -> Path:
    return folder / sha256[:2] / sha256


def _temp_folder(storage: MirrorStorage) -> Path:
    folder = files_folder(storage)  # an encrypted journal's staging too stays in its own private folder
    if folder is None:
        return Path(tempfile.gettempdir())
    return private_dir(private_dir(folder) / "tmp")


@dataclass
class PreparedAttachment:
    """A file checked and hashed, waiting in a private temp file to be attached (or discarded)."""

    sha256: str
    size_bytes: int
    mime_type: str
    filename: str | None
    temp_path: Path

    def discard(self) -> None:
        """Remove the temp file (after it was attached this is a no-op)."""
        self.temp_path.unlink(missing_ok=True)

    def __enter__(self) -> PreparedAttachment:
        return self

    def __exit__(self, *exc: object) -> None:
        self.discard()


def _clean_name(filename: str | None) -> str | None:
    if filename is None:
        return None
    name = Path(str(filename).replace("\\", "/")).name.strip()
    name = "".join(ch for ch in name if ch.isprintable())
    if not name:
        return None
    if len(name) > 255:
        stem, dot, ext = name.rpartition(".")
        name = (stem[:250 - len(ext)] + dot + ext) if dot and len(ext) < 20 else name[:255]
    return name


@contextlib.contextmanager
def _open_source(source: bytes | bytearray | memoryview | str | os.PathLike[str] | BinaryIO,
                 max_bytes: int, shown: str) -> Iterator[IO[bytes]]:
    if isinstance(source, (bytes, bytearray, memoryview)):
        yield io.BytesIO(bytes(source))
        return
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise AttachmentRefused(f"{shown} could not be read ({exc.strerror or exc}); check that it exists.") from None
        if size > max_bytes:
            # Refused before a single byte is read: a 2 GB file costs nothing.
            raise AttachmentTooLarge(f"{shown} is {_human(size)}, more than the {_human(max_bytes)} an attachment "
                                     "may be; attach a smaller copy.")
        try:
            fh = path.open("rb")
        except OSError as exc:
            raise AttachmentRefused(f"{shown} could not be read ({exc.strerror or exc}); check that it exists.") from None
        with fh:
            yield fh
        return
    yield source


def prepare_attachment(storage: MirrorStorage,
                       source: bytes | bytearray | memoryview | str | os.PathLike[str] | BinaryIO, *,
                       filename: str | None = None, max_bytes: int | None = None) -> PreparedAttachment:
    """Check and hash ``source`` (bytes, a path, or a binary file object) into a private temp file.

    Runs outside any transaction (it may read 50 MB). Memory stays at one 1 MB chunk whatever the
    size: the bytes stream through SHA-256 into the temp file and reading stops at ``max_bytes`` + 1.
    Raises AttachmentTooLarge, AttachmentTypeRefused (type sniffed from the bytes) or
    AttachmentRefused (unreadable, empty), each with one sentence.
    """
    max_bytes = max_attachment_bytes() if max_bytes is None else max_bytes
    if filename is None and isinstance(source, (str, os.PathLike)):
        filename = Path(source).name
    name = _clean_name(filename)
    shown = name or "The file"
    folder = _temp_folder(storage)
    temp = folder / f"prep-{secrets.token_hex(8)}.part"
    digest = hashlib.sha256()
    size = 0
    head = b""
    try:
        with _open_source(source, max_bytes, shown) as src, os.fdopen(create_private_file(temp), "wb") as out:
            while True:
                chunk = src.read(_CHUNK)
                if not chunk:
                    break
                if len(head) < SNIFF_BYTES:
                    head += chunk[:SNIFF_BYTES - len(head)]
                    if len(head) >= SNIFF_BYTES and sniff_type(head) is None:
                        raise _refuse_type(head, shown)
                size += len(chunk)
                if size > max_bytes:
                    raise AttachmentTooLarge(f"{shown} is more than the {_human(max_bytes)} an attachment may be; "
                                             "attach a smaller copy.")
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if size == 0:
            raise AttachmentRefused(f"{shown} is empty, so there is nothing to attach.")
        mime = sniff_type(head)
        if mime is None:
            raise _refuse_type(head, shown)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return PreparedAttachment(digest.hexdigest(), size, mime, name, temp)


def attach_prepared(storage: MirrorStorage, reflection_id: str, prepared: PreparedAttachment, *,
                    metadata: dict[str, Any] | None = None) -> m.Attachment:
    """Keep ``prepared`` with a reflection: bytes into place, then the row (in a transaction).

    Call it inside the caller's ``storage.transaction()`` to make it part of a larger write (an
    import); alone it opens its own. Attaching the same content to the same reflection again returns
    the row already there. The temp file is consumed either way.
    """
    with storage.transaction():
        existing = storage.attachments.find_pair(reflection_id, prepared.sha256)
        if existing is not None:
            prepared.discard()
            return existing
        if storage.reflections.find(reflection_id) is None:
            prepared.discard()
            raise NotFoundError("reflection", reflection_id)
        folder = blob_folder(storage)
        if folder is None:
            if not storage.attachments.has_blob(prepared.sha256):
                storage.attachments.put_blob(prepared.sha256, prepared.temp_path.read_bytes())
            prepared.discard()
        else:
            target = _blob_path(folder, prepared.sha256)
            if target.exists():
                prepared.discard()
            else:
                private_dir(target.parent)
                os.replace(prepared.temp_path, target)
                fsync_dir(target.parent)
        row = m.Attachment(reflection_id=reflection_id, sha256=prepared.sha256, mime_type=prepared.mime_type,
                           size_bytes=prepared.size_bytes, filename=prepared.filename, metadata=metadata)
        return storage.attachments.create(row)  # type: ignore[no-any-return]


def add_attachment(storage: MirrorStorage, reflection_id: str,
                   source: bytes | bytearray | memoryview | str | os.PathLike[str] | BinaryIO, *,
                   filename: str | None = None, max_bytes: int | None = None,
                   metadata: dict[str, Any] | None = None) -> m.Attachment:
    """prepare_attachment + attach_prepared: check, hash and keep ``source`` with a reflection."""
    prepared = prepare_attachment(storage, source, filename=filename, max_bytes=max_bytes)
    try:
        return attach_prepared(storage, reflection_id, prepared, metadata=metadata)
    finally:
        prepared.discard()


# -- reading -----------------------------------------------------------------------------------

def attachments_of(storage: MirrorStorage, reflection_id: str) -> list[m.Attachment]:
    return storage.attachments.for_reflection(reflection_id)  # type: ignore[no-any-return]


def blob_path(storage: MirrorStorage, sha256: str) -> Path | None:
    """The file holding ``sha256``'s bytes on an SQLite journal (None on PostgreSQL or when missing)."""
    folder = blob_folder(storage)
    if folder is None or not re.fullmatch(r"[0-9a-f]{64}", sha256):
        return None
    path = _blob_path(folder, sha256)
    return path if path.is_file() else None


def read_blob(storage: MirrorStorage, sha256: str) -> bytes:
    """The bytes named ``sha256``; NotFoundError when the journal holds none."""
    if blob_folder(storage) is None:
        data = storage.attachments.get_blob(sha256)
        if data is None:
            raise NotFoundError("attachment", sha256)
        return data  # type: ignore[no-any-return]
    path = blob_path(storage, sha256)
    if path is None:
        raise NotFoundError("attachment", sha256)
    return path.read_bytes()


def copy_blob(storage: MirrorStorage, sha256: str, target: Path) -> None:
    """Write the bytes named ``sha256`` to ``target`` (a new file, 0600) without holding them all in memory."""
    path = blob_path(storage, sha256) if blob_folder(storage) is not None else None
    if path is not None:
        with path.open("rb") as src, os.fdopen(create_private_file(target), "wb") as out:
            shutil.copyfileobj(src, out, _CHUNK)
        return
    data = read_blob(storage, sha256)
    with os.fdopen(create_private_file(target), "wb") as out:
        out.write(data)


# -- deleting ----------------------------------------------------------------------------------

def shas_of(storage: MirrorStorage, reflection_ids: Iterable[str]) -> set[str]:
    """The contents the given reflections hold (read before deleting them, for release_blobs)."""
    found = storage.attachments.for_reflections(list(reflection_ids))
    return {a.sha256 for rows in found.values() for a in rows}


def release_blobs(storage: MirrorStorage, shas: Iterable[str]) -> int:
    """Remove the bytes of each of ``shas`` that no attachment row names any more; returns how many.

    Call after the rows went (a reflection deleted). Runs in a write transaction so that the check
    and the removal cannot interleave with another connection attaching the same content.
    """
    wanted = {s for s in shas if re.fullmatch(r"[0-9a-f]{64}", s)}
    if not wanted:
        return 0
    folder = blob_folder(storage)
    if folder is None:
        with storage.transaction():
            return int(storage.attachments.delete_unreferenced_blobs(wanted))
    removed = 0
    # storage.transaction() is BEGIN IMMEDIATE on SQLite: the journal's write lock from the start.
    with storage.transaction():
        gone = wanted - storage.attachments.referenced(wanted)
        for sha in sorted(gone):
            path = _blob_path(folder, sha)
            try:
                path.unlink()
                removed += 1
            except FileNotFoundError:
                continue
            with contextlib.suppress(OSError):
                path.parent.rmdir()  # only when empty
    return removed


def sweep_orphans(storage: MirrorStorage, *, stale_temp_s: float = STALE_TEMP_S) -> int:
    """Remove every blob no row names (an import rolled back after moving it into place) and temp
    files untouched for ``stale_temp_s`` (a prepare that was killed); returns how many went."""
    folder = blob_folder(storage)
    if folder is None:
        with storage.transaction():
            return int(storage.attachments.delete_unreferenced_blobs(None))
    if not folder.is_dir():
        return 0
    removed = sweep_stale(folder / "tmp", "prep-*.part", stale_temp_s)
    return removed + release_blobs(storage, _on_disk(folder))


def _on_disk(folder: Path) -> set[str]:
    return {p.name for p in folder.glob("[0-9a-f][0-9a-f]/*") if re.fullmatch(r"[0-9a-f]{64}", p.name)}


def orphan_candidates(storage: MirrorStorage, *, stale_temp_s: float = STALE_TEMP_S) -> set[str] | None:
    """The slow, read-only half of the start-up sweep (the window's background lane): stale temp files go,
    and the blobs on disk that no row names now are returned for ``release_blobs``, which checks each again
    under the write lock before removing it, so a file a row refers to by then is kept. None on PostgreSQL
    (the bytes are rows there: ``sweep_orphans`` does it in one statement)."""
    folder = blob_folder(storage)
    if folder is None:
        return None
    if not folder.is_dir():
        return set()
    sweep_stale(folder / "tmp", "prep-*.part", stale_temp_s)
    on_disk = _on_disk(folder)
    return on_disk - storage.attachments.referenced(on_disk) if on_disk else set()


# -- references in reflection text -------------------------------------------------------------

def reference(attachment: m.Attachment, alt: str | None = None) -> str:
    """The Markdown that shows ``attachment`` inline: ``![name](attachment:<sha256>)``."""
    text = alt if alt is not None else (attachment.filename or "image")
    text = re.sub(r"[\[\]\n\r]", " ", text).strip() or "image"
    return f"![{text}]({SCHEME}{attachment.sha256})"


def references_in(text: str) -> list[str]:
    """The sha256 of every ``attachment:`` image reference in ``text``, in order, each once."""
    return list(dict.fromkeys(match.group(2) for match in REFERENCE_RE.finditer(text)))



class AttachmentService:
    """The window's use cases of attachments (its AttachmentsClient runs them on the executor)."""

    def __init__(self, storage: MirrorStorage) -> None:
        self.storage = storage

    def add(self, reflection_id: str, source: bytes | str | os.PathLike[str], filename: str | None = None) -> m.Attachment:
        return add_attachment(self.storage, reflection_id, source, filename=filename)

    def list_for(self, reflection_id: str) -> list[m.Attachment]:
        return attachments_of(self.storage, reflection_id)

    def read(self, sha256: str) -> bytes:
        return read_blob(self.storage, sha256)
