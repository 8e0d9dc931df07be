"""The tension map in a real TensionView over a real journal: mouse drags, keyboard, wheel, undo, editing.

Each test acts like a person (QTest mouse and key events on the widget) and then checks what the
journal stored, read through a second connection, so the whole path map → executor → service →
SQLite is covered.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from mirror_desktop.core import models as m
from mirror_desktop.core.enums import EngineMode
from mirror_desktop.core.tensions import TensionService, suggestion_status
from mirror_desktop.storage.journal import SQLiteStorage
from mirror_desktop.ui.tensions import geometry as geo
from mirror_desktop.ui.tensions.dialogs import AxisDialog, TensionDialog
from mirror_desktop.ui.tensions.page import TensionView
from mirror_desktop.workers.tensions import TensionsClient
from mirror_desktop.workers.executor import DatabaseExecutor

WAIT = 5000


@pytest.fixture()
def db_path(tmp_path):
    path = tmp_path / "mirror_os.db"
    s = SQLiteStorage(path)
    TensionService(s).add_suggestion("Freedom vs Security", "Freedom", "Security")
    s.close()
    return path


@pytest.fixture()
def journal(db_path):
    """A second connection for reading what the view stored."""
    s = SQLiteStorage(db_path)
    yield s
    s.close()


@pytest.fixture()
def view(qtbot, db_path):
    ex = DatabaseExecutor(lambda: SQLiteStorage(db_path))
    ex.start()
    v = TensionView(TensionsClient(ex))
    qtbot.addWidget(v)
    v.resize(1200, 800)
    v.show()
    qtbot.waitExposed(v)
    v.set_identity(None, False)
    qtbot.waitUntil(lambda: len(v.map.keys()) >= 8, timeout=WAIT)
    yield v
    assert ex.shutdown()


def key_of(view: TensionView, name: str) -> str:
    return next(k for k in view.map.keys() if view.map.tension(k).name == name)


def stored(journal: SQLiteStorage, key: str) -> m.Tension:
    return journal.tensions.get(key)


def wait_stored(qtbot, journal, key, check):
    qtbot.waitUntil(lambda: check(stored(journal, key)), timeout=WAIT)
    return stored(journal, key)


def drag(widget, start: QPointF, end: QPointF, steps: int = 6, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    QTest.mousePress(widget, Qt.MouseButton.LeftButton, modifier, start.toPoint())
    for i in range(1, steps + 1):
        pt = start + (end - start) * (i / steps)
        QTest.mouseMove(widget, pt.toPoint())
    QTest.mouseRelease(widget, Qt.MouseButton.LeftButton, modifier, end.toPoint())


def test_view_seeds_a_new_journal_and_groups_by_axis(view, journal):
    assert journal.tensions.count() >= 8
    assert view.map.accessibleName() == "Tension map"
    names = [view.map.tension(k).name for k in view.map.keys()]
    assert "Control vs Surrender" in names and "Freedom vs Security" not in names  # still a suggestion


def test_mouse_drag_moves_once_and_appends_history(view, journal, qtbot):
    key = key_of(view, "Control vs Surrender")
    row = view.map.row_box(key)
    start = view.map.handle_center(key)
    target = QPointF(geo.position_to_x(0.5, row.track_left, row.track_right), row.cy)
    with qtbot.waitSignal(view.map.tension_move_requested, timeout=WAIT) as sig:
        drag(view.map, start, target)
    assert sig.args[0] == key and sig.args[1] == pytest.approx(0.5, abs=0.05)
    t = wait_stored(qtbot, journal, key, lambda t: t.position != 0.0)
    assert t.position == pytest.approx(0.5, abs=0.05) and t.intensity == 0.5
    history = t.metadata["position_history"]
    assert len(history) == 1  # one write for the whole drag, not one per mouse move
    assert history[0]["position"] == t.position and history[0]["intensity"] == 0.5
    assert t.updated_at > t.created_at
    qtbot.waitUntil(lambda: view.map.values(key) == (t.position, t.intensity), timeout=WAIT)


def test_drag_previews_in_memory_until_release(view, journal, qtbot):
    key = key_of(view, "Stability vs Risk")
    row = view.map.row_box(key)
    start = view.map.handle_center(key)
    QTest.mousePress(view.map, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start.toPoint())
    QTest.mouseMove(view.map, (start + QPointF(10, 0)).toPoint())
    QTest.mouseMove(view.map, QPoint(int(geo.position_to_x(-0.8, row.track_left, row.track_right)), int(row.cy)))
    assert view.map.values(key)[0] == pytest.approx(-0.8, abs=0.05)
    qtbot.wait(200)
    assert stored(journal, key).position == 0.0  # nothing written yet
    QTest.mouseRelease(view.map, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                       QPoint(int(geo.position_to_x(-0.8, row.track_left, row.track_right)), int(row.cy)))
    t = wait_stored(qtbot, journal, key, lambda t: t.position != 0.0)
    assert t.position == pytest.approx(-0.8, abs=0.05)


def test_vertical_drag_changes_intensity(view, journal, qtbot):
    key = key_of(view, "Rest vs Achievement")
    start = view.map.handle_center(key)
    drag(view.map, start, start + QPointF(0, -geo.DEFAULT.drag_intensity_px / 4))
    t = wait_stored(qtbot, journal, key, lambda t: t.intensity != 0.5)
    assert t.intensity == pytest.approx(0.75) and t.position == 0.0
    assert t.metadata["position_history"][-1]["intensity"] == pytest.approx(0.75)


def test_click_without_moving_writes_nothing(view, journal, qtbot):
    key = key_of(view, "Self vs Others")
    c = view.map.handle_center(key).toPoint()
    QTest.mouseClick(view.map, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, c)
    qtbot.wait(300)
    assert view.map.selected() == key
    assert stored(journal, key).metadata["position_history"] == []


def test_keyboard_moves_and_tab_walks(view, journal, qtbot):
    keys = view.map.keys()
    view.map.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(lambda: view.map.selected() == keys[0], timeout=WAIT)
    QTest.keyClick(view.map, Qt.Key.Key_Tab)
    assert view.map.selected() == keys[1]
    QTest.keyClick(view.map, Qt.Key.Key_Backtab, Qt.KeyboardModifier.ShiftModifier)
    assert view.map.selected() == keys[0]
    QTest.keyClick(view.map, Qt.Key.Key_Tab)
    key = keys[1]

    QTest.keyClick(view.map, Qt.Key.Key_Right)
    t = wait_stored(qtbot, journal, key, lambda t: t.position == 0.05)
    assert len(t.metadata["position_history"]) == 1
    QTest.keyClick(view.map, Qt.Key.Key_Left)
    QTest.keyClick(view.map, Qt.Key.Key_Left)
    t = wait_stored(qtbot, journal, key, lambda t: t.position == -0.05)
    QTest.keyClick(view.map, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    t = wait_stored(qtbot, journal, key, lambda t: t.intensity == 0.55)
    QTest.keyClick(view.map, Qt.Key.Key_Down, Qt.KeyboardModifier.ShiftModifier)
    QTest.keyClick(view.map, Qt.Key.Key_Down, Qt.KeyboardModifier.ShiftModifier)
    t = wait_stored(qtbot, journal, key, lambda t: t.intensity == 0.45)
    assert [(h["position"], h["intensity"]) for h in t.metadata["position_history"]] == [
        (0.05, 0.5), (0.0, 0.5), (-0.05, 0.5), (-0.05, 0.55), (-0.05, 0.5), (-0.05, 0.45)]
    assert "intensity 0.45" in view.map.accessibleDescription()


def test_held_arrow_key_writes_once_on_release(view, journal, qtbot):
    key = view.map.keys()[0]
    view.map.setFocus()
    view.map.select(key)
    for _ in range(4):
        QTest.keyPress(view.map, Qt.Key.Key_Right)  # presses without release, as auto-repeat does
    qtbot.wait(200)
    assert stored(journal, key).position == 0.0
    QTest.keyRelease(view.map, Qt.Key.Key_Right)
    t = wait_stored(qtbot, journal, key, lambda t: t.position != 0.0)
    assert t.position == 0.2 and len(t.metadata["position_history"]) == 1


def test_ctrl_z_undoes_the_last_move(view, journal, qtbot):
    key = key_of(view, "Control vs Surrender")
    original = stored(journal, key)
    view.map.setFocus()
    view.map.select(key)
    QTest.keyClick(view.map, Qt.Key.Key_Right)
    wait_stored(qtbot, journal, key, lambda t: t.position == 0.05)
    QTest.keyClick(view.map, Qt.Key.Key_Right)
    wait_stored(qtbot, journal, key, lambda t: t.position == 0.1)
    qtbot.waitUntil(lambda: view.undo_stack.count() == 2, timeout=WAIT)

    view.activateWindow()
    QTest.keyClick(view.map, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    t = wait_stored(qtbot, journal, key, lambda t: t.position == 0.05)
    assert len(t.metadata["position_history"]) == 1
    qtbot.waitUntil(lambda: view.map.values(key)[0] == 0.05, timeout=WAIT)

    view.undo_button.click()
    t = wait_stored(qtbot, journal, key, lambda t: t.position == 0.0)
    assert t == original  # every field as before, history and updated_at included
    qtbot.waitUntil(lambda: not view.undo_button.isEnabled(), timeout=WAIT)

    view.undo_stack.redo()
    wait_stored(qtbot, journal, key, lambda t: t.position == 0.05)


def wheel(view, key, modifiers=Qt.KeyboardModifier.NoModifier, times=1):  # type: ignore[no-untyped-def]
    c = view.map.handle_center(key)
    for _ in range(times):
        ev = QWheelEvent(c, view.map.mapToGlobal(c), QPoint(0, 0), QPoint(0, 120), Qt.MouseButton.NoButton,
                         modifiers, Qt.ScrollPhase.NoScrollPhase, False)
        QApplication.sendEvent(view.map, ev)
    return ev


def test_wheel_changes_intensity_once(view, journal, qtbot):
    key = key_of(view, "Present vs Future")
    wheel(view, key, Qt.KeyboardModifier.ControlModifier, times=2)
    assert view.map.values(key)[1] == pytest.approx(0.6)
    t = wait_stored(qtbot, journal, key, lambda t: t.intensity != 0.5)
    assert t.intensity == pytest.approx(0.6)
    assert len(t.metadata["position_history"]) == 1


def test_scrolling_over_the_map_never_edits_a_tension(view, journal, qtbot):
    """Issue 11: a plain wheel over a row's label scrolls (the event goes on to the scroll area)."""
    key = key_of(view, "Present vs Future")
    before = stored(journal, key)
    ev = wheel(view, key, times=3)
    assert not ev.isAccepted()
    assert view.map.values(key)[1] == pytest.approx(0.5)
    qtbot.wait(700)  # longer than the wheel's commit delay: nothing may be written
    after = stored(journal, key)
    assert (after.intensity, after.metadata.get("position_history") or []) == (
        before.intensity, before.metadata.get("position_history") or [])


