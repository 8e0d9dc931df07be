"""File → Export/Import: dialogs, the background job, the executor swap, and the summary."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication, QDialogButtonBox

from mirror_desktop.app import open_reader
from mirror_desktop.bundle import export as export_mod
from mirror_desktop.core import models as m
from mirror_desktop.keychain import PassphraseStore
from mirror_desktop.paths import AppPaths
from mirror_desktop.storage.journal import SQLiteStorage
from mirror_desktop.ui.bundle.dialogs import (
    BundleController, ExportDialog, ImportDialog, export_summary, import_summary, passphrase_strength,
)
from mirror_desktop.workers.bundles import BundlesClient
from mirror_desktop.workers.executor import DatabaseExecutor


@pytest.fixture(autouse=True)
def _low_work_factor(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(export_mod, "default_log2_n", 2)


def test_strength_hint() -> None:
    assert passphrase_strength("")[0] == 0
    assert passphrase_strength("short")[0] == 0
    assert passphrase_strength("aaaaaaaaaaaa")[0] <= 1
    assert passphrase_strength("correct horse battery staple")[0] >= 3


def test_export_dialog_needs_matching_passphrases(qtbot, tmp_path: Path) -> None:
    dlg = ExportDialog(str(tmp_path), has_keychain=False)
    qtbot.addWidget(dlg)
    ok = dlg.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert dlg.encrypt.isChecked() and not ok.isEnabled()
    assert "session only" in dlg.fields.remember.text()
    dlg.fields.passphrase.setText("correct horse battery")
    dlg.fields.confirm.setText("correct horse batter")
    assert not ok.isEnabled() and "differ" in dlg.fields.hint.text()
    dlg.fields.confirm.setText("correct horse battery")
    assert ok.isEnabled()
    dlg.encrypt.setChecked(False)
    assert ok.isEnabled() and dlg.choices()["passphrase"] is None


def test_import_dialog_asks_for_a_passphrase_only_when_encrypted(qtbot, tmp_path: Path) -> None:
    sealed = tmp_path / "b.zip.age"
    sealed.write_bytes(b"age-encryption.org/v1\n-> scrypt x 10\n")
    plain = tmp_path / "b.zip"
    plain.write_bytes(b"PK\x03\x04rest")
    dlg = ImportDialog(str(tmp_path), has_keychain=True)
    qtbot.addWidget(dlg)
    ok = dlg.buttons.button(QDialogButtonBox.StandardButton.Ok)
    dlg.file.setText(str(plain))
    assert ok.isEnabled() and dlg.choices()["passphrase"] is None and dlg.choices()["mode"] == "merge"
    dlg.file.setText(str(sealed))
    assert not ok.isEnabled()
    dlg.fields.passphrase.setText("pw")
    assert ok.isEnabled() and dlg.choices()["passphrase"] == "pw"


@pytest.fixture
def controller(qtbot, tmp_path: Path):
    paths = AppPaths.resolve(tmp_path / "journal")
    s = SQLiteStorage(paths.database)
    s.reflections.create_many([m.Reflection(content=f"note {i}") for i in range(12)])
    s.close()
    paths.config_dir.mkdir(parents=True, exist_ok=True)
    executor = DatabaseExecutor(lambda: SQLiteStorage(paths.database, migrate=False),
                                open_reader=lambda: open_reader(paths.database))
    with qtbot.waitSignal(executor.opened, timeout=10000):
        executor.start()
    qtbot.waitUntil(lambda: all(lane.ready for lane in executor._lanes.values()), timeout=10000)
    settings = QSettings(str(paths.settings_file), QSettings.Format.IniFormat)
    ctl = BundleController(None, settings, BundlesClient(executor, paths, store=PassphraseStore(backend=object())),
                           interactive=False)
    yield ctl, paths, executor
    ctl.shutdown()
    executor.shutdown()


def count_on_executor(qtbot, executor, lane: str = "write") -> int:
    box: list[int] = []
    executor.submit(lambda s: s.reflections.count(), box.append, lane=lane)
    qtbot.waitUntil(lambda: bool(box), timeout=10000)
    return box[0]


def test_export_then_merge_and_replace_through_the_executor(qtbot, controller, tmp_path: Path) -> None:
    ctl, paths, executor = controller
    out = tmp_path / "out"
    out.mkdir()
    with qtbot.waitSignal(ctl.export_finished, timeout=30000) as got:
        ctl.start_export(out, "correct horse battery", remember=True)
    result = got.args[0]
    assert result.path.exists() and result.path.name.endswith(".zip.age")
    assert "12 reflections" in export_summary(result)
    assert ctl.store.load() == "correct horse battery"  # session only: no keychain in tests
    assert ctl.settings.value("bundle/last_export_dir") == str(out)

    executor.submit(lambda s: s.reflections.create(m.Reflection(content="after the export")))
    with qtbot.waitSignal(ctl.import_finished, timeout=30000) as got:
        ctl.start_import(result.path, "correct horse battery", mode="merge")
    assert got.args[0].total_duplicates > 0 and "12 entries were already here" in import_summary(got.args[0])
    assert count_on_executor(qtbot, executor) == 13

    with qtbot.waitSignal(ctl.import_finished, timeout=30000) as got:
        ctl.start_import(result.path, "correct horse battery", mode="replace")
    assert got.args[0].rollback_file is not None
    # the executor's connection reopened on the swapped-in journal, and so did its read lanes
    assert count_on_executor(qtbot, executor) == 12
    qtbot.waitUntil(lambda: bool(executor._lanes) and all(lane.ready for lane in executor._lanes.values()),
                    timeout=10000)
    assert count_on_executor(qtbot, executor, lane="read") == 12
    assert count_on_executor(qtbot, executor, lane="background") == 12


def test_failure_is_one_sentence_and_nothing_changes(qtbot, controller, tmp_path: Path) -> None:
    ctl, paths, executor = controller
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"not a bundle at all")
    with qtbot.waitSignal(ctl.bundle_failed, timeout=10000) as got:
        ctl.start_import(bad, None)
    assert "not a Mirror bundle" in got.args[0]
    assert count_on_executor(qtbot, executor) == 12


def test_cancel_stops_the_export(qtbot, controller, tmp_path: Path) -> None:
    ctl, paths, executor = controller
    out = tmp_path / "out"
    out.mkdir()
    box: list[str] = []

    def cancel_at_once(job) -> None:
        job.cancel()
        job.cancelled.connect(lambda: box.append("cancelled"))

    from mirror_desktop.workers.bundles import export_task

    ctl.runner.start(export_task(paths, out, passphrase="correct horse battery", share=False), cancel_at_once)
    qtbot.waitUntil(lambda: box == ["cancelled"], timeout=10000)
    assert list(out.iterdir()) == []


def test_the_progress_dialogs_cancel_button_stops_a_running_job(qtbot, controller) -> None:
    """Cancel in the progress dialog reaches the task while it runs, not after it has finished."""
    import time

    from mirror_desktop.bundle.errors import OperationCancelled

    ctl, paths, executor = controller
    ctl.interactive = True  # the real QProgressDialog and its Cancel button
    ran: list[float] = []

    def slow(state) -> None:  # type: ignore[no-untyped-def]
        start = time.monotonic()
        while time.monotonic() - start < 10:
            if state.is_cancelled():
                ran.append(time.monotonic() - start)
                raise OperationCancelled()
            time.sleep(0.01)
        ran.append(-1.0)

    from PySide6.QtWidgets import QPushButton

    job = ctl._run(lambda wire: ctl.runner.start(slow, wire), "Exporting…", lambda _r: None)
    button = ctl.progress.findChild(QPushButton)
    assert button is not None and button.text() == "Cancel"
    qtbot.wait(100)
    button.click()
    qtbot.waitUntil(lambda: bool(ran) and ctl.progress is None, timeout=5000)  # the dialog closed
    assert 0 <= ran[0] < 5
    assert not ctl.runner.busy or job.is_cancelled()


def test_a_hanging_keychain_never_blocks_the_window(qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """RELIABILITY.md, Secrets: keyring is called off the GUI thread; the dialog opens when it answers."""
    import threading

    from keyring.backend import KeyringBackend
    from PySide6.QtWidgets import QDialog, QWidget

    gate = threading.Event()

    class SlowKeyring(KeyringBackend):
        priority = 1  # type: ignore[assignment]

        def get_password(self, service: str, username: str) -> str | None:
            gate.wait(10)
            return "remembered words"

        def set_password(self, service: str, username: str, password: str) -> None:
            gate.wait(10)

        def delete_password(self, service: str, username: str) -> None:
            pass

    opened: list[str | None] = []
    monkeypatch.setattr(ExportDialog, "exec", lambda self: (opened.append(self.fields.passphrase.text()),
                                                            QDialog.DialogCode.Rejected)[1])
    window = QWidget()
    qtbot.addWidget(window)
    paths = AppPaths.resolve(tmp_path / "journal")
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    controller = BundleController(window, settings,
                                  BundlesClient(None, paths, store=PassphraseStore(backend=SlowKeyring(), timeout=20)))
    controller.export_requested()  # would block here for as long as the keychain hangs
    assert opened == [] and not gate.is_set()
    gate.set()
    qtbot.waitUntil(lambda: opened != [], timeout=10000)
    assert opened == ["remembered words"]


def test_the_export_dialog_keeps_its_size_while_a_passphrase_is_typed(qtbot, tmp_path: Path) -> None:
    """Issue 11: the strength hint grew from one line to two as the passphrase changed; the dialog jumped."""
    from PySide6.QtTest import QTest

    from mirror_desktop.ui.bundle.dialogs import ExportDialog

    dlg = ExportDialog(str(tmp_path), has_keychain=False)
    qtbot.addWidget(dlg)
    dlg.resize(460, dlg.sizeHint().height())
    dlg.show()
    qtbot.waitExposed(dlg)
    heights = set()
    for ch in "horse battery staple correct":
        QTest.keyClicks(dlg.fields.passphrase, ch)
        QApplication.processEvents()
        heights.add(dlg.fields.hint.height())
    assert len(heights) == 1, heights


def test_a_wrong_passphrase_asks_again_with_the_file_and_choice_kept(qtbot, controller, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 11: a wrong passphrase closed the import dialog and forgot the path; now it comes back."""
    from PySide6.QtWidgets import QDialog

    ctl, paths, executor = controller
    out = tmp_path / "out"
    out.mkdir()
    with qtbot.waitSignal(ctl.export_finished, timeout=30000) as got:
        ctl.start_export(out, "correct horse battery")
    bundle = got.args[0].path
    seen: list[tuple[str, str, bool, str]] = []

    def exec_(dlg) -> QDialog.DialogCode:  # type: ignore[no-untyped-def]
        seen.append((dlg.file.text(), dlg.problem.text(), dlg.replace.isChecked(), dlg.fields.passphrase.text()))
        return QDialog.DialogCode.Rejected

    monkeypatch.setattr(ImportDialog, "exec", exec_)
    ctl.interactive = True
    with qtbot.waitSignal(ctl.bundle_failed, timeout=30000):
        ctl.start_import(bundle, "not the passphrase", mode="replace")
    qtbot.waitUntil(lambda: bool(seen), timeout=10000)
    path, problem, replace, typed = seen[0]
    assert path == str(bundle) and replace and typed == ""
    assert "passphrase" in problem.lower()
    assert count_on_executor(qtbot, executor) == 12  # nothing changed


