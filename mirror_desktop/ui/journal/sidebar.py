"""Sidebar: the identity switcher and the threads list, each with its small actions."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPoint, QSize, Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QListView, QMenu, QToolButton, QVBoxLayout, QWidget

from mirror_desktop.ui.journal.models import identities as im
from mirror_desktop.ui.journal.models import threads as tm
from mirror_desktop.ui.theme import named


def _header(title: str, button_tip: str) -> tuple[QWidget, QToolButton]:
    w = QWidget()
    lay = QHBoxLayout(w)
    lay.setContentsMargins(16, 14, 10, 4)
    label = named(QLabel(title.upper()), "sectionTitle")
    add = named(QToolButton(), "addButton")
    add.setText("+")
    add.setToolTip(button_tip)
    add.setAutoRaise(True)
    lay.addWidget(label, 1)
    lay.addWidget(add)
    return w, add


class Sidebar(QWidget):
    """Identity switcher (All / identities / Anonymous) over the current identity's threads.

    Signals:
        identity_selected(str, object): (kind "all" | "identity" | "anonymous", identity id or None).
        identity_create_requested(), identity_rename_requested(str), identity_color_requested(str),
        identity_delete_requested(str): payload is the identity id.
        thread_selected(str): payload is the thread id.
        thread_create_requested(): the "+" next to Threads.
        thread_rename_requested(str), thread_status_requested(str, str): (thread id, new status).
    """

    identity_selected = Signal(str, object)
    identity_create_requested = Signal()
    identity_rename_requested = Signal(str)
    identity_color_requested = Signal(str)
    identity_delete_requested = Signal(str)
    thread_selected = Signal(str)
    thread_create_requested = Signal()
    thread_rename_requested = Signal(str)
    thread_status_requested = Signal(str, str)

    def __init__(self, identity_model: im.IdentityListModel, thread_model: tm.ThreadListModel,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sidebar")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        head, self.add_identity = _header("Identities", "New identity…")
        lay.addWidget(head)
        self.identities = named(QListView(), "identityList")
        self.identities.setModel(identity_model)
        self.identities.setFrameShape(QListView.Shape.NoFrame)
        self.identities.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.identities.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.identities.setMaximumHeight(220)
        self.identities.setIconSize(QSize(12, 12))
        lay.addWidget(self.identities)
        head, self.add_thread = _header("Threads", "New thread…")
        lay.addWidget(head)
        self.threads = named(QListView(), "threadList")
        self.threads.setModel(thread_model)
        self.threads.setFrameShape(QListView.Shape.NoFrame)
        self.threads.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        for view in (self.identities, self.threads):
            view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
            view.setTextElideMode(Qt.TextElideMode.ElideRight)
            view.setUniformItemSizes(True)
        lay.addWidget(self.threads, 1)
        self.threads_empty = named(QLabel("No threads yet.\nA thread follows one topic\nacross weeks and months."), "emptyHint")
        self.threads_empty.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignHCenter)
        self.threads_empty.setWordWrap(True)
        lay.addWidget(self.threads_empty, 1)
        self._identity_model = identity_model
        self._thread_model = thread_model

        self.add_identity.clicked.connect(self.identity_create_requested)
        self.add_thread.clicked.connect(self.thread_create_requested)
        self.identities.selectionModel().currentChanged.connect(self._identity_current)
        self.threads.selectionModel().currentChanged.connect(self._thread_current)
        self.threads.clicked.connect(self._thread_clicked)
        self.identities.customContextMenuRequested.connect(self._identity_menu)
        self.threads.customContextMenuRequested.connect(self._thread_menu)
        thread_model.modelReset.connect(self._threads_reset)
        self._threads_reset()

    def _threads_reset(self) -> None:
        empty = self._thread_model.rowCount() == 0
        self.threads.setVisible(not empty)
        self.threads_empty.setVisible(empty)

    def select_identity_row(self, row: int) -> None:
        self.identities.setCurrentIndex(self._identity_model.index(row, 0))

    def current_identity(self) -> tuple[str, str | None]:
        idx = self.identities.currentIndex()
        if not idx.isValid():
            return im.ALL, None
        return idx.data(im.KindRole), idx.data(im.IdentityIdRole)

    def _identity_current(self, current: QModelIndex, _prev: QModelIndex) -> None:
        if current.isValid():
            self.identity_selected.emit(current.data(im.KindRole), current.data(im.IdentityIdRole))

    def _thread_current(self, current: QModelIndex, _prev: QModelIndex) -> None:
        if current.isValid():
            self.thread_selected.emit(current.data(tm.ThreadIdRole))

    def _thread_clicked(self, index: QModelIndex) -> None:
        if index.isValid():
            self.thread_selected.emit(index.data(tm.ThreadIdRole))

    def _identity_menu(self, pos: QPoint) -> None:
        idx = self.identities.indexAt(pos)
        menu = QMenu(self)
        if idx.isValid() and idx.data(im.KindRole) == im.IDENTITY:
            ident = idx.data(im.IdentityIdRole)
            menu.addAction("Rename…", lambda: self.identity_rename_requested.emit(ident))
            menu.addAction("Colour…", lambda: self.identity_color_requested.emit(ident))
            menu.addSeparator()
            menu.addAction("Delete…", lambda: self.identity_delete_requested.emit(ident))
        else:
            menu.addAction("New identity…", self.identity_create_requested.emit)
        menu.exec(self.identities.viewport().mapToGlobal(pos))

    def _thread_menu(self, pos: QPoint) -> None:
        idx = self.threads.indexAt(pos)
        menu = QMenu(self)
        if idx.isValid():
            tid, status = idx.data(tm.ThreadIdRole), idx.data(tm.StatusRole)
            menu.addAction("Rename…", lambda: self.thread_rename_requested.emit(tid))
            if status != "active":
                menu.addAction("Resume", lambda: self.thread_status_requested.emit(tid, "active"))
            if status != "paused":
                menu.addAction("Pause", lambda: self.thread_status_requested.emit(tid, "paused"))
            if status != "archived":
                menu.addAction("Archive", lambda: self.thread_status_requested.emit(tid, "archived"))
        else:
            menu.addAction("New thread…", self.thread_create_requested.emit)
        menu.exec(self.threads.viewport().mapToGlobal(pos))
