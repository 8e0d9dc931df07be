"""The poll logic: which integration is due, one sync as one transaction, and the status it leaves.

Qt-free, so the window's poller thread and ``mirror integration sync`` run the same code. A sync
has three steps that a worker may put on different threads:

1. ``prepare(storage, id)`` — database read: the integration and the versions of its stored items;
2. ``fetch(plan, state)`` — no database: the connector talks to the server or reads the files;
3. ``apply(storage, plan, fetched)`` — database write, **one transaction**: items, reflections,
   drafts and the integration's status together, or nothing (a failure half-way rolls back, then
   the failure is recorded on its own).

``sync_integration`` runs the three in a row (CLI, tests); ``Poller`` is the loop the window's
QThread runs, with steps 1 and 3 on the database executor. A notes folder is read lazily while step 3
writes (constant memory), so the executor is busy for that whole step: about 0.5 s for an unchanged
10,000-note folder, about 16 s for its first sync (BENCHMARKS.md). Status follows spec 13 and issue 14:
success → ``active`` with ``last_sync`` set; a failing source → ``error`` with one sentence in
``metadata.last_error`` and the items of the last good sync kept; refused credentials →
``disconnected``; ``paused`` and ``disconnected`` integrations are skipped. After a failure the
next automatic try waits ``BACKOFF_BASE_S`` doubled per consecutive failure, up to a day.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from mirror_desktop.core import models as m
from mirror_desktop.core.enums import ContentType, IntegrationStatus, Source, Visibility
from mirror_desktop.core.errors import MirrorError
from mirror_desktop.integrations import credentials
from mirror_desktop.integrations.base import (
    AuthError,
    ConfigError,
    Connector,
    FetchContext,
    FetchResult,
    Item,
    QuietSyncState,
    SourceError,
    SyncCancelled,
    SyncState,
    connector_for,
)

FREQUENCIES: dict[str, timedelta | None] = {"hourly": timedelta(hours=1), "daily": timedelta(days=1), "manual": None}
DEFAULT_FREQUENCY = "daily"
BACKOFF_BASE_S = 300
BACKOFF_MAX_S = 86_400
MAX_ERROR_CHARS = 500


def _iso(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _parse(ts: Any) -> datetime | None:
    if not isinstance(ts, str):
        return None
    try:
        parsed = datetime.fromisoformat(ts.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def frequency_of(integ: m.Integration) -> str:
    value = (integ.config or {}).get("sync_frequency", DEFAULT_FREQUENCY)
    return value if value in FREQUENCIES else DEFAULT_FREQUENCY


def backoff_delay(failures: int) -> timedelta:
    """How long to wait after ``failures`` consecutive failures: 5 min, 10, 20 … at most a day."""
    if failures <= 0:
        return timedelta()
    return timedelta(seconds=min(BACKOFF_BASE_S * 2 ** min(failures - 1, 20), BACKOFF_MAX_S))


def next_due(integ: m.Integration, now: datetime | None = None) -> datetime | None:
    """When the poller should next sync ``integ`` (None: never on its own: paused, disconnected, manual)."""
    status = str(integ.status)
    if status in (IntegrationStatus.PAUSED, IntegrationStatus.DISCONNECTED):
        return None
    every = FREQUENCIES[frequency_of(integ)]
    if every is None:
        return None
    meta = integ.metadata or {}
    failures = int(meta.get("consecutive_failures") or 0)
    last_attempt = _parse(meta.get("last_attempt_at"))
    if failures and last_attempt is not None:
        return last_attempt + min(backoff_delay(failures), every)
    last = integ.last_sync or last_attempt
    if last is None:
        return integ.connected_at
    return last + every


def is_due(integ: m.Integration, now: datetime) -> bool:
    when = next_due(integ, now)
    return when is not None and when <= now


def due_integrations(storage: Any, now: datetime) -> list[m.Integration]:
    return [i for i in storage.integrations.list() if is_due(i, now)]


@dataclass
class SyncReport:
    """What one sync did; ``outcome`` is ok, not_modified, error, disconnected, skipped or cancelled."""

    integration_id: str
    outcome: str
    message: str = ""
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    deleted_upstream: int = 0
    conflict_copies: int = 0
    drafts: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.outcome in ("ok", "not_modified")

    def summary(self) -> str:
        if not self.ok:
            return self.message
        if self.outcome == "not_modified":
            return "unchanged at the source"
        parts = [f"{self.added} new", f"{self.updated} updated", f"{self.unchanged} unchanged"]
        if self.removed:
            parts.append(f"{self.removed} removed")
        if self.deleted_upstream:
            parts.append(f"{self.deleted_upstream} deleted at the source (kept here)")
        if self.conflict_copies:
            parts.append(f"{self.conflict_copies} edited in both places (the new text kept as a linked reflection)")
        if self.drafts:
            parts.append(f"{self.drafts} drafts")
        return ", ".join(parts)


@dataclass
class SyncPlan:
    """Step 1's result: what the fetch needs, read from the database."""

    integration: m.Integration
    connector: Connector
    known: dict[str, str]
    cursor: dict[str, Any] = field(default_factory=dict)
    deleted: set[str] = field(default_factory=set)  # items the source had dropped (state deleted_upstream)


