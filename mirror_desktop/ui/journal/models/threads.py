"""Thread models: the sidebar's thread list and one thread's timeline (reorderable by drag)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt, Signal

from mirror_desktop.core import models as m
from mirror_desktop.ui import format as fmt
from mirror_desktop.ui.journal.models.reflection_list import ReflectionRow

Index = QModelIndex | QPersistentModelIndex

ThreadIdRole = Qt.ItemDataRole.UserRole + 1
StatusRole = Qt.ItemDataRole.UserRole + 2
ThreadRole = Qt.ItemDataRole.UserRole + 3

ReflectionIdRole = Qt.ItemDataRole.UserRole + 10
DateRole = Qt.ItemDataRole.UserRole + 11
GapRole = Qt.ItemDataRole.UserRole + 12
WordsRole = Qt.ItemDataRole.UserRole + 13
DayItemsRole = Qt.ItemDataRole.UserRole + 14  # that day's calendar items in one line (issue 14)

STATUS_LABELS = {"active": "active", "paused": "paused", "archived": "archived"}


def thread_title(t: m.Thread) -> str:
    return t.title or "Untitled thread"


class ThreadListModel(QAbstractListModel):
    """The threads of the current identity, most recently active first (active, then paused, archived)."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._threads: list[m.Thread] = []

    def set_threads(self, threads: list[m.Thread]) -> None:
        order = {"active": 0, "paused": 1, "archived": 2}
        self.beginResetModel()
        self._threads = sorted(threads, key=lambda t: (order.get(str(t.status), 3), -t.last_active.timestamp()))
        self.endResetModel()

    @property
    def threads(self) -> list[m.Thread]:
        return list(self._threads)

    def find_thread(self, thread_id: str | None) -> m.Thread | None:
        return next((t for t in self._threads if t.id == thread_id), None)

    def row_of(self, thread_id: str) -> int:
        return next((i for i, t in enumerate(self._threads) if t.id == thread_id), -1)

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._threads)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.column() != 0 or not 0 <= index.row() < len(self._threads):
            return None
        t = self._threads[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            status = str(t.status)
            return thread_title(t) if status == "active" else f"{thread_title(t)}  ·  {STATUS_LABELS.get(status, status)}"
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"Started {fmt.long_date(t.started_at)}; last active {fmt.long_date(t.last_active)}"
        if role == ThreadIdRole:
            return t.id
        if role == StatusRole:
            return str(t.status)
        if role == ThreadRole:
            return t
        if role == Qt.ItemDataRole.ForegroundRole and str(t.status) != "active":
            from PySide6.QtGui import QPalette
            from PySide6.QtWidgets import QApplication

            return QApplication.palette().color(QPalette.ColorRole.PlaceholderText)
        return None


@dataclass(frozen=True)
class TimelineEntry:
    link: m.ThreadReflection
    row: ReflectionRow


class ThreadTimelineModel(QAbstractListModel):
    """One thread's reflections in position order; rows move by drag (``moveRows``).

    Signals:
        order_changed(str, list): rows were moved; payload is (thread id, reflection ids in the new order).
    """

    order_changed = Signal(str, list)

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._thread_id: str | None = None
        self._entries: list[TimelineEntry] = []
        self._day_lines: dict[date, str] = {}

    def set_day_lines(self, lines: dict[date, str]) -> None:
        """Each local day's calendar items in one line, shown under that day's reflections."""
        self._day_lines = dict(lines)
        if self._entries:
            # A row with a calendar line is taller: a layout change makes the view ask for sizes again.
            self.layoutAboutToBeChanged.emit()
            self.layoutChanged.emit()

    def day_line(self, row: int) -> str:
        return self._day_lines.get(fmt.local(self._entries[row].row.created_at).date(), "")

    @property
    def thread_id(self) -> str | None:
        return self._thread_id

    def set_timeline(self, thread_id: str | None, entries: list[tuple[m.ThreadReflection, m.Reflection]]) -> None:
        self.beginResetModel()
        self._thread_id = thread_id
        self._entries = [TimelineEntry(link, ReflectionRow.of(r)) for link, r in entries]
        self.endResetModel()

    def set_rows(self, thread_id: str | None, entries: list[TimelineEntry]) -> None:
        self.beginResetModel()
        self._thread_id = thread_id
        self._entries = list(entries)
        self.endResetModel()

    def reflection_ids(self) -> list[str]:
        return [e.row.id for e in self._entries]

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._entries)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.column() != 0 or not 0 <= index.row() < len(self._entries):
            return None
        i = index.row()
        e = self._entries[i]
        if role == Qt.ItemDataRole.DisplayRole:
            return e.row.title
        if role == ReflectionIdRole:
            return e.row.id
        if role == DateRole:
            return e.row.created_at
        if role == WordsRole:
            return e.row.words
        if role == DayItemsRole:
            return self.day_line(i)
        if role == GapRole:
            if i == 0:
                return ""
            return fmt.gap_text(self._entries[i - 1].row.created_at, e.row.created_at)
        if role == Qt.ItemDataRole.ToolTipRole:
            day = self.day_line(i)
            return f"{fmt.long_date(e.row.created_at)} · drag to reorder" + (f"\nCalendar: {day}" if day else "")
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        base = super().flags(index)
        if index.isValid():
            return base | Qt.ItemFlag.ItemIsDragEnabled
        return base | Qt.ItemFlag.ItemIsDropEnabled

    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def moveRows(self, src_parent: Index, src_row: int, count: int, dst_parent: Index, dst_child: int) -> bool:
        """Move ``count`` rows to before ``dst_child``; the new order is announced (then saved)."""
        n = len(self._entries)
        if src_parent.isValid() or dst_parent.isValid() or count < 1 or src_row < 0 or src_row + count > n:
            return False
        if not 0 <= dst_child <= n or src_row <= dst_child <= src_row + count:
            return False
        if not self.beginMoveRows(QModelIndex(), src_row, src_row + count - 1, QModelIndex(), dst_child):
            return False
        moving = self._entries[src_row:src_row + count]
        rest = self._entries[:src_row] + self._entries[src_row + count:]
        at = dst_child if dst_child < src_row else dst_child - count
        self._entries = rest[:at] + moving + rest[at:]
        self.endMoveRows()
        # Gaps depend on neighbours: every row's gap text may have changed.
        if self._entries:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._entries) - 1, 0), [GapRole])
        if self._thread_id is not None:
            self.order_changed.emit(self._thread_id, self.reflection_ids())
        return True
