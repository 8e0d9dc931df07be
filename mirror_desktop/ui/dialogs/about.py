"""AboutDialog: Help → About shows the versions and the data folder, with an "Open folder" button."""

from __future__ import annotations

from pathlib import Path
from collections.abc import Callable

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices, QFont, QGuiApplication
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFormLayout, QHBoxLayout, QLabel, QPushButton,
                               QVBoxLayout, QWidget)

from mirror_desktop.paths import AppPaths
from mirror_desktop.ui.icon import app_icon
from mirror_desktop.version import LABELS, version_text, versions

UrlOpener = Callable[[QUrl], bool]


class AboutDialog(QDialog):
    """Versions, the journal folder and the log folder; "Open folder" hands the folder to the desktop.

    ``open_url`` defaults to ``QDesktopServices.openUrl``; tests pass a recorder.
    """

    def __init__(self, paths: AppPaths, parent: QWidget | None = None, *,
                 open_url: UrlOpener | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("aboutDialog")
        self.setWindowTitle("About Mirror")
        self.setWindowIcon(app_icon())
        self.setMinimumWidth(500)
        self.paths = paths
        self._open_url: UrlOpener = open_url or QDesktopServices.openUrl
        self.info = versions(include_qt=True)

        outer = QVBoxLayout(self)
        outer.setContentsMargins(28, 24, 28, 20)
        outer.setSpacing(12)
        head = QHBoxLayout()
        head.setSpacing(14)
        logo = QLabel()
        logo.setPixmap(app_icon().pixmap(64, 64))
        logo.setFixedSize(64, 64)
        head.addWidget(logo, 0, Qt.AlignmentFlag.AlignVCenter)
        titles = QVBoxLayout()
        titles.setSpacing(2)
        name = QLabel(f"Mirror {self.info['app']}")
        font = QFont(name.font())
        font.setPointSizeF(font.pointSizeF() * 1.6)
        font.setWeight(QFont.Weight.DemiBold)
        name.setFont(font)
        titles.addWidget(name)
        tagline = QLabel("A local-first reflective journal. What you write stays on this computer.")
        tagline.setObjectName("muted")
        tagline.setWordWrap(True)
        titles.addWidget(tagline)
        head.addLayout(titles, 1)
        outer.addLayout(head)

        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        form.setHorizontalSpacing(14)
        self.version_labels: dict[str, QLabel] = {}
        for key in ("schema", "python", "pyside6", "qt", "platform"):  # the app version is the title
            if key in self.info:
                value = QLabel(self.info[key])
                value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
                self.version_labels[key] = value
                form.addRow(f"{LABELS[key]}:", value)
        spacer = QWidget()
        spacer.setFixedHeight(6)
        form.addRow(spacer)
        self.folder_label = self._path_label(paths.data_dir)
        self.open_folder_button = QPushButton("Open folder")
        self.open_folder_button.clicked.connect(lambda: self.open_folder(self.paths.data_dir))
        form.addRow("Journal folder:", self._path_row(self.folder_label, self.open_folder_button))
        self.logs_label = self._path_label(paths.log_dir)
        self.open_logs_button = QPushButton("Open logs")
        self.open_logs_button.setToolTip("Logs hold ids, counts and timings, never what you wrote.")
        self.open_logs_button.clicked.connect(lambda: self.open_folder(self.paths.log_dir))
        form.addRow("Logs:", self._path_row(self.logs_label, self.open_logs_button))
        outer.addLayout(form)

        self.status_label = QLabel("")
        self.status_label.setObjectName("muted")
        self.status_label.setWordWrap(True)
        self.status_label.hide()
        outer.addWidget(self.status_label)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.copy_button = buttons.addButton("Copy versions", QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.clicked.connect(self.copy_versions)
        buttons.rejected.connect(self.reject)
        buttons.button(QDialogButtonBox.StandardButton.Close).setDefault(True)
        outer.addWidget(buttons)
        self.resize(540, outer.totalHeightForWidth(540))

    @staticmethod
    def _path_label(path: Path) -> QLabel:
        label = QLabel(str(path))
        label.setWordWrap(True)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        label.setMinimumWidth(240)
        return label

    @staticmethod
    def _path_row(label: QLabel, button: QPushButton) -> QWidget:
        row = QWidget()
        lay = QHBoxLayout(row)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(label, 1)
        lay.addWidget(button, 0, Qt.AlignmentFlag.AlignTop)
        return row

    def open_folder(self, folder: Path) -> bool:
        """Ask the desktop to show ``folder``; if it cannot, say so in one sentence in the dialog."""
        ok = folder.is_dir() and bool(self._open_url(QUrl.fromLocalFile(str(folder))))
        if not ok:
            why = "it does not exist yet" if not folder.is_dir() else "no file manager answered"
            self.status_label.setText(f"Mirror could not open {folder} ({why}); copy the path above instead.")
            self.status_label.show()
        else:
            self.status_label.hide()
        return ok

    def copy_versions(self) -> None:
        """Put the --version text and the folders on the clipboard, for a bug report."""
        text = (version_text("Mirror", include_qt=True)
                + f"\nJournal folder: {self.paths.data_dir}\nLogs: {self.paths.log_dir}")
        QGuiApplication.clipboard().setText(text)
        self.status_label.setText("Versions copied.")
        self.status_label.show()


def show_about(paths: AppPaths, parent: QWidget | None = None) -> None:
    dialog = AboutDialog(paths, parent)
    dialog.exec()
    dialog.deleteLater()
