"""Composition root of the desktop app: paths, settings, executor, main window, start-up and shutdown.

``mirror-desktop [--data-dir DIR] [--screenshot PNG] [--view reflections|threads|tensions|search|calendar|stats]``.
The journal opens (and migrates) on the executor's worker thread while the window shows progress;
a journal that cannot be opened ends in one sentence and a choice, never in a changed file.
"""

from __future__ import annotations

import gc

# Start-up makes some 50,000 objects, and the cyclic garbage collector walked them again and again while they
# were made: 20–40 ms before the first paint (issue 12). It pauses while this module's imports run, and main()
# pauses it until the window has settled (resume_garbage_collection).
_COLLECTING_BEFORE_IMPORTS = gc.isenabled()
gc.disable()

import argparse
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any, cast
from collections.abc import Callable, Sequence

# Qt-free code first, on purpose (issue 12: start-up): once PySide6 is imported, it reads the source file of
# every module imported after it (its __feature__ import hook), and these modules need no Qt.
from mirror_desktop import __version__
from mirror_desktop.core import models as _models  # noqa: F401 - the journal's data, needed by the first frame
from mirror_desktop.core.staging import start_session
from mirror_desktop.logging_setup import install_excepthook, install_qt_message_handler, setup_logging
from mirror_desktop.paths import AppPaths
from mirror_desktop.version import VersionAction

from PySide6.QtCore import QEvent, QObject, QSettings, QTimer, Signal
from PySide6.QtWidgets import QApplication, QMessageBox

if _COLLECTING_BEFORE_IMPORTS:
    gc.enable()  # importing this module (a test, a tool) leaves the collector as it found it

log = logging.getLogger(__name__)
_gc_paused_by_main = False
GC_PAUSE_LIMIT_MS = 30_000

VIEW_CHOICES = ("reflections", "threads", "tensions", "search", "calendar", "stats")
SCREENSHOT_SIZE = (1280, 800)


def open_journal(database: Path) -> Any:
    """Runs on the worker thread: open without migrating (the executor migrates with progress)."""
    from mirror_desktop.storage.journal import SQLiteStorage

    return SQLiteStorage(database, migrate=False, purge_in_steps=True)  # JournalClient.purge_index runs them


def first_page(database: Path) -> Any:
    """Runs on the worker thread before the open: the list's first page read straight from the file, or None
    (storage/first_page.py; the window paints it before the storage layer has loaded, issue 12)."""
    from mirror_desktop.storage.first_page import newest_reflections
    from mirror_desktop.ui.journal.models.reflection_list import PAGE_SIZE, ReflectionRow

    stored = newest_reflections(database, PAGE_SIZE)
    return None if stored is None else [ReflectionRow.of(r) for r in stored]


def open_reader(database: Path) -> Any:
    """Runs on a read or background lane: another connection to the journal the write lane opened (issue 12)."""
    from mirror_desktop.storage.journal import SQLiteStorage

    return SQLiteStorage(database, migrate=False, create=False, reader=True)


def journal_is_locked(database: Path) -> bool:
    """Encrypted (issue 19) and no key for it unlocked in this process."""
    from mirror_desktop.storage import cipher

    return cipher.is_encrypted(database) and cipher.key_for(database) is None


def unlock_from_keychain(database: Path) -> bool:
    """"Unlock at login": the key kept in the keychain, if any opens the journal (runs off the GUI thread)."""
    from mirror_desktop import keychain
    from mirror_desktop.storage import cipher

    cipher.check_openable(database)
    salt = cipher.file_salt(database) or b""
    stored = keychain.load_journal_key(salt.hex())  # KeychainUnavailable: its sentence is shown
    if not stored:
        return False
    key = cipher.JournalKey(bytes.fromhex(stored), salt)
    if not cipher.key_opens(database, key):
        return False
    cipher.remember(key)
    return True


