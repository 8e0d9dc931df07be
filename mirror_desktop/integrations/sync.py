"""The poll logic: which integration is due, one sync as one transaction, and the status it leaves.

Qt-free, so the window's poller thread and ``mirror integration sync`` run the same code. A sync
has four steps that a worker may put on different threads:

1. ``prepare(storage, id)`` — database read: the integration (and, for calendars, the versions of
   its stored items);
2. ``fetch(plan, state)`` — no database: the connector talks to the server or opens the folder;
3. ``stage(reader, plan, fetched, state)`` — reads only, off the write lane (the window gives it a
   read connection of its own): the listing is walked, notes read and parsed, compared with the stored
   items and every row to write prepared, into a private temporary spool file. A notes folder is a
   sorted streaming merge: the walk and the ``integration_items`` table are both read in external-id
   order, a page at a time, so memory does not grow with the folder (issue 14, item 9);
4. ``apply(storage, plan, fetched)`` — database write, **one transaction**: the spool replayed into
   items, reflections, drafts and the integration's status together, or nothing (a failure or a
   Cancel half-way rolls back, then a failure is recorded on its own). Only inserts and the few
   updates are left for the write lane, so an autosave queued meanwhile waits for those alone.

``sync_integration`` runs them in a row (CLI, tests); ``Poller`` is the loop the window's QThread
runs, with steps 1 and 4 on the database executor and steps 2 and 3 on a helper thread. Status follows
spec 13 and issue 14: success → ``active`` with ``last_sync`` set; a failing source → ``error`` with
one sentence in ``metadata.last_error`` and the items of the last good sync kept; refused credentials
→ ``disconnected``; ``paused`` and ``disconnected`` integrations are skipped; a cancelled sync writes
nothing and says so. After a failure the next automatic try waits ``BACKOFF_BASE_S`` doubled per
consecutive failure, up to a day.
"""

from __future__ import annotations

import hashlib
import pickle
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
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
CANCELLED_TEXT = "Sync cancelled; nothing was changed."
STOPPED_TEXT = "The sync was stopped before it finished; nothing was changed."


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
    known: Mapping[str, str]
    cursor: dict[str, Any] = field(default_factory=dict)
    deleted: set[str] = field(default_factory=set)  # items the source had dropped (state deleted_upstream)
    first_sync: bool = False  # no stored items: a first sync, or the first after a bundle import
    streamed: bool = False  # notes: ``known`` is a SortedKnown merged page by page, never loaded whole


@dataclass
class Fetched:
    """Steps 2 and 3's result: the connector's answer staged for writing, or the failure it ended in."""

    result: FetchResult | None = None
    error: MirrorError | None = None
    started: float = field(default_factory=time.monotonic)
    staged: Staged | None = None


class SortedKnown(Mapping[str, str]):
    """The stored items of one integration, read in external-id order a page at a time.

    A notes connector walks its folder in the same order and asks ``get`` with ascending ids, so the
    walk and the table are merged like two sorted files: rows skipped over are items the source no
    longer lists (``on_missing``), and memory holds one page whatever the folder's size. ``bind``
    gives it the storage to read from (the stage step's reader) before the walk starts.
    """

    PAGE = 1000

    def __init__(self, integration_id: str) -> None:
        self.integration_id = integration_id
        self.storage: Any = None
        self.on_missing: Callable[[tuple[str, str, str, str]], None] = lambda row: None
        self.current: tuple[str, str, str, str] | None = None  # the row ``get`` last found
        self._page: list[tuple[str, str, str, str]] = []
        self._i = 0
        self._after: str | None = None
        self._done = False
        self._last: str | None = None

    def bind(self, storage: Any, on_missing: Callable[[tuple[str, str, str, str]], None]) -> None:
        self.storage = storage
        self.on_missing = on_missing

    def _peek(self) -> tuple[str, str, str, str] | None:
        if self._i >= len(self._page):
            if self._done or self.storage is None:
                return None
            self._page = self.storage.integration_items.version_page(self.integration_id, self._after, self.PAGE)
            self._i = 0
            if len(self._page) < self.PAGE:
                self._done = True
            if not self._page:
                return None
            self._after = self._page[-1][0]
        return self._page[self._i]

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        if key == self._last:  # asked again for the same item (the connector, then the stage step)
            return self.current[1] if self.current is not None else default
        if self._last is not None and key < self._last:
            raise RuntimeError(f"notes must be listed in external-id order ({key!r} after {self._last!r})")
        self._last = key
        self.current = None
        row = self._peek()
        while row is not None and row[0] < key:
            self.on_missing(row)
            self._i += 1
            row = self._peek()
        if row is not None and row[0] == key:
            self.current = row
            self._i += 1
            return row[1]
        return default

    def finish(self) -> None:
        """Every stored row the walk never reached is missing from the source."""
        row = self._peek()
        while row is not None:
            self.on_missing(row)
            self._i += 1
            row = self._peek()

    def __getitem__(self, key: str) -> str:
        found = self.get(key)
        if found is None:
            raise KeyError(key)
        return str(found)

    def __iter__(self) -> Iterator[str]:
        raise TypeError("SortedKnown is read in order through get(), not iterated")

    def __len__(self) -> int:
        raise TypeError("SortedKnown does not know its size without reading every row")


