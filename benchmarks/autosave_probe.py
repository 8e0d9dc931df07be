"""The editor's autosave beside a long job, for the window benchmarks (bench_import_window, bench_integrations_window).

A draft is written every 250 ms on the write lane (DraftRepository, as the window's journal client does); ``waits``
holds each one's time from submit to landed. ``spin`` runs the Qt event loop until the job is done.
"""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import QEventLoop, QTimer

from mirror_desktop.core import models as m


def spin(cond: Any, timeout_s: float) -> None:
    """Run the Qt event loop until ``cond()`` holds; a benchmark that waits longer than ``timeout_s`` stops."""
    deadline = time.monotonic() + timeout_s
    while not cond():
        if time.monotonic() > deadline:
            raise SystemExit("timed out")
        loop = QEventLoop()
        QTimer.singleShot(5, loop.quit)
        loop.exec()


class AutosaveProbe:
    def __init__(self, executor: Any, interval_ms: int = 250) -> None:
        self.executor = executor
        self.waits: list[float] = []
        self.asked = 0
        self._draft_id = m.new_id()
        self.timer = QTimer()
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.save_draft)

    def save_draft(self) -> None:
        t0 = time.perf_counter()
        self.asked += 1
        draft_id = self._draft_id

        def write(storage: Any) -> None:
            d = m.Draft(id=draft_id, content=f"typing… {t0:.3f}")
            if storage.drafts.find(draft_id) is None:
                storage.drafts.create(d)
            else:
                storage.drafts.update(d)
        self.executor.submit(write, lambda _r: self.waits.append(time.perf_counter() - t0))

    def all_landed(self) -> bool:
        return len(self.waits) == self.asked
