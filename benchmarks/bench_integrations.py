"""Integration sync: first sync and unchanged re-sync of a notes folder and of a 5-year calendar (issue 14, item 9).

Usage: python benchmarks/bench_integrations.py [--notes 1000 10000] [--years 5] [--json out.json]

Generates a folder of Markdown notes (YAML front matter, #tags, daily-note names, nested folders,
about 1 KB each) and an .ics calendar spanning ``--years`` years (single events in several time
zones plus weekly series, about 5,000 events after expansion). Each measurement runs in a fresh
subprocess on an SQLite journal: ``seconds`` is the sync call alone; ``peak_rss_mib`` is the
process's peak resident size (ru_maxrss) and ``sync_rss_growth_mib`` how much of it the sync added
on top of the process after imports and opening the journal.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

WORDS = ("morning quiet work tension rest drive family walk tired hopeful anxious calm project deadline "
         "friend letter garden rain coffee music reading sleep change choice doubt trust river").split()
ZONES = ("Europe/Berlin", "America/New_York", "Asia/Tokyo", "UTC")


def make_vault(root: Path, n: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    (root / ".obsidian").mkdir(parents=True, exist_ok=True)
    (root / ".obsidian" / "app.json").write_text("{}")
    start = date(2000, 1, 1)
    for i in range(n):
        folder = root / f"area-{i // 200:03d}"
        folder.mkdir(exist_ok=True)
        name = (start + timedelta(days=i)).isoformat() if i % 3 == 0 else f"note {i}"
        tags = rng.sample(WORDS, 2)
        body = " ".join(rng.choice(WORDS) for _ in range(rng.randint(80, 220)))
        (folder / f"{name}.md").write_text(f"---\ntags: [{tags[0]}, {tags[1]}]\nmood: {rng.randint(1, 5)}\n---\n"
                                           f"# {name}\n\n{body} #{rng.choice(WORDS)}\n")
        if i % 50 == 0:
            (folder / f"image-{i}.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))


def make_calendar(path: Path, years: int, seed: int = 2) -> int:
    rng = random.Random(seed)
    end = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    begin = end - timedelta(days=365 * years)
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Mirror bench//EN"]
    singles = 600 * years
    for i in range(singles):
        when = begin + timedelta(minutes=rng.randrange(0, int((end - begin).total_seconds() // 60)))
        zone = rng.choice(ZONES)
        lines += ["BEGIN:VEVENT", f"UID:single-{i}@bench", "DTSTAMP:20250101T000000Z",
                  f"DTSTART;TZID={zone}:{when:%Y%m%dT%H%M00}", f"DTEND;TZID={zone}:{when + timedelta(hours=1):%Y%m%dT%H%M00}",
                  f"SUMMARY:{rng.choice(WORDS).title()} {rng.choice(WORDS)}", f"LOCATION:{rng.choice(WORDS)} room",
                  "END:VEVENT"]
    series = 8
    for j in range(series):
        first = begin + timedelta(days=j, hours=9 + j)
        lines += ["BEGIN:VEVENT", f"UID:series-{j}@bench", "DTSTAMP:20250101T000000Z",
                  f"DTSTART;TZID=Europe/Berlin:{first:%Y%m%dT%H%M00}",
                  f"DTEND;TZID=Europe/Berlin:{first + timedelta(minutes=30):%Y%m%dT%H%M00}",
                  "RRULE:FREQ=WEEKLY", f"SUMMARY:Weekly {j}", "END:VEVENT"]
    lines.append("END:VCALENDAR")
    path.write_text("\r\n".join(lines) + "\r\n")
    return singles + series * 52 * years


CHILD = r"""
import json, resource, sys, time
from pathlib import Path
kind, db, source, days = sys.argv[1], Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])
from mirror_desktop.core.integrations import IntegrationService
from mirror_desktop.integrations.sync import sync_integration
from mirror_desktop.storage.journal import SQLiteStorage
import mirror_desktop.integrations.base as base
base._load_builtin()
import icalendar, recurring_ical_events, frontmatter  # noqa: F401 - imports are not the sync's cost
s = SQLiteStorage(db)
svc = IntegrationService(s)
found = s.integrations.list()
if found:
    iid = found[0].id
elif kind == "notes":
    iid = svc.add("notes", "obsidian", path=source).id
else:
    iid = svc.add("calendar", "ics_file", path=source, look_back_days=days).id
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter()
r = sync_integration(s, iid, timeout=600)
seconds = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
items = s.integration_items.count(integration_id=iid)
s.close()
print(json.dumps({"outcome": r.outcome, "message": r.message, "added": r.added, "unchanged": r.unchanged,
                  "items": items, "seconds": round(seconds, 3), "peak_rss_mib": round(peak / 1024, 1),
                  "sync_rss_growth_mib": round((peak - before) / 1024, 1)}))
"""


def run_child(kind: str, db: Path, source: Path, days: int) -> dict[str, object]:
    out = subprocess.run([sys.executable, "-c", CHILD, kind, str(db), str(source), str(days)],
                         capture_output=True, text=True, check=True, timeout=3600)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--notes", type=int, nargs="+", default=[1000, 10000])
    ap.add_argument("--years", type=int, default=5)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for n in args.notes:
            vault = root / f"vault-{n}"
            make_vault(vault, n)
            db = root / f"notes-{n}.db"
            for phase in ("first sync", "unchanged re-sync"):
                r = run_child("notes", db, vault, 0)
                r.update(source=f"{n:,} notes", phase=phase)
                results.append(r)
                print(json.dumps(r), flush=True)
        cal = root / "calendar.ics"
        expected = make_calendar(cal, args.years)
        db = root / "calendar.db"
        for phase in ("first sync", "unchanged re-sync", "re-sync, file touched"):
            if phase.endswith("touched"):
                cal.write_bytes(cal.read_bytes() + b"\r\n")
            r = run_child("calendar", db, cal, 365 * args.years + 1)
            r.update(source=f"{args.years}-year calendar (~{expected:,} events, {cal.stat().st_size // 1024} KB)", phase=phase)
            results.append(r)
            print(json.dumps(r), flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
