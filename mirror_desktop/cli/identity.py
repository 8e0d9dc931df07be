"""`mirror identity list|add|rename`: the selves a journal is written by, from the terminal (issue 16, item 8).

Sync (issue 18) and scripts rely on these: `identity add NAME --json` prints the new id, and every
other command takes a name or an id. Names are unique without case (JournalService refuses a
duplicate in one sentence, exit 2); an identity is never deleted here.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from mirror_desktop.cli.main import CliError, open_journal, print_json
from mirror_desktop.core import models as m
from mirror_desktop.core.errors import MirrorError


def register(sub: argparse._SubParsersAction) -> None:
    ip = sub.add_parser("identity", help="list, add and rename identities")
    isub = ip.add_subparsers(dest="identity_command", metavar="ACTION", required=True)
    ls = isub.add_parser("list", help="the identities, with how many reflections each has")
    ls.add_argument("--json", action="store_true", help="print id, name, color, created_at, reflections as JSON")
    ls.set_defaults(func=cmd_list)
    add = isub.add_parser("add", help="add an identity")
    add.add_argument("name", metavar="NAME")
    add.add_argument("--color", metavar="#RRGGBB", help="its colour in the window (optional)")
    add.add_argument("--json", action="store_true", help="print the new identity as JSON")
    add.set_defaults(func=cmd_add)
    rn = isub.add_parser("rename", help="rename an identity")
    rn.add_argument("id", metavar="ID", help="its id, a unique prefix of the id, or its current name")
    rn.add_argument("name", metavar="NAME", help="the new name")
    rn.add_argument("--json", action="store_true", help="print the renamed identity as JSON")
    rn.set_defaults(func=cmd_rename)


def identity_json(ident: m.Identity, reflections: int | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"id": ident.id, "name": ident.name, "color": ident.color,
                            "created_at": ident.created_at.isoformat(), "updated_at": ident.updated_at.isoformat()}
    if reflections is not None:
        data["reflections"] = reflections
    return data


def cmd_list(args: argparse.Namespace) -> int:
    from mirror_desktop.core.models import SearchFilters

    with open_journal(args, read_only_ok=True) as storage:
        idents = sorted(storage.identities.list(), key=lambda i: i.name.casefold())
        counts = {i.id: int(storage.reflections.count_filtered(SearchFilters(identity_id=i.id))) for i in idents}
        anonymous = int(storage.reflections.count_filtered(SearchFilters(anonymous_only=True)))
    if args.json:
        print_json([identity_json(i, counts[i.id]) for i in idents])
        return 0
    for i in idents:
        sys.stdout.write(f"{i.id[:8]}  {i.name}  ({counts[i.id]} reflections)\n")
    sys.stdout.write(f"{'':8}  Anonymous  ({anonymous} reflections)\n")
    return 0


def _color(text: str | None) -> str | None:
    import re

    if text is None:
        return None
    if not re.fullmatch(r"#[0-9a-fA-F]{6}", text.strip()):
        raise CliError(f"--color takes a colour as #RRGGBB, like #3a7bd5 (got {text!r}); nothing was saved.")
    return text.strip()


def cmd_add(args: argparse.Namespace) -> int:
    from mirror_desktop.core.services import ANONYMOUS_NAME, JournalService

    color = _color(args.color)
    if args.name.strip().casefold() == ANONYMOUS_NAME.casefold():
        raise CliError("“Anonymous” stands for reflections without an identity; choose another name. Nothing was saved.")
    with open_journal(args) as storage:
        try:
            ident = JournalService(storage).create_identity(args.name, color)
        except MirrorError as exc:
            raise CliError(f"{str(exc).rstrip('.')}; nothing was saved.") from None
    if args.json:
        print_json(identity_json(ident, 0))
    else:
        sys.stdout.write(f"Identity “{ident.name}” added ({ident.id}).\n")
    return 0


def cmd_rename(args: argparse.Namespace) -> int:
    from mirror_desktop.core.services import ANONYMOUS_NAME, JournalService, identity_by_name_or_id

    if args.name.strip().casefold() == ANONYMOUS_NAME.casefold():
        raise CliError("“Anonymous” stands for reflections without an identity; choose another name. Nothing was changed.")
    with open_journal(args) as storage:
        try:
            ident = identity_by_name_or_id(storage, args.id)
            if ident is None:
                raise CliError("Anonymous is not an identity and cannot be renamed; nothing was changed.")
            renamed = JournalService(storage).update_identity(ident.id, name=args.name)
        except CliError:
            raise
        except MirrorError as exc:
            raise CliError(f"{str(exc).rstrip('.')}; nothing was changed.") from None
    if args.json:
        print_json(identity_json(renamed))
    else:
        sys.stdout.write(f"Identity {renamed.id[:8]} is now “{renamed.name}”.\n")
    return 0
