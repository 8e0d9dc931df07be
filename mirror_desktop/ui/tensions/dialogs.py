"""Dialogs of the tension map: edit a tension, edit an axis, confirm a deletion.

They collect words and choices only; the view hands the values to TensionService through the
database executor, and the service's validation is the one that counts (these checks only keep the
OK button honest).
"""

from __future__ import annotations

from typing import Any
from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QColorDialog,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from mirror_desktop.core import models as m
from mirror_desktop.core.enums import SyncMode
from mirror_desktop.core.tensions import DEFAULT_AXIS_COLOR, axis_color, axis_id_of
from mirror_desktop.core.validation import TENSION_NAME_MAX

SYNC_LABELS = {
    SyncMode.LOCAL_ONLY: "Only on this device",
    SyncMode.SHARE_ANONYMIZED: "Share the pattern, anonymised",
    SyncMode.SHARE_FULL: "Share the tension and its position",
}
CATEGORIES = ("relational", "temporal", "existential", "expressive", "somatic", "vocational")


def _swatch(color: str, size: int = 14) -> QIcon:
    pm = QPixmap(size, size)
    pm.fill(QColor(color))
    return QIcon(pm)


class TensionDialog(QDialog):
    """Create or edit a tension: name (≤ 100 characters, live counter), both poles, axis, sharing."""

    def __init__(self, axes: Sequence[m.Axis], tension: m.Tension | None = None,
                 parent: QWidget | None = None, default_axis_id: str | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Edit tension" if tension else "New tension")
        self.setMinimumWidth(420)
        self._name_touched = tension is not None
        self.name = QLineEdit(tension.name if tension else "")
        self.name.setMaxLength(TENSION_NAME_MAX)
        self.name.setPlaceholderText("e.g. Control vs Surrender")
        self.name.setAccessibleName("Tension name")
        self.counter = QLabel()
        self.counter.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.counter.setMinimumWidth(56)
        self.pole_a = QLineEdit(tension.axis_a if tension else "")
        self.pole_a.setPlaceholderText("first pole (−1)")
        self.pole_a.setAccessibleName("First pole")
        self.pole_b = QLineEdit(tension.axis_b if tension else "")
        self.pole_b.setPlaceholderText("second pole (+1)")
        self.pole_b.setAccessibleName("Second pole")
        self.axis = QComboBox()
        self.axis.setAccessibleName("Axis")
        self.axis.addItem("Unsorted", None)
        for a in axes:
            self.axis.addItem(_swatch(axis_color(a)), a.name, a.id)
        current_axis = axis_id_of(tension) if tension else default_axis_id
        idx = self.axis.findData(current_axis) if current_axis else 0
        self.axis.setCurrentIndex(max(0, idx))
        self.sync = QComboBox()
        self.sync.setAccessibleName("Sharing")
        for mode, label in SYNC_LABELS.items():
            self.sync.addItem(label, mode.value)
        self.sync.setCurrentIndex(max(0, self.sync.findData(str(tension.sync_mode) if tension else SyncMode.LOCAL_ONLY.value)))
        self.problem = QLabel()
        self.problem.setObjectName("problem")
        self.problem.setWordWrap(True)

        name_row = QHBoxLayout()
        name_row.addWidget(self.name, 1)
        name_row.addWidget(self.counter)
        poles = QHBoxLayout()
        poles.addWidget(self.pole_a, 1)
        poles.addWidget(QLabel("↔"))
        poles.addWidget(self.pole_b, 1)
        form = QFormLayout()
        form.addRow("&Name", name_row)
        form.addRow("&Poles", poles)
        form.addRow("&Axis", self.axis)
        form.addRow("&Sharing", self.sync)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.problem)
        lay.addWidget(self.buttons)

        self.name.textEdited.connect(self._on_name_edited)
        self.name.textChanged.connect(self._refresh)
        self.pole_a.textChanged.connect(self._on_poles)
        self.pole_b.textChanged.connect(self._on_poles)
        self._refresh()

    def _on_name_edited(self, _text: str) -> None:
        self._name_touched = bool(self.name.text())

    def _on_poles(self) -> None:
        # Until the person types a name, it follows the poles ("Control vs Surrender").
        if not self._name_touched:
            a, b = self.pole_a.text().strip(), self.pole_b.text().strip()
            self.name.setText(f"{a} vs {b}" if a and b else a or b)
        self._refresh()

    def _refresh(self) -> None:
        n = len(self.name.text().strip())
        self.counter.setText(f"{len(self.name.text())}/{TENSION_NAME_MAX}")
        self.counter.setAccessibleName(f"{len(self.name.text())} of {TENSION_NAME_MAX} characters")
        problem = ""
        if not n:
            problem = "A tension needs a name."
        elif not self.pole_a.text().strip() or not self.pole_b.text().strip():
            problem = "Both poles need words."
        self.problem.setText(problem)
        self.problem.setVisible(bool(problem) and (self._name_touched or bool(self.pole_a.text() or self.pole_b.text())))
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(not problem)

    def values(self) -> dict[str, Any]:
        """name, axis_a, axis_b, axis_id (None for Unsorted) and sync_mode, trimmed."""
        return {"name": self.name.text().strip(), "axis_a": self.pole_a.text().strip(),
                "axis_b": self.pole_b.text().strip(), "axis_id": self.axis.currentData(),
                "sync_mode": self.sync.currentData()}


