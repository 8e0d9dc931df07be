"""The database executor: every write on one serial thread; reads the person waits for on a lane of their own.

The GUI thread never touches the database (STYLE.md, habit 3). A job is a plain function taking the
open storage; it runs on a worker thread and its result or error is delivered to callbacks on the GUI
thread. Each storage is opened and closed on its own thread, because SQLite connections belong to the
thread that made them.

Three lanes (issue 12: a search queued at first paint waited 12–16 s behind the tension map's related-
reflections job at 100,000 reflections):
- ``write``: every write and every read that must see them, in submission order, on one connection;
- ``read``: reads the person is waiting for (the list, search, opening a reflection, a timeline) on a
  read connection of their own (WAL lets readers run beside the writer). A read asked for while writes are
  still queued goes to the write lane instead, behind them, so a read always sees what was written before it;
- ``background``: slow, cancellable work nobody waits for (related reflections, statistics), on its own
  connection and a low-priority thread, so it never holds up the other two.
Without ``open_reader`` (PostgreSQL, tests) the read and background lanes are the write lane.
"""

from __future__ import annotations

import itertools
import logging
import threading
import traceback
from dataclasses import dataclass, field
from typing import Any
from collections.abc import Callable

from PySide6.QtCore import QObject, QThread, Signal, Slot

log = logging.getLogger(__name__)

JobFn = Callable[[Any], Any]
# With a look-ahead (DatabaseExecutor ``peek``), the open waits at most this long for release_open().
PEEK_HOLD_S = 2.0


@dataclass
class Job:
    """One unit of database work and where its outcome goes."""

    fn: JobFn
    on_result: Callable[[Any], None] | None = None
    on_error: Callable[[BaseException], None] | None = None
    id: int = 0
    cancelled: bool = field(default=False)
    lane: str = "write"

    def cancel(self) -> None:
        """Skip the job if it has not started yet; its callbacks will not run."""
        self.cancelled = True


class _DatabaseThread(QThread):
    """A QThread whose event loop runs inside a Python frame.

    Slots of an object on a plain QThread get a fresh Python thread state for every call, and with it
    empty ``threading.local`` data: peewee's per-thread connection was dropped after every job, reopened
    for the next, and the dropped one was closed by the garbage collector at a random moment, which
    deadlocked inside SQLite's file locking while another thread opened the same journal (issue 12's
    read lanes). Running ``exec()`` from Python keeps one thread state for the thread's whole life.
    """

    def run(self) -> None:
        self.exec()


