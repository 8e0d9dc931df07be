"""Day One's JSON export (a zip, or the folder it unpacks to) as journal entries.

An export holds one ``<Journal name>.json`` per journal at its top (``{"metadata": {"version": …},
"entries": [...]}``) and the media beside it: ``photos/<md5>.<type>``, ``videos/``, ``audios/``,
``pdfs/``. Each entry becomes a note item whose external id is Day One's ``uuid``: its Markdown
``text``, ``creationDate`` with its ``timeZone``, ``tags``, ``starred``, location and weather, and
references to its media (``MediaRef``). ``![](dayone-moment://<identifier>)`` links in the text are
rewritten to ``mirror-pending:<kind>/<identifier>`` placeholders, which the import turns into
attachment references (or a plain note when the media is not imported).

The JSON of one journal is read whole (strictly: duplicate keys, NaN and deep nesting refused); the
entries are then turned into items one at a time. Media files are checked before anything is
written: size-capped from the zip's directory or the file system, and sniffed from their bytes.
"""

from __future__ import annotations

import os
import re
import zoneinfo
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from mirror_desktop.integrations.base import Connector, FetchContext, FetchResult, Item, register
from mirror_desktop.integrations.journal_files import (
    MAX_JSON_BYTES,
    MAX_MEDIA_BYTES,
    ImportRefused,
    MediaRef,
    bad_date,
    check_media,
    check_text,
    entry_key,
    file_head,
    is_zip,
    open_zip,
    parse_json,
    read_capped,
    read_member,
    sniff,
    utc_instant,
)

APP = "Day One"
MEDIA_FOLDERS = {"photos": "photo", "videos": "video", "audios": "audio", "pdfs": "pdf"}
ENTRY_MEDIA = {"photos": "photo", "videos": "video", "audios": "audio", "pdfAttachments": "pdf"}
# ![alt](dayone-moment://ID) for photos; dayone-moment:/video/ID, /audio/ID, /pdfAttachment/ID for the rest.
MOMENT = re.compile(r"!?\[([^\]\n]*)\]\(dayone-moment:/{1,2}(?:(video|audio|pdfAttachment)/)?([0-9A-Za-z_-]{1,64})\)")
_MOMENT_KIND = {None: "photo", "video": "video", "audio": "audio", "pdfAttachment": "pdf"}
LOCATION_KEYS = ("placeName", "localityName", "administrativeArea", "country", "latitude", "longitude", "userLabel")
WEATHER_KEYS = ("conditionsDescription", "temperatureCelsius", "weatherCode", "relativeHumidity", "windSpeedKPH",
                "pressureMB", "visibilityKM", "sunriseDate", "sunsetDate", "weatherServiceName")


def pending_links(text: str) -> str:
    """Day One's moment links as ``mirror-pending:<kind>/<identifier>`` placeholders."""
    return MOMENT.sub(lambda m: f"![{m[1] or _MOMENT_KIND[m[2]]}](mirror-pending:{_MOMENT_KIND[m[2]]}/{m[3]})", text)


def _subset(value: Any, keys: tuple[str, ...]) -> dict[str, Any] | None:
    if not isinstance(value, dict):
        return None
    out = {k: value[k] for k in keys if isinstance(value.get(k), (str, int, float)) and not isinstance(value.get(k), bool)}
    return out or None


