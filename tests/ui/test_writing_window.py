"""Issue 16 in the real window, on a real journal: calendar, tags, reminders, templates, dates, focus, On This Day."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from mirror_desktop.core.templates import TemplateService
from mirror_desktop.core.writing import ReminderSettings, WritingService, WritingSettings
from mirror_desktop.ui.writing.dates import DateDialog
from mirror_desktop.ui.writing.reminders import MESSAGE
from mirror_desktop.storage.journal import SQLiteStorage
from mirror_desktop.paths import AppPaths

from ui_helpers import read, seed

PAST = date(2025, 3, 14)


def local_noon(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, 0).astimezone()


def with_storage(data_dir: Path, fn):  # type: ignore[no-untyped-def]
    storage = SQLiteStorage(AppPaths.resolve(data_dir).database)
    try:
        return fn(storage)
    finally:
        storage.close()


def write(svc, text, day, *, identity=None, tags=(), hour=12):  # type: ignore[no-untyped-def]
    return svc.save_reflection(text, identity_id=identity, tags=list(tags), created_at=local_noon(day, hour))


def test_views_are_built_on_first_use_not_at_start(make_window) -> None:  # type: ignore[no-untyped-def]
    w = make_window()
    assert w.writing.calendar is None and w.writing.stats is None and w.writing.focus is None
    assert w.stack.count() == 4
    w.show_view("calendar")
    assert w.writing.calendar is not None and w.stack.currentWidget() is w.writing.calendar
    assert w.writing.stats is None


def test_a_day_opens_its_reflection_and_enter_on_an_empty_day_starts_one_dated_that_day(
        make_window, journal_dir, qtbot) -> None:  # type: ignore[no-untyped-def]
    r = seed(journal_dir, lambda s: write(s, "The ides of March, a quiet day.", PAST))
    w = make_window()
    w.show_view("calendar")
    cal = w.writing.calendar
    with qtbot.waitSignal(cal.month_loaded, timeout=10000, check_params_cb=lambda y, m: (y, m) == (2025, 3)):
        cal.grid.select(PAST)
    assert cal.grid.count(PAST) == 1 and cal.grid.count(PAST + timedelta(days=1)) == 0
    qtbot.waitUntil(lambda: cal.day_reflection_ids() == [r.id], timeout=10000)
    cal.grid.setFocus()
    qtbot.keyClick(cal.grid, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: w.editor.state.reflection_id == r.id, timeout=10000)
    assert w.editor.content() == "The ides of March, a quiet day."

    empty = PAST + timedelta(days=2)
    with qtbot.waitSignal(cal.day_loaded, timeout=10000, check_params_cb=lambda d: d == empty):
        qtbot.keyClick(cal.grid, Qt.Key.Key_Right)
        qtbot.keyClick(cal.grid, Qt.Key.Key_Right)
    qtbot.keyClick(cal.grid, Qt.Key.Key_Return)
    assert not w.editor.is_saved_reflection and w.editor.state.date is not None
    assert w.editor.state.date.date() == empty
    qtbot.keyClicks(w.editor.text, "Written later for that Sunday.")
    with qtbot.waitSignal(w.client.reflection_saved, timeout=10000) as saved:
        w.autosave.save_now()
    stored = read(journal_dir, lambda s: s.get_reflection(saved.args[0].id))
    assert stored.created_at.astimezone().date() == empty
    # the calendar counts it without being asked
    qtbot.waitUntil(lambda: cal.grid.count(empty) == 1, timeout=10000)


def test_the_calendar_follows_the_identity_switcher(make_window, journal_dir, qtbot) -> None:  # type: ignore[no-untyped-def]
    def fill(s):  # type: ignore[no-untyped-def]
        a = s.create_identity("At work")
        s.create_identity("At home")
        write(s, "Work, the morning.", PAST, identity=a.id, hour=9)
        write(s, "Work, the evening.", PAST, identity=a.id, hour=19)
        write(s, "Nobody's page.", PAST)
        return a
    a = seed(journal_dir, fill)
    w = make_window()
    w.show_view("calendar")
    cal = w.writing.calendar
    cal.grid.select(PAST)
    qtbot.waitUntil(lambda: cal.grid.count(PAST) == 3, timeout=10000)
    w.journal.select_identity(a.id)
    qtbot.waitUntil(lambda: cal.grid.count(PAST) == 2, timeout=10000)
    w.journal.select_identity(None, anonymous=True)
    qtbot.waitUntil(lambda: cal.grid.count(PAST) == 1, timeout=10000)


def test_a_tag_click_filters_the_list_and_a_rename_reaches_every_reflection(
        make_window, journal_dir, qtbot) -> None:  # type: ignore[no-untyped-def]
    def fill(s):  # type: ignore[no-untyped-def]
        for i in range(3):
            write(s, f"Slept badly {i}.", PAST - timedelta(days=i), tags=["sleep"])
        write(s, "Work again.", PAST - timedelta(days=5), tags=["work", "sleep"])
        write(s, "Just work.", PAST - timedelta(days=6), tags=["work"])
    seed(journal_dir, fill)
    w = make_window()
    tags = w.writing.tag_browser
    qtbot.waitUntil(lambda: dict(tags.tags()) == {"sleep": 4, "work": 2}, timeout=10000)
    item = tags.item_for("work")
    rect = tags.list.visualItemRect(item)
    with qtbot.waitSignal(w.list_model.first_page_loaded, timeout=10000):
        qtbot.mouseClick(tags.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert w.list_model.rowCount() == 2 and "#work" in w.journal.list_title.text()
    # a second click shows everything again
    with qtbot.waitSignal(w.list_model.first_page_loaded, timeout=10000):
        qtbot.mouseClick(tags.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert w.list_model.rowCount() == 5

    with qtbot.waitSignal(w.writing.client.tags_changed, timeout=10000) as changed:
        w.writing._retag("sleep", "rest")
    assert changed.args == [4]
    qtbot.waitUntil(lambda: dict(tags.tags()) == {"rest": 4, "work": 2}, timeout=10000)
    stored = read(journal_dir, lambda s: [r.tags for r in s.reflections_page(limit=10)])
    assert sum("rest" in t for t in stored) == 4 and not any("sleep" in t for t in stored)


def _reminders_on(journal_dir: Path) -> None:
    with_storage(journal_dir, lambda st: WritingService(st).save_settings(
        WritingSettings(time_zone="UTC", reminder=ReminderSettings(True, "21:00", (0, 1, 2, 3, 4, 5, 6)))))


def test_a_reminder_fires_once_for_a_blank_day_and_not_again_after_the_clock_is_set_back(
        make_window, journal_dir, qtbot) -> None:  # type: ignore[no-untyped-def]
    seed(journal_dir, lambda s: None)
    _reminders_on(journal_dir)
    w = make_window()
    qtbot.waitUntil(lambda: w.writing.scheduler is not None and w.writing.scheduler.enabled
                    and not w.writing.scheduler._asking, timeout=10000)
    sched = w.writing.scheduler
    sched.stop()  # the test drives the ticks
    fired: list[date] = []
    sched.reminder_due.connect(fired.append)
    clock = [datetime(2025, 6, 10, 20, 0, tzinfo=UTC)]
    sched.clock = lambda: clock[0]

    def tick() -> None:
        sched.check()
        qtbot.waitUntil(lambda: not sched._asking, timeout=10000)
        w.executor.submit(lambda _s: None, lambda _r: None)  # the mark lands before the next question
        qtbot.waitUntil(lambda: w.executor.pending == 0, timeout=10000)

    tick()
    assert fired == []  # before 21:00
    clock[0] = datetime(2025, 6, 10, 21, 5, tzinfo=UTC)
    tick()
    assert fired == [date(2025, 6, 10)]
    assert w.editor.banner.isVisible() and w.editor.banner.text == MESSAGE
    tick()
    clock[0] = datetime(2025, 6, 10, 19, 0, tzinfo=UTC)  # the clock jumps back …
    tick()
    clock[0] = datetime(2025, 6, 10, 21, 30, tzinfo=UTC)  # … and forward past the time again
    tick()
    assert fired == [date(2025, 6, 10)]
    sched._fired.clear()  # a restarted window: only the journal remembers
    tick()
    assert fired == [date(2025, 6, 10)]
    clock[0] = datetime(2025, 6, 11, 21, 1, tzinfo=UTC)
    w.showMinimized()
    tick()
    assert fired == [date(2025, 6, 10), date(2025, 6, 11)]
    assert w.writing.notice is not None and w.writing.notice.last_channel in ("tray", "alert")


def test_no_reminder_when_the_day_already_has_writing(make_window, journal_dir, qtbot) -> None:  # type: ignore[no-untyped-def]
    seed(journal_dir, lambda s: s.save_reflection("Wrote at lunch.", created_at=datetime(2025, 6, 10, 12, 0, tzinfo=UTC)))
    _reminders_on(journal_dir)
    w = make_window()
    qtbot.waitUntil(lambda: w.writing.scheduler is not None and not w.writing.scheduler._asking, timeout=10000)
    sched = w.writing.scheduler
    sched.stop()
    # The window's own first check read the real clock: after 21:00 UTC today has no writing, so it showed
    # today's reminder. Only what the check of 10 June does counts here.
    w.editor.banner.hide()
    fired: list[date] = []
    sched.reminder_due.connect(fired.append)
    sched.clock = lambda: datetime(2025, 6, 10, 22, 0, tzinfo=UTC)
    with qtbot.waitSignal(sched.stayed_quiet, timeout=10000) as quiet:
        sched.check()
    assert quiet.args == [date(2025, 6, 10)] and fired == []
    assert not w.editor.banner.isVisible() or w.editor.banner.text != MESSAGE


def test_f11_hides_everything_but_the_text_and_f11_brings_it_back(make_window, qtbot) -> None:  # type: ignore[no-untyped-def]
    w = make_window()
    assert w.sidebar.isVisible() and w.menuBar().isVisible()
    qtbot.keyClick(w, Qt.Key.Key_F11)
    assert w.writing.focus is not None and w.writing.focus.active
    for widget in (w.sidebar, w.stack, w.editor.header, w.editor.footer, w.side_column, w.menuBar(), w.statusBar()):
        assert not widget.isVisible()
    assert w.editor.text.isVisible() and w.focus_action.isChecked()
    qtbot.keyClick(w.editor.text, Qt.Key.Key_F11)
    assert not w.writing.focus.active
    assert w.sidebar.isVisible() and w.editor.header.isVisible() and w.menuBar().isVisible()
    qtbot.keyClick(w, Qt.Key.Key_F11)
    qtbot.keyClick(w.editor.text, Qt.Key.Key_Escape)  # Esc leaves too
    assert not w.writing.focus.active and w.sidebar.isVisible()
    w.show_view("stats")  # from the charts, F11 brings the text back first
    qtbot.keyClick(w, Qt.Key.Key_F11)
    assert w.writing.focus.active and w.editor.text.isVisible() and w.view == "reflections"
    qtbot.keyClick(w.editor.text, Qt.Key.Key_F11)


def test_ctrl_shift_n_starts_from_a_template_which_is_saved_only_once_edited(
        make_window, journal_dir, qtbot) -> None:  # type: ignore[no-untyped-def]
    w = make_window()
    qtbot.keyClick(w, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: getattr(w.writing, "picker", None) is not None and w.writing.picker.isVisible(),
                    timeout=10000)
    picker = w.writing.picker
    names = [picker.list.item(i).data(Qt.ItemDataRole.UserRole + 1) for i in range(picker.list.count())]
    assert "gratitude" in names and "evening review" in names
    picker.list.setCurrentRow(names.index("gratitude"))
    picker.accept()
    assert "grateful" in w.editor.content() and not w.editor.is_saved_reflection
    assert not w.autosave.dirty  # an untouched template is not a reflection
    qtbot.keyClicks(w.editor.text, " The rain.")
    with qtbot.waitSignal(w.client.reflection_saved, timeout=10000) as saved:
        w.autosave.save_now()
    assert (saved.args[0].metadata or {}).get("template") == "gratitude"


def test_templates_are_added_edited_and_deleted_in_the_dialog(make_window, journal_dir, qtbot) -> None:  # type: ignore[no-untyped-def]
    w = make_window()
    w.templates_action.trigger()
    qtbot.waitUntil(lambda: getattr(w.writing, "templates_dialog", None) is not None, timeout=10000)
    dialog = w.writing.templates_dialog
    dialog.start_new()
    dialog.name_edit.setText("morning pages")
    dialog.body_edit.setPlainText("What woke me up?")
    with qtbot.waitSignal(w.writing.client.templates_changed, timeout=10000):
        dialog.save_button.click()
    names = lambda: [t.name for t in with_storage(journal_dir, lambda st: TemplateService(st).list())]  # noqa: E731
    assert "morning pages" in names()
    qtbot.waitUntil(lambda: dialog.name_edit.text() == "morning pages", timeout=10000)
    dialog.body_edit.setPlainText("")  # an empty template is refused in one sentence
    dialog.save_button.click()
    qtbot.waitUntil(lambda: dialog.error.isVisible(), timeout=10000)
    assert "empty" in dialog.error.text()
    with qtbot.waitSignal(w.writing.client.templates_changed, timeout=10000):
        dialog.delete_button.click()
    assert "morning pages" not in names()


def test_an_existing_reflection_can_be_backdated_but_not_into_the_future(
        make_window, journal_dir, qtbot) -> None:  # type: ignore[no-untyped-def]
    r = seed(journal_dir, lambda s: s.save_reflection("Dated wrongly."))
    w = make_window()
    w.journal.open_reflection(r.id)
    qtbot.waitUntil(lambda: w.editor.state.reflection_id == r.id, timeout=10000)
    when = local_noon(PAST, 21)
    w.editor.set_date(when)
    assert "14 March 2025" in w.editor.date_label.text()
    with qtbot.waitSignal(w.client.reflection_saved, timeout=10000):
        w.autosave.save_now()
    stored = read(journal_dir, lambda s: s.get_reflection(r.id))
    assert stored.created_at == when.astimezone(UTC) and stored.content == "Dated wrongly."

    now = datetime.now().astimezone()
    dialog = DateDialog(when, now=now)
    qtbot.addWidget(dialog)
    assert dialog.edit.maximumDateTime().date().toPython() == now.date()
    assert "1900" in str(dialog.edit.minimumDateTime().date().year())


def test_on_this_day_shows_earlier_years_and_the_line_can_be_put_away_per_identity(
        make_window, journal_dir, qtbot) -> None:  # type: ignore[no-untyped-def]
    today = date.today()
    earlier = today.replace(year=today.year - 3) if not (today.month == 2 and today.day == 29) else date(today.year - 4, 2, 29)
    r = seed(journal_dir, lambda s: write(s, "Three years back, the move.", earlier))
    w = make_window()
    qtbot.waitUntil(lambda: w.writing.on_this_day_panel is not None, timeout=10000)
    panel, line = w.writing.on_this_day_panel, w.writing.on_this_day_line
    assert panel.isVisible() and [m.reflection_id for m in panel.memories] == [r.id]
    assert line.isVisible() and line.label.text().startswith(f"{today.year - earlier.year} years ago today you wrote")
    line.read_button.click()
    qtbot.waitUntil(lambda: w.editor.state.reflection_id == r.id, timeout=10000)
    line.close_button.click()
    assert not line.isVisible()
    with qtbot.waitSignal(w.writing.on_this_day_loaded, timeout=10000):
        w.writing.reload_on_this_day()
    assert not line.isVisible() and panel.isVisible()  # put away for today; the panel stays
    w.journal.select_identity(None, anonymous=True)  # another identity has its own line
    qtbot.waitUntil(lambda: line.isVisible(), timeout=10000)


def test_the_statistics_page_draws_the_journal(make_window, journal_dir, qtbot) -> None:  # type: ignore[no-untyped-def]
    today = date.today()
    seed(journal_dir, lambda s: [write(s, "word " * 10, today - timedelta(days=i), tags=["sleep"]) for i in (1, 2, 3)])
    w = make_window()
    with qtbot.waitSignal(w.view_changed):
        w.view_actions["stats"].trigger()
    stats = w.writing.stats
    qtbot.waitUntil(lambda: stats.stats is not None, timeout=10000)
    assert not w.editor_column.isVisible()
    assert stats.longest_tile.value.text() == "3 days"
    assert stats.heat.level_of(today - timedelta(days=2)) > 0 and stats.heat.level_of(today - timedelta(days=9)) == 0
    assert stats.tags.bars == [("#sleep", 3.0)]
    assert sum(v for _k, v in stats.words_week.bars) == 30


def test_screenshot_of_the_calendar_from_the_command_line(journal_dir, tmp_path) -> None:  # type: ignore[no-untyped-def]
    seed(journal_dir, lambda s: write(s, "A day.", date.today() - timedelta(days=1)))
    out = tmp_path / "calendar.png"
    r = subprocess.run([sys.executable, "-m", "mirror_desktop", "--data-dir", str(journal_dir), "--view", "calendar",
                        "--screenshot", str(out)], capture_output=True, text=True, timeout=120,
                       env={**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen"})
    assert r.returncode == 0, r.stderr
    from PySide6.QtGui import QImage

    image = QImage(str(out))
    assert image.width() == 1280 and image.height() == 800
    assert QApplication.instance() is not None


def test_settings_refuse_a_reminder_at_25_61_and_store_a_good_one(make_window, journal_dir, qtbot) -> None:  # type: ignore[no-untyped-def]
    from mirror_desktop.ui.dialogs.settings import SettingsDialog

    w = make_window()
    qtbot.waitUntil(lambda: w.writing.writing_settings is not None, timeout=10000)
    dlg = SettingsDialog(w.paths, "light", w, writing=w.writing.writing_settings)
    qtbot.addWidget(dlg)
    form = dlg.writing
    assert form is not None
    form.remind.setChecked(True)
    form.time.setText("25:61")
    dlg.accept()
    assert dlg.result() == 0 and not form.error.isHidden() and "25:61" in form.error.text()
    form.time.setText("21:30")
    for box in form.days[5:]:
        box.setChecked(False)  # weekdays only
    form.day_start.setCurrentIndex(form.day_start.findData(4))
    dlg.accept()
    assert dlg.result() == 1
    chosen = dlg.writing_settings()
    with qtbot.waitSignal(w.writing.client.settings_saved, timeout=10000):
        w.writing.save_writing_settings(chosen)
    stored = with_storage(journal_dir, lambda st: WritingService(st).settings())
    assert stored.reminder.enabled and stored.reminder.time == "21:30" and stored.reminder.weekdays == (0, 1, 2, 3, 4)
    assert stored.day_start_hour == 4
    assert w.writing.scheduler is not None and w.writing.scheduler.enabled


def test_a_tag_renamed_to_two_words_is_refused_in_one_sentence_and_nothing_changes(
        make_window, journal_dir, qtbot) -> None:  # type: ignore[no-untyped-def]
    seed(journal_dir, lambda s: write(s, "Slept.", PAST, tags=["sleep"]))
    w = make_window()
    qtbot.waitUntil(lambda: dict(w.writing.tag_browser.tags()) == {"sleep": 1}, timeout=10000)
    w.writing._retag("sleep", "bad sleep")
    qtbot.waitUntil(lambda: w.editor.banner.isVisible(), timeout=10000)
    assert "sleep" in w.editor.banner.text and w.editor.banner.text.count(".") <= 2
    stored = read(journal_dir, lambda s: [r.tags for r in s.reflections_page(limit=5)])
    assert stored == [["sleep"]]
