"""The window hosts the issue 5-7 pieces: Ctrl+R reflects, bundles are on the File menu, tension links open."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, QObject, QSettings, Qt

from mirror_desktop.app import first_page, open_journal, open_reader
from mirror_desktop.core import models as m
from mirror_desktop.paths import AppPaths
from mirror_desktop.storage.journal import SQLiteStorage
from mirror_desktop.ui.main_window import MainWindow
from mirror_desktop.workers.executor import DatabaseExecutor


def stored(journal_dir, fn):  # type: ignore[no-untyped-def]
    s = SQLiteStorage(journal_dir / "mirror_os.db")
    try:
        return fn(s)
    finally:
        s.close()


def test_ctrl_r_saves_then_reflects(make_window, journal_dir, qtbot):  # type: ignore[no-untyped-def]
    w = make_window()
    w.new_action.trigger()
    qtbot.keyClicks(w.editor.text, "I always have to be the strong one, and part of me is so tired of it.")
    with qtbot.waitSignal(w.mirrorback_panel.mirrorback_generated, timeout=20000) as generated:
        qtbot.keyClick(w, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    run_id = generated.args[0]
    rid = w.editor.state.reflection_id
    runs = stored(journal_dir, lambda s: s.engine_runs.list(reflection_id=rid))
    assert [r.id for r in runs] == [run_id] and runs[0].engine_mode == "manual"
    backs = stored(journal_dir, lambda s: s.mirrorbacks.list(reflection_id=rid))
    assert len(backs) == 1 and backs[0].content.strip()
    assert "always" not in (runs[0].flags or {}).__repr__()


def test_reflect_on_an_empty_page_explains_itself(make_window, qtbot):  # type: ignore[no-untyped-def]
    w = make_window()
    w.new_action.trigger()
    w.reflect_action.trigger()
    assert w.editor.banner.isVisible()
    assert not w.mirrorback_panel.isHidden()


def test_bundle_actions_are_wired(make_window):  # type: ignore[no-untyped-def]
    w = make_window()
    assert w.export_action.isEnabled() and w.import_action.isEnabled()
    assert w.export_action.receivers("2triggered(bool)") >= 1
    assert w.import_action.receivers("2triggered(bool)") >= 1


def test_tension_link_opens_the_reflection(make_window, journal_dir, qtbot):  # type: ignore[no-untyped-def]
    r = stored(journal_dir, lambda s: s.reflections.create(m.Reflection("Control again, all day.")))
    w = make_window()
    w.show_view("tensions")
    w.tension_view.reflection_open_requested.emit(r.id)
    qtbot.waitUntil(lambda: w.editor.state.reflection_id == r.id, timeout=10000)
    assert w.view == "reflections"
    assert w.editor.content() == "Control again, all day."


def test_engine_settings_dialog_is_deleted_after_closing(make_window, qtbot):  # type: ignore[no-untyped-def]
    from mirror_desktop.ui.mirrorback.engine_settings import EngineSettingsDialog

    w = make_window()
    for _ in range(2):
        w.engine_action.trigger()
        dialog = w.findChild(EngineSettingsDialog)
        assert dialog is not None and dialog.isVisible()
        dialog.reject()
        qtbot.waitUntil(lambda: w.findChild(EngineSettingsDialog) is None, timeout=5000)


def test_edit_menu_acts_on_the_focused_text(make_window, qtbot):  # type: ignore[no-untyped-def]
    w = make_window()
    w.new_action.trigger()
    w.editor.text.setFocus()
    qtbot.waitUntil(lambda: w.editor.text.hasFocus(), timeout=5000)
    qtbot.keyClicks(w.editor.text, "first words")
    w.text_actions["selectAll"].trigger()
    assert w.editor.text.textCursor().selectedText() == "first words"
    w.text_actions["undo"].trigger()
    assert w.editor.text.toPlainText() != "first words"
    w.text_actions["redo"].trigger()
    assert w.editor.text.toPlainText() == "first words"
    assert all(not a.shortcut().toString() for a in w.text_actions.values())  # no key bindings stolen
    assert "\t" in w.text_actions["undo"].text()  # but the usual keys are shown


def _shortcut_owners(w):  # type: ignore[no-untyped-def]
    """Every key sequence the window answers to, with what owns it (actions, QShortcuts, buttons)."""
    from PySide6.QtGui import QAction, QKeySequence, QShortcut
    from PySide6.QtWidgets import QAbstractButton

    owners: dict[str, list[str]] = {}

    def add(seq, owner):  # type: ignore[no-untyped-def]
        text = QKeySequence(seq).toString()
        if text:
            owners.setdefault(text, []).append(owner)

    for act in w.findChildren(QAction):
        for seq in act.shortcuts():
            add(seq, f"action {act.text()!r}")
    for sc in w.findChildren(QShortcut):
        add(sc.key(), f"shortcut on {sc.parent().objectName() or type(sc.parent()).__name__}")
    for button in w.findChildren(QAbstractButton):
        add(button.shortcut(), f"button {button.text()!r}")
    return owners


def test_no_two_window_owners_share_a_shortcut(make_window):  # type: ignore[no-untyped-def]
    """Issue 11: Ctrl+Shift+P had two owners and did nothing; the tension page's undo keys live in their own
    widget context, so only window-wide owners are compared here."""
    w = make_window()
    owners = _shortcut_owners(w)
    owners = {k: [o for o in v if not o.startswith("shortcut on tensionView")] for k, v in owners.items()}
    assert {k: v for k, v in owners.items() if len(v) > 1} == {}


def test_ctrl_shift_p_toggles_the_preview(make_window, qtbot):  # type: ignore[no-untyped-def]
    w = make_window()
    w.new_action.trigger()
    qtbot.keyClicks(w.editor.text, "Some **bold** words.")
    qtbot.keyClick(w.editor.text, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert w.preview_action.isChecked() and w.editor.preview_button.isChecked()
    qtbot.keyClick(w, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert not w.preview_action.isChecked()


def test_an_error_in_a_menu_action_is_shown_not_only_logged(make_window, qtbot, monkeypatch):  # type: ignore[no-untyped-def]
    """Issue 11: the app's excepthook tells the person in one sentence (the log keeps the details)."""
    import sys

    from PySide6.QtWidgets import QMessageBox

    from mirror_desktop.app import show_unexpected_error
    from mirror_desktop.logging_setup import install_excepthook

    w = make_window()
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text: shown.append(text))
    previous_thread_hook = __import__("threading").excepthook
    old = install_excepthook(chain=False, notify=show_unexpected_error)
    try:
        def broken() -> None:
            raise ValueError("a private word that must not be shown")

        w.about_action.triggered.disconnect()
        w.about_action.triggered.connect(broken)
        w.about_action.trigger()
        qtbot.waitUntil(lambda: bool(shown), timeout=5000)
    finally:
        sys.excepthook = old
        __import__("threading").excepthook = previous_thread_hook
    assert shown[0].startswith("Something went wrong inside Mirror (ValueError)")
    assert "private word" not in shown[0] and "Open logs" in shown[0]


