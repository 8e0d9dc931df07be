"""SyncClient and the sync thread: the window's road to sync between devices (issue 18, item 7).

Sync runs on a QThread of its own with its own connection to the journal file (SQLite lets the
window's executor and this thread write in turn), so a first sync of 100,000 reflections never
holds up typing. The thread's loop syncs on a schedule, when the server NOTIFYs that another device
pushed (LISTEN on the account's channel), and on "Sync now"; setup, leave and identity links run
on the same thread, one at a time. The PostgreSQL driver loads there, on first use, never at start-up.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from mirror_desktop.core.errors import MirrorError
from mirror_desktop.workers.base import FeatureClient, sentence
from mirror_desktop.workers.executor import DatabaseExecutor

log = logging.getLogger(__name__)

SCHEDULE_S = 300.0       # a sync every five minutes while the window is open
RETRY_MAX_S = 3600.0     # after failures, wait doubling from a minute up to an hour
LISTEN_SLICE_S = 0.5     # how often the loop looks up from LISTEN (quit stays prompt)


class _SyncWorker(QObject):
    """Lives on the sync QThread; ``run`` is the loop."""

    sync_started = Signal()
    sync_finished = Signal(object)
    sync_failed = Signal(str)
    call_done = Signal(int, object)
    call_failed = Signal(int, str)

    def __init__(self, schedule_s: float) -> None:
        super().__init__()
        self.schedule_s = schedule_s
        self.location: str | None = None
        self.enabled = False
        self.calls: queue.SimpleQueue[tuple[int, Callable[[Any], Any]]] = queue.SimpleQueue()
        self.requested = threading.Event()
        self.wake = threading.Event()
        self.stop = threading.Event()
        self._service: Any = None
        self._listener: Any = None
        self._failures = 0
        self.next_due = 0.0  # the loop's next scheduled sync (monotonic); 0: at once

    def _svc(self) -> Any:
        if self._service is None:
            from mirror_desktop.sync.service import open_service

            assert self.location is not None
            self._service = open_service(self.location)
        return self._service

    def _close(self) -> None:
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        if self._service is not None:
            self._service.storage.close()
            self._service = None

    def _listen(self) -> None:
        """LISTEN for other devices' pushes (best effort: without it the schedule still runs)."""
        if self._listener is not None or not self.enabled:
            return
        try:
            from mirror_desktop.sync.server import Listener

            state = self._svc().journal.state()
            self._listener = Listener(self._svc()._dsn(state))
        except Exception:  # noqa: BLE001 - no wake-ups is not an error the person must see
            self._listener = None

    def _sync(self) -> None:
        self.sync_started.emit()
        try:
            report = self._svc().sync_now()
        except MirrorError as exc:
            self._failures += 1
            self.sync_failed.emit(str(exc))
            return
        except Exception as exc:  # noqa: BLE001 - the loop must never take the window down
            self._failures += 1
            self.sync_failed.emit(sentence(exc))
            return
        self._failures = 0
        self.sync_finished.emit(report)
        self._listen()

    @Slot()
    def run(self) -> None:
        self.next_due = self.next_due or time.monotonic()
        try:
            while not self.stop.is_set():
                while True:
                    try:
                        token, fn = self.calls.get_nowait()
                    except queue.Empty:
                        break
                    try:
                        self.call_done.emit(token, fn(self._svc()))
                    except Exception as exc:  # noqa: BLE001 - answered to the caller as a sentence
                        self.call_failed.emit(token, sentence(exc))
                if self.stop.is_set():
                    break
                now = time.monotonic()
                if self.enabled and (self.requested.is_set() or now >= self.next_due):
                    self.requested.clear()
                    self._sync()
                    delay = self.schedule_s if not self._failures else min(60.0 * 2 ** (self._failures - 1), RETRY_MAX_S)
                    self.next_due = time.monotonic() + delay
                    continue
                if self._listener is not None:
                    try:
                        if self._listener.wait(LISTEN_SLICE_S):
                            self.requested.set()  # another device pushed: pull now
                    except MirrorError:
                        self._listener.close()
                        self._listener = None
                else:
                    self.wake.wait(LISTEN_SLICE_S)
                    self.wake.clear()
        finally:
            self._close()
            self.thread().quit()


