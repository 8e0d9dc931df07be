"""Use cases of the journal: what the window, the CLI and the tests ask for, in one place.

Services hold the business rules that span rows (an identity's deletion, a thread's dates, a
tension's history) so that widgets hold none (STYLE.md, habit 5). Every method runs on the caller's
thread; the window calls them only from its database executor.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any
from collections.abc import Sequence

from mirror_desktop.core import models as m
from mirror_desktop.core.enums import ThreadStatus, Visibility
from mirror_desktop.core.errors import ValidationError
from mirror_desktop.core.models import SearchFilters, SearchHit, utc_now
from mirror_desktop.core.ports import MirrorStorage


ANONYMOUS_NAME = "Anonymous"
# An id prefix shorter than this matches too much to be meant (the CLI prints ids cut to 8).
MIN_ID_PREFIX = 4


def word_count(text: str) -> int:
    return len(text.split())


def record_deletion(storage: MirrorStorage, what: str, count: int) -> None:
    """The spec's ``deletion`` event ("Mirror permanently removed"): what kind of thing the person removed for good,
    and how many, never which or their words (issue 17, item 5). The removal stands even if its record cannot be
    written (a keychain that refuses the signing key): it is logged, not raised."""
    from mirror_desktop.core.enums import LifecycleEventType
    from mirror_desktop.core.lifecycle import record_event_quietly

    record_event_quietly(storage, LifecycleEventType.DELETION, {"what": what, "count": int(count)})


# What a person makes: any row here means the journal is theirs (drafts are typing not yet saved).
_CONTENT_TABLES = ("identities", "reflections", "mirrorbacks", "threads", "thread_reflections", "engine_runs",
                   "engine_feedback", "evolution_proposals", "evolution_history", "integrations", "drafts",
                   "templates")  # issue 16: a template of the person's own is theirs too


def journal_is_empty(storage: MirrorStorage) -> bool:
    """Whether the journal holds nothing the person made: its default tensions and axes do not count.

    A journal with only its seeds (untouched) takes a bundle as a restore, not a merge, so the map
    is not doubled (issue 11, item 8). Evolution events are bookkeeping (installation, export) and
    do not count either; a moved or renamed seed does.
    """
    from mirror_desktop.core.tensions import is_untouched_seed, load_seed_data, seed_key_of

    for table in _CONTENT_TABLES:
        if getattr(storage, table).count():
            return False
    if any(seed_key_of(a) is None for a in storage.axes.list()):
        return False
    seeds = load_seed_data()
    return all(is_untouched_seed(t, seeds) for t in storage.tensions.list())


class UnknownIdentity(ValidationError):
    """No identity, or more than one, answers to the name or id given."""

    def __init__(self, message: str) -> None:
        super().__init__("identity", "id", "must name one identity", message)


def identity_by_name_or_id(storage: MirrorStorage, text: str) -> m.Identity | None:
    """The identity ``text`` names: its id, a unique id prefix, or its name (any case).

    ``None`` means Anonymous (the name "Anonymous" when no identity is called that). Anything else
    raises UnknownIdentity with one sentence that lists the names there are (issue 11, item 13).
    """
    key = text.strip()
    if not key:
        raise UnknownIdentity("An identity needs a name or an id; none was given.")
    exact = storage.identities.find(key)
    if exact is not None:
        return exact
    identities = storage.identities.list()
    named = [i for i in identities if str((i.metadata or {}).get("name") or "").strip().casefold() == key.casefold()]
    if len(named) == 1:
        return named[0]
    if len(named) > 1:
        raise UnknownIdentity(f"{len(named)} identities are named {key!r}; give the id of the one you mean.")
    if key.casefold() == ANONYMOUS_NAME.casefold():
        return None
    if len(key) >= MIN_ID_PREFIX:
        prefixed = [i for i in identities if i.id.startswith(key)]
        if len(prefixed) == 1:
            return prefixed[0]
        if len(prefixed) > 1:
            raise UnknownIdentity(f"{key!r} starts {len(prefixed)} identity ids; give more of the id.")
    names = sorted(str((i.metadata or {}).get("name") or i.id) for i in identities)
    known = ", ".join([*names, ANONYMOUS_NAME])
    raise UnknownIdentity(f"No identity is named or has the id {key!r}; the identities are: {known}.")


class JournalService:
    """Identities, reflections, drafts, threads and search over one storage."""

    def __init__(self, storage: MirrorStorage) -> None:
        self.storage = storage

    # -- identities ----------------------------------------------------------------------
    def list_identities(self) -> list[m.Identity]:
        return self.storage.identities.list()

    def _identity_name(self, name: str, own_id: str | None = None) -> str:
        """A usable identity name, or one sentence why not: empty, or the name of another identity.

        Two identities with one name (spaces and case aside) cannot be told apart in the sidebar or on the
        command line, so the window and the CLI refuse the same duplicates here (issue 10).
        """
        name = name.strip()
        if not name:
            raise ValidationError("identity", "metadata.name", "cannot be empty", "An identity needs a name.")
        wanted = " ".join(name.split()).casefold()
        for other in self.storage.identities.list():
            if other.id != own_id and " ".join(other.name.split()).casefold() == wanted:
                raise ValidationError("identity", "metadata.name", "must be unique",
                                      f"You already have an identity called “{other.name}”; choose another name.")
        return name

    def create_identity(self, name: str, color: str | None = None) -> m.Identity:
        name = self._identity_name(name)
        meta: dict[str, Any] = {"name": name}
        if color:
            meta["color"] = color
        return self.storage.identities.create(m.Identity(metadata=meta))

    def update_identity(self, identity_id: str, *, name: str | None = None, color: str | None = None) -> m.Identity:
        ident = self.storage.identities.get(identity_id)
        meta = dict(ident.metadata or {})
        if name is not None:
            meta["name"] = self._identity_name(name, identity_id)
        if color is not None:
            meta["color"] = color
        return self.storage.identities.update(replace(ident, metadata=meta, updated_at=utc_now()))

    def delete_identity(self, identity_id: str) -> int:
        """Delete an identity; its reflections are kept as Anonymous and local_only. Returns how many."""
        with self.storage.transaction():
            moved = self.storage.reflections.make_anonymous(identity_id)
            gone = self.storage.identities.delete(identity_id)
        self.storage.purge_deleted()  # the identity's name leaves the WAL too
        if gone:
            record_deletion(self.storage, "identity", 1)
        return moved

    # -- reflections ---------------------------------------------------------------------
    def save_reflection(self, content: str, *, reflection_id: str | None = None, identity_id: str | None = None,
                        visibility: str = Visibility.LOCAL_ONLY, tags: Sequence[str] | None = None,
                        draft_id: str | None = None, created_at: datetime | None = None,
                        template: str | None = None) -> m.Reflection:
        """Create or update a reflection (and drop its draft) in one transaction.

        ``created_at``: the reflection's date (backdating, issue 16), checked by WritingService.check_date;
        None keeps an existing reflection's date and dates a new one now. ``template``: the name of the
        template it was started from (kept in metadata).
        """
        if created_at is not None:
            from mirror_desktop.core.writing import check_reflection_date

            created_at = check_reflection_date(created_at)
        if identity_id is None:
            visibility = Visibility.LOCAL_ONLY
        with self.storage.transaction():
            existing = self.storage.reflections.find(reflection_id) if reflection_id else None
            meta = dict(existing.metadata or {}) if existing else {}
            if tags is not None:
                from mirror_desktop.core.writing import normalize_tags

                # Tags already on the reflection stay as they are (older journals hold "two words").
                meta["tags"] = normalize_tags(tags, keep=existing.tags if existing else ())
            meta["word_count"] = word_count(content)
            if template:
                meta["template"] = template
            if existing is None:
                kwargs: dict[str, Any] = {"id": reflection_id} if reflection_id else {}
                if created_at is not None:
                    kwargs["created_at"] = created_at
                saved = self.storage.reflections.create(m.Reflection(
                    content=content, identity_id=identity_id, visibility=Visibility(visibility), metadata=meta, **kwargs))
            else:
                saved = self.storage.reflections.update(replace(
                    existing, content=content, identity_id=identity_id, visibility=Visibility(visibility), metadata=meta,
                    created_at=created_at or existing.created_at))
            if draft_id:
                self.storage.drafts.delete(draft_id)
        return saved

    def delete_reflection(self, reflection_id: str) -> m.DeletionNotice:
        """Delete a reflection everywhere (threads, mirrorbacks, search index) and purge its text.

        Returns how many older copies of the journal (backups, import rollback files) were made
        since the reflection was written and so may still hold it: the window says so honestly and
        offers ``purge_backups``.
        """
        from mirror_desktop.core.attachments import release_blobs, shas_of

        found = self.storage.reflections.find(reflection_id)
        held = shas_of(self.storage, [reflection_id])  # its files leave the disk with it (issue 15)
        with self.storage.transaction():
            affected = self.storage.thread_reflections.threads_of(reflection_id)
            gone = self.storage.reflections.delete(reflection_id)
            for thread_id in affected:
                self._touch_thread(thread_id)
        release_blobs(self.storage, held)
        self.storage.purge_deleted()
        if gone:
            record_deletion(self.storage, "reflection", 1)
        return m.DeletionNotice(self._copies_since(found.created_at) if found is not None else 0)

    def purge_step(self) -> bool:
        """One short step of the purge a deletion left to steps (the window's); True once it is finished."""
        return self.storage.purge_step()

    def _copies_since(self, written: datetime) -> int:
        """Older copies of the journal made at or after ``written`` (an earlier copy cannot hold it)."""
        since = written.timestamp() - 1  # file times and row times come from different clocks' roundings
        n = 0
        for copy in self.storage.backup_files():
            try:
                if copy.stat().st_mtime >= since:
                    n += 1
            except OSError:
                continue
        return n

    def purge_backups(self) -> m.BackupPurge:
        """Remove every older copy of the journal (backups before migrations, import rollback files)."""
        done = self.storage.purge_backups()
        if done.removed:
            record_deletion(self.storage, "backups", len(done.removed))
        return done

    def get_reflection(self, reflection_id: str) -> m.Reflection:
        return self.storage.reflections.get(reflection_id)

    def threads_of(self, reflection_id: str) -> list[str]:
        """Ids of the threads a reflection belongs to (the editor's thread menu)."""
        return self.storage.thread_reflections.threads_of(reflection_id)

    def schema_version(self) -> str:
        return self.storage.schema_version()

    def is_empty(self) -> bool:
        """journal_is_empty for the window: a seeds-only journal offers Restore, not Merge."""
        return journal_is_empty(self.storage)

    def journal_stats(self) -> dict[str, int]:
        """Counts for the window's status bar: reflections, identities, threads, pending drafts."""
        return {
            "reflections": self.count_reflections(),
            "identities": len(self.storage.identities.list()),
            "threads": len(self.storage.threads.list()),
            "drafts": len(self.storage.drafts.list()),
        }

    def reflections_page(self, filters: SearchFilters | None = None, after: tuple[datetime, str] | None = None,
                         limit: int = 200) -> list[m.Reflection]:
        return self.storage.reflections.page(filters, after=after, limit=limit)

    def count_reflections(self, filters: SearchFilters | None = None) -> int:
        return int(self.storage.reflections.count_filtered(filters))

    # -- drafts --------------------------------------------------------------------------
    def save_draft(self, content: str, *, draft_id: str | None = None, reflection_id: str | None = None,
                   identity_id: str | None = None, metadata: dict[str, Any] | None = None) -> m.Draft:
        draft = m.Draft(content=content, reflection_id=reflection_id, identity_id=identity_id, metadata=metadata)
        if draft_id:
            draft.id = draft_id
        with self.storage.transaction():
            if draft_id and self.storage.drafts.find(draft_id) is not None:
                return self.storage.drafts.update(draft)
            return self.storage.drafts.create(draft)

    def pending_drafts(self) -> list[m.Draft]:
        return self.storage.drafts.list(order_by=["-updated_at"])

    def discard_draft(self, draft_id: str) -> None:
        self.storage.drafts.delete(draft_id)

    # -- threads -------------------------------------------------------------------------
    def create_thread(self, title: str | None, identity_id: str | None = None) -> m.Thread:
        return self.storage.threads.create(m.Thread(identity_id=identity_id, title=(title or "").strip() or None))

    def update_thread(self, thread_id: str, *, title: str | None = None, status: str | None = None) -> m.Thread:
        t = self.storage.threads.get(thread_id)
        if title is not None:
            t = replace(t, title=title.strip() or None)
        if status is not None:
            t = replace(t, status=ThreadStatus(status))
        return self.storage.threads.update(t)

    def list_threads(self, identity_id: str | None = None, *, anonymous_only: bool = False) -> list[m.Thread]:
        where: dict[str, Any] = {}
        if anonymous_only:
            where["identity_id"] = None
        elif identity_id is not None:
            where["identity_id"] = identity_id
        return self.storage.threads.list(order_by=["-last_active"], **where)

    def thread_timeline(self, thread_id: str) -> list[tuple[m.ThreadReflection, m.Reflection]]:
        links = self.storage.thread_reflections.for_thread(thread_id)
        return [(link, self.storage.reflections.get(link.reflection_id)) for link in links]

    def add_to_threads(self, reflection_id: str, thread_ids: Sequence[str]) -> None:
        with self.storage.transaction():
            for thread_id in thread_ids:
                self.storage.thread_reflections.append(thread_id, reflection_id)
                self._touch_thread(thread_id)

    def remove_from_thread(self, thread_id: str, reflection_id: str) -> None:
        with self.storage.transaction():
            self.storage.thread_reflections.remove(thread_id, reflection_id)
            self._touch_thread(thread_id)

    def reorder_thread(self, thread_id: str, ordered_reflection_ids: Sequence[str]) -> None:
        with self.storage.transaction():
            self.storage.thread_reflections.reorder(thread_id, ordered_reflection_ids)
            self._touch_thread(thread_id)

    def _touch_thread(self, thread_id: str) -> None:
        """Spec 4: started_at is the first reflection's time; last_active the latest activity."""
        t = self.storage.threads.find(thread_id)
        if t is None:
            return
        first = self.storage.thread_reflections.first_created_at(thread_id)
        now = utc_now()
        started = first if first is not None else t.started_at
        self.storage.threads.update(replace(t, started_at=started, last_active=max(now, started)))

    # -- search --------------------------------------------------------------------------
    def search(self, query: str, filters: SearchFilters | None = None, limit: int = 50, *,
               ranks: bool = True) -> list[SearchHit]:
        return self.storage.search(query, filters, limit=limit, ranks=ranks)