def test_views_nobody_opened_are_not_built(make_window, journal_dir, qtbot):  # type: ignore[no-untyped-def]
    """Start-up builds only what the first paint shows (issue 12): the map and the bundle dialogs wait for first use,
    yet a new journal still gets its seed tensions, and the map follows the identity chosen before it was built."""
    ident = stored(journal_dir, lambda s: s.identities.create(m.Identity(metadata={"name": "Work self"})))
    w = make_window()
    assert w._tension_view is None and w._bundles is None
    qtbot.waitUntil(lambda: stored(journal_dir, lambda s: len(s.tensions.list())) >= 8, timeout=10000)
    w.journal.select_identity(ident.id)
    w.show_view("tensions")
    assert w.stack.currentWidget() is w.tension_view
    assert w.tension_view._identity == ident.id
    qtbot.waitUntil(lambda: len(w.tension_view.map.keys()) >= 8, timeout=10000)
    assert w.bundles is w.bundles  # built once, on first use


def test_a_new_page_is_not_replaced_by_a_reflection_still_on_its_way(make_window, journal_dir, qtbot):  # type: ignore[no-untyped-def]
    """Clicking a row and pressing Ctrl+N before the row's text arrives leaves the new page in the editor."""
    r = stored(journal_dir, lambda s: s.reflections.create(m.Reflection("An older evening.")))
    w = make_window()
    w.journal.open_reflection(r.id)  # its read is queued …
    w.new_action.trigger()  # … and the person asks for a new page before it comes back
    qtbot.keyClicks(w.editor.text, "Something new.")
    with qtbot.waitSignal(w.client.reflection_saved, timeout=10000):
        w.autosave.save_now()
    assert w.editor.content() == "Something new."
    assert w.editor.state.reflection_id != r.id


