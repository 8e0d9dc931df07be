"""What one edit of one reflection costs at N entries, trigger by trigger (issue 18: FTS5 secure-delete).

Usage: python benchmarks/bench_edit.py --journal /work/bench-data/j100000 [--variant base|nosd|nows|nofts] [--rows 20]

The journal is copied (bench data stay read-only) and migrated to this Mirror's schema; then ``--rows``
random reflections each get ``UPDATE reflections SET content = content || ' edited'`` in a transaction of
its own (BEGIN IMMEDIATE … COMMIT, synchronous=FULL, WAL, as the app), timed with the COMMIT, where FTS5
flushes. Variants, for diagnosis only: ``nosd`` the index's secure-delete off, ``nows`` without the writing
summary's update trigger, ``nofts`` without the index's update trigger.
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
    args = ap.parse_args()
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


if __name__ == "__main__":
    sys.exit(main())
