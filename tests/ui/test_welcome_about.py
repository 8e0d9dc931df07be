"""First-run welcome and Help → About (issue 7, item 4): what they say, what they return, what they open."""

from __future__ import annotations

import os
import re
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402
from PySide6.QtCore import Qt, QTimer, QUrl  # noqa: E402
from PySide6.QtGui import QGuiApplication  # noqa: E402
from PySide6.QtWidgets import QApplication, QDialog  # noqa: E402

from mirror_desktop.paths import AppPaths  # noqa: E402
from mirror_desktop.ui.dialogs.about import AboutDialog  # noqa: E402
from mirror_desktop.ui.dialogs.welcome import WelcomeDialog, ask_first_identity, welcome_sentences  # noqa: E402


@pytest.fixture
def paths(tmp_path: Path) -> AppPaths:
    p = AppPaths.resolve(tmp_path / "My Journal")
    p.data_dir.mkdir(parents=True)
    p.log_dir.mkdir(parents=True)
    return p


def sentences(text: str) -> list[str]:
    # A path holds dots ("/home/sam/.local"), so split only on a full stop followed by space or end.
    return [s for s in re.split(r"(?<=[.;])\s+(?=[A-Z])", text.strip()) if s]


def test_the_welcome_says_in_three_sentences_where_the_journal_lives_and_that_nothing_leaves(
        qtbot, paths: AppPaths) -> None:
    lines = welcome_sentences(paths.data_dir)
    assert len(lines) == 3 and all(len(sentences(line)) == 1 for line in lines)
    dialog = WelcomeDialog(paths.data_dir)
    qtbot.addWidget(dialog)
    shown = " ".join(w.text() for w in (dialog.where_label, dialog.consent_label, dialog.identity_label))
    assert str(paths.data_dir) == dialog.folder_label.text()
    assert "on this computer" in shown
    assert "Nothing you write leaves this machine unless you choose" in shown
    assert dialog.name_edit.text() == "Personal"
    assert dialog.start_button.text() == "Start writing" and dialog.start_button.isDefault()


def test_start_writing_returns_the_trimmed_name(qtbot, paths: AppPaths) -> None:
    dialog = WelcomeDialog(paths.data_dir)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.name_edit.clear()
    qtbot.keyClicks(dialog.name_edit, "  Work   self ")
    with qtbot.waitSignal(dialog.accepted, timeout=2000):
        dialog.start_button.click()
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.identity_name() == "Work self"


def test_an_empty_name_cannot_start(qtbot, paths: AppPaths) -> None:
    dialog = WelcomeDialog(paths.data_dir)
    qtbot.addWidget(dialog)
    dialog.name_edit.setText("   ")
    assert not dialog.start_button.isEnabled()
    dialog.name_edit.setText("Personal")
    assert dialog.start_button.isEnabled()


def _answer_modal(action: str, name: str | None = None) -> None:
    def answer() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, WelcomeDialog):
            QTimer.singleShot(20, answer)
            return
        if name is not None:
            dialog.name_edit.setText(name)
        (dialog.start_button if action == "start" else dialog.later_button).click()

    QTimer.singleShot(0, answer)


def test_ask_first_identity_returns_the_name_or_none(qtbot, paths: AppPaths) -> None:
    _answer_modal("start", "Evening self")
    assert ask_first_identity(paths.data_dir) == "Evening self"
    _answer_modal("later")
    assert ask_first_identity(paths.data_dir) is None


def test_about_shows_versions_and_the_data_folder(qtbot, paths: AppPaths) -> None:
    from mirror_desktop import __version__
    from mirror_desktop.storage.migrations import load_migrations
    from PySide6 import QtCore

    dialog = AboutDialog(paths, open_url=lambda _u: True)
    qtbot.addWidget(dialog)
    assert dialog.info["app"] == __version__
    assert dialog.version_labels["schema"].text() == load_migrations("sqlite")[-1].version
    assert dialog.version_labels["qt"].text() == QtCore.qVersion()
    assert dialog.folder_label.text() == str(paths.data_dir)
    assert dialog.logs_label.text() == str(paths.log_dir)


def test_open_folder_hands_the_data_folder_to_the_desktop(qtbot, paths: AppPaths) -> None:
    opened: list[QUrl] = []
    dialog = AboutDialog(paths, open_url=lambda url: opened.append(url) or True)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.mouseClick(dialog.open_folder_button, Qt.MouseButton.LeftButton)
    assert opened == [QUrl.fromLocalFile(str(paths.data_dir))]
    assert opened[0].toLocalFile() == str(paths.data_dir)
    assert dialog.status_label.isHidden()


