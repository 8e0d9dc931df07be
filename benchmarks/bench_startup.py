"""Cold start to first render of the populated reflection list, next to a bare PySide6 window.

Each run is a fresh process (cold interpreter, cold Qt); the time is from just before spawning to
the moment the list viewport first paints with rows in it (the app prints MIRROR_FIRST_PAINT when
MIRROR_BENCH_STARTUP=1). The OS page cache stays warm, as it does on a machine in daily use.

    python benchmarks/bench_startup.py [--sizes 10000 100000] [--runs 5] [--data-root /tmp/mirror-desktop-bench]

Journals are generated once with benchmarks/generate.py and reused.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

BARE = r'''
import sys, time
from PySide6.QtCore import QEvent, QObject, QStringListModel, QTimer
from PySide6.QtWidgets import QApplication, QListView, QMainWindow
app = QApplication(sys.argv[:1])
w = QMainWindow(); v = QListView(); v.setModel(QStringListModel([f"row {i}" for i in range(200)]))
w.setCentralWidget(v); w.resize(1280, 800)
class P(QObject):
    done = False
    def eventFilter(self, o, e):
        if e.type() == QEvent.Type.Paint and not self.done:
            self.done = True
            print(f"MIRROR_FIRST_PAINT {time.time():.6f}", flush=True)
            QTimer.singleShot(0, app.quit)
        return False
p = P(); v.viewport().installEventFilter(p)
w.show(); app.exec()
'''


def env() -> dict[str, str]:
    e = dict(os.environ)
    e.setdefault("QT_QPA_PLATFORM", "offscreen")
    e["MIRROR_BENCH_STARTUP"] = "1"
    e["MIRROR_BENCH_EXIT"] = "1"
    return e


def first_paint(cmd: list[str]) -> float:
    t0 = time.time()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env(), timeout=300)
    for line in proc.stdout.splitlines():
        if line.startswith("MIRROR_FIRST_PAINT"):
            return float(line.split()[1]) - t0
    raise RuntimeError(f"no first paint reported (exit {proc.returncode}): {proc.stderr[-500:]}")


def ensure_journal(root: Path, n: int) -> Path:
    folder = root / f"journal-{n}"
    if not (folder / "mirror_os.db").exists():
        print(f"generating {n:,} reflections in {folder} …", flush=True)
        subprocess.run([sys.executable, str(HERE / "generate.py"), "--data-dir", str(folder), "--reflections", str(n)],
                       check=True, stdout=subprocess.DEVNULL)
    shutil.rmtree(folder / "config", ignore_errors=True)  # no saved layout: a first-run window
    return folder


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--data-root", default="/tmp/mirror-desktop-bench")
    args = ap.parse_args()
    root = Path(args.data_root)
    root.mkdir(parents=True, exist_ok=True)
    journals = {n: ensure_journal(root, n) for n in args.sizes}
    first_paint([sys.executable, "-c", BARE])  # warm the page cache for Qt's libraries
    bare = [first_paint([sys.executable, "-c", BARE]) for _ in range(args.runs)]
    bare_med = statistics.median(bare)
    print(f"bare PySide6 window          median {bare_med * 1000:7.0f} ms   (runs: {', '.join(f'{b * 1000:.0f}' for b in bare)})")
    for n, folder in journals.items():
        cmd = [sys.executable, "-m", "mirror_desktop", "--data-dir", str(folder)]
        first_paint(cmd)
        times = [first_paint(cmd) for _ in range(args.runs)]
        med = statistics.median(times)
        print(f"Mirror, {n:>7,} reflections  median {med * 1000:7.0f} ms   {med / bare_med:4.1f}x bare   "
              f"(runs: {', '.join(f'{t * 1000:.0f}' for t in times)})")


if __name__ == "__main__":
    main()
