"""Repositories over the peewee models: validate with the core rules, write, and return dataclasses."""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from datetime import datetime
from typing import Any, Generic, TypeVar
from collections.abc import Callable, Iterator, Sequence

import peewee

from mirror_desktop.core import models as m
from mirror_desktop.core.errors import ConstraintError, NotFoundError, ValidationError
from mirror_desktop.core.models import SearchFilters, utc_now
from mirror_desktop.core.validation import check_proposal_transition, validate
from mirror_desktop.core.ports import Repository

T = TypeVar("T")


def constraint_error(exc: Exception) -> ConstraintError:
    """Turn a driver's integrity error into one sentence for a person."""
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return ConstraintError(f"The journal refused this change ({detail}); nothing was saved.")


def _enum_converters(dc: type) -> dict[str, type[enum.Enum]]:
    conv: dict[str, type[enum.Enum]] = {}
    for name, hint in typing.get_type_hints(dc).items():
        candidates = typing.get_args(hint) if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union else (hint,)
        for c in candidates:
            if isinstance(c, type) and issubclass(c, enum.Enum):
                conv[name] = c
    return conv


class PeeweeRepository(Repository[T], Generic[T]):
    """The generic create/read/update/delete/list of one table."""

    def __init__(self, storage: Any, model: type[peewee.Model], dc: type[T]) -> None:
        self.storage = storage
        self.model = model
        self.dc = dc
        self.entity = model._meta.table_name
        self._names = [f.name for f in dataclasses.fields(dc)]  # type: ignore[arg-type]
        self._enums = _enum_converters(dc)

    # -- mapping -------------------------------------------------------------------------
    def to_dc(self, row: peewee.Model) -> T:
        values = {}
        for name in self._names:
            value = getattr(row, name)
            conv = self._enums.get(name)
            if conv is not None and value is not None:
                try:
                    value = conv(value)
                except ValueError:
                    pass  # the database allows it (a future enum value); keep the text
            values[name] = value
        return self.dc(**values)

    def to_row(self, obj: T) -> dict[str, Any]:
        row = {}
        for name in self._names:
            value = getattr(obj, name)
            if isinstance(value, enum.Enum):
                value = value.value
            row[name] = value
        return row

    def _where(self, where: dict[str, Any]) -> list[Any]:
        clauses = []
        for key, value in where.items():
            col = getattr(self.model, key)
            clauses.append(col.is_null() if value is None else col == (value.value if isinstance(value, enum.Enum) else value))
        return clauses

    def _run(self, fn: Callable[[], Any]) -> Any:
        try:
            with self.storage.transaction():
                return fn()
        except peewee.IntegrityError as exc:
            raise constraint_error(exc) from None

    # -- CRUD ----------------------------------------------------------------------------
    def create(self, obj: T) -> T:
        validate(obj)
        self._run(lambda: self.model.insert(**self.to_row(obj)).execute())
        return obj

    def create_many(self, objs: Sequence[T], batch: int = 500) -> int:
        """Insert many rows in one transaction (imports, the journal generator)."""
        for obj in objs:
            validate(obj)
        rows = [self.to_row(o) for o in objs]

        def insert() -> int:
            for i in range(0, len(rows), batch):
                self.model.insert_many(rows[i:i + batch]).execute()
            return len(rows)

        return int(self._run(insert))

    def db_values(self, obj: T) -> tuple[Any, ...]:
        """``obj`` validated and converted to the values its INSERT binds, in ``db_columns`` order.

        The costly half of an insert (peewee builds a statement of a few hundred values in Python:
        about three quarters of a 10,000-note first sync's write), done wherever the caller likes: the
        integrations sync does it while staging, off the write lane (issue 14). SQLite only: the
        values are plain str/int/float/None, safe to keep in a file.
        """
        validate(obj)
        fields = self.model._meta.fields
        row = self.to_row(obj)
        return tuple(None if row[n] is None else fields[n].db_value(row[n]) for n in self._names)

    def insert_values(self, rows: Sequence[tuple[Any, ...]]) -> int:
        """Insert rows made by ``db_values`` in one ``executemany`` (inside the caller's transaction)."""
        if not rows:
            return 0
        fields = self.model._meta.fields
        cols = ", ".join(fields[n].column_name for n in self._names)
        marks = ", ".join([self.storage.db.param] * len(self._names))
        sql = f"INSERT INTO {self.entity} ({cols}) VALUES ({marks})"

        def insert() -> int:
            self.storage.db.cursor().executemany(sql, rows)
            return len(rows)

        return int(self._run(insert))

    def find(self, id_: str) -> T | None:
        row = self.model.get_or_none(self.model._meta.primary_key == id_)
        return None if row is None else self.to_dc(row)

    def get(self, id_: str) -> T:
        found = self.find(id_)
        if found is None:
            raise NotFoundError(self.entity.rstrip("s"), id_)
        return found

    def find_many(self, ids: Sequence[str]) -> dict[str, T]:
        """The rows with these ids that exist, by id, a few queries for many ids (sync's batches)."""
        pk: Any = self.model._meta.primary_key
        wanted = list(dict.fromkeys(ids))
        found: dict[str, T] = {}
        for i in range(0, len(wanted), 500):
            for r in self.model.select().where(pk.in_(wanted[i:i + 500])):
                found[getattr(r, pk.name)] = self.to_dc(r)
        return found

    def update(self, obj: T) -> T:
        validate(obj)
        row = self.to_row(obj)
        pk = row.pop("id")

        def do() -> None:
            n = self.model.update(**row).where(self.model._meta.primary_key == pk).execute()
            if n == 0:
                raise NotFoundError(self.entity.rstrip("s"), pk)

        self._run(do)
        return obj

    def delete(self, id_: str) -> bool:
        return bool(self._run(lambda: self.model.delete().where(self.model._meta.primary_key == id_).execute()))

    def select(self, where: dict[str, Any]) -> peewee.ModelSelect:
        q = self.model.select()
        clauses = self._where(where)
        return q.where(*clauses) if clauses else q

    @property
    def key_columns(self) -> list[str]:
        """The primary key's column names (a stable order for paging through a whole table)."""
        pk: Any = self.model._meta.primary_key
        return list(pk.field_names) if hasattr(pk, "field_names") else [pk.name]

    def list(self, *, limit: int | None = None, offset: int = 0, order_by: Sequence[str] | None = None,
             **where: Any) -> list[T]:
        """Rows matching ``where``; ``order_by`` names columns, ``"-column"`` for descending."""
        q = self.select(where)
        if order_by is not None:
            q = q.order_by(*(getattr(self.model, c[1:]).desc() if c.startswith("-") else getattr(self.model, c)
                             for c in order_by))
        else:
            order_field = next((getattr(self.model, f) for f in ("created_at", "timestamp", "applied_at", "connected_at", "started_at")
                                if f in self.model._meta.fields), None)
            if order_field is not None:
                q = q.order_by(order_field, self.model._meta.primary_key)
        if limit is not None:
            q = q.limit(limit).offset(offset)
        return [self.to_dc(r) for r in q]

    def count(self, **where: Any) -> int:
        return int(self.select(where).count())


