"""What a passphrase check costs at each scrypt work factor, and how fast a hostile one is refused.

Usage: python benchmarks/bench_work_factor.py [--max-log2-n 22] [--json out.json]

Each case runs in a fresh child process, so its wall time and peak RSS (ru_maxrss) are its own:
* ``unwrap N``: a wrong passphrase against a header with log2 N = N, allowed to run (what a forged
  header cost before issue 11, item 5, when every factor up to 22 ran without asking);
* ``refused, no yes``: the same header, as `mirror import` now meets it without --allow-slow-passphrase;
* ``refused, 1.5 GB cap``: log2 N 22 with allow_slow, in a process whose address space is capped
  1.5 GB above its size (RLIMIT_AS), as on a small machine: refused before any scrypt work.
"""

from __future__ import annotations

import argparse
import io
import json
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mirror_desktop.bundle import age  # noqa: E402

CHILD = r"""
import io, resource, sys, time
from mirror_desktop.bundle import age
blob, allow, cap = open(sys.argv[1], "rb").read(), sys.argv[2] == "1", int(sys.argv[3])
if cap:
    with open("/proc/self/status") as fh:
        vm = next(int(l.split()[1]) * 1024 for l in fh if l.startswith("VmSize:"))
    resource.setrlimit(resource.RLIMIT_AS, (vm + cap, vm + cap))
start = time.perf_counter()
try:
    age.decrypt_stream(io.BytesIO(blob), io.BytesIO(), "not the passphrase", allow_slow=allow)
    outcome = "opened"
except age.AgeError as exc:
    outcome = type(exc).__name__
print(f"{time.perf_counter() - start:.3f} {outcome} {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}")
"""


def _forged(log2_n: int) -> bytes:
    out = io.BytesIO()
    age.encrypt_stream(io.BytesIO(b"x"), out, "the real passphrase", log2_n=4)
    return re.sub(rb"^(-> scrypt \S+) \d+$", rb"\1 " + str(log2_n).encode(), out.getvalue(), count=1,
                  flags=re.MULTILINE)


def _case(blob: bytes, allow: bool, cap: int, tmp: Path) -> dict[str, object]:
    path = tmp / "forged.age"
    path.write_bytes(blob)
    start = time.perf_counter()
    r = subprocess.run([sys.executable, "-c", CHILD, str(path), "1" if allow else "0", str(cap)],
                       capture_output=True, text=True, check=True)
    wall = time.perf_counter() - start
    seconds, outcome, peak_kb = r.stdout.split()
    return {"check_s": float(seconds), "process_wall_s": round(wall, 3), "outcome": outcome,
            "peak_rss_mb": round(int(peak_kb) / 1024)}


def main() -> None:
    import tempfile

    ap = argparse.ArgumentParser()
    ap.add_argument("--max-log2-n", type=int, default=22)
    ap.add_argument("--json")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for n in range(age.EXPORT_LOG2_N, args.max_log2_n + 1):
            rows.append({"case": f"unwrap {n}", "memory_mb": age.scrypt_memory(n) >> 20,
                         **_case(_forged(n), True, 0, tmp)})
        rows.append({"case": f"refused, no yes ({args.max_log2_n})", **_case(_forged(args.max_log2_n), False, 0, tmp)})
        rows.append({"case": "refused, 1.5 GB cap (22)", **_case(_forged(22), True, 1536 << 20, tmp)})
    print(f"# {platform.processor() or platform.machine()}, Python {platform.python_version()}, "
          f"EXPORT_LOG2_N={age.EXPORT_LOG2_N}")
    for row in rows:
        print(json.dumps(row))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
