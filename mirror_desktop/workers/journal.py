"""JournalClient: the window's one door to the journal — service calls on the executor, facts as signals.

Every write goes through here as a job on the serial DatabaseExecutor and, when it lands, is
announced in the past tense (``reflection_saved``, ``thread_reordered`` ...) so that each view decides
for itself whether to refresh (STYLE.md: "every write reports what changed"). Reads take a callback
instead, because only the asker wants the answer. No SQL here: only JournalService use cases.
"""

from __future__ import annotations

import logging
from typing import Any
from collections.abc import Callable, Sequence

from PySide6.QtCore import QObject, Signal

from mirror_desktop.core import models as m
from mirror_desktop.core.models import SearchFilters
from mirror_desktop.core.services import JournalService
from mirror_desktop.workers.base import FeatureClient
from mirror_desktop.workers.executor import DatabaseExecutor, Job

log = logging.getLogger(__name__)


class JournalClient(FeatureClient):
    """Submits JournalService use cases to the executor and re-emits what happened.

    Signals:
        reflection_saved(object): a Reflection was created or updated; payload is the saved Reflection.
        reflection_deleted(str): payload is the deleted reflection's id.
        draft_saved(object): a Draft was written (crash recovery copy); payload is the Draft.
        draft_discarded(str): payload is the discarded draft's id.
        identities_changed(): an identity was created, renamed, recoloured or deleted.
        identity_deleted(str, int): (identity id, number of reflections kept as Anonymous).
        threads_changed(): a thread was created, renamed, paused, archived or resumed.
        thread_membership_changed(str): payload is the thread id whose reflections changed.
        thread_reordered(str): payload is the thread id whose order was saved.
        purge_finished(): the deleted reflections' words are gone from the journal file and its WAL
            (the index merge a deletion of an edited reflection needs ran to its end).
        operation_failed(str): a write failed; payload is the one sentence to show.
    """

    purge_finished = Signal()
    reflection_saved = Signal(object)
    reflection_deleted = Signal(str)
    draft_saved = Signal(object)
    draft_discarded = Signal(str)
    identities_changed = Signal()
    identity_deleted = Signal(str, int)
    threads_changed = Signal()
    thread_membership_changed = Signal(str)
    thread_reordered = Signal(str)

    def __init__(self, executor: DatabaseExecutor, parent: QObject | None = None) -> None:
        super().__init__(executor, JournalService, parent)
        self._purging = False

    # -- reads (answers go to the asker) -------------------------------------------------
    def read(self, use_case: Callable[[JournalService], Any], on_result: Callable[[Any], None],
             on_error: Callable[[BaseException], None] | None = None) -> Job:
        return self.call(use_case, on_result, on_error)

    # -- reflections ---------------------------------------------------------------------
    def save_draft(self, content: str, *, draft_id: str, reflection_id: str | None, identity_id: str | None,
                   metadata: dict[str, Any], on_result: Callable[[m.Draft], None] | None = None,
                   on_error: Callable[[BaseException], None] | None = None) -> Job:
        def done(draft: m.Draft) -> None:
            self.draft_saved.emit(draft)
            if on_result is not None:
                on_result(draft)

        return self.call(lambda s: s.save_draft(content, draft_id=draft_id, reflection_id=reflection_id,
                                                identity_id=identity_id, metadata=metadata), done, on_error)

    def save_reflection(self, content: str, *, reflection_id: str, identity_id: str | None, visibility: str,
                        tags: Sequence[str], draft_id: str | None,
                        on_result: Callable[[m.Reflection], None] | None = None,
                        on_error: Callable[[BaseException], None] | None = None) -> Job:
        tags = list(tags)

        def done(saved: m.Reflection) -> None:
            self.reflection_saved.emit(saved)
            if on_result is not None:
                on_result(saved)

        return self.call(lambda s: s.save_reflection(content, reflection_id=reflection_id, identity_id=identity_id,
                                                     visibility=visibility, tags=tags, draft_id=draft_id),
                         done, on_error)

    def delete_reflection(self, reflection_id: str, on_result: Callable[[m.DeletionNotice], None] | None = None) -> Job:
        """Delete everywhere; answers the DeletionNotice (how many older backups may still hold the text)."""
        def done(notice: m.DeletionNotice) -> None:
            self.reflection_deleted.emit(reflection_id)
            if on_result is not None:
                on_result(notice)
            self.purge_index()

        return self.call(lambda s: s.delete_reflection(reflection_id), done)

    def purge_index(self) -> None:
        """Finish the purge a deletion (or a killed session) left: one short write-lane job per step.

        Each step is queued when the one before it has finished, so a save asked for meanwhile runs
        between two steps instead of after the whole merge (~4 s at 100,000 entries in one piece).
        """
        if self._purging:
            return
        self._purging = True
        self._purge_step()

    def _purge_step(self) -> None:
        self.call(lambda s: s.purge_step(), self._purge_stepped, self._purge_failed)

    def _purge_stepped(self, finished: bool) -> None:
        if not self.executor.started:  # closing: the storage's close finishes what is left
            self._purging = False
        elif finished:
            self._purging = False
            self.purge_finished.emit()
        else:
            self._purge_step()

    def _purge_failed(self, exc: BaseException) -> None:
        self._purging = False  # the next deletion, close or start tries again (the state is in the journal)
        log.warning("the index purge stopped and resumes later: %s", exc)

    def purge_backups(self, on_result: Callable[[m.BackupPurge], None]) -> Job:
        """Remove every older copy of the journal (migration backups, import rollback files)."""
        return self.call(lambda s: s.purge_backups(), on_result)

    def discard_draft(self, draft_id: str) -> Job:
        return self.call(lambda s: s.discard_draft(draft_id), lambda _r: self.draft_discarded.emit(draft_id))

    # -- identities ----------------------------------------------------------------------
    def create_identity(self, name: str, color: str | None,
                        on_result: Callable[[m.Identity], None] | None = None) -> Job:
        def done(ident: m.Identity) -> None:
            self.identities_changed.emit()
            if on_result is not None:
                on_result(ident)

        return self.call(lambda s: s.create_identity(name, color), done)

    def update_identity(self, identity_id: str, *, name: str | None = None, color: str | None = None) -> Job:
        return self.call(lambda s: s.update_identity(identity_id, name=name, color=color),
                         lambda _r: self.identities_changed.emit())

    def delete_identity(self, identity_id: str) -> Job:
        def done(kept: int) -> None:
            self.identity_deleted.emit(identity_id, kept)
            self.identities_changed.emit()

        return self.call(lambda s: s.delete_identity(identity_id), done)

    # -- threads -------------------------------------------------------------------------
    def create_thread(self, title: str, identity_id: str | None,
                      on_result: Callable[[m.Thread], None] | None = None) -> Job:
        def done(thread: m.Thread) -> None:
            self.threads_changed.emit()
            if on_result is not None:
                on_result(thread)

        return self.call(lambda s: s.create_thread(title, identity_id), done)

    def update_thread(self, thread_id: str, *, title: str | None = None, status: str | None = None) -> Job:
        return self.call(lambda s: s.update_thread(thread_id, title=title, status=status),
                         lambda _r: self.threads_changed.emit())

    def add_to_threads(self, reflection_id: str, thread_ids: Sequence[str]) -> Job:
        ids = list(thread_ids)

        def done(_r: Any) -> None:
            for tid in ids:
                self.thread_membership_changed.emit(tid)
            self.threads_changed.emit()

        return self.call(lambda s: s.add_to_threads(reflection_id, ids), done)

    def remove_from_thread(self, thread_id: str, reflection_id: str) -> Job:
        def done(_r: Any) -> None:
            self.thread_membership_changed.emit(thread_id)
            self.threads_changed.emit()

        return self.call(lambda s: s.remove_from_thread(thread_id, reflection_id), done)

    def reorder_thread(self, thread_id: str, ordered_ids: Sequence[str],
                       on_error: Callable[[BaseException], None] | None = None) -> Job:
        ids = list(ordered_ids)

        def done(_r: Any) -> None:
            self.thread_reordered.emit(thread_id)
            self.threads_changed.emit()

        def failed(exc: BaseException) -> None:
            self._failed(exc)
            if on_error is not None:
                on_error(exc)

        return self.call(lambda s: s.reorder_thread(thread_id, ids), done, failed)

    # -- search --------------------------------------------------------------------------
    def search(self, query: str, filters: SearchFilters | None, on_result: Callable[[Any], None],
               on_error: Callable[[BaseException], None], limit: int = 100) -> Job:
        return self.query(lambda s: s.search(query, filters, limit=limit), on_result, on_error)
