"""On This Day: reflections written on today's date in earlier years, beside the editor and on the start screen.

``OnThisDayPanel`` sits in the editor's side column and lists them (a click opens one);
``OnThisDayLine`` is the start screen's one gentle sentence ("3 years ago today you wrote …") with a
way to read it and a way to put it away for the day. Both only render what the controller hands them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from mirror_desktop.ui import format as fmt
from mirror_desktop.ui.theme import named

IdRole = Qt.ItemDataRole.UserRole + 1


@dataclass(frozen=True)
class Memory:
    """One reflection from this day in an earlier year, as the widgets show it."""

    reflection_id: str
    written: datetime
    years_ago: int
    excerpt: str


def years_text(n: int) -> str:
    return "A year ago today" if n == 1 else f"{n} years ago today"


class OnThisDayPanel(QFrame):
    """The list beside the editor: one row per earlier year's reflection, newest year first.

    Signals:
        reflection_requested(str): payload is the reflection id to open.
    """

    reflection_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("onThisDay")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(16, 8, 12, 8)
        lay.setSpacing(4)
        lay.addWidget(named(QLabel("ON THIS DAY"), "sectionTitle"))
        self.list = named(QListWidget(), "onThisDayList")
        self.list.setFrameShape(QListWidget.Shape.NoFrame)
        self.list.setWordWrap(True)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setMaximumHeight(130)
        lay.addWidget(self.list)
        self.list.itemActivated.connect(self._open)
        self.list.itemClicked.connect(self._open)
        self.memories: list[Memory] = []
        self.hide()

    def set_memories(self, memories: Sequence[Memory]) -> None:
        self.memories = list(memories)
        self.list.clear()
        for mem in self.memories:
            item = QListWidgetItem(f"{years_text(mem.years_ago)} · {fmt.local(mem.written):%Y}\n{mem.excerpt}")
            item.setData(IdRole, mem.reflection_id)
            item.setToolTip(fmt.long_date(mem.written))
            self.list.addItem(item)
        self.setVisible(bool(self.memories))

    def _open(self, item: QListWidgetItem) -> None:
        self.reflection_requested.emit(str(item.data(IdRole)))


class OnThisDayLine(QFrame):
    """The start screen's line: "3 years ago today you wrote: “…”", Read, and × to put it away for today.

    Signals:
        reflection_requested(str): "Read" was pressed; payload is the reflection id.
        dismissed(): × was pressed (the controller remembers it for this identity and day).
    """

    reflection_requested = Signal(str)
    dismissed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("onThisDayLine")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(16, 6, 8, 6)
        self.label = QLabel()
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.label.setWordWrap(True)
        self.read_button = named(QToolButton(), "lineButton")
        self.read_button.setText("Read")
        self.read_button.setAutoRaise(True)
        self.close_button = named(QToolButton(), "lineButton")
        self.close_button.setText("×")
        self.close_button.setToolTip("Not today")
        self.close_button.setAutoRaise(True)
        lay.addWidget(self.label, 1)
        lay.addWidget(self.read_button)
        lay.addWidget(self.close_button)
        self._id: str | None = None
        self.read_button.clicked.connect(lambda: self._id and self.reflection_requested.emit(self._id))
        self.close_button.clicked.connect(self._dismiss)
        self.hide()

    def show_memory(self, memory: Memory | None, more: int = 0) -> None:
        if memory is None:
            self._id = None
            self.hide()
            return
        self._id = memory.reflection_id
        tail = f"  ·  {more} more" if more else ""
        self.label.setText(f"{years_text(memory.years_ago)} you wrote: “{fmt.first_line(memory.excerpt, 48)}”{tail}")
        self.label.setToolTip(memory.excerpt)
        self.show()

    def _dismiss(self) -> None:
        self.hide()
        self.dismissed.emit()