class ReflectionRepository(PeeweeRepository[m.Reflection]):
    """Reflections, with filtered keyset paging for lists that hold 100,000 rows."""

    def filtered(self, filters: SearchFilters | None) -> peewee.ModelSelect:
        R: Any = self.model
        q = R.select()
        f = filters or SearchFilters()
        if f.anonymous_only:
            q = q.where(R.identity_id.is_null())
        elif f.identity_id is not None:
            q = q.where(R.identity_id == f.identity_id)
        if f.thread_id is not None:
            TR = self.storage.models.ThreadReflection
            q = q.where(R.id.in_(TR.select(TR.reflection_id).where(TR.thread_id == f.thread_id)))
        if f.since is not None:
            q = q.where(R.created_at >= f.since)
        if f.until is not None:
            q = q.where(R.created_at < f.until)
        if f.visibility is not None:
            q = q.where(R.visibility == f.visibility)
        for tag in f.tags:
            # The same test as search's (storage/journal.py _tag_sql): every tag, without case.
            q = q.where(R.id.in_(peewee.SQL(f"(SELECT r.id FROM reflections r WHERE {self.storage._tag_sql})",
                                            [tag.lower()])))
        return q

    def page(self, filters: SearchFilters | None = None, *, after: tuple[datetime, str] | None = None,
             limit: int = 200) -> list[m.Reflection]:
        """Newest first; ``after`` is the (created_at, id) of the last row already shown."""
        R: Any = self.model
        q = self.filtered(filters)
        if after is not None:
            ts, rid = after
            q = q.where((R.created_at < ts) | ((R.created_at == ts) & (R.id < rid)))
        return [self.to_dc(r) for r in q.order_by(R.created_at.desc(), R.id.desc()).limit(limit)]

    def find_many(self, ids: Sequence[str]) -> dict[str, m.Reflection]:
        """The reflections with these ids that exist, by id, in one query."""
        R: Any = self.model
        wanted = list(dict.fromkeys(ids))
        return {r.id: self.to_dc(r) for r in R.select().where(R.id.in_(wanted))} if wanted else {}

    def find_prefix(self, prefix: str, limit: int = 2) -> list[m.Reflection]:
        """Reflections whose id starts with ``prefix`` (the CLI prints ids cut to 8), at most ``limit``."""
        R: Any = self.model
        q = R.select().where((R.id >= prefix) & (R.id < prefix + "\U0010ffff")).order_by(R.id).limit(limit)
        return [self.to_dc(r) for r in q]

    def ids_with_visibility(self, visibility: str) -> list[str]:
        """Ids of the reflections of one shared level that have an identity (sync's summary; an index serves it)."""
        R: Any = self.model
        where = (R.visibility == visibility) & R.identity_id.is_null(False)
        if visibility != "local_only":
            # Repeats the partial index's own condition: SQLite uses idx_reflections_shared only when the query
            # implies it, and "= 'sync_summary'" alone does not, so every sync scanned the whole journal
            # (0.2 s warm, 2-5 s cold at 100,000 reflections: the no-change sync of BENCHMARKS.md).
            where &= R.visibility != "local_only"
        return [r.id for r in R.select(R.id).where(where)]

    def count_filtered(self, filters: SearchFilters | None = None) -> int:
        return int(self.filtered(filters).count())

    def make_anonymous(self, identity_id: str) -> int:
        """Detach every reflection from an identity, as Anonymous and local_only (spec 2); returns how many."""
        R: Any = self.model
        return int(self._run(lambda: R.update(identity_id=None, visibility="local_only")
                             .where(R.identity_id == identity_id).execute()))

    def imported_ids(self, app: str) -> set[str]:
        """``metadata.import.id`` of every reflection imported from ``app`` (issue 15: an import adds nothing twice).

        One statement that reads only the two JSON paths, never the reflections' text.
        """
        if self.storage.dialect == "postgres":
            sql = ("SELECT metadata->'import'->>'id' FROM reflections WHERE source = 'import' "
                   "AND metadata->'import'->>'app' = %s")
        else:
            sql = ("SELECT json_extract(metadata, '$.import.id') FROM reflections WHERE source = 'import' "
                   "AND json_extract(metadata, '$.import.app') = ?")
        return {str(row[0]) for row in self.storage.db.execute_sql(sql, (app,)) if row[0] is not None}

    def ids_of_import_batch(self, batch: str) -> list[str]:
        """Ids of the reflections a chunked import wrote under ``metadata.import.batch`` (issue 15)."""
        if self.storage.dialect == "postgres":
            sql = "SELECT id FROM reflections WHERE source = 'import' AND metadata->'import'->>'batch' = %s"
        else:
            sql = "SELECT id FROM reflections WHERE source = 'import' AND json_extract(metadata, '$.import.batch') = ?"
        return [str(row[0]) for row in self.storage.db.execute_sql(sql, (batch,))]

    def batches_oldest_first(self, filters: SearchFilters | None = None, *,
                             batch: int = 500) -> Iterator[list[m.Reflection]]:
        """The filtered reflections oldest first, ``batch`` at a time (keyset paging: exports of any size)."""
        R: Any = self.model
        after: tuple[datetime, str] | None = None
        while True:
            q = self.filtered(filters)
            if after is not None:
                ts, rid = after
                q = q.where((R.created_at > ts) | ((R.created_at == ts) & (R.id > rid)))
            rows = [self.to_dc(r) for r in q.order_by(R.created_at, R.id).limit(batch)]
            if rows:
                yield rows
            if len(rows) < batch:
                return
            after = (rows[-1].created_at, rows[-1].id)

    def iter_all(self, batch: int = 1000) -> Iterator[m.Reflection]:
        after = None
        while True:
            rows = self.page(after=after, limit=batch)
            yield from rows
            if len(rows) < batch:
                return
            after = (rows[-1].created_at, rows[-1].id)


