"""Storage benchmarks for issue 2: insert throughput, open + status time, search latency, SQLite and PostgreSQL.

Usage:
    python benchmarks/bench_storage.py [--work DIR] [--sizes 10000,100000] [--queries 50] [--rounds 3]
                                       [--no-postgres] [--json FILE] [--explain]

Journals are built by generate.py (through the repositories) into ``--work`` (default
/tmp/mirror-bench) and reused on the next run if they are still there with the right size. For
PostgreSQL a throwaway server is started with the 15 binaries (initdb/pg_ctl through ``runuser -u
postgres`` when running as root) in a temp dir on a free port and stopped at the end.

What is measured (every figure is a median over ``--rounds`` repetitions; the machine is shared, so
expect noise):
  * insert throughput: reflections/s through ``reflections.create_many`` (validation included),
    5,000 per transaction, into a fresh journal; and single ``create`` calls (one transaction, one
    fsync each, the app's save path);
  * open + status: a fresh Python process opens the existing journal exactly as the app does
    (SQLiteStorage/PostgresStorage: pragmas, checksum verification, migration check) and reads the
    schema version; the time is taken inside the process, after imports. For SQLite the database
    files are evicted from the page cache first (posix_fadvise DONTNEED), so it is a cold-cache open.
    The whole process wall time (interpreter start and imports included) is reported beside it;
  * search latency: ``storage.search(query)`` with the default limit (50), snippets included, for
    ``--queries`` queries of each class (common words, rare words, "phrases", prefix*), p50 and p95.
Targets (PRODUCT.md): search p95 < 50 ms and open < 100 ms at 100,000 reflections.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from collections.abc import Callable

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

import generate  # noqa: E402
from prose import QUERY_WORDS, Prose  # noqa: E402

from mirror_desktop.core import models as m  # noqa: E402
from mirror_desktop.storage.database import sqlite_module  # noqa: E402
from mirror_desktop.storage.journal import PostgresStorage, SQLiteStorage  # noqa: E402

PG_BIN = Path("/usr/lib/postgresql/15/bin")
SEARCH_TARGET_MS = 50.0
OPEN_TARGET_MS = 100.0

OPEN_SCRIPT = r"""
import json, os, sys, time
t0 = time.perf_counter()
sys.path.insert(0, {root!r})
from mirror_desktop.storage.journal import PostgresStorage, SQLiteStorage
t1 = time.perf_counter()
target = {target!r}
if target.startswith("postgresql://"):
    s = PostgresStorage(target)
else:
    s = SQLiteStorage(target, create=False)
version = s.schema_version()
t2 = time.perf_counter()
s.close()
print(json.dumps({{"import_ms": (t1 - t0) * 1000, "open_ms": (t2 - t1) * 1000, "version": version}}))
"""


# -- helpers --------------------------------------------------------------------------------------
def median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    if not xs:
        return float("nan")
    k = (len(xs) - 1) * p
    lo, hi = int(k), min(len(xs) - 1, int(k) + 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def machine_info(pg_version: str | None) -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kb / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu, "cores": os.cpu_count(), "memory": mem,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "sqlite": sqlite_module().sqlite_version,
        "postgresql": pg_version or "not run",
    }


def evict(path: Path) -> None:
    """Drop a file's pages from the OS page cache (a cold open without root or drop_caches)."""
    for p in (path, Path(str(path) + "-wal"), Path(str(path) + "-shm")):
        if p.exists():
            fd = os.open(p, os.O_RDONLY)
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)


