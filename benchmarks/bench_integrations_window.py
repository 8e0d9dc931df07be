"""The poller in the window (issue 14, items 4 and 7): how long quitting waits, and what a big sync does to the window.

Usage: QT_QPA_PLATFORM=offscreen python benchmarks/bench_integrations_window.py [--notes 2000] [--json out.json]

Three figures, on a real SQLite journal, the real DatabaseExecutor and the poller's own QThread:

- ``stop_s``: PollerThread.stop() while a calendar server accepts the connection and never answers
  (the fetch is abandoned on its daemon helper), five runs;
- ``gui_longest_gap_ms``: the longest gap between 10 ms timer ticks on the GUI thread while the poller
  runs the first sync of a notes folder of ``--notes`` notes (the GUI thread never waits for it);
- ``autosave_wait_*``: the editor's autosave (a draft written every 250 ms) during that sync: how long
  each write waited for the write lane, median and longest, against ``write_idle_s`` with no sync
  running. The sync reads, compares and builds its rows off the write lane and then writes them in one
  transaction on the serial executor; an autosave queued behind that transaction waits for it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from autosave_probe import AutosaveProbe, spin  # noqa: E402
from bench_integrations import make_vault  # noqa: E402
from PySide6.QtCore import QCoreApplication, QElapsedTimer, QTimer  # noqa: E402

from mirror_desktop.app import open_journal  # noqa: E402
from mirror_desktop.core.integrations import IntegrationService  # noqa: E402
from mirror_desktop.storage.journal import SQLiteStorage  # noqa: E402
from mirror_desktop.workers.executor import DatabaseExecutor  # noqa: E402
from mirror_desktop.workers.integrations import PollerThread  # noqa: E402


SPIN_TIMEOUT_S = 600.0


def executor(db: Path) -> DatabaseExecutor:
    ex = DatabaseExecutor(lambda: open_journal(db))
    opened: list[Any] = []
    ex.opened.connect(opened.append)
    ex.start()
    spin(lambda: bool(opened), SPIN_TIMEOUT_S)
    return ex


def stop_while_hanging(tmp: Path) -> list[float]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    conns: list[socket.socket] = []
    accepted = threading.Event()

    def accept() -> None:
        while True:
            try:
                conns.append(server.accept()[0])
                accepted.set()
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    times = []
    for run in range(5):
        db = tmp / f"hang{run}" / "mirror_os.db"
        db.parent.mkdir()
        s = SQLiteStorage(db)
        IntegrationService(s).add("calendar", "ics_url", url=f"http://127.0.0.1:{server.getsockname()[1]}/c.ics")
        s.close()
        ex = executor(db)
        accepted.clear()
        poller = PollerThread(ex)
        poller.start()
        spin(accepted.is_set, SPIN_TIMEOUT_S)
        t0 = time.perf_counter()
        assert poller.stop()
        times.append(time.perf_counter() - t0)
        ex.shutdown()
    server.close()
    for c in conns:
        c.close()
    return times


def big_sync(tmp: Path, notes: int) -> dict[str, Any]:
    vault = tmp / "vault"
    make_vault(vault, notes)
    db = tmp / "big" / "mirror_os.db"
    db.parent.mkdir()
    SQLiteStorage(db).close()
    ex = executor(db)

    def write_wait() -> float:
        done: list[float] = []
        t0 = time.perf_counter()
        ex.submit(lambda s: s.reflections.count(), lambda _r: done.append(time.perf_counter() - t0))
        spin(lambda: bool(done), SPIN_TIMEOUT_S)
        return done[0]

    idle = statistics.median(write_wait() for _ in range(5))
    s = SQLiteStorage(db)
    IntegrationService(s).add("notes", "obsidian", path=str(vault))
    s.close()
    poller = PollerThread(ex)
    started: list[str] = []
    finished: list[Any] = []
    poller.sync_started.connect(started.append)
    poller.sync_finished.connect(finished.append)
    ticks = QElapsedTimer()
    gaps: list[int] = []
    timer = QTimer()
    timer.setInterval(10)

    def tick() -> None:
        gaps.append(ticks.restart())

    # The editor's autosave: a draft written every 250 ms while the sync runs (DraftRepository on the
    # write lane, as the window's journal client does); each one's wait from submit to landed.
    autosave = AutosaveProbe(ex)
    timer.timeout.connect(tick)
    poller.start()
    spin(lambda: bool(started), SPIN_TIMEOUT_S)
    ticks.start()
    timer.start()
    autosave.timer.start()
    spin(lambda: bool(finished), SPIN_TIMEOUT_S)
    autosave.timer.stop()
    spin(autosave.all_landed, SPIN_TIMEOUT_S)
    timer.stop()
    sync_s = finished[0].seconds
    assert poller.stop()
    ex.shutdown()
    return {"notes": notes, "sync_s": round(sync_s, 2), "write_idle_s": round(idle, 4),
            "autosaves": len(autosave.waits), "autosave_wait_median_s": round(statistics.median(autosave.waits), 3),
            "autosave_wait_max_s": round(max(autosave.waits), 2), "gui_longest_gap_ms": max(gaps[1:] or [0]),
            "outcome_ok": bool(finished[0].ok), "added": finished[0].added}


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--notes", type=int, default=2000)
    p.add_argument("--json", type=Path)
    args = p.parse_args()
    QCoreApplication.instance() or QCoreApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory() as tmp:
        stops = stop_while_hanging(Path(tmp))
        big = big_sync(Path(tmp), args.notes)
    result = {"machine": f"{platform.machine()} {os.cpu_count()} cpu, Python {platform.python_version()}",
              "stop_s": [round(t, 3) for t in stops], "stop_s_max": round(max(stops), 3), **big}
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
