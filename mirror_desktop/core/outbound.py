"""The one outbound function: the only reader of journal rows that may leave the device.

shared/RELIABILITY.md (Privacy): share exports, sync and telemetry read rows only through
``outbound_rows``, which applies each table's policy from the spec ("Sync Policy" of every entity,
and "Privacy Model"):

* identities, threads, thread_reflections, axes, integrations, drafts: local_only, never leave.
  A reflection or tension that does leave keeps its identity id, but the identity row that goes
  with it is a bare stub (no name, no metadata, fixed timestamps) so the foreign key still holds.
* reflections: only ``sync_full_private`` and ``sync_full_public`` leave, whole. ``sync_summary``
  means "anonymised patterns only", so its text never leaves through here; ``local_only`` never.
* mirrorbacks: follow their reflection.
* tensions: ``share_full`` whole; ``share_anonymized`` as existence and position only (name, poles,
  position, intensity), without identity, metadata or dates; ``local_only`` never.
* engine_runs, engine_feedback, evolution_events: only with ``sync_allowed``; a run whose
  reflection stays home loses the reference. Feedback needs its run to leave too.
* evolution_proposals: public by default (governance transparency), so they leave.
* evolution_history: local by default and has no opt-in column, so it stays.

Purposes: ``share`` (export --share) uses all of the above; ``telemetry`` only the sync_allowed
telemetry tables. No Qt, no SQL: rows come through the storage's repositories.

Sync between a person's own devices (issue 18) asks ``sync_outbound`` about every changed row and
sends only what it returns; ``sync_summary_outbound`` gives the one aggregate row ``sync_summary``
allows. What it decides, as the spec's sync levels say:

* reflections: ``local_only`` never; ``sync_full_private`` sealed (ciphertext only); ``sync_full_public``
  in clear; ``sync_summary`` never as a row, only counted in the aggregate (reflections and pattern
  counts, no text, ids or dates). Their identity travels as an opaque key, never its id or name.
* mirrorbacks follow their reflection (sealed or clear); otherwise never.
* tensions: ``share_full`` sealed (identity as the opaque key); ``share_anonymized`` existence and
  position only (position and intensity: no name, poles, identity, dates or metadata); ``local_only`` never.
* engine runs, feedback and evolution events only with ``sync_allowed``, sealed; a run keeps its
  reflection id only when that reflection syncs in full; feedback leaves without its notes.
* identities, threads, thread links, axes, integrations, drafts, proposals and history never sync.

The mirrorback engine is the other door out: ``engine_may_read`` decides whether a reflection's
text may go to the configured engine (issue 11, item 7). An engine on this computer reads
everything; a remote one (already opted in for the device) reads ``local_only`` text only with the
person's yes for that reflection. Anonymous reflections are always ``local_only``.
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass, replace
from datetime import datetime, UTC
from typing import Any, Literal
from collections.abc import Callable, Iterator

from mirror_desktop.core import models as m
from mirror_desktop.core.enums import SyncMode, Visibility
from mirror_desktop.core.models import SearchFilters

Purpose = Literal["share", "telemetry"]

# Reflections whose full content may leave; the table order respects foreign keys.
FULL_CONTENT_VISIBILITIES = (Visibility.SYNC_FULL_PRIVATE, Visibility.SYNC_FULL_PUBLIC)
STUB_TIME = datetime(2000, 1, 1, tzinfo=UTC)
OUTBOUND_TABLES = ("identities", "reflections", "mirrorbacks", "tensions", "engine_runs", "engine_feedback",
                   "evolution_proposals", "evolution_events")
BATCH = 1000


def engine_may_read(visibility: str | Visibility, *, remote: bool, consent: bool = False) -> bool:
    """Whether reflection text of ``visibility`` may go to the mirrorback engine.

    ``remote``: the engine is on another computer (EngineConfig.effective_mode == "remote_llm").
    ``consent``: the person said yes to sending this one reflection.
    """
    if not remote:
        return True
    return str(visibility) != Visibility.LOCAL_ONLY.value or consent


def reflection_may_leave(r: m.Reflection) -> bool:
    return str(r.visibility) in {str(v) for v in FULL_CONTENT_VISIBILITIES} and r.identity_id is not None


def tension_outbound(t: m.Tension) -> m.Tension | None:
    """The tension as it may leave, or None."""
    mode = str(t.sync_mode)
    if mode == SyncMode.SHARE_FULL:
        return t
    if mode == SyncMode.SHARE_ANONYMIZED:
        return replace(t, identity_id=None, metadata=None, created_at=STUB_TIME, updated_at=STUB_TIME)
    return None


def identity_stub(identity_id: str) -> m.Identity:
    return m.Identity(id=identity_id, created_at=STUB_TIME, updated_at=STUB_TIME, metadata=None)


def _reflections(storage: Any) -> Iterator[m.Reflection]:
    for vis in FULL_CONTENT_VISIBILITIES:
        after = None
        while True:
            rows = storage.reflections.page(SearchFilters(visibility=vis), after=after, limit=BATCH)
            for r in rows:
                if reflection_may_leave(r):
                    yield r
            if len(rows) < BATCH:
                break
            after = (rows[-1].created_at, rows[-1].id)


def outbound_rows(storage: Any, purpose: Purpose = "share") -> Iterator[tuple[str, list[Any]]]:
    """Yield ``(table, rows)`` batches of everything that may leave the device for ``purpose``.

    Batches come in foreign-key order, so inserting them in order into an empty journal succeeds.
    """
    if purpose not in ("share", "telemetry"):
        raise ValueError(f"unknown outbound purpose {purpose!r}")
    reflection_ids: set[str] = set()
    if purpose == "share":
        reflections = list(_reflections(storage))
        tensions = [o for o in (tension_outbound(t) for t in storage.tensions.list()) if o is not None]
        owners = sorted({r.identity_id for r in reflections if r.identity_id}
                        | {t.identity_id for t in tensions if t.identity_id})
        yield "identities", [identity_stub(i) for i in owners]
        for i in range(0, len(reflections), BATCH):
            yield "reflections", reflections[i:i + BATCH]
        reflection_ids = {r.id for r in reflections}
        mirrorbacks = [mb for mb in storage.mirrorbacks.list() if mb.reflection_id in reflection_ids]
        yield "mirrorbacks", mirrorbacks
        yield "tensions", tensions
    runs = [run if run.reflection_id in reflection_ids else replace(run, reflection_id=None)
            for run in storage.engine_runs.list(sync_allowed=True)]
    yield "engine_runs", runs
    run_ids = {r.id for r in runs}
    # Free-text notes are the person's own words: they stay home even on a shareable row
    # (spec 8/9: what may leave carries no identifiable information).
    yield "engine_feedback", [replace(f, notes=None) for f in storage.engine_feedback.list(sync_allowed=True)
                              if f.engine_run_id in run_ids and (f.rating is not None or f.flags)]
    if purpose == "share":
        yield "evolution_proposals", storage.evolution_proposals.list()
    yield "evolution_events", storage.evolution_events.list(sync_allowed=True)


# -- sync between a person's devices (issue 18) -----------------------------------------------------

SyncKind = Literal["sealed", "clear", "anonymized", "summary"]
# The spec tables whose rows may sync at all (foreign-key order); every other table never does.
SYNC_ENTITIES = ("reflections", "tensions", "mirrorbacks", "engine_runs", "engine_feedback", "evolution_events")
SUMMARY_ENTITY = "summary"


@dataclass(frozen=True)
class SyncOut:
    """What may leave for one row: how (``kind``) and which fields, already reduced by the policy."""

    kind: SyncKind
    fields: dict[str, Any]


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, enum.Enum):
        return value.value
    return value


def _fields(obj: Any, drop: tuple[str, ...] = ()) -> dict[str, Any]:
    return {f.name: _plain(getattr(obj, f.name)) for f in dataclasses.fields(obj) if f.name not in drop}


def _reflection_kind(r: m.Reflection | None) -> SyncKind | None:
    if r is None or r.identity_id is None:
        return None  # spec 2: an anonymous reflection never leaves
    vis = str(r.visibility)
    if vis == Visibility.SYNC_FULL_PRIVATE:
        return "sealed"
    if vis == Visibility.SYNC_FULL_PUBLIC:
        return "clear"
    return None


def sync_outbound(storage: Any, entity: str, row: Any, identity_key: Callable[[str], str],
                  reflections: dict[str, m.Reflection] | None = None) -> SyncOut | None:
    """The part of ``row`` (a dataclass of ``entity``) that may go to the person's other devices, or None.

    ``identity_key`` turns a local identity id into the opaque key that travels instead of it;
    ``reflections`` may hold the reflections a batch refers to, read beforehand (else they are looked up).
    """
    def parent(rid: str) -> m.Reflection | None:
        if reflections is not None and rid in reflections:
            return reflections[rid]
        return storage.reflections.find(rid)

    if entity == "reflections":
        kind = _reflection_kind(row)
        if kind is None:
            return None
        out = _fields(row, drop=("identity_id",))
        out["identity_key"] = identity_key(row.identity_id)
        return SyncOut(kind, out)
    if entity == "mirrorbacks":
        kind = _reflection_kind(parent(row.reflection_id))
        return None if kind is None else SyncOut(kind, _fields(row))
    if entity == "tensions":
        mode = str(row.sync_mode)
        if mode == SyncMode.SHARE_FULL:
            out = _fields(row, drop=("identity_id",))
            out["identity_key"] = identity_key(row.identity_id) if row.identity_id else None
            return SyncOut("sealed", out)
        if mode == SyncMode.SHARE_ANONYMIZED:
            return SyncOut("anonymized", {"position": row.position, "intensity": row.intensity})
        return None
    if entity == "engine_runs":
        if not row.sync_allowed:
            return None
        out = _fields(row)
        if row.reflection_id is not None and _reflection_kind(parent(row.reflection_id)) is None:
            out["reflection_id"] = None
        return SyncOut("sealed", out)
    if entity == "engine_feedback":
        if not row.sync_allowed or (row.rating is None and not row.flags):
            return None
        run = storage.engine_runs.find(row.engine_run_id)
        if run is None or not run.sync_allowed:
            return None
        return SyncOut("sealed", _fields(row, drop=("notes",)))
    if entity == "evolution_events":
        return SyncOut("sealed", _fields(row)) if row.sync_allowed else None
    return None  # identities, threads, axes, integrations, drafts ... never sync


def _pattern_name(p: Any) -> str | None:
    if isinstance(p, str):
        return p
    if isinstance(p, dict):
        for key in ("name", "pattern", "type", "id"):
            if isinstance(p.get(key), str):
                return str(p[key])
    return None


def sync_summary_outbound(storage: Any) -> SyncOut | None:
    """``sync_summary`` reflections leave only as counts: how many, and how often each pattern was seen."""
    ids = set(storage.reflections.ids_with_visibility(Visibility.SYNC_SUMMARY.value))
    if not ids:
        return None
    counts: dict[str, int] = {}
    for run in storage.engine_runs.list():
        if run.reflection_id in ids:
            for p in run.patterns or []:
                name = _pattern_name(p)
                if name:
                    counts[name] = counts.get(name, 0) + 1
    return SyncOut("summary", {"reflections": len(ids), "patterns": dict(sorted(counts.items()))})
def sync_summary(storage: Any) -> dict[str, Any]:
    """The aggregates telemetry would send (issue 17, item 6): counts and names, never content.

    Built from ``outbound_rows(storage, "telemetry")`` only, so it can show nothing the person did
    not mark shareable, plus the pattern counts of ``sync_summary`` reflections (spec: "anonymised
    patterns only"). The window's "What would be shared" view and `mirror evolve shared` print this.
    """
    from collections import Counter

    tables: dict[str, list[Any]] = {}
    for table, rows in outbound_rows(storage, "telemetry"):
        tables.setdefault(table, []).extend(rows)
    runs = tables.get("engine_runs", [])
    feedback = tables.get("engine_feedback", [])
    events = tables.get("evolution_events", [])
    patterns: Counter[str] = Counter(p for r in runs for p in (r.patterns or []))
    flags: Counter[str] = Counter(str(k) for r in runs for k in (r.flags or {}))
    summary_ids = {r.id for r in storage.reflections.page(SearchFilters(visibility=Visibility.SYNC_SUMMARY),
                                                          limit=100_000)}
    summary_patterns: Counter[str] = Counter(
        p for r in storage.engine_runs.list() if r.reflection_id in summary_ids for p in (r.patterns or []))
    return {
        "engine_runs": {"count": len(runs), "patterns": dict(sorted(patterns.items())),
                        "flags": dict(sorted(flags.items())),
                        "config_versions": dict(sorted(Counter(r.config_version for r in runs).items()))},
        "engine_feedback": {"count": len(feedback),
                            "ratings": dict(sorted(Counter(str(f.rating) for f in feedback if f.rating).items())),
                            "flags": dict(sorted(Counter(x for f in feedback for x in (f.flags or [])).items()))},
        "evolution_events": {"count": len(events),
                             "types": dict(sorted(Counter(str(e.event_type) for e in events).items()))},
        "sync_summary_reflections": {"count": len(summary_ids), "patterns": dict(sorted(summary_patterns.items()))},
    }
