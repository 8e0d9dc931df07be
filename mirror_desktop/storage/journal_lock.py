"""Processes side by side on one SQLite journal: a lock file that keeps an import's swap to itself.

``import --replace`` swaps the journal file for another. A process that opened the old file in the
meantime would write into it (its rows lost to the rollback copy) and leave its ``-wal``/``-shm``
under the live name, where the new file would replay them (shared/RELIABILITY.md, "Files at rest
and processes side by side"). So every connection Mirror opens holds a *shared* advisory lock
(``flock``) on ``<journal>.lock`` beside the journal, and a replace holds an *exclusive* one from
its "is anyone else here?" check to the end of the swap:

* a replace while another window or command has the journal open is refused in one sentence;
* a window or command that opens the journal during a replace waits briefly, then is refused.

The lock file itself is empty, 0600, and never removed (removing it would let two processes lock
two different files of the same name). Where locking is impossible (no ``fcntl``, a read-only
folder, which no replace can swap files in either), opening goes ahead unlocked.
"""

from __future__ import annotations

import contextlib
import errno
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from mirror_desktop.core.errors import StorageError
from mirror_desktop.core.safe_io import PRIVATE_FILE, make_private, try_flock

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no advisory locks here; the quiesce checks remain
    fcntl = None  # type: ignore[assignment]

LOCK_SUFFIX = ".lock"
# How long an opener waits for a replace to finish before it gives up (a swap takes milliseconds
# to a few seconds: a WAL checkpoint, a few renames and fsyncs).
OPEN_WAIT_S = 5.0
_POLL_S = 0.05

IN_USE = "The journal is in use by another Mirror window or program; close it and try again."
BEING_REPLACED = ("The journal is being replaced by an import in another Mirror window or program; "
                  "wait until it finishes and open it again.")


def lock_path(journal: Path | str) -> Path:
    journal = Path(journal)
    return journal.with_name(journal.name + LOCK_SUFFIX)


def _open_lock_file(journal: Path | str) -> int | None:
    """A descriptor on the journal's lock file (created 0600), or None where locking is impossible."""
    if fcntl is None:  # pragma: no cover
        return None
    path = lock_path(journal)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), PRIVATE_FILE)
    except OSError as exc:
        if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            return None
        raise
    make_private(path)
    return fd


class SharedJournalLock:
    """The shared lock one database object holds from its first connection until it is closed.

    Not a count of connections: PySide drops a worker thread's Python thread state between slot
    calls, so peewee's per-thread connection is silently replaced (the old one closed when it is
    collected) and a count would never reach zero. The owner's ``close()`` ends the hold; a later
    query reconnects and takes it again.
    """

    def __init__(self, journal: Path | str) -> None:
        self.journal = Path(journal)
        self._fd: int | None = None
        self._held = False
        self._mutex = threading.Lock()

    @property
    def held(self) -> bool:
        return self._held

    def acquire(self) -> bool:
        """Take the lock if not held yet; True when this call took it."""
        with self._mutex:
            if self._held:
                return False
            fd = _open_lock_file(self.journal)
            if fd is not None:
                deadline = time.monotonic() + OPEN_WAIT_S
                while not try_flock(fd, fcntl.LOCK_SH):
                    if time.monotonic() >= deadline:
                        os.close(fd)
                        raise StorageError(BEING_REPLACED)
                    time.sleep(_POLL_S)
            self._fd = fd
            self._held = True
            return True

    def release(self) -> None:
        with self._mutex:
            if self._fd is not None:
                os.close(self._fd)  # closing the descriptor releases the lock
            self._fd = None
            self._held = False


@contextlib.contextmanager
def shared_journal_lock_now(journal: Path | str) -> Iterator[bool]:
    """The shared lock for one short read, without waiting: yields False while a replace holds the journal
    (True where locking is impossible here, as opening goes ahead unlocked then)."""
    fd = _open_lock_file(journal)
    try:
        yield fd is None or try_flock(fd, fcntl.LOCK_SH)
    finally:
        if fd is not None:
            os.close(fd)


@contextlib.contextmanager
def exclusive_journal_lock(journal: Path | str) -> Iterator[None]:
    """Hold the journal to this process alone, or refuse at once (one sentence) if anyone has it open.

    Connections of this same process count as "anyone": close them first.
    """
    fd = _open_lock_file(journal)
    if fd is None:  # pragma: no cover - no locking here; the quiesce checks still refuse an open journal
        yield
        return
    try:
        if not try_flock(fd, fcntl.LOCK_EX):
            raise StorageError(IN_USE)
        yield
    finally:
        os.close(fd)


def discard_lock_file(journal: Path | str) -> None:
    """Remove a lock file this process just created for a journal that then failed to open.

    Only when nobody holds it: a refused open (not a journal, damaged) leaves the folder as it was.
    """
    path = lock_path(journal)
    try:
        fd = os.open(path, os.O_RDWR | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return
    try:
        if fcntl is not None and try_flock(fd, fcntl.LOCK_EX):
            path.unlink(missing_ok=True)
    except OSError:
        pass
    finally:
        os.close(fd)