class Staged:
    """Step 3's output: what to write, as records in a private temporary file (not in memory).

    Records: ``("new", item, reflection | None, item_row, insert values | None)``, ``("changed", item)``,
    ``("reappeared", external_id)`` and ``("gone", external_id)``. The file is unlinked from the
    start (``TemporaryFile``), so it disappears with the process whatever happens.
    """

    def __init__(self) -> None:
        self._fh = tempfile.TemporaryFile(prefix="mirror-sync-")
        self.count = 0
        self.unchanged = 0

    def put(self, record: tuple[Any, ...]) -> None:
        pickle.dump(record, self._fh, protocol=pickle.HIGHEST_PROTOCOL)
        self.count += 1

    def records(self) -> Iterator[tuple[Any, ...]]:
        self._fh.flush()
        self._fh.seek(0)
        for _ in range(self.count):
            yield pickle.load(self._fh)  # noqa: S301 - our own file, written above by this process

    def close(self) -> None:
        self._fh.close()


# -- step 1 -----------------------------------------------------------------------------------

def prepare(storage: Any, integration_id: str) -> SyncPlan:
    integ = storage.integrations.get(integration_id)
    provider = str((integ.config or {}).get("provider", ""))
    connector = connector_for(provider)
    if connector.sorted_ids:
        # A notes folder: the stored versions are merged with the walk while staging, never loaded whole.
        has_items = storage.integration_items.exists(integ.id)
        known: Mapping[str, str] = SortedKnown(integ.id)
        deleted: set[str] = set()
    else:
        known = storage.integration_items.versions(integ.id)
        has_items = bool(known)
        deleted = storage.integration_items.ids_in_state(integ.id, "deleted_upstream")
    # No stored items (a first sync, or after an import: bundles carry none) means the cursor
    # describes data this journal does not hold: fetch everything.
    cursor = dict((integ.metadata or {}).get("sync_cursor") or {}) if has_items else {}
    return SyncPlan(integ, connector, known, cursor, deleted, first_sync=not has_items, streamed=connector.sorted_ids)


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


# -- step 3: stage (reads only, off the write lane) ------------------------------------------

def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _word_count(text: str) -> int:
    return len(text.split())


class _Rows:
    """How fetched items become rows: shared by the stage step (new rows, built off the write lane)
    and the apply step (updates, conflict copies, adoptions)."""

    def __init__(self, integ: m.Integration, now: datetime) -> None:
        self.integ = integ
        self.now = now
        self.provider = str((integ.config or {}).get("provider"))

    def _note_text(self, item: Item) -> str:
        text = item.content or ""
        return text if text.strip() else f"# {item.title or item.external_id}"

    def _reflection_meta(self, item: Item, tags: list[str], text: str, **link: Any) -> dict[str, Any]:
        return {"tags": tags, "word_count": _word_count(text), "imported_from": self.provider,
                "integration": {"id": self.integ.id, "provider": self.provider, "external_id": item.external_id,
                                "title": item.title, "upstream_tags": sorted(set(item.tags)), **link}}

    def _reflection(self, item: Item, text: str, **link: Any) -> m.Reflection:
        return m.Reflection(content=text, identity_id=self.integ.identity_id, visibility=Visibility.LOCAL_ONLY,
                            content_type=ContentType.MARKDOWN, source=Source.INTEGRATION,
                            metadata=self._reflection_meta(item, sorted(set(item.tags)), text, **link),
                            created_at=item.starts_at or self.now)

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

    def new_rows(self, item: Item) -> tuple[m.Reflection | None, m.IntegrationItem]:
        """A new item's rows: a note's reflection (with its text, tags and link) and the item row."""
        if item.kind != "note":
            return None, self._item_row(item, None, {})
        text = self._note_text(item)
        refl = self._reflection(item, text)
        return refl, self._item_row(item, refl.id, {"synced_sha256": _sha(text)})