class _Export:
    """An opened export: its journals' JSON and a way to find and check each media file."""

    def __init__(self, path: Path, media_cap: int) -> None:
        self.path = path
        self.media_cap = media_cap
        self.archive: Any = None
        self.journals: list[str] = []
        self.media: dict[tuple[str, str], str] = {}  # (folder, md5 or stem) → member name / relative path
        if path.is_dir():
            self._scan_folder()
        elif path.suffix.lower() == ".json" and path.is_file():
            # The journal's .json picked out of an unpacked export: its media sit beside it.
            self.path = path.parent
            self._scan_folder()
            self.journals = [path.name]
        elif is_zip(path):
            self._scan_zip()
        else:
            raise ImportRefused(f"{path.name} is not a Day One export (choose the .zip Day One wrote, or the folder "
                                "it unpacks to). Nothing was imported.")
        if not self.journals:
            raise ImportRefused(f"{path.name} is not a Day One export: it has no journal .json file at its top; "
                                "choose the .zip from Day One's File → Export → JSON. Nothing was imported.")

    def _scan_zip(self) -> None:
        def cap(name: str) -> int:
            return MAX_JSON_BYTES if name.endswith(".json") and "/" not in name else self.media_cap

        self.archive = open_zip(self.path, APP, size_cap=cap)
        for name in self.archive.names():
            self._note(name)

    def _scan_folder(self) -> None:
        for entry in sorted(os.scandir(self.path), key=lambda e: e.name):
            if entry.is_file() and entry.name.endswith(".json"):
                self.journals.append(entry.name)
            elif entry.is_dir(follow_symlinks=False) and entry.name in MEDIA_FOLDERS:
                for f in sorted(os.scandir(entry.path), key=lambda e: e.name):
                    if f.is_file(follow_symlinks=False):
                        self._note(f"{entry.name}/{f.name}")

    def _note(self, name: str) -> None:
        parts = name.split("/")
        if len(parts) == 1 and name.endswith(".json"):
            if self.archive is not None:
                self.journals.append(name)
        elif len(parts) == 2 and parts[0] in MEDIA_FOLDERS and parts[1]:
            self.media[(parts[0], parts[1].split(".", 1)[0].lower())] = name

    def close(self) -> None:
        if self.archive is not None:
            self.archive.close()

    def journal(self, name: str) -> Any:
        what = f"{name} in {self.path.name}"
        if self.archive is not None:
            data = read_member(self.archive, name, MAX_JSON_BYTES, APP)
        else:
            data = read_capped(self.path / name, MAX_JSON_BYTES, what)
        doc = parse_json(data, what)
        if not isinstance(doc, dict) or not isinstance(doc.get("entries"), list):
            raise ImportRefused(f"{what} is not a Day One journal (it has no \"entries\" list); choose the export "
                                "Day One wrote. Nothing was imported.")
        return doc

    def check_all_media(self) -> None:
        """Size and type of every media file, before a single entry is imported."""
        for (folder, _stem), name in sorted(self.media.items()):
            kind = MEDIA_FOLDERS[folder]
            size, head = self._head(name)
            check_media(kind, name, size, head, APP, self.media_cap)

    def _head(self, name: str) -> tuple[int, bytes]:
        if self.archive is not None:
            from mirror_desktop.bundle.errors import BundleError

            size = self.archive.size(name)
            try:
                return size, self.archive.head(name) if size else b""
            except BundleError as exc:
                raise ImportRefused(f"{name} in {self.path.name} is damaged ({getattr(exc, 'detail', exc)}); "
                                    "export it again from Day One. Nothing was imported.") from None
        return file_head(self.path / name)

    def ref(self, kind: str, folder: str, raw: Mapping[str, Any]) -> MediaRef | None:
        ident = raw.get("identifier")
        if not isinstance(ident, str) or not ident:
            return None
        md5 = raw.get("md5") if isinstance(raw.get("md5"), str) else None
        media_type = str(raw.get("type") or raw.get("format") or "").lstrip(".")
        where = self.media.get((folder, md5.lower())) if md5 else None
        size, head = self._head(where) if where else (0, b"")
        found = sniff(head) if head else None
        return MediaRef(kind=kind, identifier=ident, where=where, media_type=media_type, size=size, md5=md5,
                        sniffed=found)


_FOLDER_OF = {"photos": "photos", "videos": "videos", "audios": "audios", "pdfAttachments": "pdfs"}


