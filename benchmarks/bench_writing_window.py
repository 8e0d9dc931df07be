"""The issue 16 views in the real window: how long a person waits for a month, the statistics, the tags.

Usage (offscreen, no display needed):
    python benchmarks/bench_writing_window.py [--work DIR] [--sizes 10000,100000] [--months 24]

For each size, a copy of the generated journal (bench-data/j<N>, read-only; copied into --work and
migrated once, outside the timings) is opened in the real MainWindow with its executor lanes, then:

* **no-op round trip** (the baseline): an empty job on the read lane, submit to callback;
* **calendar, first show**: View → Calendar until the month's counts are painted (builds the page);
* **month switch**: Page Up in the grid until that month's counts arrive (median of ``--months``);
* **day list**: the chosen day's reflections listed;
* **statistics, first show**: View → Statistics until the charts have their data;
* **tag counts** and **On This Day**: one read each, submit to callback.

Times are wall-clock from the GUI thread (what the person waits), in ms, beside the no-op round trip
of the same run (the executor's own cost). Goal (issue 16): each under 50 ms at 100,000 reflections,
and the GUI thread never waits on the database.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any
from collections.abc import Callable

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEventLoop, QSettings, Qt, QTimer  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402


def wait_for(signal: Any, action: Callable[[], None], timeout_ms: int = 120_000,
             accept: Callable[..., bool] | None = None) -> float:
    """Seconds from ``action()`` to ``signal`` (with arguments ``accept`` approves)."""
    loop = QEventLoop()
    done: list[float] = []

    def got(*args: Any) -> None:
        if not done and (accept is None or accept(*args)):
            done.append(time.perf_counter())
            loop.quit()

    signal.connect(got)
    QTimer.singleShot(timeout_ms, loop.quit)
    t0 = time.perf_counter()
    action()
    if not done:
        loop.exec()
    signal.disconnect(got)
    if not done:
        raise SystemExit(f"timed out waiting for {signal}")
    return done[0] - t0


def call_time(submit: Callable[[Callable[[Any], None]], Any]) -> float:
    loop = QEventLoop()
    done: list[float] = []

    def answered(_r: Any) -> None:
        done.append(time.perf_counter())
        loop.quit()

    t0 = time.perf_counter()
    submit(answered)
    if not done:
        loop.exec()
    return done[0] - t0


def prepare(work: Path, n: int) -> Path:
    src = ROOT / "bench-data" / f"j{n}"
    if not (src / "mirror_os.db").exists():
        src = Path("/work/bench-data") / f"j{n}"
    dest = work / f"j{n}"
    if not (dest / "mirror_os.db").exists():
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src / "mirror_os.db", dest / "mirror_os.db")
    shutil.rmtree(dest / "config", ignore_errors=True)
    return dest


def measure(folder: Path, months: int) -> dict[str, float]:
    from mirror_desktop.app import open_journal, open_reader
    from mirror_desktop.paths import AppPaths
    from mirror_desktop.ui.main_window import MainWindow
    from mirror_desktop.workers.executor import DatabaseExecutor

    paths = AppPaths.resolve(str(folder))
    paths.config_dir.mkdir(parents=True, exist_ok=True)
    settings = QSettings(str(paths.settings_file), QSettings.Format.IniFormat)
    ex = DatabaseExecutor(lambda: open_journal(paths.database), open_reader=lambda: open_reader(paths.database))
    w = MainWindow(ex, paths, settings)
    w.save_settings = lambda: None  # type: ignore[method-assign]
    w.resize(1280, 800)

    def start() -> None:
        w.show()
        ex.start()

    wait_for(w.journal_loaded, start, timeout_ms=1_800_000)  # a first open migrates (not timed below)
    drain = QEventLoop()
    QTimer.singleShot(1500, drain.quit)  # let the open-time reads (tags, On This Day, settings) finish
    drain.exec()
    out: dict[str, float] = {}
    noop = [call_time(lambda cb: ex.submit(lambda _s: None, cb, lane="read")) for _ in range(20)]
    out["noop"] = statistics.median(noop)
    # The pages are built by their first show; build them first (hidden, nothing asked yet) so that their
    # signals can be listened to; the timings below then cover asking, the query and painting.
    t0 = time.perf_counter()
    cal = w.writing.page("calendar")
    stats_page = w.writing.page("stats")
    out["build_pages"] = time.perf_counter() - t0
    out["calendar_first"] = wait_for(cal.month_loaded, lambda: w.view_actions["calendar"].trigger())
    cal.grid.setFocus()
    switches, days = [], []
    for _ in range(months):
        y, m = cal.grid.year, cal.grid.month
        target = (y, m - 1) if m > 1 else (y - 1, 12)
        switches.append(wait_for(cal.month_loaded, lambda: QTest.keyClick(cal.grid, Qt.Key.Key_PageUp),
                                 accept=lambda yy, mm, t=target: (yy, mm) == t))
        days.append(wait_for(cal.day_loaded, lambda: QTest.keyClick(cal.grid, Qt.Key.Key_Right)))
    out["month_switch"] = statistics.median(switches)
    out["day_list"] = statistics.median(days)
    out["stats_first"] = wait_for(stats_page.stats_loaded, lambda: w.view_actions["stats"].trigger())
    scope = w.writing.scope
    out["tag_counts"] = statistics.median(
        [call_time(lambda cb: w.writing.client.tag_counts(scope, cb)) for _ in range(10)])
    out["on_this_day"] = statistics.median(
        [call_time(lambda cb: w.writing.client.on_this_day(scope, cb)) for _ in range(10)])
    out["stats_read"] = statistics.median(
        [call_time(lambda cb: w.writing.client.stats(scope, cb)) for _ in range(5)])
    w.close()
    w.deleteLater()
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", default="/tmp/mirror-bench-writing-window")
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--months", type=int, default=24)
    args = ap.parse_args(argv)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    from mirror_desktop.ui.theme import apply_theme

    apply_theme("light", app)  # type: ignore[arg-type]
    work = Path(args.work)
    rows = [("noop", "no-op read round trip (baseline)"), ("build_pages", "building both pages (GUI thread)"),
            ("calendar_first", "calendar, first show"),
            ("month_switch", "month switch (PgUp), median"), ("day_list", "day list, median"),
            ("stats_first", "statistics, first show"), ("stats_read", "statistics read, median"),
            ("tag_counts", "tag counts, median"), ("on_this_day", "On This Day, median")]
    results = {n: measure(prepare(work, n), args.months) for n in [int(x) for x in args.sizes.split(",") if x]}
    sizes = list(results)
    print("| what | " + " | ".join(f"{n:,} reflections, ms" for n in sizes) + " |")
    print("|---|" + "---:|" * len(sizes))
    for key, label in rows:
        digits = 2 if key == "noop" else 1
        print(f"| {label} | " + " | ".join(f"{results[n][key] * 1000:.{digits}f}" for n in sizes) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
