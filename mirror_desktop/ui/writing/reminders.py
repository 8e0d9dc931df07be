"""Daily writing reminders in the window: a timer that asks, and a notice that says it once.

The rule (due on a chosen weekday after the chosen time, quiet when the day already has writing, never
twice for a day, not again after the clock is set back) is ``WritingService.reminder_due`` in core,
the same for every front end; the day it fired is stored in the journal. Here a QTimer asks it on each
tick with the wall clock read afresh, instead of sleeping until a deadline, so a clock that jumps
(suspend, a time-zone change, NTP) is simply read again on the next tick. The clock is injectable so
tests drive time without sleeping. The notice is a tray message while the window is minimised or
hidden, and a quiet line in the window otherwise; the window never needs to be in front.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication, QSystemTrayIcon, QWidget

TICK_MS = 30_000  # a reminder is at most half a minute late; a tick is one small read on the read lane
MESSAGE = "Your page for today is still blank, and open whenever you are."
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def utc_clock() -> datetime:
    return datetime.now(UTC)


class ReminderScheduler(QObject):
    """Asks on a timer whether the reminder is due; when it is, records it and says so, once.

    ``ask(now, answer)`` puts the question to the journal asynchronously (the window's WritingClient
    on the executor) and calls ``answer(decision)`` with the service's ReminderDecision, or
    ``answer(None)`` when the journal could not be read (asked again on the next tick). ``record(day)``
    stores that the reminder fired for ``day``.

    Signals:
        reminder_due(object): a reminder should be shown now; payload is the datetime.date it is for.
        stayed_quiet(object): the day already had writing, so nothing was shown; payload is the date.
    """

    reminder_due = Signal(object)
    stayed_quiet = Signal(object)

    def __init__(self, ask: Callable[[datetime, Callable[[Any], None]], None], record: Callable[[date], None],
                 clock: Callable[[], datetime] = utc_clock, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._ask = ask
        self._record = record
        self.clock = clock
        self.enabled = False
        self._asking = False
        self._fired: set[date] = set()  # days fired in this session, even before the journal confirms
        self._quiet: date | None = None
        self.timer = QTimer(self)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self.check)

    def set_enabled(self, on: bool) -> None:
        """Reminders on or off (from the journal's writing settings); the timer runs only while on."""
        self.enabled = on
        if on:
            self.timer.start()
            self.check()
        else:
            self.timer.stop()

    def stop(self) -> None:
        self.timer.stop()

    def check(self) -> None:
        """One tick: one question at a time."""
        if not self.enabled or self._asking:
            return
        self._asking = True
        self._ask(self.clock(), self._answered)

    def _answered(self, decision: Any) -> None:
        self._asking = False
        if decision is None or not self.enabled:
            return
        day = decision.day
        if decision.due and day not in self._fired:
            self._fired.add(day)
            self._record(day)
            self.reminder_due.emit(day)
        elif decision.reason == "wrote_today" and self._quiet != day:
            self._quiet = day
            self.stayed_quiet.emit(day)


class ReminderNotice(QObject):
    """Says a due reminder where the person will see it.

    While the window is minimised or hidden: a tray message (``QSystemTrayIcon``), or, on a desktop
    without a tray, the taskbar's attention hint. Always also a quiet line in the window (``show_line``),
    so it is there when they come back. ``last_channel`` names where it went ("tray", "alert", "window").
    """

    def __init__(self, window: QWidget, show_line: Callable[[str], None], parent: QObject | None = None) -> None:
        super().__init__(parent or window)
        self.window = window
        self.show_line = show_line
        self.tray: QSystemTrayIcon | None = None
        self.last_channel = ""

    def show(self, _day: date) -> None:
        away = self.window.isMinimized() or not self.window.isVisible()
        if away and QSystemTrayIcon.isSystemTrayAvailable():
            if self.tray is None:
                self.tray = QSystemTrayIcon(self.window.windowIcon(), self)
                self.tray.setToolTip("Mirror")
                self.tray.messageClicked.connect(self._bring_back)
                self.tray.activated.connect(lambda _r: self._bring_back())
            self.tray.show()
            self.tray.showMessage("Mirror", MESSAGE, QSystemTrayIcon.MessageIcon.NoIcon, 15_000)
            self.last_channel = "tray"
        elif away:
            QApplication.alert(self.window)
            self.last_channel = "alert"
        else:
            self.last_channel = "window"
        self.show_line(MESSAGE)

    def _bring_back(self) -> None:
        self.window.showNormal()
        self.window.raise_()
        self.window.activateWindow()
        if self.tray is not None:
            self.tray.hide()
