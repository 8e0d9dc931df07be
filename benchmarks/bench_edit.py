"""What one edit of one reflection costs at N entries, trigger by trigger (issue 18: FTS5 secure-delete).

Usage: python benchmarks/bench_edit.py --journal /work/bench-data/j100000 [--variant base|nosd|nows|nofts] [--rows 20]
       python benchmarks/bench_edit.py --journal /work/bench-data/j100000 --purge [--save-every 0.1]

The journal is copied (bench data stay read-only) and migrated to this Mirror's schema; then ``--rows``
random reflections each get ``UPDATE reflections SET content = content || ' edited'`` in a transaction of
its own (BEGIN IMMEDIATE … COMMIT, synchronous=FULL, WAL, as the app), timed with the COMMIT, where FTS5
flushes. Variants, for diagnosis only: ``nosd`` the index's secure-delete off, ``nows`` without the writing
summary's update trigger, ``nofts`` without the index's update trigger.

``--purge`` (migration 012): the index merge after deleting a reflection edited twice, on the window's real
write lane (DatabaseExecutor + JournalClient, QT_QPA_PLATFORM=offscreen), while an autosave of another
reflection is submitted every ``--save-every`` seconds. ``optimize`` is the purge before 012 (one FTS5
'optimize' in one write-lane job); ``steps`` is JournalClient.purge_index (FTS5 'merge' steps, one job each).
Each runs on a fresh copy of the same migrated journal. Reported: the longest single write-lane hold of the
purge (one job), the total purge time, how many jobs, and the saves' latencies (submit → landed); ``cli``
times `mirror delete`'s JournalService.delete_reflection on the command line's storage (purged to the end).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--journal", type=Path, required=True)
    ap.add_argument("--variant", default="base", choices=("base", "nosd", "nows", "nofts"))
    ap.add_argument("--rows", type=int, default=20)
    ap.add_argument("--purge", action="store_true", help="time the index purge after a deletion (migration 012)")
    ap.add_argument("--save-every", type=float, default=0.1)
    args = ap.parse_args()
    if args.purge:
        return purge(args.journal, args.save_every)
    from mirror_desktop.storage.database import sqlite_module
    from mirror_desktop.storage.journal import SQLiteStorage

    with tempfile.TemporaryDirectory(prefix="bench-edit-") as tmp:
        db = Path(tmp) / "mirror_os.db"
        shutil.copy(args.journal / "mirror_os.db", db)
        storage = SQLiteStorage(db)
        version = storage.schema_version()
        storage.close()
        con = sqlite_module().connect(str(db), isolation_level=None)
        for pragma in ("journal_mode=WAL", "synchronous=FULL", "secure_delete=ON", "foreign_keys=ON"):
            con.execute(f"PRAGMA {pragma}")
        if args.variant == "nosd":
            con.execute("INSERT INTO reflections_fts (reflections_fts, rank) VALUES ('secure-delete', 0)")
        elif args.variant == "nows":
            con.execute("DROP TRIGGER writing_summary_update")
        elif args.variant == "nofts":
            con.execute("DROP TRIGGER reflections_fts_update")
        n = con.execute("SELECT max(rowid) FROM reflections").fetchone()[0]
        random.seed(7)
        total, commit = [], []
        for rid in random.sample(range(1, n + 1), args.rows):
            con.execute("BEGIN IMMEDIATE")
            t0 = time.perf_counter()
            con.execute("UPDATE reflections SET content = content || ' edited' WHERE rowid = ?", (rid,))
            t1 = time.perf_counter()
            con.execute("COMMIT")
            t2 = time.perf_counter()
            total.append(t2 - t0)
            commit.append(t2 - t1)
        con.close()
    total.sort()
    out = {"schema": version, "variant": args.variant, "rows": args.rows,
           "median_ms": total[len(total) // 2] * 1000, "mean_ms": sum(total) / len(total) * 1000,
           "max_ms": total[-1] * 1000, "commit_mean_ms": sum(commit) / len(commit) * 1000}
    print(json.dumps(out, indent=2))
    return 0


def wait_a_moment(app) -> None:  # type: ignore[no-untyped-def]
    """Deliver queued events, then sleep 1 ms: a GUI thread spinning on processEvents would hold the GIL
    from the write lane's thread (the window's is idle in exec() between events)."""
    app.processEvents()
    time.sleep(0.001)


def purge(journal: Path, save_every: float) -> int:
    from PySide6.QtCore import QCoreApplication, QTimer

    from mirror_desktop.app import open_journal
    from mirror_desktop.core.services import JournalService
    from mirror_desktop.storage.journal import SQLiteStorage
    from mirror_desktop.workers.executor import DatabaseExecutor
    from mirror_desktop.workers.journal import JournalClient

    app = QCoreApplication.instance() or QCoreApplication([])
    results: dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix="bench-purge-") as tmp:
        migrated = Path(tmp) / "migrated.db"
        shutil.copy(journal / "mirror_os.db", migrated)
        s = open_journal(migrated)
        s.keep_backups = 0
        s.migrate()
        results["schema"] = s.schema_version()
        ids = [r[0] for r in s.db.execute_sql("SELECT id FROM reflections ORDER BY rowid").fetchall()]
        s.close()
        random.seed(11)
        victim, typed = random.sample(ids, 2)
        for mode in ("optimize", "steps", "cli"):
            db = Path(tmp) / mode / "mirror_os.db"
            db.parent.mkdir()
            shutil.copy(migrated, db)
            setup = open_journal(db)
            svc = JournalService(setup)
            text = svc.get_reflection(victim).content
            svc.save_reflection(text + " zqxbenchfirstk", reflection_id=victim)
            svc.save_reflection(text + " second edit", reflection_id=victim)
            setup.close()
            if mode == "cli":  # `mirror delete`: the deletion and the whole purge before the command returns
                t0 = time.perf_counter()
                cli = SQLiteStorage(db)
                JournalService(cli).delete_reflection(victim)
                took = time.perf_counter() - t0
                cli.close()
                left = any(b"zqxbenchfirstk" in f.read_bytes() for f in db.parent.iterdir() if f.is_file())
                results[mode] = {"delete_and_purge_s": round(took, 3), "earlier_words_left": left}
                print(mode, json.dumps(results[mode]), file=sys.stderr, flush=True)
                continue
            ex = DatabaseExecutor(lambda db=db: open_journal(db))  # type: ignore[misc]
            opened: list[object] = []
            ex.opened.connect(opened.append)
            ex.start()
            while not opened:
                wait_a_moment(app)
            client = JournalClient(ex)
            holds: list[float] = []
            latencies: list[float] = []
            done: list[float] = []

            def timed(fn):  # type: ignore[no-untyped-def]
                def job(svc):  # type: ignore[no-untyped-def]
                    t = time.perf_counter()
                    try:
                        return fn(svc)
                    finally:
                        holds.append(time.perf_counter() - t)
                return job

            def save() -> None:
                t = time.perf_counter()
                client.save_reflection(f"Typing on, {len(latencies)}.", reflection_id=typed, identity_id=None,
                                       visibility="local_only", tags=[], draft_id=None,
                                       on_result=lambda _r, t=t: latencies.append(time.perf_counter() - t))  # type: ignore[misc]

            deleted: list[object] = []
            client.call(lambda svc: svc.delete_reflection(victim), deleted.append)
            while not deleted:
                wait_a_moment(app)
            before = any(b"zqxbenchfirstk" in f.read_bytes() for f in db.parent.iterdir() if f.is_file())
            timer = QTimer()
            timer.timeout.connect(save)
            t0 = time.perf_counter()
            if mode == "optimize":
                def optimize(svc):  # type: ignore[no-untyped-def]
                    with svc.storage.transaction():
                        svc.storage.db.execute_sql("INSERT INTO reflections_fts (reflections_fts) VALUES ('optimize')")
                        svc.storage.db.execute_sql("DELETE FROM reflections_fts_edited")
                    svc.storage.db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
                client.call(timed(optimize), lambda _r: done.append(time.perf_counter() - t0))
            else:
                original = client._purge_step

                def step() -> None:
                    client.call(timed(lambda svc: svc.purge_step()), client._purge_stepped, client._purge_failed)

                client._purge_step = step  # type: ignore[method-assign]
                client.purge_finished.connect(lambda: done.append(time.perf_counter() - t0))
                client.purge_index()
            timer.start(int(save_every * 1000))
            while not done:
                wait_a_moment(app)
            timer.stop()
            while ex.pending:
                wait_a_moment(app)
            ex.shutdown()
            if mode == "steps":
                client._purge_step = original  # type: ignore[method-assign]
            left = any(b"zqxbenchfirstk" in f.read_bytes() for f in db.parent.iterdir() if f.is_file())
            latencies.sort()
            results[mode] = {
                "purge_total_s": round(done[0], 3), "jobs": len(holds), "longest_hold_s": round(max(holds), 3),
                "median_hold_s": round(sorted(holds)[len(holds) // 2], 3), "saves": len(latencies),
                "save_median_ms": round(latencies[len(latencies) // 2] * 1000, 1) if latencies else None,
                "save_max_ms": round(latencies[-1] * 1000, 1) if latencies else None,
                "earlier_words_before": before, "earlier_words_left": left}
            print(mode, json.dumps(results[mode]), file=sys.stderr, flush=True)
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
