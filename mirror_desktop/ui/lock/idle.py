"""Locking after an idle time the person sets (minutes; 0 = never), and when the session goes away.

Qt has no portable "screen locked" signal; it reports the application becoming Suspended (mobile,
some desktops when the session locks) through QGuiApplication.applicationStateChanged, and that
locks too. Any key, mouse or wheel event in any window of Mirror restarts the idle clock.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication

SETTING = "lock_after_minutes"
DEFAULT_MINUTES = 15
_ACTIVITY = {QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress, QEvent.Type.MouseMove, QEvent.Type.Wheel,
             QEvent.Type.TouchBegin}


class IdleLock(QObject):
    """Signals:
        lock_requested(str): why ("idle" or "session").
    """

    lock_requested = Signal(str)

    def __init__(self, app: QGuiApplication, minutes: int, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._app = app
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(lambda: self.lock_requested.emit("idle"))
        self.set_minutes(minutes)
        app.installEventFilter(self)
        app.applicationStateChanged.connect(self._state_changed)

    def set_minutes(self, minutes: int) -> None:
        self.minutes = max(int(minutes), 0)
        self.timer.stop()
        if self.minutes:
            self.timer.start(self.minutes * 60_000)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if event.type() in _ACTIVITY and self.minutes:
            self.timer.start(self.minutes * 60_000)
        return False

    def _state_changed(self, state: Qt.ApplicationState) -> None:
        if state == Qt.ApplicationState.ApplicationSuspended:
            self.lock_requested.emit("session")

    def stop(self) -> None:
        self.timer.stop()
        self._app.removeEventFilter(self)
        try:
            self._app.applicationStateChanged.disconnect(self._state_changed)
        except (RuntimeError, TypeError):
            pass
