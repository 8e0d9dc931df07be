"""Issue 15, item 5: File → Import from another app… — the dry run's report first, then Import with
progress; Cancel rolls back; a refused file is one sentence and changes nothing. The real window,
executor and journal; Day One exports made here, the jrnl JSON sample from the shared test data."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from mirror_desktop.core.importing import ImportReport
from mirror_desktop.ui.importing.dialog import ImportFromAppDialog
from mirror_desktop.ui.main_window import MainWindow

from tests.integrations.importing_helpers import dayone_entry, make_dayone
from tests.testdata import shared_testdata
from ui_helpers import read, seed


def imported_count(data_dir: Path) -> int:
    return int(read(data_dir, lambda s: sum(1 for r in s.storage.reflections.list() if str(r.source) == "import")))


def open_dialog(qtbot: Any, window: MainWindow) -> ImportFromAppDialog:
    assert window.import_from_app_action.isEnabled()
    window.import_from_app_action.trigger()
    dialog = window.import_from_app_dialog
    assert isinstance(dialog, ImportFromAppDialog)
    qtbot.waitUntil(dialog.isVisible, timeout=5000)
    return dialog


def choose(dialog: ImportFromAppDialog, app: str, path: Path) -> None:
    dialog.app.setCurrentIndex(dialog.app.findData(app))
    dialog.path.setText(str(path))


def test_dry_run_first_then_import(qtbot: Any, make_window: Any, journal_dir: Path) -> None:
    seed(journal_dir, lambda s: s.create_identity("Work self"))
    window = make_window()
    dialog = open_dialog(qtbot, window)
    qtbot.waitUntil(lambda: dialog.identity.count() == 2, timeout=5000)
    choose(dialog, "jrnl", shared_testdata("imports", "jrnl", "myjournal.json"))
    assert dialog.time_format.isVisible() and not dialog.import_button.isEnabled()
    dialog.identity.setCurrentIndex(1)
    with qtbot.waitSignal(dialog.report_shown, timeout=20000) as shown:
        dialog.check_button.click()
    dry: ImportReport = shown.args[0]
    assert dry.dry_run and dry.imported == 5
    assert "Would import 5 entries from jrnl" in dialog.report.toPlainText()
    assert imported_count(journal_dir) == 0 and dialog.import_button.isEnabled()
    rows_before = window.list_model.rowCount()
    with qtbot.waitSignal(dialog.report_shown, timeout=20000) as shown:
        dialog.import_button.click()
    assert shown.args[0].imported == 5 and not shown.args[0].dry_run
    assert "Imported 5 entries" in dialog.report.toPlainText()
    assert imported_count(journal_dir) == 5
    qtbot.waitUntil(lambda: window.list_model.rowCount() == rows_before + 5, timeout=10000)
    owners = read(journal_dir, lambda s: {r.identity_id for r in s.storage.reflections.list()})
    assert len(owners) == 1 and None not in owners
    assert not dialog.import_button.isEnabled()  # a second import needs a new dry run
    with qtbot.waitSignal(dialog.report_shown, timeout=20000) as shown:
        dialog.check_button.click()
    assert shown.args[0].already_present == 5 and not dialog.import_button.isEnabled()


def test_changing_a_choice_after_the_dry_run_asks_for_another(qtbot: Any, make_window: Any, tmp_path: Path) -> None:
    window = make_window()
    dialog = open_dialog(qtbot, window)
    export = make_dayone(tmp_path, [dayone_entry("A", "one")])
    choose(dialog, "dayone", export)
    assert not dialog.time_format.isVisible()
    with qtbot.waitSignal(dialog.report_shown, timeout=20000):
        dialog.check_button.click()
    assert dialog.import_button.isEnabled()
    dialog.path.setText(str(export) + " ")
    dialog.path.setText(str(tmp_path / "other.zip"))
    assert not dialog.import_button.isEnabled()


def test_a_refused_file_is_one_sentence_and_changes_nothing(qtbot: Any, make_window: Any, journal_dir: Path,
                                                             tmp_path: Path) -> None:
    window = make_window()
    dialog = open_dialog(qtbot, window)
    bad = make_dayone(tmp_path, [dayone_entry("A", "x", when="99999-01-01T00:00:00Z")])
    choose(dialog, "dayone", bad)
    with qtbot.waitSignal(dialog.failed, timeout=20000) as failed:
        dialog.check_button.click()
    assert "99999" in failed.args[0] and dialog.status.text() == failed.args[0]
    assert not dialog.import_button.isEnabled() and imported_count(journal_dir) == 0


def test_cancel_rolls_the_import_back(qtbot: Any, make_window: Any, journal_dir: Path, tmp_path: Path) -> None:
    window = make_window()
    dialog = open_dialog(qtbot, window)
    export = make_dayone(tmp_path, [dayone_entry(f"E{n}", f"entry number {n}") for n in range(3000)])
    choose(dialog, "dayone", export)
    with qtbot.waitSignal(dialog.report_shown, timeout=30000):
        dialog.check_button.click()
    # Hold the import at its first progress report until Cancel has been pressed.
    gate = threading.Event()
    original = dialog.client.start

    def start(*args: Any, **kwargs: Any) -> Any:
        connect = kwargs.pop("connect")

        def wire(task: Any) -> None:
            connect(task)
            real = task.set_progress

            def slow(fraction: float, message: str = "") -> None:
                real(fraction, message)
                gate.wait(10)
            task.set_progress = slow
        return original(*args, connect=wire, **kwargs)

    dialog.client.start = start  # type: ignore[method-assign]
    dialog.import_button.click()
    assert dialog.cancel_button.text() == "Cancel"
    qtbot.waitUntil(lambda: dialog.progress.isVisible(), timeout=5000)
    dialog.cancel_button.click()
    gate.set()
    qtbot.waitUntil(lambda: dialog.task is None, timeout=30000)
    assert dialog.status.text() == "Cancelled; nothing was imported."
    assert imported_count(journal_dir) == 0
    assert dialog.cancel_button.text() == "Close"
