"""`mirror db status|migrate|rollback|purge-backups` and `mirror search`: the foundation's commands."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from datetime import datetime, time, timedelta

from mirror_desktop.cli.main import CliError, open_journal, print_json
from mirror_desktop.core.enums import Visibility
from mirror_desktop.core.models import SearchFilters
from mirror_desktop.core.search_query import HL_END, HL_START
from mirror_desktop.core.services import identity_by_name_or_id

# More results than anyone reads; also keeps --limit inside SQLite's 64-bit integers.
MAX_SEARCH_LIMIT = 10_000


def register(sub: argparse._SubParsersAction) -> None:
    db = sub.add_parser("db", help="schema status, migrations and rollback")
    dbsub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    st = dbsub.add_parser("status", help="show the schema version and applied migrations")
    st.add_argument("--json", action="store_true")
    st.set_defaults(func=cmd_status)
    dbsub.add_parser("migrate", help="apply pending migrations (after a backup)").set_defaults(func=cmd_migrate)
    rb = dbsub.add_parser("rollback", help="roll the schema back to a version (0 removes every table)")
    rb.add_argument("--to", required=True, metavar="VERSION")
    rb.set_defaults(func=cmd_rollback)
    pb = dbsub.add_parser("purge-backups", help="remove every older copy of the journal (backups, import rollback files)")
    pb.add_argument("--json", action="store_true")
    pb.set_defaults(func=cmd_purge_backups)

    se = sub.add_parser("search", help="search reflections: words, \"phrases\", prefix*, -exclusion")
    se.add_argument("query", nargs="+", metavar="QUERY", help="words, \"phrases\", prefix* and -exclusions")
    _exclusions_are_words(se)
    se.add_argument("--json", action="store_true", help="print results as JSON")
    se.add_argument("--limit", type=int, default=20)
    se.add_argument("--identity", metavar="NAME|ID", help="only this identity's reflections (a name, an id, or Anonymous)")
    se.add_argument("--thread", metavar="ID", help="only reflections in this thread")
    se.add_argument("--since", metavar="YYYY-MM-DD")
    se.add_argument("--until", metavar="YYYY-MM-DD", help="up to and including this day")
    se.add_argument("--visibility")
    se.set_defaults(func=cmd_search)


def _exclusions_are_words(parser: argparse.ArgumentParser) -> None:
    """Let ``mirror search -word`` (and ``mirror search garden -work``) mean an exclusion, as the README shows.

    argparse reads any ``-x`` as an option; search has no one-dash option but -h, so a one-dash
    word that is not a number is read as part of the query instead (issue 11, item 14).
    """
    standard = parser._parse_optional

    def parse_optional(arg_string: str):  # type: ignore[no-untyped-def]
        if arg_string.startswith("-") and not arg_string.startswith("--") and arg_string not in ("-", "-h"):
            return None
        return standard(arg_string)

    parser._parse_optional = parse_optional  # type: ignore[method-assign]


def cmd_status(args: argparse.Namespace) -> int:
    with open_journal(args, migrate=False, read_only_ok=True) as storage:
        st = storage.runner.status()
        if args.json:
            print_json({"location": storage.location, "current_version": st.current_version,
                        "app_version": st.app_version,
                        "applied": [a.__dict__ for a in st.applied],
                        "pending": [p.version for p in st.pending]})
            return 0
        print(f"journal: {storage.location}")
        print(f"schema version: {st.current_version}")
        for a in st.applied:
            print(f"  applied {a.version}  {a.applied_at}  {a.description or ''}  sha256:{(a.checksum or '')[:12]}")
        for p in st.pending:
            print(f"  pending {p.version}  {p.name}  {p.description}")
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    with open_journal(args, migrate=False) as storage:
        before = storage.schema_version()
        done = storage.migrate()
        if done:
            _schema_event(storage, "upgrade", before, storage.schema_version(), done)
        print(f"applied {', '.join(done)}; schema version {storage.schema_version()}" if done
              else f"already at schema version {storage.schema_version()}")
    return 0


def cmd_rollback(args: argparse.Namespace) -> int:
    with open_journal(args, migrate=False) as storage:
        before = storage.schema_version()
        undone = storage.runner.rollback(args.to)
        if undone:
            _schema_event(storage, "downgrade", before, storage.schema_version(), undone)
        print(f"rolled back {', '.join(undone)}; schema version {storage.schema_version()}" if undone
              else f"already at schema version {storage.schema_version()}")
    return 0


def _schema_event(storage: object, kind: str, before: str, after: str, steps: list[str]) -> None:
    """An upgrade or downgrade lifecycle event for a schema change (issue 17), when the table still exists."""
    from mirror_desktop.core.lifecycle import record_schema_change

    problem = record_schema_change(storage, kind, before, after, steps)
    if problem:
        print(f"mirror: {problem}", file=sys.stderr)


def cmd_purge_backups(args: argparse.Namespace) -> int:
    """Older copies of the journal keep deleted reflections: this removes them all."""
    with open_journal(args, migrate=False) as storage:
        from mirror_desktop.core.services import JournalService

        found = storage.backup_files()
        done = JournalService(storage).purge_backups()   # records the deletion event too
    if done.failed:
        raise CliError(f"{len(done.failed)} backup file{'s' if len(done.failed) != 1 else ''} could not be removed "
                       f"(first: {done.failed[0]}); check its permissions and run purge-backups again.")
    if args.json:
        print_json({"removed": len(found), "files": [str(p) for p in done.removed], "bytes": done.bytes})
        return 0
    if not found:
        print("no backups to purge")
    else:
        print(f"purged {len(found)} backup{'s' if len(found) != 1 else ''} ({done.bytes / 1e6:.1f} MB)")
    return 0


def _day(text: str | None, flag: str, end: bool = False) -> datetime | None:
    if text is None:
        return None
    try:
        day = datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        raise CliError(f"{flag} {text!r} is not a date; use YYYY-MM-DD.") from None
    # A day is the person's local day; --until includes the whole of its day.
    try:
        return datetime.combine(day + timedelta(days=1) if end else day, time.min).astimezone()
    except (OverflowError, ValueError):
        raise CliError(f"{flag} {text!r} is out of range; use a date between 0002-01-01 and 9999-12-30.") from None


def cmd_search(args: argparse.Namespace) -> int:
    query = " ".join(args.query).strip()
    if not query:
        raise CliError("Give words to search for, for example: mirror search 'garden walk*'.")
    if not 1 <= args.limit <= MAX_SEARCH_LIMIT:
        raise CliError(f"--limit must be from 1 to {MAX_SEARCH_LIMIT:,} (got {args.limit}).")
    if args.visibility is not None and args.visibility not in {v.value for v in Visibility}:
        raise CliError(f"--visibility {args.visibility!r} is not a visibility; use one of: "
                       f"{', '.join(v.value for v in Visibility)}.")
    filters = SearchFilters(thread_id=args.thread, since=_day(args.since, "--since"),
                            until=_day(args.until, "--until", end=True), visibility=args.visibility)
    with open_journal(args, read_only_ok=True) as storage:
        if args.identity is not None:
            # A name or an id; an unknown one is refused, never a silent empty result (issue 11, item 13).
            ident = identity_by_name_or_id(storage, args.identity)
            filters = replace(filters, identity_id=ident.id if ident else None, anonymous_only=ident is None)
        hits = storage.search(query, filters, limit=args.limit, ranks=args.json)  # only --json prints the rank
    if args.json:
        print_json([{"id": h.reflection_id, "rank": h.rank, "created_at": h.created_at.isoformat(),
                     "identity_id": h.identity_id, "visibility": str(h.reflection.visibility),
                     "snippet": h.snippet.replace(HL_START, "[").replace(HL_END, "]")} for h in hits])
        return 0
    if not hits:
        print("no reflections match")
        return 0
    for h in hits:
        snippet = " ".join(h.snippet.replace(HL_START, "[").replace(HL_END, "]").split())
        when = h.created_at.astimezone()  # the person's clock, as --since/--until read their days
        print(f"{when:%Y-%m-%d %H:%M}  {h.reflection_id[:8]}  {snippet}")
    return 0
