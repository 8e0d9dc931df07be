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

    def ids_with_visibility(self, visibility: str) -> list[str]:
        """Ids of the reflections of one shared level that have an identity (sync's summary; an index serves it)."""
        R: Any = self.model
        return [r.id for r in R.select(R.id).where((R.visibility == visibility) & R.identity_id.is_null(False))]

    def count_filtered(self, filters: SearchFilters | None = None) -> int:
        return int(self.filtered(filters).count())

    def make_anonymous(self, identity_id: str) -> int:
        """Detach every reflection from an identity, as Anonymous and local_only (spec 2); returns how many."""
        R: Any = self.model
        return int(self._run(lambda: R.update(identity_id=None, visibility="local_only")
                             .where(R.identity_id == identity_id).execute()))

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
