"""The index merge a deletion of an edited reflection needs: short resumable steps (migration 012).

Every version's words must leave the journal file and its WAL: at once for the command line, after the
steps for the window, and after a process killed in the middle of them once the journal is next used.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

from mirror_desktop.core.services import JournalService
from mirror_desktop.storage.journal import SQLiteStorage

# Words the porter stemmer keeps as they are, so the index holds these exact bytes.
MARKS = ("zqxfirstk", "zqxsecondk", "zqxlastk")


def _journal(folder: Path, *, entries: int = 300) -> tuple[SQLiteStorage, JournalService, str]:
    """A journal with enough index segments that the merge takes many one-page steps; one reflection
    written three times, each version with a word of its own."""
    s = SQLiteStorage(folder / "mirror_os.db", purge_in_steps=True)
    svc = JournalService(s)
    rnd = random.Random(3)
    words = ["".join(rnd.choice("abcdefghijklmnop") for _ in range(rnd.randint(3, 9))) for _ in range(3000)]
    for _ in range(entries):
        svc.save_reflection(" ".join(rnd.choice(words) for _ in range(80)))
    r = svc.save_reflection(f"Draft one {MARKS[0]}.")
    svc.save_reflection(f"Draft two {MARKS[1]}.", reflection_id=r.id)
    svc.save_reflection(f"Draft three {MARKS[2]}.", reflection_id=r.id)
    return s, svc, r.id


def _left(folder: Path) -> list[str]:
    return [w for w in MARKS if any(w.encode() in f.read_bytes() for f in folder.iterdir() if f.is_file())]


def test_steps_take_every_version_s_words_out_of_the_file(tmp_path: Path) -> None:
    s, svc, rid = _journal(tmp_path)
    svc.delete_reflection(rid)  # purge_in_steps: the deletion leaves the merge to purge_step
    assert s.purge_pending()
    assert MARKS[2] not in _left(tmp_path), "the last version's words leave at once (secure-delete)"
    assert _left(tmp_path) == list(MARKS[:2]), "earlier versions wait in older segments for the merge"
    steps = 1
    while not s.purge_step(0, 1):
        steps += 1
    assert steps > 5, "one-page steps: the merge was cut into many transactions"
    assert not s.purge_pending()
    assert s.search("draft") == [] and len(s.search("zqx*")) == 0
    assert _left(tmp_path) == []
    s.close()
    assert _left(tmp_path) == []


def test_an_edit_during_the_merge_waits_for_the_next_one(tmp_path: Path) -> None:
    s, svc, rid = _journal(tmp_path, entries=120)
    other = svc.save_reflection("Kept one zqxkeptk.")
    third = svc.save_reflection("Kept two zqxthirdk.")
    svc.save_reflection("Kept two zqxthirdlastk.", reflection_id=third.id)  # edited before the merge
    svc.delete_reflection(rid)
    assert not s.purge_step(0, 1)  # the merge has started
    svc.save_reflection("Kept one, edited.", reflection_id=other.id)  # new segments beside the merge
    svc.delete_reflection(other.id)
    svc.delete_reflection(third.id)  # covered by the merge in progress
    while not s.purge_step(0, 1):
        pass
    assert not s.purge_pending()
    s.close()
    for word in (b"zqxkeptk", b"zqxthirdk", b"zqxthirdlastk"):
        assert not any(word in f.read_bytes() for f in tmp_path.iterdir() if f.is_file()), word
    assert _left(tmp_path) == []


def test_the_command_line_s_storage_purges_to_the_end_at_once(tmp_path: Path) -> None:
    s, _, rid = _journal(tmp_path, entries=120)
    s.close()
    cli = SQLiteStorage(tmp_path / "mirror_os.db")  # as `mirror delete` opens it
    JournalService(cli).delete_reflection(rid)
    assert not cli.purge_pending()
    assert _left(tmp_path) == [], "gone before the command returns, without a close"
    cli.close()


KILLED = textwrap.dedent(
    """
    import sys, time
    from mirror_desktop.core.services import JournalService
    from mirror_desktop.storage.journal import SQLiteStorage
    s = SQLiteStorage(sys.argv[1], purge_in_steps=True)
    JournalService(s).delete_reflection(sys.argv[2])
    for _ in range(3):
        assert not s.purge_step(0, 1)
    print("mid-purge", flush=True)
    time.sleep(60)
    """
)


def _kill_mid_purge(folder: Path, rid: str) -> None:
    proc = subprocess.Popen([sys.executable, "-c", KILLED, str(folder / "mirror_os.db"), rid],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "mid-purge"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    con = sqlite3.connect(folder / "mirror_os.db")
    try:
        assert con.execute("SELECT steps FROM reflections_fts_purge").fetchall() == [(3,)], "killed in the middle"
    finally:
        con.close()
    assert _left(folder) == list(MARKS[:2])


def test_a_purge_killed_midway_is_finished_at_the_next_use(tmp_path: Path) -> None:
    s, _, rid = _journal(tmp_path)
    s.close()
    _kill_mid_purge(tmp_path, rid)
    again = SQLiteStorage(tmp_path / "mirror_os.db")
    assert again.purge_pending()
    assert again.search("draft") == []
    again.close()  # any writer's close finishes it (the window's start does it in steps, tests/ui)
    assert _left(tmp_path) == []
    con = sqlite3.connect(tmp_path / "mirror_os.db")
    try:
        assert con.execute("SELECT count(*) FROM reflections_fts_purge").fetchone() == (0,)
        assert con.execute("SELECT count(*) FROM reflections_fts_edited WHERE deleted = 1").fetchone() == (0,)
    finally:
        con.close()
