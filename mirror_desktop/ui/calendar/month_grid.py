"""MonthGrid: a painted month of days, each shaded and dotted by how many reflections it holds.

The grid is six weeks of seven days (Monday first), so a month never changes the widget's height.
It owns no data: the calendar view hands it the month's counts (one aggregate query per month, on
the executor) and listens for intents. Keyboard first: arrows move a day, PgUp/PgDn a month,
Home/End the month's ends, T today, Enter opens the day.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from datetime import date, timedelta

from PySide6.QtCore import QPoint, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QFocusEvent, QFont, QKeyEvent, QMouseEvent, QPainter, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from mirror_desktop.ui import format as fmt
from mirror_desktop.ui.stats.charts import accent, blend, level, on_accent, shades

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
HEADER = 26


def month_days(year: int, month: int) -> list[date]:
    """The 42 days shown for a month: from the Monday on or before the 1st, six full weeks."""
    first = date(year, month, 1)
    start = first - timedelta(days=first.weekday())
    return [start + timedelta(days=i) for i in range(42)]


def add_months(day: date, n: int) -> date:
    """The same day ``n`` months later, clamped to the month's length (31 Jan + 1 → 28/29 Feb)."""
    m = day.month - 1 + n
    year, month = day.year + m // 12, m % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


class MonthGrid(QWidget):
    """One month of days.

    Signals:
        day_selected(object): the focused day moved; payload is the datetime.date.
        day_activated(object): Enter, or a double click, on a day; payload is the datetime.date.
        month_changed(int, int): the grid now shows another month; (year, month).
    """

    day_selected = Signal(object)
    day_activated = Signal(object)
    month_changed = Signal(int, int)

    def __init__(self, today: date | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("monthGrid")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(320, 260)
        self.today = today or date.today()
        self.selected = self.today
        self._counts: dict[date, int] = {}
        self._month = (self.selected.year, self.selected.month)

    # -- state ---------------------------------------------------------------------------------
    @property
    def year(self) -> int:
        return self._month[0]

    @property
    def month(self) -> int:
        return self._month[1]

    def set_counts(self, year: int, month: int, counts: Mapping[date, int]) -> None:
        """The month's counts arrived; an answer for a month no longer shown is ignored."""
        if (year, month) != self._month:
            return
        self._counts = {d: int(n) for d, n in counts.items()}
        self.update()

    def count(self, day: date) -> int:
        return self._counts.get(day, 0)

    def set_today(self, today: date) -> None:
        self.today = today
        self.update()

    def select(self, day: date) -> None:
        """Focus a day; another month is shown (and asked for) when the day lies outside this one."""
        self.selected = day
        if (day.year, day.month) != self._month:
            self._month = (day.year, day.month)
            self._counts = {}
            self.month_changed.emit(day.year, day.month)
        self.day_selected.emit(day)
        self.update()

    # -- geometry -------------------------------------------------------------------------------
    def cell_rect(self, index: int) -> QRectF:
        w = self.width() / 7
        h = (self.height() - HEADER) / 6
        return QRectF((index % 7) * w, HEADER + (index // 7) * h, w, h)

    def day_at(self, pos: QPoint) -> date | None:
        if pos.y() < HEADER:
            return None
        col = int(pos.x() // (self.width() / 7))
        row = int((pos.y() - HEADER) // ((self.height() - HEADER) / 6))
        if not (0 <= col < 7 and 0 <= row < 6):
            return None
        return month_days(*self._month)[row * 7 + col]

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(560, 420)

    # -- painting ---------------------------------------------------------------------------------
    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = self.palette()
        text = pal.color(QPalette.ColorRole.Text)
        window = pal.color(QPalette.ColorRole.Window)
        muted = blend(window, text, 0.55)
        faint = blend(window, text, 0.32)
        colours = shades(pal)
        highlight = pal.color(QPalette.ColorRole.Highlight)
        small = QFont(self.font())
        small.setPointSizeF(max(7.5, small.pointSizeF() * 0.85))
        p.setFont(small)
        p.setPen(muted)
        w = self.width() / 7
        for i, name in enumerate(WEEKDAYS):
            p.drawText(QRectF(i * w, 0, w, HEADER), int(Qt.AlignmentFlag.AlignCenter), name)
        days = month_days(*self._month)
        in_month = [d for d in days if d.month == self.month]
        peak = max((self._counts.get(d, 0) for d in in_month), default=0)
        bold = QFont(self.font())
        bold.setWeight(QFont.Weight.DemiBold)
        for i, d in enumerate(days):
            r = self.cell_rect(i).adjusted(3, 3, -3, -3)
            n = self._counts.get(d, 0) if d.month == self.month else 0
            lv = level(n, peak)
            if d.month == self.month:  # days of the months around it: only their number, faint
                p.setPen(Qt.PenStyle.NoPen)
                p.setBrush(colours[lv] if lv else blend(window, text, 0.04))
                p.drawRoundedRect(r, 6, 6)
            if d == self.selected:
                pen = QPen(highlight, 2.0 if self.hasFocus() else 1.5)
                p.setPen(pen)
                p.setBrush(Qt.BrushStyle.NoBrush)
                p.drawRoundedRect(r.adjusted(1, 1, -1, -1), 6, 6)
            # the day number; today in a filled circle
            num = QRectF(r.left() + 6, r.top() + 5, 26, 22)
            if d == self.today:
                p.setPen(Qt.PenStyle.NoPen)
                p.setBrush(highlight)
                p.drawEllipse(num.center(), 12, 12)
                p.setPen(pal.color(QPalette.ColorRole.HighlightedText))
                p.setFont(bold)
            else:
                on_strong = lv >= 3
                p.setPen(on_accent(pal) if on_strong and d.month == self.month
                         else (text if d.month == self.month else faint))
                p.setFont(bold if d.month == self.month else self.font())
            p.drawText(num, int(Qt.AlignmentFlag.AlignCenter), str(d.day))
            if n:
                self._paint_dots(p, r, n, lv, pal)
        p.end()

    def _paint_dots(self, p: QPainter, r: QRectF, n: int, lv: int, pal: QPalette) -> None:
        """Up to five dots, then the number: a glance says "one", "a few" or "a lot"."""
        dot = on_accent(pal) if lv >= 3 else accent(pal).darker(130 if lv >= 2 else 100)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(dot)
        y = r.bottom() - 10
        if n <= 5 and r.width() > 5 * 9 + 12:
            for k in range(n):
                p.drawEllipse(QRectF(r.left() + 8 + k * 9, y - 3, 6, 6))
            return
        small = QFont(self.font())
        small.setPointSizeF(max(7.5, small.pointSizeF() * 0.85))
        p.setFont(small)
        p.setPen(dot)
        p.drawText(QRectF(r.left() + 6, y - 9, r.width() - 12, 16),
                   int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), fmt.plural(n, "entry", "entries"))

    # -- input ---------------------------------------------------------------------------------------
    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        k = event.key()
        d = self.selected
        moves = {int(Qt.Key.Key_Left): -1, int(Qt.Key.Key_Right): 1, int(Qt.Key.Key_Up): -7, int(Qt.Key.Key_Down): 7}
        if int(k) in moves:
            self.select(d + timedelta(days=moves[int(k)]))
        elif k == Qt.Key.Key_PageUp:
            self.select(add_months(d, -12 if event.modifiers() & Qt.KeyboardModifier.ShiftModifier else -1))
        elif k == Qt.Key.Key_PageDown:
            self.select(add_months(d, 12 if event.modifiers() & Qt.KeyboardModifier.ShiftModifier else 1))
        elif k == Qt.Key.Key_Home:
            self.select(d.replace(day=1))
        elif k == Qt.Key.Key_End:
            self.select(d.replace(day=calendar.monthrange(d.year, d.month)[1]))
        elif k == Qt.Key.Key_T:
            self.select(self.today)
        elif k in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
            self.day_activated.emit(d)
        else:
            super().keyPressEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        d = self.day_at(event.position().toPoint())
        if d is not None:
            self.setFocus()
            self.select(d)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        d = self.day_at(event.position().toPoint())
        if d is not None:
            self.day_activated.emit(d)

    def focusInEvent(self, event: QFocusEvent) -> None:  # noqa: N802 - Qt override
        super().focusInEvent(event)
        self.update()

    def focusOutEvent(self, event: QFocusEvent) -> None:  # noqa: N802 - Qt override
        super().focusOutEvent(event)
        self.update()
