"""`mirror integration add|list|items|sync|pause|resume|remove`: calendars and notes from scripts (issue 14).

The same IntegrationService and sync code as the window's poller. ``--json`` prints a list (or an
object holding one). A sync that fails prints its one sentence and exits 1; the journal keeps the
items of the last good sync, and nothing typed in Mirror is touched.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date

from mirror_desktop.cli.main import EXIT_FAILURE, CliError, open_journal, print_json


def register(sub: argparse._SubParsersAction) -> None:
    ip = sub.add_parser("integration", help="calendars and notes read into the journal")
    isub = ip.add_subparsers(dest="integration_command", metavar="ACTION", required=True)

    add = isub.add_parser("add", help="connect a calendar or a notes folder")
    add.add_argument("type", metavar="TYPE", help="calendar or notes")
    add.add_argument("--provider", required=True, metavar="P", help="caldav, ics_file, ics_url or obsidian")
    where = add.add_mutually_exclusive_group()
    where.add_argument("--path", metavar="PATH", help="an .ics file or a notes folder")
    where.add_argument("--url", metavar="URL", help="a CalDAV server or an .ics feed (http/https)")
    add.add_argument("--username", metavar="U")
    add.add_argument("--password-file", metavar="F", help="a file whose first line is the password (kept in the keychain "
                     "when there is one, else Mirror remembers the file's path)")
    add.add_argument("--look-back-days", metavar="N", help="days of calendar history to keep in step (default 7)")
    add.add_argument("--every", default="daily", metavar="hourly|daily|manual", help="how often to sync (default daily)")
    add.add_argument("--identity", metavar="ID", help="the identity its notes and events belong to (a name or an id)")
    add.add_argument("--calendar", metavar="NAME", help="only this calendar of a CalDAV account")
    add.add_argument("--auto-reflect", action="store_true", help="start a draft reflection for each new event")
    add.add_argument("--json", action="store_true")
    add.set_defaults(func=cmd_add)

    ls = isub.add_parser("list", help="integrations with status, last sync and item counts")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=cmd_list)

    it = isub.add_parser("items", help="what an integration brought in")
    it.add_argument("id", metavar="ID")
    it.add_argument("--since", metavar="YYYY-MM-DD")
    it.add_argument("--json", action="store_true")
    it.set_defaults(func=cmd_items)

    sy = isub.add_parser("sync", help="sync now (paused and disconnected integrations are skipped)")
    sy.add_argument("ids", nargs="*", metavar="ID")
    sy.add_argument("--all", action="store_true", help="every integration")
    sy.add_argument("--json", action="store_true")
    sy.set_defaults(func=cmd_sync)

    for name, helptext in (("pause", "stop syncing for now"), ("resume", "sync again"), ("remove", "disconnect and forget")):
        p = isub.add_parser(name, help=helptext)
        p.add_argument("id", metavar="ID")
        if name == "resume":
            p.add_argument("--password-file", metavar="F", help="enter the password again (after an import)")
        p.add_argument("--json", action="store_true")
        p.set_defaults(func=cmd_change, action=name)


def _days(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        value = int(text)
    except ValueError:
        raise CliError(f"--look-back-days must be a whole number of days (got {text!r}); nothing was added.") from None
    if not 0 <= value <= 36_500:
        raise CliError(f"--look-back-days must be between 0 and 36500 (got {value}); nothing was added.")
    return value


def cmd_add(args: argparse.Namespace) -> int:
    from mirror_desktop.core.integrations import IntegrationService, IntegrationView

    days = _days(args.look_back_days)
    with open_journal(args) as storage:
        from mirror_desktop.core.services import identity_by_name_or_id

        svc = IntegrationService(storage)
        # A name, an id or a unique id prefix, as every other command's --identity (issue 16).
        identity = identity_by_name_or_id(storage, args.identity) if args.identity else None
        integ = svc.add(args.type, args.provider, path=args.path, url=args.url, username=args.username,
                        password_file=args.password_file, look_back_days=days, every=args.every,
                        identity_id=identity.id if identity else None, auto_reflect=args.auto_reflect,
                        calendar=args.calendar)
    if args.json:
        print_json(IntegrationView(integ, 0, None).to_json())
    else:
        print(integ.id)
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from mirror_desktop.core.integrations import IntegrationService

    with open_journal(args) as storage:
        views = IntegrationService(storage).list_integrations()
    rows = [v.to_json() for v in views]
    if args.json:
        print_json(rows)
        return 0
    if not rows:
        print("No integrations yet; add one with `mirror integration add calendar --provider ics_file --path FILE`.")
    for r in rows:
        where = r["config"].get("path") or r["config"].get("url") or ""
        print(f"{r['id'][:8]}  {r['integration_type']:<8} {r['provider']:<9} {r['status']:<12} "
              f"{r['items']:>6} items  last sync {r['last_sync'] or 'never'}  {where}")
        if r["last_error"] and r["status"] != "active":
            print(f"          {r['last_error']}")
    return 0


def cmd_items(args: argparse.Namespace) -> int:
    from mirror_desktop.core.integrations import IntegrationService, item_to_json

    since = None
    if args.since:
        try:
            since = date.fromisoformat(args.since)
        except ValueError:
            raise CliError(f"--since must be a date like 2025-01-31 (got {args.since!r}).") from None
    with open_journal(args) as storage:
        items = IntegrationService(storage).items(args.id, since=since)
    rows = [item_to_json(i) for i in items]
    if args.json:
        print_json(rows)
        return 0
    for r in rows:
        when = r["starts_at"] or ""
        flag = "  (deleted at the source)" if r["state"] == "deleted_upstream" else ""
        print(f"{when:<21} {r['kind']:<5} {r['title'] or r['external_id']}{flag}")
    return 0


def cmd_sync(args: argparse.Namespace) -> int:
    from mirror_desktop.core.integrations import IntegrationService

    if not args.ids and not args.all:
        raise CliError("Name the integrations to sync (their ids) or give --all.")
    if args.ids and args.all:
        raise CliError("Give integration ids or --all, not both.")
    with open_journal(args) as storage:
        svc = IntegrationService(storage)
        if args.all:
            reports = svc.sync_all()
        else:
            ids = [svc.get(i).id for i in args.ids]  # every id checked before any sync starts
            reports = [svc.sync(i) for i in ids]
    failed = [r for r in reports if r.outcome in ("error", "disconnected", "cancelled")]
    skipped_named = [r for r in reports if r.outcome == "skipped" and args.ids]
    if args.json:
        print_json([{"integration_id": r.integration_id, "outcome": r.outcome, "message": r.message,
                     "added": r.added, "updated": r.updated, "unchanged": r.unchanged, "removed": r.removed,
                     "deleted_upstream": r.deleted_upstream, "conflict_copies": r.conflict_copies,
                     "drafts": r.drafts} for r in reports])
    else:
        for r in reports:
            line = f"{r.integration_id[:8]}  {r.outcome}: {r.summary()}"
            to_stderr = not r.ok and (r.outcome != "skipped" or bool(args.ids))
            print(line, file=sys.stderr if to_stderr else sys.stdout)
    if args.json:
        for r in failed:
            print(f"mirror: {r.message}", file=sys.stderr)
    # A named integration that was skipped (paused, disconnected) did not sync either: non-zero.
    return EXIT_FAILURE if failed or skipped_named else 0


def cmd_change(args: argparse.Namespace) -> int:
    from mirror_desktop.core.integrations import IntegrationService

    with open_journal(args) as storage:
        svc = IntegrationService(storage)
        if args.action == "pause":
            integ = svc.pause(args.id)
        elif args.action == "resume":
            integ = svc.resume(args.id, password_file=args.password_file)
        else:
            integ = svc.remove(args.id)
    if args.json:
        print_json({"id": integ.id, "status": "removed" if args.action == "remove" else str(integ.status)})
    else:
        print(f"{integ.id[:8]} {'removed' if args.action == 'remove' else integ.status}")
    return 0
