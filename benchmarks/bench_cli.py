"""Start-up of the `mirror` command next to `jrnl --version`, measured in the same run (issue 12, item 3).

Usage:
    python benchmarks/bench_cli.py [--work DIR] [--size 10000] [--runs 9] [--jrnl PATH]

Each command runs ``--runs`` times as a fresh process, the commands taking turns (after one warm-up
run each, so the OS page cache is warm as in daily use); reported are the median wall time and the median CPU time (user + system
of the child). Commands:

* ``python -c pass``: the interpreter alone (a floor);
* ``jrnl --version``: the baseline (pip jrnl, found beside this Python or on PATH, or ``--jrnl``);
* ``mirror --version``;
* ``mirror --db J search today`` and ``mirror --db J search '"my mother"' --json``, J a
  ``generate.py`` journal of ``--size`` reflections in ``--work`` (default bench-data/j10000).

Goal (issue 12): ``mirror --version`` and ``mirror search`` within 1.3x ``jrnl --version``.
``--importtime`` also prints the ten slowest imports of ``mirror --version`` (python -X importtime).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
GOAL = 1.3


def find_jrnl(given: str | None) -> str:
    for candidate in (given, str(Path(sys.executable).with_name("jrnl")), shutil.which("jrnl")):
        if candidate and Path(candidate).exists():
            return candidate
    raise SystemExit("jrnl was not found; install it with `python -m pip install jrnl` or pass --jrnl PATH.")


def ensure_journal(work: Path, n: int) -> Path:
    db = work / f"j{n}" / "mirror_os.db"
    if not db.exists():
        print(f"generating {n:,} reflections in {db.parent} …", file=sys.stderr, flush=True)
        subprocess.run([sys.executable, str(HERE / "generate.py"), "--data-dir", str(db.parent),
                        "--reflections", str(n)], check=True, stdout=subprocess.DEVNULL)
    return db


def run_once(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, child CPU seconds) of one fresh process; fails loudly if the command fails."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr.strip()[-400:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def measure(commands: dict[str, list[str]], runs: int, env: dict[str, str]) -> dict[str, dict[str, float]]:
    """Every command once per round, ``runs`` rounds: a burst of load on a shared machine lands on the
    baseline and on Mirror alike (run one command after the other, the ratios moved by 0.3)."""
    for cmd in commands.values():
        run_once(cmd, env)  # warm the page cache
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, cmd in commands.items():
            samples[name].append(run_once(cmd, env))
    return {name: {"wall_ms": statistics.median(s[0] for s in got) * 1000,
                   "cpu_ms": statistics.median(s[1] for s in got) * 1000,
                   "wall_runs_ms": [round(s[0] * 1000, 1) for s in got]} for name, got in samples.items()}


def slowest_imports(cmd: list[str], env: dict[str, str], top: int = 10) -> list[tuple[int, str]]:
    proc = subprocess.run([sys.executable, "-X", "importtime", *cmd[1:]], capture_output=True, text=True, env=env)
    rows = []
    for line in proc.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            parts = [p.strip() for p in line[len("import time:"):].split("|")]
            if parts[1].isdigit():
                rows.append((int(parts[1]), parts[2]))
    return sorted(rows, reverse=True)[:top]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", default=str(ROOT / "bench-data"))
    ap.add_argument("--size", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=9)
    ap.add_argument("--jrnl")
    ap.add_argument("--importtime", action="store_true")
    ap.add_argument("--json")
    args = ap.parse_args(argv)
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    db = ensure_journal(Path(args.work), args.size)
    mirror = [sys.executable, "-m", "mirror_desktop.cli"]
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "jrnl --version": [find_jrnl(args.jrnl), "--version"],
        "mirror --version": [*mirror, "--version"],
        f"mirror search today ({args.size:,})": [*mirror, "--db", str(db), "search", "today"],
        f"mirror search '\"my mother\"' --json ({args.size:,})": [*mirror, "--db", str(db), "search", '"my mother"',
                                                                     "--json"],
    }
    results = measure(commands, args.runs, env)
    base = results["jrnl --version"]
    print("| command | wall ms (median) | CPU ms | wall / jrnl --version | goal ≤ 1.3× |")
    print("|---|---:|---:|---:|---|")
    for name, r in results.items():
        ratio = r["wall_ms"] / base["wall_ms"]
        goal = "" if not name.startswith("mirror") else ("yes" if ratio <= GOAL else "**no**")
        print(f"| `{name}` | {r['wall_ms']:.0f} | {r['cpu_ms']:.0f} | {ratio:.2f} | {goal} |")
    if args.importtime:
        print("\nslowest imports of `mirror --version` (cumulative µs):")
        for us, mod in slowest_imports(commands["mirror --version"], env):
            print(f"  {us:>9,}  {mod}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
