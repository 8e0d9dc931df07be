"""The lock's flow in the window: unlock (keychain first, then the lock screen), encrypt, lock when idle.

The work itself (deriving keys, converting the journal, the keychain) is handed in by the composition
root (app.py) as plain functions and runs off the GUI thread on a TaskRunner; this module never
touches storage.
"""

from __future__ import annotations

from typing import Any
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QWidget

from mirror_desktop.ui.lock.encrypt_dialog import EncryptDialog
from mirror_desktop.ui.lock.lock_screen import LockScreen
from mirror_desktop.workers.tasks import TaskRunner


class LockController(QObject):
    """Signals:
        unlocked(): a key for the journal is at hand; open it.
        encrypted(str): the journal was converted; payload is the sentence shown; open it again.
    """

    unlocked = Signal()
    encrypted = Signal(str)

    def __init__(self, journal_name: str, *, try_keychain: Callable[[], bool], unlock: Callable[[str], None],
                 encrypt: Callable[[str, bool, Any], str], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.journal_name = journal_name
        self._try_keychain = try_keychain
        self._unlock = unlock
        self._encrypt = encrypt
        self.runner = TaskRunner("mirror-lock", self)
        self.screen: LockScreen | None = None
        self.dialog: EncryptDialog | None = None

    # -- the lock screen ---------------------------------------------------------------------
    def show_lock_screen(self, size: tuple[int, int] | None = None, *, keychain_first: bool = True) -> LockScreen:
        screen = self.screen
        if screen is None:
            screen = self.screen = LockScreen(self.journal_name)
            screen.unlock_requested.connect(self._unlock_with)
        if size:
            screen.resize(*size)
        screen.show()
        if keychain_first:
            screen.set_busy(True)
            self.runner.run(self._try_keychain, self._keychain_answered, lambda exc: screen.show_error(str(exc)))
        return screen

    def _keychain_answered(self, found: bool) -> None:
        if found:
            self._done()
        elif self.screen is not None:
            self.screen.set_busy(False)
            self.screen.message.setText("")
            self.screen.passphrase.setFocus()

    def _unlock_with(self, passphrase: str) -> None:
        screen = self.screen
        if screen is None:
            return
        self.runner.run(lambda: self._unlock(passphrase), lambda _r: self._done(), lambda exc: screen.show_error(str(exc)))

    def _done(self) -> None:
        if self.screen is not None:
            self.screen.close()
            self.screen.deleteLater()
            self.screen = None
        self.unlocked.emit()

    # -- File → Encrypt journal… -----------------------------------------------------------------
    def show_encrypt_dialog(self, parent: QWidget | None, before: Callable[[], None]) -> EncryptDialog:
        """``before`` closes the journal (saving unsaved text) once the person has confirmed."""
        dialog = EncryptDialog(None)
        self.dialog = dialog
        if parent is not None:
            dialog.move(parent.geometry().center() - dialog.rect().center())

        def go(passphrase: str, keep: bool) -> None:
            before()
            self.runner.start(lambda state: self._encrypt(passphrase, keep, state), wire)

        relay = _Relay(self, dialog)

        def wire(job: Any) -> None:
            # Bound slots of a GUI-thread object: queued onto this thread (a lambda would run on the task's).
            job.progress_changed.connect(relay.progress)
            job.finished.connect(relay.done)
            job.failed.connect(relay.failed)

        dialog.encrypt_requested.connect(go)
        dialog.show()
        return dialog

    def _encrypted(self, dialog: EncryptDialog, sentence: str, ok: bool) -> None:
        dialog.finished_with(sentence, ok)
        self.encrypted.emit(sentence)

    def shutdown(self) -> None:
        self.runner.shutdown(2000)


class _Relay(QObject):
    def __init__(self, owner: LockController, dialog: EncryptDialog) -> None:
        super().__init__(owner)
        self._owner = owner
        self._dialog = dialog

    @Slot(int, str)
    def progress(self, pct: int, what: str) -> None:
        self._dialog.set_progress(pct / 100, what)

    @Slot(object)
    def done(self, sentence: object) -> None:
        self._owner._encrypted(self._dialog, str(sentence), True)

    @Slot(object)
    def failed(self, exc: object) -> None:
        self._owner._encrypted(self._dialog, str(exc), False)
