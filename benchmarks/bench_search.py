"""Search latency by query class and filter, next to raw FTS5 on the same file (issue 12, item 4).

Usage:
    python benchmarks/bench_search.py [--work DIR] [--sizes 10000,100000] [--rounds 10] [--postgres]
                                      [--with-ranks] [--json FILE]

Journals come from generate.py (seed 0) in ``--work`` (default bench-data/, reused when present:
``DIR/j<N>/mirror_os.db``). For every class and filter, each of the class's queries (10; 40 rare words) is run ``--rounds`` times
through ``storage.search(query, filters, ranks=False)`` (limit 50, snippets included, what the window and
``mirror search`` call); p50 and p95 are over all runs. Baseline, same run, same file: the plain
ranked FTS5 query the search wraps, with snippets, ``SELECT rowid, snippet(…) FROM reflections_fts
WHERE reflections_fts MATCH ? ORDER BY rank LIMIT 50`` joined with the reflection columns Mirror
returns (and the same WHERE for filtered rows), through the same connection, rows left as tuples.
``ratio`` = Mirror p95 / raw p95. Mirror and raw run each query back to back, which goes first alternating
from query to query and from round to round, after one unmeasured pass of each query through raw (the pages
both read are then in SQLite's cache).
``--with-ranks``: Mirror asked for each hit's rank too (``mirror search --json``), and the raw query with
its rank column in the SELECT.

Classes use the generator's vocabulary: common words (in 7-89 % of entries), rare words (about 1 in
4,000), "phrases", prefix*, and exclusion (``common -common``). Filters: none; an identity (the
three identities in turn); a one-year date range five years before the newest entry.
``--postgres`` also runs the classes on a throwaway PostgreSQL server (bench_storage.PgServer);
PostgreSQL has no raw-FTS5 baseline.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any
from collections.abc import Callable

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from bench_storage import PgServer, build, log, machine_info, median, pct  # noqa: E402
from prose import QUERY_WORDS  # noqa: E402

from mirror_desktop.core.models import SearchFilters  # noqa: E402
from mirror_desktop.core.search_query import HL_END, HL_START, fts5_match, parse_query  # noqa: E402
from mirror_desktop.storage.journal import (  # noqa: E402
    _REFLECTION_COLUMNS,
    PostgresStorage,
    SQLiteStorage,
)

CLASSES = ("common", "rare", "phrase", "prefix", "exclusion")
FILTERS = ("none", "identity", "date")
TARGET_MS = 50.0
# The raw query's snippets: FTS5's snippet() of 24 tokens, about the length of Mirror's (SNIPPET_LENGTH
# characters cut from highlight(), core.search_query.cut_snippet) and what Mirror made before it did.
SNIPPET_TOKENS = 24


def queries(kind: str) -> list[str]:
    if kind == "exclusion":
        c = QUERY_WORDS["common"]
        return [f"{c[i]} -{c[(i + 3) % len(c)]}" for i in range(len(c))]
    words = QUERY_WORDS[kind]
    return [f'"{w}"' if kind == "phrase" else w for w in words]


def filter_sets(storage: Any, kind: str) -> list[SearchFilters | None]:
    if kind == "none":
        return [None]
    if kind == "identity":
        return [SearchFilters(identity_id=i.id) for i in storage.identities.list()]
    newest = storage.reflections.page(limit=1)[0].created_at
    since = newest - timedelta(days=5 * 365)
    return [SearchFilters(since=since, until=since + timedelta(days=365))]


def raw_fts5(storage: Any, ranks: bool = False) -> Callable[[str, SearchFilters | None], int]:
    """The baseline: the plain ranked FTS5 query, ``MATCH ? ORDER BY rank LIMIT 50`` with snippets and
    the same reflection columns, rows left as tuples. Filters are a plain WHERE with the FTS table as
    the outer loop (CROSS JOIN); without it SQLite walks the identity index and takes seconds.
    ``ranks``: the rank column too (what Mirror returns when asked with ranks, `mirror search --json`)."""
    db = storage.db
    rank = "reflections_fts.rank AS rank, " if ranks else ""

    def run(query: str, filters: SearchFilters | None) -> int:
        where, params = storage._filter_sql(filters)  # the same WHERE text Mirror builds
        join = " CROSS JOIN reflections r ON r.rowid = reflections_fts.rowid" if where else ""
        sql = (f"SELECT {_REFLECTION_COLUMNS}, {'hit.rank, ' if ranks else ''}hit.snip FROM (SELECT reflections_fts.rowid AS fid, {rank}"
               f"snippet(reflections_fts, 0, ?, ?, '…', {SNIPPET_TOKENS}) AS snip "
               f"FROM reflections_fts{join} WHERE reflections_fts MATCH ?{where} ORDER BY reflections_fts.rank "
               "LIMIT 50) hit CROSS JOIN reflections r ON r.rowid = hit.fid")
        return len(db.execute_sql(sql, [HL_START, HL_END, fts5_match(parse_query(query)), *params]).fetchall())

    return run


def measure(fn: Callable[[str, SearchFilters | None], Any], qs: list[str], fsets: list[SearchFilters | None],
            rounds: int) -> dict[str, float]:
    times: list[float] = []
    for _ in range(rounds):
        for i, q in enumerate(qs):
            f = fsets[i % len(fsets)]
            t0 = time.perf_counter()
            fn(q, f)
            times.append((time.perf_counter() - t0) * 1000)
    return {"p50": pct(times, 0.5), "p95": pct(times, 0.95), "max": max(times), "n": len(times)}


def measure_pair(a: Callable[[str, SearchFilters | None], Any], b: Callable[[str, SearchFilters | None], Any],
                 qs: list[str], fsets: list[SearchFilters | None], rounds: int) -> dict[str, Any]:
    times: dict[str, list[float]] = {"mirror": [], "raw": []}
    for r in range(rounds):
        for i, q in enumerate(qs):
            f = fsets[i % len(fsets)]
            # Which side goes first changes from query to query and, for each query, from round to round (it
            # used to change only from query to query: with an even number of queries, each query had the
            # same order in every round, and the second side found the first one's data in the CPU's caches).
            pair = (("mirror", a), ("raw", b)) if (i + r) % 2 == 0 else (("raw", b), ("mirror", a))
            for name, fn in pair:
                t0 = time.perf_counter()
                fn(q, f)
                times[name].append((time.perf_counter() - t0) * 1000)
    return {k: {"p50": pct(v, 0.5), "p95": pct(v, 0.95), "max": max(v), "n": len(v)} for k, v in times.items()}


def bench(storage: Any, rounds: int, baseline: bool, classes: tuple[str, ...] = CLASSES,
          filters: tuple[str, ...] = FILTERS, ranks: bool = False) -> dict[str, Any]:
    mirror = lambda q, f: storage.search(q, f, ranks=ranks)  # noqa: E731
    raw = raw_fts5(storage, ranks) if baseline else None
    for q in ("today", "tired", '"my mother"', "cal*"):  # warm the caches the way a session would
        storage.search(q)
        if raw:
            raw(q, None)
    out: dict[str, Any] = {}
    for fkind in filters:
        fsets = filter_sets(storage, fkind)
        for kind in classes:
            qs = queries(kind)
            if raw:
                # Each query through Mirror and raw back to back, alternating which goes first, so a burst of
                # load on a shared machine lands on both sides instead of on one class of one of them.
                # First, each query once through raw, unmeasured: the pages both read (doclists, entries) are
                # then in SQLite's cache for both. Otherwise the side that went first for a query paid for
                # them, and that was always Mirror for even-numbered queries, among them the wordiest rare
                # words. Mirror's own first-search work (counting a word's matches) is still measured.
                for i, q in enumerate(qs):
                    raw(q, fsets[i % len(fsets)])
                row = measure_pair(mirror, raw, qs, fsets, rounds)
                row["ratio_p95"] = row["mirror"]["p95"] / row["raw"]["p95"]
            else:
                row = {"mirror": measure(mirror, qs, fsets, rounds)}
            out[f"{kind}/{fkind}"] = row
            log(f"  {kind:>9} / {fkind:<8} mirror p50 {row['mirror']['p50']:6.1f} p95 {row['mirror']['p95']:6.1f}"
                + (f"   raw p50 {row['raw']['p50']:6.1f} p95 {row['raw']['p95']:6.1f}   ratio {row['ratio_p95']:.2f}"
                   if raw else ""))
    return out


STRATEGIES = ("never", "always", "fallback")


def bench_identity_strategies(storage: Any, rounds: int, classes: tuple[str, ...]) -> dict[str, Any]:
    """Identity-filtered searches with each place the filter can run (migration 008): "never" (a row
    filter, the search before 008), "always" (inside the FTS5 MATCH), "fallback" (the app's default).
    The three are interleaved query by query, so the machine's load falls on each alike."""
    fsets = filter_sets(storage, "identity")
    out: dict[str, Any] = {}
    for kind in classes:
        times: dict[str, list[float]] = {st: [] for st in STRATEGIES}
        for _ in range(rounds):
            for i, q in enumerate(queries(kind)):
                f = fsets[i % len(fsets)]
                for st in STRATEGIES:
                    storage.identity_in_match = st
                    t0 = time.perf_counter()
                    storage.search(q, f)
                    times[st].append((time.perf_counter() - t0) * 1000)
        storage.identity_in_match = "fallback"
        out[kind] = {st: {"p50": pct(v, 0.5), "p95": pct(v, 0.95)} for st, v in times.items()}
        log(f"  {kind:>9} / identity  " + "  ".join(f"{st} p50 {out[kind][st]['p50']:6.1f} p95 {out[kind][st]['p95']:6.1f}"
                                                   for st in STRATEGIES))
    return out


def search_before_issue_12(storage: Any, query: str, filters: SearchFilters | None, limit: int) -> list[str]:
    """SQLite search as it was at commit 38c823b (before issue 12), its SQL copied here: the floor of
    the 1,000 newest matches, bm25 among them, and when filters leave less than a page, bm25 over
    every match of the journal; snippets with "rowid IN". Returns reflection ids."""
    db = storage.db
    match = fts5_match(parse_query(query))
    where, params = storage._filter_sql(filters)
    floor = db.execute_sql("SELECT rowid FROM reflections_fts WHERE reflections_fts MATCH ? ORDER BY rowid DESC "
                           "LIMIT 1 OFFSET ?", (match, 999)).fetchone()

    def ranked(fl: int | None) -> list[int]:
        window = " AND reflections_fts.rowid >= ?" if fl is not None else ""
        sql = ("SELECT reflections_fts.rowid, bm25(reflections_fts) AS rank FROM reflections_fts "
               f"JOIN reflections r ON r.rowid = reflections_fts.rowid WHERE reflections_fts MATCH ?{window}{where} "
               "ORDER BY rank, r.created_at DESC LIMIT ? OFFSET ?")
        return [r[0] for r in db.execute_sql(sql, [match, *([fl] if fl is not None else []), *params, limit, 0])]

    rows = ranked(floor[0] if floor else None)
    if floor is not None and where and len(rows) < limit:
        rows = ranked(None)
    if not rows:
        return []
    marks = ", ".join("?" * len(rows))
    return [r[0] for r in db.execute_sql(
        f"SELECT r.id, snippet(reflections_fts, 0, '[', ']', '…', {SNIPPET_TOKENS}) FROM reflections_fts "
        f"JOIN reflections r ON r.rowid = reflections_fts.rowid WHERE reflections_fts MATCH ? AND "
        f"reflections_fts.rowid IN ({marks})", [match, *rows])]


def per_tension_search(storage: Any, tension_id: str, limit: int = 20) -> int:
    """The related reflections issue 12 replaced (the baseline): the 5,000 newest engine runs read
    one by one, then a ranked phrase search per pole with the search of that time."""
    t = storage.tensions.get(tension_id)
    found: set[str] = set()
    for run in storage.engine_runs.list(limit=5000, order_by=["-timestamp"]):
        if run.reflection_id and tension_id in (run.tensions_surfaced or []):
            found.add(run.reflection_id)
    filters = SearchFilters(identity_id=t.identity_id) if t.identity_id else None
    for pole in {t.axis_a.strip(), t.axis_b.strip()}:
        found.update(search_before_issue_12(storage, '"' + pole.replace('"', " ") + '"', filters, limit))
    return len([storage.reflections.get(rid) for rid in found])


def bench_related(storage: Any, baseline: bool) -> dict[str, Any]:
    """Related reflections of every tension on the map: the new reads, one tension at a time and all at
    once, next to the old per-tension search (``baseline``; slow at 100,000: once per tension)."""
    from mirror_desktop.core.tensions import TensionService

    svc = TensionService(storage)
    ids = [t.id for t in svc.list_tensions()]
    svc.related_reflections(ids[0])  # warm
    one = []
    for tid in ids:
        t0 = time.perf_counter()
        svc.related_reflections(tid)
        one.append((time.perf_counter() - t0) * 1000)
    t0 = time.perf_counter()
    svc.related_reflections_many(ids)
    out: dict[str, Any] = {"tensions": len(ids), "per_tension_ms": one,
                           "all_at_once_ms": (time.perf_counter() - t0) * 1000}
    if baseline and storage.dialect == "sqlite":
        old = []
        for tid in ids:
            t0 = time.perf_counter()
            per_tension_search(storage, tid)
            old.append((time.perf_counter() - t0) * 1000)
        out["old_per_tension_ms"] = old
    log(f"  related: {len(ids)} tensions, per tension median {median(one):.1f} max {max(one):.1f} ms, all at once "
        f"{out['all_at_once_ms']:.1f} ms" + (f"; old per-tension search median {median(out['old_per_tension_ms']):.0f}"
                                             f" max {max(out['old_per_tension_ms']):.0f} ms" if baseline else ""))
    return out


def table(label: str, n: int, res: dict[str, Any]) -> str:
    lines = [f"| {label} {n:,} | Mirror p50 / p95 ms | raw FTS5 p50 / p95 ms | p95 ratio | p95 < 50 ms |",
             "|---|---|---|---:|---|"]
    for key, row in res.items():
        if key == "related":
            continue
        mm = row["mirror"]
        raw = row.get("raw")
        lines.append(f"| {key} | {mm['p50']:.1f} / {mm['p95']:.1f} | "
                     + (f"{raw['p50']:.1f} / {raw['p95']:.1f} | {row['ratio_p95']:.2f}" if raw else "– | –")
                     + f" | {'yes' if mm['p95'] < TARGET_MS else '**no**'} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", default=str(ROOT / "bench-data"))
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--rounds", type=int, default=10,
                    help="times each query runs (default 10: with 3, a class of 10 queries has 30 samples and its "
                         "p95 is the second slowest of them)")
    ap.add_argument("--postgres", action="store_true", help="also measure on a throwaway PostgreSQL server")
    ap.add_argument("--json", help="write every figure to this file")
    ap.add_argument("--with-ranks", action="store_true",
                    help="ask Mirror for each hit's rank, as `mirror search --json` does, against the raw query with "
                         "its rank column (default: as the window asks, without ranks, against the raw query without)")
    ap.add_argument("--classes", default=",".join(CLASSES), help="query classes to run (default: all)")
    ap.add_argument("--filters", default=",".join(FILTERS), help="filters to run (default: all)")
    ap.add_argument("--identity-strategies", action="store_true",
                    help="only time identity-filtered searches with the filter as a row filter, inside the MATCH, "
                         "and the default fallback, interleaved (SQLite)")
    ap.add_argument("--related", action="store_true", help="also time related reflections of every tension, "
                    "next to the old per-tension search (SQLite; PostgreSQL without the old one)")
    args = ap.parse_args(argv)
    sizes = [int(x) for x in args.sizes.split(",") if x]
    classes = tuple(c for c in args.classes.split(",") if c)
    filters = tuple(f for f in args.filters.split(",") if f)
    work = Path(args.work)
    results: dict[str, Any] = {"sqlite": {}, "postgres": {}}
    pg = None
    try:
        if args.postgres:
            pg = PgServer()
            pg.start()
        for n in sizes:
            path = work / f"j{n}" / "mirror_os.db"
            storage, _ = build(lambda p=path: SQLiteStorage(p), n, f"sqlite {n:,}")
            log(f"[sqlite {n:,}]")
            if args.identity_strategies:
                results["sqlite"][n] = {"identity_strategies": bench_identity_strategies(storage, args.rounds, classes)}
                storage.close()
                continue
            results["sqlite"][n] = bench(storage, args.rounds, baseline=True, classes=classes, filters=filters,
                                         ranks=args.with_ranks)
            if args.related:
                results["sqlite"][n]["related"] = bench_related(storage, baseline=True)
            storage.close()
            if pg is not None:
                dsn = pg.createdb(f"j{n}")
                storage, _ = build(lambda d=dsn: PostgresStorage(d), n, f"postgres {n:,}")
                log(f"[postgres {n:,}]")
                results["postgres"][n] = bench(storage, args.rounds, baseline=False, classes=classes, filters=filters)
                if args.related:
                    results["postgres"][n]["related"] = bench_related(storage, baseline=False)
                storage.close()
        results["machine"] = machine_info(pg.version() if pg else None)
    finally:
        if pg is not None:
            pg.stop()
    for n, res in results["sqlite"].items():
        strat = res.get("identity_strategies")
        if strat:
            print(f"| SQLite {n:,}: class / identity | " + " | ".join(f"{st} p50 / p95 ms" for st in STRATEGIES) + " |")
            print("|---|" + "---|" * len(STRATEGIES))
            for kind, row in strat.items():
                print(f"| {kind} | " + " | ".join(f"{row[st]['p50']:.1f} / {row[st]['p95']:.1f}" for st in STRATEGIES) + " |")
            print()
    for backend in ("sqlite", "postgres"):
        for n, res in results[backend].items():
            if "identity_strategies" in res:
                continue
            print(table("SQLite" if backend == "sqlite" else "PostgreSQL", n, res) + "\n")
            rel = res.get("related")
            if rel:
                old = rel.get("old_per_tension_ms")
                print(f"related reflections, {backend} {n:,}: {rel['tensions']} tensions; per tension median "
                      f"{median(rel['per_tension_ms']):.1f} ms, max {max(rel['per_tension_ms']):.1f} ms; all at once "
                      f"{rel['all_at_once_ms']:.1f} ms" + (f"; old per-tension search median {median(old):.0f} ms, max "
                                                           f"{max(old):.0f} ms" if old else "") + "\n")
    print(json.dumps(results["machine"]))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