class ProposalRepository(PeeweeRepository[m.EvolutionProposal]):
    """Proposals: status changes are checked against the spec's flow before the trigger sees them."""

    def update(self, obj: m.EvolutionProposal) -> m.EvolutionProposal:
        old = self.get(obj.id)
        check_proposal_transition(str(old.status), str(obj.status))
        return super().update(obj)


class HistoryRepository(PeeweeRepository[m.EvolutionHistory]):
    """Evolution history is append-only (spec 11)."""

    def update(self, obj: m.EvolutionHistory) -> m.EvolutionHistory:
        raise ValidationError("evolution_history", "id", "is immutable",
                              "Evolution history cannot be changed; record a new event instead.")

    def delete(self, id_: str) -> bool:
        raise ValidationError("evolution_history", "id", "is immutable",
                              "Evolution history cannot be deleted; record a new event instead.")


class ThreadReflectionRepository(PeeweeRepository[m.ThreadReflection]):
    """The thread ↔ reflection junction: ordered membership with unique positions per thread."""

    # Reorders first move every position above this offset, so the UNIQUE (thread_id, position)
    # constraint (not deferrable in SQLite) never sees two rows on one position.
    _SHIFT = 1_000_000

    def _key(self, thread_id: str, reflection_id: str) -> Any:
        TR: Any = self.model
        return (TR.thread_id == thread_id) & (TR.reflection_id == reflection_id)

    def find(self, id_: str) -> m.ThreadReflection | None:  # type: ignore[override]
        raise TypeError("thread_reflections has a composite key; use find_pair(thread_id, reflection_id)")

    def find_pair(self, thread_id: str, reflection_id: str) -> m.ThreadReflection | None:
        row = self.model.get_or_none(self._key(thread_id, reflection_id))
        return None if row is None else self.to_dc(row)

    def get(self, id_: str) -> m.ThreadReflection:  # type: ignore[override]
        raise TypeError("thread_reflections has a composite key; use find_pair(thread_id, reflection_id)")

    def update(self, obj: m.ThreadReflection) -> m.ThreadReflection:
        validate(obj)
        self._run(lambda: self.model.update(position=obj.position, added_at=obj.added_at)
                  .where(self._key(obj.thread_id, obj.reflection_id)).execute())
        return obj

    def delete(self, id_: str) -> bool:  # type: ignore[override]
        raise TypeError("thread_reflections has a composite key; use remove(thread_id, reflection_id)")

    def for_thread(self, thread_id: str) -> list[m.ThreadReflection]:
        TR: Any = self.model
        return [self.to_dc(r) for r in TR.select().where(TR.thread_id == thread_id).order_by(TR.position)]

    def first_created_at(self, thread_id: str) -> datetime | None:
        """When the thread's earliest reflection was written (spec 4: a thread's started_at)."""
        TR: Any = self.model
        R: Any = self.storage.models.Reflection
        row = (R.select(peewee.fn.MIN(R.created_at).alias("first"))
               .join(TR, on=(TR.reflection_id == R.id)).where(TR.thread_id == thread_id).scalar())
        return R.created_at.python_value(row) if row is not None else None

    def threads_of(self, reflection_id: str) -> list[str]:
        TR: Any = self.model
        return [r.thread_id for r in TR.select(TR.thread_id).where(TR.reflection_id == reflection_id)]

    def append(self, thread_id: str, reflection_id: str) -> m.ThreadReflection:
        """Add at the end of the thread (no-op if already there)."""
        TR: Any = self.model

        def do() -> m.ThreadReflection:
            existing = self.find_pair(thread_id, reflection_id)
            if existing is not None:
                return existing
            top = TR.select(peewee.fn.MAX(TR.position)).where(TR.thread_id == thread_id).scalar()
            link = m.ThreadReflection(thread_id, reflection_id, 0 if top is None else int(top) + 1, utc_now())
            validate(link)
            TR.insert(**self.to_row(link)).execute()
            return link

        return self._run(do)

    def remove(self, thread_id: str, reflection_id: str) -> bool:
        """Remove a reflection from a thread and close the gap in positions."""
        TR: Any = self.model

        def do() -> bool:
            gone = TR.delete().where(self._key(thread_id, reflection_id)).execute()
            if gone:
                self._renumber(thread_id, [link.reflection_id for link in self.for_thread(thread_id)])
            return bool(gone)

        return bool(self._run(do))

    def reorder(self, thread_id: str, ordered_reflection_ids: Sequence[str]) -> None:
        """Set the order of a thread's reflections; the ids must be exactly the thread's members."""
        current = {link.reflection_id for link in self.for_thread(thread_id)}
        if set(ordered_reflection_ids) != current or len(ordered_reflection_ids) != len(current):
            raise ValidationError("thread_reflection", "position", "must list every reflection of the thread once",
                                  "The new order must list every reflection of the thread exactly once.")
        self._run(lambda: self._renumber(thread_id, list(ordered_reflection_ids)))

    def _renumber(self, thread_id: str, ordered: list[str]) -> None:
        TR: Any = self.model
        TR.update(position=TR.position + self._SHIFT).where(TR.thread_id == thread_id).execute()
        for pos, rid in enumerate(ordered):
            TR.update(position=pos).where(self._key(thread_id, rid)).execute()