def test_open_folder_that_cannot_open_says_so_in_one_sentence(qtbot, paths: AppPaths, tmp_path: Path) -> None:
    missing = AppPaths.resolve(tmp_path / "not-created")
    opened: list[QUrl] = []
    dialog = AboutDialog(missing, open_url=lambda url: opened.append(url) or True)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.open_folder(missing.data_dir) is False
    assert opened == []
    assert dialog.status_label.isVisible() and "does not exist yet" in dialog.status_label.text()

    refusing = AboutDialog(paths, open_url=lambda _u: False)
    qtbot.addWidget(refusing)
    refusing.show()
    assert refusing.open_folder(paths.data_dir) is False
    assert "no file manager answered" in refusing.status_label.text()


def test_copy_versions_puts_the_version_text_on_the_clipboard(qtbot, paths: AppPaths) -> None:
    dialog = AboutDialog(paths, open_url=lambda _u: True)
    qtbot.addWidget(dialog)
    dialog.copy_button.click()
    text = QGuiApplication.clipboard().text()
    assert "(schema " in text and str(paths.data_dir) in text


@pytest.mark.parametrize("kind", ["welcome", "about"])
def test_both_dialogs_render_offscreen(qtbot, paths: AppPaths, tmp_path: Path, kind: str) -> None:
    dialog = WelcomeDialog(paths.data_dir) if kind == "welcome" else AboutDialog(paths, open_url=lambda _u: True)
    qtbot.addWidget(dialog)
    dialog.show()
    image = dialog.grab().toImage()
    assert image.width() >= 480 and image.height() >= 250
    # Not blank: the logo and the text give many distinct colours.
    colours = {image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)}
    assert len(colours) > 20


def _start_app(qtbot, paths: AppPaths, **kwargs):  # type: ignore[no-untyped-def]
    from mirror_desktop.app import MirrorApp

    mirror = MirrorApp(QApplication.instance(), paths, **kwargs)
    mirror.start()
    qtbot.waitUntil(lambda: mirror.window is not None and mirror.window.is_open, timeout=15000)
    return mirror


def test_first_run_creates_the_identity_and_opens_the_editor_on_it(qtbot, tmp_path: Path) -> None:
    from mirror_desktop.core.services import JournalService
    from mirror_desktop.storage.journal import SQLiteStorage

    paths = AppPaths.resolve(tmp_path / "first")
    mirror = _start_app(qtbot, paths, welcome=True)
    try:
        qtbot.waitUntil(lambda: isinstance(QApplication.activeModalWidget(), WelcomeDialog), timeout=10000)
        dialog = QApplication.activeModalWidget()
        assert str(paths.data_dir) in dialog.folder_label.text()
        dialog.name_edit.setText("Evening self")
        dialog.start_button.click()
        w = mirror.window
        qtbot.waitUntil(lambda: any(w.identity_model.index(r, 0).data() == "Evening self"
                                    for r in range(w.identity_model.rowCount())), timeout=10000)
        qtbot.waitUntil(lambda: w.editor.identity_id() is not None, timeout=10000)
    finally:
        mirror.shutdown()
    with SQLiteStorage(paths.database) as storage:
        idents = JournalService(storage).list_identities()
    assert [i.metadata["name"] for i in idents] == ["Evening self"]
    assert w.editor.identity_id() == idents[0].id

    # Shown once: the next start of the same folder goes straight to the journal.
    again = _start_app(qtbot, paths, welcome=True)
    try:
        qtbot.wait(300)
        assert QApplication.activeModalWidget() is None
    finally:
        again.shutdown()


def test_no_welcome_for_screenshots_or_journals_with_writing(qtbot, tmp_path: Path) -> None:
    from mirror_desktop.core.services import JournalService
    from mirror_desktop.storage.journal import SQLiteStorage

    paths = AppPaths.resolve(tmp_path / "used")
    paths.data_dir.mkdir(parents=True)
    with SQLiteStorage(paths.database) as storage:
        JournalService(storage).save_reflection("an earlier evening")
    mirror = _start_app(qtbot, paths, welcome=True)
    try:
        qtbot.wait(300)
        assert QApplication.activeModalWidget() is None
    finally:
        mirror.shutdown()
    from mirror_desktop.app import MirrorApp

    assert MirrorApp(QApplication.instance(), paths, screenshot=str(tmp_path / "x.png"), welcome=True).welcome is False


def test_help_about_opens_the_about_dialog_on_this_journal(qtbot, tmp_path: Path) -> None:
    paths = AppPaths.resolve(tmp_path / "about")
    mirror = _start_app(qtbot, paths)
    seen: list[str] = []

    def close_about() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, AboutDialog):
            QTimer.singleShot(20, close_about)
            return
        seen.append(dialog.folder_label.text())
        dialog.reject()

    try:
        QTimer.singleShot(0, close_about)
        mirror.window.about_action.trigger()
    finally:
        mirror.shutdown()
    assert seen == [str(paths.data_dir)]