@pytest.mark.parametrize("look_ahead", [True, False], ids=["read-before-the-open", "asked-of-the-storage"])
def test_the_first_frame_is_the_journal_and_the_rest_follows_its_first_paint(qtbot, journal_dir, monkeypatch,  # type: ignore[no-untyped-def]
                                                                            look_ahead):
    """Issue 12 (first paint): the page is asked for while the journal opens and painted in a first frame that
    holds only the list; the sidebar, the editor, the side panels and the sync lines are built right after that
    paint, the journal is loaded into them, and the open reflection and its mirrorback are shown.

    As the app starts it (look_ahead), the first page is read straight from the file and painted before the
    storage layer has even opened; otherwise (an encrypted journal) it is asked of the storage while it opens."""
    # The build's time-based fallback (for a journal slow to give its first page) stays out of the way, so on a
    # loaded machine it is still the first paint that builds the rest.
    monkeypatch.setattr("mirror_desktop.ui.main_window.BUILD_FALLBACK_MS", 60_000)
    r = stored(journal_dir, lambda s: s.reflections.create(m.Reflection("The first evening, with its reply.")))
    stored(journal_dir, lambda s: s.mirrorbacks.create(m.Mirrorback(r.id, "You wrote about the first evening.", "1.0.0")))
    paths = AppPaths.resolve(journal_dir)
    paths.config_dir.mkdir(parents=True, exist_ok=True)
    executor = DatabaseExecutor(lambda: open_journal(paths.database), open_reader=lambda: open_reader(paths.database),
                                defer_lanes=True, peek=(lambda: first_page(paths.database)) if look_ahead else None)
    opened: list[bool] = []
    executor.opened.connect(lambda _s: opened.append(True))
    executor.start()  # as the app does: the journal opens while the window is built
    w = MainWindow(executor, paths, QSettings(str(paths.settings_file), QSettings.Format.IniFormat))
    try:
        assert w.list_model._fetching  # the first page is already on its way, before the journal has opened
        assert not w._built and "editor" not in w.journal.__dict__

        class FirstRows(QObject):
            built_at_paint: list[bool] = []
            opened_at_paint: list[bool] = []

            def eventFilter(self, _o: QObject, e: QEvent) -> bool:  # noqa: N802 - Qt override
                if e.type() == QEvent.Type.Paint and w.list_model.rowCount() and not self.built_at_paint:
                    self.built_at_paint.append(w._built)
                    self.opened_at_paint.append(bool(opened))
                return False

        probe = FirstRows()
        w.list_view.viewport().installEventFilter(probe)
        built_when_loaded: list[bool] = []
        w.journal_loaded.connect(lambda: built_when_loaded.append(w._built))
        w.resize(1100, 700)
        with qtbot.waitSignal(w.settled, timeout=15000):
            w.show()
        assert probe.built_at_paint == [False]  # the rows were painted before anything else was built
        if look_ahead:
            assert probe.opened_at_paint == [False]  # ... and before the storage layer had opened
        assert built_when_loaded == [True]
        assert w.splitter.widget(0) is w.sidebar and w.editor_column.widget(0) is w.editor
        assert w.side_layout.indexOf(w.mirrorback_scroll) >= 0 and w.side_layout.indexOf(w.day_panel) >= 0
        qtbot.waitUntil(lambda: w.editor.state.reflection_id == r.id, timeout=10000)  # the first row, opened
        qtbot.waitUntil(lambda: bool(w.mirrorback_panel.entries), timeout=10000)
        assert w.mirrorback_panel.entries[0].mirrorback.content == "You wrote about the first evening."
        assert w.sync_line.parent() is not None and w.counts_label.isVisibleTo(w.statusBar())
        assert executor._lanes  # the read and background lanes started with the settle
    finally:
        w.close()
        w.deleteLater()


def test_an_empty_journal_gets_its_editor_and_empty_state_without_a_first_row(make_window, journal_dir):  # type: ignore[no-untyped-def]
    """No rows to paint first: the window is built as soon as the empty first page arrives, and says so."""
    w = make_window()
    assert w._built and w.editor.isEnabled()
    assert w.journal.list_stack.currentWidget() is w.journal.list_empty
    assert "Nothing written here yet" in w.journal.list_empty.text()