class IntegrationItemRepository(PeeweeRepository[m.IntegrationItem]):
    """Items fetched by integrations (migration 003), keyed by (integration_id, external_id)."""

    def _key(self, integration_id: str, external_id: str) -> Any:
        II: Any = self.model
        return (II.integration_id == integration_id) & (II.external_id == external_id)

    def find(self, id_: str) -> m.IntegrationItem | None:  # type: ignore[override]
        raise TypeError("integration_items has a composite key; use find_pair(integration_id, external_id)")

    def get(self, id_: str) -> m.IntegrationItem:  # type: ignore[override]
        raise TypeError("integration_items has a composite key; use find_pair(integration_id, external_id)")

    def delete(self, id_: str) -> bool:  # type: ignore[override]
        raise TypeError("integration_items has a composite key; use delete_pairs(integration_id, external_ids)")

    def find_pair(self, integration_id: str, external_id: str) -> m.IntegrationItem | None:
        row = self.model.get_or_none(self._key(integration_id, external_id))
        return None if row is None else self.to_dc(row)

    def update(self, obj: m.IntegrationItem) -> m.IntegrationItem:
        validate(obj)
        row = self.to_row(obj)
        for k in ("integration_id", "external_id", "first_seen_at"):
            row.pop(k)

        def do() -> None:
            if self.model.update(**row).where(self._key(obj.integration_id, obj.external_id)).execute() == 0:
                raise NotFoundError("integration_item", f"{obj.integration_id}/{obj.external_id}")

        self._run(do)
        return obj

    def versions(self, integration_id: str) -> dict[str, str]:
        """external id → version of every stored item of one integration (one query, no content)."""
        II: Any = self.model
        q = II.select(II.external_id, II.version).where(II.integration_id == integration_id).tuples()
        return dict(q.iterator())

    def exists(self, integration_id: str) -> bool:
        """Whether the integration has any stored item (one index probe)."""
        II: Any = self.model
        return II.select(II.external_id).where(II.integration_id == integration_id).limit(1).exists()

    def version_page(self, integration_id: str, after: str | None, limit: int) -> list[tuple[str, str, str, str]]:
        """Up to ``limit`` stored items of one integration after ``after``, as (external id, version, state,
        kind) in byte order of the id (UTF-8 byte order = Python string order): a notes sync merges them
        with its sorted folder walk a page at a time (integrations/sync.py, SortedKnown)."""
        p = self.storage.db.param
        # SQLite compares TEXT bytewise already; PostgreSQL's default collation is linguistic, "C" is bytewise
        # (one sort per page on PostgreSQL: its primary key index is in the default collation).
        col = 'external_id COLLATE "C"' if self.storage.dialect == "postgres" else "external_id"
        sql = (f"SELECT external_id, version, state, kind FROM integration_items WHERE integration_id = {p}"
               + (f" AND {col} > {p}" if after is not None else "") + f" ORDER BY {col} LIMIT {p}")
        params: list[Any] = [integration_id, *([after] if after is not None else []), limit]
        return [(str(a), str(b), str(c), str(d)) for a, b, c, d in self.storage.db.execute_sql(sql, params).fetchall()]

    def ids_in_state(self, integration_id: str, state: str) -> set[str]:
        II: Any = self.model
        q = II.select(II.external_id).where((II.integration_id == integration_id) & (II.state == state)).tuples()
        return {r[0] for r in q}

    def delete_pairs(self, integration_id: str, external_ids: Sequence[str], batch: int = 500) -> int:
        II: Any = self.model
        ids = list(external_ids)

        def do() -> int:
            n = 0
            for i in range(0, len(ids), batch):
                n += II.delete().where((II.integration_id == integration_id)
                                       & II.external_id.in_(ids[i:i + batch])).execute()
            return n

        return int(self._run(do))

    def in_window(self, integration_id: str, start: datetime, end: datetime, kind: str | None = None) -> list[str]:
        """External ids of items starting in [start, end) (calendar deletions are judged there only)."""
        II: Any = self.model
        q = II.select(II.external_id).where((II.integration_id == integration_id) & (II.starts_at >= start)
                                            & (II.starts_at < end))
        if kind is not None:
            q = q.where(II.kind == kind)
        return [r[0] for r in q.tuples()]

    def for_integration(self, integration_id: str, *, since: datetime | None = None, until: datetime | None = None,
                        limit: int | None = None) -> list[m.IntegrationItem]:
        """One integration's items by start time (undated notes last), optionally within [since, until)."""
        II: Any = self.model
        q = II.select().where(II.integration_id == integration_id)
        if since is not None:
            q = q.where(II.starts_at >= since)
        if until is not None:
            q = q.where(II.starts_at < until)
        q = q.order_by(II.starts_at.is_null(), II.starts_at, II.external_id)
        if limit is not None:
            q = q.limit(limit)
        return [self.to_dc(r) for r in q]

    def overlapping(self, start: datetime, end: datetime, *, kind: str | None = "event",
                    identity_id: str | None = None) -> list[m.IntegrationItem]:
        """Items that overlap [start, end): a day's calendar beside its reflections.

        With ``identity_id``, only items of integrations that belong to that identity or to none.
        """
        II: Any = self.model
        q = II.select().where((II.starts_at < end) & ((II.starts_at >= start) | (II.ends_at > start))
                              & (II.state == "present"))
        if kind is not None:
            q = q.where(II.kind == kind)
        if identity_id is not None:
            I: Any = self.storage.models.Integration  # noqa: E741 - the model's short name, as elsewhere
            q = q.where(II.integration_id.in_(I.select(I.id).where(I.identity_id.is_null() | (I.identity_id == identity_id))))
        return [self.to_dc(r) for r in q.order_by(II.starts_at, II.external_id)]

    def count_by_integration(self) -> dict[str, int]:
        II: Any = self.model
        q = II.select(II.integration_id, peewee.fn.COUNT(II.external_id)).group_by(II.integration_id).tuples()
        return {iid: int(n) for iid, n in q}