# -- PostgreSQL throwaway server --------------------------------------------------------------------
class PgServer:
    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="pgbench-"))
        self.data = self.root / "data"
        self.port = self._free_port()
        self.as_postgres = os.geteuid() == 0

    @staticmethod
    def _free_port() -> int:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return int(s.getsockname()[1])

    def _run(self, *cmd: str) -> str:
        full = list(cmd)
        if self.as_postgres:
            full = ["runuser", "-u", "postgres", "--", *full]
        r = subprocess.run(full, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed: {r.stderr.strip() or r.stdout.strip()}")
        return r.stdout

    def start(self) -> None:
        if self.as_postgres:
            shutil.chown(self.root, "postgres", "postgres")
        self._run(str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
                  "--locale=C")
        opts = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=on -c shared_buffers=256MB"
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-o", opts, "-l", str(self.root / "log"), "-w", "start")

    def createdb(self, name: str) -> str:
        self._run(str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name)
        return self.dsn(name)

    def dsn(self, name: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"

    def version(self) -> str:
        return self._run(str(PG_BIN / "postgres"), "--version").strip()

    def stop(self) -> None:
        try:
            self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


# -- measurements -------------------------------------------------------------------------------------
def build(open_storage: Callable[[], Any], n: int, label: str) -> tuple[Any, float | None]:
    """Open a journal with n reflections, generating it if it is empty. Returns (storage, seconds or None)."""
    storage = open_storage()
    have = storage.reflections.count()
    if have == n:
        log(f"[{label}] reusing a journal with {n:,} reflections")
        return storage, None
    if have:
        raise SystemExit(f"{storage.location} holds {have} reflections, not {n}; remove it or use another --work.")
    log(f"[{label}] generating {n:,} reflections ...")
    result = generate.generate_journal(
        storage, n, seed=0,
        progress=lambda d, t, e: log(f"[{label}]   {d:,}/{t:,} {e:.0f} s") if d % 25000 == 0 or d == t else None)
    log(f"[{label}] generated in {result['seconds']:.1f} s ({result['reflections_per_s']:,.0f} reflections/s)")
    return storage, result["seconds"]


def bench_insert(open_fresh: Callable[[int], Any], rounds: int, n: int, singles: int) -> dict[str, float]:
    rng_prose = Prose(__import__("random").Random(1))
    texts = [rng_prose.reflection(generate._words(rng_prose.rng), ["work", "family"]) for _ in range(n)]
    bulk, single = [], []
    for r in range(rounds):
        storage = open_fresh(r)
        ident = m.Identity(metadata={"name": "Bench"})
        storage.identities.create(ident)
        objs = [m.Reflection(content=t, identity_id=ident.id, metadata={"tags": ["bench"], "word_count": len(t.split())})
                for t in texts]
        t0 = time.perf_counter()
        for lo in range(0, n, 5000):
            with storage.transaction():
                storage.reflections.create_many(objs[lo:lo + 5000], batch=1000)
        bulk.append(n / (time.perf_counter() - t0))
        one = [m.Reflection(content=t, identity_id=ident.id) for t in texts[:singles]]
        t0 = time.perf_counter()
        for o in one:
            storage.reflections.create(o)
        single.append(singles / (time.perf_counter() - t0))
        storage.close()
    return {"bulk_per_s": median(bulk), "single_per_s": median(single),
            "bulk_runs": bulk, "single_runs": single, "n": n, "singles": singles}


def bench_open(target: str, rounds: int, sqlite_path: Path | None) -> dict[str, Any]:
    script = OPEN_SCRIPT.format(root=str(ROOT), target=target)
    opens, imports, walls = [], [], []
    version = None
    for _ in range(rounds):
        if sqlite_path is not None:
            evict(sqlite_path)
        t0 = time.perf_counter()
        r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
        walls.append((time.perf_counter() - t0) * 1000)
        if r.returncode != 0:
            raise RuntimeError(r.stderr)
        out = json.loads(r.stdout.strip().splitlines()[-1])
        opens.append(out["open_ms"])
        imports.append(out["import_ms"])
        version = out["version"]
    return {"open_ms": median(opens), "import_ms": median(imports), "process_ms": median(walls),
            "open_runs": opens, "version": version}


def queries_for(kind: str, count: int) -> list[str]:
    words = QUERY_WORDS[kind]
    out = []
    for i in range(count):
        w = words[i % len(words)]
        out.append(f'"{w}"' if kind == "phrase" else w)
    return out


def bench_search(storage: Any, nq: int, rounds: int) -> dict[str, dict[str, float]]:
    for q in ("today", "tired", '"my mother"', "cal*"):  # warm the caches the way a session would
        storage.search(q)
    res: dict[str, dict[str, float]] = {}
    for kind in ("common", "rare", "phrase", "prefix"):
        p50s, p95s, hits = [], [], []
        for _ in range(rounds):
            times = []
            for q in queries_for(kind, nq):
                t0 = time.perf_counter()
                found = storage.search(q)
                times.append((time.perf_counter() - t0) * 1000)
                hits.append(len(found))
            p50s.append(pct(times, 0.5))
            p95s.append(pct(times, 0.95))
        res[kind] = {"p50": median(p50s), "p95": median(p95s), "hits": median(hits),
                     "p95_runs": p95s}
    return res


def explain(storage: Any, query: str) -> str:
    """The plan of the search SQL for ``query`` on this backend (EXPLAIN QUERY PLAN / EXPLAIN ANALYZE)."""
    captured: list[tuple[str, tuple]] = []
    db = storage.db
    original = db.execute_sql

    def spy(sql, params=None, *a, **k):  # type: ignore[no-untyped-def]
        captured.append((sql, tuple(params or ())))
        return original(sql, params, *a, **k)

    db.execute_sql = spy  # type: ignore[method-assign]
    try:
        storage.search(query)
    finally:
        db.execute_sql = original  # type: ignore[method-assign]
    sql, params = captured[-1]
    if storage.dialect == "sqlite":
        rows = original("EXPLAIN QUERY PLAN " + sql, params).fetchall()
        return "\n".join(str(r[-1]) for r in rows)
    rows = original("EXPLAIN (ANALYZE, BUFFERS) " + sql, params).fetchall()
    return "\n".join(r[0] for r in rows)


# -- report ---------------------------------------------------------------------------------------------
def fmt(x: float | None, unit: str = "") -> str:
    if x is None:
        return "–"
    return f"{x:,.0f}{unit}" if x >= 100 else f"{x:.1f}{unit}"


def report(results: dict[str, Any]) -> str:
    info = results["machine"]
    lines = [
        f"Machine: {info['cpu']}, {info['cores']} cores, {info['memory']} RAM, {info['os']}; Python {info['python']}, "
        f"SQLite {info['sqlite']}, {info['postgresql']}. Date: {info['date']}.",
        "",
        "| Backend | Reflections | Query | p50 ms | p95 ms | Target p95 < 50 ms |",
        "|---|---:|---|---:|---:|---|",
    ]
    for b in results["backends"]:
        for size, s in b["sizes"].items():
            for kind, r in s["search"].items():
                ok = "yes" if r["p95"] < SEARCH_TARGET_MS else "**no**"
                lines.append(f"| {b['name']} | {int(size):,} | {kind} | {fmt(r['p50'])} | {fmt(r['p95'])} | {ok} |")
    lines += ["", "| Backend | Reflections | Open + status ms (in process) | Process wall ms (incl. imports) | Target < 100 ms |",
              "|---|---:|---:|---:|---|"]
    for b in results["backends"]:
        for size, s in b["sizes"].items():
            o = s["open"]
            ok = "yes" if o["open_ms"] < OPEN_TARGET_MS else "**no**"
            lines.append(f"| {b['name']} | {int(size):,} | {fmt(o['open_ms'])} | {fmt(o['process_ms'])} | {ok} |")
    lines += ["", "| Backend | Bulk insert (create_many) reflections/s | Single create reflections/s | Generator, full journal |",
              "|---|---:|---:|---|"]
    for b in results["backends"]:
        ins = b["insert"]
        gens = ", ".join(f"{int(size):,}: {s['generate_s']:.0f} s" for size, s in b["sizes"].items()
                         if s.get("generate_s")) or "reused"
        lines.append(f"| {b['name']} | {fmt(ins['bulk_per_s'])} | {fmt(ins['single_per_s'])} | {gens} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", default="/tmp/mirror-bench", help="where the SQLite journals are kept (reused)")
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--queries", type=int, default=50, help="queries per class and round")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--open-runs", type=int, default=7)
    ap.add_argument("--insert-n", type=int, default=20000)
    ap.add_argument("--no-postgres", action="store_true")
    ap.add_argument("--json", help="also write the raw results here")
    ap.add_argument("--explain", action="store_true", help="print the plan of the slowest query class at the largest size")
    args = ap.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)

    pg: PgServer | None = None
    pg_version = None
    if not args.no_postgres:
        if not (PG_BIN / "initdb").exists():
            raise SystemExit(f"No PostgreSQL binaries in {PG_BIN}; run with --no-postgres.")
        pg = PgServer()
        pg.start()
        pg_version = pg.version()
        log(f"PostgreSQL started on port {pg.port} ({pg_version})")
    results: dict[str, Any] = {"machine": machine_info(pg_version), "backends": []}
    plans: list[str] = []
    try:
        backends: list[tuple[str, Callable[[int], Any], Callable[[int], Any], Callable[[int], str], Callable[[int], Path | None]]] = []

        def sqlite_path(n: int) -> Path:
            return work / f"sqlite-{n}" / "mirror_os.db"

        def fresh_sqlite(r: int) -> Any:
            d = work / f"insert-{r}"
            shutil.rmtree(d, ignore_errors=True)
            return SQLiteStorage(d / "mirror_os.db")

        backends.append(("SQLite", lambda n: SQLiteStorage(sqlite_path(n)), fresh_sqlite,
                         lambda n: str(sqlite_path(n)), sqlite_path))
        if pg is not None:
            server = pg
            backends.append(("PostgreSQL", lambda n: PostgresStorage(server.createdb(f"mirror{n}")),
                             lambda r: PostgresStorage(server.createdb(f"insert{r}")),
                             lambda n: server.dsn(f"mirror{n}"), lambda n: None))

        for name, open_n, open_fresh, target, path_of in backends:
            log(f"== {name}: insert throughput")
            entry: dict[str, Any] = {"name": name, "insert": bench_insert(open_fresh, args.rounds, args.insert_n, 200),
                                     "sizes": {}}
            log(f"   bulk {entry['insert']['bulk_per_s']:,.0f}/s, single {entry['insert']['single_per_s']:,.0f}/s")
            for n in sizes:
                storage, gen_s = build(lambda: open_n(n), n, f"{name} {n:,}")
                if name == "PostgreSQL":
                    storage.db.execute_sql("VACUUM ANALYZE")
                search = bench_search(storage, args.queries, args.rounds)
                for kind, r in search.items():
                    log(f"   {name} {n:,} {kind:<7} p50 {r['p50']:7.1f} ms  p95 {r['p95']:7.1f} ms  (hits {r['hits']:.0f})")
                if args.explain and n == max(sizes):
                    for kind in ("common", "prefix", "phrase"):
                        q = queries_for(kind, 1)[0]
                        plans.append(f"--- {name} {n:,}: {q}\n{explain(storage, q)}")
                storage.close()
                opened = bench_open(target(n), args.open_runs, path_of(n))
                log(f"   {name} {n:,} open {opened['open_ms']:.1f} ms (process {opened['process_ms']:.0f} ms)")
                entry["sizes"][str(n)] = {"search": search, "open": opened, "generate_s": gen_s}
            results["backends"].append(entry)
    finally:
        if pg is not None:
            pg.stop()
            log("PostgreSQL stopped")
    text = report(results)
    print(text)
    if plans:
        print("\nQuery plans:\n" + "\n".join(plans))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