@dataclass
class Fetched:
    """Step 2's result: the connector's answer, or the failure it ended in."""

    result: FetchResult | None = None
    error: MirrorError | None = None
    started: float = field(default_factory=time.monotonic)


# -- step 1 -----------------------------------------------------------------------------------

def prepare(storage: Any, integration_id: str) -> SyncPlan:
    integ = storage.integrations.get(integration_id)
    provider = str((integ.config or {}).get("provider", ""))
    connector = connector_for(provider)
    known = storage.integration_items.versions(integ.id)
    # No stored items (a first sync, or after an import: bundles carry none) means the cursor
    # describes data this journal does not hold: fetch everything.
    cursor = dict((integ.metadata or {}).get("sync_cursor") or {}) if known else {}
    deleted = storage.integration_items.ids_in_state(integ.id, "deleted_upstream")
    return SyncPlan(integ, connector, known, cursor, deleted)


# -- step 2 -----------------------------------------------------------------------------------

def fetch(plan: SyncPlan, state: SyncState | None = None, now: datetime | None = None,
          timeout: float | None = None) -> Fetched:
    """Run the connector (network or files, no database); failures come back in ``Fetched.error``."""
    state = state or QuietSyncState()
    now = now or datetime.now(UTC)
    integ = plan.integration
    fetched = Fetched()
    try:
        problems = plan.connector.validate(integ.config or {})
        if problems:
            raise ConfigError(problems)
        secret = credentials.load_secret(integ.id, integ.config or {})
        if secret is None and (plan.connector.needs_secret or (integ.config or {}).get("username")):
            raise AuthError("This integration has no password any more (bundles never carry one); enter it again.")
        ctx = FetchContext(cursor=plan.cursor, known=plan.known, state=state, now=now)
        if timeout is not None:
            ctx.timeout = timeout
        ctx.check()
        fetched.result = plan.connector.fetch(integ.config or {}, secret, ctx)
    except (SourceError, ConfigError, SyncCancelled) as exc:
        fetched.error = exc
    except MirrorError as exc:
        fetched.error = SourceError(str(exc))
    except Exception as exc:  # a connector's library failed in a way it did not translate: still one sentence
        fetched.error = SourceError(f"The sync failed unexpectedly ({type(exc).__name__}: {str(exc)[:150]}); "
                                    "Mirror will try again later.")
    return fetched


# -- step 3 -----------------------------------------------------------------------------------

def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _word_count(text: str) -> int:
    return len(text.split())