class AttachmentRepository(PeeweeRepository[m.Attachment]):
    """Adapter extension (migration 004): files kept with reflections, by SHA-256.

    On PostgreSQL the bytes live in ``attachment_blobs`` and are reached through the ``*_blob``
    methods here; on SQLite they are files beside the journal (core/attachments.py) and those
    methods are never called.
    """

    def find_pair(self, reflection_id: str, sha256: str) -> m.Attachment | None:
        A: Any = self.model
        row = A.get_or_none((A.reflection_id == reflection_id) & (A.sha256 == sha256))
        return None if row is None else self.to_dc(row)

    def for_reflection(self, reflection_id: str) -> list[m.Attachment]:
        A: Any = self.model
        return [self.to_dc(r) for r in A.select().where(A.reflection_id == reflection_id).order_by(A.created_at, A.id)]

    def for_reflections(self, reflection_ids: Sequence[str], batch: int = 500) -> dict[str, list[m.Attachment]]:
        """Each listed reflection's attachments (oldest first), in one query per ``batch`` ids."""
        A: Any = self.model
        out: dict[str, list[m.Attachment]] = {}
        ids = list(dict.fromkeys(reflection_ids))
        for i in range(0, len(ids), batch):
            for r in A.select().where(A.reflection_id.in_(ids[i:i + batch])).order_by(A.created_at, A.id):
                out.setdefault(r.reflection_id, []).append(self.to_dc(r))
        return out

    def referenced(self, shas: Sequence[str] | set[str], batch: int = 500) -> set[str]:
        """Which of ``shas`` some attachment row still names."""
        A: Any = self.model
        wanted = list(dict.fromkeys(shas))
        found: set[str] = set()
        for i in range(0, len(wanted), batch):
            found |= {r.sha256 for r in A.select(A.sha256).where(A.sha256.in_(wanted[i:i + batch])).distinct()}
        return found

    def all_shas(self) -> set[str]:
        A: Any = self.model
        return {r.sha256 for r in A.select(A.sha256).distinct()}

    # -- PostgreSQL: the bytes in attachment_blobs ------------------------------------------
    def _blobs(self) -> Any:
        B = self.storage.models.AttachmentBlob
        if B is None:
            raise TypeError("this journal keeps attachment bytes in files, not in the database")
        return B

    def put_blob(self, sha256: str, data: bytes) -> None:
        """Store the bytes named ``sha256`` unless they are there already (inside the caller's transaction)."""
        B = self._blobs()
        self._run(lambda: B.insert(sha256=sha256, data=data).on_conflict_ignore().execute())

    def has_blob(self, sha256: str) -> bool:
        B = self._blobs()
        return bool(B.select(B.sha256).where(B.sha256 == sha256).exists())

    def get_blob(self, sha256: str) -> bytes | None:
        B = self._blobs()
        row = B.get_or_none(B.sha256 == sha256)
        return None if row is None else bytes(row.data)

    def delete_unreferenced_blobs(self, shas: Sequence[str] | set[str] | None = None) -> int:
        """Delete blobs no attachment names (among ``shas``, or all); returns how many went."""
        B = self._blobs()
        A: Any = self.model
        cond = ~(B.sha256.in_(A.select(A.sha256)))
        if shas is not None:
            wanted = list(shas)
            if not wanted:
                return 0
            cond = cond & B.sha256.in_(wanted)
        return int(self._run(lambda: B.delete().where(cond).execute()))
