"""Typing latency while autosaves are written, and scrolling the whole reflection list.

    QT_QPA_PLATFORM=offscreen python benchmarks/bench_ui.py [--data-dir DIR] [--keys 400]

Typing: each keystroke is delivered with QTest.keyClick and timed until the editor has handled it
(that is all the GUI thread does per key); meanwhile the autosave writes drafts and the reflection,
and a 40,000-word save is queued every 250 ms so the worker is always busy writing.
Scrolling: the list is scrolled a page at a time from the top to the very end of the journal,
repainting each step; reported are the time per step and how long paging through all rows took.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PySide6.QtCore import QEventLoop, QSettings, QTimer  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from mirror_desktop.app import open_journal  # noqa: E402
from mirror_desktop.paths import AppPaths  # noqa: E402
from mirror_desktop.ui.main_window import MainWindow  # noqa: E402
from mirror_desktop.workers.executor import DatabaseExecutor  # noqa: E402


def wait_for(signal, timeout_ms: int = 60000) -> None:  # type: ignore[no-untyped-def]
    loop = QEventLoop()
    signal.connect(loop.quit)
    QTimer.singleShot(timeout_ms, loop.quit)
    loop.exec()


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p / 100 * len(xs)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", default="/tmp/mirror-desktop-bench/journal-100000")
    ap.add_argument("--keys", type=int, default=400)
    args = ap.parse_args()
    app = QApplication(sys.argv[:1])
    paths = AppPaths.resolve(args.data_dir)
    settings = QSettings(str(Path("/tmp") / "mirror-bench-ui.ini"), QSettings.Format.IniFormat)
    settings.clear()
    ex = DatabaseExecutor(lambda: open_journal(paths.database))
    w = MainWindow(ex, paths, settings)
    w.save_settings = lambda: None
    w.resize(1280, 800)
    w.show()
    ex.start()
    wait_for(w.journal_loaded)
    while ex.pending:
        QTest.qWait(20)

    # -- typing while autosaves are written ------------------------------------------------
    w.new_action.trigger()
    big = " ".join(["word"] * 40_000)
    heavy = QTimer(interval=250)
    heavy.timeout.connect(lambda: w.client.call(lambda s: s.save_draft(big)))
    heavy.start()
    saves = {"n": 0}
    w.client.reflection_saved.connect(lambda _r: saves.__setitem__("n", saves["n"] + 1))
    lat: list[float] = []
    text = "the evening was quiet and I walked by the river thinking about the move "
    for i in range(args.keys):
        t0 = time.perf_counter()
        QTest.keyClick(w.editor.text, text[i % len(text)])
        lat.append((time.perf_counter() - t0) * 1000)
        QTest.qWait(20)  # ~40 keys a second, with the event loop running between keys
    heavy.stop()
    w.autosave.save_now()
    while ex.pending:
        QTest.qWait(20)
    print(f"typing: {len(lat)} keys, {saves['n']} autosaves landed while typing; per-key handling "
          f"median {statistics.median(lat):.2f} ms, p95 {pct(lat, 95):.2f} ms, max {max(lat):.2f} ms")

    # -- scrolling the full list -----------------------------------------------------------
    view, model = w.list_view, w.list_model
    print(f"(list rows before scrolling: {model.rowCount()})")
    bar = view.verticalScrollBar()
    steps: list[float] = []
    t_start = time.perf_counter()
    while True:
        t0 = time.perf_counter()
        bar.setValue(bar.value() + view.viewport().height())
        view.viewport().repaint()
        steps.append((time.perf_counter() - t0) * 1000)
        app.processEvents()
        if bar.value() >= bar.maximum():
            if not model.has_more:
                break
            if model.canFetchMore():
                model.fetchMore()
            while ex.pending:
                QTest.qWait(10)
    total = time.perf_counter() - t_start
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"scrolling: {model.rowCount():,} rows paged in {total:.1f} s ({len(steps)} page steps); per step "
          f"median {statistics.median(steps):.2f} ms, p95 {pct(steps, 95):.2f} ms, max {max(steps):.2f} ms; "
          f"peak RSS {rss:.0f} MB")
    w.close()


if __name__ == "__main__":
    main()
