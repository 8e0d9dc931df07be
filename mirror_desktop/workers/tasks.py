"""BackgroundTask: non-database work off the GUI thread — progress, Cancel, the outcome as signals.

Electrum's TaskThread and Orange3's tasks are the models: a task body is a plain function taking a small
state object (``set_progress``/``is_cancelled``, the JobState protocol of ``core.progress``), so the CLI and
the tests call the same function directly. Here it runs on a QThread of its own and its outcome comes back
as queued signals, handled on the GUI thread. Database work never runs here: it goes to the serial
DatabaseExecutor through a feature client. Used for bundle export/import, engine calls, keychain probes.
"""

from __future__ import annotations

import logging
import threading
from typing import Any
from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal, Slot

from mirror_desktop.core.errors import OperationCancelled

log = logging.getLogger(__name__)
_ABANDONED: list[tuple[QThread, BackgroundTask]] = []
TaskFn = Callable[[Any], Any]


class BackgroundTask(QObject):
    """Runs one task body on its own thread.

    Signals:
        progress_changed(int, str): (percent 0..100, the current step's name).
        finished(object): the task's result.
        failed(object): the exception the task raised (its str is the sentence for a MirrorError).
        cancelled(): the person pressed Cancel and the task stopped at a safe point.
    """

    progress_changed = Signal(int, str)
    finished = Signal(object)
    failed = Signal(object)
    cancelled = Signal()

    def __init__(self, task: TaskFn) -> None:
        super().__init__()
        self._task = task
        self._cancel = threading.Event()

    # -- the JobState protocol, called from the task's thread -------------------------------------
    def set_progress(self, fraction: float, message: str = "") -> None:
        self.progress_changed.emit(int(round(max(0.0, min(fraction, 1.0)) * 100)), message)

    def is_cancelled(self) -> bool:
        return self._cancel.is_set()

    @Slot()
    def cancel(self) -> None:
        """Ask the task to stop; safe from any thread (connect to it with a direct connection)."""
        self._cancel.set()

    @Slot()
    def run(self) -> None:
        try:
            result = self._task(self)
        except OperationCancelled:
            self.cancelled.emit()
        except BaseException as exc:  # noqa: BLE001 - every failure goes back to the asker
            self.failed.emit(exc)
        else:
            self.finished.emit(result)
        finally:
            # Hand the object back to the GUI thread so it is deleted there, then stop this thread.
            thread = self.thread()
            app = QCoreApplication.instance()
            if app is not None:
                self.moveToThread(app.thread())
            thread.quit()


class TaskRunner(QObject):
    """Starts tasks on their own QThreads and keeps a reference to each until it has stopped."""

    def __init__(self, name: str = "mirror-task", parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._name = name
        self._running: list[tuple[QThread, BackgroundTask]] = []
        # Kept here, not parented: a parent's teardown and a delivery's own clean-up deleted one object twice.
        self._deliveries: set[_Delivery] = set()

    def start(self, task: TaskFn, connect: Callable[[BackgroundTask], None] | None = None) -> BackgroundTask:
        """Run ``task(state)`` on a new thread; ``connect(task)`` wires signals before it can emit any."""
        thread = QThread()
        thread.setObjectName(self._name)
        job = BackgroundTask(task)
        if connect is not None:
            connect(job)
        job.moveToThread(thread)
        thread.started.connect(job.run)
        thread.finished.connect(self._reap)
        self._running.append((thread, job))
        thread.start()
        return job

    def run(self, fn: Callable[[], Any], on_result: Callable[[Any], None],
            on_error: Callable[[BaseException], None] | None = None) -> BackgroundTask:
        """The short form: ``fn()`` off the GUI thread, its result (or exception) to a callback on the GUI thread."""
        delivery = _Delivery(on_result, on_error or _log_failure, self._deliveries.discard)
        self._deliveries.add(delivery)

        def connect(job: BackgroundTask) -> None:
            # To slots of an object living on this (the GUI) thread, so the calls are queued here (STYLE.md,
            # habit 7): a lambda connected to the task's signal would run on the task's thread.
            job.finished.connect(delivery.deliver)
            job.failed.connect(delivery.fail)

        return self.start(lambda _state: fn(), connect)

    @Slot()
    def _reap(self) -> None:
        self._running = [(t, j) for t, j in self._running if t.isRunning()]

    @property
    def busy(self) -> bool:
        return any(t.isRunning() for t, _ in self._running)

    def shutdown(self, timeout_ms: int = 30000) -> bool:
        """Cancel every task and wait for its thread (the window calls this on close)."""
        for _thread, job in self._running:
            job.cancel()
        ok = all(thread.wait(timeout_ms) for thread, _ in self._running)
        # A task stuck in a call that cannot be interrupted (a hung keychain) is abandoned, not waited for;
        # its thread must outlive this runner, or Qt aborts on destroying a running QThread.
        _ABANDONED.extend(item for item in self._running if item[0].isRunning())
        self._running.clear()
        return ok


class _Delivery(QObject):
    """Carries one task's outcome to its callbacks on the thread this object lives on, then lets go of itself."""

    def __init__(self, on_result: Callable[[Any], None], on_error: Callable[[BaseException], None],
                 forget: Callable[[_Delivery], None]) -> None:
        super().__init__()
        self._on_result, self._on_error, self._forget = on_result, on_error, forget

    @Slot(object)
    def deliver(self, result: Any) -> None:
        self._forget(self)
        self._on_result(result)

    @Slot(object)
    def fail(self, exc: BaseException) -> None:
        self._forget(self)
        self._on_error(exc)


def _log_failure(exc: BaseException) -> None:
    log.error("background task failed: %s", type(exc).__name__)
