"""Export and import throughput and peak memory at 10k and 100k reflections (issue 5, item 8).

Usage: python benchmarks/bench_bundle.py [--sizes 10000 100000] [--log2n 18]

Compares against a plain ``VACUUM INTO`` + zip of the same journal. Each measurement runs in a
fresh subprocess so ru_maxrss is that operation's peak (Linux: KiB).
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
from pathlib import Path

WORDS = ("morning quiet work tension rest drive family walk tired hopeful anxious calm project deadline "
         "friend letter garden rain coffee music reading sleep change choice doubt trust").split()


def generate(path: Path, n: int) -> None:
    from mirror_desktop.core import models as m
    from mirror_desktop.core.enums import Visibility
    from mirror_desktop.storage.journal import SQLiteStorage

    rng = random.Random(7)
    s = SQLiteStorage(path)
    me = s.identities.create(m.Identity(metadata={"name": "Bench"}))
    batch = []
    for i in range(n):
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(40, 160)))
        batch.append(m.Reflection(content=text, identity_id=me.id,
                                  visibility=Visibility.SYNC_FULL_PRIVATE if i % 5 == 0 else Visibility.LOCAL_ONLY))
        if len(batch) == 5000:
            s.reflections.create_many(batch)
            batch = []
    if batch:
        s.reflections.create_many(batch)
    s.close()


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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--log2n", type=int, default=18)
    args = ap.parse_args()
    for n in args.sizes:
        with tempfile.TemporaryDirectory(prefix="mirror-bench-") as tmp:
            root = Path(tmp)
            data = root / "data"
            out = root / "out"
            out.mkdir()
            generate(data / "mirror_os.db", n)
            db_mb = (data / "mirror_os.db").stat().st_size / 1e6
            print(f"\n{n} reflections, journal {db_mb:.1f} MB")
            print(f"{'operation':<14}{'seconds':>9}{'MB/s (db)':>11}{'bundle MB':>11}{'peak MiB':>10}")
            for op in ("baseline", "export", "export-age", "import", "import-age"):
                r = run(op, data, out, args.log2n)
                print(f"{op:<14}{r['seconds']:>9.2f}{db_mb / r['seconds']:>11.1f}{r['bytes'] / 1e6:>11.1f}{r['peak_mib']:>10.0f}")


if __name__ == "__main__":
    main()
