"""WritingController: the nightly writer's habits in the window — calendar, statistics, On This Day,
templates, tags, reminders, backdating and focus mode — wired to the WritingClient.

MainWindow creates it with a few lines; everything heavier than a QObject is built on first use (the
calendar and statistics pages when first shown, the On This Day panel when there is something to show,
focus mode on the first F11), because start-up time is measured. The tag browser is the exception: it
lives in the sidebar, is a small list, and asks for its counts only after the journal's first page.
"""

from __future__ import annotations

from datetime import date, datetime
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from PySide6.QtCore import QObject, QSettings, QTimer, Signal
from PySide6.QtWidgets import QInputDialog, QVBoxLayout, QWidget

from mirror_desktop.core.writing import WritingSettings
from mirror_desktop.ui import format as fmt
from mirror_desktop.ui.writing.on_this_day import Memory, OnThisDayLine, OnThisDayPanel
from mirror_desktop.ui.writing.tags import TagBrowser
from mirror_desktop.workers.writing import WritingClient, scope_of

if TYPE_CHECKING:
    from mirror_desktop.ui.calendar.view import CalendarView
    from mirror_desktop.ui.main_window import MainWindow
    from mirror_desktop.ui.stats.view import StatsView
    from mirror_desktop.ui.writing.focus import FocusMode
    from mirror_desktop.ui.writing.reminders import ReminderNotice, ReminderScheduler

TAG_RELOAD_MS = 1500  # typing saves every two seconds; the tag counts follow, not every keystroke's save


