"""Painted charts for the statistics view: a year heat map (a contribution graph) and bar charts.

PySide6-Essentials ships no QtCharts, so both are drawn with QPainter. Geometry that can be got wrong
(which level a count shades to, where a day sits in the year grid, round axis ticks) lives in plain
functions tested without widgets (STYLE.md habit 8); the widgets only paint and answer tooltips. Colours
come from the application palette, so both themes read well.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import date, timedelta

from PySide6.QtCore import QPoint, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QHelpEvent, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from mirror_desktop.ui import format as fmt

LEVELS = 5  # none, and four shades of writing
CELL = 12
GAP = 3
LEFT = 34  # room for the weekday labels
TOP = 20  # room for the month labels
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


# -- geometry (pure) -------------------------------------------------------------------------
def level(count: int, peak: int) -> int:
    """0 for a day without writing; 1-4 by quarters of the busiest day, so one long day never washes out the rest."""
    if count <= 0 or peak <= 0:
        return 0
    return min(LEVELS - 1, 1 + (count - 1) * (LEVELS - 1) // max(peak, 1))


def year_start(last_day: date) -> date:
    """The Monday that begins the 53-week grid ending in the week of ``last_day``."""
    end_monday = last_day - timedelta(days=last_day.weekday())
    return end_monday - timedelta(weeks=52)


def cell_of(day: date, start: date) -> tuple[int, int]:
    """(column = week, row = weekday, Monday 0) of a day in the grid that starts on Monday ``start``."""
    offset = (day - start).days
    return offset // 7, offset % 7


def day_at(column: int, row: int, start: date) -> date:
    return start + timedelta(days=column * 7 + row)


def nice_ticks(peak: float, count: int = 3) -> list[float]:
    """Round axis values from 0 past ``peak`` (1, 2 or 5 times a power of ten apart)."""
    if peak <= 0:
        return [0.0, 1.0]
    raw = peak / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    return [i * step for i in range(int(math.ceil(peak / step)) + 1)]


def short_number(value: float) -> str:
    """1234 → "1.2k": axis and bar labels stay narrow."""
    v = abs(value)
    if v >= 1_000_000:
        return f"{value / 1_000_000:.1f}M".replace(".0M", "M")
    if v >= 10_000:
        return f"{value / 1000:.0f}k"
    if v >= 1000:
        return f"{value / 1000:.1f}k".replace(".0k", "k")
    return f"{value:.0f}"


def blend(a: QColor, b: QColor, t: float) -> QColor:
    return QColor(round(a.red() + (b.red() - a.red()) * t), round(a.green() + (b.green() - a.green()) * t),
                  round(a.blue() + (b.blue() - a.blue()) * t))


def accent(palette: QPalette) -> QColor:
    """A calm green for writing (the contribution-graph colour), lighter on a dark background."""
    dark = palette.color(QPalette.ColorRole.Window).lightness() < 128
    return QColor("#4fbf73") if dark else QColor("#2f9e58")


def on_accent(palette: QPalette) -> QColor:
    """Text on the strongest shade: white on the light theme's deep green, near-black on the dark theme's bright one."""
    return QColor("#0f2a19") if palette.color(QPalette.ColorRole.Window).lightness() < 128 else QColor("#ffffff")


def shades(palette: QPalette) -> list[QColor]:
    base = palette.color(QPalette.ColorRole.Window)
    empty = blend(base, palette.color(QPalette.ColorRole.WindowText), 0.09)
    top = accent(palette)
    return [empty] + [blend(base, top, t) for t in (0.35, 0.55, 0.78, 1.0)]


def _muted(palette: QPalette) -> QColor:
    return blend(palette.color(QPalette.ColorRole.Window), palette.color(QPalette.ColorRole.WindowText), 0.62)


def _small_font(widget: QWidget) -> QFont:
    f = QFont(widget.font())
    f.setPointSizeF(max(7.5, f.pointSizeF() * 0.85))
    return f


# -- the year heat map -------------------------------------------------------------------------
class YearHeatMap(QWidget):
    """53 weeks × 7 days, each day shaded by how many reflections it holds; a tooltip names the day."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("yearHeatMap")
        self._counts: dict[date, int] = {}
        self._last = date.today()
        self._start = year_start(self._last)
        self._peak = 0
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Fixed)

    def set_counts(self, counts: Mapping[date, int], last_day: date) -> None:
        self._counts = {d: int(n) for d, n in counts.items() if n}
        self._last = last_day
        self._start = year_start(last_day)
        in_range = [n for d, n in self._counts.items() if self._start <= d <= last_day]
        self._peak = max(in_range, default=0)
        self.update()

    def level_of(self, day: date) -> int:
        return level(self._counts.get(day, 0), self._peak)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(LEFT + 53 * (CELL + GAP) + 8, TOP + 7 * (CELL + GAP) + 26)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return self.sizeHint()

    def cell_rect(self, day: date) -> QRectF:
        col, row = cell_of(day, self._start)
        return QRectF(LEFT + col * (CELL + GAP), TOP + row * (CELL + GAP), CELL, CELL)

    def day_at(self, pos: QPoint) -> date | None:
        x, y = pos.x() - LEFT, pos.y() - TOP
        if x < 0 or y < 0:
            return None
        col, row = x // (CELL + GAP), y // (CELL + GAP)
        if col > 52 or row > 6 or x % (CELL + GAP) >= CELL or y % (CELL + GAP) >= CELL:
            return None
        d = day_at(col, row, self._start)
        return d if d <= self._last else None

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = self.palette()
        colours = shades(pal)
        muted = _muted(pal)
        font = _small_font(self)
        p.setFont(font)
        fm = QFontMetrics(font)
        p.setPen(muted)
        for row, name in ((0, "Mon"), (2, "Wed"), (4, "Fri")):
            y = TOP + row * (CELL + GAP)
            p.drawText(QRectF(0, y - 2, LEFT - 6, CELL + 4),
                       int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter), name)
        last_label_x = -100.0
        for col in range(53):
            first = day_at(col, 0, self._start)
            week = [first + timedelta(days=i) for i in range(7)]
            month_start = next((d for d in week if d.day == 1), None)
            if month_start is not None or col == 0:
                label = MONTHS[(month_start or first).month - 1]
                x = LEFT + col * (CELL + GAP)
                if x - last_label_x >= fm.horizontalAdvance(label) + 6 and col < 52:
                    p.drawText(QRectF(x, 0, 40, TOP - 4),
                               int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom), label)
                    last_label_x = x
        p.setPen(Qt.PenStyle.NoPen)
        day = self._start
        while day <= self._last:
            p.setBrush(colours[self.level_of(day)])
            p.drawRoundedRect(self.cell_rect(day), 2.5, 2.5)
            day += timedelta(days=1)
        # the legend, bottom right: Less ▢▢▢▢▢ More
        y = TOP + 7 * (CELL + GAP) + 8
        right = LEFT + 53 * (CELL + GAP) - GAP
        more_w = fm.horizontalAdvance("More")
        x = right - more_w - 6 - LEVELS * (CELL + GAP)
        p.setPen(muted)
        p.drawText(QRectF(x - fm.horizontalAdvance("Less") - 6, y - 2, fm.horizontalAdvance("Less") + 2, CELL + 4),
                   int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter), "Less")
        p.setPen(Qt.PenStyle.NoPen)
        for i, c in enumerate(colours):
            p.setBrush(c)
            p.drawRoundedRect(QRectF(x + i * (CELL + GAP), y, CELL, CELL), 2.5, 2.5)
        p.setPen(muted)
        p.drawText(QRectF(right - more_w, y - 2, more_w + 4, CELL + 4),
                   int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), "More")
        total = sum(n for d, n in self._counts.items() if self._start <= d <= self._last)
        p.drawText(QRectF(LEFT, y - 2, x - LEFT - 60, CELL + 4),
                   int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                   f"{fmt.plural(total, 'reflection')} in the last year")
        p.end()

    def event(self, e) -> bool:  # type: ignore[no-untyped-def]
        if e.type() == e.Type.ToolTip:
            he = e if isinstance(e, QHelpEvent) else None
            d = self.day_at(he.pos()) if he is not None else None
            if d is not None and he is not None:
                n = self._counts.get(d, 0)
                QToolTip.showText(he.globalPos(), f"{fmt.plural(n, 'reflection') if n else 'No writing'} on "
                                                  f"{d:%a %d %b %Y}", self)
            else:
                QToolTip.hideText()
            return True
        return super().event(e)


