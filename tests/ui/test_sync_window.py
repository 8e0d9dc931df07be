"""Issue 18 in the window: File → Sync… sets up, syncs on its QThread, shows what went and came; the status line;
the visibility selector's descriptions; a conflict copy's banner. Real journal, real PostgreSQL server."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QLabel

from mirror_desktop.core import models as m
from mirror_desktop.core.services import JournalService
from mirror_desktop.paths import AppPaths
from mirror_desktop.storage.journal import SQLiteStorage
from mirror_desktop.sync import crypto
from mirror_desktop.sync.server import SyncServer
from mirror_desktop.sync.service import SyncService

PASSPHRASE = "correct horse battery staple"


@pytest.fixture
def role_dsn(postgres_dsn: str) -> str:
    import uuid

    import psycopg

    with SyncServer(postgres_dsn) as server:
        server.migrate()
    role = f"win_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(postgres_dsn, autocommit=True) as con:
        con.execute(f'CREATE ROLE "{role}" LOGIN')
    base, db = postgres_dsn.rsplit("/", 1)
    return f"postgresql://{role}@{base.split('@', 1)[1]}/{db}"


def window_identity(window: Any, name: str) -> str:
    s = SQLiteStorage(window_path(window))
    try:
        return JournalService(s).create_identity(name).id
    finally:
        s.close()


def window_identities(window: Any) -> list[Any]:
    s = SQLiteStorage(window_path(window))
    try:
        return list(s.identities.list())
    finally:
        s.close()


def window_path(window: Any) -> Path:
    return Path(window.paths.database)


def test_file_sync_sets_up_syncs_and_reports(qtbot: Any, make_window: Any, journal_dir: Path, tmp_path: Path,
                                             role_dsn: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(crypto, "default_log2_n", 10)
    # another device already wrote to the account
    other = SQLiteStorage(tmp_path / "other.db")
    j = JournalService(other)
    me = j.create_identity("Me")
    j.save_reflection("written on the laptop", identity_id=me.id, visibility="sync_full_private")
    SyncService(other).setup(role_dsn, PASSPHRASE, device_name="laptop")
    SyncService(other).sync_now()

    window = make_window()
    desk = window_identity(window, "Desk")
    window.show_sync()
    dialog = window.sync_dialog
    qtbot.waitUntil(lambda: dialog.isVisible() and dialog.setup_box.isVisible(), timeout=5000)
    dialog.server_edit.setText(role_dsn)
    dialog.passphrase_edit.setText(PASSPHRASE)
    dialog.device_edit.setText("desktop")
    dialog.setup_button.click()
    # the first sync asks, once, where the other device's identity goes, before anything lands
    qtbot.waitUntil(lambda: dialog.ask_dialog is not None and dialog.ask_dialog.isVisible(), timeout=20000)
    ask = dialog.ask_dialog
    assert window.list_model.rowCount() == 0
    assert len(ask.combos) == 1 and any(lb.text().endswith("\n1 reflection") for lb in ask.findChildren(QLabel))
    assert [ask.combos[0].itemText(i) for i in range(ask.combos[0].count())] == ["A new identity", "Desk"]
    ask.names[0].setText("Laptop me")
    qtbot.wait(200)
    ask.grab().save(str(tmp_path / "sync-identities.png"))
    if "MIRROR_SAVE_SCREENSHOTS" in os.environ:  # refresh docs/sync-identities.png
        ask.grab().save(str(Path(__file__).resolve().parents[2] / "docs" / "sync-identities.png"))
    ask.ok_button.click()
    qtbot.waitUntil(lambda: "received 1 reflection." in dialog.report_label.text(), timeout=20000)
    assert not ask.isVisible()
    qtbot.waitUntil(lambda: dialog.status_box.isVisible() and not dialog.setup_box.isVisible(), timeout=5000)
    assert dialog.passphrase_edit.text() == ""  # the passphrase is not kept in the window
    qtbot.waitUntil(lambda: window.sync_line.isVisible() and "1 received" in window.sync_line.text(), timeout=5000)
    qtbot.waitUntil(lambda: window.list_model.rowCount() == 1, timeout=5000)
    qtbot.waitUntil(lambda: dialog.links_box.isVisible() and dialog.links_form.rowCount() == 1, timeout=5000)
    qtbot.wait(300)  # the last status reload settles before the picture
    dialog.resize(600, 420)
    dialog.grab().save(str(tmp_path / "sync.png"))
    if "MIRROR_SAVE_SCREENSHOTS" in os.environ:  # refresh docs/sync.png
        dialog.grab().save(str(Path(__file__).resolve().parents[2] / "docs" / "sync.png"))

    # the open window pulls within seconds when another device pushes (NOTIFY; the schedule is minutes away)
    j.save_reflection("a second one from the laptop", identity_id=me.id, visibility="sync_full_private")
    assert SyncService(other).sync_now().pushed == 1
    qtbot.waitUntil(lambda: window.list_model.rowCount() == 2, timeout=15000)
    names = {i.name for i in window_identities(window)}
    assert names == {"Desk", "Laptop me"}  # answered once: the second one went there too, without asking

    # a sync nobody started (NOTIFY) never opens a dialog: a new identity's rows land in one made for it
    third = j.create_identity("Travel")
    j.save_reflection("from the laptop, another identity", identity_id=third.id, visibility="sync_full_private")
    SyncService(other).sync_now()
    qtbot.waitUntil(lambda: window.list_model.rowCount() == 3, timeout=15000)
    qtbot.waitUntil(lambda: "File → Sync…" in window.sync_line.text(), timeout=5000)
    assert not ask.isVisible() and dialog.ask_dialog is ask
    assert "From another device" in {i.name for i in window_identities(window)}
    # the next sync the person starts asks about that one only, and the answer moves what landed
    dialog.sync_button.click()
    qtbot.waitUntil(lambda: dialog.ask_dialog is not ask and dialog.ask_dialog.isVisible(), timeout=20000)
    second = dialog.ask_dialog
    assert len(second.combos) == 1
    second.combos[0].setCurrentIndex(second.combos[0].findText("Desk"))
    assert not second.names[0].isEnabled()
    second.ok_button.click()
    qtbot.waitUntil(lambda: not second.isVisible(), timeout=20000)
    qtbot.waitUntil(lambda: {i.name for i in window_identities(window)} == {"Desk", "Laptop me"}, timeout=20000)

    # a wrong server address is one sentence in the dialog
    window.sync_client.leave(dialog._error)
    qtbot.waitUntil(lambda: dialog.setup_box.isVisible(), timeout=10000)
    dialog.server_edit.setText("postgresql://nobody@127.0.0.1:9/none?connect_timeout=2")
    dialog.passphrase_edit.setText(PASSPHRASE)
    dialog.setup_button.click()
    qtbot.waitUntil(lambda: dialog.error_label.isVisible(), timeout=15000)
    assert dialog.error_label.text().startswith("Could not reach the sync server 127.0.0.1:9")
    other.close()


def test_visibility_levels_say_what_sync_does(make_window: Any) -> None:
    from PySide6.QtCore import Qt

    window = make_window()
    combo = window.editor.visibility_combo
    tips = [combo.itemData(i, Qt.ItemDataRole.ToolTipRole) for i in range(combo.count())]
    assert "never sent" in tips[0] and "counts" in tips[1] and "encrypted" in tips[2] and "server can read" in tips[3]


def test_a_conflict_copy_shows_a_banner_to_merge(qtbot: Any, make_window: Any, journal_dir: Path) -> None:
    window = make_window()
    path = AppPaths.resolve(journal_dir).database
    s = SQLiteStorage(path)
    original = s.reflections.create(m.Reflection(content="the text in place"))
    copy = s.reflections.create(m.Reflection(content="the other device's text",
                                             metadata={"conflict_of": original.id}))
    s.close()
    window.list_model.reload()
    window.journal.open_reflection(copy.id)
    banner = window.editor.banner
    qtbot.waitUntil(lambda: banner.isVisible() and "conflict copy" in banner.text, timeout=5000)
    banner.button("Open the other version").click()
    qtbot.waitUntil(lambda: window.editor.text.toPlainText() == "the text in place", timeout=5000)
    assert not banner.isVisible()
