"""Plain dataclasses for the spec's 14 tables: what repositories return and services pass around.

Timestamps are timezone-aware UTC datetimes; JSON fields are dicts and lists. Field names are the
spec's column names, so a row maps onto a dataclass one to one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, UTC
from pathlib import Path
from typing import Any

from mirror_desktop.core.enums import (
    ContentType,
    EngineMode,
    IntegrationStatus,
    IntegrationType,
    ProposalStatus,
    ProposalType,
    Source,
    SyncMode,
    TensionOrigin,
    ThreadStatus,
    Visibility,
)

JSON = dict[str, Any]


def new_id() -> str:
    """A new primary key: a random UUID as text (spec: TEXT/UUID)."""
    import uuid  # here: the first frame makes no new ids

    return str(uuid.uuid4())


def utc_now() -> datetime:
    """Now, in UTC, to the millisecond (the precision stored in SQLite)."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


@dataclass
class Identity:
    """Spec 1: a self, role or context. The display name lives in ``metadata["name"]``."""

    id: str = field(default_factory=new_id)
    created_at: datetime = field(default_factory=utc_now)
    updated_at: datetime = field(default_factory=utc_now)
    metadata: JSON | None = None

    @property
    def name(self) -> str:
        return str((self.metadata or {}).get("name") or "Unnamed")

    @property
    def color(self) -> str | None:
        return (self.metadata or {}).get("color")


@dataclass
class Reflection:
    """Spec 2: what the person wrote. ``identity_id`` None means anonymous (then local_only)."""

    content: str
    identity_id: str | None = None
    visibility: Visibility = Visibility.LOCAL_ONLY
    content_type: ContentType | None = ContentType.MARKDOWN
    source: Source | None = Source.DIRECT
    metadata: JSON | None = None
    id: str = field(default_factory=new_id)
    created_at: datetime = field(default_factory=utc_now)

    @property
    def tags(self) -> list[str]:
        return list((self.metadata or {}).get("tags") or [])


@dataclass
class Mirrorback:
    """Spec 3: what Mirror said back to a reflection."""

    reflection_id: str
    content: str
    engine_version: str
    metadata: JSON | None = None
    id: str = field(default_factory=new_id)
    created_at: datetime = field(default_factory=utc_now)


@dataclass
class Thread:
    """Spec 4: a sequence of reflections over time."""

    identity_id: str | None = None
    title: str | None = None
    status: ThreadStatus = ThreadStatus.ACTIVE
    metadata: JSON | None = None
    id: str = field(default_factory=new_id)
    started_at: datetime = field(default_factory=utc_now)
    last_active: datetime = field(default_factory=utc_now)


@dataclass
class ThreadReflection:
    """Spec 5: a reflection's place in a thread."""

    thread_id: str
    reflection_id: str
    position: int
    added_at: datetime = field(default_factory=utc_now)


@dataclass
class Tension:
    """Spec 6: a named duality, positioned from -1 (axis_a) to 1 (axis_b)."""

    name: str
    axis_a: str
    axis_b: str
    identity_id: str | None = None
    position: float | None = 0.0
    intensity: float | None = 0.5
    origin: TensionOrigin = TensionOrigin.USER_CREATED
    sync_mode: SyncMode = SyncMode.LOCAL_ONLY
    metadata: JSON | None = None
    id: str = field(default_factory=new_id)
    created_at: datetime = field(default_factory=utc_now)
    updated_at: datetime = field(default_factory=utc_now)


@dataclass
class Axis:
    """Spec 7: a dimension that groups tensions on the map."""

    name: str
    identity_id: str | None = None
    description: str | None = None
    category: str | None = None
    metadata: JSON | None = None
    id: str = field(default_factory=new_id)
    created_at: datetime = field(default_factory=utc_now)


@dataclass
class EngineRun:
    """Spec 8: telemetry of one MirrorCore invocation. Never any text of the reflection."""

    config_version: str
    engine_mode: EngineMode
    reflection_id: str | None = None
    model_name: str | None = None
    patterns: list[str] | None = None
    tensions_surfaced: list[str] | None = None
    mirrorback_length: int | None = None
    duration_ms: int | None = None
    flags: JSON | None = None
    sync_allowed: bool = False
    id: str = field(default_factory=new_id)
    timestamp: datetime = field(default_factory=utc_now)


