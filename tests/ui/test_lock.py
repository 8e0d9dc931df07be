"""The lock (issue 19, item 4): an encrypted journal opens to the lock screen, unlocks with its passphrase,
locks after the idle time with unsaved text saved first, and File → Encrypt journal… converts it off the GUI thread."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from mirror_desktop.app import MirrorApp
from mirror_desktop.core import models as m
from mirror_desktop.core.services import JournalService
from mirror_desktop.paths import AppPaths
from mirror_desktop.storage import cipher
from mirror_desktop.storage.cipher_convert import convert_journal
from mirror_desktop.storage.journal import SQLiteStorage
from mirror_desktop.ui.lock.encrypt_dialog import EncryptDialog, strength_hint
from mirror_desktop.ui.lock.idle import IdleLock

PASS = "four quiet river stones"


@pytest.fixture(autouse=True)
def quick_kdf(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(cipher, "JOURNAL_LOG2_N", 12)
    monkeypatch.setattr(cipher, "FAILURE_DELAY_S", 0.01)
    cipher.forget()
    yield
    cipher.forget()
    cipher._failures = 0


def _encrypted_journal(folder: Path) -> AppPaths:
    paths = AppPaths.resolve(folder)
    s = SQLiteStorage(paths.database)
    try:
        ident = s.identities.create(m.Identity(metadata={"name": "me"}))
        s.reflections.create(m.Reflection("a locked morning", identity_id=ident.id))
    finally:
        s.close()
    convert_journal(paths.database, old_key=None, new_key=cipher.new_key(PASS))
    cipher.forget()
    return paths


@pytest.fixture
def app_of(qtbot):  # type: ignore[no-untyped-def]
    made: list[MirrorApp] = []

    def make(paths: AppPaths) -> MirrorApp:
        mirror = MirrorApp(QApplication.instance(), paths)  # type: ignore[arg-type]
        made.append(mirror)
        return mirror

    yield make
    for mirror in made:
        mirror.shutdown()


def test_an_encrypted_journal_opens_to_the_lock_screen_and_unlocks(tmp_path: Path, qtbot, app_of) -> None:  # type: ignore[no-untyped-def]
    mirror = app_of(_encrypted_journal(tmp_path / "j"))
    mirror.start()
    screen = mirror.lock.screen
    assert mirror.window is None and screen is not None and screen.isVisible()
    qtbot.waitUntil(lambda: screen.passphrase.isEnabled(), timeout=10000)  # the keychain had no key
    QTest.keyClicks(screen.passphrase, "not it")
    screen.unlock_button.click()
    qtbot.waitUntil(lambda: "does not open the journal" in screen.message.text(), timeout=10000)
    assert mirror.window is None
    screen.passphrase.setText(PASS)
    screen.unlock_button.click()
    qtbot.waitUntil(lambda: mirror.window is not None, timeout=10000)
    with qtbot.waitSignal(mirror.window.settled, timeout=15000):
        pass
    assert mirror.window.list_model.rowCount() == 1
    assert not mirror.window.encrypt_action.isEnabled()  # already encrypted


def test_idle_lock_saves_unsaved_text_first_and_forgets_the_key(tmp_path: Path, qtbot, app_of) -> None:  # type: ignore[no-untyped-def]
    paths = _encrypted_journal(tmp_path / "j")
    cipher.unlock(paths.database, PASS)
    mirror = app_of(paths)
    mirror.start()
    w = mirror.window
    qtbot.waitUntil(lambda: w.is_open, timeout=15000)
    assert mirror.idle is not None and mirror.idle.minutes == 15
    w.lock_minutes_changed.emit(3)  # Settings → "Lock when idle for"
    assert mirror.idle.minutes == 3 and mirror.idle.timer.interval() == 3 * 60_000
    w.new_reflection()
    QTest.keyClicks(w.editor.text, "typed just before the lock")
    mirror.idle.timer.timeout.emit()  # the idle time has passed
    assert mirror.window is None and mirror.lock.screen is not None and mirror.lock.screen.isVisible()
    assert cipher.key_for(paths.database) is None
    key = cipher.unlock(paths.database, PASS)
    s = SQLiteStorage(paths.database, key=key)
    try:
        svc = JournalService(s)
        texts = [r.content for r in svc.reflections_page()] + [d.content for d in svc.pending_drafts()]
    finally:
        s.close()
    assert "typed just before the lock" in texts


def test_idle_clock_restarts_on_activity_and_zero_means_never(qtbot) -> None:  # type: ignore[no-untyped-def]
    app = QApplication.instance()
    idle = IdleLock(app, 0)  # type: ignore[arg-type]
    try:
        assert not idle.timer.isActive()
        idle.set_minutes(5)
        assert idle.timer.isActive() and idle.timer.interval() == 5 * 60_000
        with qtbot.waitSignal(idle.lock_requested, timeout=1000) as blocker:
            idle.timer.timeout.emit()
        assert blocker.args == ["idle"]
    finally:
        idle.stop()


def test_encrypt_dialog_needs_two_equal_passphrases_and_hints_strength(qtbot) -> None:  # type: ignore[no-untyped-def]
    d = EncryptDialog()
    qtbot.addWidget(d)
    assert not d.encrypt_button.isEnabled()
    d.first.setText("short")
    d.second.setText("shorter")
    assert not d.encrypt_button.isEnabled() and "differ" in d.status.text()
    assert d.hint.text().startswith("Weak")
    d.second.setText("short")
    assert d.encrypt_button.isEnabled()
    assert strength_hint(PASS) == "Strong."
    assert "SSD" in d.findChild(type(d.hint), "ssdNote").text()


def test_file_encrypt_journal_converts_off_the_gui_thread_and_reopens(tmp_path: Path, qtbot, app_of) -> None:  # type: ignore[no-untyped-def]
    paths = AppPaths.resolve(tmp_path / "plain")
    mirror = app_of(paths)
    mirror.start()
    qtbot.waitUntil(lambda: mirror.window is not None and mirror.window.is_open, timeout=15000)
    assert mirror.window.encrypt_action.isEnabled()
    mirror.window.encrypt_action.trigger()
    dialog = mirror.lock.dialog
    dialog.first.setText(PASS)
    dialog.second.setText(PASS)
    dialog.encrypt_button.click()
    qtbot.waitUntil(lambda: "The journal is encrypted" in dialog.status.text(), timeout=30000)
    assert "SSD" in dialog.status.text()
    assert cipher.file_kind(paths.database) == "mirror"
    qtbot.waitUntil(lambda: mirror.window is not None and mirror.window.is_open, timeout=15000)
    assert not mirror.window.encrypt_action.isEnabled()
    dialog.close()


def test_settings_offer_the_idle_time(tmp_path: Path, qtbot) -> None:  # type: ignore[no-untyped-def]
    from mirror_desktop.ui.dialogs.settings import SettingsDialog

    d = SettingsDialog(AppPaths.resolve(tmp_path), "light", lock_minutes=0)
    qtbot.addWidget(d)
    assert d.lock_spin.text() == "never"
    d.lock_spin.setValue(20)
    assert d.lock_minutes() == 20


def test_window_journal_passphrase_file_refuses_a_wrong_one_in_one_sentence(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from mirror_desktop.app import main

    paths = _encrypted_journal(tmp_path / "j")
    wrong = tmp_path / "wrong.txt"
    wrong.write_text("not the passphrase\n")
    before = paths.database.read_bytes()
    assert main(["--data-dir", str(paths.data_dir), "--journal-passphrase-file", str(wrong)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "does not open the journal" in err[0]
    assert paths.database.read_bytes() == before