class _Worker(QObject):
    """Lives on the worker thread; owns the storage."""

    job_finished = Signal(object, object)  # (Job, result)
    job_failed = Signal(object, object)  # (Job, exception)
    opened = Signal(object)  # storage, once open
    open_failed = Signal(object)  # exception
    migration_progressed = Signal(int, int, str)  # (step, steps, version)
    peeked = Signal(object)  # what ``peek`` returned (None: it could not tell)
    closed = Signal()

    def __init__(self, open_storage: Callable[[], Any], peek: Callable[[], Any] | None = None,
                 hold: threading.Event | None = None) -> None:
        super().__init__()
        self._open_storage = open_storage
        self._peek = peek
        self._hold = hold
        self.storage: Any = None

    def _look_ahead(self) -> None:
        """Run ``peek`` before the open; when it told something, wait for the go-ahead (or PEEK_HOLD_S)."""
        peek, self._peek = self._peek, None
        try:
            found = peek() if peek is not None else None
        except Exception as exc:  # noqa: BLE001 - a look-ahead that fails is one that could not tell; the open decides
            log.debug("the look-ahead before the open failed: %s", type(exc).__name__)  # never its text (logging_setup)
            found = None
        self.peeked.emit(found)
        if found is not None and self._hold is not None:
            self._hold.wait(PEEK_HOLD_S)

    @Slot()
    def open(self) -> None:
        if self._peek is not None:
            self._look_ahead()
        try:
            self.storage = self._open_storage()
            # A storage opened with migrate=False still has its pending migrations; run them here,
            # step by step, so the window can show progress while its event loop keeps running.
            runner = getattr(self.storage, "runner", None)
            if runner is not None and runner.needs_migration():
                before = runner.current_version()
                steps = runner.migrate(progress=self._progress)
                from mirror_desktop.core.lifecycle import record_schema_change

                problem = record_schema_change(self.storage, "upgrade", before, runner.current_version(), steps)
                if problem:
                    log.warning("journal migrated: %s", problem)
                settle = getattr(self.storage, "settle_attachments", None)
                if settle is not None:
                    settle()  # a journal opened before its migrations: its attachments in place now (issue 19)
            if getattr(self.storage, "writing", None) is not None:
                from mirror_desktop.core.app_version import record_app_version

                problem = record_app_version(self.storage)   # another Mirror version than last time (issue 17)
                if problem:
                    log.warning("journal opened: %s", problem)
        except BaseException as exc:  # noqa: BLE001 - reported to the window as one sentence
            if self.storage is not None:
                try:
                    self.storage.close()
                except Exception:  # noqa: BLE001 - the open failure is what the user needs to see
                    pass
                self.storage = None
            self.open_failed.emit(exc)
            return
        self.opened.emit(self.storage)

    def _progress(self, step: int, steps: int, version: str) -> None:
        self.migration_progressed.emit(step, steps, version)

    @Slot(object)
    def run(self, job: Job) -> None:
        if job.cancelled:
            self.job_finished.emit(job, None)  # settles the count; a cancelled job's callbacks never run
            return
        if self.storage is None:
            self.job_failed.emit(job, RuntimeError("The journal is not open."))
            return
        try:
            result = job.fn(self.storage)
        except BaseException as exc:  # noqa: BLE001 - every failure goes back to the caller
            log.debug("job %s failed: %s", job.id, "".join(traceback.format_exception_only(exc)).strip())
            self.job_failed.emit(job, exc)
            return
        self.job_finished.emit(job, result)

    @Slot()
    def close(self) -> None:
        if self.storage is not None:
            try:
                self.storage.close()
            finally:
                self.storage = None
        self.closed.emit()
        # Quit from inside the thread, after every job queued before the close has run.
        self.thread().quit()


class _Lane(QObject):
    """A read-only lane: its own thread and connection, opened once the write lane has migrated the journal."""

    _submit = Signal(object)
    _open = Signal()
    _close = Signal()

    def __init__(self, name: str, open_storage: Callable[[], Any], priority: QThread.Priority,
                 on_finished: Callable[[Job, Any], None], on_failed: Callable[[Job, BaseException], None]) -> None:
        super().__init__()
        self.qthread = _DatabaseThread()
        self.qthread.setObjectName(name)
        self.priority = priority
        self.worker = _Worker(open_storage)
        self.worker.moveToThread(self.qthread)
        self._submit.connect(self.worker.run)
        self._open.connect(self.worker.open)
        self._close.connect(self.worker.close)
        self.worker.job_finished.connect(on_finished)
        self.worker.job_failed.connect(on_failed)
        self.worker.opened.connect(self._opened)
        self.qthread.finished.connect(self.worker.deleteLater)
        self.ready = False  # jobs go to the write lane until this lane's connection is open

    @Slot(object)
    def _opened(self, _storage: Any) -> None:
        self.ready = True

    def start(self) -> None:
        self.qthread.start(self.priority)
        self._open.emit()

    def submit(self, job: Job) -> None:
        self._submit.emit(job)

    def shutdown(self, timeout_ms: int) -> bool:
        self._close.emit()
        return bool(self.qthread.wait(timeout_ms))


