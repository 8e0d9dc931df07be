"""What every export shares: the request and its checks, the selection, the out folder, the result.

Choices (README, "Export to other formats"):

* **Identity.** ``--identity`` names one (a name, an id or "Anonymous"). Without it: the only identity
  when the journal has exactly one, Anonymous when it has none, and when it has several the export
  is refused with one sentence listing them - an export never guesses between a person's identities,
  and never holds two identities' reflections.
* **Dates.** ``--since``/``--until`` are calendar days (YYYY-MM-DD) in this computer's time zone, both
  included. Reflections are written oldest first; headings and file names use local time.
* **Out folder.** Created when missing; an existing folder must be empty (an export never mixes with,
  or overwrites, other files). On failure or Cancel, what the export wrote is removed again.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from mirror_desktop.core import models as m
from mirror_desktop.core.errors import MirrorError
from mirror_desktop.core.models import SearchFilters
from mirror_desktop.core.ports import MirrorStorage
from mirror_desktop.core.progress import JobState, QuietState, check

FORMATS = ("markdown", "json", "html", "pdf")
BATCH = 500
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


class ExportRefused(MirrorError):
    """An export that cannot run as asked; one sentence says why and what to do."""


@dataclass(frozen=True)
class ExportRequest:
    fmt: str
    out_dir: Path
    identity: str | None = None  # a name, an id, "Anonymous", or None for the default (see module doc)
    since: date | None = None
    until: date | None = None


@dataclass
class ExportResult:
    fmt: str
    out_dir: Path
    main_file: Path
    identity: str
    reflections: int = 0
    attachments: int = 0
    files: list[str] = field(default_factory=list)

    def sentence(self) -> str:
        what = f"{self.reflections} reflection{'s' if self.reflections != 1 else ''}"
        if self.attachments:
            what += f" and {self.attachments} attachment{'s' if self.attachments != 1 else ''}"
        return f"Exported {what} of {self.identity} as {self.fmt} to {self.main_file}."

    def as_json(self) -> dict[str, Any]:
        return {"format": self.fmt, "out": str(self.out_dir), "file": str(self.main_file), "identity": self.identity,
                "reflections": self.reflections, "attachments": self.attachments}


def parse_day(text: str | None, flag: str) -> date | None:
    """A YYYY-MM-DD calendar day, or ExportRefused naming the flag."""
    if text is None:
        return None
    raw = text.strip()
    if not _DAY.fullmatch(raw):
        raise ExportRefused(f"{flag} {text!r} is not a date; write it as YYYY-MM-DD, like 2026-03-14.")
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ExportRefused(f"{flag} {text!r} is not a day of the calendar; check the month and the day.") from None


def check_range(since: date | None, until: date | None) -> None:
    if since is not None and until is not None and since > until:
        raise ExportRefused(f"--since {since.isoformat()} is after --until {until.isoformat()}; "
                            "give the earlier day first.")


def local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0)).astimezone().astimezone(UTC)


def filters_for(identity_id: str | None, since: date | None, until: date | None) -> SearchFilters:
    kwargs: dict[str, Any] = {"anonymous_only": True} if identity_id is None else {"identity_id": identity_id}
    if since is not None:
        kwargs["since"] = local_midnight(since)
    if until is not None:
        kwargs["until"] = local_midnight(until + timedelta(days=1))
    return SearchFilters(**kwargs)


def resolve_identity(storage: MirrorStorage, text: str | None) -> tuple[str | None, str]:
    """(identity id or None for Anonymous, the name to show) - see the module doc for the default."""
    from mirror_desktop.core.services import ANONYMOUS_NAME, identity_by_name_or_id

    if text is not None:
        ident = identity_by_name_or_id(storage, text)
        return (None, ANONYMOUS_NAME) if ident is None else (ident.id, ident.name or ident.id)
    identities = storage.identities.list()
    if not identities:
        return None, ANONYMOUS_NAME
    if len(identities) == 1:
        return identities[0].id, identities[0].name or identities[0].id
    names = ", ".join(sorted(i.name or i.id for i in identities))
    raise ExportRefused(f"This journal has {len(identities)} identities ({names}, and Anonymous); "
                        "choose the one to export with --identity.")


def prepare_out_dir(out: Path) -> bool:
    """Make sure ``out`` is an empty folder Mirror can write; returns whether it was created here."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ExportRefused(f"{out} is a file, not a folder; give --out a new or empty folder.")
    if out.is_dir():
        try:
            if any(out.iterdir()):
                raise ExportRefused(f"The folder {out} already holds files; give --out a new or empty folder "
                                    "so nothing there is mixed in or overwritten.")
        except PermissionError:
            raise ExportRefused(f"The folder {out} cannot be read; give --out a folder you can write to.") from None
        if not os.access(out, os.W_OK | os.X_OK):
            raise ExportRefused(f"The folder {out} cannot be written; give --out a folder you can write to.")
        return False
    try:
        out.mkdir(parents=True, mode=0o700)
    except OSError as exc:
        raise ExportRefused(f"The folder {out} cannot be created ({exc.strerror or exc}); "
                            "give --out a folder you can write to.") from None
    return True


