"""A sync killed at any moment (SIGKILL) leaves the journal intact and converges on the next run, no duplicates.

The killed device runs `mirror sync now` in a subprocess (its key read from --passphrase-file, no
keychain there) and is killed at random points, over and over; then one run finishes. Both devices
then hold every reflection exactly once, and the server holds one row per reflection.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psycopg

from mirror_desktop.core.services import JournalService
from mirror_desktop.storage.journal import SQLiteStorage

from .conftest import PASSPHRASE, Device

N_A, N_B = 400, 300


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"  # no keychain: the key comes from the file
    return env


def _mirror(db: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "mirror_desktop.cli", "--db", str(db), "sync", *args]


def _progress(db: Path) -> tuple[int, ...]:
    con = sqlite3.connect(db, timeout=30)
    try:
        return tuple(con.execute(
            "SELECT (SELECT count(*) FROM sync_inbox), (SELECT count(*) FROM reflections), "
            "(SELECT count(*) FROM sync_changes WHERE attempt_hlc IS NOT NULL), "
            "(SELECT coalesce(max(value), '') FROM sync_state WHERE key = 'cursor')").fetchone())
    finally:
        con.close()


def test_sigkill_at_random_points_converges_without_duplicates(alice: str, sync_server: str, tmp_path: Path,
                                                               devices: Callable[[str], Device]) -> None:
    a = devices("a")
    me = a.identity("Me")
    for i in range(N_A):
        a.write(f"laptop entry {i}", me)
    a.sync.setup(alice, PASSPHRASE)
    a.sync.sync_now()

    b_path = tmp_path / "b.db"
    s = SQLiteStorage(b_path)
    j = JournalService(s)
    mine = j.create_identity("Desk")
    for i in range(N_B):
        j.save_reflection(f"desktop entry {i}", identity_id=mine.id, visibility="sync_full_private")
    s.close()
    pf = tmp_path / "pass.txt"
    pf.write_text(PASSPHRASE)
    r = subprocess.run(_mirror(b_path, "setup", "--postgres", alice, "--passphrase-file", str(pf)),
                       env=_env(), capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr

    rng = random.Random(18)
    states = []
    for _ in range(6):
        before = _progress(b_path)
        p = subprocess.Popen(_mirror(b_path, "now"), env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # Start-up time varies with the machine's load: wait until this run is under way, then kill it at
        # a random moment of its work.
        deadline = time.monotonic() + 60
        while p.poll() is None and _progress(b_path) == before and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(rng.uniform(0.0, 0.6))
        p.send_signal(signal.SIGKILL)
        p.wait(timeout=30)
        con = sqlite3.connect(b_path)
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        states.append((con.execute("SELECT count(*) FROM sync_changes").fetchone()[0],
                       con.execute("SELECT count(*) FROM sync_inbox").fetchone()[0],
                       con.execute("SELECT count(*) FROM reflections").fetchone()[0]))
        con.close()
    # the kills did land in the middle of syncs (work half done), not only before or after them: some state is
    # neither the untouched start (B's rows unsent, A's not here) nor the finished sync. On a fast machine the
    # one pull batch and the one push batch are quick, and the kill lands between them: all pulled, none sent.
    untouched, finished = (N_B, 0, N_B), (0, 0, N_A + N_B)
    assert any(state not in (untouched, finished) for state in states), states
    done = subprocess.run(_mirror(b_path, "now"), env=_env(), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    a.sync.sync_now()

    expected = {f"laptop entry {i}" for i in range(N_A)} | {f"desktop entry {i}" for i in range(N_B)}
    s = SQLiteStorage(b_path)
    try:
        texts = [r.content for r in s.reflections.iter_all()]
    finally:
        s.close()
    assert len(texts) == len(expected) and set(texts) == expected
    a_texts = [r.content for r in a.storage.reflections.iter_all()]
    assert len(a_texts) == len(expected) and set(a_texts) == expected
    with psycopg.connect(sync_server) as con:
        assert con.execute("SELECT count(*) FROM mirror_sync.rows WHERE entity = 'reflections'").fetchone()[0] == len(expected)
