"""`mirror export` and `mirror import`: the bundle use cases from the command line (issue 5).

The passphrase comes from --passphrase-file, then $MIRROR_PASSPHRASE, then a prompt when stdin is a
terminal. Every failure is one sentence on stderr with a non-zero exit, and nothing changes.
"""

from __future__ import annotations

import argparse
import zipfile
import getpass
import os
import sys
from pathlib import Path

from mirror_desktop.cli.main import CliError, open_journal
from mirror_desktop.paths import AppPaths

ENV_PASSPHRASE = "MIRROR_PASSPHRASE"


def register(sub: argparse._SubParsersAction) -> None:
    ex = sub.add_parser("export", help="write a bundle (zip, age-encrypted unless --no-encrypt) and print its path")
    ex.add_argument("--out", required=True, metavar="DIR", help="folder to write mirror_bundle_YYYYMMDD_HHMMSS.zip[.age] into")
    ex.add_argument("--passphrase-file", metavar="F", help="read the passphrase from the first line of F")
    ex.add_argument("--no-encrypt", action="store_true", help="write a plain zip (anyone with the file can read it)")
    ex.add_argument("--share", action="store_true",
                    help="only what your visibility/sync settings allow to leave this device")
    ex.set_defaults(func=cmd_export)

    im = sub.add_parser("import", help="import a bundle into the journal")
    im.add_argument("bundle", metavar="BUNDLE")
    im.add_argument("--passphrase-file", metavar="F", help="read the passphrase from the first line of F")
    im.add_argument("--allow-slow-passphrase", action="store_true",
                    help="open a bundle whose passphrase check needs more memory and time than Mirror's own "
                         "bundles (age -p files made on a fast machine); only for files you trust")
    how = im.add_mutually_exclusive_group()
    how.add_argument("--merge", dest="mode", action="store_const", const="merge",
                     help="add the bundle's rows to the journal (by id; duplicates skipped, conflicts reported)")
    how.add_argument("--replace", dest="mode", action="store_const", const="replace",
                     help="replace the journal with the bundle's (the old one is kept as a rollback file)")
    # No default for a journal that already holds reflections: the person says which (see cmd_import).
    im.set_defaults(func=cmd_import, mode=None)


