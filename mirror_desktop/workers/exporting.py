"""ExportsClient: File → Export as… runs ``run_export`` on a thread of its own, with progress and Cancel.

The export reads through its own read-only connection (exports.common.export_journal_file), so it
never holds an executor lane; the PDF writer uses QImage and QPdfWriter, which work off the GUI thread.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from mirror_desktop.exports.common import ExportRequest, record_export
from mirror_desktop.workers.executor import DatabaseExecutor
from mirror_desktop.workers.tasks import BackgroundTask, TaskRunner


class ExportsClient(QObject):
    """Signals:
        export_finished(object): an export was written; payload is the ExportResult.
    """

    export_finished = Signal(object)

    def __init__(self, database: Path, parent: QObject | None = None, executor: DatabaseExecutor | None = None) -> None:
        super().__init__(parent)
        self.database = database
        self.tasks = TaskRunner("mirror-export-to", self)
        if executor is not None:
            # The export reads on a connection of its own; its ``export`` event is a write, so the write lane's.
            self.export_finished.connect(
                lambda result: executor.submit(lambda storage: record_export(storage, result), lane="write"))

    def export(self, fmt: str, out_dir: Path, identity: str | None, since: date | None, until: date | None,
               connect: Callable[[BackgroundTask], None]) -> BackgroundTask:
        database = self.database
        req = ExportRequest(fmt, out_dir, identity, since, until)

        def run(state: Any) -> Any:
            from mirror_desktop.exports.common import export_journal_file

            return export_journal_file(database, req, state)

        def wire(job: BackgroundTask) -> None:
            connect(job)
            job.finished.connect(self.export_finished)

        return self.tasks.start(run, wire)

    @property
    def busy(self) -> bool:
        return self.tasks.busy

    def shutdown(self, timeout_ms: int = 30000) -> bool:
        return self.tasks.shutdown(timeout_ms)
