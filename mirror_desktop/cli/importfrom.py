"""`mirror import-from dayone|jrnl|obsidian|rednotebook PATH`: entries of another journaling app (issue 15).

The same ImportService as the window's File → Import from another app…. Prints the report
(imported / skipped with reasons / already present), ``--json`` as one object; ``--dry-run`` reads
and counts without writing. A file Mirror will not read is one sentence on stderr, exit 2, and the
journal exactly as it was (the import is one transaction).
"""

from __future__ import annotations

import argparse

from mirror_desktop.cli.main import open_journal, print_json

APPS = ("dayone", "jrnl", "obsidian", "rednotebook")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("import-from", help="import the entries of Day One, jrnl, Obsidian or RedNotebook")
    p.add_argument("app", choices=APPS, metavar="dayone|jrnl|obsidian|rednotebook", help="the app that wrote PATH")
    p.add_argument("path", metavar="PATH", help="the export, journal file or folder")
    p.add_argument("--identity", metavar="ID", help="the identity the entries belong to (a name or an id; default Anonymous)")
    p.add_argument("--time-format", metavar="FMT", help="jrnl's timeformat, e.g. \"%%Y-%%m-%%d %%H:%%M\" (found on its own when left out)")
    p.add_argument("--dry-run", action="store_true", help="show the report without writing anything")
    p.add_argument("--json", action="store_true", help="the report as one JSON object")
    p.set_defaults(func=cmd_import_from)


def cmd_import_from(args: argparse.Namespace) -> int:
    from mirror_desktop.core.importing import ImportService
    from mirror_desktop.core.services import identity_by_name_or_id

    with open_journal(args) as storage:
        identity = identity_by_name_or_id(storage, args.identity) if args.identity else None
        report = ImportService(storage).run(args.app, args.path, identity_id=identity.id if identity else None,
                                            time_format=args.time_format, dry_run=args.dry_run)
    if args.json:
        print_json(report.to_json())
    else:
        print("\n".join(report.lines()))
    return 0