def unlock_with(database: Path, passphrase: str) -> None:
    from mirror_desktop.storage import cipher

    cipher.unlock(database, passphrase)


def unlock_from_file(database: Path, passphrase_file: str) -> str | None:
    """``--journal-passphrase-file F``: unlock before the window opens; the sentence when that fails."""
    from mirror_desktop.core.errors import MirrorError

    try:
        passphrase = Path(passphrase_file).read_text(encoding="utf-8").rstrip("\r\n")
    except (OSError, UnicodeDecodeError):
        return f"Cannot read the passphrase file {passphrase_file}; check the path."
    try:
        unlock_with(database, passphrase)
    except MirrorError as exc:
        return str(exc)
    return None


def encrypt_journal(database: Path, passphrase: str, keep: bool, state: Any) -> str:
    """File → Encrypt journal…: runs off the GUI thread with the journal closed; returns the sentence to show."""
    from mirror_desktop import keychain
    from mirror_desktop.storage import cipher
    from mirror_desktop.storage.cipher_convert import convert_journal

    key = cipher.new_key(passphrase)
    report = convert_journal(database, old_key=None, new_key=key, progress=state.set_progress)
    sentence = (f"The journal is encrypted ({report.rows} rows checked, {len(report.copies_converted)} older copies "
                "converted).")
    if keep:
        try:
            keychain.store_journal_key(key.salt.hex(), key.raw.hex())
            sentence += " Its key is kept in the keychain: it unlocks at login."
        except keychain.KeychainUnavailable as exc:
            sentence += f" {exc}"
    return f"{sentence} {report.note}"


def describe_open_error(exc: BaseException, database: Path) -> str:
    """The one sentence for a journal that cannot be opened."""
    from mirror_desktop.core.errors import MirrorError

    if isinstance(exc, MirrorError):
        return str(exc)
    text = str(exc).lower()
    if "locked" in text or "busy" in text:
        return (f"The journal {database} is in use by another program; close the other Mirror window "
                "and open it again.")
    if "readonly" in text or "read-only" in text or "permission" in text:
        return f"The journal {database} cannot be written; make its folder writable or choose another folder."
    if "malformed" in text or "not a database" in text or "corrupt" in text:
        return f"The journal {database} is damaged; restore a backup or choose another folder."
    return f"The journal {database} cannot be opened ({exc}); choose another folder or restore a backup."


class FirstPaintProbe(QObject):
    """Benchmark hook (MIRROR_BENCH_STARTUP=1): prints when the populated list is first painted."""

    def __init__(self, view: Any, on_painted: Callable[[], None]) -> None:
        super().__init__(view)
        self._view = view
        self._done = False
        self._on_painted = on_painted
        view.viewport().installEventFilter(self)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if not self._done and event.type() == QEvent.Type.Paint and self._view.model().rowCount() > 0:
            self._done = True
            QTimer.singleShot(0, self._on_painted)
        return False