@dataclass
class EngineFeedback:
    """Spec 9: the person's rating of a mirrorback."""

    engine_run_id: str
    rating: int | None = None
    flags: list[str] | None = None
    notes: str | None = None
    sync_allowed: bool = False
    id: str = field(default_factory=new_id)
    timestamp: datetime = field(default_factory=utc_now)


@dataclass
class EvolutionProposal:
    """Spec 10: a candidate change to the engine, prompts or constitution."""

    proposal_type: ProposalType
    title: str
    description: str
    changes: JSON
    status: ProposalStatus = ProposalStatus.DRAFT
    from_version: str | None = None
    to_version: str | None = None
    evidence: JSON | None = None
    test_results: JSON | None = None
    vote_results: JSON | None = None
    approved_at: datetime | None = None
    applied_at: datetime | None = None
    metadata: JSON | None = None
    id: str = field(default_factory=new_id)
    created_at: datetime = field(default_factory=utc_now)


@dataclass
class EvolutionHistory:
    """Spec 11: an immutable record of what changed."""

    evolution_id: str
    event_type: str
    reversible: bool = True
    from_version: str | None = None
    to_version: str | None = None
    applied_by: str | None = None
    metadata: JSON | None = None
    id: str = field(default_factory=new_id)
    applied_at: datetime = field(default_factory=utc_now)


@dataclass
class EvolutionEvent:
    """Spec 12: a lifecycle event (installation, export, import ...)."""

    event_type: str
    event_data: JSON
    from_version: str | None = None
    to_version: str | None = None
    mirror_signature: str | None = None
    sync_allowed: bool = False
    id: str = field(default_factory=new_id)
    timestamp: datetime = field(default_factory=utc_now)


@dataclass
class Integration:
    """Spec 13: an external connection. Secrets never live in ``config`` (keyring holds them)."""

    integration_type: IntegrationType
    config: JSON
    status: IntegrationStatus = IntegrationStatus.PAUSED
    identity_id: str | None = None
    last_sync: datetime | None = None
    metadata: JSON | None = None
    id: str = field(default_factory=new_id)
    connected_at: datetime = field(default_factory=utc_now)


@dataclass
class Draft:
    """Adapter extension (migration 002): text being typed, kept for crash recovery."""

    content: str
    reflection_id: str | None = None
    identity_id: str | None = None
    metadata: JSON | None = None
    id: str = field(default_factory=new_id)
    updated_at: datetime = field(default_factory=utc_now)


@dataclass
class IntegrationItem:
    """Adapter extension (migration 003): one item a source returned, keyed by (integration, external id).

    ``kind`` is "event" (calendar context, never a reflection by itself) or "note" (which becomes a
    reflection, ``reflection_id``). ``version`` is the source's own change marker (ETag, content
    hash) so a re-sync can tell an unchanged item without rewriting it. ``state`` is "present" or
    "deleted_upstream" (a deletion is shown, never applied to what the person has in Mirror).
    """

    integration_id: str
    external_id: str
    kind: str
    version: str
    title: str | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    all_day: bool = False
    state: str = "present"
    reflection_id: str | None = None
    metadata: JSON | None = None
    first_seen_at: datetime = field(default_factory=utc_now)
    updated_at: datetime = field(default_factory=utc_now)


@dataclass
class Attachment:
    """Adapter extension (migration 004, the spec's v2 "attachments"): one file kept with a reflection.

    The bytes are named by ``sha256`` and stored once however many reflections hold them (see
    core/attachments.py for where). ``mime_type`` is sniffed from the bytes, never the file name;
    ``filename`` is only what the person called it. The row goes with its reflection.
    """

    reflection_id: str
    sha256: str
    mime_type: str
    size_bytes: int
    filename: str | None = None
    metadata: JSON | None = None
    id: str = field(default_factory=new_id)
    created_at: datetime = field(default_factory=utc_now)


