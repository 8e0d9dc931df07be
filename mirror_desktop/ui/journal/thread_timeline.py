"""ThreadTimelineView: one thread's reflections in order, with dates and the gaps between them.

Rows reorder by drag (internal move → ``ThreadTimelineModel.moveRows``); the new order is saved
once, on drop, through ``reorder_requested``.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QListView,
    QMenu,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from mirror_desktop.core import models as m
from mirror_desktop.ui import format as fmt
from mirror_desktop.ui.journal.models import threads as tm
from mirror_desktop.ui.journal.delegates import TimelineDelegate
from mirror_desktop.ui.elided_label import ElidedLabel
from mirror_desktop.ui.theme import named


class ThreadTimelineView(QWidget):
    """Header (title, status, dates, actions) over the timeline list.

    Signals:
        reflection_activated(str): payload is the reflection id to open in the editor.
        remove_requested(str, str): (thread id, reflection id) to take out of the thread.
        rename_requested(str), status_requested(str, str): thread id, (thread id, status).
    """

    reflection_activated = Signal(str)
    remove_requested = Signal(str, str)
    rename_requested = Signal(str)
    status_requested = Signal(str, str)

    def __init__(self, model: tm.ThreadTimelineModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("timeline")
        self.model = model
        self.shown_thread: m.Thread | None = None
        self.has_threads = False  # the window says whether the sidebar lists any (the empty text differs)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        head = named(QWidget(), "viewHeader")
        hl = QVBoxLayout(head)
        hl.setContentsMargins(20, 16, 16, 10)
        top = QHBoxLayout()
        self.title = named(ElidedLabel("Threads"), "viewTitle")  # a long name gives way to the buttons
        self.rename_button = QPushButton("Rename…")
        self.status_button = QPushButton("Pause")
        for b in (self.rename_button, self.status_button):
            b.setAutoDefault(False)
        top.addWidget(self.title, 1)
        top.addWidget(self.rename_button)
        top.addWidget(self.status_button)
        hl.addLayout(top)
        # Two one-line facts: a wrapping label here was given one line's height and its second line was cut off.
        self.subtitle = named(ElidedLabel(""), "muted")
        self.dates = named(ElidedLabel(""), "muted")
        hl.addWidget(self.subtitle)
        hl.addWidget(self.dates)
        lay.addWidget(head)

        self.stack = QStackedWidget()
        self.list = named(QListView(), "timelineList")
        self.list.setModel(model)
        self.list.setItemDelegate(TimelineDelegate(self.list))
        self.list.setFrameShape(QListView.Shape.NoFrame)
        self.list.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.list.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.list.setDragEnabled(True)
        self.list.setAcceptDrops(True)
        self.list.setDropIndicatorShown(True)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.empty = named(QLabel(""), "emptyState")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.stack.addWidget(self.list)
        self.stack.addWidget(self.empty)
        lay.addWidget(self.stack, 1)

        self.list.activated.connect(self._activated)
        self.list.clicked.connect(self._activated)
        self.list.customContextMenuRequested.connect(self._menu)
        self.rename_button.clicked.connect(lambda: self.shown_thread and self.rename_requested.emit(self.shown_thread.id))
        self.status_button.clicked.connect(self._toggle_status)
        model.modelReset.connect(self._refresh)
        model.rowsMoved.connect(self._refresh)
        self.show_thread(None)

    def show_thread(self, thread: m.Thread | None) -> None:
        self.shown_thread = thread
        self._refresh()

    def set_has_threads(self, has: bool) -> None:
        if has != self.has_threads:
            self.has_threads = has
            self._refresh()

    def _refresh(self) -> None:
        t = self.shown_thread
        has = t is not None
        self.rename_button.setVisible(has)
        self.status_button.setVisible(has)
        if t is None:
            self.title.setText("Threads")
            self.subtitle.setText("Choose one on the left to follow it over time.")
            self.dates.hide()
            self.empty.setText("No thread chosen" if self.has_threads else
                               "No threads yet.\nPress + beside Threads on the left to start one, then add "
                               "reflections to it with Threads ▾ in the editor.")
            self.stack.setCurrentWidget(self.empty)
            return
        status = str(t.status)
        self.title.setText(tm.thread_title(t))
        n = self.model.rowCount()
        self.subtitle.setText(f"{fmt.plural(n, 'reflection')}  ·  {status}")
        self.dates.setText(f"started {fmt.short_date(t.started_at)}  ·  last active {fmt.short_date(t.last_active)}"
                           if n else "")
        self.dates.setVisible(bool(n))
        self.list.setToolTip("Drag a reflection to reorder the thread" if n > 1 else "")
        self.status_button.setText("Resume" if status != "active" else "Pause")
        if n == 0:
            self.empty.setText("This thread is empty.\nOpen a reflection and use Threads ▾ in the editor to add it here.")
            self.stack.setCurrentWidget(self.empty)
        else:
            self.stack.setCurrentWidget(self.list)

    def _toggle_status(self) -> None:
        if self.shown_thread is not None:
            self.status_requested.emit(self.shown_thread.id, "paused" if str(self.shown_thread.status) == "active" else "active")

    def _activated(self, index: QModelIndex) -> None:
        if index.isValid():
            self.reflection_activated.emit(index.data(tm.ReflectionIdRole))

    def _menu(self, pos) -> None:  # type: ignore[no-untyped-def]
        idx = self.list.indexAt(pos)
        if not idx.isValid() or self.shown_thread is None:
            return
        menu = QMenu(self)
        rid, tid = idx.data(tm.ReflectionIdRole), self.shown_thread.id
        menu.addAction("Open", lambda: self.reflection_activated.emit(rid))
        menu.addAction("Remove from this thread", lambda: self.remove_requested.emit(tid, rid))
        if str(self.shown_thread.status) != "archived":
            menu.addSeparator()
            menu.addAction("Archive thread", lambda: self.status_requested.emit(tid, "archived"))
        menu.exec(self.list.viewport().mapToGlobal(pos))
