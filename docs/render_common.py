"""What every docs/render_*.py script does before it shows its own view: wait for the window without a
test framework, and open the real window on a journal folder (executor with its reader, settings file).

Imported by the render scripts (run from the repository: ``python docs/render_x.py``), never by the app.
"""

from __future__ import annotations

import os
from collections.abc import Callable

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEventLoop, QSettings, QTimer  # noqa: E402

from mirror_desktop.app import open_journal, open_reader  # noqa: E402
from mirror_desktop.paths import AppPaths  # noqa: E402
from mirror_desktop.ui.main_window import MainWindow  # noqa: E402
from mirror_desktop.workers.executor import DatabaseExecutor  # noqa: E402


def wait_until(cond: Callable[[], bool], ms: int = 20000) -> None:
    """Run the event loop until ``cond()`` holds; stop the script after ``ms`` (a render must not hang)."""
    for _ in range(ms // 30):
        if cond():
            return
        loop = QEventLoop()
        QTimer.singleShot(30, loop.quit)
        loop.exec()
    raise SystemExit("timed out while rendering")


def open_window(paths: AppPaths, width: int, height: int,
                before_start: Callable[[MainWindow], None] | None = None) -> tuple[MainWindow, DatabaseExecutor]:
    """The real window on ``paths``' journal, shown at ``width`` × ``height`` and started (not yet open:
    wait for ``window.is_open``); ``before_start`` connects what must hear the first signals."""
    settings = QSettings(str(paths.settings_file), QSettings.Format.IniFormat)
    ex = DatabaseExecutor(lambda: open_journal(paths.database), open_reader=lambda: open_reader(paths.database))
    window = MainWindow(ex, paths, settings)
    window.resize(width, height)
    if before_start is not None:
        before_start(window)
    window.show()
    ex.start()
    return window, ex
