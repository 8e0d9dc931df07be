"""The GUI thread never touches the database (STYLE.md habit 3, issue 3 item 9), proved on the real window.

The window's storage is wrapped in a proxy that records every attribute read or write made on the
GUI thread (storage, repositories, the peewee database), and peewee itself is watched so a query run
on the GUI thread through any path — a lazy foreign key, a separate connection — is recorded too.
The test then drives the main features the way a person would and expects no record at all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import peewee
import pytest
from PySide6.QtCore import QSettings, Qt, QThread
from PySide6.QtWidgets import QApplication

from mirror_desktop.app import open_journal
from mirror_desktop.bundle import export as export_mod
from mirror_desktop.paths import AppPaths
from mirror_desktop.storage.journal import SQLiteStorage
from mirror_desktop.ui.main_window import MainWindow
from mirror_desktop.workers.executor import DatabaseExecutor

from ui_helpers import read, seed


def on_gui_thread() -> bool:
    app = QApplication.instance()
    return app is not None and QThread.currentThread() is app.thread()


class Guard:
    """Records database access made on the GUI thread while armed."""

    def __init__(self) -> None:
        self.armed = False
        self.violations: list[str] = []

    def check(self, what: str) -> None:
        if self.armed and on_gui_thread():
            self.violations.append(what)


class GuardedStorage:
    """Forwards to the real storage (or repository, or database); GUI-thread access is recorded."""

    def __init__(self, target: Any, guard: Guard, name: str = "storage") -> None:
        object.__setattr__(self, "_target", target)
        object.__setattr__(self, "_guard", guard)
        object.__setattr__(self, "_name", name)

    def __getattr__(self, attr: str) -> Any:
        name = f"{object.__getattribute__(self, '_name')}.{attr}"
        guard = object.__getattribute__(self, "_guard")
        guard.check(name)
        value = getattr(object.__getattribute__(self, "_target"), attr)
        if not isinstance(value, type) and type(value).__module__.startswith(("mirror_desktop.storage", "peewee")):
            return GuardedStorage(value, guard, name)
        return value

    def __setattr__(self, attr: str, value: Any) -> None:
        object.__getattribute__(self, "_guard").check(f"{object.__getattribute__(self, '_name')}.{attr} =")
        setattr(object.__getattribute__(self, "_target"), attr, value)


@pytest.fixture
def guard(monkeypatch: pytest.MonkeyPatch) -> Guard:
    g = Guard()
    real_execute, real_connect = peewee.Database.execute_sql, peewee.Database.connect

    def execute_sql(self, sql, params=None, *args, **kwargs):  # type: ignore[no-untyped-def]
        g.check(f"SQL {str(sql)[:60]}")
        return real_execute(self, sql, params, *args, **kwargs)

    def connect(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        g.check("peewee connect")
        return real_connect(self, *args, **kwargs)

    monkeypatch.setattr(peewee.Database, "execute_sql", execute_sql)
    monkeypatch.setattr(peewee.Database, "connect", connect)
    monkeypatch.setattr(export_mod, "default_log2_n", 2)
    return g


def test_the_guard_sees_gui_thread_access(qtbot, guard: Guard, tmp_path: Path) -> None:
    storage = GuardedStorage(SQLiteStorage(tmp_path / "j.db"), guard)
    guard.armed = True
    storage.reflections.count()
    assert guard.violations[:2] == ["storage.reflections", "storage.reflections.count"]
    assert any(v.startswith("SQL ") for v in guard.violations)
    guard.violations.clear()
    executor = DatabaseExecutor(lambda: storage)
    box: list[int] = []
    executor.start()
    executor.submit(lambda s: s.reflections.count(), box.append)
    qtbot.waitUntil(lambda: bool(box), timeout=10000)
    assert executor.shutdown()
    assert box == [0] and guard.violations == []  # the worker thread is free to use it
    guard.armed = False
    storage.close()


def test_main_features_never_touch_the_database_on_the_gui_thread(qtbot, guard: Guard, journal_dir: Path,
                                                                  tmp_path: Path) -> None:
    ident = seed(journal_dir, lambda s: s.create_identity("Work self", "#4c7fd9"))
    older = seed(journal_dir, lambda s: s.save_reflection("The river was loud this morning.", identity_id=ident.id))
    thread = seed(journal_dir, lambda s: s.create_thread("Mornings", None))
    seed(journal_dir, lambda s: s.add_to_threads(older.id, [thread.id]))

    paths = AppPaths.resolve(journal_dir)
    paths.config_dir.mkdir(parents=True, exist_ok=True)
    settings = QSettings(str(paths.settings_file), QSettings.Format.IniFormat)
    executor = DatabaseExecutor(lambda: GuardedStorage(open_journal(paths.database), guard))
    guard.armed = True
    window = MainWindow(executor, paths, settings)
    window.resize(1100, 700)
    try:
        with qtbot.waitSignal(window.settled, timeout=15000):
            window.show()
            executor.start()
        w = window

        # type, autosave
        w.new_action.trigger()
        with qtbot.waitSignal(w.client.reflection_saved, timeout=10000):
            qtbot.keyClicks(w.editor.text, "Evening by the river, quieter than I expected.")
        qtbot.waitUntil(lambda: w.autosave.status == "saved" and not w.autosave.dirty, timeout=10000)

        # open a reflection from the list
        row = w.list_model.row_of(older.id)
        assert row >= 0
        w.list_view.setCurrentIndex(w.list_model.index(row, 0))
        qtbot.waitUntil(lambda: w.editor.content() == older.content, timeout=10000)

        # search
        w.start_search()
        with qtbot.waitSignal(w.search.results_shown, timeout=10000) as shown:
            w.search.box.setText("river")
            w.search.run_now()
        assert shown.args[0] >= 1
        w.leave_search()

        # switch identity; open a thread's timeline
        with qtbot.waitSignal(w.list_model.first_page_loaded, timeout=10000):
            w.journal.select_identity(ident.id)
        with qtbot.waitSignal(w.journal.timeline_loaded, timeout=10000):
            w.journal.show_thread(thread.id)
        w.journal.select_identity(None)

        # the tension map: load, then a move
        w.show_view("tensions")
        view = w.tension_view
        qtbot.waitUntil(lambda: len(view.map.keys()) >= 8, timeout=10000)
        key = view.map.keys()[0]
        with qtbot.waitSignal(view.tension_moved, timeout=10000):
            view.map.tension_move_requested.emit(key, 0.4, 0.6)

        # Ctrl+R: save what is typed, then reflect
        w.show_view("reflections")
        w.new_action.trigger()
        qtbot.keyClicks(w.editor.text, "I always have to be the strong one, and part of me is so tired of it.")
        with qtbot.waitSignal(w.mirrorback_panel.mirrorback_generated, timeout=20000):
            qtbot.keyClick(w, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)

        # File → Export: the job starts and finishes off the GUI thread
        out = tmp_path / "out"
        out.mkdir()
        w.bundles.interactive = False
        with qtbot.waitSignal(w.bundles.export_finished, timeout=30000):
            w.bundles.start_export(out, None)

        # close while a save is queued
        qtbot.keyClicks(w.editor.text, " Still here.")
        window.close()
    finally:
        guard.armed = False
        window.close()
        window.deleteLater()

    assert guard.violations == []
    saved = read(journal_dir, lambda s: s.reflections_page())
    assert any(r.content.endswith("tired of it. Still here.") for r in saved)
