"""Export and import time and peak memory on generate.py journals, next to VACUUM INTO + zip (issues 5 and 12).

Usage: python benchmarks/bench_bundle.py [--work DIR] [--sizes 10000,100000] [--log2n 18]

The journals are ``generate.py`` journals (seed 0) in ``--work`` (default bench-data/j<N>, made when
missing), copied with ``VACUUM INTO`` into a temporary folder so the measured file is compact and
nothing else touches it. Each operation runs in a fresh subprocess, so ru_maxrss is that
operation's peak. The baseline, measured in the same run on the same copy, is a plain ``VACUUM
INTO`` + deflate zip of the journal with nothing else; ``× baseline`` is seconds / baseline seconds.
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


def journal_copy(work: Path, n: int, target: Path) -> None:
    """A compact copy of the generate.py journal of ``n`` reflections at ``target``."""
    source = work / f"j{n}" / "mirror_os.db"
    if not source.exists():
        print(f"generating {n:,} reflections in {source.parent} …", file=sys.stderr, flush=True)
        subprocess.run([sys.executable, str(HERE / "generate.py"), "--data-dir", str(source.parent),
                        "--reflections", str(n)], check=True, stdout=subprocess.DEVNULL)
    target.parent.mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(ROOT))
    from mirror_desktop.storage.database import sqlite_module  # the SQLite the app uses (FTS5, JSON checks)

    con = sqlite_module().connect(str(source))
    try:
        con.execute("VACUUM INTO ?", (str(target),))
    finally:
        con.close()


CHILD = r"""
import json, resource, sys, time, zipfile
from pathlib import Path
op, data_dir, out, log2n = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4])
from mirror_desktop.paths import AppPaths
from mirror_desktop.bundle import export as ex
ex.default_log2_n = log2n
paths = AppPaths.resolve(data_dir)
t = time.perf_counter()
if op == "baseline":
    from mirror_desktop.storage.journal import SQLiteStorage
    s = SQLiteStorage(paths.database, migrate=False); copy = out / "plain.db"; s.backup_to(copy); s.close()
    with zipfile.ZipFile(out / "plain.zip", "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        zf.write(copy, "mirror_os.db")
    size = (out / "plain.zip").stat().st_size
elif op.startswith("export"):
    from mirror_desktop.storage.journal import SQLiteStorage
    s = SQLiteStorage(paths.database, migrate=False)
    r = ex.export_bundle(s, out, paths=paths, passphrase="bench passphrase" if op == "export-age" else None,
                         filename="b.zip.age" if op == "export-age" else "b.zip")
    s.close(); size = r.size_bytes
else:
    from mirror_desktop.bundle.importer import import_bundle
    bundle = out / ("b.zip.age" if op == "import-age" else "b.zip")
    target = AppPaths.resolve(out / ("imp-" + op))
    import_bundle(bundle, target, passphrase="bench passphrase")
    size = bundle.stat().st_size
print(json.dumps({"seconds": time.perf_counter() - t, "bytes": size,
                  "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run(op: str, data_dir: Path, out: Path, log2n: int) -> dict:
    res = subprocess.run([sys.executable, "-c", CHILD, op, str(data_dir), str(out), str(log2n)],
                         capture_output=True, text=True, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", default=str(ROOT / "bench-data"))
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--log2n", type=int, default=18)
    ap.add_argument("--json")
    args = ap.parse_args(argv)
    results = {}
    print("| reflections | journal | operation | seconds | × baseline | MB/s | bundle | peak MiB |")
    print("|---|---|---|---:|---:|---:|---|---:|")
    for n in [int(x) for x in args.sizes.split(",") if x]:
        with tempfile.TemporaryDirectory(prefix="mirror-bench-") as tmp:
            root = Path(tmp)
            data, out = root / "data", root / "out"
            out.mkdir()
            journal_copy(Path(args.work), n, data / "mirror_os.db")
            db_mb = (data / "mirror_os.db").stat().st_size / 1e6
            base = None
            for op in ("baseline", "export", "export-age", "import", "import-age"):
                r = run(op, data, out, args.log2n)
                base = base or r["seconds"]
                results[f"{n}/{op}"] = r
                name = {"baseline": "baseline VACUUM INTO + zip", "export": "export (zip)", "export-age": "export (age)",
                        "import": "import (zip, replace)", "import-age": "import (age, replace)"}[op]
                size = f"{r['bytes'] / 1e6:.1f} MB" if op.startswith(("baseline", "export")) else ""
                print(f"| {n // 1000}k | {db_mb:.1f} MB | {name} | {r['seconds']:.2f} | {r['seconds'] / base:.2f} | "
                      f"{db_mb / r['seconds']:.1f} | {size} | {r['peak_mib']:.0f} |", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