def test_the_wheel_adjusts_the_handle_that_has_the_focus(view, journal, qtbot):
    key = key_of(view, "Present vs Future")
    view.map.setFocus()
    view.map.select(key)
    qtbot.waitUntil(view.map.hasFocus, timeout=WAIT)
    wheel(view, key)
    assert view.map.values(key)[1] == pytest.approx(0.55)


def test_out_of_range_write_shows_one_sentence_and_restores(view, journal, qtbot):
    key = view.map.keys()[0]
    view._move_requested(key, 3.0, 0.5)
    qtbot.waitUntil(lambda: view.problem.isVisible(), timeout=WAIT)
    assert "between -1 and 1" in view.problem.text()
    assert stored(journal, key).position == 0.0


def test_tooltip_and_history_chart_for_selection(view, journal, qtbot):
    key = key_of(view, "Control vs Surrender")
    view.map.setFocus()
    view.map.select(key)
    QTest.keyClick(view.map, Qt.Key.Key_Left)
    wait_stored(qtbot, journal, key, lambda t: t.position == -0.05)
    qtbot.waitUntil(lambda: len(view.chart._samples) == 1, timeout=WAIT)
    tip = view.map.tooltip_text(key)
    assert "Position -0.05" in tip and "toward Control" in tip and "Last moved" in tip