class _Applier:
    """Writes one fetch's items inside the caller's transaction."""

    def __init__(self, storage: Any, plan: SyncPlan, integ: m.Integration, now: datetime, report: SyncReport) -> None:
        self.s = storage
        self.plan = plan
        self.integ = integ
        self.now = now
        self.report = report
        self.provider = str(integ.config.get("provider"))
        self.auto_reflect = bool((integ.metadata or {}).get("auto_reflect", False))
        self._adoptable: dict[str, m.Reflection] | None = None
        self._pending_reflections: list[m.Reflection] = []
        self._pending_items: list[m.IntegrationItem] = []

    # Reflections that came from this integration but whose item rows are missing (a bundle carries
    # reflections, never items): a first sync after an import adopts them instead of duplicating.
    def adoptable(self, external_id: str) -> m.Reflection | None:
        if self.plan.known:
            return None
        if self._adoptable is None:
            self._adoptable = {}
            for r in self.s.reflections.list(source=Source.INTEGRATION):
                link = (r.metadata or {}).get("integration") or {}
                if link.get("id") == self.integ.id and isinstance(link.get("external_id"), str):
                    self._adoptable[link["external_id"]] = r
        return self._adoptable.get(external_id)

    def run(self, items: Iterable[Item], window: tuple[datetime, datetime] | None, state: SyncState) -> None:
        seen: set[str] = set()
        for n, item in enumerate(items, 1):
            if n % 500 == 0 and state.is_cancelled():
                raise SyncCancelled()
            if item.external_id in seen:
                continue  # a source listing one id twice (two VEVENTs with one UID and start)
            seen.add(item.external_id)
            back = item.external_id in self.plan.deleted
            if item.unchanged or (self.plan.known.get(item.external_id) == item.version and not back):
                if back:
                    self.reappeared(item.external_id)
                self.report.unchanged += 1
                continue
            existing = (self.s.integration_items.find_pair(self.integ.id, item.external_id)
                        if item.external_id in self.plan.known else None)
            if item.kind == "note":
                self.note(item, existing)
            else:
                self.event(item, existing)
            if len(self._pending_items) >= self.BATCH:
                self.flush()
        self.flush()
        self.gone(seen, window)

    # New rows are written in batches: one INSERT per 500 instead of one per row (first syncs).
    BATCH = 500

    def flush(self) -> None:
        if self._pending_reflections:
            self.s.reflections.create_many(self._pending_reflections)
            self._pending_reflections = []
        if self._pending_items:
            self.s.integration_items.create_many(self._pending_items)
            self._pending_items = []

    def reappeared(self, external_id: str) -> None:
        row = self.s.integration_items.find_pair(self.integ.id, external_id)
        if row is None:
            return
        self.s.integration_items.update(replace(row, state="present", updated_at=self.now))
        refl = self.s.reflections.find(row.reflection_id) if row.reflection_id else None
        if refl is not None:
            self._flag_deleted(refl, False)

    # -- notes --------------------------------------------------------------------------------
    def _note_text(self, item: Item) -> str:
        text = item.content or ""
        return text if text.strip() else f"# {item.title or item.external_id}"

    def _reflection_meta(self, item: Item, tags: list[str], text: str, **link: Any) -> dict[str, Any]:
        return {"tags": tags, "word_count": _word_count(text), "imported_from": self.provider,
                "integration": {"id": self.integ.id, "provider": self.provider, "external_id": item.external_id,
                                "title": item.title, "upstream_tags": sorted(set(item.tags)), **link}}

    def _new_reflection(self, item: Item, text: str, *, batch: bool = False, **link: Any) -> m.Reflection:
        refl = m.Reflection(content=text, identity_id=self.integ.identity_id, visibility=Visibility.LOCAL_ONLY,
                            content_type=ContentType.MARKDOWN, source=Source.INTEGRATION,
                            metadata=self._reflection_meta(item, sorted(set(item.tags)), text, **link),
                            created_at=item.starts_at or self.now)
        if batch:
            self._pending_reflections.append(refl)
            return refl
        return self.s.reflections.create(refl)

    def _item_row(self, item: Item, reflection_id: str | None, extra: Mapping[str, Any],
                  base: m.IntegrationItem | None = None) -> m.IntegrationItem:
        meta = {k: v for k, v in {**item.extra, **extra}.items() if v is not None}
        if base is None:
            return m.IntegrationItem(integration_id=self.integ.id, external_id=item.external_id, kind=item.kind,
                                     version=item.version, title=item.title, starts_at=item.starts_at,
                                     ends_at=item.ends_at, all_day=item.all_day, reflection_id=reflection_id,
                                     metadata=meta or None, first_seen_at=self.now, updated_at=self.now)
        return replace(base, kind=item.kind, version=item.version, title=item.title, starts_at=item.starts_at,
                       ends_at=item.ends_at, all_day=item.all_day, state="present", reflection_id=reflection_id,
                       metadata=meta or None, updated_at=self.now)

    def note(self, item: Item, existing: m.IntegrationItem | None) -> None:
        text = self._note_text(item)
        if existing is None:
            adopted = self.adoptable(item.external_id)
            if adopted is None:
                created = self._new_reflection(item, text, batch=True)
                self._pending_items.append(self._item_row(item, created.id, {"synced_sha256": _sha(text)}))
                self.report.added += 1
                return
            # Adopt the imported reflection as if it were this item's, then treat the fetch as an update.
            existing = m.IntegrationItem(integration_id=self.integ.id, external_id=item.external_id, kind="note",
                                         version="", reflection_id=adopted.id,
                                         metadata={"synced_sha256": _sha(adopted.content)},
                                         first_seen_at=self.now, updated_at=self.now)
            self.s.integration_items.create(existing)
        old = existing.metadata or {}
        was_deleted = existing.state == "deleted_upstream"
        if existing.version == item.version and not was_deleted:
            self.report.unchanged += 1
            return
        same_bytes = old.get("content_sha256") == item.extra.get("content_sha256") and old.get("content_sha256")
        refl: m.Reflection | None = self.s.reflections.find(existing.reflection_id) if existing.reflection_id else None
        synced = old.get("synced_sha256")
        if same_bytes:
            # Touched, not edited (mtime moved, bytes did not): remember the new stat, change nothing else.
            self.s.integration_items.update(self._item_row(item, existing.reflection_id, {"synced_sha256": synced},
                                                           existing))
            if was_deleted and refl is not None:
                self._flag_deleted(refl, False)
            self.report.unchanged += 1
            return
        reflection_id = existing.reflection_id
        if refl is None:
            pass  # deleted in Mirror: the person's deletion stands; the item keeps only its record
        elif synced is not None and _sha(refl.content) == synced:
            meta = dict(refl.metadata or {})
            # Tags added in Mirror stay; tags that came from the note follow the note.
            previous = set((meta.get("integration") or {}).get("upstream_tags") or [])
            own = [t for t in (meta.get("tags") or []) if t not in previous]
            meta.update(self._reflection_meta(item, sorted(set(item.tags) | set(own)), text))
            self.s.reflections.update(replace(refl, content=text, metadata=meta))
            synced = _sha(text)
        else:
            # Edited in Mirror since the last sync: nothing typed here is overwritten. The upstream text
            # arrives as a new reflection linked to the edited one.
            copy = self._new_reflection(item, text, linked_reflection_id=refl.id)
            reflection_id, synced = copy.id, _sha(text)
            self.report.conflict_copies += 1
        self.s.integration_items.update(self._item_row(item, reflection_id, {"synced_sha256": synced}, existing))
        self.report.updated += 1

    def _flag_deleted(self, refl: m.Reflection, deleted: bool) -> None:
        meta = dict(refl.metadata or {})
        link = dict(meta.get("integration") or {})
        if bool(link.get("upstream_deleted")) == deleted:
            return
        if deleted:
            link["upstream_deleted"] = True
            link["upstream_deleted_at"] = _iso(self.now)
        else:
            link.pop("upstream_deleted", None)
            link.pop("upstream_deleted_at", None)
        meta["integration"] = link
        self.s.reflections.update(replace(refl, metadata=meta))

    # -- events -------------------------------------------------------------------------------
    def event(self, item: Item, existing: m.IntegrationItem | None) -> None:
        if existing is None:
            self._pending_items.append(self._item_row(item, None, {}))
            self.report.added += 1
            if self.auto_reflect:
                self._draft(item)
            return
        if existing.version == item.version:
            self.report.unchanged += 1
            return
        self.s.integration_items.update(self._item_row(item, existing.reflection_id, {}, existing))
        self.report.updated += 1

    def _draft(self, item: Item) -> None:
        when = item.starts_at.astimezone().strftime("%Y-%m-%d" if item.all_day else "%Y-%m-%d %H:%M") if item.starts_at else ""
        text = f"## {item.title or 'Event'}\n\n*{when}*\n\n"
        self.s.drafts.create(m.Draft(content=text, identity_id=self.integ.identity_id,
                                     metadata={"source": "integration", "integration_id": self.integ.id,
                                               "external_id": item.external_id, "kind": item.kind}))
        self.report.drafts += 1

    # -- deletions ----------------------------------------------------------------------------
    def gone(self, seen: set[str], window: tuple[datetime, datetime] | None) -> None:
        scope: Iterable[str]
        if window is not None:
            # A calendar lists only its window: an event outside it is history, not a deletion.
            scope = self.s.integration_items.in_window(self.integ.id, window[0], window[1])
        else:
            scope = self.plan.known
        missing = [ext for ext in scope if ext not in seen]
        if not missing:
            return
        events: list[m.IntegrationItem] = []
        notes: list[m.IntegrationItem] = []
        for ext in missing:
            row = self.s.integration_items.find_pair(self.integ.id, ext)
            if row is None:
                continue
            (notes if row.kind == "note" else events).append(row)
        if events:
            self.report.removed += self.s.integration_items.delete_pairs(self.integ.id, [r.external_id for r in events])
        for row in notes:
            if row.state == "deleted_upstream":
                continue
            # Shown, not applied: the reflection stays, marked; the item remembers the deletion.
            self.s.integration_items.update(replace(row, state="deleted_upstream", updated_at=self.now))
            refl = self.s.reflections.find(row.reflection_id) if row.reflection_id else None
            if refl is not None:
                self._flag_deleted(refl, True)
            self.report.deleted_upstream += 1


