"""Import from other apps (issue 15, item 7): time and peak memory of `mirror import-from` on generated journals.

Usage: python benchmarks/bench_import.py [--entries 1000,10000] [--photos 100,1000] [--work DIR]

* jrnl: a plain-text journal in jrnl's format (``[YYYY-MM-DD HH:MM] Title`` + body, ``@tags``, a few
  starred), prose from ``prose.py`` (seed 0), ``--entries`` entries each.
* Day One: a JSON export zip with ``--photos`` entries, each with one small real JPEG (made with Qt's
  QImage, 64×48, random colours) referenced by a ``dayone-moment://`` link: every photo becomes an
  attachment in the import's transaction.

Each import runs in a fresh subprocess (``python -m mirror_desktop.cli import-from …`` into a new
journal), so ``ru_maxrss`` is that import's peak; ``RSS over start`` subtracts the peak of the same
child that only opens the new journal (modules loaded, nothing imported). Baselines in the same run:
for jrnl, the real ``jrnl --export json`` reading the same journal (jrnl parsing its own file); for
Day One, extracting the export zip with Python's ``zipfile`` (the least any importer must do).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import zipfile
from datetime import datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

CHILD = r"""
import resource, sys, time
from pathlib import Path
t0 = time.perf_counter()
from mirror_desktop.cli.main import main
if sys.argv[1] == "open-only":
    from mirror_desktop.storage.journal import SQLiteStorage
    from mirror_desktop.core import importing  # noqa: F401 - the same modules as an import
    from mirror_desktop.integrations import dayone, jrnl  # noqa: F401
    SQLiteStorage(Path(sys.argv[2]) / "mirror_os.db").close()
    code = 0
else:
    code = main(["--data-dir", sys.argv[2], "import-from", *sys.argv[3:], "--json"])
