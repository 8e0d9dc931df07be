"""BundlesClient: export and import for the window — BackgroundTasks with progress and Cancel, results as signals.

The task bodies are the plain functions of ``mirror_desktop.bundle`` (they take a state object with
``set_progress``/``is_cancelled``); this module only runs them off the GUI thread. The one step that
must touch the window's own connection — the commit (a merge, or swapping the journal file on a
replace) — runs as a job on the serial DatabaseExecutor instead (``commit_job``).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from mirror_desktop.core.errors import MirrorError
from mirror_desktop.keychain import PassphraseStore
from mirror_desktop.paths import AppPaths
from mirror_desktop.workers.tasks import BackgroundTask, TaskFn, TaskRunner

log = logging.getLogger(__name__)


def sentence(exc: BaseException) -> str:
    if isinstance(exc, MirrorError):
        return str(exc)
    if isinstance(exc, OSError):
        return f"{exc.strerror or exc} ({exc.filename or 'file system'}); check the folder and the free space, then try again."
    log.error("bundle job failed: %r", exc)
    return "The operation failed unexpectedly; nothing was changed. Please try again."


def looks_encrypted(path: Path) -> bool:
    """True when ``path`` is an age file (the import dialog then asks for a passphrase); reads 40 bytes."""
    from mirror_desktop.bundle.importer import is_encrypted

    try:
        return path.is_file() and is_encrypted(path)
    except Exception:  # noqa: BLE001 - the import itself will say what is wrong with the file
        return False


class BundlesClient(QObject):
    """Export and import for the window: the task bodies on BackgroundTasks, the commit on the executor.

    Signals:
        export_finished(object): a bundle was written and verified; payload is the ExportResult.
        import_finished(object): an import was committed (the journal changed); payload is the ImportResult.
    """

    export_finished = Signal(object)
    import_finished = Signal(object)

    def __init__(self, executor: Any, paths: AppPaths, *, store: PassphraseStore | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.executor = executor
        self.paths = paths
        self.store = store or PassphraseStore()
        self.tasks = TaskRunner("mirror-bundle", self)

    # -- keychain, off the GUI thread (RELIABILITY.md: a hanging keyring never freezes the window) --
    def probe_keychain(self, then: Callable[[bool, str | None], None]) -> None:
        """Ask the keychain whether it exists and what it remembers, in the background, then ``then``."""
        store = self.store

        def probe() -> tuple[bool, str | None]:
            try:
                return bool(store.has_keychain), store.load()
            except Exception:  # noqa: BLE001 - a broken keychain means "none", never a crash
                return False, None

        self.tasks.run(probe, lambda state: then(*state))

    def journal_is_empty(self, on_result: Callable[[bool], None]) -> None:
        """Whether the journal holds nothing the person made (its default tensions do not count): an import
        into it is a restore, not a merge (issue 11)."""
        from mirror_desktop.core.services import journal_is_empty

        self.executor.submit(journal_is_empty, on_result, lambda _exc: on_result(False))

    def remember(self, passphrase: str) -> None:
        store = self.store
        self.tasks.run(lambda: store.save(passphrase), lambda _r: None)

    # -- the long steps, each a BackgroundTask the caller wires (progress, Cancel) ----------------
    def export(self, folder: Path, *, passphrase: str | None, share: bool,
               connect: Callable[[BackgroundTask], None]) -> BackgroundTask:
        def wire(job: BackgroundTask) -> None:
            connect(job)
            job.finished.connect(self.export_finished)
        return self.tasks.start(export_task(self.paths, folder, passphrase=passphrase, share=share), wire)

    def prepare_import(self, bundle: Path, *, passphrase: str | None, connect: Callable[[BackgroundTask], None],
                       allow_slow_passphrase: bool = False) -> BackgroundTask:
        return self.tasks.start(prepare_task(self.paths, bundle, passphrase=passphrase,
                                             allow_slow_passphrase=allow_slow_passphrase), connect)

    def commit_import(self, prepared: Any, mode: str, on_result: Callable[[Any], None],
                      on_error: Callable[[BaseException], None]) -> None:
        """The swap or merge, on the executor after every job already queued there (typing is saved first)."""
        def done(result: Any) -> None:
            if mode == "replace":
                self.executor.reopen_lanes()  # read connections to the journal that is there now
            self.import_finished.emit(result)
            on_result(result)

        def failed(exc: BaseException) -> None:
            if mode == "replace":
                self.executor.reopen_lanes()
            on_error(exc)

        if mode == "replace":
            # Nothing may keep the old file open across the swap: the read lanes close first (issue 11, 12).
            self.executor.close_lanes()
        self.executor.submit(commit_job(prepared, self.paths, mode), done, failed)

    def shutdown(self, timeout_ms: int = 30000) -> bool:
        """Cancel running tasks and wait for their threads (call before the executor shuts down)."""
        return self.tasks.shutdown(timeout_ms)


# -- task bodies ----------------------------------------------------------------------------------------

def export_task(paths: AppPaths, out_dir: Path, *, passphrase: str | None, share: bool) -> TaskFn:
    """Export on a connection of the job's own thread (WAL lets the window keep writing)."""
    def run(state: Any) -> Any:
        from mirror_desktop.bundle.export import export_journal_file

        return export_journal_file(paths, out_dir, passphrase=passphrase, share=share, state=state)
    return run


def prepare_task(paths: AppPaths, bundle: Path, *, passphrase: str | None,
                 allow_slow_passphrase: bool = False) -> TaskFn:
    """Every check and the staging journal; the live journal is not touched."""
    def run(state: Any) -> Any:
        from mirror_desktop.bundle.importer import prepare_import

        return prepare_import(bundle, paths, passphrase=passphrase, state=state,
                              allow_slow_passphrase=allow_slow_passphrase)
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
