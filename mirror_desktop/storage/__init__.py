"""The storage layer: the only place peewee and SQL live (database factory, models, repositories, migrations)."""

from __future__ import annotations

import sys
from collections.abc import Sequence


def skip_unused_postgres_driver(argv: Sequence[str]) -> None:
    """Load peewee without the PostgreSQL driver when this process will never use it.

    peewee imports psycopg when it loads: 0.37 s of `mirror search`'s 0.64 s, and as much of the window's
    start (issue 12). A command line that names no PostgreSQL server never uses it, so this process gets
    peewee without it. Call it only for a real command line (``main()`` without arguments): a test that
    calls ``main(argv)`` in its own process keeps the driver for the PostgreSQL tests that follow.
    """
    if "psycopg" not in sys.modules and "peewee" not in sys.modules and not any("postgres" in a for a in argv) \
            and _command(argv) != "sync":  # `mirror sync` talks to its PostgreSQL server (issue 18)
        sys.modules["psycopg"] = None  # type: ignore[assignment]  # import psycopg now raises ImportError
        sys.modules["psycopg2"] = None  # type: ignore[assignment]


def _command(argv: Sequence[str]) -> str | None:
    """The subcommand word of a ``mirror`` command line (after the global options and their values)."""
    args = list(argv)
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("--data-dir", "--db", "--postgres"):
            i += 2
            continue
        if a.startswith("-"):
            i += 1
            continue
        return a
    return None