print("SECONDS", time.perf_counter() - t0, file=sys.stderr)
print("MAXRSS_KB", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)
sys.exit(code)
"""


def child(*args: str) -> tuple[float, float, dict]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started = time.perf_counter()
    r = subprocess.run([sys.executable, "-c", CHILD, *args], capture_output=True, text=True, env=env, timeout=3600)
    wall = time.perf_counter() - started
    if r.returncode != 0:
        raise SystemExit(f"import failed: {r.stderr}")
    rss = next(int(line.split()[1]) for line in r.stderr.splitlines() if line.startswith("MAXRSS_KB"))
    report = json.loads(r.stdout) if r.stdout.strip() else {}
    return wall, rss / 1024, report


def make_jrnl(path: Path, n: int) -> None:
    from prose import Prose

    rng = random.Random(0)
    prose = Prose(rng)
    topics = ["work", "family", "sleep", "friendship", "decisions", "moving", "health", "creativity"]
    when = datetime(2012, 1, 1, 8, 0)
    with open(path, "w", encoding="utf-8") as out:
        for i in range(n):
            when += timedelta(hours=rng.randint(6, 30), minutes=rng.randint(0, 59))
            text = prose.reflection(rng.randint(40, 160), [rng.choice(topics)])
            title, _, body = text.partition(". ")
            tags = " ".join(f"@{rng.choice(topics)}" for _ in range(rng.randint(0, 2)))
            star = " *" if i % 17 == 0 else ""
            out.write(f"[{when:%Y-%m-%d %H:%M}] {title}.{star}\n{body} {tags}\n\n")


def make_dayone(path: Path, n: int) -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice
    from PySide6.QtGui import QColor, QImage

    rng = random.Random(0)
    entries = []
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for i in range(n):
            img = QImage(64, 48, QImage.Format.Format_RGB32)
            img.fill(QColor(rng.randrange(256), rng.randrange(256), rng.randrange(256)))
            for _ in range(20):
                img.setPixelColor(rng.randrange(64), rng.randrange(48), QColor(rng.randrange(256), 0, 0))
            data = QByteArray()
            buf = QBuffer(data)
            buf.open(QIODevice.OpenModeFlag.WriteOnly)
            img.save(buf, "JPEG", 80)
            md5 = f"{i:032x}"
            ident = f"{i:032X}"
            zf.writestr(f"photos/{md5}.jpeg", bytes(data.data()))
            when = datetime(2015, 1, 1) + timedelta(days=i)
            entries.append({"uuid": f"U{i:031d}", "creationDate": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
                            "timeZone": "Europe/Madrid", "starred": i % 9 == 0, "tags": ["photo"],
                            "text": f"A picture from day {i}.\n\n![](dayone-moment://{ident})\n\nThe light was good.",
                            "photos": [{"identifier": ident, "md5": md5, "type": "jpeg", "orderInEntry": 0}]})
        zf.writestr("Journal.json", json.dumps({"metadata": {"version": "1.0"}, "entries": entries}))


def jrnl_export_seconds(journal: Path, home: Path) -> float:
    cfg = home / "jrnl.yaml"
    cfg.write_text(f"colors: {{body: none, date: none, tags: none, title: none}}\neditor: ''\nencrypt: false\n"
                   f"journals:\n  default: {journal}\ntagsymbols: '@'\ntimeformat: '%Y-%m-%d %H:%M'\n"
                   "version: v4.2\nhighlight: false\nlinewrap: 79\nindent_character: '|'\ntemplate: false\n"
                   "default_hour: 9\ndefault_minute: 0\n")
    env = {**os.environ, "HOME": str(home)}
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "jrnl", "--config-file", str(cfg), "--export", "json"], check=True,
                   env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--entries", default="1000,10000")
    ap.add_argument("--photos", default="100,1000")
    ap.add_argument("--work", type=Path, default=None)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="mirror-bench-import-") as tmp:
        work = args.work or Path(tmp)
        base_s, base_rss, _ = child("open-only", str(work / "empty"))
        print(f"start-up child (opens a journal, loads the modules): {base_s:.2f} s, {base_rss:.0f} MiB peak RSS")
        print("| import | entries | seconds | × baseline | entries/s | peak RSS MiB | RSS over start MiB |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for n in [int(x) for x in args.entries.split(",") if x]:
            journal = work / f"jrnl-{n}.txt"
            make_jrnl(journal, n)
            seconds, rss, report = child("run", str(work / f"j-{n}"), "jrnl", str(journal))
            assert report["imported"] == n, report
            base = jrnl_export_seconds(journal, work)
            print(f"| jrnl text | {n:,} | {seconds:.2f} | {seconds / base:.2f} (jrnl --export json {base:.2f} s) | "
                  f"{n / seconds:,.0f} | {rss:.0f} | {rss - base_rss:.0f} |")
            again, rss2, report2 = child("run", str(work / f"j-{n}"), "jrnl", str(journal))
            assert report2["already_present"] == n, report2
            print(f"| jrnl text, again (all already present) | {n:,} | {again:.2f} | | | {rss2:.0f} | "
                  f"{rss2 - base_rss:.0f} |")
        for n in [int(x) for x in args.photos.split(",") if x]:
            export = work / f"dayone-{n}.zip"
            make_dayone(export, n)
            seconds, rss, report = child("run", str(work / f"d-{n}"), "dayone", str(export))
            assert report["imported"] == n and report["attachments_imported"] == n, report
            started = time.perf_counter()
            with zipfile.ZipFile(export) as zf:
                zf.extractall(work / f"unzipped-{n}")
            base = time.perf_counter() - started
            size = export.stat().st_size / 1024 / 1024
            print(f"| Day One, 1 photo each ({size:.1f} MB zip) | {n:,} | {seconds:.2f} | {seconds / base:.1f} "
                  f"(unzip {base:.2f} s) | {n / seconds:,.0f} | {rss:.0f} | {rss - base_rss:.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