def stage(storage: Any, plan: SyncPlan, fetched: Fetched, state: SyncState | None = None,
          now: datetime | None = None) -> Fetched:
    """Step 3: walk the fetched listing against the stored items and spool what to write.

    ``storage`` is only read (the window passes a reader of its own, so this runs beside the write
    lane). Failures while reading lazily (a note Mirror refuses, a Cancel) land in ``fetched.error``.
    """
    state = state or QuietSyncState()
    now = now or datetime.now(UTC)
    if fetched.error is not None or fetched.result is None or fetched.result.not_modified or fetched.staged:
        return fetched
    staged = Staged()
    try:
        _stage_into(staged, storage, plan, fetched.result, state, now)
    except BaseException as exc:
        staged.close()
        fetched.error = _as_sync_error(exc)
        if not isinstance(exc, Exception):
            raise
    else:
        fetched.staged = staged
    return fetched


def _as_sync_error(exc: BaseException) -> MirrorError:
    if isinstance(exc, (SourceError, ConfigError, SyncCancelled)):
        return exc
    if isinstance(exc, MirrorError):
        return SourceError(str(exc))
    return SourceError(f"The sync failed unexpectedly ({type(exc).__name__}: {str(exc)[:150]}); "
                       "Mirror will try again later.")


def _stage_into(staged: Staged, storage: Any, plan: SyncPlan, result: FetchResult, state: SyncState,
                now: datetime) -> None:
    rows = _Rows(plan.integration, now)
    known = plan.known
    seen: set[str] = set()  # calendars only: a notes walk is sorted, so a repeat is the previous id
    previous: str | None = None

    def missing(row: tuple[str, str, str, str]) -> None:
        if row[2] != "deleted_upstream":  # already shown as deleted: nothing new to write
            staged.put(("gone", row[0]))

    if isinstance(known, SortedKnown):
        known.bind(storage, missing)
    for n, item in enumerate(result.items, 1):
        if n % 500 == 0 and state.is_cancelled():
            raise SyncCancelled()
        ext = item.external_id
        if plan.streamed:
            if ext == previous:
                continue
            previous = ext
        else:
            if ext in seen:
                continue  # a source listing one id twice (two VEVENTs with one UID and start)
            seen.add(ext)
        version = known.get(ext)
        if isinstance(known, SortedKnown):
            back = known.current is not None and known.current[2] == "deleted_upstream"
        else:
            back = ext in plan.deleted
        if item.unchanged or (version == item.version and not back):
            if back:
                staged.put(("reappeared", ext))
            staged.unchanged += 1
            continue
        if version is not None:
            staged.put(("changed", item))
        else:
            refl, row = rows.new_rows(item)
            values: tuple[Any, Any] | None = None
            if storage.dialect == "sqlite":
                # The INSERT's values too (peewee building them was most of a first sync's write).
                values = (storage.reflections.db_values(refl) if refl is not None else None,
                          storage.integration_items.db_values(row))
            staged.put(("new", item, refl, row, values))
    if isinstance(known, SortedKnown):
        known.finish()
        return
    scope: Iterable[str]
    if result.window is not None:
        # A calendar lists only its window: an event outside it is history, not a deletion.
        scope = storage.integration_items.in_window(plan.integration.id, result.window[0], result.window[1])
    else:
        scope = plan.known
    for ext in scope:
        if ext not in seen and ext not in plan.deleted:
            staged.put(("gone", ext))


