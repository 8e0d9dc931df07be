"""The window hosts the issue 5-7 pieces: Ctrl+R reflects, bundles are on the File menu, tension links open."""

from __future__ import annotations

from PySide6.QtCore import Qt

from mirror_desktop.core import models as m
from mirror_desktop.storage.journal import SQLiteStorage


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
