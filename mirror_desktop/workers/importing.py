"""ImportingClient: File → Import from another app… off the GUI thread — the dry run, the import, progress, Cancel.

An import is one job on the DatabaseExecutor's background lane: it reads, parses and hashes there, and
hands every chunk of entries to the write lane as one short write job (``ImportService.run``'s
``write_chunk``), so an autosave waits for one chunk, not for the whole import (issue 15). Where the
executor has no background lane (PostgreSQL, tests) the import is one job and one transaction on the
write lane, as before. A BackgroundTask submits that job and waits for it on its own thread, so the
task's signals (progress, finished, failed, cancelled) carry the outcome back to the GUI thread; the
task object itself is the job's JobState, so Cancel reaches the import between entries and what it
wrote goes again. Qt-free work lives in ``core/importing.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from mirror_desktop.core import models as m
from mirror_desktop.core.errors import OperationCancelled
from mirror_desktop.core.importing import ImportReport, ImportService
from mirror_desktop.workers.base import FeatureClient, OnError
from mirror_desktop.workers.executor import DatabaseExecutor
from mirror_desktop.workers.tasks import BackgroundTask, TaskRunner


class ImportingClient(FeatureClient):
    """Imports from Day One, jrnl, Obsidian and RedNotebook for the window.

    Signals:
        imported(object): an import was committed (the journal changed); payload is the ImportReport.
    """

    imported = Signal(object)

    def __init__(self, executor: DatabaseExecutor, parent: QObject | None = None) -> None:
        super().__init__(executor, ImportService, parent)
        self.tasks = TaskRunner("mirror-import", self)

    def identities(self, on_result: Callable[[list[m.Identity]], None], on_error: OnError = None) -> None:
        """The identities the entries may be given to."""
        self.query(lambda svc: sorted(svc.storage.identities.list(), key=lambda i: i.name.casefold()),
                   on_result, on_error)

    def start(self, app: str, path: Path, *, identity_id: str | None, time_format: str | None, dry_run: bool,
              connect: Callable[[BackgroundTask], None]) -> BackgroundTask:
        """Run the dry run (or the import) as a BackgroundTask; ``connect`` wires its signals first."""
        executor = self.executor

        def body(state: Any) -> ImportReport:
            def job(storage: Any) -> ImportReport:
                chunks = None
                if not dry_run and not executor.on_write_lane():
                    # A chunk, once asked for, is written even after Cancel: the import undoes it itself.
                    chunks = lambda fn: executor.run_and_wait(fn)  # noqa: E731
                return ImportService(storage).run(app, path, identity_id=identity_id, time_format=time_format or None,
                                                  dry_run=dry_run, state=state, write_chunk=chunks)
            return executor.run_and_wait(job, lane="background", cancelled=state.is_cancelled,
                                         cancelled_error=OperationCancelled)

        def wire(task: BackgroundTask) -> None:
            connect(task)
            if not dry_run:
                task.finished.connect(self.imported)
        return self.tasks.start(body, wire)

    def shutdown(self, timeout_ms: int = 30000) -> bool:
        """Cancel a running import (it rolls back) and wait for its thread; call before the executor stops."""
        return self.tasks.shutdown(timeout_ms)
