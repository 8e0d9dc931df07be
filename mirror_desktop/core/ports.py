"""The storage interface every backend implements (no peewee here, so core can depend on it)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Generic, TypeVar

from mirror_desktop.core import models as m
from mirror_desktop.core.models import SearchFilters, SearchHit

T = TypeVar("T")


class Repository(ABC, Generic[T]):
    """Create, read, update, delete and list one spec entity; returns core dataclasses."""

    @abstractmethod
    def create(self, obj: T) -> T: ...

    @abstractmethod
    def get(self, id_: str) -> T: ...

    @abstractmethod
    def find(self, id_: str) -> T | None: ...

    @abstractmethod
    def update(self, obj: T) -> T: ...

    @abstractmethod
    def delete(self, id_: str) -> bool: ...

    @abstractmethod
    def list(self, *, limit: int | None = None, offset: int = 0, **where: Any) -> list[T]: ...

    @abstractmethod
    def count(self, **where: Any) -> int: ...


class MirrorStorage(ABC):
    """A journal: one repository per spec table, search, migrations, transactions."""

    dialect: str
    identities: Repository[m.Identity]
    reflections: Any  # ReflectionRepository: Repository[m.Reflection] plus paging
    mirrorbacks: Repository[m.Mirrorback]
    threads: Repository[m.Thread]
    thread_reflections: Any  # ThreadReflectionRepository
    tensions: Repository[m.Tension]
    axes: Repository[m.Axis]
    engine_runs: Repository[m.EngineRun]
    engine_feedback: Repository[m.EngineFeedback]
    evolution_proposals: Repository[m.EvolutionProposal]
    evolution_history: Repository[m.EvolutionHistory]
    evolution_events: Repository[m.EvolutionEvent]
    integrations: Repository[m.Integration]
    drafts: Repository[m.Draft]  # adapter extension (migration 002)
    integration_items: Any  # IntegrationItemRepository, adapter extension (migration 003)
    attachments: Any  # AttachmentRepository, adapter extension (migration 004)
    templates: Repository[m.Template]  # adapter extension (migration 005)
    writing: Any  # storage.writing.WritingStore: summaries and settings of migration 005

    @abstractmethod
    def transaction(self) -> AbstractContextManager[None]:
        """A write transaction (BEGIN IMMEDIATE on SQLite); nests as a savepoint."""

    @abstractmethod
    def search(self, query: str, filters: SearchFilters | None = None, *, limit: int = 50,
               offset: int = 0, ranks: bool = True) -> list[SearchHit]:
        """Ranked reflections matching the user's query syntax, with highlighted snippets. ``ranks`` False: the
        best first all the same, but each hit's rank is None (the window shows no rank; computing it can cost)."""

    @abstractmethod
    def schema_version(self) -> str: ...

    @abstractmethod
    def migrate(self) -> list[str]: ...

    @abstractmethod
    def counts(self) -> dict[str, int]:
        """Rows per spec table."""

    @abstractmethod
    def close(self) -> None: ...

    @property
    @abstractmethod
    def location(self) -> str:
        """Where the journal lives (a path, or a DSN without password)."""

    def backup_to(self, target: Path) -> Path:  # pragma: no cover - overridden where supported
        raise NotImplementedError

    def purge_deleted(self) -> None:  # noqa: B027 - optional hook, a no-op where nothing lingers
        """Make deleted text unrecoverable from the files (checkpoint, index merge); no-op if n/a."""

    def purge_step(self) -> bool:
        """One short transaction of a purge left to steps (SQLite's index merge); True once none is left."""
        return True

    def backup_files(self) -> list[Path]:
        """Older whole copies of the journal kept beside it (they may hold deleted text); none if n/a."""
        return []

    def purge_backups(self) -> m.BackupPurge:
        """Remove every older copy of the journal; nothing to do where none are kept."""
        return m.BackupPurge()

    def open_reader(self) -> MirrorStorage:  # pragma: no cover - overridden by every backend
        """Another, read-only connection to the same journal for another thread (issue 12)."""
        raise NotImplementedError

    def recent_mentions(self, queries: Any, *, limit: int = 20, scan: int = 2000) -> list[list[str]]:  # pragma: no cover
        """For each (query, filters), ids of the newest matching reflections, in one statement (issue 12)."""
        raise NotImplementedError

    def surfaced_in(self, tension_ids: Any, *, scan_runs: int = 5000) -> dict[str, list[str]]:  # pragma: no cover
        """Reflection ids whose recent engine runs surfaced each tension (issue 12)."""
        raise NotImplementedError

    def __enter__(self) -> MirrorStorage:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
