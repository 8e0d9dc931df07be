"""`mirror encrypt | decrypt | rekey` and the journal's key for every other command (issue 19).

The key of an encrypted journal comes, in this order, from ``--journal-passphrase-file F`` (the global
option, or the subcommand's own), the OS keychain (kept there by ``--keep-in-keychain``: "unlock at
login"), or a prompt on a terminal; without any of them a command stops with one sentence (exit 2).
A wrong passphrase is refused in one sentence and changes nothing; at a prompt each further try
waits longer (1, 2, 4 … seconds), on top of scrypt's own second.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING
import getpass
import sys
from pathlib import Path

from mirror_desktop import keychain
from mirror_desktop.cli.main import CliError
from mirror_desktop.paths import AppPaths
from mirror_desktop.storage import cipher  # no peewee: `mirror --version` stays light

if TYPE_CHECKING:
    from mirror_desktop.storage.cipher_convert import ConversionReport

PROMPT_TRIES = 3
# Commands that find their own keys (or need none); every other command unlocks the journal first.
OWN_KEYS = {"encrypt", "decrypt", "rekey"}


def register(sub: argparse._SubParsersAction) -> None:
    en = sub.add_parser("encrypt", help="encrypt the journal (and its backups) with a passphrase")
    en.add_argument("--passphrase-file", metavar="F", help="read the new passphrase from this file (else a prompt)")
    en.add_argument("--keep-in-keychain", action="store_true", help="keep the key in the OS keychain (unlock at login)")
    en.set_defaults(func=cmd_encrypt)
    de = sub.add_parser("decrypt", help="turn encryption off: the journal becomes a plain SQLite file again")
    de.add_argument("--journal-passphrase-file", dest="sub_passphrase_file", metavar="F",
                    help="the journal's current passphrase, from this file")
    de.set_defaults(func=cmd_decrypt)
    rk = sub.add_parser("rekey", help="change the journal's passphrase")
    rk.add_argument("--passphrase-file", metavar="NEW", help="the new passphrase, from this file (else a prompt)")
    rk.add_argument("--journal-passphrase-file", dest="sub_passphrase_file", metavar="OLD",
                    help="the current passphrase, from this file")
    rk.set_defaults(func=cmd_rekey)


def add_global_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--journal-passphrase-file", metavar="F",
                        help="an encrypted journal's passphrase, read from this file")


def journal_path(args: argparse.Namespace) -> Path | None:
    """The SQLite journal a command is pointed at (None for PostgreSQL)."""
    if getattr(args, "postgres", None):
        return None
    if getattr(args, "db", None):
        return Path(args.db)
    return AppPaths.resolve(getattr(args, "data_dir", None)).database


def _read_passphrase_file(name: str) -> str:
    try:
        text = Path(name).read_text(encoding="utf-8")
    except OSError as exc:
        raise CliError(f"Cannot read the passphrase file {name} ({exc.strerror}); check the path.") from None
    except UnicodeDecodeError:
        raise CliError(f"The passphrase file {name} is not UTF-8 text; save it as text and try again.") from None
    passphrase = text.rstrip("\r\n")  # the newline an editor adds is not part of the passphrase
    if not passphrase:
        raise CliError(cipher.EMPTY_PASSPHRASE)
    return passphrase


def _on_terminal() -> bool:
    return sys.stdin.isatty() and sys.stderr.isatty()


def _from_keychain(path: Path) -> tuple[cipher.JournalKey | None, str]:
    salt = cipher.file_salt(path) or b""
    try:
        stored = keychain.load_journal_key(salt.hex())
    except keychain.KeychainUnavailable as exc:
        return None, str(exc)
    if not stored:
        return None, ""
    try:
        key = cipher.JournalKey(bytes.fromhex(stored), salt)
    except ValueError:
        return None, ""
    return (key, "") if cipher.key_opens(path, key) else (None, "")


def unlock_journal(args: argparse.Namespace, path: Path | None = None,
                   passphrase_file: str | None = None) -> cipher.JournalKey | None:
    """The key of the journal ``args`` point at (remembered for this process), or None for a plain journal."""
    path = path or journal_path(args)
    if path is None or cipher.file_kind(path) not in ("mirror", "encrypted"):
        return None
    cipher.check_openable(path)
    key = cipher.key_for(path)
    if key is not None:
        return key
    passphrase_file = passphrase_file or getattr(args, "journal_passphrase_file", None)
    if passphrase_file:
        return cipher.unlock(path, _read_passphrase_file(passphrase_file))
    key, keychain_trouble = _from_keychain(path)
    if key is not None:
        cipher.remember(key)
        return key
    if _on_terminal():
        for attempt in range(PROMPT_TRIES):
            passphrase = getpass.getpass(f"Passphrase for {path}: ")
            try:
                return cipher.unlock(path, passphrase)
            except cipher.WrongPassphrase:
                if attempt == PROMPT_TRIES - 1:
                    raise
                print("mirror: that passphrase does not open the journal; try again.", file=sys.stderr)
    sentence = cipher.ENCRYPTED_NO_KEY.format(path=path)
    raise cipher.JournalLocked(f"{keychain_trouble[:-1]}, and {sentence[0].lower()}{sentence[1:]}"
                               if keychain_trouble else sentence)


def _new_passphrase(passphrase_file: str | None) -> str:
    if passphrase_file:
        return _read_passphrase_file(passphrase_file)
    if not _on_terminal():
        raise CliError("No new passphrase was given; pass --passphrase-file F or run the command on a terminal.")
    first = getpass.getpass("New passphrase: ")
    if not first:
        raise CliError(cipher.EMPTY_PASSPHRASE)
    if getpass.getpass("The same passphrase again: ") != first:
        raise CliError("The two passphrases differ; nothing was changed, try again.")
    return first


def _sqlite_journal(args: argparse.Namespace) -> Path:
    path = journal_path(args)
    if path is None:
        raise CliError("Encryption at rest is for SQLite journals; a PostgreSQL server encrypts its own storage.")
    if not path.is_file():
        raise CliError(f"There is no journal at {path}; check the path or create a journal first.")
    return path


def _progress(fraction: float, what: str) -> None:
    if _on_terminal():
        print(f"\r{what} … {int(fraction * 100)}%   ", end="", file=sys.stderr, flush=True)


def _report(report: ConversionReport, verb: str) -> None:
    if _on_terminal():
        print(file=sys.stderr)
    print(f"{verb} {report.journal} ({report.rows} rows checked); "
          f"{len(report.copies_converted)} older copies converted.")
    for f in report.copies_failed:
        print(f"mirror: the older copy {f} could not be converted (no key opens it); remove it with "
              "`mirror db purge-backups` if it holds words you want gone.", file=sys.stderr)
    print(report.note)


def _keep(key: cipher.JournalKey) -> None:
    try:
        keychain.store_journal_key(key.salt.hex(), key.raw.hex())
        print("The key is kept in the keychain: the journal unlocks at login.")
    except keychain.KeychainUnavailable as exc:
        print(f"mirror: {exc}", file=sys.stderr)


def cmd_encrypt(args: argparse.Namespace) -> int:
    path = journal_path(args)
    if path is not None and not getattr(args, "db", None) and not path.exists():
        # A data folder without a journal gets a new one first, as every other command does.
        from mirror_desktop.storage.journal import SQLiteStorage

        SQLiteStorage(path).close()
    path = _sqlite_journal(args)
    if cipher.file_kind(path) != "plain":
        cipher.check_openable(path)
        raise CliError(f"The journal {path} is already encrypted; use `mirror rekey` to change its passphrase.")
    key = cipher.new_key(_new_passphrase(args.passphrase_file))
    from mirror_desktop.storage.cipher_convert import convert_journal

    report = convert_journal(path, old_key=None, new_key=key, progress=_progress)
    _report(report, "Encrypted")
    if args.keep_in_keychain:
        _keep(key)
    return 0


def cmd_decrypt(args: argparse.Namespace) -> int:
    path = _sqlite_journal(args)
    if cipher.file_kind(path) == "plain":
        raise CliError(f"The journal {path} is not encrypted; there is nothing to decrypt.")
    key = unlock_journal(args, path, getattr(args, "sub_passphrase_file", None))
    from mirror_desktop.storage.cipher_convert import convert_journal

    report = convert_journal(path, old_key=key, new_key=None, progress=_progress)
    if key is not None:
        keychain.forget_journal_key(key.salt.hex())
    _report(report, "Decrypted")
    return 0


def cmd_rekey(args: argparse.Namespace) -> int:
    path = _sqlite_journal(args)
    if cipher.file_kind(path) == "plain":
        raise CliError(f"The journal {path} is not encrypted; use `mirror encrypt` first.")
    old = unlock_journal(args, path, getattr(args, "sub_passphrase_file", None))
    new = cipher.new_key(_new_passphrase(args.passphrase_file))
    assert old is not None
    kept = False
    try:
        kept = keychain.load_journal_key(old.salt.hex()) is not None
    except keychain.KeychainUnavailable:
        pass
    from mirror_desktop.storage.cipher_convert import convert_journal

    report = convert_journal(path, old_key=old, new_key=new, progress=_progress)
    cipher.forget(old)
    if kept:
        keychain.forget_journal_key(old.salt.hex())
        _keep(new)
    _report(report, "Re-keyed")
    return 0


def unlock_for_command(args: argparse.Namespace) -> None:
    """Before any command that reads the journal: its key, remembered for every open in this process."""
    if getattr(args, "command", None) not in OWN_KEYS:
        unlock_journal(args)
