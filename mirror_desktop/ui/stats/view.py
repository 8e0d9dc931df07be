"""StatsView: streaks and statistics as pictures — a year heat map and bar charts, a few figures at most.

It asks ``WritingClient.stats`` for the shown identity (one read on the read lane: the journal keeps
per-day, per-hour and per-tag summaries) and draws what comes back. The chart series are cut from the
answer by plain functions (``last_weeks``, ``last_months``), tested without widgets.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QLabel, QScrollArea, QVBoxLayout, QWidget

from mirror_desktop.ui import format as fmt
from mirror_desktop.ui.stats.charts import MONTHS, BarChart, YearHeatMap
from mirror_desktop.ui.theme import named
from mirror_desktop.ui.writing.scoped_page import ScopedPage
from mirror_desktop.workers.writing import WritingClient

WEEKS = 26
MONTHS_SHOWN = 12
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def last_weeks(words_by_week: Mapping[str, int], today: date, n: int = WEEKS) -> list[tuple[str, float, str]]:
    """(label, words, tooltip) for the ``n`` ISO weeks ending with this one, empty weeks included."""
    monday = today - timedelta(days=today.weekday())
    out = []
    for i in range(n - 1, -1, -1):
        start = monday - timedelta(weeks=i)
        y, w, _ = start.isocalendar()
        words = int(words_by_week.get(f"{y}-W{w:02d}", 0))
        out.append((f"{start.day} {MONTHS[start.month - 1]}", float(words),
                    f"Week of {start:%d %b %Y}: {fmt.plural(words, 'word')}"))
    return out


def last_months(by_month: Mapping[str, int], today: date, n: int = MONTHS_SHOWN, unit: str = "word",
                units: str | None = None) -> list[tuple[str, float, str]]:
    """(label, value, tooltip) for the ``n`` months ending with this one ("YYYY-MM" keys)."""
    out = []
    y, m = today.year, today.month
    keys = []
    for _ in range(n):
        keys.append((y, m))
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    for y, m in reversed(keys):
        v = int(by_month.get(f"{y}-{m:02d}", 0))
        label = MONTHS[m - 1] if m != 1 else f"{MONTHS[0]} {y}"  # the year where it turns
        out.append((label, float(v), f"{MONTHS[m - 1]} {y}: {fmt.plural(v, unit, units)}"))
    return out


def streak_text(n: int) -> str:
    return fmt.plural(n, "day")


class Tile(QFrame):
    """One figure with its words: the streaks and the averages, never more than a row of them."""

    def __init__(self, caption: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("statTile")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(14, 10, 14, 10)
        lay.setSpacing(2)
        self.value = named(QLabel("–"), "statValue")
        self.caption = named(QLabel(caption), "muted")
        self.note = named(QLabel(""), "muted")
        lay.addWidget(self.value)
        lay.addWidget(self.caption)
        lay.addWidget(self.note)

    def set(self, value: str, note: str = "") -> None:
        self.value.setText(value)
        self.note.setText(note)


class StatsView(ScopedPage):
    """The statistics page.

    Signals:
        stats_loaded(object): the charts show a new answer; payload is the WritingStats.
    """

    stats_loaded = Signal(object)

    def __init__(self, client: WritingClient, parent: QWidget | None = None) -> None:
        super().__init__(client, parent)
        self.setObjectName("statsView")
        self._generation = 0
        self.stats: Any = None
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        head = named(QWidget(), "viewHeader")
        hl = QVBoxLayout(head)
        hl.setContentsMargins(16, 14, 16, 10)
        self.title = named(QLabel("Your writing"), "viewTitle")
        self.subtitle = named(QLabel("Counting…"), "muted")
        hl.addWidget(self.title)
        hl.addWidget(self.subtitle)
        outer.addWidget(head)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        body = named(QWidget(), "statsBody")
        scroll.setWidget(body)
        outer.addWidget(scroll, 1)
        lay = QVBoxLayout(body)
        lay.setContentsMargins(20, 16, 20, 20)
        lay.setSpacing(18)
        tiles = QHBoxLayout()
        tiles.setSpacing(12)
        self.current_tile = Tile("current streak")
        self.longest_tile = Tile("longest streak")
        self.words_tile = Tile("words on a writing day")
        for t in (self.current_tile, self.longest_tile, self.words_tile):
            tiles.addWidget(t, 1)
        lay.addLayout(tiles)
        lay.addWidget(named(QLabel("The last year, a square a day"), "chartTitle"))
        self.heat = YearHeatMap()
        lay.addWidget(self.heat, 0, Qt.AlignmentFlag.AlignLeft)
        grid = QGridLayout()
        grid.setHorizontalSpacing(28)
        grid.setVerticalSpacing(22)
        self.words_week = BarChart("Words per week", unit="words")
        self.words_month = BarChart("Words per month", unit="words")
        self.entries_month = BarChart("Reflections per month", unit="reflections")
        self.hours = BarChart("Time of day you write", unit="reflections")
        self.weekdays = BarChart("Day of the week", unit="reflections")
        self.tags = BarChart("Most-used tags", horizontal=True, unit="reflections")
        self.tags.empty_text = "No tags yet."
        grid.addWidget(self.words_week, 0, 0)
        grid.addWidget(self.words_month, 0, 1)
        grid.addWidget(self.entries_month, 1, 0)
        grid.addWidget(self.hours, 1, 1)
        grid.addWidget(self.weekdays, 2, 0)
        grid.addWidget(self.tags, 2, 1, Qt.AlignmentFlag.AlignTop)
        lay.addLayout(grid)
        lay.addStretch(1)

    def reload(self) -> None:
        self._dirty = False
        self._generation += 1
        gen = self._generation
        self.client.stats(self._scope, lambda st: self._arrived(gen, st), lambda _e: self.subtitle.setText(
            "The statistics could not be read just now; open this view again to retry."))

    def _arrived(self, gen: int, st: Any) -> None:
        if gen != self._generation:
            return
        self.show_stats(st)

    def show_stats(self, st: Any) -> None:
        self.stats = st
        today: date = st.today
        if st.reflections:
            since = f" since {st.first_day:%B %Y}" if st.first_day else ""
            self.subtitle.setText(f"{fmt.plural(st.reflections, 'reflection')} on {fmt.plural(st.days_written, 'day')}"
                                  f"{since}")
        else:
            self.subtitle.setText("Nothing written yet: the pictures fill in as you write.")
        self.current_tile.set(streak_text(st.current_streak),
                              "including today" if st.written_today and st.current_streak
                              else ("today is still open" if st.current_streak else ""))
        end = st.longest_streak_end
        self.longest_tile.set(streak_text(st.longest_streak), f"ending {end:%d %b %Y}" if end else "")
        self.words_tile.set(f"{round(st.words_per_day):,}", f"{fmt.plural(st.words, 'word')} in all")
        self.heat.set_counts(st.by_day, today)
        weeks = last_weeks(st.words_by_week, today)
        self.words_week.set_bars([(k, v) for k, v, _t in weeks], [t for _k, _v, t in weeks])
        months = last_months(st.words_by_month, today)
        self.words_month.set_bars([(k, v) for k, v, _t in months], [t for _k, _v, t in months])
        entries = last_months(st.by_month, today, unit="reflection")
        self.entries_month.set_bars([(k, v) for k, v, _t in entries], [t for _k, _v, t in entries])
        hours = list(st.by_hour)
        self.hours.set_bars([(f"{h:02d}", float(n)) for h, n in enumerate(hours)],
                            [f"{h:02d}:00–{h:02d}:59: {fmt.plural(n, 'reflection')}" for h, n in enumerate(hours)])
        days = list(st.by_weekday)
        self.weekdays.set_bars([(WEEKDAYS[i], float(n)) for i, n in enumerate(days)],
                               [f"{WEEKDAYS[i]}: {fmt.plural(n, 'reflection')}" for i, n in enumerate(days)])
        self.tags.set_bars([(f"#{t.tag}", float(t.count)) for t in st.top_tags[:8]],
                           [f"#{t.tag}: {fmt.plural(t.count, 'reflection')}" for t in st.top_tags[:8]])
        self.stats_loaded.emit(st)
