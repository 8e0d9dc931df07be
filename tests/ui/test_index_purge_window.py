"""A purge a killed session left (migration 012) is finished by the next window, in steps after its first page."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from mirror_desktop.core.services import JournalService
from mirror_desktop.paths import AppPaths
from mirror_desktop.storage.journal import SQLiteStorage


def test_the_window_finishes_a_purge_a_killed_session_left(make_window: Any, journal_dir: Path, qtbot: Any) -> None:
    db = AppPaths.resolve(journal_dir).database
    db.parent.mkdir(parents=True, exist_ok=True)
    s = SQLiteStorage(db, purge_in_steps=True)
    svc = JournalService(s)
    rnd = random.Random(9)
    words = ["".join(rnd.choice("abcdefghijklmnop") for _ in range(rnd.randint(3, 9))) for _ in range(3000)]
    for _ in range(300):
        svc.save_reflection(" ".join(rnd.choice(words) for _ in range(80)))
    r = svc.save_reflection("Draft one zqxwindowk.")
    svc.save_reflection("Draft two.", reflection_id=r.id)
    svc.delete_reflection(r.id)
    assert not s.purge_step(0, 1) and not s.purge_step(0, 1)
    s.db.close()  # as a killed process leaves it: the merge half done, its state committed
    files = [f for f in db.parent.iterdir() if f.is_file()]
    assert any(b"zqxwindowk" in f.read_bytes() for f in files)

    window = make_window()
    with qtbot.waitSignal(window.client.purge_finished, timeout=60000):
        pass  # started once the window settled (make_window waits for that)
    window.close()
    assert not any(b"zqxwindowk" in f.read_bytes() for f in db.parent.iterdir() if f.is_file())
