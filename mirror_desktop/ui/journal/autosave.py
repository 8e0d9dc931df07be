"""AutosaveController: nothing typed is ever lost — drafts first, then the reflection, with retries.

Issue 3 / RELIABILITY.md "typing lost in a crash". Typing restarts a short debounce; a ceiling timer
guarantees a save at most ``CEILING_MS`` (2 s) after the first unsaved keystroke even if the person
never pauses. A save is two jobs on the serial executor: the draft (the crash-recovery copy) and then
the reflection, which drops the draft in its transaction (both in one job, so saves stay in order). If either fails the text stays in
the editor, a banner says what happened in one sentence, and the save is retried.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from mirror_desktop.core import models as m
from mirror_desktop.ui.journal.editor import ReflectionEditor
from mirror_desktop.workers.base import sentence
from mirror_desktop.workers.journal import JournalClient

DEBOUNCE_MS = 700
CEILING_MS = 2000
RETRY_MS = 5000


class AutosaveController(QObject):
    """Saves the editor's text in the background.

    Signals:
        status_changed(str): "unsaved" | "saving" | "saved" | "failed".
        saved(object): the editor's reflection reached the journal; payload is the Reflection.
    """

    status_changed = Signal(str)
    saved = Signal(object)

    def __init__(self, client: JournalClient, editor: ReflectionEditor, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.client = client
        self.editor = editor
        self.dirty = False
        self._version = 0
        self._in_flight = False
        self._again = False
        self._session = 0
        self._left_behind: dict[str, Any] = {}  # reflection id → snapshot whose commit failed, retried
        self._debounce = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self._ceiling = QTimer(self, singleShot=True, interval=CEILING_MS)
        self._retry = QTimer(self, singleShot=True, interval=RETRY_MS)
        for t in (self._debounce, self._ceiling, self._retry):
            t.timeout.connect(self.save_now)
        editor.content_edited.connect(self.mark_edited)
        self.status = "saved"

    def _set_status(self, status: str) -> None:
        self.status = status
        self.editor.set_save_status({"unsaved": "Edited", "saving": "Saving…", "saved": "Saved",
                                     "failed": "Not saved yet — kept here"}.get(status, ""))
        self.status_changed.emit(status)

    # -- triggers ------------------------------------------------------------------------
    def mark_edited(self) -> None:
        self.dirty = True
        self._version += 1
        self._debounce.start()
        if not self._ceiling.isActive():
            self._ceiling.start()
        if self.status != "failed":
            self._set_status("unsaved")

    def save_now(self) -> None:
        """Write the draft, then the reflection. Called by the timers, Ctrl+S and Retry."""
        self._stop_timers()
        if not self.dirty:
            return
        if self._in_flight:
            self._again = True
            return
        self._in_flight = True
        self._left_behind.pop(self.editor.state.reflection_id, None)  # this save carries newer text
        self._set_status("saving")
        session, version = self._session, self._version
        self._submit(lambda saved: self._finish(session, version, saved),
                     lambda exc: self._failed(session, exc))

    def _submit(self, on_result: Any, on_error: Any, snap: Any = None, is_saved: bool | None = None) -> None:
        """One job: the draft commits first (its own transaction), then the reflection drops it.

        A single job keeps every save of this editor in typing order on the serial executor; a
        process killed between the two writes leaves the draft for recovery at the next start.
        """
        if snap is None:
            snap, is_saved = self.editor.snapshot(), self.editor.is_saved_reflection
        client = self.client

        def job(svc: Any) -> tuple[m.Draft, m.Reflection | None]:
            draft = svc.save_draft(snap.content, draft_id=snap.draft_id,
                                   reflection_id=snap.reflection_id if is_saved else None,
                                   identity_id=snap.identity_id, metadata=snap.draft_metadata)
            if not snap.content.strip():
                return draft, None  # spec 2: content is required; the draft keeps an emptied text
            dated: dict[str, Any] = {}  # backdating and templates (issue 16) only when the person chose them
            if snap.created_at is not None:
                dated["created_at"] = snap.created_at
            if snap.template:
                dated["template"] = snap.template
            return draft, svc.save_reflection(
                snap.content, reflection_id=snap.reflection_id, identity_id=snap.identity_id,
                visibility=snap.visibility, tags=list(snap.tags), draft_id=snap.draft_id, **dated)

        def done(result: tuple[m.Draft, m.Reflection | None]) -> None:
            draft, saved = result
            client.draft_saved.emit(draft)
            if saved is not None:
                client.reflection_saved.emit(saved)
            on_result(saved)

        client.call(job, done, on_error)

    def _finish(self, session: int, version: int, saved: m.Reflection | None) -> None:
        if saved is not None:
            self.editor.mark_saved(saved)
            self.saved.emit(saved)
        if session != self._session:
            return  # the editor has moved on; that save belonged to the previous text
        self._in_flight = False
        if self.editor.banner.property("kind") == "error":
            self.editor.banner.hide()
            self.editor.banner.setProperty("kind", "")
        if version == self._version:
            self.dirty = False
            self._set_status("saved")
        else:
            self._set_status("unsaved")
        if self._again or (self.dirty and not self._debounce.isActive()):
            self._again = False
            self.save_now()

    def _failed(self, session: int, exc: BaseException) -> None:
        if session != self._session:
            self.client.operation_failed.emit(sentence(exc))
            return
        self._in_flight = False
        self._again = False
        self._set_status("failed")
        self.editor.banner.show_message(f"{sentence(exc)} Your text is still here; Mirror will try again.",
                                        [("Retry now", self.save_now)], kind="error")
        self._retry.start()

    def _stop_timers(self) -> None:
        self._debounce.stop()
        self._ceiling.stop()
        self._retry.stop()

    # -- hand-over -----------------------------------------------------------------------
    def commit(self) -> None:
        """Queue a save of whatever is unsaved now (switching reflections, quitting).

        The serial executor runs it after anything already queued, so a later read of this
        reflection sees it. At shutdown the callbacks may never run; the write itself is queued.
        """
        self._stop_timers()
        if self.dirty:
            self._save_left_behind(self.editor.snapshot(), self.editor.is_saved_reflection)
        self.dirty = False
        self._in_flight = False
        self._again = False
        self._session += 1
        self._version += 1

    def _save_left_behind(self, snap: Any, is_saved: bool) -> None:
        """Save text the editor is leaving; if that fails, retry until it lands (issue 3: nothing typed
        is lost, including on an error). A later save of the same reflection supersedes it."""
        rid = snap.reflection_id
        self._left_behind[rid] = snap

        def landed(_saved: Any) -> None:
            if self._left_behind.get(rid) is snap:
                del self._left_behind[rid]

        def failed(exc: BaseException) -> None:
            self.client.operation_failed.emit(sentence(exc))
            if self._left_behind.get(rid) is snap:
                QTimer.singleShot(RETRY_MS, self, lambda: self._retry_left_behind(snap, is_saved))

        self._submit(landed, failed, snap, is_saved)

    def _retry_left_behind(self, snap: Any, is_saved: bool) -> None:
        if self._left_behind.get(snap.reflection_id) is snap:
            self._save_left_behind(snap, is_saved)

    def reset(self) -> None:
        """A new reflection was loaded into the editor (after ``commit``)."""
        self.dirty = False
        self._again = False
        self.editor.banner.hide()
        self._set_status("saved")