def test_an_empty_journal_offers_restore_not_merge(make_window, journal_dir, qtbot, monkeypatch) -> None:
    """Issue 11: a journal with nothing but its seeds counts as empty, so importing restores (replace)."""
    from PySide6.QtWidgets import QDialog

    from ui_helpers import seed

    seen: list[tuple[str, bool]] = []

    def exec_(dlg) -> QDialog.DialogCode:  # type: ignore[no-untyped-def]
        seen.append((dlg.windowTitle(), dlg.replace.isChecked()))
        return QDialog.DialogCode.Rejected

    monkeypatch.setattr(ImportDialog, "exec", exec_)
    w = make_window()
    w.show_view("tensions")  # the map seeds the default tensions: they do not make the journal "used"
    qtbot.waitUntil(lambda: len(w.tension_view.map.keys()) > 0, timeout=10000)
    w.bundles.import_requested()
    qtbot.waitUntil(lambda: len(seen) == 1, timeout=10000)
    assert seen[0] == ("Restore from a bundle", True)
    seed(journal_dir, lambda s: s.save_reflection("Something of mine.", reflection_id="mine", identity_id=None,
                                                  visibility="local_only", tags=[], draft_id=None))
    w.bundles.import_requested()
    qtbot.waitUntil(lambda: len(seen) == 2, timeout=10000)
    assert seen[1] == ("Import bundle", False)