def entry_item(export: _Export, raw: Any, where: str) -> Item:
    """One Day One entry as a note item (its text may be empty: the import skips and counts those)."""
    if not isinstance(raw, dict):
        raise ImportRefused(f"{where} is not an object; export again from Day One. Nothing was imported.")
    uuid = raw.get("uuid")
    if not isinstance(uuid, str) or not uuid.strip() or len(uuid) > 200:
        raise ImportRefused(f"{where} has no uuid, so Mirror cannot tell it apart from the others; "
                            "export again from Day One. Nothing was imported.")
    created = raw.get("creationDate")
    if not isinstance(created, str):
        raise ImportRefused(f"{where} has no creationDate; export again from Day One. Nothing was imported.")
    try:
        when = datetime.fromisoformat(created.replace("Z", "+00:00"))
    except ValueError:
        raise bad_date(where, created) from None
    starts_at = utc_instant(when, where)
    tz_name = raw.get("timeZone") if isinstance(raw.get("timeZone"), str) else None
    local_iso = None
    if tz_name:
        try:
            local_iso = starts_at.astimezone(zoneinfo.ZoneInfo(tz_name)).isoformat()
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, OverflowError):
            tz_name = None
    text = raw.get("text")
    text = check_text(text, where) if isinstance(text, str) else ""
    listed = raw["tags"] if isinstance(raw.get("tags"), list) else []
    tags = tuple(check_text(t.strip(), where) for t in listed if isinstance(t, str) and t.strip())
    media: list[dict[str, Any]] = []
    for key, kind in ENTRY_MEDIA.items():
        for m in raw.get(key) or ():
            if isinstance(m, dict):
                ref = export.ref(kind, _FOLDER_OF[key], m)
                if ref is not None:
                    media.append(ref.to_json())
    info: dict[str, Any] = {"app": "dayone", "id": uuid, "starred": bool(raw.get("starred")),
                            "time_zone": tz_name, "created_local": local_iso,
                            "location": _subset(raw.get("location"), LOCATION_KEYS),
                            "weather": _subset(raw.get("weather"), WEATHER_KEYS)}
    if isinstance(raw.get("modifiedDate"), str):
        info["modified"] = raw["modifiedDate"]
    if raw.get("isPinned"):
        info["pinned"] = True
    first = next((line.strip("# ").strip() for line in text.splitlines() if line.strip()), "")
    return Item(external_id=uuid, kind="note", version=entry_key(text, str(raw.get("modifiedDate"))),
                title=first[:200] or None, starts_at=starts_at, content=pending_links(text), tags=tags,
                extra={"import": {k: v for k, v in info.items() if v is not None}, "media": media})


def read_export(path: Path, ctx: FetchContext | None = None, *, media_cap: int = MAX_MEDIA_BYTES) -> Iterator[Item]:
    """Every entry of every journal in the export, one item at a time; checks run before the first."""
    export = _Export(path, media_cap)
    try:
        export.check_all_media()
        docs = export.journals
        for j, name in enumerate(docs):
            doc = export.journal(name)
            entries = doc["entries"]
            total = len(entries)
            for n, raw in enumerate(entries):
                if ctx is not None and n % 200 == 0:
                    ctx.check()
                    ctx.state.set_progress((j + n / max(total, 1)) / len(docs), f"Reading {name}")
                yield entry_item(export, raw, f"Entry {n + 1} of {name}")
            del doc, entries
    finally:
        export.close()


class DayOneConnector(Connector):
    integration_type = "journal"
    provider = "dayone"
    description = "a Day One JSON export (the .zip, or the folder it unpacks to)"

    def validate(self, config: Mapping[str, Any]) -> list[str]:
        path = config.get("path")
        if not isinstance(path, str) or not path.strip():
            return ["A Day One import needs the path of the export (.zip or folder)."]
        return []

    def fetch(self, config: Mapping[str, Any], secret: str | None, ctx: FetchContext) -> FetchResult:
        path = Path(str(config["path"])).expanduser()
        if not path.exists():
            raise ImportRefused(f"{path} is not there; choose the Day One export (.zip or folder).")
        cap = int(config.get("max_media_bytes") or MAX_MEDIA_BYTES)
        items = read_export(path, ctx, media_cap=cap)
        return FetchResult(items=items, cursor={}, description=str(path))


register(DayOneConnector())
