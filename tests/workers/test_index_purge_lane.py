"""The window's index purge (migration 012): short write-lane jobs, so a save asked for meanwhile lands first."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QTimer

from mirror_desktop.app import open_journal
from mirror_desktop.core.services import JournalService
from mirror_desktop.storage import journal as journal_storage
from mirror_desktop.workers.executor import DatabaseExecutor
from mirror_desktop.workers.journal import JournalClient


def _journal(path: Path) -> str:
    s = open_journal(path)  # purge_in_steps, as the window opens it
    s.migrate()
    svc = JournalService(s)
    rnd = random.Random(5)
    words = ["".join(rnd.choice("abcdefghijklmnop") for _ in range(rnd.randint(3, 9))) for _ in range(3000)]
    for _ in range(300):
        svc.save_reflection(" ".join(rnd.choice(words) for _ in range(80)))
    r = svc.save_reflection("Draft one zqxearlierk.")
    svc.save_reflection("Draft two.", reflection_id=r.id)
    s.close()
    return r.id


def test_a_save_asked_for_during_the_purge_lands_before_it_ends(qtbot: Any, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "j" / "mirror_os.db"
    path.parent.mkdir()
    rid = _journal(path)
    # One FTS5 'merge' command of one page per job: the purge takes many jobs, as at 100,000 entries.
    monkeypatch.setattr(journal_storage, "PURGE_MERGE_PAGES", 1)
    monkeypatch.setattr(journal_storage, "PURGE_STEP_SECONDS", 0.0)
    ex = DatabaseExecutor(lambda: open_journal(path))
    with qtbot.waitSignal(ex.opened, timeout=15000):
        ex.start()
    client = JournalClient(ex)
    events: list[str] = []
    pending_at_save: list[bool] = []
    client.purge_finished.connect(lambda: events.append("purged"))

    def typed() -> None:
        client.save_reflection("Typing goes on.", reflection_id="00000000-0000-4000-8000-000000000001",
                               identity_id=None, visibility="local_only", tags=[], draft_id=None,
                               on_result=lambda _r: events.append("saved"))
        # Right behind the save: the merge has started (its first step ran before) and is not finished.
        ex.submit(lambda s: s.db.execute_sql("SELECT count(*) FROM reflections_fts_purge").fetchone()[0] == 1,
                  pending_at_save.append)

    def deleted(_notice: Any) -> None:
        events.append("deleted")
        QTimer.singleShot(0, typed)  # typed after the deletion, once the purge's first step is queued

    try:
        with qtbot.waitSignal(client.purge_finished, timeout=60000):
            client.delete_reflection(rid, on_result=deleted)
        assert events == ["deleted", "saved", "purged"]
        assert pending_at_save == [True], "the save landed in the middle of the purge"
    finally:
        assert ex.shutdown()
    assert not any(b"zqxearlierk" in f.read_bytes() for f in path.parent.iterdir() if f.is_file())
