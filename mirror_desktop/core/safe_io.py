"""Careful file writes and strict JSON reading, shared by bundles, age files and settings.

RELIABILITY.md: a file is written as a temp file in the same folder, fsynced, renamed over the
target with ``os.replace``, and the folder fsynced, so a crash leaves the complete old file or the
complete new one. JSON from outside (bundles, settings) refuses duplicate keys, NaN/Infinity,
invalid UTF-8 and deep nesting.

Files at rest (RELIABILITY.md): every file Mirror writes is created 0600 and every folder it owns
is 0700, whatever the umask; ``make_private`` fixes what an older version left readable.
"""

from __future__ import annotations

import errno

import json
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

MAX_JSON_DEPTH = 32
PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700
# What a person's journal files must not have: any permission for the group or for others.
_SHARED_BITS = 0o077


def private_umask() -> int:
    """Make this process create files 0600 and folders 0700 from now on; returns the previous umask.

    The command line and the window call it first, so files written by libraries (SQLite's journal,
    -wal and -shm, Qt's settings, VACUUM INTO copies) are private too.
    """
    return os.umask(_SHARED_BITS)


def make_private(path: Path) -> None:
    """Remove group and other permissions from ``path`` (a file or a folder Mirror owns), if any.

    Symlinks are left alone (their target may not be Mirror's); failures are ignored (a file on a
    filesystem without modes, or owned by someone else, is reported by nothing here).
    """
    try:
        st = os.lstat(path)
        if not (st.st_mode & _SHARED_BITS) or os.path.islink(path):
            return
        os.chmod(path, st.st_mode & 0o7700 & ~_SHARED_BITS)
    except OSError:
        pass


def private_dir(folder: Path) -> Path:
    """Create ``folder`` (and missing parents) 0700, or make an existing one 0700; returns it.

    Only the last component is made private: the parents (a home folder, ~/.local/share) are not Mirror's.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
    make_private(folder)
    return folder


def create_private_file(path: Path) -> int:
    """Create ``path`` (it must not exist) 0600 and return a writable descriptor."""
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), PRIVATE_FILE)


def fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable (a no-op where folders cannot be opened, e.g. Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - Windows: os.replace is durable enough there
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomically(target: Path, produce: Callable[[BinaryIO], None],
                     after_temp: Callable[[], None] | None = None) -> None:
    """Write ``target`` through ``produce(fh)``: temp in the same folder → fsync → replace → fsync folder.

    On any failure (a cancel included) the temp file is removed and the old target is untouched.
    ``after_temp`` runs between the fsync and the rename (tests inject faults there).
    """
    target = Path(target)
    folder = target.parent
    import secrets  # here: hashlib and OpenSSL load on the first write, not with the window

    tmp = folder / f".{target.name}.{secrets.token_hex(4)}.tmp"
    try:
        with os.fdopen(create_private_file(tmp), "wb") as out:
            produce(out)
            out.flush()
            os.fsync(out.fileno())
        if after_temp is not None:
            after_temp()
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(folder)


def write_new_file_durably(path: Path, data: bytes) -> None:
    """Create ``path`` (it must not exist, mode 0600) holding ``data``, fsynced: for staging, before a rename."""
    with os.fdopen(create_private_file(path), "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def write_bytes_atomically(target: Path, data: bytes) -> None:
    def produce(out: BinaryIO) -> None:
        out.write(data)

    write_atomically(target, produce)


def sweep_stale(folder: Path, pattern: str, older_than_s: float) -> int:
    """Remove leftovers of killed runs (temp files, staging folders) matching ``pattern`` in ``folder``.

    Only entries untouched for ``older_than_s`` are removed, so a run in progress elsewhere keeps its
    files. Returns how many were removed; failures are ignored (a leftover is untidy, not harmful).
    """
    removed = 0
    cutoff = time.time() - older_than_s
    try:
        entries = list(Path(folder).glob(pattern))
    except OSError:
        return 0
    for entry in entries:
        try:
            if entry.is_symlink() or entry.lstat().st_mtime > cutoff:
                continue
            if entry.is_dir():
                shutil.rmtree(entry)
            else:
                entry.unlink()
            removed += 1
        except OSError:
            continue
    return removed


class StrictJSONError(ValueError):
    """The text is not acceptable JSON; the message says why in a few words."""


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise StrictJSONError(f"the key {k!r} appears twice")
        out[k] = v
    return out


def _reject_constant(name: str) -> Any:
    raise StrictJSONError(f"{name} is not a number JSON allows")


def loads_strict(data: bytes | str) -> Any:
    """Parse JSON, refusing duplicate keys, NaN/Infinity, invalid UTF-8 and nesting deeper than 32."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        value = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_reject_constant)
    except StrictJSONError:
        raise
    except RecursionError:
        # Python's own words ("maximum recursion depth exceeded …") mean nothing to a person.
        raise StrictJSONError("it is nested too deeply") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise StrictJSONError(str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__) from None
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise StrictJSONError("it is nested too deeply")
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)
    return value


def try_flock(fd: int, kind: int) -> bool:
    """Take an advisory lock (fcntl.LOCK_SH or LOCK_EX) without waiting: False when another holds it.

    The journal's open/replace lock and the staging folders' ownership both use it (POSIX only; callers
    check that fcntl exists)."""
    import fcntl

    try:
        fcntl.flock(fd, kind | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            return False
        raise
    return True
