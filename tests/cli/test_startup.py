"""Start-up loads only what a command needs (issue 12): no engine, peewee or PostgreSQL driver for --version,
no PostgreSQL driver for a command that names no PostgreSQL server. Time is measured in benchmarks/."""

from __future__ import annotations

import json
import subprocess
import sys

PROBE = """
import json, sys
from mirror_desktop.cli.main import main
sys.argv = ['mirror', *json.loads(sys.argv[1])]
try:
    main()
except SystemExit:
    pass
loaded = lambda name: sys.modules.get(name) is not None
print(json.dumps({m: loaded(m) for m in ('peewee', 'psycopg', 'mirror_desktop.engine', 'PySide6')}), file=sys.stderr)
"""


def loaded_by(*argv: str) -> dict[str, bool]:
    r = subprocess.run([sys.executable, "-c", PROBE, json.dumps(list(argv))], capture_output=True, text=True, timeout=60)
    return json.loads(r.stderr.strip().splitlines()[-1])


def test_version_loads_no_database_driver_and_no_engine() -> None:
    assert loaded_by("--version") == {"peewee": False, "psycopg": False, "mirror_desktop.engine": False,
                                      "PySide6": False}


def test_search_on_a_journal_file_skips_the_postgresql_driver(tmp_path) -> None:
    assert loaded_by("--data-dir", str(tmp_path), "search", "river") == {
        "peewee": True, "psycopg": False, "mirror_desktop.engine": False, "PySide6": False}


def test_a_command_that_names_a_postgresql_server_keeps_the_driver(tmp_path) -> None:
    got = loaded_by("--postgres", "postgresql://127.0.0.1:9/none?connect_timeout=1", "db", "status")
    assert got["psycopg"] is True