# -- step 4: apply (the write lane, one transaction) -------------------------------------------

class _Applier(_Rows):
    """Replays a stage's records inside the caller's transaction."""

    # New rows are written in batches: one INSERT per 500 instead of one per row (first syncs).
    BATCH = 500

    def __init__(self, storage: Any, plan: SyncPlan, integ: m.Integration, now: datetime, report: SyncReport) -> None:
        super().__init__(integ, now)
        self.s = storage
        self.plan = plan
        self.report = report
        self.auto_reflect = bool((integ.metadata or {}).get("auto_reflect", False))
        self._adoptable: dict[str, m.Reflection] | None = None
        self._pending_reflections: list[m.Reflection] = []
        self._pending_items: list[m.IntegrationItem] = []
        self._pending_reflection_values: list[tuple[Any, ...]] = []  # rows staged as INSERT values
        self._pending_item_values: list[tuple[Any, ...]] = []
        self._gone: list[str] = []

    # Reflections that came from this integration but whose item rows are missing (a bundle carries
    # reflections, never items): a first sync after an import adopts them instead of duplicating.
    def adoptable(self, external_id: str) -> m.Reflection | None:
        if not self.plan.first_sync:
            return None
        if self._adoptable is None:
            self._adoptable = {}
            for r in self.s.reflections.list(source=Source.INTEGRATION):
                link = (r.metadata or {}).get("integration") or {}
                if link.get("id") == self.integ.id and isinstance(link.get("external_id"), str):
                    self._adoptable[link["external_id"]] = r
        return self._adoptable.get(external_id)

    def run(self, staged: Staged, state: SyncState) -> None:
        for n, record in enumerate(staged.records(), 1):
            if n % self.BATCH == 0 and state.is_cancelled():
                raise SyncCancelled()
            kind = record[0]
            if kind == "new":
                self.new(record[1], record[2], record[3], record[4])
            elif kind == "changed":
                item = record[1]
                existing = self.s.integration_items.find_pair(self.integ.id, item.external_id)
                if item.kind == "note":
                    self.note(item, existing)
                else:
                    self.event(item, existing)
            elif kind == "reappeared":
                self.reappeared(record[1])
            elif kind == "gone":
                self._gone.append(record[1])
                if len(self._gone) >= self.BATCH:
                    self.gone()
            if len(self._pending_items) + len(self._pending_item_values) >= self.BATCH:
                self.flush()
        self.flush()
        self.gone()
        self.report.unchanged += staged.unchanged

    def new(self, item: Item, refl: m.Reflection | None, row: m.IntegrationItem,
            values: tuple[Any, Any] | None = None) -> None:
        if item.kind != "note":
            if values is not None and not self.auto_reflect:
                self._pending_item_values.append(values[1])
                self.report.added += 1
            else:
                self.event(item, None, row)
        elif self.adoptable(item.external_id) is not None:
            self.note(item, None)
        elif values is not None:
            self._pending_reflection_values.append(values[0])
            self._pending_item_values.append(values[1])
            self.report.added += 1
        else:
            assert refl is not None
            self._pending_reflections.append(refl)
            self._pending_items.append(row)
            self.report.added += 1

    def flush(self) -> None:
        # Reflections first: an item row refers to its reflection.
        if self._pending_reflections:
            self.s.reflections.create_many(self._pending_reflections)
            self._pending_reflections = []
        if self._pending_reflection_values:
            self.s.reflections.insert_values(self._pending_reflection_values)
            self._pending_reflection_values = []
        if self._pending_items:
            self.s.integration_items.create_many(self._pending_items)
            self._pending_items = []
        if self._pending_item_values:
            self.s.integration_items.insert_values(self._pending_item_values)
            self._pending_item_values = []

    def reappeared(self, external_id: str) -> None:
        row = self.s.integration_items.find_pair(self.integ.id, external_id)
        if row is None:
            return
        self.s.integration_items.update(replace(row, state="present", updated_at=self.now))
        refl = self.s.reflections.find(row.reflection_id) if row.reflection_id else None
        if refl is not None:
            self._flag_deleted(refl, False)

    # -- notes --------------------------------------------------------------------------------
    def note(self, item: Item, existing: m.IntegrationItem | None) -> None:
        text = self._note_text(item)
        if existing is None:
            adopted = self.adoptable(item.external_id)
            if adopted is None:
                created, row = self.new_rows(item)
                assert created is not None
                self._pending_reflections.append(created)
                self._pending_items.append(row)
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
            copy = self.s.reflections.create(self._reflection(item, text, linked_reflection_id=refl.id))
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
    def event(self, item: Item, existing: m.IntegrationItem | None, row: m.IntegrationItem | None = None) -> None:
        if existing is None:
            self._pending_items.append(row or self._item_row(item, None, {}))
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
    def gone(self) -> None:
        """The staged ids the source no longer lists (a batch at a time): events go, notes are marked."""
        missing, self._gone = self._gone, []
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


