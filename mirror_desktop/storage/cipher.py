"""Encryption at rest for SQLite journals (issue 19): SQLCipher keys, key derivation, and what a file is.

An encrypted journal is an SQLCipher 4 database (AES-256 in CBC mode per 4 KiB page, HMAC-SHA512 per
page) opened through ``sqlcipher3`` with a *raw* key, so SQLCipher's own PBKDF2 never runs on open:

* key derivation: ``scrypt(passphrase, salt, N=2**log2_n, r=8, p=1) -> 32 bytes``, with the bundle's
  work-factor rules (bundle/age.py: Mirror writes 2**18, 256 MiB and about a second; reading checks
  the machine has the memory first and refuses a factor above 2**22). It runs once per unlock; every
  further connection (the executor's readers, backups) reuses the 32-byte key in memory.
* the salt is the file's first 16 bytes, which SQLCipher keeps in plaintext. Mirror chooses it when it
  encrypts: 11 random bytes, the marker ``MRJ`` + a format digit, then the scrypt work factor. So a
  journal says, before any key, that it is Mirror's, which format wrote it and how hard its key is to
  derive; nothing about its words.
* every copy Mirror makes of an encrypted journal (VACUUM INTO backups, export and import copies)
  keeps the journal's salt and key, so one unlock opens them all (``key_for`` finds a key by salt).

Format 1 pins SQLCipher 4's settings (``cipher_compatibility = 4``, 4 KiB pages, AES-256-CBC) with an
HMAC-SHA256 per page (see CIPHER_PRAGMAS); a later SQLCipher with other
defaults writes format 2, which this Mirror refuses in one sentence instead of calling it a wrong key.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from mirror_desktop.core.errors import StorageError

SALT_SIZE = 16
KEY_SIZE = 32
MAGIC = b"MRJ"
FORMAT = 1  # the SQLCipher settings below; a digit after MAGIC in the salt
JOURNAL_LOG2_N = 18  # what Mirror writes (bundle/age.py EXPORT_LOG2_N)
MIN_LOG2_N = 10  # below this a salt byte is not a work factor Mirror would write
MAX_LOG2_N = 22  # bundle/age.py DEFAULT_MAX_LOG2_N: a file must not demand more
SCRYPT_R = 8
SQLITE_MAGIC = b"SQLite format 3\x00"
# Format 1: SQLCipher 4's settings, pinned so a future SQLCipher with other defaults still reads and
# writes format 1 journals, except the page HMAC: HMAC-SHA256 (CPUs hash it in hardware) instead of
# SHA512 cut the cost of reading a page by a third, which search at 100,000 reflections needed to stay
# within 1.3x of a plain journal (BENCHMARKS.md). Both are keyed 256-bit MACs over every page.
CIPHER_PRAGMAS = ("PRAGMA cipher_compatibility = 4", "PRAGMA cipher_hmac_algorithm = HMAC_SHA256")
# Decrypted pages kept per connection: a plain journal's hot pages sit in the OS cache for free, an
# encrypted one's must be decrypted again on every miss of SQLite's own cache (-KiB, as cache_size takes).
ENCRYPTED_CACHE_KIB = 32 * 1024

ENCRYPTED_NO_KEY = ("The journal {path} is encrypted and no passphrase was given; unlock it with "
                    "--journal-passphrase-file F, the keychain (\"unlock at login\") or the prompt.")
WRONG_PASSPHRASE = "The passphrase does not open the journal {path}; nothing was changed, try again."
NOT_MIRROR = ("{path} is an encrypted (SQLCipher) database but not a Mirror journal; choose another file "
              "or restore a backup.")
NEWER_FORMAT = ("The journal {path} was encrypted by a newer Mirror (SQLCipher format {fmt}); update Mirror "
                "to open it.")
NOT_A_DATABASE = "{path} is not a Mirror journal (not an SQLite database); choose another file or restore a backup."
EMPTY_PASSPHRASE = "An empty passphrase cannot protect a journal; choose one with some words in it."


class JournalLocked(StorageError):
    """The journal is encrypted and no key for it is at hand (unlock it first)."""


class WrongPassphrase(StorageError):
    """The passphrase (or key) does not open this journal."""


@dataclass(frozen=True)
class JournalKey:
    """A derived 32-byte SQLCipher key and the salt it belongs to (never logged, never written)."""

    raw: bytes
    salt: bytes

    def __repr__(self) -> str:  # keys never reach a log or a traceback
        return "JournalKey(<hidden>)"

    def pragma_value(self, *, with_salt: bool = False) -> str:
        """SQLCipher's raw-key literal: x'<key>' (salt read from the file) or x'<key><salt>' (new files)."""
        return f"\"x'{self.raw.hex()}{self.salt.hex() if with_salt else ''}'\""

    @property
    def log2_n(self) -> int:
        return self.salt[-1]