def safe_name(text: str, fallback: str = "Mirror") -> str:
    """A file name from a person's name: no path separators, control or reserved characters."""
    name = re.sub(r'[\\/:*?"<>|\x00-\x1f\x7f]+', " ", text).strip(" .")
    return name[:80] or fallback


@dataclass
class Batch:
    """Reflections (oldest first) and their attachments, by reflection id."""

    reflections: list[m.Reflection]
    attachments: dict[str, list[m.Attachment]]


def batches(storage: MirrorStorage, filters: SearchFilters, state: JobState) -> Iterator[Batch]:
    for rows in storage.reflections.batches_oldest_first(filters, batch=BATCH):
        check(state)
        yield Batch(rows, storage.attachments.for_reflections([r.id for r in rows]))


Writer = Callable[[MirrorStorage, "ExportContext"], Path]


@dataclass
class ExportContext:
    """What a writer gets: where to write, whose reflections, how many, and the progress to report."""

    out_dir: Path
    identity_name: str
    filters: SearchFilters
    total: int
    since: date | None
    until: date | None
    state: JobState
    result: ExportResult

    def batches(self, storage: MirrorStorage) -> Iterator[Batch]:
        done = 0
        for b in batches(storage, self.filters, self.state):
            yield b
            done += len(b.reflections)
            self.result.reflections = done
            self.state.set_progress(0.02 + 0.96 * (done / max(self.total, 1)),
                                    f"Writing {done} of {self.total} reflections")

    def title(self) -> str:
        span = ""
        if self.since or self.until:
            span = f", {self.since.isoformat() if self.since else '…'} to {self.until.isoformat() if self.until else '…'}"
        return f"{self.identity_name}'s journal{span}"


def _writer(fmt: str) -> Writer:
    if fmt == "markdown":
        from mirror_desktop.exports.markdown import write_markdown
        return write_markdown
    if fmt == "json":
        from mirror_desktop.exports.dayone import write_dayone
        return write_dayone
    if fmt == "html":
        from mirror_desktop.exports.html import write_html
        return write_html
    if fmt == "pdf":
        # The one Qt writer (QTextDocument + QPdfWriter): a QGuiApplication must exist (the window's, or
        # one the CLI creates offscreen for this format only).
        from mirror_desktop.render.pdf import write_pdf
        return write_pdf
    raise ExportRefused(f"{fmt!r} is not an export format; choose one of {', '.join(FORMATS)}.")


def validate_request(req: ExportRequest) -> None:
    """The checks that need no journal: format, dates, range."""
    if req.fmt not in FORMATS:
        raise ExportRefused(f"{req.fmt!r} is not an export format; choose one of {', '.join(FORMATS)}.")
    check_range(req.since, req.until)