def test_reading_a_later_part_before_the_first_paint_builds_it_then(make_window, journal_dir, qtbot):  # type: ignore[no-untyped-def]
    """Code (or a test) that reaches for the mirrorback panel before the first paint gets it, built once."""
    paths = AppPaths.resolve(journal_dir)
    paths.config_dir.mkdir(parents=True, exist_ok=True)
    executor = DatabaseExecutor(lambda: open_journal(paths.database))
    w = MainWindow(executor, paths, QSettings(str(paths.settings_file), QSettings.Format.IniFormat))
    try:
        assert not w._built
        panel = w.mirrorback_panel
        assert w._built and w.mirrorback_panel is panel and w.writing is w.writing
        assert w.side_layout.indexOf(w.mirrorback_scroll) >= 0
    finally:
        w.close()
        w.deleteLater()


def test_search_and_thread_pages_built_late_show_what_the_journal_already_chose(make_window, journal_dir, qtbot):  # type: ignore[no-untyped-def]
    """The search and thread pages are built when first shown (issue 12); they catch up on the identity chosen,
    the identities and threads loaded, and the thread opened before they existed."""
    ident = stored(journal_dir, lambda s: s.identities.create(m.Identity(metadata={"name": "Night self"})))
    thread = stored(journal_dir, lambda s: s.threads.create(m.Thread(identity_id=None, title="Winter")))
    w = make_window()
    assert "search" not in w.journal.__dict__ and "timeline" not in w.journal.__dict__
    w.journal.select_identity(ident.id)
    w.start_search()
    assert w.stack.currentWidget() is w.search
    assert w.search.identity_filter.currentData() == ident.id
    assert w.search.thread_filter.findText("Winter") >= 0
    w.leave_search_action.trigger()  # Esc still leaves the late-built search page
    assert w.view != "search"
    w.journal.show_thread(thread.id)
    assert w.view == "threads" and w.stack.currentWidget() is w.timeline
    qtbot.waitUntil(lambda: w.timeline.title.text() == "Winter", timeout=10000)


def test_a_journal_slow_to_open_still_gets_its_window_then_its_journal(qtbot, journal_dir, monkeypatch):  # type: ignore[no-untyped-def]
    """A journal that takes long to open (a big migration): the window is built while it waits, shows that
    it is opening, and the journal is loaded into it once it is open."""
    import threading

    monkeypatch.setattr("mirror_desktop.ui.main_window.BUILD_FALLBACK_MS", 50)
    stored(journal_dir, lambda s: s.reflections.create(m.Reflection("Written before the long open.")))
    paths = AppPaths.resolve(journal_dir)
    paths.config_dir.mkdir(parents=True, exist_ok=True)
    release = threading.Event()

    def slow_open():  # type: ignore[no-untyped-def]
        release.wait(30)
        return open_journal(paths.database)

    executor = DatabaseExecutor(slow_open)
    executor.start()
    w = MainWindow(executor, paths, QSettings(str(paths.settings_file), QSettings.Format.IniFormat))
    try:
        w.show()
        qtbot.waitUntil(lambda: w._built, timeout=10000)
        assert not w.is_open and not w.editor.isEnabled()
        assert w.progress_label.text() == "Opening your journal…"
        with qtbot.waitSignal(w.settled, timeout=15000):
            release.set()
        assert w.is_open and w.editor.isEnabled() and w.list_model.rowCount() == 1
    finally:
        release.set()
        w.close()
        w.deleteLater()


def test_closing_with_work_still_queued_says_it_is_finishing_and_finishes_it(make_window, journal_dir, qtbot):  # type: ignore[no-untyped-def]
    """A close while a slow job is queued: the status bar says the window is finishing, the job completes first."""
    import threading

    w = make_window()
    release, done, shown = threading.Event(), threading.Event(), []

    def slow(_storage):  # type: ignore[no-untyped-def]
        release.wait(30)
        done.set()

    w.executor.submit(slow)
    orig = w.executor.shutdown

    def shutdown(*a, **k):  # type: ignore[no-untyped-def]
        shown.append(w.statusBar().currentMessage())
        release.set()
        return orig(*a, **k)

    w.executor.shutdown = shutdown
    w.close()
    assert done.is_set()
    assert shown == ["Finishing what you asked for before closing…"]