def sqlcipher_module():  # type: ignore[no-untyped-def]
    """sqlcipher3's DB-API module, quiet: SQLCipher's own log would print to stderr on every wrong key."""
    try:
        from sqlcipher3 import dbapi2
    except ImportError:
        raise StorageError("Encrypted journals need the sqlcipher3-wheels package; install it with "
                           "pip install sqlcipher3-wheels.") from None
    _quiet(dbapi2)
    return dbapi2


_quiet_done = False


def _quiet(mod) -> None:  # type: ignore[no-untyped-def]
    global _quiet_done
    if _quiet_done:
        return
    con = mod.connect(":memory:")
    try:
        con.execute("PRAGMA cipher_log_level = NONE")
    except mod.Error:
        pass
    finally:
        con.close()
    _quiet_done = True


def new_salt(log2_n: int | None = None) -> bytes:
    n = JOURNAL_LOG2_N if log2_n is None else log2_n
    return os.urandom(SALT_SIZE - len(MAGIC) - 2) + MAGIC + bytes([ord("0") + FORMAT, n])


def is_mirror_salt(salt: bytes) -> bool:
    return len(salt) == SALT_SIZE and salt[11:14] == MAGIC and salt[14:15].isdigit()


def salt_format(salt: bytes) -> int:
    return salt[14] - ord("0")


def scrypt_memory(log2_n: int) -> int:
    return 128 * SCRYPT_R * (1 << log2_n) + 128 * SCRYPT_R * 2


def derive_key(passphrase: str, salt: bytes) -> JournalKey:
    """scrypt(passphrase, salt) with the work factor the salt records; refused when the machine lacks memory."""
    if not passphrase:
        raise StorageError(EMPTY_PASSPHRASE)
    log2_n = salt[-1]
    if not MIN_LOG2_N <= log2_n <= MAX_LOG2_N:
        raise StorageError("The journal asks for a passphrase work factor Mirror does not use; it was not "
                           "encrypted by Mirror.")
    needed = scrypt_memory(log2_n)
    import hashlib  # here: the window asks is_encrypted before its first paint, and needs no OpenSSL for it

    raw = hashlib.scrypt(passphrase.encode("utf-8"), salt=salt, n=1 << log2_n, r=SCRYPT_R, p=1,
                         maxmem=needed + 64 * 1024 * 1024, dklen=KEY_SIZE)
    return JournalKey(raw, salt)


def new_key(passphrase: str, log2_n: int | None = None) -> JournalKey:
    """A key with a fresh salt, for a journal about to be encrypted (or re-keyed)."""
    return derive_key(passphrase, new_salt(log2_n))


def file_salt(path: Path | str) -> bytes | None:
    try:
        with open(path, "rb") as fh:
            head = fh.read(SALT_SIZE)
    except OSError:
        return None
    return head if len(head) == SALT_SIZE else None


