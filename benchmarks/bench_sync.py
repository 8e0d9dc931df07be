"""Sync between devices (issue 18, item 9): first sync of N private reflections, push and pull, and an
incremental sync of 10 changes.

Usage: python benchmarks/bench_sync.py --journal /work/bench-data/j100000 [--postgres DSN] [--json out.json] [--profile]

The journal is copied (the bench data stay read-only) and every reflection made ``sync_full_private``
under one identity. A throwaway PostgreSQL server is started (as the tests do) unless ``--postgres``
names one. Each phase runs in a fresh Python process so its peak RSS (ru_maxrss) is its own; the key
is kept in a keyring backend private to the benchmark (a JSON file in the temp folder standing in for
the OS keychain), so a sync reads the key as it does from the keychain instead of running scrypt.

Phases: ``setup`` (scrypt at Mirror's work factor and joining the account, its own process so the
256 MiB scrypt needs does not hide the sync's memory), ``push`` (device A's first sync sends everything),
``pull`` (device B, an empty journal: its first sync receives everything), ``incremental`` (A edits 10 reflections and
syncs; B syncs and receives them; the no-change sync of each is the baseline). Server size is the
``mirror_sync.rows`` table with its indexes and TOAST (pg_total_relation_size) per reflection.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PASSPHRASE = "a benchmark passphrase of several words"

KEYRING = '''
import json, os
from keyring.backend import KeyringBackend
class FileKeyring(KeyringBackend):
    priority = 1
    path = os.environ["BENCH_KEYRING"]
    def _load(self):
        try:
            return json.load(open(self.path))
        except FileNotFoundError:
            return {}
    def get_password(self, service, username):
        return self._load().get(service + "/" + username)
    def set_password(self, service, username, password):
        d = self._load(); d[service + "/" + username] = password; json.dump(d, open(self.path, "w"))
    def delete_password(self, service, username):
        d = self._load(); d.pop(service + "/" + username, None); json.dump(d, open(self.path, "w"))
import keyring
keyring.set_keyring(FileKeyring())
'''

PHASE = KEYRING + '''
import json, os, resource, sys, time
from mirror_desktop.storage.journal import SQLiteStorage
from mirror_desktop.sync.service import SyncService
from mirror_desktop.core.services import JournalService
phase, db, dsn, name = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
def rss():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
out = {}
t = time.perf_counter(); storage = SQLiteStorage(db); out["open_s"] = time.perf_counter() - t
svc = SyncService(storage)
before = rss()
if phase == "setup":
    t = time.perf_counter(); svc.setup(dsn, PASSPHRASE_, device_name=name); out["setup_s"] = time.perf_counter() - t
elif phase in ("push", "pull", "noop"):
    prof = None
    if phase == "noop" and os.environ.get("BENCH_PROFILE"):
        import cProfile; prof = cProfile.Profile(); prof.enable()
    t = time.perf_counter(); r = svc.sync_now(); out["sync_s"] = time.perf_counter() - t
    if prof is not None:
        import io, pstats; prof.disable(); buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(12); out["profile"] = buf.getvalue()
    out.update(pushed=r.pushed, pulled=r.pulled, conflicts=r.conflicts)
elif phase == "edit":
    j = JournalService(storage)
    t = time.perf_counter()
    for rid in json.loads(sys.argv[5]):
        old = storage.reflections.get(rid)
        j.save_reflection(old.content + " (edited)", reflection_id=rid, identity_id=old.identity_id,
                          visibility="sync_full_private")
    out["edit_s"] = time.perf_counter() - t  # the baseline: saving the 10 edits here, as the window does
    t = time.perf_counter(); r = svc.sync_now(); out["sync_s"] = time.perf_counter() - t
    out.update(pushed=r.pushed, pulled=r.pulled)
out["peak_rss_mib"] = rss(); out["growth_mib"] = rss() - before
storage.close()
print(json.dumps(out))
'''.replace("PASSPHRASE_", repr(PASSPHRASE))


def run_phase(phase: str, db: Path, dsn: str, name: str, env: dict[str, str], *extra: str) -> dict[str, Any]:
    r = subprocess.run([sys.executable, "-c", PHASE, phase, str(db), dsn, name, *extra], env=env,
                       capture_output=True, text=True, timeout=7200)
    if r.returncode != 0:
        raise SystemExit(f"phase {phase} failed:\n{r.stderr}")
    return dict(json.loads(r.stdout.strip().splitlines()[-1]))


def prepare(src: Path, dst: Path) -> tuple[int, list[str]]:
    shutil.copy(src / "mirror_os.db", dst)
    con = sqlite3.connect(dst)
    ident = con.execute("SELECT id FROM identities ORDER BY created_at LIMIT 1").fetchone()
    if ident is None:
        con.execute("INSERT INTO identities (id, created_at, updated_at, metadata) VALUES "
                    "('bench-identity', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z', '{\"name\": \"Bench\"}')")
        ident = ("bench-identity",)
    con.execute("UPDATE reflections SET visibility = 'sync_full_private', identity_id = coalesce(identity_id, ?)", ident)
    con.commit()
    n = con.execute("SELECT count(*) FROM reflections").fetchone()[0]
    ids = [r[0] for r in con.execute("SELECT id FROM reflections ORDER BY random() LIMIT 10")]
    con.close()
    return int(n), ids


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--journal", type=Path, required=True, help="a benchmark journal folder (copied first)")
    ap.add_argument("--postgres", help="an admin DSN of a PostgreSQL server (default: start a throwaway one)")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--profile", action="store_true", help="cProfile the no-change syncs (top 12 in the results)")
    args = ap.parse_args()
    if args.profile:
        os.environ["BENCH_PROFILE"] = "1"
    sys.path.insert(0, str(ROOT / "tests"))
    server = None
    dsn = args.postgres
    if dsn is None:
        from postgres_fixtures import PostgresServer

        server = PostgresServer()
        dsn = server.start()
    results: dict[str, Any] = {}
    try:
        import psycopg

        from mirror_desktop.sync.server import SyncServer

        with psycopg.connect(dsn, autocommit=True) as con:
            con.execute("DROP DATABASE IF EXISTS mirror_bench_sync")
            con.execute("CREATE DATABASE mirror_bench_sync")
            con.execute("DROP ROLE IF EXISTS bench_person")
            con.execute("CREATE ROLE bench_person LOGIN")
        db_dsn = dsn.rsplit("/", 1)[0] + "/mirror_bench_sync"
        with SyncServer(db_dsn) as s:
            s.migrate()
        person = db_dsn.replace("postgres@", "bench_person@", 1)
        with tempfile.TemporaryDirectory(prefix="bench-sync-") as tmp:
            t = Path(tmp)
            env = dict(os.environ, BENCH_KEYRING=str(t / "keyring.json"))
            a, b = t / "a.db", t / "b.db"
            n, edit_ids = prepare(args.journal, a)
            results["reflections"] = n
            results["setup_a"] = run_phase("setup", a, person, "device-a", env)
            results["push"] = run_phase("push", a, person, "device-a", env)
            with psycopg.connect(db_dsn) as con:
                rows, total = con.execute("SELECT count(*), pg_total_relation_size('mirror_sync.rows') "
                                          "FROM mirror_sync.rows").fetchone()
                payload = con.execute("SELECT avg(octet_length(payload)) FROM mirror_sync.rows "
                                      "WHERE entity = 'reflections'").fetchone()[0]
                plain = sqlite3.connect(a).execute("SELECT avg(length(CAST(content AS BLOB))) FROM reflections").fetchone()[0]
            results["server"] = {"rows": rows, "bytes_total": total, "bytes_per_reflection": total / max(n, 1),
                                 "avg_sealed_payload": float(payload or 0), "avg_content_bytes": float(plain or 0)}
            results["setup_b"] = run_phase("setup", b, person, "device-b", env)
            results["pull"] = run_phase("pull", b, person, "device-b", env)
            results["noop_a"] = run_phase("noop", a, person, "device-a", env)
            results["noop_b"] = run_phase("noop", b, person, "device-b", env)
            results["incremental_push"] = run_phase("edit", a, person, "device-a", env, json.dumps(edit_ids))
            results["incremental_pull"] = run_phase("noop", b, person, "device-b", env)
    finally:
        if server is not None:
            server.stop()
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
