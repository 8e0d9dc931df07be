"""Export and import as background jobs: a QThread per job, progress and Cancel, results on the GUI thread.

The task bodies are the plain functions of ``mirror_desktop.bundle`` (they take a state object with
``set_progress``/``is_cancelled``); this module only runs them off the GUI thread and turns their
outcome into signals. The one step that must touch the window's own connection — swapping the
journal file on a replace — runs as a job on the serial DatabaseExecutor instead (``replace_job``).
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any
from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal, Slot

from mirror_desktop.core.errors import MirrorError
from mirror_desktop.paths import AppPaths

log = logging.getLogger(__name__)
TaskFn = Callable[[Any], Any]


def sentence(exc: BaseException) -> str:
    if isinstance(exc, MirrorError):
        return str(exc)
    if isinstance(exc, OSError):
        return f"{exc.strerror or exc} ({exc.filename or 'file system'}); check the folder and the free space, then try again."
    log.error("bundle job failed: %r", exc)
    return "The operation failed unexpectedly; nothing was changed. Please try again."


class BundleJob(QObject):
    """Runs one task on its own thread.

    Signals:
        progress_changed(int, str): (percent 0..100, the current step's name).
        finished(object): the task's result (ExportResult, PreparedImport or ImportResult).
        failed(str): one sentence for the person; nothing was changed.
        cancelled(): the person pressed Cancel and the task stopped at a safe point.
    """

    progress_changed = Signal(int, str)
    finished = Signal(object)
    failed = Signal(str)
    cancelled = Signal()

    def __init__(self, task: TaskFn) -> None:
        super().__init__()
        self._task = task
        self._cancel = threading.Event()

    # -- the JobState protocol, called from the worker thread --------------------------------------
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
        from mirror_desktop.bundle.errors import OperationCancelled

        try:
            result = self._task(self)
        except OperationCancelled:
            self.cancelled.emit()
        except BaseException as exc:  # noqa: BLE001 - every failure becomes one sentence
            self.failed.emit(sentence(exc))
        else:
            self.finished.emit(result)
        finally:
            # Hand the object back to the GUI thread so it is deleted there, then stop this thread.
            thread = self.thread()
            app = QCoreApplication.instance()
            if app is not None:
                self.moveToThread(app.thread())
            thread.quit()


class BundleRunner(QObject):
    """Starts jobs on their own QThreads and keeps a reference to each until it has stopped."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._running: list[tuple[QThread, BundleJob]] = []

    def start(self, task: TaskFn, connect: Callable[[BundleJob], None] | None = None) -> BundleJob:
        """Run ``task`` on a new thread; ``connect(job)`` wires signals before it can emit any."""
        thread = QThread()
        thread.setObjectName("mirror-bundle")
        job = BundleJob(task)
        if connect is not None:
            connect(job)
        job.moveToThread(thread)
        thread.started.connect(job.run)
        thread.finished.connect(self._reap)
        self._running.append((thread, job))
        thread.start()
        return job

    @Slot()
    def _reap(self) -> None:
        self._running = [(t, j) for t, j in self._running if t.isRunning()]

    @property
    def busy(self) -> bool:
        return any(t.isRunning() for t, _ in self._running)

    def shutdown(self, timeout_ms: int = 30000) -> None:
        """Cancel every job and wait for its thread (the window calls this on close)."""
        for _thread, job in self._running:
            job.cancel()
        for thread, _ in self._running:
            thread.wait(timeout_ms)
        self._running.clear()


# -- task bodies ----------------------------------------------------------------------------------------

def export_task(paths: AppPaths, out_dir: Path, *, passphrase: str | None, share: bool) -> TaskFn:
    """Export on a connection of the job's own thread (WAL lets the window keep writing)."""
    def run(state: Any) -> Any:
        from mirror_desktop.bundle.export import export_bundle
        from mirror_desktop.storage.journal import SQLiteStorage

        storage = SQLiteStorage(paths.database, migrate=False, create=False)
        try:
            return export_bundle(storage, out_dir, paths=paths, passphrase=passphrase, share=share, state=state)
        finally:
            storage.close()
    return run


def prepare_task(paths: AppPaths, bundle: Path, *, passphrase: str | None) -> TaskFn:
    """Every check and the staging journal; the live journal is not touched."""
    def run(state: Any) -> Any:
        from mirror_desktop.bundle.importer import prepare_import

        return prepare_import(bundle, paths, passphrase=passphrase, state=state)
    return run


def commit_job(prepared: Any, paths: AppPaths, mode: str) -> Callable[[Any], Any]:
    """A DatabaseExecutor job: commit the import on the executor's thread.

    replace: the executor's connection is closed first so the file can be swapped; peewee reopens
    it (same path, same pragmas, now the new journal) on the next job. merge: one transaction on
    the executor's own connection.
    """
    def run(opened: Any) -> Any:
        from mirror_desktop.bundle.importer import commit_import

        storage = getattr(opened, "storage", opened)
        if mode == "replace":
            storage.close()
            return commit_import(prepared, paths, mode="replace")
        return commit_import(prepared, paths, mode="merge", storage=storage)
    return run