def run_export(storage: MirrorStorage, req: ExportRequest, state: JobState | None = None) -> ExportResult:
    """Write one identity's reflections in ``req``'s format to ``req.out_dir``; see the module doc.

    Reads only (any connection will do, a reader included). Refusals raise ExportRefused (one
    sentence) before anything is written; a failure or Cancel part-way removes what was written.
    """
    state = state or QuietState()
    validate_request(req)
    writer = _writer(req.fmt)
    identity_id, name = resolve_identity(storage, req.identity)
    filters = filters_for(identity_id, req.since, req.until)
    out = Path(req.out_dir)
    created = prepare_out_dir(out)
    before = set(out.iterdir()) if not created else set()
    state.set_progress(0.01, "Counting reflections")
    total = storage.reflections.count_filtered(filters)
    result = ExportResult(req.fmt, out, out, name)
    ctx = ExportContext(out, name, filters, total, req.since, req.until, state, result)
    try:
        result.main_file = writer(storage, ctx)
    except BaseException:
        _undo(out, created, before)
        raise
    result.files = sorted(p.name for p in out.iterdir())
    state.set_progress(1.0, "Done")
    return result


def _undo(out: Path, created: bool, before: set[Path]) -> None:
    try:
        if created:
            shutil.rmtree(out, ignore_errors=True)
            return
        for entry in out.iterdir():
            if entry in before:
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
    except OSError:
        pass  # a half-removed export is untidy, not harmful; the error that stopped it is what the person sees


# -- pieces the writers share --------------------------------------------------------------------

def local(ts: datetime) -> datetime:
    return ts.astimezone()


def utc_text(ts: datetime) -> str:
    """UTC ISO 8601 to the millisecond with a Z (the journal's own form)."""
    u = ts.astimezone(UTC)
    return u.strftime("%Y-%m-%dT%H:%M:%S.") + f"{u.microsecond // 1000:03d}Z"


def attachment_file_name(a: m.Attachment) -> str:
    from mirror_desktop.core.attachments import EXTENSIONS

    return f"{a.sha256}.{EXTENSIONS.get(a.mime_type, 'bin')}"


def copy_attachments(storage: MirrorStorage, items: list[m.Attachment], folder: Path, written: set[str],
                     name: Callable[[m.Attachment], str] = attachment_file_name) -> int:
    """Copy each attachment's bytes once into ``folder``; returns how many files were new."""
    from mirror_desktop.core.attachments import copy_blob
    from mirror_desktop.core.errors import NotFoundError

    n = 0
    for a in items:
        target = name(a)
        if target in written:
            continue
        folder.mkdir(exist_ok=True, mode=0o700)
        try:
            copy_blob(storage, a.sha256, folder / target)
        except NotFoundError:
            continue  # a blob missing from disk (a damaged folder) is left out, the text still exported
        written.add(target)
        n += 1
    return n


def record_export(storage: MirrorStorage, result: ExportResult) -> bool:
    """The spec's ``export`` event ("Data exported", issue 17 item 5) for an export to another format: the format
    and the counts, never a reflection; False (and logged) when it could not be written, the export stands."""
    from mirror_desktop.core.enums import LifecycleEventType
    from mirror_desktop.core.lifecycle import record_event_quietly

    return record_event_quietly(storage, LifecycleEventType.EXPORT, {
        "kind": "export_to", "format": result.fmt, "reflections": result.reflections,
        "attachments": result.attachments})


def export_journal_file(database: Path, req: ExportRequest, state: JobState | None = None) -> ExportResult:
    """run_export on a read-only connection of the caller's thread (the window's export task), so the
    window keeps writing meanwhile (WAL) and no executor lane waits for a long export."""
    from mirror_desktop.storage.journal import SQLiteStorage

    storage = SQLiteStorage(database, migrate=False, create=False, reader=True)
    try:
        return run_export(storage, req, state)
    finally:
        storage.close()
