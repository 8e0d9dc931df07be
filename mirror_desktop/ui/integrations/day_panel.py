"""The day's calendar items beside that day's reflections (issue 14, item 7).

``DayPanel`` is a small widget listing one day's events (time, title); ``DayItemsController`` keeps it
on the open reflection's day (its creation day, today for a new page) and gives the thread timeline
each row's day line. Both read through IntegrationsClient, off the GUI thread; neither holds a rule.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout, QWidget

from mirror_desktop.core import models as m
from mirror_desktop.ui.journal.models.threads import DateRole
from mirror_desktop.ui.theme import named
from mirror_desktop.workers.integrations import IntegrationsClient

MAX_SHOWN = 8


def item_time(item: m.IntegrationItem) -> str:
    """"All day", "09:00", or "09:00–10:30" in the person's local time."""
    if item.all_day or item.starts_at is None:
        return "All day"
    start = item.starts_at.astimezone()
    if item.ends_at is None or item.ends_at <= item.starts_at:
        return start.strftime("%H:%M")
    end = item.ends_at.astimezone()
    if end.date() != start.date():
        return f"{start:%H:%M}–{end:%a} {end:%H:%M}"
    return f"{start:%H:%M}–{end:%H:%M}"


def item_line(item: m.IntegrationItem) -> str:
    return f"{item_time(item)}  {item.title or 'Untitled event'}"


def day_summary(items: list[m.IntegrationItem], limit: int = 3) -> str:
    """One line for a timeline row: the first few items of the day, and how many more."""
    parts = [f"{'All day' if i.all_day else item_time(i).split('–')[0]} {i.title or 'Untitled event'}" for i in items[:limit]]
    more = len(items) - limit
    return "  ·  ".join(parts) + (f"  ·  +{more} more" if more > 0 else "")


def local_day(when: datetime | None) -> date:
    return (when.astimezone() if when is not None else datetime.now().astimezone()).date()


class DayPanel(QFrame):
    """One day's calendar items: a heading and a line per item; hidden when the day has none."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("dayPanel")
        self.setFrameShape(QFrame.Shape.NoFrame)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(16, 10, 16, 8)
        lay.setSpacing(3)
        self.heading = named(QLabel(""), "sectionTitle")
        lay.addWidget(self.heading)
        self.lines = QLabel("")
        self.lines.setTextFormat(Qt.TextFormat.PlainText)
        self.lines.setWordWrap(True)
        self.lines.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.lines)
        self.day: date | None = None
        self.items: list[m.IntegrationItem] = []
        self.hide()

    def show_day(self, day: date, items: list[m.IntegrationItem]) -> None:
        self.day = day
        self.items = list(items)
        if not items:
            self.hide()
            return
        year = f" {day.year}" if day.year != date.today().year else ""
        self.heading.setText(f"Calendar · {day:%A} {day.day} {day:%B}{year}")
        shown = [item_line(i) for i in items[:MAX_SHOWN]]
        if len(items) > MAX_SHOWN:
            shown.append(f"and {len(items) - MAX_SHOWN} more")
        self.lines.setText("\n".join(shown))
        self.show()

    def texts(self) -> list[str]:
        """The lines shown (tests read what a person would)."""
        return [item_line(i) for i in self.items]


class DayItemsController(QObject):
    """Keeps the day panel on the open reflection's day and the timeline's rows on theirs.

    Signals:
        day_shown(object): the panel now shows this day (a ``date``); its items are in ``panel.items``.
        timeline_days_shown(int): the timeline's rows got their day lines; payload is how many days have items.
    """

    day_shown = Signal(object)
    timeline_days_shown = Signal(int)

    def __init__(self, client: IntegrationsClient, editor: Any, timeline_model: Any,
                 panel: DayPanel | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.client = client
        self.editor = editor
        self.timeline_model = timeline_model
        self.panel = panel or DayPanel()
        self.identity_id: str | None = None
        self._asked: tuple[date, str | None] | None = None
        for sig in (client.sync_finished, client.integration_removed, client.integration_updated):
            sig.connect(self.refresh)

    # Slots the window connects to the journal's signals.
    def reflection_opened(self, _reflection_id: object) -> None:
        self.show_day(local_day(self.editor.state.created_at))

    def identity_changed(self, identity_id: object, _anonymous: bool = False) -> None:
        """The switcher moved (also once the journal opens): that identity's calendars, or those of none."""
        self.identity_id = identity_id if isinstance(identity_id, str) else None
        if self.panel.day is None:  # the journal just opened: the page in the editor is today's
            self.panel.day = local_day(self.editor.state.created_at)
        self.refresh()

    def timeline_loaded(self, _thread_id: str = "") -> None:
        dates = [self.timeline_model.index(r, 0).data(DateRole) for r in range(self.timeline_model.rowCount())]
        days = [local_day(d) for d in dates if d is not None]
        if not days:
            return
        self.client.days_items(min(days), max(days), self.identity_id, self._timeline_days)

    def refresh(self, *_: Any) -> None:
        if self.panel.day is not None:
            self.show_day(self.panel.day)
        if self.timeline_model.rowCount():
            self.timeline_loaded()

    def show_day(self, day: date) -> None:
        asked = (day, self.identity_id)
        self._asked = asked

        def arrived(items: list[m.IntegrationItem]) -> None:
            if self._asked == asked:  # a later question supersedes this answer
                self.panel.show_day(day, items)
                self.day_shown.emit(day)
        self.client.day_items(day, self.identity_id, arrived)

    def _timeline_days(self, by_day: dict[date, list[m.IntegrationItem]]) -> None:
        self.timeline_model.set_day_lines({d: day_summary(items) for d, items in by_day.items()})
        self.timeline_days_shown.emit(len(by_day))
