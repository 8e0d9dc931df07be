"""Issue 16's painted pieces on their own: the month grid's keys, the heat map's shades, the charts' axes."""

from __future__ import annotations

from datetime import date, timedelta

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QImage

from mirror_desktop.ui.calendar.month_grid import MonthGrid, add_months, month_days
from mirror_desktop.ui.stats.charts import BarChart, YearHeatMap, cell_of, level, nice_ticks, short_number, year_start
from mirror_desktop.ui.stats.view import last_months, last_weeks
from mirror_desktop.ui.writing.tags import TagBrowser


def test_month_days_start_on_monday_and_cover_the_month() -> None:
    days = month_days(2026, 2)
    assert len(days) == 42 and days[0].weekday() == 0
    assert date(2026, 2, 1) in days and date(2026, 2, 28) in days
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2026, 1, 15), -1) == date(2025, 12, 15)


def test_keyboard_moves_days_and_months_and_enter_opens_the_day(qtbot) -> None:  # type: ignore[no-untyped-def]
    grid = MonthGrid(date(2026, 12, 3))
    qtbot.addWidget(grid)
    grid.show()
    grid.setFocus()
    months: list[tuple[int, int]] = []
    grid.month_changed.connect(lambda y, m: months.append((y, m)))
    qtbot.keyClick(grid, Qt.Key.Key_Right)
    assert grid.selected == date(2026, 12, 4)
    qtbot.keyClick(grid, Qt.Key.Key_Down)
    assert grid.selected == date(2026, 12, 11)
    qtbot.keyClick(grid, Qt.Key.Key_PageUp)
    assert grid.selected == date(2026, 11, 11) and months == [(2026, 11)]
    qtbot.keyClick(grid, Qt.Key.Key_PageDown)
    qtbot.keyClick(grid, Qt.Key.Key_PageDown)
    assert (grid.year, grid.month) == (2027, 1) and months[-1] == (2027, 1)
    qtbot.keyClick(grid, Qt.Key.Key_T)
    assert grid.selected == date(2026, 12, 3)
    with qtbot.waitSignal(grid.day_activated) as opened:
        qtbot.keyClick(grid, Qt.Key.Key_Return)
    assert opened.args == [date(2026, 12, 3)]


def test_a_click_selects_the_day_under_the_pointer(qtbot) -> None:  # type: ignore[no-untyped-def]
    grid = MonthGrid(date(2026, 12, 3))
    qtbot.addWidget(grid)
    grid.resize(700, 500)
    grid.show()
    index = month_days(2026, 12).index(date(2026, 12, 17))
    centre = grid.cell_rect(index).center().toPoint()
    qtbot.mouseClick(grid, Qt.MouseButton.LeftButton, pos=centre)
    assert grid.selected == date(2026, 12, 17)
    with qtbot.waitSignal(grid.day_activated) as opened:
        qtbot.mouseDClick(grid, Qt.MouseButton.LeftButton, pos=centre)
    assert opened.args == [date(2026, 12, 17)]


def test_counts_for_another_month_are_ignored_and_days_with_writing_are_shaded(qtbot) -> None:  # type: ignore[no-untyped-def]
    grid = MonthGrid(date(2026, 12, 3))
    qtbot.addWidget(grid)
    grid.resize(700, 500)
    grid.set_counts(2026, 11, {date(2026, 11, 5): 3})  # an answer for a month no longer shown
    assert grid.count(date(2026, 11, 5)) == 0
    grid.set_counts(2026, 12, {date(2026, 12, 10): 4})
    assert grid.count(date(2026, 12, 10)) == 4
    image = grid.grab().toImage()
    busy = grid.cell_rect(month_days(2026, 12).index(date(2026, 12, 10)))
    quiet = grid.cell_rect(month_days(2026, 12).index(date(2026, 12, 9)))
    point = QPoint(int(busy.right()) - 10, int(busy.center().y()))
    other = QPoint(int(quiet.right()) - 10, int(quiet.center().y()))
    assert image.pixelColor(point) != image.pixelColor(other)


def test_heat_map_levels_and_cells() -> None:
    assert level(0, 10) == 0 and level(1, 10) == 1 and level(10, 10) == 4 and level(99, 10) == 4
    start = year_start(date(2026, 12, 3))
    assert start.weekday() == 0 and (date(2026, 12, 3) - start).days < 53 * 7
    assert cell_of(start, start) == (0, 0)
    assert cell_of(start + timedelta(days=9), start) == (1, 2)


def test_heat_map_paints_a_written_day_darker_than_an_empty_one(qtbot) -> None:  # type: ignore[no-untyped-def]
    heat = YearHeatMap()
    qtbot.addWidget(heat)
    today = date(2026, 12, 3)
    heat.set_counts({today - timedelta(days=2): 5}, today)
    heat.resize(heat.sizeHint())
    image: QImage = heat.grab().toImage()
    written = heat.cell_rect(today - timedelta(days=2)).center().toPoint()
    empty = heat.cell_rect(today - timedelta(days=3)).center().toPoint()
    assert heat.level_of(today - timedelta(days=2)) == 4 and heat.level_of(today - timedelta(days=3)) == 0
    assert image.pixelColor(written) != image.pixelColor(empty)
    assert heat.day_at(written) == today - timedelta(days=2)


def test_axis_ticks_and_numbers_are_round() -> None:
    assert nice_ticks(2900)[-1] >= 2900 and nice_ticks(2900)[1] == 1000
    assert nice_ticks(7) == [0, 5, 10] or nice_ticks(7)[-1] >= 7
    assert short_number(1234) == "1.2k" and short_number(25000) == "25k" and short_number(12) == "12"


def test_bar_heights_follow_values(qtbot) -> None:  # type: ignore[no-untyped-def]
    chart = BarChart("Words per week")
    qtbot.addWidget(chart)
    chart.resize(400, 200)
    chart.set_bars([("a", 10), ("b", 40), ("c", 0)])
    a, b, c = chart.bar_rects()
    assert b.height() > a.height() > c.height() == 0


def test_chart_series_include_empty_weeks_and_months() -> None:
    today = date(2026, 12, 3)
    weeks = last_weeks({"2026-W49": 300, "2026-W47": 100}, today, n=4)
    assert [v for _l, v, _t in weeks] == [0, 100, 0, 300]
    months = last_months({"2026-12": 5, "2026-01": 2}, today, n=12, unit="reflection")
    assert len(months) == 12 and months[-1][1] == 5 and months[0][1] == 2 and months[0][0].startswith("Jan")


def test_tag_click_selects_and_a_second_click_clears(qtbot) -> None:  # type: ignore[no-untyped-def]
    tags = TagBrowser()
    qtbot.addWidget(tags)
    tags.set_tags([("sleep", 4), ("work", 2)])
    chosen: list[object] = []
    tags.tag_selected.connect(chosen.append)
    item = tags.item_for("work")
    assert item is not None
    tags.show()
    rect = tags.list.visualItemRect(item)
    qtbot.mouseClick(tags.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseClick(tags.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert chosen == ["work", None]
    assert tags.tags() == [("sleep", 4), ("work", 2)]