def test_reflections_where_surfaced_or_mentioned_are_linked(view, journal, qtbot):
    key = key_of(view, "Control vs Surrender")
    r1 = journal.reflections.create(m.Reflection(content="Planning every minute again."))
    journal.engine_runs.create(m.EngineRun(config_version="1.0.0", engine_mode=EngineMode.MANUAL,
                                           reflection_id=r1.id, tensions_surfaced=[key], duration_ms=2))
    journal.reflections.create(m.Reflection(content="Some surrender in the evening."))
    view.map.select(key)
    qtbot.waitUntil(lambda: view.reflections.count() == 2, timeout=WAIT)
    item = next(view.reflections.item(i) for i in range(2) if "surfaced" in view.reflections.item(i).text())
    with qtbot.waitSignal(view.reflection_open_requested, timeout=WAIT) as sig:
        view._reflection_clicked(item)
    assert sig.args == [r1.id]


def test_suggestion_accept_and_dismiss_buttons(view, journal, qtbot):
    assert view.suggestion_box.isVisible()
    row = view.suggestion_rows.itemAt(0).widget()
    accept = next(b for b in row.findChildren(type(view.undo_button)) if b.text() == "Accept")
    accept.click()
    qtbot.waitUntil(lambda: any(view.map.tension(k).name == "Freedom vs Security" for k in view.map.keys()), timeout=WAIT)
    t = next(t for t in journal.tensions.list() if t.name == "Freedom vs Security")
    assert suggestion_status(t) == "accepted"
    assert not view.suggestion_box.isVisible()

    s2 = TensionService(journal).add_suggestion("Work vs Play", "Work", "Play")
    view.reload()
    qtbot.waitUntil(lambda: view.suggestion_box.isVisible(), timeout=WAIT)
    view.dismiss_suggestion(s2.id)
    qtbot.waitUntil(lambda: suggestion_status(journal.tensions.get(s2.id)) == "dismissed", timeout=WAIT)