class SyncClient(FeatureClient):
    """Sync for the window.

    Signals:
        status_loaded(dict): the journal's sync status (``mirror sync status``'s fields).
        sync_started(): a sync began on the sync thread.
        sync_finished(object): a sync ended; payload is its SyncReport (``summary()`` in words).
        sync_failed(str): a sync failed; payload is its one sentence.
        set_up(dict): this device joined an account; payload is what setup returned.
        left(): this device stopped syncing.
    """

    status_loaded = Signal(dict)
    sync_started = Signal()
    sync_finished = Signal(object)
    sync_failed = Signal(str)
    set_up = Signal(dict)
    left = Signal()

    def __init__(self, executor: DatabaseExecutor, parent: QObject | None = None, *,
                 schedule_s: float = SCHEDULE_S) -> None:
        super().__init__(executor, lambda storage: storage, parent)
        self.qthread = QThread()
        self.qthread.setObjectName("mirror-sync")
        self.worker = _SyncWorker(schedule_s)
        self.worker.moveToThread(self.qthread)
        self.qthread.started.connect(self.worker.run)
        self.worker.sync_started.connect(self.sync_started)
        self.worker.sync_finished.connect(self._finished)
        self.worker.sync_failed.connect(self._failed_sync)
        self.worker.call_done.connect(self._call_done)
        self.worker.call_failed.connect(self._call_failed)
        self._callbacks: dict[int, tuple[Callable[[Any], None] | None, Callable[[str], None] | None]] = {}
        self._next = 0
        self.status: dict[str, Any] = {}
        self.last_report: Any = None
        self.last_error: str | None = None

    # -- state -----------------------------------------------------------------------------
    def load_status(self, on_result: Callable[[dict[str, Any]], None] | None = None) -> None:
        """Read the journal's sync status (on the executor's read lane); starts the thread when sync is on."""
        def run(storage: Any) -> dict[str, Any]:
            from mirror_desktop.sync.state import local_status

            return local_status(storage)

        def loaded(status: dict[str, Any]) -> None:
            self.status = status
            self.worker.location = status.get("location") or None
            self.worker.enabled = bool(status.get("enabled"))
            if self.worker.enabled or not self.worker.calls.empty():
                self._start()  # sync is on, or a setup asked before the journal's place was known
            self.status_loaded.emit(status)
            if on_result is not None:
                on_result(status)
        self.query(run, loaded, lambda exc: None)

    def _start(self) -> None:
        if not self.qthread.isRunning() and self.worker.location:
            self.worker.stop.clear()
            self.qthread.start(QThread.Priority.LowPriority)

    # -- calls on the sync thread -------------------------------------------------------------
    def _on_thread(self, fn: Callable[[Any], Any], on_result: Callable[[Any], None] | None,
                   on_error: Callable[[str], None] | None) -> None:
        self._next += 1
        self._callbacks[self._next] = (on_result, on_error)
        self.worker.calls.put((self._next, fn))
        self._start()
        self.worker.wake.set()

    def _call_done(self, token: int, result: object) -> None:
        ok, _err = self._callbacks.pop(token, (None, None))
        if ok is not None:
            ok(result)

    def _call_failed(self, token: int, message: str) -> None:
        _ok, err = self._callbacks.pop(token, (None, None))
        (err or self.operation_failed.emit)(message)

    def setup(self, dsn: str, passphrase: str, device_name: str, on_error: Callable[[str], None], *,
              sync_after: bool = True) -> None:
        """Join the account (scrypt and the server: seconds, off the GUI thread); then sync at once.

        ``sync_after=False``: the caller starts the first sync itself (File → Sync… asks about other
        devices' identities first), and the schedule waits its full period.
        """
        def run(svc: Any) -> dict[str, Any]:
            result = svc.setup(dsn, passphrase, device_name=device_name or None, session_ok=True)
            if not sync_after:
                self.worker.next_due = time.monotonic() + self.worker.schedule_s
            return dict(result)

        def done(result: dict[str, Any]) -> None:
            self.worker.enabled = True
            self.set_up.emit(result)
            if sync_after:
                self.sync_now()
        self._on_thread(run, done, on_error)

    def ask_identities(self, on_result: Callable[[dict[str, Any]], None], on_error: Callable[[str], None]) -> None:
        """Before a sync the person started: pull, and list other devices' identities not answered yet
        (``questions``) with this journal's identities to choose from (``identities``)."""
        def run(svc: Any) -> dict[str, Any]:
            return {"questions": svc.incoming_identities(),
                    "identities": sorted(((i.id, i.name) for i in svc.storage.identities.list()),
                                         key=lambda p: p[1].casefold())}
        self._on_thread(run, on_result, on_error)

    def answer_identities(self, answers: list[dict[str, Any]], on_result: Callable[[Any], None],
                          on_error: Callable[[str], None]) -> None:
        """Store where each identity goes (never asked again); a bad name changes nothing and says why."""
        self._on_thread(lambda svc: svc.answer_identities(answers), on_result, on_error)

    def leave(self, on_error: Callable[[str], None]) -> None:
        def done(_result: object) -> None:
            self.worker.enabled = False
            self.last_report = None
            self.left.emit()
            self.load_status()
        self._on_thread(lambda svc: svc.leave(), done, on_error)

    def identity_links(self, on_result: Callable[[dict[str, Any]], None]) -> None:
        """Other devices' identities that landed here, and this journal's identities to link them to."""
        def run(svc: Any) -> dict[str, Any]:
            return {"links": svc.identity_links(),
                    "identities": sorted(((i.id, i.name) for i in svc.storage.identities.list()),
                                         key=lambda p: p[1].casefold())}
        self._on_thread(run, on_result, None)

    def link_identity(self, identity_key: str, identity_id: str, on_result: Callable[[Any], None] | None = None) -> None:
        self._on_thread(lambda svc: svc.link_identity(identity_key, identity_id), on_result, None)

    def sync_now(self) -> None:
        if self.worker.location is None:
            return
        self.worker.requested.set()
        self._start()
        self.worker.wake.set()

    # -- outcomes ----------------------------------------------------------------------------
    def _finished(self, report: object) -> None:
        self.last_report = report
        self.last_error = None
        self.sync_finished.emit(report)
        self.load_status()

    def _failed_sync(self, message: str) -> None:
        self.last_error = message
        self.sync_failed.emit(message)
        self.load_status()

    def shutdown(self, timeout_ms: int = 10000) -> bool:
        """Stop the loop (a sync in flight finishes its step; every step commits on its own) and wait."""
        self.worker.stop.set()
        self.worker.wake.set()
        if not self.qthread.isRunning():
            return True
        return bool(self.qthread.wait(timeout_ms))
