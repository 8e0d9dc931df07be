"""The `mirror` command: the same services as the window, no Qt.

Every failure a user can cause prints one sentence to stderr and exits non-zero; no traceback.
Subcommands live in the modules of this package listed in COMMAND_MODULES, each with ``register(subparsers)``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path
from typing import Any
from collections.abc import Callable, Sequence

from mirror_desktop.core.errors import MirrorError
from mirror_desktop.core.staging import start_command
from mirror_desktop.paths import AppPaths
from mirror_desktop.version import VersionAction

# Modules that add subcommands: each defines register(subparsers) and sets func on its parsers.
COMMAND_MODULES = [
    "mirror_desktop.cli.db",
    "mirror_desktop.cli.bundle",
    "mirror_desktop.cli.tension",
    "mirror_desktop.cli.reflect",
    "mirror_desktop.cli.integration",
    "mirror_desktop.cli.importfrom",
    "mirror_desktop.cli.exportto",
    "mirror_desktop.cli.writing",
    "mirror_desktop.cli.identity",
    "mirror_desktop.cli.encryption",
    "mirror_desktop.cli.sync",
    "mirror_desktop.cli.evolve",
]

EXIT_USER_ERROR = 2
EXIT_FAILURE = 1


class CliError(MirrorError):
    """A command-line problem with one sentence for the user."""


def open_journal(args: argparse.Namespace, *, migrate: bool = True, read_only_ok: bool = False) -> Any:
    """The storage a command was pointed at: --postgres, --db, or <data-dir>/mirror_os.db.

    A data dir that holds no journal yet gets a new, migrated one, so a new user never has to
    run ``db migrate`` by hand. ``read_only_ok``: the command only reads, so a journal file that
    cannot be written is opened read-only instead of refused (issue 11, item 14).
    """
    from mirror_desktop.cli.encryption import unlock_journal
    from mirror_desktop.storage.database import is_read_only
    from mirror_desktop.storage.journal import PostgresStorage, SQLiteStorage

    if getattr(args, "postgres", None):
        return PostgresStorage(args.postgres, migrate=migrate)
    if getattr(args, "db", None):
        path = Path(args.db)
        key = unlock_journal(args, path)  # None for a plain journal (issue 19)
        if read_only_ok and is_read_only(path):
            return SQLiteStorage(path, readonly=True, migrate=migrate, key=key)
        return SQLiteStorage(path, migrate=migrate, create=False, key=key)
    path = AppPaths.resolve(args.data_dir).database
    key = unlock_journal(args, path)
    if read_only_ok and is_read_only(path):
        return SQLiteStorage(path, readonly=True, migrate=migrate, key=key)
    if not migrate or not path.exists():
        return SQLiteStorage(path, migrate=not path.exists(), key=key)
    return _migrated(SQLiteStorage(path, migrate=False, key=key))


def _migrated(storage: Any) -> Any:
    """An older journal brought up to date as a command opens it, with its upgrade event (issue 17)."""
    from mirror_desktop.core.app_version import record_app_version
    from mirror_desktop.core.lifecycle import record_schema_change

    if storage.runner.needs_migration():
        before = storage.schema_version()
        try:
            steps = storage.migrate()
        except BaseException:
            storage.close()
            raise
        problem = record_schema_change(storage, "upgrade", before, storage.schema_version(), steps)
        if problem:
            print(f"mirror: {problem}", file=sys.stderr)
    problem = record_app_version(storage)   # a newer (or older) Mirror opening it: its upgrade event (issue 17)
    if problem:
        print(f"mirror: {problem}", file=sys.stderr)
    return storage


def print_json(value: Any) -> None:
    json.dump(value, sys.stdout, ensure_ascii=False, indent=2, default=str)
    sys.stdout.write("\n")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mirror", description="Mirror: a local-first reflective journal.")
    parser.add_argument("--version", action=VersionAction, prog_name="mirror", include_qt=False)
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--data-dir", metavar="DIR", help="journal folder (default: the platform's data folder, or $MIRROR_DATA_DIR)")
    where.add_argument("--db", metavar="PATH", help="an SQLite journal file")
    where.add_argument("--postgres", metavar="DSN", help="a PostgreSQL journal, e.g. postgresql://user@host/db")
    importlib.import_module("mirror_desktop.cli.encryption").add_global_option(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser



def main(argv: Sequence[str] | None = None) -> int:
    if argv is None:
        from mirror_desktop.storage import skip_unused_postgres_driver

        skip_unused_postgres_driver(sys.argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] | None = getattr(args, "func", None)
    # Private files from here on; plaintext a killed export or import left behind is swept first.
    start_command(args.data_dir, args.db)
    if func is None:
        parser.print_help()
        return EXIT_USER_ERROR
    try:
        # An encrypted journal is unlocked once, before the command: every open in it then finds the key.
        importlib.import_module("mirror_desktop.cli.encryption").unlock_for_command(args)
        return int(func(args) or 0)
    except MirrorError as exc:
        print(f"mirror: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("mirror: interrupted; nothing more was written.", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except OSError as exc:
        where = getattr(exc, "filename", "") or "file system"
        print(f"mirror: {exc.strerror or exc} ({where}); check the path and permissions.", file=sys.stderr)
        return EXIT_FAILURE
    except Exception as exc:
        # A locked, full, read-only or damaged journal is the environment, not a bug: one sentence.
        from mirror_desktop.storage.database import environment_error

        err = environment_error(exc)
        if err is None:
            raise
        print(f"mirror: {err}", file=sys.stderr)
        return EXIT_FAILURE

