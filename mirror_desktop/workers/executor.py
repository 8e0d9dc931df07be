"""The serial database executor: one worker thread runs every query and write, results return as signals.

The GUI thread never touches the database (STYLE.md, habit 3). A job is a plain function taking the
open storage; it runs on the worker thread, in submission order, and its result or error is
delivered to callbacks on the GUI thread. The storage is opened and closed on the worker thread
itself, because SQLite connections belong to the thread that made them.
"""

from __future__ import annotations

import itertools
import logging
import traceback
from dataclasses import dataclass, field
from typing import Any
from collections.abc import Callable

from PySide6.QtCore import QObject, QThread, Signal, Slot

log = logging.getLogger(__name__)

JobFn = Callable[[Any], Any]


@dataclass
class Job:
    """One unit of database work and where its outcome goes."""

    fn: JobFn
    on_result: Callable[[Any], None] | None = None
    on_error: Callable[[BaseException], None] | None = None
    id: int = 0
    cancelled: bool = field(default=False)

    def cancel(self) -> None:
        """Skip the job if it has not started yet; its callbacks will not run."""
        self.cancelled = True


class _Worker(QObject):
    """Lives on the worker thread; owns the storage."""

    job_finished = Signal(object, object)  # (Job, result)
    job_failed = Signal(object, object)  # (Job, exception)
    opened = Signal(object)  # storage, once open
    open_failed = Signal(object)  # exception
    migration_progressed = Signal(int, int, str)  # (step, steps, version)
    closed = Signal()

    def __init__(self, open_storage: Callable[[], Any]) -> None:
        super().__init__()
        self._open_storage = open_storage
        self.storage: Any = None

    @Slot()
    def open(self) -> None:
        try:
            self.storage = self._open_storage()
            # A storage opened with migrate=False still has its pending migrations; run them here,
            # step by step, so the window can show progress while its event loop keeps running.
            runner = getattr(self.storage, "runner", None)
            if runner is not None and runner.needs_migration():
                runner.migrate(progress=self._progress)
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


class DatabaseExecutor(QObject):
    """Serial executor for database work.

    Signals:
        opened(object): the storage finished opening (and migrating) on the worker thread.
        open_failed(object): opening raised; payload is the exception (its str is the user sentence).
        migration_progressed(int, int, str): (step, steps, version) while pending migrations run
            during the open; step == steps once the last one is applied.
        busy_changed(bool): True while jobs are queued or running.
    """

    opened = Signal(object)
    open_failed = Signal(object)
    migration_progressed = Signal(int, int, str)
    busy_changed = Signal(bool)
    _submit = Signal(object)
    _open = Signal()
    _close = Signal()

    def __init__(self, open_storage: Callable[[], Any], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._ids = itertools.count(1)
        self._pending = 0
        self._thread = QThread()
        self._thread.setObjectName("mirror-db")
        self._worker = _Worker(open_storage)
        self._worker.moveToThread(self._thread)
        self._submit.connect(self._worker.run)
        self._open.connect(self._worker.open)
        self._close.connect(self._worker.close)
        self._worker.job_finished.connect(self._on_finished)
        self._worker.job_failed.connect(self._on_failed)
        self._worker.opened.connect(self.opened)
        self._worker.open_failed.connect(self.open_failed)
        self._worker.migration_progressed.connect(self.migration_progressed)
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

    def submit(self, fn: JobFn, on_result: Callable[[Any], None] | None = None,
               on_error: Callable[[BaseException], None] | None = None) -> Job:
        """Queue ``fn(storage)``; ``on_result``/``on_error`` run later on the GUI thread."""
        job = Job(fn, on_result, on_error, next(self._ids))
        self._pending += 1
        if self._pending == 1:
            self.busy_changed.emit(True)
        self._submit.emit(job)
        return job

    @property
    def pending(self) -> int:
        return self._pending

    def _settle(self) -> None:
        self._pending -= 1
        if self._pending == 0:
            self.busy_changed.emit(False)

    @Slot(object, object)
    def _on_finished(self, job: Job, result: Any) -> None:
        self._settle()
        if not job.cancelled and job.on_result is not None:
            job.on_result(result)

    @Slot(object, object)
    def _on_failed(self, job: Job, exc: BaseException) -> None:
        self._settle()
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
        self._close.emit()
        ok = self._thread.wait(timeout_ms)
        self._running = False
        return bool(ok)
