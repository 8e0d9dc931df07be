"""Window fixtures: a real journal in tmp_path, a real executor thread, the real MainWindow."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from mirror_desktop.app import open_journal, open_reader
from mirror_desktop.paths import AppPaths
from mirror_desktop.ui.main_window import MainWindow
from mirror_desktop.workers.executor import DatabaseExecutor


@pytest.fixture
def journal_dir(tmp_path: Path) -> Path:
    return tmp_path / "journal"


@pytest.fixture
def make_window(qtbot, journal_dir):  # type: ignore[no-untyped-def]
    windows: list[MainWindow] = []

    def make(data_dir: Path | None = None) -> MainWindow:
        paths = AppPaths.resolve(data_dir or journal_dir)
        paths.config_dir.mkdir(parents=True, exist_ok=True)
        settings = QSettings(str(paths.settings_file), QSettings.Format.IniFormat)
        # The window as the app builds it: a write lane, and read and background lanes (issue 12).
        executor = DatabaseExecutor(lambda: open_journal(paths.database), open_reader=lambda: open_reader(paths.database))
        window = MainWindow(executor, paths, settings)
        window.resize(1100, 700)
        windows.append(window)
        with qtbot.waitSignal(window.settled, timeout=15000):  # the first page painted, the rest built
            window.show()
            executor.start()
        return window

    yield make
    for w in windows:
        w.close()
        w.deleteLater()