class WritingController(QObject):
    """Owns the issue 16 features of one window.

    Signals:
        tags_loaded(int): the tag browser shows fresh counts; payload is the number of tags.
        on_this_day_loaded(int): On This Day was asked; payload is how many reflections it found.
        settings_loaded(object): the journal's WritingSettings arrived (or were saved); payload is them.
    """

    tags_loaded = Signal(int)
    on_this_day_loaded = Signal(int)
    settings_loaded = Signal(object)

    def __init__(self, window: MainWindow, settings: QSettings) -> None:
        super().__init__(window)
        self.window = window
        self.qsettings = settings
        self.client = WritingClient(window.executor, self)
        self.identity: tuple[str | None, bool] = (None, False)
        self.writing_settings = WritingSettings()
        self.calendar: CalendarView | None = None
        self.stats: StatsView | None = None
        self.focus: FocusMode | None = None
        self.scheduler: ReminderScheduler | None = None
        self.notice: ReminderNotice | None = None
        self.on_this_day_panel: OnThisDayPanel | None = None
        self.on_this_day_line: OnThisDayLine | None = None
        self.memories: list[Memory] = []
        self.tag_browser = TagBrowser()
        cast(QVBoxLayout, window.sidebar.layout()).addWidget(self.tag_browser)
        self._tag_timer = QTimer(self)
        self._tag_timer.setSingleShot(True)
        self._tag_timer.setInterval(TAG_RELOAD_MS)
        self._tag_timer.timeout.connect(self.reload_tags)
        self._connect()

    def _connect(self) -> None:
        w, j, c = self.window, self.window.journal, self.client
        j.identity_changed.connect(self.set_identity)
        w.client.reflection_saved.connect(self._written)
        w.client.reflection_deleted.connect(self._written)
        c.tags_changed.connect(self._tags_changed)
        c.operation_failed.connect(lambda text: w.editor.banner.show_message(
            text, [("Dismiss", w.editor.banner.hide)], kind="error"))
        c.settings_saved.connect(self._settings_arrived)
        self.tag_browser.tag_selected.connect(self._tag_selected)
        self.tag_browser.rename_requested.connect(self.rename_tag)
        self.tag_browser.merge_requested.connect(self.merge_tag)
        w.editor.date_change_requested.connect(self.change_date)

    # -- the journal -----------------------------------------------------------------------------------
    def journal_loaded(self) -> None:
        """The window settled on the journal's first page (MainWindow.settled): load this feature's state."""
        self.reload_tags()
        self.reload_on_this_day()
        self.client.settings(self._settings_arrived, lambda _e: None)

    def journal_replaced(self) -> None:
        """An import changed the journal: every count and list of this feature is asked again."""
        self.journal_loaded()
        self._written()

    def set_identity(self, identity_id: str | None, anonymous: bool) -> None:
        """Follow the identity switcher: calendar, statistics, tags and On This Day are the shown identity's."""
        self.identity = (identity_id, anonymous)
        for view in (self.calendar, self.stats):
            if view is not None:
                view.set_identity(identity_id, anonymous)
        if self.window.journal.is_open:
            self.reload_tags()
            self.reload_on_this_day()

    @property
    def scope(self) -> Any:
        return scope_of(*self.identity)

    def _written(self, *_: Any) -> None:
        for view in (self.calendar, self.stats):
            if view is not None:
                view.invalidate()
        self._tag_timer.start()

    # -- lazy pages --------------------------------------------------------------------------------------
    def page(self, name: str) -> QWidget:
        """The calendar or statistics page, built the first time it is shown."""
        if name == "calendar":
            if self.calendar is None:
                from mirror_desktop.ui.calendar.view import CalendarView

                self.calendar = CalendarView(self.client)
                self.calendar.set_identity(*self.identity)
                self.calendar.reflection_requested.connect(self.window.journal.open_reflection)
                self.calendar.new_for_day_requested.connect(self.new_for_day)
                self.window.stack.addWidget(self.calendar)
            return self.calendar
        if self.stats is None:
            from mirror_desktop.ui.stats.view import StatsView

            self.stats = StatsView(self.client)
            self.stats.set_identity(*self.identity)
            self.window.stack.addWidget(self.stats)
        return self.stats

    def new_for_day(self, day: date) -> None:
        from mirror_desktop.ui.calendar.view import noon_of

        self.window.journal.new_reflection(date=noon_of(day))

    # -- templates ------------------------------------------------------------------------------------
    def new_from_template(self) -> None:
        """Ctrl+Shift+N: choose a template, then a new page starts with it (saved once it is edited)."""
        self.client.templates(self._pick)

    def _pick(self, templates: list[Any]) -> None:
        from mirror_desktop.ui.writing.templates import TemplatePicker

        picker = TemplatePicker(templates, self.window)
        self.picker = picker

        def chosen() -> None:
            name, body = picker.chosen_name(), picker.chosen_body()
            if name:
                self.window.new_reflection(text=body, template=name)

        picker.accepted.connect(chosen)
        picker.manage_requested.connect(lambda: self.manage_templates(picker))
        picker.finished.connect(lambda _r: picker.deleteLater())
        picker.open()

    def manage_templates(self, picker: Any = None) -> None:
        self.client.templates(lambda ts: self._manage(ts, picker))

    def _manage(self, templates: list[Any], picker: Any) -> None:
        from mirror_desktop.ui.writing.templates import ManageTemplates

        dialog = ManageTemplates(templates, picker or self.window)
        self.templates_dialog = dialog

        def refresh(select: str | None = None) -> None:
            def arrived(ts: list[Any]) -> None:
                dialog.set_templates(ts, select)
                if picker is not None:
                    picker.set_templates(ts)
            self.client.templates(arrived)

        dialog.save_requested.connect(lambda old, name, body: self.client.save_template(
            old, name, body, lambda saved: refresh(saved.name), lambda exc: dialog.show_error(_sentence(exc))))
        dialog.delete_requested.connect(lambda name: self.client.delete_template(
            name, lambda _r: refresh(None), lambda exc: dialog.show_error(_sentence(exc))))
        dialog.finished.connect(lambda _r: dialog.deleteLater())
        dialog.open()

    # -- tags --------------------------------------------------------------------------------------------
    def reload_tags(self) -> None:
        def arrived(counts: list[Any]) -> None:
            self.tag_browser.set_tags([(t.tag, t.count) for t in counts])
            self.tags_loaded.emit(len(counts))
        self.client.tag_counts(self.scope, arrived)

    def _tag_selected(self, tag: str | None) -> None:
        self.window.journal.set_tag_filter(tag)
        if tag is not None and self.window.view != "reflections":
            self.window.show_view("reflections")

    def rename_tag(self, tag: str) -> None:
        new, ok = QInputDialog.getText(self.window, "Rename tag", f"New name for #{tag} (on every reflection):",
                                       text=tag)
        if ok and new.strip() and new.strip().lstrip("#") != tag:
            self._retag(tag, new.strip())

    def merge_tag(self, tag: str) -> None:
        others = [t for t, _n in self.tag_browser.tags() if t != tag]
        into, ok = QInputDialog.getItem(self.window, "Merge tag", f"Merge #{tag} into:", others, 0, True)
        if ok and into.strip() and into.strip().lstrip("#") != tag:
            self._retag(tag, into.strip())

    def _retag(self, old: str, new: str) -> None:
        """Rename or merge on every reflection; what the editor holds is saved first (it is queued ahead)."""
        self.window.autosave.save_now()
        target = new.lstrip("#")

        def done(_n: int) -> None:
            if self.tag_browser.current == old:
                self.tag_browser.select(target.lower())
            self._refresh_editor_tags()

        self.client.rename_tag(old, new, done)

    def _tags_changed(self, n: int) -> None:
        self.reload_tags()
        self.window.list_model.reload()
        self.window.statusBar().showMessage(f"{fmt.plural(n, 'reflection')} updated.", 6000)
        self._written()

    def _refresh_editor_tags(self) -> None:
        editor = self.window.editor
        if not editor.is_saved_reflection:
            return
        rid = editor.state.reflection_id

        def arrived(r: Any) -> None:
            if editor.state.reflection_id == rid:
                editor.show_tags(tuple(r.tags))
        self.window.client.read(lambda s: s.get_reflection(rid), arrived, lambda _e: None)

    # -- On This Day -----------------------------------------------------------------------------------
    def reload_on_this_day(self) -> None:
        scope = self.identity

        def arrived(entries: list[Any]) -> None:
            if scope != self.identity:
                return
            today = date.today()
            self.memories = [Memory(e.reflection.id, e.reflection.created_at, e.years_ago,
                                    fmt.first_line(e.reflection.content, 140)) for e in entries]
            self._show_memories(today)
            self.on_this_day_loaded.emit(len(self.memories))
        self.client.on_this_day(self.scope, arrived)

    def _dismiss_key(self) -> str:
        ident, anonymous = self.identity
        return "on_this_day/dismissed/" + ("anonymous" if anonymous else (ident or "all"))

    def _show_memories(self, today: date) -> None:
        if self.memories and self.on_this_day_panel is None:
            self.on_this_day_panel = OnThisDayPanel()
            self.on_this_day_panel.reflection_requested.connect(self.window.journal.open_reflection)
            self.window.side_layout.insertWidget(0, self.on_this_day_panel)
            self.on_this_day_line = OnThisDayLine()
            self.on_this_day_line.reflection_requested.connect(self._read_memory)
            self.on_this_day_line.dismissed.connect(self._dismiss_line)
            page = cast(QVBoxLayout, self.window.journal.reflection_page.layout())
            page.insertWidget(1, self.on_this_day_line)  # under the list's title: the start screen
        if self.on_this_day_panel is None or self.on_this_day_line is None:
            return
        self.on_this_day_panel.set_memories(self.memories)
        dismissed = str(self.qsettings.value(self._dismiss_key(), "")) == today.isoformat()
        first = self.memories[0] if self.memories and not dismissed else None
        self.on_this_day_line.show_memory(first, len(self.memories) - 1 if first else 0)

    def _read_memory(self, reflection_id: str) -> None:
        self.window.show_view("reflections")
        self.window.journal.open_reflection(reflection_id)

    def _dismiss_line(self) -> None:
        """Put the line away for today, for this identity; the panel beside the editor stays."""
        self.qsettings.setValue(self._dismiss_key(), date.today().isoformat())

    # -- backdating and focus ------------------------------------------------------------------------
    def change_date(self) -> None:
        from mirror_desktop.ui.writing.dates import DateDialog

        editor = self.window.editor
        current = editor.state.date or editor.state.created_at or datetime.now().astimezone()
        dialog = DateDialog(current, parent=self.window)
        self.date_dialog = dialog
        dialog.accepted.connect(lambda: editor.set_date(dialog.chosen()))
        dialog.finished.connect(lambda _r: dialog.deleteLater())
        dialog.open()

    def toggle_focus(self) -> None:
        if not self.window.editor_column.isVisible():
            self.window.show_view("reflections")  # from the map or the charts: the text comes back first
        if self.focus is None:
            from mirror_desktop.ui.writing.focus import FocusMode

            w = self.window
            self.focus = FocusMode(w, w.editor.text, [w.sidebar, w.stack, w.editor.header, w.editor.footer,
                                                      w.editor.banner, w.side_column])
        self.focus.toggle()

    # -- reminders -------------------------------------------------------------------------------------
    def _settings_arrived(self, ws: WritingSettings) -> None:
        self.writing_settings = ws
        if ws.reminder.enabled and self.scheduler is None:
            self._build_scheduler()
        if self.scheduler is not None:
            self.scheduler.set_enabled(ws.reminder.enabled)
        self.settings_loaded.emit(ws)
        for view in (self.calendar, self.stats):
            if view is not None:
                view.invalidate()

    def _build_scheduler(self) -> None:
        from mirror_desktop.ui.writing.reminders import ReminderNotice, ReminderScheduler

        w = self.window
        def ask(now: datetime, answer: Callable[[Any], None]) -> None:
            self.client.reminder_due(now, answer, lambda _e: answer(None))

        def record(day: date) -> None:
            self.client.mark_reminder_fired(day)

        self.scheduler = ReminderScheduler(ask, record, parent=self)
        self.notice = ReminderNotice(w, lambda text: w.editor.banner.show_message(
            text, [("Write now", self._write_now), ("Later", w.editor.banner.hide)]))
        self.scheduler.reminder_due.connect(self.notice.show)

    def _write_now(self) -> None:
        self.window.editor.banner.hide()
        if self.window.editor.is_saved_reflection or self.window.editor.content().strip():
            self.window.new_reflection()
        self.window.editor.text.setFocus()

    def save_writing_settings(self, ws: WritingSettings) -> None:
        self.client.save_settings(ws)

    def shutdown(self) -> None:
        if self.scheduler is not None:
            self.scheduler.stop()
        self._tag_timer.stop()


def _sentence(exc: BaseException) -> str:
    from mirror_desktop.workers.base import sentence

    return sentence(exc)
