"""Template dialogs: pick one to start a reflection (Ctrl+Shift+N), and manage the journal's own.

Both render a list of templates they are given and emit intents; the writing controller asks the
worker client and hands back the new list or the one sentence an error carries (an empty or oversized
template, a name taken). Built-in templates can be used and read, not edited or deleted.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from mirror_desktop.core.templates import TemplateInfo
from mirror_desktop.ui.theme import named

NameRole = Qt.ItemDataRole.UserRole + 1


def _name(t: TemplateInfo) -> str:
    return t.name


def _body(t: TemplateInfo) -> str:
    return t.body


def _builtin(t: TemplateInfo) -> bool:
    return t.builtin


def _fill(view: QListWidget, templates: Sequence[TemplateInfo], select: str | None = None) -> None:
    view.clear()
    for t in templates:
        item = QListWidgetItem(_name(t) + ("  ·  built in" if _builtin(t) else ""))
        item.setData(NameRole, _name(t))
        view.addItem(item)
        if _name(t) == select:
            view.setCurrentItem(item)
    if view.currentRow() < 0 and view.count():
        view.setCurrentRow(0)


class TemplatePicker(QDialog):
    """Choose a template; the preview shows its text. Enter (or a double click) starts writing.

    Signals:
        manage_requested(): "Manage templates…" was pressed.
    """

    manage_requested = Signal()

    def __init__(self, templates: Sequence[TemplateInfo], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Start from a template")
        self.setObjectName("templatePicker")
        self.resize(640, 420)
        self._templates = list(templates)
        lay = QVBoxLayout(self)
        hint = named(QLabel("A template is a few open questions to write along; change or delete any of it."), "muted")
        hint.setWordWrap(True)
        lay.addWidget(hint)
        split = QSplitter(Qt.Orientation.Horizontal)
        self.list = QListWidget()
        self.preview = QPlainTextEdit()
        self.preview.setReadOnly(True)
        split.addWidget(self.list)
        split.addWidget(self.preview)
        split.setSizes([220, 400])
        lay.addWidget(split, 1)
        buttons = QDialogButtonBox()
        self.manage_button = buttons.addButton("Manage templates…", QDialogButtonBox.ButtonRole.ResetRole)
        self.start_button = buttons.addButton("Start writing", QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.start_button.setDefault(True)
        lay.addWidget(buttons)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.manage_button.clicked.connect(self.manage_requested)
        self.list.currentRowChanged.connect(self._show)
        self.list.itemActivated.connect(lambda _i: self.accept())
        self.set_templates(self._templates)
        self.list.setFocus()

    def set_templates(self, templates: Sequence[TemplateInfo]) -> None:
        current = self.chosen_name()
        self._templates = list(templates)
        _fill(self.list, self._templates, current)
        self.start_button.setEnabled(bool(self._templates))

    def _show(self, row: int) -> None:
        self.preview.setPlainText(_body(self._templates[row]) if 0 <= row < len(self._templates) else "")

    def chosen_name(self) -> str | None:
        item = self.list.currentItem()
        return str(item.data(NameRole)) if item is not None else None

    def chosen_body(self) -> str:
        name = self.chosen_name()
        return next((_body(t) for t in self._templates if _name(t) == name), "")


class ManageTemplates(QDialog):
    """Add, edit and delete the journal's own templates.

    Signals:
        save_requested(object, str, str): (the name being edited or None for a new one, name, text).
        delete_requested(str): payload is the template's name.
    """

    save_requested = Signal(object, str, str)
    delete_requested = Signal(str)

    def __init__(self, templates: Sequence[TemplateInfo], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Templates")
        self.setObjectName("manageTemplates")
        self.resize(720, 480)
        self._templates: list[TemplateInfo] = []
        self._editing: str | None = None
        lay = QVBoxLayout(self)
        split = QSplitter(Qt.Orientation.Horizontal)
        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        self.list = QListWidget()
        ll.addWidget(self.list, 1)
        self.new_button = QPushButton("New template")
        ll.addWidget(self.new_button)
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("Name (for example: morning pages)")
        self.body_edit = QPlainTextEdit()
        self.body_edit.setPlaceholderText("The text a new reflection starts with: a few open questions, headings…")
        self.error = named(QLabel(""), "formError")
        self.error.setWordWrap(True)
        self.error.hide()
        row = QHBoxLayout()
        self.delete_button = QPushButton("Delete")
        self.save_button = QPushButton("Save")
        self.save_button.setDefault(True)
        row.addWidget(self.delete_button)
        row.addStretch(1)
        row.addWidget(self.save_button)
        rl.addWidget(self.name_edit)
        rl.addWidget(self.body_edit, 1)
        rl.addWidget(self.error)
        rl.addLayout(row)
        split.addWidget(left)
        split.addWidget(right)
        split.setSizes([220, 480])
        lay.addWidget(split, 1)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        lay.addWidget(close)
        self.list.currentRowChanged.connect(self._edit_row)
        self.new_button.clicked.connect(self.start_new)
        self.save_button.clicked.connect(self._save)
        self.delete_button.clicked.connect(self._delete)
        QShortcut(QKeySequence.StandardKey.Save, self, self._save)
        self.set_templates(templates)

    def set_templates(self, templates: Sequence[TemplateInfo], select: str | None = None) -> None:
        self._templates = list(templates)
        self.list.blockSignals(True)
        _fill(self.list, self._templates, select or self._editing)
        self.list.blockSignals(False)
        self._edit_row(self.list.currentRow())

    def show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.setVisible(bool(text))

    def start_new(self) -> None:
        self.list.clearSelection()
        self._editing = None
        self._set_editable(True)
        self.name_edit.clear()
        self.body_edit.clear()
        self.show_error("")
        self.name_edit.setFocus()

    def _edit_row(self, row: int) -> None:
        self.show_error("")
        if not 0 <= row < len(self._templates):
            self.start_new()
            return
        t = self._templates[row]
        self._editing = _name(t)
        self.name_edit.setText(_name(t))
        self.body_edit.setPlainText(_body(t))
        self._set_editable(not _builtin(t))

    def _set_editable(self, on: bool) -> None:
        self.name_edit.setReadOnly(not on)
        self.body_edit.setReadOnly(not on)
        self.save_button.setEnabled(on)
        self.delete_button.setEnabled(on and self._editing is not None)
        self.save_button.setToolTip("" if on else "Built-in templates stay as they are; start a new one instead.")

    def _save(self) -> None:
        if not self.save_button.isEnabled():
            return
        self.save_requested.emit(self._editing, self.name_edit.text().strip(), self.body_edit.toPlainText())

    def _delete(self) -> None:
        if self._editing is not None:
            self.delete_requested.emit(self._editing)
