"""The calendar's month, On This Day and the statistics at 100,000 reflections (issue 16, item 10).

Usage:
    python benchmarks/bench_writing.py [--source bench-data/j100000] [--work DIR] [--rounds 15] [--json FILE]
                                       [--postgres N]

The source journal (made by generate.py; read-only) is copied to ``--work`` and opened as the app
opens it, which applies migration 005 (the day, hour and tag summaries are filled there; its time
is reported). The person's zone is then set to Europe/Berlin (a zone with daylight saving), which
rebuilds the day and hour summaries once (reported). Each measurement is WritingService as the
window and the CLI call it, ``--rounds`` times over 12 months / 12 days, for everyone and for one
identity; p50 and p95 in ms. Baseline, same run, same file and connection: the plain SQL that would
answer without the summaries (UTC days, so simpler than Mirror's): a month's ``GROUP BY date(created_at)``
over reflections, On This Day's ``WHERE substr(created_at, 6, 5) = 'MM-DD'`` (50 rows), and for the
statistics the per-day ``GROUP BY`` with words plus the ``json_each`` tag count over every reflection.
``ratio`` = Mirror p95 / baseline p95. Last, the cost of the triggers on writes: 2,000 single-row
inserts (one transaction each), then 20,000 in ``create_many`` (500 a statement), into a fresh journal
with and without the summary triggers (ratio = with / without, in reflections per second).
``--postgres N`` also times the same reads on a throwaway PostgreSQL server (bench_storage.PgServer)
holding N generated reflections (generate.py, seed 0), without a baseline.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from bench_storage import PgServer, build, log, machine_info, median, pct  # noqa: E402

from mirror_desktop.core import models as m  # noqa: E402
from mirror_desktop.core.writing import EVERYONE, Scope, WritingService, WritingSettings  # noqa: E402
from mirror_desktop.storage.journal import SQLiteStorage  # noqa: E402

TARGET_MS = 50.0


def timed(fn: Callable[[int], Any], rounds: int, variants: int) -> list[float]:
    fn(0)  # warm the page cache and the statement cache, as a window that has been open a while
    out = []
    for r in range(rounds):
        for v in range(variants):
            t = time.perf_counter()
            fn(v + r)
            out.append((time.perf_counter() - t) * 1000)
    return out


def row(name: str, scope: str, mirror: list[float], base: list[float] | None) -> dict[str, Any]:
    res: dict[str, Any] = {"measure": name, "scope": scope, "p50_ms": round(median(mirror), 2),
                           "p95_ms": round(pct(mirror, 0.95), 2)}
    if base is not None:
        res["baseline_p95_ms"] = round(pct(base, 0.95), 2)
        res["ratio"] = round(res["p95_ms"] / res["baseline_p95_ms"], 3) if res["baseline_p95_ms"] else None
    res["under_50ms"] = res["p95_ms"] < TARGET_MS
    log(f"{name:14} {scope:9} p50 {res['p50_ms']:7.2f}  p95 {res['p95_ms']:7.2f}  "
        f"baseline p95 {res.get('baseline_p95_ms', '-')}  ratio {res.get('ratio', '-')}")
    return res


def insert_cost(work: Path, n: int = 2000) -> dict[str, Any]:
    """Reflections per second, one transaction each, with the summary triggers and without them."""
    out: dict[str, Any] = {}
    for label in ("with_triggers", "without_triggers"):
        target = work / f"ins-{label}.db"
        for old in (target, Path(f"{target}-wal"), Path(f"{target}-shm"), Path(f"{target}.lock")):
            old.unlink(missing_ok=True)  # a fresh journal each run
        s = SQLiteStorage(target)
        try:
            if label == "without_triggers":
                for t in ("writing_summary_insert", "writing_summary_delete", "writing_summary_update"):
                    s.db.execute_sql(f"DROP TRIGGER {t}")
            rows = [m.Reflection(content=f"entry {i} about the walk and the lake", metadata={"tags": ["walk", "lake"],
                                                                                             "word_count": 7})
                    for i in range(n)]
            t = time.perf_counter()
            for r in rows:
                s.reflections.create(r)
            out[label] = round(n / (time.perf_counter() - t))
            bulk = [m.Reflection(content="word " * 150 + str(i), metadata={"tags": ["walk", "lake"], "word_count": 151})
                    for i in range(10 * n)]
            t = time.perf_counter()
            s.reflections.create_many(bulk, batch=500)
            out[f"bulk_{label}"] = round(len(bulk) / (time.perf_counter() - t))
        finally:
            s.close()
    out["ratio"] = round(out["with_triggers"] / out["without_triggers"], 3)
    out["bulk_ratio"] = round(out["bulk_with_triggers"] / out["bulk_without_triggers"], 3)
    log(f"single inserts/s with triggers {out['with_triggers']}, without {out['without_triggers']} (x{out['ratio']}); "
        f"bulk {out['bulk_with_triggers']} vs {out['bulk_without_triggers']} (x{out['bulk_ratio']})")
    return out


def reads(ws: WritingService, storage: Any, rounds: int, base: dict[str, list[float]] | None) -> list[dict[str, Any]]:
    """The four reads for everyone and for one identity (base: the baseline timings by measure)."""
    newest = storage.reflections.page(limit=1)[0].created_at
    ident = storage.identities.list()[0].id
    months = [(newest.year - 1 - i // 12, 1 + i % 12) for i in range(12)]
    days = [date(newest.year, 1 + i, 15) for i in range(12)]
    out = []
    b = base or {}
    for label, scope in (("everyone", EVERYONE), ("identity", Scope(ident))):
        out.append(row("month", label, timed(lambda v, s=scope: ws.month_counts(*months[v % 12], s), rounds, 12), b.get("month")))
        out.append(row("on_this_day", label, timed(lambda v, s=scope: ws.on_this_day(days[v % 12], s), rounds, 12), b.get("otd")))
        out.append(row("stats", label, timed(lambda v, s=scope: ws.stats(s), rounds, 1), b.get("stats")))
        out.append(row("tag_counts", label, timed(lambda v, s=scope: ws.tag_counts(s), rounds, 1), None))
    return out


def postgres_reads(n: int, rounds: int) -> dict[str, Any]:
    from mirror_desktop.storage.journal import PostgresStorage

    server = PgServer()
    server.start()
    try:
        dsn = server.createdb("writing")
        storage, gen_s = build(lambda: PostgresStorage(dsn), n, "pg")
        try:
            ws = WritingService(storage)
            t = time.perf_counter()
            ws.save_settings(WritingSettings(time_zone="Europe/Berlin"))
            rebuild_s = time.perf_counter() - t
            log(f"[pg] {n} reflections (generated in {gen_s or 0:.0f} s); zone rebuild {rebuild_s:.1f} s")
            return {"version": server.version().strip(), "reflections": n, "generate_s": gen_s,
                    "zone_rebuild_s": round(rebuild_s, 1), "results": reads(ws, storage, rounds, None)}
        finally:
            storage.close()
    finally:
        server.stop()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--source", default=str(ROOT.parent / "bench-data" / "j100000"),
                    help="a generate.py journal folder (copied first, never written)")
    ap.add_argument("--work", help="where the copy goes (default: a temporary folder, removed afterwards)")
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--json", help="write the results here")
    ap.add_argument("--postgres", type=int, metavar="N", help="also time PostgreSQL with N generated reflections")
    args = ap.parse_args()

    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="bench-writing-"))
    work.mkdir(parents=True, exist_ok=True)
    db = work / "mirror_os.db"
    try:
        if not db.exists():
            log(f"copying {args.source} …")
            shutil.copyfile(Path(args.source) / "mirror_os.db", db)
        t = time.perf_counter()
        storage = SQLiteStorage(db, keep_backups=0)
        migrate_s = time.perf_counter() - t
        ws = WritingService(storage)
        t = time.perf_counter()
        ws.save_settings(WritingSettings(time_zone="Europe/Berlin"))
        rebuild_s = time.perf_counter() - t
        total = storage.reflections.count()
        log(f"{total} reflections; open (+migration 005 if new) {migrate_s:.1f} s; zone rebuild {rebuild_s:.1f} s")
        newest = storage.reflections.page(limit=1)[0].created_at
        months = [(newest.year - 1 - i // 12, 1 + i % 12) for i in range(12)]
        days = [date(newest.year, 1 + i, 15) for i in range(12)]
        con = storage.db

        def base_month(v: int) -> Any:
            y, mo = months[v % 12]
            lo = f"{y:04d}-{mo:02d}-01"
            hi = f"{y + (mo == 12):04d}-{mo % 12 + 1:02d}-01"
            return con.execute_sql("SELECT date(created_at), count(*) FROM reflections WHERE created_at >= ? "
                                   "AND created_at < ? GROUP BY 1", (lo, hi)).fetchall()

        def base_otd(v: int) -> Any:
            md = days[v % 12].strftime("%m-%d")
            return con.execute_sql("SELECT * FROM reflections WHERE substr(created_at, 6, 5) = ? "
                                   "ORDER BY created_at DESC LIMIT 50", (md,)).fetchall()

        def base_stats(v: int) -> Any:
            a = con.execute_sql("SELECT date(created_at), count(*), sum(json_extract(metadata, '$.word_count')) "
                                "FROM reflections GROUP BY 1").fetchall()
            b = con.execute_sql("SELECT lower(t.value), count(*) FROM reflections r, json_each(r.metadata, '$.tags') t "
                                "GROUP BY 1 ORDER BY 2 DESC LIMIT 10").fetchall()
            return a, b

        rounds = args.rounds
        base = {"month": timed(base_month, rounds, 12), "otd": timed(base_otd, rounds, 12),
                "stats": timed(base_stats, max(rounds // 5, 2), 1)}
        results = reads(ws, storage, rounds, base)
        storage.close()
        report = {"machine": machine_info(None), "reflections": total, "open_with_migration_s": round(migrate_s, 1),
                  "zone_rebuild_s": round(rebuild_s, 1), "results": results, "inserts": insert_cost(work),
                  "command": " ".join(sys.argv), "measured": datetime.now(UTC).isoformat(timespec="minutes")}
        if args.postgres:
            report["postgres"] = postgres_reads(args.postgres, rounds)
        if args.json:
            Path(args.json).write_text(json.dumps(report, indent=2))
        print(json.dumps(report, indent=2))
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
