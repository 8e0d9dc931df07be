"""FocusMode (F11): full screen, nothing but the text — no menus, sidebar, list, header, reply or status bar.

It hides what is visible and remembers it, so leaving restores exactly the window the person had
(including maximised or normal). The text sits in a readable column in the middle of the screen.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Signal
from PySide6.QtWidgets import QMainWindow, QPlainTextEdit, QWidget

COLUMN = 760  # a comfortable line length at the editor's font size


class FocusMode(QObject):
    """Toggles distraction-free writing on a window.

    Signals:
        focus_changed(bool): payload is True when focus mode is on.
    """

    focus_changed = Signal(bool)

    def __init__(self, window: QMainWindow, text: QPlainTextEdit, hide: list[QWidget]) -> None:
        super().__init__(window)
        self.window = window
        self.text = text
        self._hide = hide
        self._hidden: list[QWidget] = []
        self._was_maximized = False
        self.active = False

    def toggle(self) -> None:
        self.leave() if self.active else self.enter()

    def enter(self) -> None:
        if self.active:
            return
        self.active = True
        self._was_maximized = self.window.isMaximized()
        self._hidden = [w for w in [self.window.menuBar(), self.window.statusBar(), *self._hide] if w.isVisible()]
        for w in self._hidden:
            w.hide()
        self.text.installEventFilter(self)
        self.window.showFullScreen()
        self._center()
        self.text.setFocus()
        self.focus_changed.emit(True)

    def leave(self) -> None:
        if not self.active:
            return
        self.active = False
        self.text.removeEventFilter(self)
        self.text.setViewportMargins(0, 0, 0, 0)
        for w in self._hidden:
            w.show()
        self._hidden = []
        if self._was_maximized:
            self.window.showMaximized()
        else:
            self.window.showNormal()
        self.text.setFocus()
        self.focus_changed.emit(False)

    def _center(self) -> None:
        side = max(0, (self.text.width() - COLUMN) // 2)
        self.text.setViewportMargins(side, 24, side, 24)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if watched is self.text and event.type() == QEvent.Type.Resize and self.active:
            self._center()
        return False

    def is_hidden(self, widget: QWidget) -> bool:
        return widget in self._hidden and not widget.isVisible()

