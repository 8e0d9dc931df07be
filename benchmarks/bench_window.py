"""The window: first paint next to a bare PySide6 window, and time to answer a search queued at first paint.

Usage (offscreen, no display needed):
    python benchmarks/bench_window.py [--work DIR] [--sizes 2000,10000,100000] [--runs 5] [--query kintsugi]

Each run is a fresh process (cold interpreter and Qt, warm OS page cache, no saved window layout),
timed from just before it is spawned:

* **bare**: a QMainWindow holding a QListView of 200 rows; time to its first paint. The baseline,
  measured in the same run.
* **first paint**: ``mirror-desktop --data-dir J`` until the reflection list first paints with rows
  in it (the app's own probe, MIRROR_BENCH_STARTUP=1).
* **answer after open**: at that first paint the script opens search, types ``--query`` and runs
  it through the search panel as a person would (``--delays``: at first paint, and 1 s after it as
  in the issue's measurement); the time from asking to ``results_shown``.
  Whatever the window queued when the journal opened (the list, the tension map and its related
  reflections, ...) runs before it when there is one serial database worker: that wait is what
  this measures (issue 12: 12-16 s at 100,000 reflections; goal within 1 s).

Journals are ``generate.py`` journals in ``--work`` (default bench-data/j<N>), made when missing.
Goals (issue 12): first paint within 2x bare; answer within 1 s of first paint at 100,000.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

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

# The real app (mirror_desktop.app.main) with its first-paint hook extended: at first paint, run a
# search through the window's own search panel and report when its results are shown.
MIRROR = r'''
import sys, time
from mirror_desktop import app as A
from PySide6.QtCore import QTimer
data_dir, query, exit_at_paint, delay_ms = sys.argv[1], sys.argv[2], sys.argv[3] == "1", int(sys.argv[4])

def painted(self):
    t_paint = time.time()
    print(f"MIRROR_FIRST_PAINT {t_paint:.6f}", flush=True)
    w = self.window
    if exit_at_paint:
        w.close(); self.qapp.exit(0); return
    panel = w.search  # the search view (issue 10 may move it; adapt here)
    asked = []
    def shown(n):
        if not asked:
            return  # opening the search view announces its empty state first
        print(f"MIRROR_SEARCH_ANSWERED {time.time():.6f} {n}", flush=True)
        w.close(); self.qapp.exit(0)
    def ask():
        print(f"MIRROR_SEARCH_ASKED {time.time():.6f}", flush=True)
        panel.results_shown.connect(shown)
        w.start_search()
        panel.box.setText(query)
        asked.append(1)
        panel.run_now()
    QTimer.singleShot(delay_ms, ask)

A.MirrorApp._bench_painted = painted
# As the mirror-desktop launcher starts it: main() reads sys.argv (and so leaves out the PostgreSQL driver).
sys.argv = ["mirror-desktop", "--data-dir", data_dir]
sys.exit(A.main())
'''


CODE: str | None = None  # --code: run the app from another source tree (e.g. a `git archive` of an older commit)


def env() -> dict[str, str]:
    e = dict(os.environ)
    if CODE:
        e["PYTHONPATH"] = CODE
    e.setdefault("QT_QPA_PLATFORM", "offscreen")
    e["MIRROR_BENCH_STARTUP"] = "1"
    e.pop("MIRROR_BENCH_EXIT", None)
    return e


def spawn(cmd: list[str], timeout: float = 300) -> dict[str, float]:
    """Run one fresh process; returns seconds from spawn to first paint (and to the answer, if any)."""
    t0 = time.time()
    # The child runs in the source tree it should import ("python -c" puts the working folder first
    # on sys.path, before PYTHONPATH).
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env(), timeout=timeout, cwd=CODE or str(ROOT))
    out: dict[str, float] = {}
    for line in proc.stdout.splitlines():
        if line.startswith("MIRROR_FIRST_PAINT"):
            out["paint"] = float(line.split()[1]) - t0
        elif line.startswith("MIRROR_SEARCH_ASKED"):
            out["asked"] = float(line.split()[1]) - t0
        elif line.startswith("MIRROR_SEARCH_ANSWERED"):
            out["answer"] = float(line.split()[1]) - t0
            out["hits"] = float(line.split()[2])
    if "paint" not in out:
        raise SystemExit(f"no first paint reported (exit {proc.returncode}): {proc.stderr[-800:]}")
    return out


def ensure_journal(work: Path, n: int) -> Path:
    folder = work / f"j{n}"
    if not (folder / "mirror_os.db").exists():
        print(f"generating {n:,} reflections in {folder} …", file=sys.stderr, flush=True)
        subprocess.run([sys.executable, str(HERE / "generate.py"), "--data-dir", str(folder), "--reflections", str(n)],
                       check=True, stdout=subprocess.DEVNULL)
    return folder


def fresh_window_state(folder: Path) -> None:
    shutil.rmtree(folder / "config", ignore_errors=True)  # no saved layout or view: a first-run window


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", default=str(ROOT / "bench-data"))
    ap.add_argument("--sizes", default="2000,10000,100000")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--query", default="kintsugi", help="the search queued at first paint (default: a rare word)")
    ap.add_argument("--delays", default="0,1000", help="ms after first paint to ask, comma-separated (default 0,1000)")
    ap.add_argument("--code", help="run the app from this source tree instead (before/after figures: "
                                    "git archive COMMIT | tar -x -C DIR)")
    ap.add_argument("--json")
    args = ap.parse_args(argv)
    global CODE
    CODE = str(Path(args.code).resolve()) if args.code else None
    work = Path(args.work)
    sizes = [int(x) for x in args.sizes.split(",") if x]
    journals = {n: ensure_journal(work, n) for n in sizes}
    # Bytecode as an installed app has it (pip compiles at install; Python caches it after the first start),
    # also where PYTHONDONTWRITEBYTECODE is set: otherwise every run would time the compiler.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(Path(CODE or ROOT) / "mirror_desktop")], check=True)
    bare_cmd = [sys.executable, "-c", BARE]
    spawn(bare_cmd)  # warm the page cache for Qt's libraries
    bare: list[float] = []
    results: dict[str, object] = {}
    delays = [int(x) for x in args.delays.split(",") if x]
    heads = " | ".join(f"answer, asked {d / 1000:g} s after first paint: ms (median; runs)" for d in delays)
    print(f"\n| reflections | first paint ms (median) | × bare (median of pairs) | {heads} | hits |")
    print("|---:|---:|---:|" + "---|" * len(delays) + "---:|")
    for n, folder in journals.items():
        paint_cmd = [sys.executable, "-c", MIRROR, str(folder), args.query, "1", "0"]
        fresh_window_state(folder)
        spawn(paint_cmd)  # warm
        paints, waits, hits = [], {d: [] for d in delays}, 0.0  # type: ignore[var-annotated]
        ratios = []
        for _ in range(args.runs):
            # The bare window runs beside each Mirror run, so a busy machine slows both alike.
            bare.append(spawn(bare_cmd)["paint"])
            fresh_window_state(folder)
            paints.append(spawn(paint_cmd)["paint"])
            ratios.append(paints[-1] / bare[-1])
            for d in delays:
                fresh_window_state(folder)
                r = spawn([sys.executable, "-c", MIRROR, str(folder), args.query, "0", str(d)])
                if "answer" not in r:
                    raise SystemExit("the search never answered")
                waits[d].append(r["answer"] - r["asked"])
                hits = r["hits"]
        med = statistics.median(paints)
        cells = " | ".join(f"{statistics.median(waits[d]) * 1000:.0f} ({', '.join(f'{w * 1000:.0f}' for w in waits[d])})"
                           for d in delays)
        print(f"| {n:,} | {med * 1000:.0f} | {statistics.median(ratios):.2f} | {cells} | {hits:.0f} |", flush=True)
        results[str(n)] = {"paint_ms": [round(p * 1000) for p in paints], "hits": hits,
                           "bare_ms": [round(b * 1000) for b in bare[-args.runs:]],
                           "answer_ms_by_delay": {d: [round(w * 1000) for w in waits[d]] for d in delays}}
    print(f"\nbare QMainWindow + 200-row list, run beside each: first paint median {statistics.median(bare) * 1000:.0f} ms; "
          "× bare is the median of the per-pair ratios")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