class DatabaseExecutor(QObject):
    """Executor for database work: a serial write lane, and optional read and background lanes.

    Signals:
        opened(object): the storage finished opening (and migrating) on the worker thread.
        peeked(object): what ``peek`` found before the open (None when it could not tell); emitted once,
            before ``opened``.
        open_failed(object): opening raised; payload is the exception (its str is the user sentence).
        migration_progressed(int, int, str): (step, steps, version) while pending migrations run
            during the open; step == steps once the last one is applied.
        busy_changed(bool): True while jobs are queued or running.
    """

    opened = Signal(object)
    open_failed = Signal(object)
    migration_progressed = Signal(int, int, str)
    peeked = Signal(object)
    busy_changed = Signal(bool)
    _submit = Signal(object)
    _open = Signal()
    _close = Signal()

    def __init__(self, open_storage: Callable[[], Any], parent: QObject | None = None, *,
                 open_reader: Callable[[], Any] | None = None, defer_lanes: bool = False,
                 peek: Callable[[], Any] | None = None) -> None:
        super().__init__(parent)
        self._ids = itertools.count(1)
        # submit() may be called from the integrations poller's thread too (issue 14): the counters are shared.
        self._count_lock = threading.Lock()
        self._pending = 0
        self._writes_pending = 0
        self._lanes: dict[str, _Lane] = {}
        self._open_reader = open_reader
        # defer_lanes: the window opens the read and background connections itself (start_lanes) once its
        # first page is shown, so that opening them does not compete with the first paint (issue 12).
        if open_reader is not None and not defer_lanes:
            self.opened.connect(self._start_lanes)
        self._thread = _DatabaseThread()
        self._thread.setObjectName("mirror-db")
        # peek: a cheap look on the worker thread before the open (the window's first page, issue 12). When it
        # finds something, the open waits for release_open() (the window calls it after its first paint), so
        # that loading the storage does not compete with the first frame for the interpreter.
        self.peeking = peek is not None
        self._hold = threading.Event()
        self._worker = _Worker(open_storage, peek, self._hold)
        self._worker.moveToThread(self._thread)
        self._submit.connect(self._worker.run)
        self._open.connect(self._worker.open)
        self._close.connect(self._worker.close)
        self._worker.job_finished.connect(self._on_finished)
        self._worker.job_failed.connect(self._on_failed)
        self._worker.opened.connect(self.opened)
        self._worker.open_failed.connect(self.open_failed)
        self._worker.migration_progressed.connect(self.migration_progressed)
        self._worker.peeked.connect(self.peeked)
        self._thread.finished.connect(self._worker.deleteLater)
        self._running = False

    def start(self) -> None:
        """Start the worker thread and open the storage there.

        Migrations run inside the open: either the callable migrates itself, or it opens with
        ``migrate=False`` and the worker runs the pending ones, emitting ``migration_progressed``.
        """
        if not self._running:
            self._thread.start()
            self._running = True
            self._open.emit()

    def release_open(self) -> None:
        """Let the open go on after a look-ahead found something (a no-op otherwise, and when repeated)."""
        self._hold.set()

    @property
    def started(self) -> bool:
        """start() was called: jobs submitted now run after the open (a job queued before start() would not)."""
        return self._running

    @Slot()
    def _start_lanes(self) -> None:
        if self._open_reader is None or self._lanes:
            return
        for name, priority in (("read", QThread.Priority.NormalPriority), ("background", QThread.Priority.LowPriority)):
            self._lanes[name] = lane = _Lane(f"mirror-db-{name}", self._open_reader, priority, self._on_finished,
                                             self._on_failed)
            lane.start()

    def close_lanes(self, timeout_ms: int = 30000) -> bool:
        """Close the read and background connections (before the journal file is swapped by an import);
        until ``reopen_lanes`` every job runs on the write lane. Jobs already queued there still run first."""
        lanes, self._lanes = self._lanes, {}
        return all([lane.shutdown(timeout_ms) for lane in lanes.values()])

    def reopen_lanes(self) -> None:
        """Open new read and background connections, to the journal file as it is now."""
        if self._running:
            self._start_lanes()

    start_lanes = reopen_lanes  # with defer_lanes: open them now (a no-op when they are open)

    def submit(self, fn: JobFn, on_result: Callable[[Any], None] | None = None,
               on_error: Callable[[BaseException], None] | None = None, *, lane: str = "write") -> Job:
        """Queue ``fn(storage)`` on a lane ("write", "read" or "background"); callbacks run on the GUI thread.

        Safe to call from another thread (the integrations poller does, with no callbacks).

        A read while writes are queued runs on the write lane, after them (reads see what was written).
        """
        if lane == "read" and self._writes_pending:
            lane = "write"
        target = self._lanes.get(lane)
        if target is not None and not target.ready:
            target = None
        with self._count_lock:
            job = Job(fn, on_result, on_error, next(self._ids), lane="write" if target is None else lane)
            self._pending += 1
            if job.lane == "write":
                self._writes_pending += 1
            became_busy = self._pending == 1
        if became_busy:
            self.busy_changed.emit(True)
        if target is None:
            self._submit.emit(job)
        else:
            target.submit(job)
        return job

    def run_and_wait(self, fn: JobFn, *, lane: str = "write", cancelled: Callable[[], bool] = lambda: False,
                     cancelled_error: Callable[[], BaseException] | None = None) -> Any:
        """``fn(storage)`` as a job, waited for on the calling (non-GUI) thread; its result, or its error raised here.

        While it waits, ``cancelled()`` is asked every 50 ms: a job not started yet is then skipped and
        ``cancelled_error()`` raised (a job already running finishes: it checks for Cancel itself). The
        import task and the integrations poller wait for their database work this way.
        """
        done = threading.Event()
        lock = threading.Lock()
        box: dict[str, Any] = {}

        def job(storage: Any) -> None:
            with lock:
                if box.get("skipped") or cancelled():
                    box["skipped"] = True
                    done.set()
                    return
                box["started"] = True
            try:
                box["result"] = fn(storage)
            except BaseException as exc:  # noqa: BLE001 - raised again on the waiting thread
                box["error"] = exc
            finally:
                done.set()

        def refused(exc: BaseException) -> None:
            # The executor could not run the job at all (its journal closed): only an event is set here.
            box["error"] = exc
            done.set()

        submitted = self.submit(job, None, refused, lane=lane)
        while not done.wait(0.05):
            if cancelled():
                with lock:
                    if not box.get("started"):
                        box["skipped"] = True
                        submitted.cancel()
                        break
        if box.get("skipped"):
            raise cancelled_error() if cancelled_error is not None else RuntimeError("the job was cancelled")
        if "error" in box:
            raise box["error"]
        return box.get("result")

    def on_write_lane(self) -> bool:
        """Whether the calling thread is the write lane's (a job there must not wait for another write job)."""
        return QThread.currentThread() is self._thread

    @property
    def pending(self) -> int:
        return self._pending

    def _settle(self, job: Job) -> None:
        with self._count_lock:
            self._pending -= 1
            if job.lane == "write":
                self._writes_pending -= 1
            idle = self._pending == 0
        if idle:
            self.busy_changed.emit(False)

    @Slot(object, object)
    def _on_finished(self, job: Job, result: Any) -> None:
        self._settle(job)
        if not job.cancelled and job.on_result is not None:
            job.on_result(result)

    @Slot(object, object)
    def _on_failed(self, job: Job, exc: BaseException) -> None:
        self._settle(job)
        if job.cancelled:
            return
        if job.on_error is not None:
            job.on_error(exc)
        else:
            log.error("database job failed: %s", exc)

    def shutdown(self, timeout_ms: int = 30000) -> bool:
        """Finish queued jobs, close the storage on its thread, stop the thread and wait for it."""
        if not self._running:
            return True
        self.release_open()  # an open still held after a look-ahead goes on, then closes
        ok = self.close_lanes(timeout_ms)
        self._close.emit()
        ok = bool(self._thread.wait(timeout_ms)) and ok
        self._running = False
        return ok
