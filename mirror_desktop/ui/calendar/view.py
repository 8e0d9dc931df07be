"""CalendarView: a month of days with their reflection counts, and the chosen day's reflections beneath.

One aggregate query per month (``WritingClient.month_counts``, on the read lane), asked when the month
or the identity changes or something is written; answers for a month or identity no longer shown are
dropped. Enter (or a double click) on a day opens its first reflection, or a new one dated that day.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from mirror_desktop.ui import format as fmt
from mirror_desktop.ui.calendar.month_grid import MonthGrid, add_months
from mirror_desktop.ui.theme import named
from mirror_desktop.ui.writing.scoped_page import ScopedPage
from mirror_desktop.workers.writing import WritingClient

IdRole = Qt.ItemDataRole.UserRole + 1
MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
               "October", "November", "December")


class CalendarView(ScopedPage):
    """The calendar page.

    Signals:
        reflection_requested(str): open this reflection in the editor; payload is its id.
        new_for_day_requested(object): start a new reflection dated that day; payload is the datetime.date.
        month_loaded(int, int): a month's counts are on screen; (year, month).
        day_loaded(object): the chosen day's reflections are listed; payload is the datetime.date.
    """

    reflection_requested = Signal(str)
    new_for_day_requested = Signal(object)
    month_loaded = Signal(int, int)
    day_loaded = Signal(object)

    def __init__(self, client: WritingClient, today: date | None = None, parent: QWidget | None = None) -> None:
        super().__init__(client, parent)
        self.setObjectName("calendarView")
        self._generation = 0
        self._day_ids: list[str] = []
        self._day_loaded_for: date | None = None
        self._open_when_loaded: date | None = None
        self._asked: tuple[int, date] | None = None
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        head = named(QWidget(), "viewHeader")
        hl = QHBoxLayout(head)
        hl.setContentsMargins(16, 12, 12, 10)
        titles = QVBoxLayout()
        self.title = named(QLabel(""), "viewTitle")
        self.subtitle = named(QLabel(""), "muted")
        titles.addWidget(self.title)
        titles.addWidget(self.subtitle)
        hl.addLayout(titles, 1)
        self.prev_button = named(QToolButton(), "navButton")
        self.prev_button.setText("‹")
        self.prev_button.setToolTip("Previous month (Page Up)")
        self.today_button = QPushButton("Today")
        self.today_button.setToolTip("Back to today (T)")
        self.next_button = named(QToolButton(), "navButton")
        self.next_button.setText("›")
        self.next_button.setToolTip("Next month (Page Down)")
        for b in (self.prev_button, self.today_button, self.next_button):
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the keys stay with the grid
            hl.addWidget(b, 0, Qt.AlignmentFlag.AlignVCenter)
        lay.addWidget(head)
        body = named(QWidget(), "calendarBody")
        bl = QVBoxLayout(body)
        bl.setContentsMargins(12, 8, 12, 8)
        self.grid = MonthGrid(today)
        bl.addWidget(self.grid, 3)
        day_head = QHBoxLayout()
        self.day_title = named(QLabel(""), "dayTitle")
        self.write_button = QPushButton("Write for this day")
        self.write_button.setToolTip("A new reflection dated this day")
        self.write_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        day_head.addWidget(self.day_title, 1)
        day_head.addWidget(self.write_button)
        bl.addLayout(day_head)
        self.day_list = named(QListWidget(), "dayList")
        self.day_list.setMinimumHeight(90)
        bl.addWidget(self.day_list, 1)
        lay.addWidget(body, 1)

        self.grid.month_changed.connect(lambda _y, _m: self.reload())
        self.grid.day_selected.connect(self._day_selected)
        self.grid.day_activated.connect(self.open_day)
        self.prev_button.clicked.connect(lambda: self.grid.select(add_months(self.grid.selected, -1)))
        self.next_button.clicked.connect(lambda: self.grid.select(add_months(self.grid.selected, 1)))
        self.today_button.clicked.connect(lambda: self.grid.select(self.grid.today))
        self.write_button.clicked.connect(lambda: self.new_for_day_requested.emit(self.grid.selected))
        self.day_list.itemActivated.connect(self._open_item)
        self.day_list.itemClicked.connect(self._open_item)
        self._update_titles()

    # -- state in -------------------------------------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        self.grid.setFocus()

    def reload(self) -> None:
        self._dirty = False
        self._generation += 1
        gen, year, month = self._generation, self.grid.year, self.grid.month
        self._update_titles()
        self.client.month_counts(year, month, self._scope, lambda mc: self._month_arrived(gen, mc))
        self._load_day(self.grid.selected)

    def _month_arrived(self, gen: int, mc: Any) -> None:
        if gen != self._generation:
            return
        if getattr(mc, "today", None) is not None:
            self.grid.set_today(mc.today)
        self.grid.set_counts(mc.year, mc.month, mc.counts)
        n = sum(mc.counts.values())
        days = len([d for d, c in mc.counts.items() if c])
        self.subtitle.setText(f"{fmt.plural(n, 'reflection')} on {fmt.plural(days, 'day')} this month" if n
                              else "Nothing written this month yet")
        self.month_loaded.emit(mc.year, mc.month)

    def _update_titles(self) -> None:
        self.title.setText(f"{MONTH_NAMES[self.grid.month - 1]} {self.grid.year}")

    # -- the chosen day ---------------------------------------------------------------------------------
    def _day_selected(self, day: date) -> None:
        if (day.year, day.month) == (self.grid.year, self.grid.month) and not self._dirty:
            self._load_day(day)

    def _load_day(self, day: date) -> None:
        gen = self._generation
        if self._asked == (gen, day):
            return  # a month change and the day's selection both ask; one answer serves
        self._asked = (gen, day)
        self.day_title.setText(f"{day:%A %d %B %Y}" + ("  ·  today" if day == self.grid.today else ""))
        self._day_loaded_for = None
        self.client.day_reflections(day, self._scope, lambda rows: self._day_arrived(gen, day, rows))

    def _day_arrived(self, gen: int, day: date, reflections: list[Any]) -> None:
        if gen != self._generation or day != self.grid.selected:
            return
        self.day_list.clear()
        self._day_ids = [r.id for r in reflections]
        for r in reflections:
            item = QListWidgetItem(f"{fmt.local(r.created_at):%H:%M}   {fmt.first_line(r.content, 100)}")
            item.setData(IdRole, r.id)
            item.setToolTip(fmt.long_date(r.created_at))
            self.day_list.addItem(item)
        if not reflections:
            empty = QListWidgetItem("Nothing written this day. Press Enter to write for it.")
            empty.setFlags(Qt.ItemFlag.NoItemFlags)
            self.day_list.addItem(empty)
        self._day_loaded_for = day
        self.day_loaded.emit(day)
        if self._open_when_loaded == day:
            self._open_when_loaded = None
            self.open_day(day)

    def day_reflection_ids(self) -> list[str]:
        return list(self._day_ids)

    # -- intents ---------------------------------------------------------------------------------------
    def open_day(self, day: date) -> None:
        """A day's first reflection in the editor (the rest are listed beneath), or a new one dated that day."""
        if day != self.grid.selected:
            self.grid.select(day)
        if self._day_loaded_for != day:
            self._open_when_loaded = day  # the day's list is on its way
            return
        if self._day_ids:
            self.reflection_requested.emit(self._day_ids[0])
            self.day_list.setCurrentRow(0)
        else:
            self.new_for_day_requested.emit(day)

    def _open_item(self, item: QListWidgetItem) -> None:
        rid = item.data(IdRole)
        if rid:
            self.reflection_requested.emit(str(rid))


def noon_of(day: date, now: datetime | None = None) -> datetime:
    """The time a new reflection for ``day`` is dated: now when it is today, else midday of that day."""
    now = (now or datetime.now()).astimezone()
    if day == now.date():
        return now
    return datetime(day.year, day.month, day.day, 12, 0).astimezone()