def test_the_welcome_offers_restore_from_a_bundle(qtbot, tmp_path: Path) -> None:
    from mirror_desktop.ui.dialogs.welcome import WelcomeDialog

    dlg = WelcomeDialog(tmp_path)
    qtbot.addWidget(dlg)
    with qtbot.waitSignal(dlg.rejected, timeout=5000):
        dlg.restore_button.click()
    assert dlg.restore_chosen and dlg.restore_button.text() == "Restore from a bundle…"


def test_a_slower_passphrase_check_is_asked_about_then_opened(qtbot, controller, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 11, item 5: a bundle asking more scrypt work than Mirror's own is opened only on a yes."""
    from mirror_desktop.bundle import age

    ctl, paths, executor = controller
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.setattr(export_mod, "default_log2_n", 3)  # written at 3 …
    with qtbot.waitSignal(ctl.export_finished, timeout=30000) as got:
        ctl.start_export(out, "correct horse battery")
    monkeypatch.setattr(age, "EXPORT_LOG2_N", 2)  # … while this Mirror writes 2: the check is "slower"
    asked: list[str] = []
    answers = iter([False, True])
    monkeypatch.setattr(ctl, "ask_slow_passphrase", lambda text: asked.append(text) or next(answers))
    with qtbot.waitSignal(ctl.bundle_failed, timeout=30000):
        ctl.start_import(got.args[0].path, "correct horse battery", mode="merge")
    assert len(asked) == 1
    with qtbot.waitSignal(ctl.import_finished, timeout=30000):
        ctl.start_import(got.args[0].path, "correct horse battery", mode="merge")
    assert len(asked) == 2