@dataclass
class Template:
    """Adapter extension (migration 005): a template of the person's own (built-ins live in core/templates.py)."""

    name: str
    body: str
    metadata: JSON | None = None
    id: str = field(default_factory=new_id)
    created_at: datetime = field(default_factory=utc_now)
    updated_at: datetime = field(default_factory=utc_now)


@dataclass
class SchemaVersion:
    """Spec 14: one applied migration."""

    id: int
    version: str
    description: str | None
    applied_at: datetime
    checksum: str | None


class SearchHit:
    """One ranked search result: the reflection, a snippet with ``[`` ``]`` around matches, rank (lower is
    better; None when the search was asked without ranks).

    What a list of results shows of the reflection (its id, date, identity and text) are attributes of the
    hit itself. A storage may hand over the stored row instead of the Reflection (``SearchHit.stored``): the
    whole ``reflection`` (metadata parsed, enums looked up) is then made the first time it is asked for, so a
    page of results that is only listed never converts what the list does not show (issue 12, item 4: a
    rare word's search at 10,000 entries spent a tenth of its time building Reflections). Hits are not meant
    to change; two are equal when their reflections, snippets and ranks are."""

    __slots__ = ("reflection_id", "created_at", "identity_id", "content", "snippet", "rank", "_reflection",
                 "_make", "_row")

    def __init__(self, reflection: Reflection, snippet: str, rank: float | None) -> None:
        self.reflection_id, self.created_at = reflection.id, reflection.created_at
        self.identity_id, self.content = reflection.identity_id, reflection.content
        self.snippet, self.rank = snippet, rank
        self._reflection: Reflection | None = reflection
        self._make: Callable[[Any], Reflection] | None = None
        self._row: Any = None

    @classmethod
    def stored(cls, reflection_id: str, created_at: datetime, identity_id: str | None, content: str,
               snippet: str, rank: float | None, make: Callable[[Any], Reflection], row: Any) -> SearchHit:
        """A hit whose Reflection is ``make(row)``, made when first asked for."""
        hit = cls.__new__(cls)
        hit.reflection_id, hit.created_at, hit.identity_id, hit.content = reflection_id, created_at, identity_id, content
        hit.snippet, hit.rank, hit._reflection, hit._make, hit._row = snippet, rank, None, make, row
        return hit

    @property
    def reflection(self) -> Reflection:
        made = self._reflection
        if made is None:  # (two threads asking at once may both make it: the same value, nothing shared changes)
            assert self._make is not None
            made = self._reflection = self._make(self._row)
        return made

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SearchHit):
            return NotImplemented
        return (self.reflection, self.snippet, self.rank) == (other.reflection, other.snippet, other.rank)

    __hash__ = None  # type: ignore[assignment]  # as the Reflection's: equal hits may later differ

    def __repr__(self) -> str:
        return f"SearchHit(reflection={self.reflection!r}, snippet={self.snippet!r}, rank={self.rank!r})"


@dataclass(frozen=True)
class SearchFilters:
    """Optional narrowing of a search or a list (all combine with AND)."""

    identity_id: str | None = None
    anonymous_only: bool = False
    thread_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    visibility: str | None = None
    tags: tuple[str, ...] = ()  # every one of these tags (compared in lower case)


@dataclass
class BackupPurge:
    """What purging the journal's older copies removed: file names and bytes, never content."""

    removed: list[Path] = field(default_factory=list)
    bytes: int = 0
    failed: list[Path] = field(default_factory=list)


@dataclass(frozen=True)
class DeletionNotice:
    """What deleting a reflection leaves behind: older copies of the journal made since it was written.

    The journal itself keeps nothing (secure_delete, the FTS index, a checkpoint); the backups made
    before a migration and the rollback files of an import are whole journals and may hold the text
    until they are purged. The window shows ``message`` with a "Purge backups" action when
    ``backups_may_hold`` is not 0.
    """

    backups_may_hold: int = 0

    @property
    def message(self) -> str:
        n = self.backups_may_hold
        if not n:
            return "The reflection is deleted; no backup of the journal holds a copy of it."
        copies = "older backup of the journal" if n == 1 else "older backups of the journal"
        return (f"The reflection is deleted, but {n} {copies} may still hold its text; "
                "purge backups to remove them.")