def _read_passphrase_file(name: str) -> str:
    try:
        with open(name, encoding="utf-8") as fh:
            line = fh.readline()
    except FileNotFoundError:
        raise CliError(f"The passphrase file {name} does not exist; check the path.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(f"The passphrase file {name} cannot be read ({exc}); check it.") from None
    passphrase = line.rstrip("\r\n")
    if not passphrase:
        raise CliError(f"The passphrase file {name} is empty; put the passphrase on its first line.")
    return passphrase


def passphrase_from(args: argparse.Namespace, *, confirm: bool, required: bool) -> str | None:
    """The passphrase from --passphrase-file, $MIRROR_PASSPHRASE or a prompt.

    ``confirm`` (a new bundle): the same minimum length holds for every source (issue 11, item 6).
    """
    from mirror_desktop.bundle.export import check_new_passphrase

    if getattr(args, "passphrase_file", None):
        passphrase = _read_passphrase_file(args.passphrase_file)
        if confirm:
            check_new_passphrase(passphrase, f"The passphrase in {args.passphrase_file}")
        return passphrase
    env = os.environ.get(ENV_PASSPHRASE)
    if env:
        if confirm:
            check_new_passphrase(env, f"The passphrase in ${ENV_PASSPHRASE}")
        return env
    if not sys.stdin.isatty():
        if required:
            raise CliError("A passphrase is needed: use --passphrase-file F or set MIRROR_PASSPHRASE"
                           + (", or pass --no-encrypt." if confirm else "."))
        return None
    first = getpass.getpass("Bundle passphrase: ")
    if not first:
        raise CliError("The passphrase is empty; nothing was done.")
    if confirm:
        check_new_passphrase(first)
        if getpass.getpass("Repeat the passphrase: ") != first:
            raise CliError("The two passphrases differ; nothing was written.")
    return first


def cmd_export(args: argparse.Namespace) -> int:
    from mirror_desktop.bundle.export import export_bundle

    if args.no_encrypt and args.passphrase_file:
        raise CliError("--no-encrypt and --passphrase-file contradict each other; choose one.")
    out = Path(args.out).expanduser()
    if out.exists() and not out.is_dir():
        raise CliError(f"{out} is a file, not a folder; give --out the folder to write the bundle into.")
    if not out.is_dir():
        raise CliError(f"The folder {out} does not exist; create it or choose another with --out.")
    passphrase = None if args.no_encrypt else passphrase_from(args, confirm=True, required=True)
    paths = AppPaths.resolve(getattr(args, "data_dir", None))
    if not (getattr(args, "db", None) or getattr(args, "postgres", None)) and not paths.database.exists():
        raise CliError(f"There is no journal at {paths.database} to export; check --data-dir.")
    with open_journal(args) as storage:
        result = export_bundle(storage, out, paths=paths, passphrase=passphrase, share=args.share)
    print(result.path)
    return 0


def _own_entries(args: argparse.Namespace, paths: AppPaths) -> str | None:
    """What the target journal holds that the person made, in words; None when it is empty.

    Its default tensions do not count (issue 11, item 8): a new journal takes a bundle as a restore.
    """
    from mirror_desktop.core.services import journal_is_empty

    if not getattr(args, "postgres", None) and not paths.database.exists():
        return None
    with open_journal(args) as storage:
        if journal_is_empty(storage):
            return None
        n = int(storage.reflections.count())
    if n:
        return f"{n} reflection{'s' if n != 1 else ''}"
    return "entries of its own (identities, threads or tensions you changed)"


def cmd_import(args: argparse.Namespace) -> int:
    from mirror_desktop.bundle.errors import SlowPassphraseCheck
    from mirror_desktop.bundle.importer import commit_import, is_encrypted, prepare_import

    bundle = Path(args.bundle).expanduser()
    paths = AppPaths.resolve(getattr(args, "data_dir", None))
    if getattr(args, "db", None):
        raise CliError("import works on a data folder; use --data-dir instead of --db.")
    looks_like_bundle = bundle.is_file() and (is_encrypted(bundle) or zipfile.is_zipfile(bundle))
    if args.mode is None and looks_like_bundle:  # anything else gets the importer's own sentence first
        existing = _own_entries(args, paths)
        if existing:
            raise CliError(f"This journal already holds {existing}; "
                           "add --merge to add the bundle to it, or --replace to swap it in "
                           "(the old journal is kept as a rollback file).")
    if args.mode is None:
        # An empty or new journal becomes an exact copy of the bundled one. A PostgreSQL journal cannot
        # be swapped as a file: the bundle is merged into it (its default tensions matched by seed_key).
        args.mode = "merge" if getattr(args, "postgres", None) else "replace"
    passphrase = passphrase_from(args, confirm=False, required=True) if is_encrypted(bundle) else None
    try:
        prepared = prepare_import(bundle, paths, passphrase=passphrase,
                                  allow_slow_passphrase=args.allow_slow_passphrase)
    except SlowPassphraseCheck as exc:
        raise CliError(f"{str(exc).removesuffix(' Nothing changed.').rstrip('.')}: add --allow-slow-passphrase "
                       "to open it. Nothing changed.") from None
    try:
        if getattr(args, "postgres", None):
            with open_journal(args) as storage:
                result = commit_import(prepared, paths, mode=args.mode, storage=storage)
        else:
            result = commit_import(prepared, paths, mode=args.mode)
    finally:
        # commit_import removes staging itself; this covers a journal that failed to open, so the
        # decrypted copy of the bundle never stays behind in the data folder.
        prepared.discard()
    print(result.summary())
    print(f"journal: {result.journal}")
    if result.rollback_file:
        print(f"previous journal: {result.rollback_file}")
    for table, ids in result.conflicts.items():
        print(f"  left as you have them ({table}): {', '.join(ids[:10])}{' …' if len(ids) > 10 else ''}")
    return 0
