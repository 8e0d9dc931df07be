"""JSON export in Day One's shape, so a person can move to Day One.

Day One's own export is a zip holding ``<Journal>.json`` (``{"metadata": {"version": "1.0"},
"entries": [...]}``) and the media in ``photos/``, ``pdfs/``, ``audios/``, ``videos/``, each file
named by its MD5. This writes exactly that as a folder, and the same as ``<Journal>.zip`` beside it
(what Day One's "Import → Day One (JSON zip)" takes). Each entry has ``uuid`` (the reflection id as 32
upper-case hex digits), ``creationDate``/``modifiedDate`` (UTC), ``timeZone``, ``starred``,
``tags``, ``text`` with each image as ``![](dayone-moment://<identifier>)``, the media lists, and the
``location`` and ``weather`` a Day One import kept in the reflection's metadata. Entries are written
one at a time: memory stays flat however many there are.
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from pathlib import Path
from typing import Any, TextIO

from mirror_desktop.core import models as m
from mirror_desktop.core.attachments import EXTENSIONS, IMAGE_TYPES, REFERENCE_RE
from mirror_desktop.core.ports import MirrorStorage
from mirror_desktop.core.safe_io import create_private_file
from mirror_desktop.exports.common import ExportContext, copy_attachments, safe_name

_FOLDERS = {"image": "photos", "application/pdf": "pdfs", "audio": "audios", "video": "videos"}


def local_zone_name() -> str:
    """This computer's IANA time zone name (``Europe/London``), or UTC when it cannot be told."""
    tz = os.environ.get("TZ", "").lstrip(":")
    if "/" in tz and not tz.startswith("/"):
        return tz
    try:
        target = os.path.realpath("/etc/localtime")
        if "zoneinfo/" in target:
            return target.split("zoneinfo/", 1)[1]
    except OSError:
        pass
    return "UTC"


def _folder(a: m.Attachment) -> str:
    if a.mime_type == "application/pdf":
        return "pdfs"
    return _FOLDERS.get(a.mime_type.split("/")[0], "photos")


def _identifier(a: m.Attachment) -> str:
    known = (a.metadata or {}).get("identifier")
    if isinstance(known, str) and len(known) == 32 and all(c in "0123456789ABCDEF" for c in known.upper()):
        return known.upper()
    return a.id.replace("-", "").upper()


def _day_one_time(r_time: Any) -> str:
    from datetime import UTC

    return str(r_time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))


class _Media:
    """Media files written so far (by sha256): their MD5 names, so a file shared by entries is written once."""

    def __init__(self, storage: MirrorStorage, out: Path) -> None:
        self.storage, self.out = storage, out
        self.md5: dict[str, str] = {}
        self.written: set[str] = set()
        self.count = 0

    def add(self, a: m.Attachment) -> str | None:
        if a.sha256 not in self.md5:
            folder = self.out / _folder(a)
            tmp_name = f"{a.sha256}.tmp"
            new = copy_attachments(self.storage, [a], folder, set(), name=lambda _a: tmp_name)
            if not new:
                return None
            h = hashlib.md5(usedforsecurity=False)
            with (folder / tmp_name).open("rb") as fh:
                for chunk in iter(lambda: fh.read(1024 * 1024), b""):
                    h.update(chunk)
            md5 = h.hexdigest()
            final = folder / f"{md5}.{EXTENSIONS.get(a.mime_type, 'bin')}"
            if final.exists():
                (folder / tmp_name).unlink()
            else:
                os.replace(folder / tmp_name, final)
                self.written.add(str(final.relative_to(self.out)))
                self.count += 1
            self.md5[a.sha256] = md5
        return self.md5[a.sha256]


def entry_of(r: m.Reflection, attachments: list[m.Attachment], media: _Media, zone: str) -> dict[str, Any]:
    meta = r.metadata or {}
    idents: dict[str, str] = {}
    lists: dict[str, list[dict[str, Any]]] = {}
    for order, a in enumerate(attachments):
        md5 = media.add(a)
        if md5 is None:
            continue
        ident = _identifier(a)
        idents[a.sha256] = ident
        item: dict[str, Any] = {"identifier": ident, "md5": md5, "fileSize": a.size_bytes, "orderInEntry": order,
                                "type": EXTENSIONS.get(a.mime_type, "bin")}
        folder = _folder(a)
        if folder == "pdfs":
            item = {"identifier": ident, "md5": md5, "fileSize": a.size_bytes, "pdfName": a.filename or f"{md5}.pdf"}
            key = "pdfAttachments"
        else:
            key = folder
            for extra in ("width", "height", "date"):
                if extra in (a.metadata or {}):
                    item[extra] = (a.metadata or {})[extra]
        lists.setdefault(key, []).append(item)

    def moment(match: Any) -> str:
        ident = idents.get(match.group(2))
        return f"![](dayone-moment://{ident})" if ident else match.group(0)

    text = REFERENCE_RE.sub(moment, r.content)
    # Day One shows a photo that the text does not place at the end of the entry; unplaced images get
    # a moment link there too, so none is lost from view.
    placed = {sha for _alt, sha in REFERENCE_RE.findall(r.content)}
    for a in attachments:
        if a.mime_type in IMAGE_TYPES and a.sha256 in idents and a.sha256 not in placed:
            text += f"\n\n![](dayone-moment://{idents[a.sha256]})"
    entry: dict[str, Any] = {
        "uuid": r.id.replace("-", "").upper(),
        "creationDate": _day_one_time(r.created_at),
        "modifiedDate": _day_one_time(r.created_at),
        "timeZone": str(meta.get("timeZone") or meta.get("time_zone") or zone),
        "starred": bool(meta.get("starred")),
        "isPinned": False,
        "isAllDay": False,
        "duration": 0,
        "text": text,
    }
    if r.tags:
        entry["tags"] = r.tags
    for key in ("location", "weather"):
        if isinstance(meta.get(key), dict):
            entry[key] = meta[key]
    entry.update(lists)
    return entry


def _write_entries(storage: MirrorStorage, ctx: ExportContext, fh: TextIO, media: _Media) -> None:
    zone = local_zone_name()
    fh.write('{\n  "metadata": {\n    "version": "1.0"\n  },\n  "entries": [')
    first = True
    for batch in ctx.batches(storage):
        for r in batch.reflections:
            entry = entry_of(r, batch.attachments.get(r.id, []), media, zone)
            fh.write(("\n    " if first else ",\n    ") + json.dumps(entry, ensure_ascii=False, allow_nan=False))
            first = False
    fh.write("\n  ]\n}\n")


def write_dayone(storage: MirrorStorage, ctx: ExportContext) -> Path:
    name = safe_name(ctx.identity_name, "Mirror")
    json_path = ctx.out_dir / f"{name}.json"
    media = _Media(storage, ctx.out_dir)
    with os.fdopen(create_private_file(json_path), "w", encoding="utf-8") as fh:
        _write_entries(storage, ctx, fh, media)
    ctx.result.attachments = media.count
    ctx.state.set_progress(0.99, "Packing the Day One zip")
    zip_path = ctx.out_dir / f"{name}.zip"
    with os.fdopen(create_private_file(zip_path), "wb") as raw, zipfile.ZipFile(raw, "w") as zf:
        zf.write(json_path, json_path.name, compress_type=zipfile.ZIP_DEFLATED)
        for rel in sorted(media.written):
            zf.write(ctx.out_dir / rel, rel, compress_type=zipfile.ZIP_STORED)  # media is compressed already
    return json_path
