"""Backups on disk after many migrations, and what the journal lock and a purge cost (issue 11).

Usage:
    python benchmarks/bench_backups.py [--reflections N] [--cycles C] [--keep K]

Generates a journal (benchmarks/generate.py), then runs C rollback + migrate cycles (2*C backups
made) and reports the journal's size, the backups folder's size and file count, the time of one
backup-and-prune step, the time to open and close the journal (the shared lock included) and the
time of ``purge_backups``. Figures go into BENCHMARKS.md; tests never assert times.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import generate_journal  # noqa: E402

from mirror_desktop.storage import backups  # noqa: E402
from mirror_desktop.storage.journal import SQLiteStorage  # noqa: E402


def folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reflections", type=int, default=5_000)
    ap.add_argument("--cycles", type=int, default=8, help="rollback + migrate pairs (default 8: 16 backups)")
    ap.add_argument("--keep", type=int, default=backups.KEEP_BACKUPS)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "mirror_os.db"
        s = SQLiteStorage(db, keep_backups=args.keep)
        generate_journal(s, args.reflections, seed=0)
        s.db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        journal_mb = db.stat().st_size / 1e6
        step_s = []
        for _ in range(args.cycles):
            for action in (lambda: s.runner.rollback("1.0.0"), s.migrate):
                t = time.perf_counter()
                action()
                step_s.append(time.perf_counter() - t)
        s.close()
        kept = backups.migration_backups(db)
        kept_mb = folder_size(db.parent / "backups") / 1e6
        opens = []
        for _ in range(20):
            t = time.perf_counter()
            SQLiteStorage(db, migrate=False).close()
            opens.append(time.perf_counter() - t)
        t = time.perf_counter()
        purged = backups.purge_backups(db)
        purge_s = time.perf_counter() - t
    print(f"journal: {args.reflections} reflections, {journal_mb:.1f} MB")
    print(f"{2 * args.cycles} migrations/rollbacks: {len(kept)} backups kept (bound {args.keep}), "
          f"{kept_mb:.1f} MB in backups/ (unbounded: {2 * args.cycles} copies)")
    print(f"one migration or rollback step with its backup and prune: median {statistics.median(step_s) * 1000:.0f} ms")
    print(f"open + close (shared lock included): median {statistics.median(opens) * 1000:.1f} ms")
    print(f"purge_backups: {len(purged.removed)} files, {purged.bytes / 1e6:.1f} MB in {purge_s * 1000:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
