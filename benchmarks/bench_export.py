"""`mirror export-to` time and peak memory on a generate.py journal of 10,000 reflections (issue 15, item 7).

Usage: python benchmarks/bench_export.py [--source /work/bench-data/j10000] [--formats markdown,pdf,json,html]

The source journal is treated as read-only: it is copied with ``VACUUM INTO`` into a temporary folder,
migrated there, and every reflection of the copy is given to one identity so a single export holds
all of them. Each export runs in a fresh subprocess (``ru_maxrss`` is that export's peak) through
``run_export``, the function ``mirror export-to`` calls. The baseline, measured in the same run on the
same copy, reads the same reflections in the same batches and writes their text to one file, with
nothing else: ``× baseline`` is seconds / baseline seconds.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

CHILD = r"""
import json, os, resource, sys, time
from pathlib import Path
fmt, db, out = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
from mirror_desktop.storage.journal import SQLiteStorage
from mirror_desktop.exports.common import ExportRequest, filters_for, run_export
s = SQLiteStorage(db, migrate=False)
ident = s.identities.list()[0].id
app = None
if fmt == "pdf":
    from mirror_desktop.render.pdf import offscreen_app
    app = offscreen_app()
t = time.perf_counter()
if fmt == "baseline":
    out.mkdir()
    n = 0
    with open(out / "all.txt", "w", encoding="utf-8") as fh:
        for rows in s.reflections.batches_oldest_first(filters_for(ident, None, None), batch=500):
            for r in rows:
                fh.write(r.content + "\n\n")
                n += 1
else:
    n = run_export(s, ExportRequest(fmt, out, ident)).reflections
seconds = time.perf_counter() - t
size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
s.close()
print(json.dumps({"format": fmt, "reflections": n, "seconds": seconds, "bytes": size,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def prepare(source: Path, target: Path) -> int:
    sys.path.insert(0, str(ROOT))
    from mirror_desktop.storage.database import sqlite_module
    from mirror_desktop.storage.journal import SQLiteStorage

    con = sqlite_module().connect(str(source / "mirror_os.db"))
    try:
        con.execute("VACUUM INTO ?", (str(target),))
    finally:
        con.close()
    s = SQLiteStorage(target, keep_backups=0)  # migrates the copy to this Mirror's schema
    try:
        ident = s.identities.list()[0].id
        with s.transaction():
            s.db.execute_sql("UPDATE reflections SET identity_id = ?", (ident,))
        return int(s.reflections.count())
    finally:
        s.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", type=Path, default=Path("/work/bench-data/j10000"))
    ap.add_argument("--formats", default="markdown,pdf")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="mirror-bench-export-") as tmp:
        db = Path(tmp) / "journal" / "mirror_os.db"
        db.parent.mkdir()
        n = prepare(args.source, db)
        print(f"{n:,} reflections from {args.source}", file=sys.stderr)
        results = []
        for fmt in ["baseline", *args.formats.split(",")]:
            r = subprocess.run([sys.executable, "-c", CHILD, fmt, str(db), str(Path(tmp) / f"out-{fmt}")],
                               capture_output=True, text=True, cwd=ROOT, check=False,
                               env={**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen"})
            if r.returncode != 0:
                raise SystemExit(f"{fmt} failed: {r.stderr.strip().splitlines()[-1] if r.stderr else r.returncode}")
            results.append(json.loads(r.stdout.strip().splitlines()[-1]))
        base = results[0]["seconds"]
        print(f"| format | reflections | seconds | × baseline | output MB | peak RSS MB |")
        print("|---|---|---|---|---|---|")
        for res in results:
            print(f"| {res['format']} | {res['reflections']:,} | {res['seconds']:.2f} | {res['seconds'] / base:.1f} | "
                  f"{res['bytes'] / 1e6:.1f} | {res['peak_mb']:.0f} |")


if __name__ == "__main__":
    main()