def _success_meta(meta: dict[str, Any], cursor: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    meta = dict(meta)
    for key in ("last_error", "consecutive_failures", "last_error_at"):
        meta.pop(key, None)
    meta["last_attempt_at"] = _iso(now)
    meta["sync_cursor"] = dict(cursor)
    return meta


def apply(storage: Any, plan: SyncPlan, fetched: Fetched, state: SyncState | None = None,
          now: datetime | None = None) -> SyncReport:
    """Write a fetch's outcome: items and status in one transaction, or the failure alone."""
    state = state or QuietSyncState()
    now = now or datetime.now(UTC)
    iid = plan.integration.id
    report = SyncReport(iid, "ok")
    if fetched.error is None and fetched.result is not None:
        result = fetched.result
        try:
            with storage.transaction():
                integ = storage.integrations.find(iid)
                if integ is None:
                    return SyncReport(iid, "skipped", "The integration was removed during the sync; nothing was written.")
                if not result.not_modified:
                    _Applier(storage, plan, integ, now, report).run(result.items, result.window, state)
                else:
                    report.outcome = "not_modified"
                    report.unchanged = len(plan.known)
                status = integ.status
                if str(status) in (IntegrationStatus.ERROR, IntegrationStatus.ACTIVE):
                    status = IntegrationStatus.ACTIVE
                storage.integrations.update(replace(integ, status=status, last_sync=now,
                                                    metadata=_success_meta(integ.metadata or {}, result.cursor, now)))
        except (SourceError, ConfigError, SyncCancelled) as exc:
            fetched.error = exc  # raised while reading lazily (a vault's note): everything above rolled back
        except MirrorError as exc:
            fetched.error = SourceError(f"A fetched item could not be saved ({exc}); Mirror will try again later.")
        else:
            report.seconds = time.monotonic() - fetched.started
            return report
    return record_failure(storage, iid, fetched.error or SourceError("The sync returned nothing."), now, fetched.started)


def record_failure(storage: Any, integration_id: str, error: MirrorError, now: datetime,
                   started: float | None = None) -> SyncReport:
    """Status error (or disconnected) with one sentence; items and last_sync untouched."""
    seconds = time.monotonic() - started if started is not None else 0.0
    if isinstance(error, SyncCancelled):
        return SyncReport(integration_id, "cancelled", str(error), seconds=seconds)
    auth = isinstance(error, AuthError)
    message = str(error)[:MAX_ERROR_CHARS]
    with storage.transaction():
        integ = storage.integrations.find(integration_id)
        if integ is None:
            return SyncReport(integration_id, "skipped", "The integration was removed during the sync.")
        meta = dict(integ.metadata or {})
        meta["last_error"] = message
        meta["last_error_at"] = _iso(now)
        meta["last_attempt_at"] = _iso(now)
        meta["consecutive_failures"] = int(meta.get("consecutive_failures") or 0) + 1
        status = integ.status
        if str(status) != IntegrationStatus.PAUSED:
            status = IntegrationStatus.DISCONNECTED if auth else IntegrationStatus.ERROR
        storage.integrations.update(replace(integ, status=status, metadata=meta))
    return SyncReport(integration_id, "disconnected" if auth else "error", message, seconds=seconds)


def skip_reason(integ: m.Integration) -> str | None:
    status = str(integ.status)
    if status == IntegrationStatus.PAUSED:
        return "paused; resume it to sync"
    if status == IntegrationStatus.DISCONNECTED:
        return "disconnected; enter its credentials again (mirror integration resume ID --password-file F)"
    return None


def sync_integration(storage: Any, integration_id: str, state: SyncState | None = None,
                     now: datetime | None = None, timeout: float | None = None) -> SyncReport:
    """prepare → fetch → apply on the caller's thread (the CLI and tests; the window splits them)."""
    state = state or QuietSyncState()
    now = now or datetime.now(UTC)
    integ = storage.integrations.get(integration_id)
    reason = skip_reason(integ)
    if reason is not None:
        return SyncReport(integ.id, "skipped", f"Integration {integ.id[:8]} is {reason}.")
    try:
        plan = prepare(storage, integration_id)
    except ConfigError as exc:
        return record_failure(storage, integration_id, exc, now)
    fetched = fetch(plan, state, now, timeout)
    return apply(storage, plan, fetched, state, now)


def sync_due(storage: Any, state: SyncState | None = None, now: datetime | None = None) -> list[SyncReport]:
    """One poller round: every due integration in turn; one failing never stops the others."""
    state = state or QuietSyncState()
    now = now or datetime.now(UTC)
    reports = []
    for integ in due_integrations(storage, now):
        if state.is_cancelled():
            break
        reports.append(sync_integration(storage, integ.id, state, now))
    return reports


def seconds_until_next(storage: Any, now: datetime, ceiling: float = 3600.0) -> float:
    """How long the poller may sleep before an integration falls due (≤ ``ceiling``)."""
    waits = [ceiling]
    for integ in storage.integrations.list():
        when = next_due(integ, now)
        if when is not None:
            waits.append(max((when - now).total_seconds(), 0.0))
    return min(waits)


class Poller:
    """The poller's loop without Qt: the window runs ``run`` on its own QThread, tests on a thread.

    ``run_db(fn)`` runs ``fn(storage)`` where the database lives (the window: its one serial
    executor, blocking this thread until the result is back; tests and the CLI: directly) and returns
    its result. Only ``fetch`` — network and files — runs on the poller's own thread, so a hanging
    server never holds the database, and the GUI thread is never involved. ``stop()`` (quit) sets an
    event that the sleep, the connectors (between items and HTTP chunks) and each round check, so the
    loop ends within one read timeout at worst.
    """

    def __init__(self, run_db: Callable[[Callable[[Any], Any]], Any], *, max_sleep_s: float = 300.0,
                 on_report: Callable[[SyncReport], None] | None = None,
                 on_started: Callable[[str], None] | None = None) -> None:
        self.run_db = run_db
        self.max_sleep_s = max_sleep_s
        self.on_report = on_report
        self.on_started = on_started
        self._stop = threading.Event()
        self._wake = threading.Event()
        self.state = _StopState(self._stop)

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def wake(self) -> None:
        """Look for due integrations now (after an add, a resume, or "Sync now")."""
        self._wake.set()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def sync_one(self, integration_id: str, now: datetime | None = None) -> SyncReport:
        """One integration, its fetch on this thread and its reads and writes through ``run_db``."""
        now = now or datetime.now(UTC)
        if self.on_started is not None:
            self.on_started(integration_id)

        def plan_or_skip(storage: Any) -> SyncPlan | SyncReport:
            integ = storage.integrations.get(integration_id)
            reason = skip_reason(integ)
            if reason is not None:
                return SyncReport(integ.id, "skipped", f"Integration {integ.id[:8]} is {reason}.")
            try:
                return prepare(storage, integration_id)
            except ConfigError as exc:
                return record_failure(storage, integration_id, exc, now)

        planned = self.run_db(plan_or_skip)
        if isinstance(planned, SyncReport):
            report = planned
        else:
            # The fetch runs on a daemon helper so quitting never waits for a server's read timeout:
            # an abandoned fetch touches no database and ends on its own timeout.
            box: list[Fetched] = []
            helper = threading.Thread(target=lambda: box.append(fetch(planned, self.state, now)),
                                      name=f"fetch-{integration_id[:8]}", daemon=True)
            helper.start()
            while helper.is_alive() and not self.stopped:
                helper.join(0.05)
            if not box:
                report = SyncReport(integration_id, "cancelled", "The sync was stopped before it finished; nothing was changed.")
            else:
                fetched = box[0]
                report = self.run_db(lambda storage: apply(storage, planned, fetched, self.state, now))
        if self.on_report is not None:
            self.on_report(report)
        return report

    def round(self, now: datetime | None = None) -> list[SyncReport]:
        """Sync every due integration once; one failing never stops the others."""
        now = now or datetime.now(UTC)
        due = self.run_db(lambda storage: [i.id for i in due_integrations(storage, now)])
        reports = []
        for iid in due:
            if self.stopped:
                break
            reports.append(self.sync_one(iid, now))
        return reports

    def run(self) -> None:
        """Rounds until ``stop()``: sleep until the next integration falls due (or a wake-up)."""
        while not self.stopped:
            self._wake.clear()
            try:
                self.round()
                wait = self.run_db(lambda storage: seconds_until_next(storage, datetime.now(UTC), self.max_sleep_s))
            except Exception:  # the journal was busy or closing: try again after a pause, never die
                wait = min(60.0, self.max_sleep_s)
            if self.stopped:
                break
            self._wake.wait(max(float(wait), 1.0))


class _StopState:
    """The poller's SyncState: cancelled once the poller is stopped."""

    def __init__(self, stop: threading.Event) -> None:
        self._stop = stop

    def set_progress(self, fraction: float, message: str = "") -> None:
        pass

    def is_cancelled(self) -> bool:
        return self._stop.is_set()


def check_connection(provider: str, config: Mapping[str, Any], secret: str | None = None,
                     state: SyncState | None = None, timeout: float = 10.0,
                     now: datetime | None = None) -> str:
    """"Test connection" for the window's dialog (run it off the GUI thread): fetch once, write nothing.

    Returns one sentence saying what was found; raises ConfigError, SourceError or AuthError with
    the sentence to show otherwise.
    """
    connector = connector_for(provider)
    problems = connector.validate(dict(config))
    if problems:
        raise ConfigError(problems)
    ctx = FetchContext(cursor={}, known={}, state=state or QuietSyncState(), now=now or datetime.now(UTC),
                       timeout=timeout)
    result = connector.fetch(dict(config), secret, ctx)
    count = 0
    for count, _ in enumerate(result.items, 1):
        if count >= 100_000:
            break
    noun = "events in the sync window" if connector.integration_type == "calendar" else "notes"
    return f"Connected to {connector.location(config) or provider}: {count:,} {noun}."
