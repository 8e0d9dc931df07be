"""Import from another journaling app (issue 15): Day One, jrnl, Obsidian / Markdown, RedNotebook.

``ImportService.run`` reads the app's file or folder through its connector (``integrations/dayone.py``,
``jrnl.py``, ``obsidian.py``, ``rednotebook.py``: the same readers a ``journal`` or ``notes``
integration polls) and turns each entry into a reflection: ``source = "import"``, ``local_only``,
the entry's own date as ``created_at``, its tags in ``metadata.tags`` (the editor's field), and the
app and the entry's id in ``metadata.import`` (``{"app": "jrnl", "id": …}``; jrnl has no ids, so
its id is a hash of the entry's minute, title and body).

* An entry already imported from the same app with the same id is counted as *already present*
  and not written again, so importing a file twice adds nothing.
* An entry with no text is skipped and counted with its reason (the spec forbids empty content).
* Everything of one import is written in one transaction, or nothing is: a refused entry, a bad
  file found half-way or Cancel rolls the whole import back. ``dry_run`` reads and counts only.
* Entries stream from the reader and are written in batches, so memory does not grow with the
  number of entries (only the set of ids already imported from that app is held).

Day One media: the reader passes references to each entry's photos, videos, audio and PDFs. Until
attachments exist, they are not imported: the report counts them, and a ``dayone-moment://`` link
in the text becomes a short note saying which photo was not imported.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mirror_desktop.core import models as m
from mirror_desktop.core.enums import ContentType, Source, Visibility
from mirror_desktop.core.errors import MirrorError, OperationCancelled, ValidationError
from mirror_desktop.core.ports import MirrorStorage
from mirror_desktop.core.progress import JobState, QuietState
from mirror_desktop.core.validation import validate
from mirror_desktop.integrations.base import FetchContext, Item, SourceError, SyncCancelled, connector_for

APPS = {"dayone": "Day One", "jrnl": "jrnl", "obsidian": "Obsidian", "rednotebook": "RedNotebook"}
BATCH = 500
MAX_LISTED_SKIPS = 1000  # the report lists this many skipped entries; the count goes on
ATTACHMENTS_NOTE = "attachments not imported (not supported yet)"
_PENDING = re.compile(r"!?\[([^\]\n]*)\]\(mirror-pending:(photo|video|audio|pdf)/([0-9A-Za-z_-]{1,64})\)")
_KIND_WORD = {"photo": "photo", "video": "video", "audio": "audio recording", "pdf": "PDF"}


class ImportProblem(MirrorError):
    """An import could not run (unknown app, wrong option); nothing was written."""


@dataclass(frozen=True)
class Skipped:
    """One entry that did not become a reflection, and why."""

    id: str
    date: str | None
    title: str | None
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "date": self.date, "title": self.title, "reason": self.reason}


@dataclass
class ImportReport:
    """What one import did (or, for a dry run, would do)."""

    app: str
    path: str
    dry_run: bool
    identity_id: str | None = None
    imported: int = 0
    already_present: int = 0
    skipped: int = 0
    skipped_entries: list[Skipped] = field(default_factory=list)
    attachments_not_imported: int = 0
    reflection_ids: list[str] = field(default_factory=list)  # the first few, for the window to open one
    seconds: float = 0.0

    def skip(self, item: Item, reason: str) -> None:
        self.skipped += 1
        if len(self.skipped_entries) < MAX_LISTED_SKIPS:
            when = item.starts_at.isoformat().replace("+00:00", "Z") if item.starts_at else None
            self.skipped_entries.append(Skipped(item.external_id, when, item.title, reason))

    def to_json(self) -> dict[str, Any]:
        return {"app": self.app, "path": self.path, "dry_run": self.dry_run, "identity_id": self.identity_id,
                "imported": self.imported, "skipped": self.skipped, "already_present": self.already_present,
                "skipped_entries": [s.to_json() for s in self.skipped_entries],
                "attachments_not_imported": self.attachments_not_imported,
                "attachments_note": ATTACHMENTS_NOTE if self.attachments_not_imported else None}

    def summary(self) -> str:
        """One sentence: what was (or would be) imported, skipped and already there."""
        verb = "Would import" if self.dry_run else "Imported"
        noun = "entry" if self.imported == 1 else "entries"
        text = (f"{verb} {self.imported} {noun} from {APPS.get(self.app, self.app)}; "
                f"{self.skipped} skipped, {self.already_present} already present")
        if self.attachments_not_imported:
            text += f", {self.attachments_not_imported} {ATTACHMENTS_NOTE}"
        return text + (" (a dry run: nothing was written)." if self.dry_run else ".")

    def lines(self) -> list[str]:
        out = [self.summary()]
        if self.skipped_entries:
            out.append("Skipped:")
            for s in self.skipped_entries:
                label = " ".join(p for p in (s.date, f"“{s.title}”" if s.title else s.id) if p)
                out.append(f"  {label}: {s.reason}")
            if self.skipped > len(self.skipped_entries):
                out.append(f"  … and {self.skipped - len(self.skipped_entries)} more")
        return out


def word_count(text: str) -> int:
    return len(text.split())


def resolve_media_links(text: str, replace: dict[str, str] | None = None) -> str:
    """Placeholders the reader left for media links: the attachment reference in ``replace`` (by the app's
    media identifier), else a short note that the file was not imported."""
    def sub(mt: re.Match[str]) -> str:
        if replace and mt[3] in replace:
            return replace[mt[3]]
        return f"*({_KIND_WORD[mt[2]]} not imported)*"
    return _PENDING.sub(sub, text)


class _State:
    """The connectors' SyncState over the task's JobState."""

    def __init__(self, state: JobState) -> None:
        self.state = state

    def set_progress(self, fraction: float, message: str = "") -> None:
        self.state.set_progress(fraction, message)

    def is_cancelled(self) -> bool:
        return self.state.is_cancelled()


class ImportService:
    """Imports from other apps into one storage; runs on the caller's thread (the executor's, in the window)."""

    def __init__(self, storage: MirrorStorage) -> None:
        self.storage = storage

    def run(self, app: str, path: str | Path, *, identity_id: str | None = None, time_format: str | None = None,
            dry_run: bool = False, state: JobState | None = None, max_media_bytes: int | None = None) -> ImportReport:
        """Import (or, with ``dry_run``, count) every entry of ``path``; one transaction, or nothing."""
        started = datetime.now(UTC)
        state = state or QuietState()
        if app not in APPS:
            raise ImportProblem(f"Mirror cannot import from {app!r}; choose one of {', '.join(APPS)}.")
        if time_format and app != "jrnl":
            raise ImportProblem("--time-format is for jrnl journals only; leave it out for "
                               f"{APPS[app]}. Nothing was imported.")
        if identity_id is not None and self.storage.identities.find(identity_id) is None:
            raise ImportProblem(f"No identity has the id {identity_id!r}; nothing was imported.")
        source = Path(path).expanduser()
        if not source.exists():
            raise ImportProblem(f"{source} is not there; choose the {APPS[app]} file or folder. Nothing was imported.")
        config: dict[str, Any] = {"provider": app, "path": str(source.resolve())}
        if time_format:
            config["time_format"] = time_format
        if max_media_bytes is not None:
            config["max_media_bytes"] = max_media_bytes
        report = ImportReport(app=app, path=str(source), dry_run=dry_run, identity_id=identity_id)
        connector = connector_for(app)
        problems = connector.validate(config)
        if problems:
            raise ImportProblem(" ".join(problems))
        known = self.storage.reflections.imported_ids(app)
        ctx = FetchContext(cursor={}, known={}, state=_State(state), now=datetime.now(UTC))
        state.set_progress(0.0, f"Reading {source.name}")
        try:
            items = connector.fetch(config, None, ctx).items
            if dry_run:
                self._apply(items, app, report, known, identity_id, state, write=False)
            else:
                with self.storage.transaction():
                    self._apply(items, app, report, known, identity_id, state, write=True)
        except SyncCancelled:
            raise OperationCancelled() from None
        except SourceError as exc:
            # The notes reader speaks of syncs; an import is not one.
            raise ImportProblem(str(exc).replace("then sync again", "then import again")
                               .replace("sync again", "import again")) from None
        report.seconds = (datetime.now(UTC) - started).total_seconds()
        state.set_progress(1.0, "Done")
        return report

    def _apply(self, items: Iterable[Item], app: str, report: ImportReport, known: set[str],
               identity_id: str | None, state: JobState, *, write: bool) -> None:
        seen: set[str] = set()
        pending: list[m.Reflection] = []
        for n, item in enumerate(items, 1):
            if n % 100 == 0 and state.is_cancelled():
                raise OperationCancelled()
            refl = self._reflection(item, app, report, known, seen, identity_id)
            if refl is None:
                continue
            report.imported += 1
            if len(report.reflection_ids) < 20:
                report.reflection_ids.append(refl.id)
            if write:
                pending.append(refl)
                if len(pending) >= BATCH:
                    self.storage.reflections.create_many(pending)
                    pending = []
        if state.is_cancelled():
            raise OperationCancelled()
        if write and pending:
            self.storage.reflections.create_many(pending)

    def _reflection(self, item: Item, app: str, report: ImportReport, known: set[str], seen: set[str],
                    identity_id: str | None) -> m.Reflection | None:
        info = dict(item.extra.get("import") or {})
        if app == "obsidian":
            info = {"app": "obsidian", "id": item.external_id, "path": item.external_id}
        entry_id = str(info.get("id") or item.external_id)
        info.update(app=app, id=entry_id)
        if entry_id in known or entry_id in seen:
            report.already_present += 1
            return None
        seen.add(entry_id)
        media: list[dict[str, Any]] = list(item.extra.get("media") or [])
        text = (item.content or "").strip("\n")
        if not text.strip():
            reason = "empty text"
            if media:
                reason = "no text, only media (attachments are not imported yet)"
            report.skip(item, reason)
            return None
        if media:
            report.attachments_not_imported += len(media)
            info["media"] = media
        text = resolve_media_links(text)
        tags = sorted({t.strip() for t in item.tags if t.strip()})
        meta: dict[str, Any] = {"tags": tags, "word_count": word_count(text), "imported_from": app,
                                "import": {k: v for k, v in info.items() if v is not None}}
        if item.title and app in ("obsidian", "jrnl"):
            meta["import"]["title"] = item.title
        refl = m.Reflection(content=text, identity_id=identity_id, visibility=Visibility.LOCAL_ONLY,
                            content_type=ContentType.MARKDOWN, source=Source.IMPORT, metadata=meta,
                            created_at=item.starts_at or datetime.now(UTC))
        try:
            validate(refl)  # a dry run refuses what the real import would
        except ValidationError as exc:
            what = f"The entry {item.title or entry_id}"
            raise ImportProblem(f"{what} cannot be a reflection ({exc}); nothing was imported.") from None
        return refl


def iter_apps() -> Iterator[tuple[str, str]]:
    """(key, name) of the apps Mirror imports from, for lists and the window's picker."""
    yield from APPS.items()
