"""An import from another app in the window (issue 15): how long the editor's autosave waits while it runs.

Usage: QT_QPA_PLATFORM=offscreen python benchmarks/bench_import_window.py [--entries 10000] [--json out.json]

A Day One export of ``--entries`` entries is imported through the window's ImportingClient on a real
SQLite journal and the real DatabaseExecutor with its read and background lanes, while a draft is written
every 250 ms on the write lane (the editor's autosave). Figures: the import's time, and each autosave's
wait from submit to landed (median, longest), in two modes measured in the same run:

- ``one_transaction`` (the baseline, the import before chunking): the whole import is one job on the
  write lane (an executor without a background lane runs it that way);
- ``chunked``: reading and hashing on the background lane, every 500 entries one short write job.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from autosave_probe import AutosaveProbe, spin  # noqa: E402
from PySide6.QtCore import QCoreApplication  # noqa: E402

from mirror_desktop.app import open_journal, open_reader  # noqa: E402
from mirror_desktop.storage.journal import SQLiteStorage  # noqa: E402
from mirror_desktop.workers.executor import DatabaseExecutor  # noqa: E402
from mirror_desktop.workers.importing import ImportingClient  # noqa: E402
from tests.integrations.importing_helpers import dayone_entry, make_dayone  # noqa: E402

WORDS = ("the morning walk felt longer than usual and I kept thinking about the conversation with my sister "
         "about the house and whether we should sell it before winter").split()


SPIN_TIMEOUT_S = 900.0


def run(tmp: Path, export: Path, chunked: bool) -> dict[str, Any]:
    db = tmp / ("chunked" if chunked else "one") / "mirror_os.db"
    db.parent.mkdir()
    SQLiteStorage(db).close()
    ex = DatabaseExecutor(lambda: open_journal(db), open_reader=(lambda: open_reader(db)) if chunked else None)
    opened: list[Any] = []
    ex.opened.connect(opened.append)
    ex.start()
    spin(lambda: bool(opened) and all(lane.ready for lane in ex._lanes.values())
         and len(ex._lanes) == (2 if chunked else 0), SPIN_TIMEOUT_S)
    client = ImportingClient(ex)
    outcome: list[Any] = []
    autosave = AutosaveProbe(ex)

    def connect(task: Any) -> None:
        task.finished.connect(outcome.append)
        task.failed.connect(outcome.append)

    t0 = time.perf_counter()
    client.start("dayone", export, identity_id=None, time_format=None, dry_run=False, connect=connect)
    autosave.timer.start()
    spin(lambda: bool(outcome), SPIN_TIMEOUT_S)
    seconds = time.perf_counter() - t0
    autosave.timer.stop()
    spin(autosave.all_landed, SPIN_TIMEOUT_S)
    assert client.shutdown() and ex.shutdown()
    report = outcome[0]
    return {"import_s": round(seconds, 2), "imported": getattr(report, "imported", repr(report)),
            "autosaves": len(autosave.waits), "autosave_wait_median_s": round(statistics.median(autosave.waits), 3),
            "autosave_wait_max_s": round(max(autosave.waits), 3)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--entries", type=int, default=10000)
    ap.add_argument("--json")
    args = ap.parse_args()
    app = QCoreApplication.instance() or QCoreApplication(sys.argv[:1])  # noqa: F841 - the executor's signals need it
    with tempfile.TemporaryDirectory(prefix="mirror-bench-import-") as tmp:
        entries = [dayone_entry(f"E{n}", " ".join(WORDS[(n + k) % len(WORDS)] for k in range(120)),
                                when=f"20{10 + n % 15:02d}-{1 + n % 12:02d}-{1 + n % 28:02d}T10:00:00Z")
                   for n in range(args.entries)]
        export = make_dayone(Path(tmp), entries)
        out = {"entries": args.entries, "one_transaction": run(Path(tmp), export, chunked=False),
               "chunked": run(Path(tmp), export, chunked=True),
               "machine": {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "cpus": os.cpu_count(),
                           "python": platform.python_version(), "load": os.getloadavg()[0]}}
    print(json.dumps(out, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
