"""The editor: typing reaches the journal, a killed process's draft comes back, errors lose nothing."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from PySide6.QtCore import Qt

from mirror_desktop.core.errors import StorageError
from mirror_desktop.core.services import JournalService

from ui_helpers import read, seed


def test_typing_is_saved(make_window, journal_dir, qtbot):
    w = make_window()
    w.new_action.trigger()
    with qtbot.waitSignal(w.client.reflection_saved, timeout=10000) as saved:
        qtbot.keyClicks(w.editor.text, "Evening by the river, quieter than I expected.")
    qtbot.waitUntil(lambda: w.autosave.status == "saved" and not w.autosave.dirty, timeout=10000)
    stored = read(journal_dir, lambda s: s.reflections_page())
    assert [r.content for r in stored] == ["Evening by the river, quieter than I expected."]
    assert stored[0].id == saved.args[0].id
    assert read(journal_dir, lambda s: s.pending_drafts()) == []  # the draft is dropped once saved
    assert w.list_model.rowCount() == 1


def test_tags_and_identity_are_saved(make_window, journal_dir, qtbot):
    ident = seed(journal_dir, lambda s: s.create_identity("Work self", "#4c7fd9"))
    w = make_window()
    w.journal.select_identity(ident.id)
    w.new_action.trigger()
    assert w.editor.identity_id() == ident.id
    assert w.editor.visibility_combo.isEnabled()
    w.editor.visibility_combo.setCurrentIndex(w.editor.visibility_combo.findData("sync_summary"))
    qtbot.keyClicks(w.editor.tags_edit, "work, sleep ,work")
    with qtbot.waitSignal(w.client.reflection_saved, timeout=10000):
        qtbot.keyClicks(w.editor.text, "Long day.")
    qtbot.waitUntil(lambda: not w.autosave.dirty, timeout=10000)
    r = read(journal_dir, lambda s: s.reflections_page())[0]
    assert r.identity_id == ident.id
    assert str(r.visibility) == "sync_summary"
    assert r.tags == ["sleep", "work"]


def test_anonymous_is_always_local_only(make_window, journal_dir, qtbot):
    ident = seed(journal_dir, lambda s: s.create_identity("Home", None))
    w = make_window()
    e = w.editor
    e.identity_combo.setCurrentIndex(e.identity_combo.findData(ident.id))
    e.visibility_combo.setCurrentIndex(e.visibility_combo.findData("sync_full_public"))
    e.identity_combo.setCurrentIndex(0)  # Anonymous
    assert e.visibility() == "local_only"
    assert e.visibility_combo.currentData() == "local_only"
    assert not e.visibility_combo.isEnabled()


def test_ctrl_s_saves_at_once(make_window, journal_dir, qtbot):
    w = make_window()
    w.new_action.trigger()
    w.editor.text.setPlainText("Saved by hand.")
    with qtbot.waitSignal(w.client.reflection_saved, timeout=10000):
        w.save_action.trigger()
    assert read(journal_dir, lambda s: s.count_reflections()) == 1


def test_a_failed_save_keeps_the_text_and_retries(make_window, journal_dir, qtbot, monkeypatch):
    w = make_window()
    real = JournalService.save_reflection
    calls = {"n": 0}

    def flaky(self, *a, **k):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 1:
            raise StorageError("The disk is full; free some space and Mirror will save again.")
        return real(self, *a, **k)

    monkeypatch.setattr(JournalService, "save_reflection", flaky)
    w.new_action.trigger()
    qtbot.keyClicks(w.editor.text, "Do not lose me.")
    qtbot.waitUntil(lambda: w.autosave.status == "failed", timeout=10000)
    assert w.editor.content() == "Do not lose me."
    assert w.editor.banner.isVisible()
    assert "The disk is full" in w.editor.banner.text
    # The draft reached the journal even though the reflection did not.
    assert [d.content for d in read(journal_dir, lambda s: s.pending_drafts())] == ["Do not lose me."]
    with qtbot.waitSignal(w.client.reflection_saved, timeout=10000):
        w.editor.banner.button("Retry now").click()
    qtbot.waitUntil(lambda: w.autosave.status == "saved", timeout=10000)
    assert not w.editor.banner.isVisible()
    assert [r.content for r in read(journal_dir, lambda s: s.reflections_page())] == ["Do not lose me."]


CHILD = textwrap.dedent('''
    import os, signal, sys
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtCore import QTimer
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication
    from mirror_desktop.app import MirrorApp
    from mirror_desktop.core.services import JournalService
    from mirror_desktop.paths import AppPaths

    def killed(*args, **kwargs):
        # The process dies right after the draft was committed and before the reflection is written.
        os.kill(os.getpid(), signal.SIGKILL)

    JournalService.save_reflection = killed
    app = QApplication([])
    mirror = MirrorApp(app, AppPaths.resolve(sys.argv[1]))
    mirror.start()
    mirror.window.journal_loaded.connect(lambda: QTest.keyClicks(mirror.window.editor.text, sys.argv[2]))
    QTimer.singleShot(30000, lambda: app.exit(3))
    sys.exit(app.exec())
''')


def test_a_killed_process_draft_is_restored(make_window, journal_dir, qtbot):
    text = "Half a thought about the move, typed at midnight"
    proc = subprocess.run([sys.executable, "-c", CHILD, str(journal_dir), text], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == -9, proc.stderr
    assert read(journal_dir, lambda s: s.count_reflections()) == 0
    assert [d.content for d in read(journal_dir, lambda s: s.pending_drafts())] == [text]

    w = make_window()
    qtbot.waitUntil(lambda: w.editor.banner.button("Restore") is not None, timeout=10000)
    assert "not saved" in w.editor.banner.text
    with qtbot.waitSignal(w.client.reflection_saved, timeout=10000):
        w.editor.banner.button("Restore").click()
    assert w.editor.content() == text
    qtbot.waitUntil(lambda: w.autosave.status == "saved", timeout=10000)
    assert [r.content for r in read(journal_dir, lambda s: s.reflections_page())] == [text]
    assert read(journal_dir, lambda s: s.pending_drafts()) == []


def test_closing_flushes_unsaved_text(make_window, journal_dir, qtbot):
    w = make_window()
    w.new_action.trigger()
    w.editor.text.setPlainText("Written just before closing.")
    assert w.autosave.dirty
    w.close()  # commit, then the executor drains and stops
    assert [r.content for r in read(journal_dir, lambda s: s.reflections_page())] == ["Written just before closing."]


def test_preview_renders_markdown(make_window, qtbot):
    w = make_window()
    w.editor.text.setPlainText("# Title\n\nSome *soft* words.")
    w.editor.preview_button.click()
    assert w.editor.stack.currentWidget() is w.editor.preview
    assert "Title" in w.editor.preview.toPlainText()
    assert "#" not in w.editor.preview.toPlainText()
    w.editor.preview_button.click()
    assert w.editor.stack.currentWidget() is w.editor.text


@pytest.mark.parametrize("key", ["Ctrl+N"])
def test_new_reflection_shortcut_starts_blank(make_window, qtbot, key):
    w = make_window()
    w.editor.text.setPlainText("x")
    qtbot.keyClick(w.editor.text, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert w.editor.content() == ""
    assert not w.editor.is_saved_reflection


def test_text_left_behind_by_a_failed_save_is_retried(make_window, journal_dir, qtbot, monkeypatch):
    """Ctrl+N while the journal refuses writes: the text has left the editor, so its save must retry."""
    from mirror_desktop.ui.journal import autosave

    monkeypatch.setattr(autosave, "RETRY_MS", 100)
    w = make_window()
    real = JournalService.save_draft
    locked = {"on": True}

    def refusing(self, *a, **k):  # type: ignore[no-untyped-def]
        if locked["on"]:
            raise StorageError("The journal is busy in another program; Mirror will save again.")
        return real(self, *a, **k)

    monkeypatch.setattr(JournalService, "save_draft", refusing)
    w.new_action.trigger()
    w.editor.text.setPlainText("Typed while the journal was locked.")
    with qtbot.waitSignal(w.client.operation_failed, timeout=10000):
        w.new_action.trigger()  # the editor moves on; its save fails
    assert w.editor.content() == ""
    locked["on"] = False
    with qtbot.waitSignal(w.client.reflection_saved, timeout=10000):
        pass
    assert [r.content for r in read(journal_dir, lambda s: s.reflections_page())] == ["Typed while the journal was locked."]


def test_after_a_restart_new_pages_are_written_as_the_last_identity(make_window, journal_dir, qtbot):
    """Issue 11: from All reflections a new page goes to the identity last written as, never silently to
    Anonymous, and that survives a restart; Anonymous stays a deliberate choice."""
    work = seed(journal_dir, lambda s: s.create_identity("Work self", None))
    w = make_window()
    assert w.editor.identity_id() is None  # nothing written yet: nothing to remember
    w.new_action.trigger()
    w.editor.set_identity(work.id)
    with qtbot.waitSignal(w.client.reflection_saved, timeout=10000):
        qtbot.keyClicks(w.editor.text, "Written as my work self.")
    qtbot.waitUntil(lambda: w.autosave.status == "saved" and not w.autosave.dirty, timeout=10000)
    w.close()

    again = make_window()
    assert again.editor.identity_id() == work.id  # the blank page at the start
    again.new_action.trigger()
    assert again.editor.identity_id() == work.id
    again.journal.select_identity(None, anonymous=True)
    again.new_action.trigger()
    assert again.editor.identity_id() is None
    assert [r.content for r in read(journal_dir, lambda s: s.reflections_page())] == ["Written as my work self."]


def test_deleting_says_what_older_backups_may_hold_and_purges_them(make_window, journal_dir, qtbot, monkeypatch):
    """Issue 11: deleting a reflection says honestly that backups made since may still hold it, and offers to
    purge them; after the purge no file under the data folder holds its words."""
    from PySide6.QtWidgets import QMessageBox

    from mirror_desktop.paths import AppPaths
    from mirror_desktop.storage import backups

    seed(journal_dir, lambda s: s.save_reflection("A marker-lavender-4471 secret.", reflection_id="gone", identity_id=None,
                                                  visibility="local_only", tags=[], draft_id=None))
    journal = AppPaths.resolve(journal_dir).database
    copy = backups.new_backup_file(journal, "1.0.0")
    seed(journal_dir, lambda s: s.storage.db.execute_sql(f"VACUUM INTO '{copy}'"))
    w = make_window()
    w.journal.open_reflection("gone")
    qtbot.waitUntil(lambda: w.editor.state.reflection_id == "gone", timeout=10000)
    monkeypatch.setattr(QMessageBox, "exec", lambda box: next(b for b in box.buttons() if b.text() == "Delete").click())
    with qtbot.waitSignal(w.client.reflection_deleted, timeout=10000):
        w.journal.delete_current_reflection()
    qtbot.waitUntil(lambda: "may still hold its text" in w.editor.banner.text, timeout=10000)
    assert copy.exists()
    w.journal.purge_backups()
    qtbot.waitUntil(lambda: "Removed 1 older copy" in w.editor.banner.text, timeout=10000)
    assert not copy.exists()
    w.close()
    hits = [p for p in journal_dir.rglob("*") if p.is_file() and b"marker-lavender-4471" in p.read_bytes()]
    assert hits == []
