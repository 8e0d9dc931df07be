"""The connector interface: what every integration source declares, validates, fetches and returns.

A connector knows one provider (``caldav``, ``ics_file``, ``ics_url``, ``obsidian`` …) of one spec
integration type (``calendar``, ``notes``). It never touches the database: the sync module gives it
the integration's config, its secret (if any), the cursor it left last time and the versions of the
items already stored, and gets back items with stable external ids. New connectors register
themselves with ``register`` and plug in without any change to the poller (issue 14, item 1).

Errors a source can cause are ``SourceError`` (status ``error``) or ``AuthError`` (status
``disconnected``); each carries one sentence for the person.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

from mirror_desktop.core.errors import MirrorError

# A sync gives up on a source after this long without progress (an unreachable or hanging server).
DEFAULT_TIMEOUT_S = 20.0


class SourceError(MirrorError):
    """The source failed (unreachable, malformed, too large, hostile); the integration goes to ``error``."""


class AuthError(SourceError):
    """The source refused the credentials; the integration goes to ``disconnected``."""


class ConfigError(MirrorError):
    """The integration's config is incomplete or wrong; ``problems`` holds one sentence per problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(" ".join(problems))


class SyncCancelled(MirrorError):
    """The person (or quitting) stopped the sync; nothing was written."""

    def __init__(self) -> None:
        super().__init__("The sync was stopped before it finished; nothing was changed.")


class SyncState(Protocol):
    """The small progress/cancel object long tasks take (STYLE.md; core.progress.JobState's shape)."""

    def set_progress(self, fraction: float, message: str = "") -> None: ...

    def is_cancelled(self) -> bool: ...


class QuietSyncState:
    """No progress shown, cancelled only when told (CLI, tests)."""

    def __init__(self) -> None:
        self.messages: list[str] = []
        self.cancelled = False

    def set_progress(self, fraction: float, message: str = "") -> None:
        if message and (not self.messages or self.messages[-1] != message):
            self.messages.append(message)

    def is_cancelled(self) -> bool:
        return self.cancelled


@dataclass(frozen=True)
class Item:
    """One thing a source holds, as Mirror keeps it.

    ``external_id`` is stable across syncs (an event's UID plus its occurrence, a note's path in the
    vault). ``version`` changes exactly when the item's content changes (ETag, content hash).
    ``unchanged`` marks an item the connector recognised from ``FetchContext.known`` without reading
    it again (a note whose size and mtime did not move): only its presence counts.
    """

    external_id: str
    kind: str  # "event" | "note"
    version: str
    title: str | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    all_day: bool = False
    content: str | None = None
    tags: tuple[str, ...] = ()
    day: date | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    unchanged: bool = False


@dataclass
class FetchResult:
    """What one fetch returned.

    ``not_modified``: the source says nothing changed since ``cursor`` (HTTP 304, same ctag or
    sync token, same file hash): the stored items stand as they are. Otherwise ``items`` is the
    source's complete listing (within ``window`` for calendars), possibly lazy (a vault is read
    while it is applied), and anything stored but not listed was deleted upstream.
    """

    items: Iterable[Item] = ()
    not_modified: bool = False
    cursor: dict[str, Any] = field(default_factory=dict)
    window: tuple[datetime, datetime] | None = None
    description: str = ""


@dataclass
class FetchContext:
    """What a connector may use during a fetch."""

    cursor: Mapping[str, Any]
    known: Mapping[str, str]  # external id → version of the items already stored
    state: SyncState
    now: datetime
    timeout: float = DEFAULT_TIMEOUT_S
    started: float = field(default_factory=time.monotonic)

    def check(self) -> None:
        """Raise SyncCancelled once the person asked to stop (call between steps)."""
        if self.state.is_cancelled():
            raise SyncCancelled()


class Connector(ABC):
    """One provider of one integration type. Subclasses are stateless; one instance serves all."""

    integration_type: str
    provider: str
    needs_secret: bool = False
    description: str = ""
    # True when ``fetch`` lists items in ascending external-id order (Python string order, which is
    # UTF-8 byte order): the sync then merges the listing with the stored items page by page instead
    # of loading every stored version (constant memory), and ``FetchContext.known.get`` must be asked
    # in that order.
    sorted_ids: bool = False

    @abstractmethod
    def validate(self, config: Mapping[str, Any]) -> list[str]:
        """Problems with ``config``, one sentence each; empty when it is usable."""

    @abstractmethod
    def fetch(self, config: Mapping[str, Any], secret: str | None, ctx: FetchContext) -> FetchResult:
        """Fetch incrementally; raise SourceError / AuthError with one sentence on failure."""

    def location(self, config: Mapping[str, Any]) -> str:
        """Where the source is, for lists (a path or a URL without credentials)."""
        return str(config.get("path") or config.get("url") or "")


_REGISTRY: dict[str, Connector] = {}
_LOADED = False


def register(connector: Connector) -> Connector:
    """Make a connector available by its provider name (a later one of the same name replaces it)."""
    _REGISTRY[connector.provider] = connector
    return connector


def _load_builtin() -> None:
    global _LOADED
    if not _LOADED:
        _LOADED = True
        # Importing registers them; kept lazy so `mirror --help` never imports icalendar or caldav.
        from mirror_desktop.integrations import caldav_source, ics, obsidian  # noqa: F401
        from mirror_desktop.integrations import dayone, jrnl, rednotebook  # noqa: F401  (issue 15: journal importers)


def connector_for(provider: str) -> Connector:
    _load_builtin()
    found = _REGISTRY.get(provider)
    if found is None:
        known = ", ".join(sorted(_REGISTRY))
        raise ConfigError([f"Mirror has no connector for the provider {provider!r} (it knows {known})."])
    return found


def connectors() -> list[Connector]:
    _load_builtin()
    return [c for _, c in sorted(_REGISTRY.items())]


# A whole fetch (a transfer that trickles, a calendar that takes long to expand) may run this many
# times the read timeout, and at least WORK_BUDGET_MIN_S: a hang is caught by the read timeout itself.
WORK_BUDGET_FACTOR = 6
WORK_BUDGET_MIN_S = 120.0


def check_deadline(ctx: FetchContext, what: str) -> None:
    """A SourceError once the fetch has run past its budget (a source that trickles or never ends)."""
    budget = max(ctx.timeout * WORK_BUDGET_FACTOR, WORK_BUDGET_MIN_S)
    if time.monotonic() - ctx.started > budget:
        raise SourceError(f"{what} took longer than {budget:g} s; check the source and sync again later.")


def bounded(items: Iterable[Item], limit: int, what: str) -> Iterator[Item]:
    """Pass items through, refusing more than ``limit`` (a hostile source never fills the disk)."""
    for n, item in enumerate(items, 1):
        if n > limit:
            raise SourceError(f"{what} holds more than {limit:,} items, more than Mirror reads from one source; "
                              "narrow it (fewer look-back days, another folder) and sync again.")
        yield item


Progress = Callable[[float, str], None]