class AxisDialog(QDialog):
    """Create or edit an axis: name, description, category and colour (QColorDialog)."""

    def __init__(self, axis: m.Axis | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Edit axis" if axis else "New axis")
        self.setMinimumWidth(420)
        self.name = QLineEdit(axis.name if axis else "")
        self.name.setAccessibleName("Axis name")
        self.description = QPlainTextEdit(axis.description or "" if axis else "")
        self.description.setPlaceholderText("What this dimension means to you")
        self.description.setFixedHeight(72)
        self.description.setAccessibleName("Description")
        self.category = QComboBox()
        self.category.setEditable(True)
        self.category.setAccessibleName("Category")
        self.category.addItem("")
        self.category.addItems(CATEGORIES)
        self.category.setCurrentText(axis.category or "" if axis else "")
        self._color = axis_color(axis) if axis else DEFAULT_AXIS_COLOR
        self.color_button = QPushButton()
        self.color_button.setAccessibleName("Colour")
        self.color_button.clicked.connect(self._pick_color)
        self._show_color()
        form = QFormLayout()
        form.addRow("&Name", self.name)
        form.addRow("&Description", self.description)
        form.addRow("&Category", self.category)
        form.addRow("C&olour", self.color_button)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.buttons)
        self.name.textChanged.connect(self._refresh)
        self._refresh()

    def _show_color(self) -> None:
        self.color_button.setIcon(_swatch(self._color, 16))
        self.color_button.setText(self._color)

    def _pick_color(self) -> None:
        chosen = QColorDialog.getColor(QColor(self._color), self, "Axis colour")
        if chosen.isValid():
            self._color = chosen.name().upper()
            self._show_color()

    def set_color(self, color: str) -> None:
        self._color = QColor(color).name().upper()
        self._show_color()

    def _refresh(self) -> None:
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(bool(self.name.text().strip()))

    def values(self) -> dict[str, Any]:
        return {"name": self.name.text().strip(), "description": self.description.toPlainText().strip() or None,
                "category": self.category.currentText().strip() or None, "color": self._color}


def confirm_delete(parent: QWidget, what: str, detail: str) -> bool:
    """Ask before deleting; the default button is Cancel."""
    box = QMessageBox(QMessageBox.Icon.Warning, f"Delete {what}?", f"Delete {what}?", parent=parent)
    box.setInformativeText(detail)
    box.setStandardButtons(QMessageBox.StandardButton.Cancel | QMessageBox.StandardButton.Yes)
    box.button(QMessageBox.StandardButton.Yes).setText("Delete")
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    return box.exec() == QMessageBox.StandardButton.Yes