def test_create_edit_delete_through_dialogs(view, journal, qtbot):
    dlg = TensionDialog(view._data.axes, None, view)
    ok = dlg.buttons.button(dlg.buttons.StandardButton.Ok)
    assert not ok.isEnabled()
    QTest.keyClicks(dlg.pole_a, "Hunger")
    QTest.keyClicks(dlg.pole_b, "Restraint")
    assert dlg.name.text() == "Hunger vs Restraint" and dlg.counter.text() == "19/100" and ok.isEnabled()
    dlg.name.setText("x" * 150)
    assert len(dlg.name.text()) == 100 and dlg.counter.text() == "100/100"
    dlg.name.setText("Hunger vs Restraint")
    dlg.axis.setCurrentIndex(dlg.axis.findText("Time and energy"))
    view.new_tension(dlg)
    qtbot.waitUntil(lambda: any(view.map.tension(k).name == "Hunger vs Restraint" for k in view.map.keys()), timeout=WAIT)
    key = key_of(view, "Hunger vs Restraint")
    qtbot.waitUntil(lambda: view.map.selected() == key, timeout=WAIT)
    assert stored(journal, key).metadata["axis_id"] == TensionService(journal).find_axis("Time and energy").id

    edit = TensionDialog(view._data.axes, view.map.tension(key), view)
    edit.pole_a.setText("Appetite")
    edit.sync.setCurrentIndex(edit.sync.findData("share_full"))
    view.edit_tension(key, edit)
    t = wait_stored(qtbot, journal, key, lambda t: t.axis_a == "Appetite")
    assert str(t.sync_mode) == "share_full" and t.name == "Hunger vs Restraint"  # a typed name is kept

    axis_dlg = AxisDialog(None, view)
    axis_dlg.name.setText("Body")
    axis_dlg.category.setCurrentText("somatic")
    axis_dlg.set_color("#336699")
    view.new_axis(axis_dlg)
    qtbot.waitUntil(lambda: TensionService(journal).find_axis("Body") is not None, timeout=WAIT)
    assert TensionService(journal).find_axis("Body").metadata["visual_color"] == "#336699"

    view.delete_tension(key, confirm=lambda *a: False)
    qtbot.wait(200)
    assert journal.tensions.find(key) is not None
    view.delete_tension(key, confirm=lambda *a: True)
    qtbot.waitUntil(lambda: journal.tensions.find(key) is None, timeout=WAIT)
    qtbot.waitUntil(lambda: key not in view.map.keys(), timeout=WAIT)


def test_identity_scope(view, journal, qtbot):
    work = journal.identities.create(m.Identity(metadata={"name": "Work"}))
    TensionService(journal).create_tension("Deadlines vs Craft", "Deadlines", "Craft", identity_id=work.id)
    view.set_identity(work.id, False)
    qtbot.waitUntil(lambda: any(view.map.tension(k).name == "Deadlines vs Craft" for k in view.map.keys()), timeout=WAIT)
    view.set_identity(None, True)
    qtbot.waitUntil(lambda: all(view.map.tension(k).name != "Deadlines vs Craft" for k in view.map.keys()), timeout=WAIT)
