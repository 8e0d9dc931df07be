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
* **In chunks, for the window** (``write_chunk``): a big import in one transaction held the write lane
  for seconds and autosave waited behind it. With ``write_chunk`` the reading, parsing and hashing run
  on the caller's (background) connection and every ``BATCH`` entries are handed to ``write_chunk`` as one
  short write transaction, so other writes land in between. All-or-nothing still holds: the rows carry
  the import's batch id (``metadata.import.batch``) and the journal lists the batch as unfinished
  (setting ``imports_in_progress``) until the last chunk; a failure or Cancel deletes what the earlier
  chunks wrote, and a batch a killed process left unfinished is removed at the next start
  (``recover_unfinished_imports``, run by the window's start-up sweep).
* Entries stream from the reader and are written in batches, so memory does not grow with the
  number of entries (only the set of ids already imported from that app is held).

Day One media: the reader passes references to each entry's photos, videos, audio and PDFs; each is
streamed from the export into an attachment (``core/attachments.py``: hashed, size-capped, typed
from its bytes) in the same transaction, and its ``dayone-moment://`` link in the text becomes the
attachment's reference (``![photo](attachment:<sha256>)``). A media file that cannot be attached
(empty, missing from the export, over the attachment cap, of a type Mirror does not keep) is
counted in the report with its reason; the entry is still imported. An entry with no text but
attached photos becomes a reflection showing them.
"""

from __future__ import annotations

import hashlib
import posixpath
import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from mirror_desktop.core import attachments as att
from mirror_desktop.core import models as m
from mirror_desktop.core.enums import ContentType, Source, Visibility
from mirror_desktop.core.errors import MirrorError, OperationCancelled, ValidationError
from mirror_desktop.core.ports import MirrorStorage
from mirror_desktop.core.progress import JobState, QuietState
from mirror_desktop.core.validation import validate
from mirror_desktop.integrations.base import FetchContext, Item, SourceError, SyncCancelled, connector_for
from mirror_desktop.integrations.journal_files import MediaSource

APPS = {"dayone": "Day One", "jrnl": "jrnl", "obsidian": "Obsidian", "rednotebook": "RedNotebook"}
BATCH = 500
# A chunk with attachments is cut sooner: each one is a file moved and fsync'd inside the transaction.
CHUNK_ATTACHMENTS = 50
IN_PROGRESS = "imports_in_progress"   # writing_settings key: {batch id: app} of imports not finished yet
WriteChunk = Callable[[Callable[[MirrorStorage], Any]], Any]
MAX_LISTED_SKIPS = 1000  # the report lists this many skipped entries; the count goes on
_PENDING = re.compile(r"!?\[([^\]\n]*)\]\(mirror-pending:(photo|video|audio|pdf)/([0-9A-Za-z_-]{1,64})\)")
# Images embedded in a Markdown note: ![alt](path "title") and Obsidian's ![[path|alt]].
_MD_EMBED = re.compile(r'!\[([^\]\n]*)\]\(<?([^)\s>]+)>?(?:\s+"[^"\n]*")?\)')
_WIKI_EMBED = re.compile(r"!\[\[([^\]|#\n]+)(?:#[^\]|\n]*)?(?:\|([^\]\n]*))?\]\]")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
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
    attachments_imported: int = 0
    attachments_not_imported: int = 0
    attachment_problems: list[dict[str, str]] = field(default_factory=list)
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
                "attachments_imported": self.attachments_imported,
                "attachments_not_imported": self.attachments_not_imported,
                "attachments_skipped": list(self.attachment_problems)}

    def attachment_failed(self, entry: str, path: str | None, reason: str) -> None:
        self.attachments_not_imported += 1
        if len(self.attachment_problems) < MAX_LISTED_SKIPS:
            self.attachment_problems.append({"entry": entry, "path": path or "", "reason": reason})

    def summary(self) -> str:
        """One sentence: what was (or would be) imported, skipped and already there."""
        verb = "Would import" if self.dry_run else "Imported"
        noun = "entry" if self.imported == 1 else "entries"
        text = (f"{verb} {self.imported} {noun} from {APPS.get(self.app, self.app)}; "
                f"{self.skipped} skipped, {self.already_present} already present")
        if self.attachments_imported or self.attachments_not_imported:
            text += (f"; {self.attachments_imported} attachments {'would be ' if self.dry_run else ''}imported, "
                     f"{self.attachments_not_imported} not")
        return text + (" (a dry run: nothing was written)." if self.dry_run else ".")

    def lines(self) -> list[str]:
        out = [self.summary()]
        if self.skipped_entries:
            out.append("Skipped:")
            for s in self.skipped_entries:
                when = s.date.replace("T", " ")[:16] if s.date else ""
                label = " ".join(p for p in (when, f"“{s.title}”" if s.title else f"(entry {s.id})") if p)
                out.append(f"  {label}: {s.reason}")
            if self.skipped > len(self.skipped_entries):
                out.append(f"  … and {self.skipped - len(self.skipped_entries)} more")
        if self.attachment_problems:
            out.append("Attachments not imported:")
            out += [f"  {a['path'] or a['entry']}: {a['reason']}" for a in self.attachment_problems]
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


@dataclass
class _Checked:
    """What a dry run learns of a media file without keeping it: the same checks as prepare_attachment."""

    sha256: str
    size_bytes: int
    mime_type: str
    filename: str | None

    def discard(self) -> None:
        pass


def _check_only(stream: Any, name: str, cap: int) -> Any:
    digest = hashlib.sha256()
    size = 0
    head = b""
    while True:
        chunk = stream.read(1024 * 1024)
        if not chunk:
            break
        if len(head) < att.SNIFF_BYTES:
            head += chunk[:att.SNIFF_BYTES - len(head)]
        size += len(chunk)
        if size > cap:
            raise att.AttachmentTooLarge(f"{name} is more than the {cap // (1024 * 1024)} MB an attachment may be.")
        digest.update(chunk)
    if size == 0:
        raise att.AttachmentRefused(f"{name} is empty, so there is nothing to attach.")
    mime = att.sniff_type(head)
    if mime is None:
        raise att.AttachmentTypeRefused(f"{name} is not a picture, PDF, sound or film Mirror recognises from its "
                                        "contents, so it would not be attached.")
    return _Checked(digest.hexdigest(), size, mime, name)


class ImportService:
    """Imports from other apps into one storage; runs on the caller's thread (the executor's, in the window)."""

    def __init__(self, storage: MirrorStorage) -> None:
        self.storage = storage

    def run(self, app: str, path: str | Path, *, identity_id: str | None = None, time_format: str | None = None,
            dry_run: bool = False, state: JobState | None = None, max_media_bytes: int | None = None,
            write_chunk: WriteChunk | None = None) -> ImportReport:
        """Import (or, with ``dry_run``, count) every entry of ``path``; one transaction, or nothing.

        ``max_media_bytes``: the largest media file the reader accepts before refusing the whole export
        (default 200 MB); attachments are further held to the attachment cap (``core/attachments.py``).
        ``write_chunk(fn)``: runs ``fn(storage)`` as one write transaction where the journal's writes run
        (the window's write lane) and returns its result; the import is then written in chunks (module doc).
        """
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
        chunked = write_chunk is not None and not dry_run and self.storage.writing.available()
        run = _Run(self.storage, app, report, known, identity_id, state, source, write=not dry_run,
                   write_chunk=write_chunk if chunked else None)
        try:
            items = connector.fetch(config, None, ctx).items
            if dry_run or chunked:
                run.apply(items)
                run.finish()
            else:
                with self.storage.transaction():
                    run.apply(items)
                    if report.imported:
                        _record_import(self.storage, report)
        except SyncCancelled:
            run.undo()
            raise OperationCancelled() from None
        except SourceError as exc:
            run.undo()
            # The notes reader speaks of syncs; an import is not one.
            raise ImportProblem(str(exc).replace("then sync again", "then import again")
                                .replace("sync again", "import again")) from None
        except BaseException:
            run.undo()
            raise
        finally:
            run.close()
            if run.blobs_moved and not dry_run:
                run.sweep()
        report.seconds = (datetime.now(UTC) - started).total_seconds()
        state.set_progress(1.0, "Done")
        return report


def _record_import(storage: MirrorStorage, report: ImportReport) -> None:
    """The spec's ``import`` event ("Data imported", issue 17 item 5): the app and the counts, never an entry."""
    from mirror_desktop.core.enums import LifecycleEventType
    from mirror_desktop.core.lifecycle import record_event_quietly

    record_event_quietly(storage, LifecycleEventType.IMPORT, {
        "kind": "import_from", "app": report.app, "imported": report.imported, "skipped": report.skipped,
        "already_present": report.already_present, "attachments": report.attachments_imported})


def _set_in_progress(storage: MirrorStorage, batch: str, app: str | None) -> None:
    """Mark ``batch`` unfinished (``app`` given) or finished (None) in the journal's settings."""
    marks = dict(storage.writing.get_setting(IN_PROGRESS) or {})
    if app is None:
        marks.pop(batch, None)
    else:
        marks[batch] = app
    storage.writing.set_setting(IN_PROGRESS, marks)


def _remove_batch(storage: MirrorStorage, batch: str, ids: Iterable[str] | None = None) -> int:
    """Delete the reflections (and their attachment files) an unfinished chunked import wrote; returns how many."""
    wanted = list(ids) if ids is not None else storage.reflections.ids_of_import_batch(batch)
    held = att.shas_of(storage, wanted)
    with storage.transaction():
        gone = sum(1 for rid in wanted if storage.reflections.delete(rid))
        _set_in_progress(storage, batch, None)
    att.release_blobs(storage, held)
    storage.purge_deleted()
    return gone


def unfinished_imports(storage: MirrorStorage) -> list[str]:
    """Batch ids of chunked imports not finished (a process killed mid-import), for the start-up sweep."""
    if not storage.writing.available():
        return []
    return list(dict(storage.writing.get_setting(IN_PROGRESS) or {}))


def recover_unfinished_imports(storage: MirrorStorage) -> int:
    """Remove what chunked imports a killed process left unfinished (all-or-nothing); returns rows removed."""
    return sum(_remove_batch(storage, batch) for batch in unfinished_imports(storage))


def _sweep(storage: MirrorStorage) -> None:
    """After a rolled-back import, blobs already moved into place belong to no row: remove them."""
    try:
        att.sweep_orphans(storage)
    except Exception:  # noqa: BLE001 - a later sweep removes them; the import's own outcome stands
        pass


class _Run:
    """One import's pass over the items: dedupe, skip, media into attachments, batched writes."""

    def __init__(self, storage: MirrorStorage, app: str, report: ImportReport, known: set[str],
                 identity_id: str | None, state: JobState, source: Path, *, write: bool,
                 write_chunk: WriteChunk | None = None) -> None:
        self.storage = storage
        self.write_chunk = write_chunk
        self.batch = secrets.token_hex(8) if write_chunk is not None else None
        self.written: list[str] = []   # ids the chunks committed, deleted again if the import fails
        self.chunk: list[tuple[m.Reflection, list[tuple[dict[str, Any], Any]]]] = []
        self.chunk_files = 0
        self.app = app
        self.report = report
        self.known = known
        self.identity_id = identity_id
        self.state = state
        self.source = source
        self.write = write
        self.seen: set[str] = set()
        self.pending: list[m.Reflection] = []
        self.media: MediaSource | None = None
        self.blobs_moved = False
        self.cap = att.max_attachment_bytes()

    def close(self) -> None:
        if self.media is not None:
            self.media.close()

    def apply(self, items: Iterable[Item]) -> None:
        for n, item in enumerate(items, 1):
            if n % 100 == 0 and self.state.is_cancelled():
                raise OperationCancelled()
            self.entry(item)
        if self.state.is_cancelled():
            raise OperationCancelled()
        self.flush()

    def flush(self) -> None:
        if self.write and self.pending:
            self.storage.reflections.create_many(self.pending)
        self.pending = []

    # -- chunked writing (the window) ------------------------------------------------------------
    def add_to_chunk(self, refl: m.Reflection, prepared: list[tuple[dict[str, Any], Any]]) -> None:
        assert self.batch is not None
        (refl.metadata or {}).setdefault("import", {})["batch"] = self.batch
        self.chunk.append((refl, prepared))
        self.chunk_files += len(prepared)
        if len(self.chunk) >= BATCH or self.chunk_files >= CHUNK_ATTACHMENTS:
            self.commit_chunk()

    def commit_chunk(self) -> None:
        chunk, self.chunk, self.chunk_files = self.chunk, [], 0
        if not chunk:
            return
        app, batch, first = self.app, self.batch, not self.written
        assert self.write_chunk is not None and batch is not None

        def write(storage: MirrorStorage) -> None:
            with storage.transaction():
                if first:
                    _set_in_progress(storage, batch, app)
                plain = [r for r, p in chunk if not p]
                if plain:
                    storage.reflections.create_many(plain)
                for refl, prepared in chunk:
                    if prepared:
                        storage.reflections.create(refl)
                        for ref, p in prepared:
                            self.blobs_moved = True
                            att.attach_prepared(storage, refl.id, p, metadata=self.attachment_meta(ref))

        try:
            self.write_chunk(write)
            self.written += [r.id for r, _p in chunk]
        finally:
            for _r, prepared in chunk:
                for _ref, p in prepared:
                    p.discard()

    def finish(self) -> None:
        """The last chunk, then the batch is marked finished (in the same transaction when it is the only one)."""
        if self.write_chunk is None:
            return
        self.commit_chunk()
        if self.written:
            batch, report = self.batch, self.report
            assert batch is not None

            def done(storage: MirrorStorage) -> None:
                with storage.transaction():
                    _set_in_progress(storage, batch, None)
                    _record_import(storage, report)

            self.write_chunk(done)

    def undo(self) -> None:
        """After a failure or Cancel: what earlier chunks wrote goes again (the start-up sweep retries)."""
        for _r, prepared in self.chunk:
            for _ref, p in prepared:
                p.discard()
        self.chunk = []
        if self.write_chunk is None or not self.written:
            return
        batch, ids = self.batch, list(self.written)
        assert batch is not None
        try:
            self.write_chunk(lambda storage: _remove_batch(storage, batch, ids))
            self.written = []
        except Exception:  # noqa: BLE001 - the batch stays marked unfinished; the next start removes it
            pass

    def sweep(self) -> None:
        """Blobs a rolled-back transaction had moved into place belong to no row: remove them where the writes run."""
        if self.write_chunk is None:
            _sweep(self.storage)
            return
        try:
            self.write_chunk(_sweep)
        except Exception:  # noqa: BLE001 - the start-up sweep removes them
            pass

    def attachment_meta(self, ref: dict[str, Any]) -> dict[str, Any]:
        return {"source": self.app, "identifier": ref.get("identifier"), "md5": ref.get("md5"),
                "kind": ref.get("kind"), "path": ref.get("path")}

    def entry(self, item: Item) -> None:
        info = dict(item.extra.get("import") or {})
        if self.app == "obsidian":
            info = {"app": "obsidian", "id": item.external_id, "path": item.external_id}
        entry_id = str(info.get("id") or item.external_id)
        info.update(app=self.app, id=entry_id)
        if entry_id in self.known or entry_id in self.seen:
            self.report.already_present += 1
            return
        self.seen.add(entry_id)
        media: list[dict[str, Any]] = [x for x in item.extra.get("media") or () if isinstance(x, dict)]
        prepared: list[tuple[dict[str, Any], Any]] = []
        try:
            if self.app == "obsidian":
                text = self.vault_text(item, prepared)
                media = [ref for ref, _p in prepared]
            else:
                for ref in media:
                    p = self.prepare(ref, item)
                    if p is not None:
                        prepared.append((ref, p))
                text = self.text(item, prepared)
            if not text.strip():
                self.report.skip(item, "no text, and none of its media could be attached" if media else "empty text")
                return
            refl = self.reflection(item, text, info, media, entry_id)
            self.report.imported += 1
            if len(self.report.reflection_ids) < 20:
                self.report.reflection_ids.append(refl.id)
            if self.write_chunk is not None:
                self.report.attachments_imported += len(prepared)
                self.add_to_chunk(refl, prepared)
                prepared = []   # the chunk discards them once written
                return
            if not prepared:
                self.pending.append(refl)
                if len(self.pending) >= BATCH:
                    self.flush()
                return
            self.report.attachments_imported += len(prepared)
            if self.write:
                self.flush()  # the rows an attachment names must exist first
                self.storage.reflections.create(refl)
                for ref, p in prepared:
                    self.blobs_moved = True
                    att.attach_prepared(self.storage, refl.id, p, metadata=self.attachment_meta(ref))
        finally:
            for _ref, p in prepared:
                p.discard()

    def prepare(self, ref: dict[str, Any], item: Item) -> Any:
        where = ref.get("path")
        entry = item.title or item.external_id
        if not isinstance(where, str) or not where:
            self.report.attachment_failed(entry, None, f"the {ref.get('kind', 'file')} is not in the export")
            return None
        if self.media is None:
            self.media = MediaSource(self.source, APPS[self.app])
        name = where.rsplit("/", 1)[-1]
        try:
            with self.media.open(where) as stream:
                if not self.write:
                    return _check_only(stream, name, self.cap)  # a dry run leaves no file behind
                return att.prepare_attachment(self.storage, stream, filename=name, max_bytes=self.cap)
        except att.AttachmentRefused as exc:
            self.report.attachment_failed(entry, where, str(exc))
            return None

    def vault_text(self, item: Item, prepared: list[tuple[dict[str, Any], Any]]) -> str:
        """A note's text with its embedded vault files (``![x](pic.png)``, ``![[pic.png]]``) as attachments.

        A link is resolved from the note's folder, then the vault's top, and only to a file inside the
        vault; what cannot be attached (a text file, a missing one) keeps its link and is reported.
        """
        root = self.source.resolve()
        note_dir = posixpath.dirname(item.external_id)

        def resolve(target: str) -> str | None:
            if _SCHEME.match(target):
                return None  # a web address, or already an attachment: link
            target = unquote(target.strip())
            for base in (note_dir, ""):
                rel = posixpath.normpath(posixpath.join(base, target))
                if rel.startswith(("../", "/")) or rel in ("..", "."):
                    continue
                full = (root / rel).resolve()
                if full.is_relative_to(root) and full.is_file():
                    return rel
            return None

        def attach(whole: str, target: str, alt: str | None) -> str:
            rel = resolve(target)
            if rel is None:
                return whole
            ref = {"kind": "file", "identifier": rel, "path": rel}
            p = self.prepare(ref, item)
            if p is None:
                return whole
            ref["kind"] = "image" if p.mime_type in att.IMAGE_TYPES else "file"
            prepared.append((ref, p))
            name = alt or posixpath.basename(rel)
            name = re.sub(r"[\[\]\n]", " ", name).strip() or "image"
            return f"![{name}](attachment:{p.sha256})" if ref["kind"] == "image" else f"[{name}](attachment:{p.sha256})"

        text = (item.content or "").strip("\n")
        text = _MD_EMBED.sub(lambda mt: attach(mt[0], mt[2], mt[1]), text)
        return _WIKI_EMBED.sub(lambda mt: attach(mt[0], mt[1], mt[2]), text)

    def text(self, item: Item, prepared: list[tuple[dict[str, Any], Any]]) -> str:
        links: dict[str, str] = {}
        for ref, p in prepared:
            name = p.filename or str(ref.get("kind") or "file")
            link = f"(attachment:{p.sha256})"
            links[str(ref.get("identifier"))] = (f"![{ref.get('kind', 'photo')}]{link}"
                                                 if p.mime_type in att.IMAGE_TYPES else f"[{name}]{link}")
        text = (item.content or "").strip("\n")
        if not text.strip():
            # Only media (a photo entry): the reflection shows its pictures.
            return "\n\n".join(links.values())
        return resolve_media_links(text, links)

    def reflection(self, item: Item, text: str, info: dict[str, Any], media: list[dict[str, Any]],
                   entry_id: str) -> m.Reflection:
        if media:
            info["media"] = media
        tags = sorted({t.strip() for t in item.tags if t.strip()})
        meta: dict[str, Any] = {"tags": tags, "word_count": word_count(text), "imported_from": self.app,
                                "import": {k: v for k, v in info.items() if v is not None}}
        if item.title and self.app in ("obsidian", "jrnl"):
            meta["import"]["title"] = item.title
        refl = m.Reflection(content=text, identity_id=self.identity_id, visibility=Visibility.LOCAL_ONLY,
                            content_type=ContentType.MARKDOWN, source=Source.IMPORT, metadata=meta,
                            created_at=item.starts_at or datetime.now(UTC))
        try:
            validate(refl)  # a dry run refuses what the real import would
        except ValidationError as exc:
            raise ImportProblem(f"The entry {item.title or entry_id} cannot be a reflection ({exc}); "
                                "nothing was imported.") from None
        return refl