# -- bar charts ----------------------------------------------------------------------------------
class BarChart(QWidget):
    """Vertical bars with a title, a light grid and round axis values; labels thin out when crowded.

    ``horizontal=True`` draws one labelled row per bar instead (most-used tags read best that way).
    """

    def __init__(self, title: str, *, horizontal: bool = False, unit: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = title
        self.horizontal = horizontal
        self.unit = unit
        self.bars: list[tuple[str, float]] = []
        self.tips: list[str] = []
        self.highlight: int | None = None
        self.empty_text = "Nothing to draw yet."
        self.setMouseTracking(True)
        self.setMinimumHeight(170 if not horizontal else 120)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)

    def set_bars(self, bars: Sequence[tuple[str, float]], tips: Sequence[str] | None = None,
                 highlight: int | None = None) -> None:
        self.bars = [(str(k), float(v)) for k, v in bars]
        self.tips = list(tips) if tips is not None else [f"{k}: {short_number(v)} {self.unit}".strip()
                                                         for k, v in self.bars]
        self.highlight = highlight
        if self.horizontal:
            self.setMinimumHeight(40 + max(1, len(self.bars)) * 24)
        self.updateGeometry()
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(360, self.minimumHeight() if self.horizontal else 190)

    def _plot(self) -> QRectF:
        fm = QFontMetrics(self.font())
        return QRectF(40, fm.height() + 14, max(10, self.width() - 48), max(10, self.height() - fm.height() - 40))

    def bar_rects(self) -> list[QRectF]:
        """Where each bar is drawn (also what the tooltip hit-tests)."""
        if not self.bars:
            return []
        if self.horizontal:
            return self._row_rects()
        plot = self._plot()
        peak = nice_ticks(max(v for _k, v in self.bars))[-1] or 1.0
        slot = plot.width() / len(self.bars)
        width = max(2.0, min(slot * 0.7, 38.0))
        rects = []
        for i, (_k, v) in enumerate(self.bars):
            h = plot.height() * v / peak
            x = plot.left() + i * slot + (slot - width) / 2
            rects.append(QRectF(x, plot.bottom() - h, width, h))
        return rects

    def _label_width(self) -> int:
        fm = QFontMetrics(self.font())
        return min(max((fm.horizontalAdvance(k) for k, _v in self.bars), default=40) + 12, self.width() // 3)

    def _row_rects(self) -> list[QRectF]:
        fm = QFontMetrics(self.font())
        top = fm.height() + 14
        left = self._label_width()
        room = max(10, self.width() - left - 60)
        peak = max((v for _k, v in self.bars), default=1.0) or 1.0
        return [QRectF(left, top + i * 24 + 4, max(2.0, room * v / peak), 14) for i, (_k, v) in enumerate(self.bars)]

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = self.palette()
        text = pal.color(QPalette.ColorRole.WindowText)
        muted = _muted(pal)
        bold = QFont(self.font())
        bold.setWeight(QFont.Weight.DemiBold)
        p.setFont(bold)
        p.setPen(text)
        fm = QFontMetrics(bold)
        p.drawText(QRectF(0, 0, self.width(), fm.height() + 4),
                   int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop), self.title)
        small = _small_font(self)
        p.setFont(small)
        if not self.bars or not any(v for _k, v in self.bars):
            p.setPen(muted)
            p.drawText(QRectF(0, fm.height() + 8, self.width(), self.height() - fm.height() - 8),
                       int(Qt.AlignmentFlag.AlignCenter), self.empty_text)
            p.end()
            return
        if self.horizontal:
            self._paint_rows(p, text, muted)
        else:
            self._paint_columns(p, muted)
        p.end()

    def _paint_columns(self, p: QPainter, muted: QColor) -> None:
        pal = self.palette()
        plot = self._plot()
        sfm = QFontMetrics(p.font())
        ticks = nice_ticks(max(v for _k, v in self.bars))
        peak = ticks[-1] or 1.0
        grid = blend(pal.color(QPalette.ColorRole.Window), pal.color(QPalette.ColorRole.WindowText), 0.12)
        for t in ticks:
            y = plot.bottom() - plot.height() * t / peak
            p.setPen(grid)
            p.drawLine(int(plot.left()), int(y), int(plot.right()), int(y))
            p.setPen(muted)
            p.drawText(QRectF(0, y - 8, plot.left() - 6, 16),
                       int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter), short_number(t))
        colour = accent(pal)
        strong = QColor(colour)
        weak = blend(pal.color(QPalette.ColorRole.Window), colour, 0.55)
        p.setPen(Qt.PenStyle.NoPen)
        rects = self.bar_rects()
        for i, r in enumerate(rects):
            p.setBrush(strong if self.highlight is None or self.highlight == i else weak)
            p.drawRoundedRect(r, 2, 2)
        # x labels: as many as fit without touching
        slot = plot.width() / len(self.bars)
        widest = max(sfm.horizontalAdvance(k) for k, _v in self.bars) + 8
        every = max(1, math.ceil(widest / max(slot, 1)))
        p.setPen(muted)
        for i, (k, _v) in enumerate(self.bars):
            if i % every:
                continue
            cx = plot.left() + i * slot + slot / 2
            p.drawText(QRectF(cx - widest / 2, plot.bottom() + 4, widest, sfm.height() + 2),
                       int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop), k)

    def _paint_rows(self, p: QPainter, text: QColor, muted: QColor) -> None:
        colour = accent(self.palette())
        sfm = QFontMetrics(p.font())
        lw = self._label_width()
        for (k, v), r in zip(self.bars, self._row_rects(), strict=True):
            p.setPen(text)
            p.drawText(QRectF(0, r.top() - 3, lw - 8, r.height() + 6),
                       int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
                       sfm.elidedText(k, Qt.TextElideMode.ElideRight, lw - 8))
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(colour)
            p.drawRoundedRect(r, 2, 2)
            p.setPen(muted)
            p.drawText(QRectF(r.right() + 6, r.top() - 3, 56, r.height() + 6),
                       int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), short_number(v))

    def event(self, e) -> bool:  # type: ignore[no-untyped-def]
        if e.type() == e.Type.ToolTip and isinstance(e, QHelpEvent):
            for i, r in enumerate(self.bar_rects()):
                hit = QRectF(r.left() - 2, self._plot().top() if not self.horizontal else r.top() - 4,
                             r.width() + 4, (self._plot().height() if not self.horizontal else r.height() + 8))
                if hit.contains(e.pos().toPointF()) and i < len(self.tips):
                    QToolTip.showText(e.globalPos(), self.tips[i], self)
                    return True
            QToolTip.hideText()
            return True
        return super().event(e)
