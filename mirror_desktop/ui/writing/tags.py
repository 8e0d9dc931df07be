"""TagBrowser: the sidebar's list of tags with their counts; a click filters the reflection list.

It shows what it is given and emits intents: a click selects a tag (a second click on the same tag
clears the filter), and the context menu asks to rename or merge. The counts follow the identity
switcher because the controller asks for the shown identity's tags.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QMenu, QToolButton, QVBoxLayout, QWidget

from mirror_desktop.ui.theme import named

TagRole = Qt.ItemDataRole.UserRole + 1
CountRole = Qt.ItemDataRole.UserRole + 2


class TagBrowser(QWidget):
    """Tags with counts, most used first.

    Signals:
        tag_selected(object): payload is the tag to filter by, or None to show every reflection again.
        rename_requested(str): payload is the tag to rename.
        merge_requested(str): payload is the tag to merge into another.
    """

    tag_selected = Signal(object)
    rename_requested = Signal(str)
    merge_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("tagBrowser")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        head = QWidget()
        hl = QHBoxLayout(head)
        hl.setContentsMargins(16, 14, 10, 4)
        hl.addWidget(named(QLabel("TAGS"), "sectionTitle"), 1)
        self.clear_button = named(QToolButton(), "addButton")
        self.clear_button.setText("×")
        self.clear_button.setToolTip("Show every reflection again")
        self.clear_button.setAutoRaise(True)
        self.clear_button.hide()
        hl.addWidget(self.clear_button)
        lay.addWidget(head)
        self.list = named(QListWidget(), "tagList")
        self.list.setFrameShape(QListWidget.Shape.NoFrame)
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setUniformItemSizes(True)
        self.list.setMaximumHeight(200)
        lay.addWidget(self.list)
        self.empty = named(QLabel("No tags yet. Add some in the\neditor's Tags box (sleep, work)."), "emptyHint")
        self.empty.setWordWrap(True)
        lay.addWidget(self.empty)
        self.current: str | None = None
        self.list.itemClicked.connect(self._clicked)
        self.list.customContextMenuRequested.connect(self._menu)
        self.clear_button.clicked.connect(lambda: self.select(None))
        self.set_tags([])

    def set_tags(self, tags: Sequence[tuple[str, int]]) -> None:
        self.list.clear()
        for tag, n in tags:
            item = QListWidgetItem(f"#{tag}")
            item.setData(TagRole, tag)
            item.setData(CountRole, int(n))
            item.setData(Qt.ItemDataRole.ToolTipRole, f"#{tag}: {n} reflection{'s' if n != 1 else ''}")
            self.list.addItem(item)
            count = QLabel(str(n))
            count.setObjectName("tagCount")
            count.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            count.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
            count.setContentsMargins(0, 0, 10, 0)
            self.list.setItemWidget(item, count)
            if tag == self.current:
                item.setSelected(True)
                self.list.setCurrentItem(item)
        self.list.setVisible(bool(tags))
        self.empty.setVisible(not tags)

    def tags(self) -> list[tuple[str, int]]:
        return [(self.list.item(i).data(TagRole), self.list.item(i).data(CountRole)) for i in range(self.list.count())]

    def item_for(self, tag: str) -> QListWidgetItem | None:
        return next((self.list.item(i) for i in range(self.list.count()) if self.list.item(i).data(TagRole) == tag),
                    None)

    def select(self, tag: str | None) -> None:
        """Filter by ``tag`` (None: no filter) and say so."""
        self.current = tag
        self.clear_button.setVisible(tag is not None)
        if tag is None:
            self.list.clearSelection()
        self.tag_selected.emit(tag)

    def _clicked(self, item: QListWidgetItem) -> None:
        tag = str(item.data(TagRole))
        self.select(None if tag == self.current else tag)

    def _menu(self, pos: QPoint) -> None:
        item = self.list.itemAt(pos)
        if item is None:
            return
        tag = str(item.data(TagRole))
        menu = QMenu(self)
        menu.addAction(f"Show #{tag}", lambda: self.select(tag))
        menu.addSeparator()
        menu.addAction("Rename…", lambda: self.rename_requested.emit(tag))
        menu.addAction("Merge into…", lambda: self.merge_requested.emit(tag))
        menu.exec(self.list.viewport().mapToGlobal(pos))