class MirrorApp(QObject):
    """Owns the executor and the window of one journal; can reopen on another folder.

    Signals:
        screenshot_saved(str): the PNG was written; payload is its path.
    """

    screenshot_saved = Signal(str)

    def __init__(self, qapp: QApplication, paths: AppPaths, *, screenshot: str | None = None,
                 view: str | None = None, search: str | None = None, welcome: bool = False) -> None:
        super().__init__()
        self.welcome = welcome and not screenshot  # first-run welcome (issue 7); main() turns it on
        self.qapp = qapp
        self.paths = paths
        self.screenshot = screenshot
        self.view = view
        self.search = search
        self.exit_code = 0
        self.window: Any = None
        self.executor: Any = None
        self.lock: Any = None  # ui/lock LockController (issue 19), made on first start
        self.idle: Any = None
        self._bench = os.environ.get("MIRROR_BENCH_STARTUP") == "1"

    def settings(self, paths: AppPaths) -> QSettings:
        paths.config_dir.mkdir(parents=True, exist_ok=True)
        return QSettings(str(paths.settings_file), QSettings.Format.IniFormat)

    def start(self) -> None:
        from mirror_desktop.workers.executor import DatabaseExecutor

        paths = self.paths
        # Private files from here on; plaintext a killed export or import left behind is swept first.
        start_session(paths.data_dir, also=(paths.config_dir, paths.log_dir))
        settings = self.settings(paths)
        database = paths.database
        if self._locked(database, settings):
            resume_garbage_collection()
            self.set_app_icon()
            from mirror_desktop.ui.theme import apply_theme

            apply_theme(str(settings.value("theme", "light")), self.qapp)  # the lock screen in the person's theme
            return
        from mirror_desktop.storage import cipher

        encrypted = cipher.is_encrypted(database)
        # An encrypted journal's first page waits for the open (its key is applied there).
        peek = None if encrypted else (lambda: first_page(database))
        self.executor = DatabaseExecutor(lambda: open_journal(database), open_reader=lambda: open_reader(database),
                                         defer_lanes=True, peek=peek)
        # The journal opens on its thread while the window is built (issue 12: start-up). Its signals reach
        # this thread as queued events, after start() returns, so the window's connections below see them all.
        self.executor.start()
        from mirror_desktop.ui.main_window import MainWindow
        from mirror_desktop.ui.theme import apply_theme

        apply_theme(str(settings.value("theme", "light")), self.qapp)
        self.window = MainWindow(self.executor, paths, settings)
        self.executor.open_failed.connect(self._open_failed)
        self.window.settled.connect(self.set_app_icon)  # seven PNGs read after the first paint, not before it
        self.window.settled.connect(resume_garbage_collection)
        if self.screenshot:
            self.window.save_settings = lambda: None  # a screenshot run leaves the person's layout alone
            self.window.resize(*SCREENSHOT_SIZE)
            self.window.journal_loaded.connect(self._prepare_screenshot)
        if self._bench:
            FirstPaintProbe(self.window.list_view, self._bench_painted)
        if self.welcome and not self._bench:
            self.window.journal_loaded.connect(self._offer_welcome)
        self._watch_lock(database, settings, encrypted)
        self.window.show()

    def set_app_icon(self) -> None:
        """The window, taskbar and dialog icon (the .desktop file names the same icon)."""
        if self.qapp.windowIcon().isNull():
            from mirror_desktop.ui.icon import app_icon

            self.qapp.setWindowIcon(app_icon())

    # -- the lock (issue 19) -----------------------------------------------------------------
    def _lock_controller(self, database: Path) -> Any:
        if self.lock is None:
            from mirror_desktop.ui.lock.controller import LockController

            self.lock = LockController(database.name, try_keychain=lambda: unlock_from_keychain(database),
                                       unlock=lambda p: unlock_with(database, p),
                                       encrypt=lambda p, keep, state: encrypt_journal(database, p, keep, state))
            self.lock.unlocked.connect(self.start)
            self.lock.encrypted.connect(lambda _s: self.start())
        return self.lock

    def _locked(self, database: Path, settings: QSettings) -> bool:
        """An encrypted journal without a key at hand opens to the lock screen instead."""
        if not journal_is_locked(database):
            return False
        screen = self._lock_controller(database).show_lock_screen(SCREENSHOT_SIZE if self.screenshot else None,
                                                                  keychain_first=not self.screenshot)
        if self.screenshot:
            print("mirror-desktop: the journal is locked; the screenshot shows the lock screen.", file=sys.stderr)

            def grab() -> None:
                ok = screen.grab().save(str(self.screenshot))
                self.exit_code = 0 if ok else 3
                self.qapp.exit(self.exit_code)

            QTimer.singleShot(50, grab)
        return True

    def _watch_lock(self, database: Path, settings: QSettings, encrypted: bool) -> None:
        self.window.encrypt_action.setEnabled(not encrypted)
        self.window.encrypt_requested.connect(
            lambda: self._lock_controller(database).show_encrypt_dialog(self.window, self._close_journal))
        if encrypted and self.idle is None and not self.screenshot:
            from mirror_desktop.ui.lock.idle import DEFAULT_MINUTES, SETTING, IdleLock

            self.idle = IdleLock(self.qapp, int(str(settings.value(SETTING, DEFAULT_MINUTES) or 0)), self)
            self.idle.lock_requested.connect(lambda _why: self.lock_now())
        if self.idle is not None:
            self.window.lock_minutes_changed.connect(self.idle.set_minutes)

    def _close_journal(self) -> None:
        """Close the window (its closeEvent saves unsaved text and drains the executor)."""
        self._close_window()
        if self.executor is not None:
            self.executor.shutdown()

    def lock_now(self) -> None:
        """Lock: the lock screen first (so the app keeps a window), unsaved text saved, the key forgotten."""
        from mirror_desktop.storage import cipher

        if self.window is None:
            return
        size = (self.window.width(), self.window.height())
        if self.idle is not None:
            self.idle.stop()
            self.idle = None
        self._lock_controller(self.paths.database).show_lock_screen(size, keychain_first=False)
        self._close_journal()
        cipher.forget()

    # -- first run (issue 7) ---------------------------------------------------------------
    def _offer_welcome(self) -> None:
        """Once per journal folder: an empty journal (no identities, no reflections) gets the welcome."""
        if self.window is None or self.settings(self.paths).value("welcome_shown", False, type=bool):
            return
        self.window.client.read(lambda s: s.is_empty(), self._welcome_if_empty, lambda _e: None)

    def _welcome_if_empty(self, empty: bool) -> None:
        """A journal with nothing but its default tensions is new: welcome, a first identity, or a restore."""
        if self.window is None or not empty:
            return
        from mirror_desktop.ui.dialogs.welcome import WelcomeDialog

        dialog = WelcomeDialog(self.paths.data_dir, self.window)
        dialog.accepted.connect(lambda: self._create_first_identity(dialog.identity_name()))
        window = self.window
        dialog.rejected.connect(lambda: dialog.restore_chosen and window.bundles.import_requested())
        dialog.finished.connect(lambda _code: self._welcome_finished(dialog))
        dialog.open()  # window-modal without a nested event loop

    def _welcome_finished(self, dialog: Any) -> None:
        self.settings(self.paths).setValue("welcome_shown", True)  # "Not now" is an answer too
        dialog.deleteLater()

    def _create_first_identity(self, name: str) -> None:
        window = self.window
        if window is None or not name:
            return
        log.info("first run: creating the first identity")

        def write_as(ident: Any) -> None:
            if self.window is window:
                window.journal.select_identity(ident.id)
                window.new_reflection()
                window.editor.setFocus()

        def created(ident: Any) -> None:
            # The window reloads its identities on identities_changed; a no-op read queued after that
            # reload on the serial executor returns after it, when the new identity can be selected.
            window.client.read(lambda _s: None, lambda _r: write_as(ident))

        window.client.create_identity(name, None, created)

    # -- failure -------------------------------------------------------------------------
    def _open_failed(self, exc: BaseException) -> None:
        resume_garbage_collection()
        self.set_app_icon()
        sentence = describe_open_error(exc, self.paths.database)
        # The type and the path, not the sentence: an exception's text is never logged (logging_setup).
        log.warning("journal could not be opened: %s at %s", type(exc).__name__, self.paths.database)
        if self.screenshot or self._bench:
            print(sentence, file=sys.stderr)
            self.exit_code = 2
            self._close_window()
            self.qapp.exit(2)
            return
        from mirror_desktop.ui.dialogs import open_failed

        self.window.progress.hide()
        self.window.progress_label.setText(sentence)
        choice = open_failed.ask(sentence, self.window)
        folder = open_failed.choose_folder(self.window, str(self.paths.data_dir.parent)) if choice == open_failed.CHOOSE else None
        self._close_window()
        if folder:
            self.paths = AppPaths.resolve(folder)
            self.start()
        else:
            self.exit_code = 1
            self.qapp.exit(1)

    def _close_window(self) -> None:
        if self.window is not None:
            self.window.close()
            self.window.deleteLater()
            self.window = None

    # -- screenshot ----------------------------------------------------------------------
    def _prepare_screenshot(self) -> None:
        w = self.window
        view = self.view or "reflections"
        if view == "threads" and w.thread_model.rowCount():
            from mirror_desktop.ui.journal.models.threads import ThreadIdRole

            w.journal.timeline_loaded.connect(lambda _tid: self._when_idle(self._grab))
            w.sidebar.threads.setCurrentIndex(w.thread_model.index(0, 0))
            w.journal.show_thread(w.thread_model.index(0, 0).data(ThreadIdRole))
            return
        if view == "search":
            w.start_search()
            w.search.results_shown.connect(lambda _n: self._when_idle(self._grab))
            w.search.box.setText(self.search or "river")
            w.search.run_now()
            return
        w.show_view(view)
        self._when_idle(self._grab)

    def _when_idle(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` once every queued database job has come back (e.g. the editor's reflection)."""
        ex = self.executor
        if ex.pending == 0:
            QTimer.singleShot(0, fn)
            return

        def settled(busy: bool) -> None:
            if not busy:
                ex.busy_changed.disconnect(settled)
                self._when_idle(fn)

        ex.busy_changed.connect(settled)

    def _grab(self) -> None:
        w = self.window
        if w is None:
            return
        self.qapp.processEvents()
        Path(self.screenshot).parent.mkdir(parents=True, exist_ok=True)  # type: ignore[arg-type]
        ok = w.grab().save(self.screenshot)
        if not ok:
            print(f"Could not write the screenshot to {self.screenshot}; check the folder.", file=sys.stderr)
            self.exit_code = 3
        else:
            self.screenshot_saved.emit(str(self.screenshot))
        w.close()
        self.qapp.exit(self.exit_code)

    # -- benchmark -----------------------------------------------------------------------
    def _bench_painted(self) -> None:
        print(f"MIRROR_FIRST_PAINT {time.time():.6f}", flush=True)
        if os.environ.get("MIRROR_BENCH_EXIT") == "1" and self.window is not None:
            self.window.close()
            self.qapp.exit(0)

    def shutdown(self) -> None:
        if self.lock is not None:
            self.lock.shutdown()
        if self.window is not None:
            self.window.close()
        if self.executor is not None:
            self.executor.shutdown()


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="mirror-desktop", description="Mirror: a local-first reflective journal.")
    p.add_argument("--data-dir", help="the folder that holds the journal (default: your user data folder)")
    p.add_argument("--screenshot", metavar="PNG", help="open the journal, save the window as PNG at 1280x800, exit")
    p.add_argument("--view", choices=VIEW_CHOICES, help="the view to show first")
    p.add_argument("--search", metavar="QUERY", help="with --view search: the query to show")
    p.add_argument("--journal-passphrase-file", metavar="F",
                   help="an encrypted journal's passphrase, read from this file (else the keychain or the lock screen)")
    p.add_argument("--version", action=VersionAction, prog_name="Mirror", include_qt=True)
    return p.parse_args(list(argv) if argv is not None else None)


def show_unexpected_error(sentence: str) -> None:
    """An exception escaped a slot (a menu action, a button): tell the person, after the slot has unwound."""
    def show() -> None:
        QMessageBox.warning(QApplication.activeWindow(), "Mirror", sentence)

    QTimer.singleShot(0, show)


def display_problem(env: dict[str, str], platform: str) -> str | None:
    """One sentence when the window cannot open on this Linux machine (no display, or Qt's X11 plugin lacks
    its one system library), checked before Qt is asked, because Qt then aborts the process."""
    if not platform.startswith("linux"):
        return None
    qpa = env.get("QT_QPA_PLATFORM", "")
    if qpa and not qpa.startswith(("xcb", "wayland")):
        return None  # offscreen, vnc, eglfs …: the person chose a platform that needs no desktop
    if not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
        return ("there is no display to open the window on (DISPLAY and WAYLAND_DISPLAY are not set); start it "
                "from your desktop session, or use the `mirror` command, which needs no display.")
    import ctypes.util  # here: only a desktop start needs it

    if (qpa.startswith("xcb") or not env.get("WAYLAND_DISPLAY")) and not ctypes.util.find_library("xcb-cursor"):
        return ("Qt's X11 window plugin needs the system library libxcb-cursor0, which is not installed; install it "
                "(sudo apt-get install libxcb-cursor0 on Debian and Ubuntu) and start Mirror again.")
    return None


def resume_garbage_collection() -> None:
    """Start-up is over (the window settled, or shows the lock screen or an error): collect cycles again."""
    global _gc_paused_by_main
    if _gc_paused_by_main:
        _gc_paused_by_main = False
        gc.enable()


def main(argv: Sequence[str] | None = None) -> int:
    """Open the window; the garbage collector pauses until it has settled (see the module's first lines)."""
    global _gc_paused_by_main
    _gc_paused_by_main = gc.isenabled()
    gc.disable()
    try:
        return _run(argv)
    finally:
        resume_garbage_collection()


def _run(argv: Sequence[str] | None) -> int:
    if os.environ.get("MIRROR_BENCH_STARTUP") == "1":
        print(f"MIRROR_PROCESS_START {time.time():.6f}", flush=True)
    if argv is None:  # the window opens SQLite journals only
        from mirror_desktop.storage import skip_unused_postgres_driver

        skip_unused_postgres_driver([])
    args = parse_args(argv)
    if args.screenshot and not os.environ.get("QT_QPA_PLATFORM") and not os.environ.get("DISPLAY") \
            and not os.environ.get("WAYLAND_DISPLAY") and sys.platform.startswith("linux"):
        # A screenshot needs no screen: render offscreen on a headless machine.
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    problem = display_problem(dict(os.environ), sys.platform)
    if problem:
        # Qt would abort here with a core dump and "reinstalling may fix this" (issue 11): say what to do.
        print(f"mirror-desktop: {problem}", file=sys.stderr)
        return 2
    paths = AppPaths.resolve(args.data_dir)
    if args.journal_passphrase_file:
        problem = unlock_from_file(paths.database, args.journal_passphrase_file)
        if problem:
            print(f"mirror-desktop: {problem}", file=sys.stderr)
            return 2
    # Rotating log in the platform's log folder; never any journal text (logging_setup, issue 7).
    setup_logging(paths, "mirror-desktop")
    install_excepthook(notify=show_unexpected_error)
    qapp = cast(QApplication, QApplication.instance() or QApplication(sys.argv[:1]))
    # However start-up ends, the collector is not left paused for the session (a journal that never finishes
    # loading would otherwise keep every reference cycle it makes).
    QTimer.singleShot(GC_PAUSE_LIMIT_MS, resume_garbage_collection)
    install_qt_message_handler()
    qapp.setApplicationName("Mirror")
    qapp.setOrganizationName("Mirror")
    qapp.setApplicationVersion(__version__)
    qapp.setDesktopFileName("mirror-desktop")
    mirror = MirrorApp(qapp, paths, screenshot=args.screenshot, view=args.view, search=args.search,
                       welcome=not args.screenshot)
    if args.view and not args.screenshot:
        QTimer.singleShot(0, lambda: mirror.window and mirror.window.show_view(args.view))
    mirror.start()
    code = qapp.exec()
    mirror.shutdown()
    return int(code or mirror.exit_code)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