def file_kind(path: Path | str) -> str:
    """"missing", "empty", "plain" (SQLite), "mirror" (encrypted by Mirror), "encrypted" (SQLCipher-like, not
    Mirror's salt) or "other" (not a database at all)."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError:
        return "missing"
    if size == 0:
        return "empty"
    head = file_salt(path) or b""
    if head == SQLITE_MAGIC:
        return "plain"
    if is_mirror_salt(head):
        return "mirror"
    # SQLCipher files are whole pages of random-looking bytes; text or another format is not.
    if size % 512 == 0 and size >= 1024 and len(set(head)) >= 12:
        return "encrypted"
    return "other"


def is_encrypted(path: Path | str) -> bool:
    return file_kind(path) in ("mirror", "encrypted")


# -- keys unlocked in this process, found by salt --------------------------------------------------------

_keys: dict[bytes, JournalKey] = {}
# Repeated wrong passphrases wait longer each time (1, 2, 4 … 30 s) before the next scrypt runs.
FAILURE_DELAY_S = 1.0
MAX_FAILURE_DELAY_S = 30.0
_failures = 0
_keys_lock = threading.Lock()


def remember(key: JournalKey) -> None:
    with _keys_lock:
        _keys[key.salt] = key


def forget(key: JournalKey | None = None) -> None:
    """Drop one key (or every key: the window's lock) from this process's memory."""
    with _keys_lock:
        if key is None:
            _keys.clear()
        else:
            _keys.pop(key.salt, None)


def key_for(path: Path | str) -> JournalKey | None:
    salt = file_salt(path)
    if salt is None:
        return None
    with _keys_lock:
        return _keys.get(salt)


def check_openable(path: Path | str) -> None:
    """Before deriving a key: refuse a file Mirror cannot unlock, in one sentence."""
    kind = file_kind(path)
    if kind == "other":
        raise StorageError(NOT_A_DATABASE.format(path=path))
    if kind == "encrypted":
        raise StorageError(NOT_MIRROR.format(path=path))
    if kind == "mirror":
        salt = file_salt(path) or b""
        if salt_format(salt) > FORMAT:
            raise StorageError(NEWER_FORMAT.format(path=path, fmt=salt_format(salt)))


def apply_key(con, key: JournalKey, *, new: bool = False) -> None:  # type: ignore[no-untyped-def]
    """Key a fresh sqlcipher3 connection (before anything else runs on it)."""
    con.execute(f"PRAGMA key = {key.pragma_value(with_salt=new)}")
    for pragma in CIPHER_PRAGMAS:
        con.execute(pragma)


def try_passphrase_kdf(path: Path | str, passphrase: str) -> bool:
    """Whether ``passphrase`` opens ``path`` as a plain SQLCipher database (SQLCipher's own KDF): another
    program's encrypted file, not a Mirror journal."""
    mod = sqlcipher_module()
    con = mod.connect(str(path))
    try:
        con.execute("PRAGMA key = '{}'".format(passphrase.replace("'", "''")))
        con.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return True
    except mod.Error:
        return False
    finally:
        con.close()


def unlock(path: Path | str, passphrase: str) -> JournalKey:
    """Derive the key of the encrypted journal at ``path`` from ``passphrase``, prove it opens it, remember it."""
    if not passphrase:
        raise StorageError(EMPTY_PASSPHRASE)
    path = Path(path)
    kind = file_kind(path)
    if kind == "encrypted" and try_passphrase_kdf(path, passphrase):
        raise StorageError(NOT_MIRROR.format(path=path))
    check_openable(path)
    if kind != "mirror":
        raise StorageError(f"The journal {path} is not encrypted; it opens without a passphrase.")
    global _failures
    if _failures:
        time.sleep(min(FAILURE_DELAY_S * 2 ** (_failures - 1), MAX_FAILURE_DELAY_S))
    key = derive_key(passphrase, file_salt(path) or b"")
    if not key_opens(path, key):
        _failures += 1
        raise WrongPassphrase(WRONG_PASSPHRASE.format(path=path))
    _failures = 0
    remember(key)
    return key


def key_opens(path: Path | str, key: JournalKey) -> bool:
    mod = sqlcipher_module()
    con = mod.connect(f"file:{quote(Path(path).resolve().as_posix())}?mode=ro", uri=True)
    try:
        apply_key(con, key)
        con.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return True
    except mod.Error:
        return False
    finally:
        con.close()
