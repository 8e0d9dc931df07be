"""SettingsDialog: the theme, where the journal lives (read-only here; --data-dir moves it), and the
journal's writing settings (when a day starts, the daily reminder; issue 16)."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QSpinBox, QWidget

from mirror_desktop.core.writing import WritingSettings
from mirror_desktop.paths import AppPaths


class SettingsDialog(QDialog):
    def __init__(self, paths: AppPaths, theme: str, parent: QWidget | None = None, *,
                 writing: WritingSettings | None = None, lock_minutes: int = 15) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        form = QFormLayout(self)
        self.theme_combo = QComboBox()
        self.theme_combo.addItem("Light", "light")
        self.theme_combo.addItem("Dark", "dark")
        self.theme_combo.setCurrentIndex(max(self.theme_combo.findData(theme), 0))
        form.addRow("Theme:", self.theme_combo)
        folder = QLabel(str(paths.data_dir))
        folder.setTextInteractionFlags(folder.textInteractionFlags() | folder.textInteractionFlags().TextSelectableByMouse)
        form.addRow("Journal folder:", folder)
        # Issue 19: an encrypted journal locks after this long without a key press or a click.
        self.lock_spin = QSpinBox()
        self.lock_spin.setRange(0, 24 * 60)
        self.lock_spin.setSuffix(" min")
        self.lock_spin.setSpecialValueText("never")
        self.lock_spin.setValue(lock_minutes)
        self.lock_spin.setToolTip("An encrypted journal locks after this idle time; unsaved text is saved first.")
        form.addRow("Lock when idle for:", self.lock_spin)
        note = QLabel("Autosave keeps your writing within two seconds; nothing leaves this device unless you choose.")
        note.setWordWrap(True)
        form.addRow(note)
        self.writing = None
        if writing is not None:
            from mirror_desktop.ui.writing.settings_form import WritingSettingsForm

            self.writing = WritingSettingsForm(form, writing)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def accept(self) -> None:
        if self.writing is None or self.writing.check():
            super().accept()

    def writing_settings(self) -> WritingSettings | None:
        return self.writing.value() if self.writing is not None else None

    def theme(self) -> str:
        return str(self.theme_combo.currentData())

    def lock_minutes(self) -> int:
        return int(self.lock_spin.value())
