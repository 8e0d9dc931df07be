"""Plain vs encrypted (SQLCipher) journal at 100,000 reflections (issue 19, item 5): open, first paint,
search p95, insert throughput, export.

Usage (offscreen, no display needed):
    python benchmarks/bench_encryption.py [--source /work/bench-data/j100000] [--work DIR] [--runs 3]
                                          [--rounds 2] [--inserts 500] [--json FILE]

The source journal (generate.py, read-only) is copied twice into ``--work``: ``plain/`` as it is and
``encrypted/``, which is then encrypted with ``mirror encrypt``'s code (scrypt 2**18, SQLCipher 4
defaults). Each figure is measured on both copies in the same run, interleaved, and given as the
ratio encrypted / plain (goal: 1.3 or less):

* **unlock**: the one-time scrypt of a typed passphrase (no plain equivalent; the keychain skips it).
* **open**: ``SQLiteStorage(path)`` with the key at hand, until its first query returns (median of --runs).
* **first paint**: ``mirror-desktop --data-dir`` until the reflection list paints with rows (the app's
  own probe, bench_window.py's approach), the key put in the child's memory first as "unlock at
  login" would (median of --runs fresh processes).
* **search p95**: bench_search.py's query classes (common, rare, phrase, prefix, exclusion), no filter,
  ``storage.search`` with snippets, --rounds interleaved rounds, each after the same warm-up.
* **insert**: --inserts reflections in three interleaved batches, each its own committed transaction
  (synchronous=FULL), per second (median batch), and the CPU milliseconds per reflection: on a shared
  virtual disk the fsync of each commit dominates and varies, the CPU time is what encryption adds.
* **export**: ``export_bundle`` of the whole journal into an age-encrypted bundle (work factor 2**10
  so the KDF does not hide the database work), seconds (one run each).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from bench_search import CLASSES, queries  # noqa: E402
from bench_storage import machine_info, pct  # noqa: E402

from mirror_desktop.core import models as m  # noqa: E402
from mirror_desktop.storage import cipher  # noqa: E402
from mirror_desktop.storage.cipher_convert import convert_journal  # noqa: E402
from mirror_desktop.storage.journal import SQLiteStorage  # noqa: E402

PASSPHRASE = "benchmark passphrase, four words"

CHILD = r'''
import os, sys, time
from mirror_desktop import app as A
from mirror_desktop.storage import cipher
key = os.environ.get("MIRROR_BENCH_KEY")
if key:
    raw, salt = key.split(":")
    cipher.remember(cipher.JournalKey(bytes.fromhex(raw), bytes.fromhex(salt)))
def painted(self):
    print(f"MIRROR_FIRST_PAINT {time.time():.6f}", flush=True)
    self.window.close(); self.qapp.exit(0)
A.MirrorApp._bench_painted = painted
sys.exit(A.main(["--data-dir", sys.argv[1]]))
'''


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def prepare(source: Path, work: Path) -> tuple[Path, Path, cipher.JournalKey, float]:
    plain, enc = work / "plain", work / "encrypted"
    for folder in (plain, enc):
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        log(f"copying {source / 'mirror_os.db'} to {folder} …")
        shutil.copyfile(source / "mirror_os.db", folder / "mirror_os.db")
    t0 = time.perf_counter()
    key = cipher.new_key(PASSPHRASE)
    unlock_s = time.perf_counter() - t0
    log("encrypting the second copy …")
    t0 = time.perf_counter()
    convert_journal(enc / "mirror_os.db", old_key=None, new_key=key)
    log(f"  encrypted in {time.perf_counter() - t0:.1f} s")
    return plain / "mirror_os.db", enc / "mirror_os.db", key, unlock_s


def time_open(path: Path, key: cipher.JournalKey | None) -> float:
    t0 = time.perf_counter()
    s = SQLiteStorage(path, migrate=False, key=key)
    s.db.execute_sql("SELECT count(*) FROM reflections WHERE rowid = 1").fetchone()
    took = time.perf_counter() - t0
    s.close()
    return took


def first_paint(folder: Path, key: cipher.JournalKey | None) -> float:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", MIRROR_BENCH_STARTUP="1")
    env.pop("MIRROR_BENCH_KEY", None)
    if key is not None:
        env["MIRROR_BENCH_KEY"] = f"{key.raw.hex()}:{key.salt.hex()}"
    shutil.rmtree(folder / "config", ignore_errors=True)  # a first-run window, as bench_window.py
    t0 = time.time()
    proc = subprocess.run([sys.executable, "-c", CHILD, str(folder)], capture_output=True, text=True, env=env,
                          timeout=600, cwd=str(ROOT))
    for line in proc.stdout.splitlines():
        if line.startswith("MIRROR_FIRST_PAINT"):
            return float(line.split()[1]) - t0
    raise SystemExit(f"no first paint (exit {proc.returncode}): {proc.stderr[-800:]}")


def search_times(path: Path, key: cipher.JournalKey | None, rounds: int) -> list[float]:
    s = SQLiteStorage(path, migrate=False, key=key)
    try:
        for q in ("today", "tired", '"my mother"', "cal*"):
            s.search(q)
        times = []
        for _ in range(rounds):
            for kind in CLASSES:
                for q in queries(kind):
                    t0 = time.perf_counter()
                    s.search(q)
                    times.append((time.perf_counter() - t0) * 1000)
        return times
    finally:
        s.close()


def inserts(path: Path, key: cipher.JournalKey | None, n: int) -> tuple[float, float]:
    """(reflections per second, CPU ms per reflection) for ``n`` committed single-reflection transactions."""
    s = SQLiteStorage(path, migrate=False, key=key)
    try:
        ident = s.identities.list()[0]
        t0, c0 = time.perf_counter(), time.process_time()
        for i in range(n):
            with s.transaction():
                s.reflections.create(m.Reflection(f"benchmark entry {i} about the tide and the garden " * 3,
                                                  identity_id=ident.id))
        return n / (time.perf_counter() - t0), (time.process_time() - c0) * 1000 / n
    finally:
        s.close()


def export_s(path: Path, key: cipher.JournalKey | None, out: Path) -> float:
    from mirror_desktop.bundle.export import export_bundle

    out.mkdir(parents=True, exist_ok=True)
    s = SQLiteStorage(path, migrate=False, key=key)
    try:
        t0 = time.perf_counter()
        result = export_bundle(s, out, passphrase="bundle passphrase", log2_n=10)
        took = time.perf_counter() - t0
    finally:
        s.close()
    result.path.unlink()
    return took


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--source", default="/work/bench-data/j100000")
    ap.add_argument("--work", default=None, help="where the two copies go (default: a temp folder, removed after)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--inserts", type=int, default=500)
    ap.add_argument("--skip", default="", help="comma-separated figures to skip: paint,export")
    ap.add_argument("--json")
    args = ap.parse_args(argv)
    skip = set(filter(None, args.skip.split(",")))
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="bench-enc-"))
    try:
        plain, enc, key, unlock_s = prepare(Path(args.source), work)
        rows: dict[str, dict[str, Any]] = {}

        def both(name: str, fn: Any, better: str = "lower") -> None:
            p, e = fn(plain, None), fn(enc, key)
            rows[name] = {"plain": p, "encrypted": e, "ratio": (e / p) if better == "lower" else (p / e)}
            log(f"  {name}: plain {p:.1f}  encrypted {e:.1f}  ratio {rows[name]['ratio']:.2f}")

        log("open …")
        both("open_ms", lambda path, k: statistics.median(time_open(path, k) * 1000 for _ in range(args.runs)))
        if "paint" not in skip:
            log("first paint …")
            first_paint(plain.parent, None)  # warm the page cache for Qt's libraries
            paints: dict[str, list[float]] = {"plain": [], "encrypted": []}
            for _ in range(args.runs):  # interleaved, so load on the machine falls on both alike
                paints["plain"].append(first_paint(plain.parent, None) * 1000)
                paints["encrypted"].append(first_paint(enc.parent, key) * 1000)
            p, e = statistics.median(paints["plain"]), statistics.median(paints["encrypted"])
            rows["first_paint_ms"] = {"plain": p, "encrypted": e, "ratio": e / p, "runs": paints}
            log(f"  first paint: plain {p:.0f}  encrypted {e:.0f}  ratio {e / p:.2f}")
        log("search …")
        times: dict[str, list[float]] = {"plain": [], "encrypted": []}
        for _ in range(args.rounds):  # interleaved rounds: the machine's load falls on both alike
            times["plain"] += search_times(plain, None, 1)
            times["encrypted"] += search_times(enc, key, 1)
        p, e = pct(times["plain"], 0.95), pct(times["encrypted"], 0.95)
        rows["search_p95_ms"] = {"plain": p, "encrypted": e, "ratio": e / p}
        log(f"  search p95: plain {p:.1f}  encrypted {e:.1f}  ratio {e / p:.2f}")
        log("insert …")
        got: dict[str, list[tuple[float, float]]] = {"plain": [], "encrypted": []}
        for _ in range(3):
            got["plain"].append(inserts(plain, None, args.inserts // 3))
            got["encrypted"].append(inserts(enc, key, args.inserts // 3))
        rate = {k: statistics.median(r for r, _c in v) for k, v in got.items()}
        cpu = {k: statistics.median(c for _r, c in v) for k, v in got.items()}
        rows["inserts_per_s"] = {"plain": rate["plain"], "encrypted": rate["encrypted"],
                                 "ratio": rate["plain"] / rate["encrypted"]}
        rows["insert_cpu_ms"] = {"plain": cpu["plain"], "encrypted": cpu["encrypted"],
                                 "ratio": cpu["encrypted"] / cpu["plain"]}
        log(f"  insert: {rate} per s, CPU ms {cpu}")
        if "export" not in skip:
            log("export …")
            both("export_s", lambda path, k: export_s(path, k, work / "out"))
        print(f"\nunlock (scrypt 2**{cipher.JOURNAL_LOG2_N}, once per unlock): {unlock_s * 1000:.0f} ms\n")
        print("| figure | plain | encrypted | encrypted / plain (insert: plain / encrypted) |")
        print("|---|---:|---:|---:|")
        for name, r in rows.items():
            print(f"| {name} | {r['plain']:.1f} | {r['encrypted']:.1f} | {r['ratio']:.2f} |")
        if args.json:
            Path(args.json).write_text(json.dumps({"machine": machine_info(None), "unlock_ms": unlock_s * 1000,
                                                   "rows": rows}, indent=1, default=str))
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