class _SyncedMeanwhile(MirrorError):
    """Another sync of the same integration (another window, the CLI) finished after this one was staged."""


def apply(storage: Any, plan: SyncPlan, fetched: Fetched, state: SyncState | None = None,
          now: datetime | None = None) -> SyncReport:
    """Write a staged fetch: items and status in one transaction, or the failure alone.

    A fetch not staged yet (no reader was at hand) is staged here first, before the transaction.
    """
    state = state or QuietSyncState()
    now = now or datetime.now(UTC)
    iid = plan.integration.id
    report = SyncReport(iid, "ok")
    stage(storage, plan, fetched, state, now)
    if fetched.error is None and fetched.result is not None:
        result = fetched.result
        try:
            if state.is_cancelled():
                raise SyncCancelled()
            with storage.transaction():
                integ = storage.integrations.find(iid)
                if integ is None:
                    return SyncReport(iid, "skipped", "The integration was removed during the sync; nothing was written.")
                if _attempt_mark(integ) != _attempt_mark(plan.integration):
                    raise _SyncedMeanwhile("This integration was synced elsewhere meanwhile; nothing was written "
                                           "by this sync.")
                if not result.not_modified:
                    assert fetched.staged is not None
                    _Applier(storage, plan, integ, now, report).run(fetched.staged, state)
                    if state.is_cancelled():
                        raise SyncCancelled()  # a Cancel during the last records still writes nothing
                else:
                    report.outcome = "not_modified"
                    report.unchanged = storage.integration_items.count(integration_id=iid)
                status = integ.status
                if str(status) in (IntegrationStatus.ERROR, IntegrationStatus.ACTIVE):
                    status = IntegrationStatus.ACTIVE
                storage.integrations.update(replace(integ, status=status, last_sync=now,
                                                    metadata=_success_meta(integ.metadata or {}, result.cursor, now)))
        except _SyncedMeanwhile as exc:
            return SyncReport(iid, "skipped", str(exc), seconds=time.monotonic() - fetched.started)
        except (SourceError, ConfigError, SyncCancelled) as exc:
            fetched.error = exc  # everything above rolled back
        except MirrorError as exc:
            fetched.error = SourceError(f"A fetched item could not be saved ({exc}); Mirror will try again later.")
        else:
            report.seconds = time.monotonic() - fetched.started
            return report
        finally:
            if fetched.staged is not None:
                fetched.staged.close()
                fetched.staged = None
    return record_failure(storage, iid, fetched.error or SourceError("The sync returned nothing."), now, fetched.started)


