"""`mirror sync setup|now|status|leave`: sync this journal with the person's other devices (issue 18).

The same SyncService as the window's sync worker. ``setup`` takes the server (``--postgres DSN``, the
account's own PostgreSQL role), the sync passphrase (``--passphrase-file F``, $MIRROR_SYNC_PASSPHRASE,
or a prompt) and this device's name; the passphrase's key goes to the keychain and never to the
server. ``now`` prints pushed / pulled / conflicts; ``status`` last_sync, server, device and pending
changes; ``leave`` stops syncing and keeps the journal. ``identities`` lists the other devices' identity
keys received here (counts, the local identity each lands in, answered or not) and ``link KEY NAME|ID``
or ``link KEY --new NAME`` says where one goes (what already landed moves with it). Failures print one sentence: exit 2 for what
the person can fix (wrong passphrase, not set up, a sync already running), 1 for the server.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from typing import Any

from mirror_desktop.cli.main import EXIT_FAILURE, CliError, open_journal, print_json

ENV_PASSPHRASE = "MIRROR_SYNC_PASSPHRASE"


def register(sub: argparse._SubParsersAction) -> None:
    sp = sub.add_parser("sync", help="sync this journal with your other devices through a PostgreSQL server")
    ssub = sp.add_subparsers(dest="sync_command", metavar="ACTION", required=True)

    setup = ssub.add_parser("setup", help="join (or create) your sync account on a server")
    # dest differs from the global --postgres (a PostgreSQL *journal*): this is the sync server.
    setup.add_argument("--postgres", dest="sync_server", required=True, metavar="DSN",
                       help="the sync server as your own PostgreSQL role, e.g. postgresql://alice@host/mirror")
    setup.add_argument("--passphrase-file", metavar="F", help="a file whose first line is the sync passphrase")
    setup.add_argument("--device-name", metavar="N", help="this device's name (default: the computer's name)")
    setup.add_argument("--json", action="store_true")
    setup.set_defaults(func=cmd_setup)

    now = ssub.add_parser("now", help="send and receive changes now")
    now.add_argument("--json", action="store_true")
    now.set_defaults(func=cmd_now)

    st = ssub.add_parser("status", help="last sync, server, device and pending changes")
    st.add_argument("--json", action="store_true")
    st.set_defaults(func=cmd_status)

    ids = ssub.add_parser("identities", help="your other devices' identities received here, their counts and links")
    ids.add_argument("--json", action="store_true")
    ids.set_defaults(func=cmd_identities)

    link = ssub.add_parser("link", help="send another device's identity to one of yours (or to a new one)")
    link.add_argument("key", metavar="KEY", help="the identity key (`mirror sync identities`; a unique beginning is enough)")
    link.add_argument("identity", metavar="NAME|ID", nargs="?", help="one of this journal's identities")
    link.add_argument("--new", metavar="NAME", dest="new_name", help="a new identity of this name instead")
    link.add_argument("--json", action="store_true")
    link.set_defaults(func=cmd_link)

    lv = ssub.add_parser("leave", help="this device stops syncing; its journal stays")
    lv.add_argument("--json", action="store_true")
    lv.set_defaults(func=cmd_leave)


def _service(args: argparse.Namespace) -> Any:
    from mirror_desktop.sync.service import SyncService

    return SyncService(open_journal(args))


def _passphrase(args: argparse.Namespace) -> str:
    from mirror_desktop.sync.service import read_passphrase_file

    if args.passphrase_file:
        return read_passphrase_file(args.passphrase_file)
    env = os.environ.get(ENV_PASSPHRASE)
    if env:
        return env
    if not sys.stdin.isatty():
        raise CliError(f"A sync passphrase is needed: use --passphrase-file F or set {ENV_PASSPHRASE}.")
    first = getpass.getpass("Sync passphrase: ")
    if not first:
        raise CliError("The passphrase is empty; nothing was set up.")
    return first


def _run(fn: Any) -> Any:
    from mirror_desktop.sync.errors import SyncError, SyncUserError

    try:
        return fn()
    except SyncUserError:
        raise
    except SyncError as exc:
        print(f"mirror: {exc}", file=sys.stderr)
        return None


def cmd_setup(args: argparse.Namespace) -> int:
    passphrase = _passphrase(args)
    svc = _service(args)
    result = _run(lambda: svc.setup(args.sync_server, passphrase, device_name=args.device_name,
                                    passphrase_file=args.passphrase_file))
    if result is None:
        return EXIT_FAILURE
    if args.json:
        print_json(result)
    else:
        joined = "created" if result["created_account"] else "joined"
        print(f"This device ({result['device']}) {joined} the sync account {result['account']} on {result['server']}; "
              f"{result['pending_changes']} rows are queued to check at the first sync (`mirror sync now`).")
    return 0


def cmd_now(args: argparse.Namespace) -> int:
    svc = _service(args)
    report = _run(svc.sync_now)
    if report is None:
        return EXIT_FAILURE
    if args.json:
        print_json(report.as_dict())
    else:
        print(report.summary())
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    status = _service(args).status()
    if args.json:
        print_json(status)
    elif not status["enabled"]:
        print("This journal does not sync (`mirror sync setup --postgres DSN` starts).")
    else:
        print(f"Device {status['device']} syncs with {status['server']} as {status['account']}; "
              f"last sync {status['last_sync'] or 'never'}; {status['pending_changes']} changes pending.")
        if status["last_error"]:
            print(f"Last error: {status['last_error']}")
    return 0


def cmd_leave(args: argparse.Namespace) -> int:
    result = _service(args).leave()
    if args.json:
        print_json(result)
    else:
        print(f"This device stopped syncing with {result['left']}; its journal stays as it is.")
    return 0


def cmd_identities(args: argparse.Namespace) -> int:
    svc = _service(args)
    if not svc.is_set_up():
        raise CliError("This journal does not sync (`mirror sync setup --postgres DSN` starts); it has no identities "
                       "from other devices.")
    keys = svc.identity_keys()
    if args.json:
        print_json(keys)
        return 0
    if not keys:
        print("No identity from your other devices has arrived here yet.")
    for k in keys:
        where_to = f"“{k['name']}”" if k["name"] else "nowhere yet"
        asked = "" if k["answered"] else "  (not linked yet: `mirror sync link KEY NAME|ID` or `--new NAME`)"
        print(f"{k['identity_key'][:12]}  {k['reflections']} reflections, {k['tensions']} tensions -> {where_to}{asked}")
    return 0


def cmd_link(args: argparse.Namespace) -> int:
    from mirror_desktop.core.services import identity_by_name_or_id

    if (args.identity is None) == (args.new_name is None):
        raise CliError("Give either one of your identities (NAME or ID) or --new NAME, not both and not neither; "
                       "nothing was changed.")
    svc = _service(args)
    if not svc.is_set_up():
        raise CliError("This journal does not sync (`mirror sync setup --postgres DSN` starts); nothing was linked.")
    key = svc.resolve_identity_key(args.key)
    if args.new_name is not None:
        result = svc.new_identity(key, args.new_name)
    else:
        ident = identity_by_name_or_id(svc.storage, args.identity)
        if ident is None:
            raise CliError("Reflections from another device need one of your identities, not Anonymous; "
                           "nothing was changed.")
        moved = svc.link_identity(key, ident.id)
        result = {"identity_key": key, "identity_id": ident.id, "name": ident.name, "moved": moved}
    if args.json:
        print_json(result)
    else:
        print(f"Reflections of your other devices' identity {key[:12]} now land in “{result['name']}” "
              f"({result['moved']} moved here).")
    return 0