def _attempt_mark(integ: m.Integration) -> tuple[Any, Any]:
    """What every sync's end changes (success or failure): equal marks mean no sync ended in between."""
    return (integ.last_sync, (integ.metadata or {}).get("last_attempt_at"))


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
    server never holds the database, and the GUI thread is never involved. Staging (reading notes,
    comparing them with the stored items, building the rows) runs there too, on a read connection of
    its own (``storage.open_reader``), so the write lane holds only the short write transaction.
    ``stop()`` (quit) sets an event that the sleep, the connectors (between items and HTTP chunks) and
    each round check, so the loop ends within one read timeout at worst. ``cancel(id)`` stops the sync
    of that integration the same way (running or asked for): it writes nothing, and its report says so.
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
        self._cancel = threading.Event()  # the sync running now was cancelled
        self._cancel_lock = threading.Lock()
        self._cancelled_ids: set[str] = set()  # cancelled before they started
        self.running_id: str | None = None
        self.state = _StopState(self._stop, self._cancel)

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def cancel(self, integration_id: str) -> None:
        """Cancel this integration's sync: the running one stops at its next check (rolled back,
        nothing written); one asked for but not started yet never starts."""
        with self._cancel_lock:
            if self.running_id == integration_id:
                self._cancel.set()
            else:
                self._cancelled_ids.add(integration_id)

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def wake(self) -> None:
        """Look for due integrations now (after an add, a resume, or "Sync now")."""
        self._wake.set()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def sync_one(self, integration_id: str, now: datetime | None = None) -> SyncReport:
        """One integration, its fetch on this thread and its reads and writes through ``run_db``."""
        now = now or datetime.now(UTC)
        with self._cancel_lock:
            self._cancel.clear()
            self.running_id = integration_id
            asked_off = integration_id in self._cancelled_ids
            self._cancelled_ids.discard(integration_id)
        try:
            if asked_off:
                report = SyncReport(integration_id, "cancelled", CANCELLED_TEXT)
            else:
                if self.on_started is not None:
                    self.on_started(integration_id)
                report = self._sync(integration_id, now)
        finally:
            with self._cancel_lock:
                self.running_id = None
                self._cancel.clear()
        if self.on_report is not None:
            self.on_report(report)
        return report

    def _sync(self, integration_id: str, now: datetime) -> SyncReport:
        def plan_or_skip(storage: Any) -> tuple[SyncPlan | SyncReport, Callable[[], Any] | None]:
            integ = storage.integrations.get(integration_id)
            reason = skip_reason(integ)
            if reason is not None:
                return SyncReport(integ.id, "skipped", f"Integration {integ.id[:8]} is {reason}."), None
            try:
                return prepare(storage, integration_id), getattr(storage, "open_reader", None)
            except ConfigError as exc:
                return record_failure(storage, integration_id, exc, now), None

        planned, open_reader = self.run_db(plan_or_skip)
        if isinstance(planned, SyncReport):
            return planned

        def fetch_and_stage() -> None:
            fetched = fetch(planned, self.state, now)
            if fetched.error is None and open_reader is not None:
                # A read connection of this thread's own (SQLite: WAL lets it read beside the writer).
                try:
                    reader = open_reader()
                except Exception:  # noqa: BLE001 - no reader: apply stages on the write lane instead
                    reader = None
                if reader is not None:
                    try:
                        stage(reader, planned, fetched, self.state, now)
                    finally:
                        reader.close()
            box.append(fetched)

        # Fetch and stage run on a daemon helper so quitting never waits for a server's read timeout:
        # an abandoned fetch touches no database (its reader only reads) and ends on its own timeout.
        box: list[Fetched] = []
        helper = threading.Thread(target=fetch_and_stage, name=f"fetch-{integration_id[:8]}", daemon=True)
        helper.start()
        while helper.is_alive() and not self.stopped and not self.cancelled:
            helper.join(0.05)
        if not box or self.cancelled:
            if box and box[0].staged is not None:
                box[0].staged.close()
            return SyncReport(integration_id, "cancelled", CANCELLED_TEXT if self.cancelled else STOPPED_TEXT)
        fetched = box[0]
        report: SyncReport = self.run_db(lambda storage: apply(storage, planned, fetched, self.state, now))
        if report.outcome == "cancelled" and self.cancelled:
            report.message = CANCELLED_TEXT
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
        self.forget_cancels()
        return reports

    def forget_cancels(self) -> None:
        """Drop cancels of syncs that never started this round (a Cancel pressed as a sync ended must
        not cancel tomorrow's scheduled one)."""
        with self._cancel_lock:
            self._cancelled_ids.clear()

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
    """The poller's SyncState: cancelled once the poller is stopped or this sync is cancelled."""

    def __init__(self, stop: threading.Event, cancel: threading.Event | None = None) -> None:
        self._stop = stop
        self._cancel = cancel or threading.Event()

    def set_progress(self, fraction: float, message: str = "") -> None:
        pass

    def is_cancelled(self) -> bool:
        return self._stop.is_set() or self._cancel.is_set()


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
