"""Private staging folders for plaintext intermediates, and the sweep that removes what a killed run left.

An export or an import decrypts and unpacks into ``<data>/.staging/export-*`` or ``import-*``
(a decrypted ``bundle.zip``, ``bundled.db``, a staged journal). A run killed with SIGKILL cannot
remove them, so every command and every window sweeps ``.staging`` first (``start_session``),
whatever the leftovers' age: a folder is removed unless a live process owns it. Ownership is an
advisory lock (``flock``) the creating process holds on the folder itself for as long as it
uses it; the kernel drops it when that process dies, however it dies.

``start_session`` is also where a process makes itself private: umask 077, the data folder
0700 and the files in it 0600 (shared/RELIABILITY.md, "Files at rest and processes side by side").
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
import time
from pathlib import Path

from mirror_desktop.core.safe_io import make_private, private_dir, private_umask, try_flock
from mirror_desktop.paths import AppPaths

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: staging is swept by age there (no flock)
    fcntl = None  # type: ignore[assignment]

STAGING_DIRNAME = ".staging"
# Without flock (Windows) a leftover is taken for abandoned only after this long.
STALE_WITHOUT_LOCKS_S = 6 * 3600


def staging_root(data_dir: Path) -> Path:
    return Path(data_dir) / STAGING_DIRNAME


def temp_staging_root() -> Path:
    """Where a journal without a data folder (PostgreSQL) stages: a private folder in the temp dir."""
    return Path(tempfile.gettempdir()) / f"mirror-staging-{os.getuid() if hasattr(os, 'getuid') else 'user'}"


class Stage:
    """A staging folder this process owns until ``release()`` (or its death)."""

    def __init__(self, path: Path, fd: int | None) -> None:
        self.path = path
        self._fd = fd
        # Set for an encrypted journal's export or import (issue 19): its plaintext intermediates
        # are overwritten with zeros before they are removed.
        self.wipe = False

    def release(self) -> None:
        """Remove the folder and give up ownership."""
        if self.wipe:
            wipe_tree(self.path)
        shutil.rmtree(self.path, ignore_errors=True)
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def wipe_tree(folder: Path) -> None:
    """Overwrite every file under ``folder`` with zeros (then fsync), so removing it leaves no words in
    those blocks where the file system overwrites in place (not on SSDs or copy-on-write file systems)."""
    for dirpath, _dirs, files in os.walk(folder):
        for name in files:
            try:
                with open(os.path.join(dirpath, name), "r+b", buffering=0) as fh:
                    left = os.fstat(fh.fileno()).st_size
                    while left > 0:
                        left -= fh.write(bytes(min(left, 1 << 20)))
                    os.fsync(fh.fileno())
            except OSError:
                continue


def new_stage(root: Path, prefix: str) -> Stage:
    """A new private folder ``<root>/<prefix>XXXX`` owned (locked) by this process."""
    root = private_dir(Path(root))
    for _ in range(10):
        path = Path(tempfile.mkdtemp(prefix=prefix, dir=root))
        os.chmod(path, 0o700)
        if fcntl is None:  # pragma: no cover
            return Stage(path, None)
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0))
        if try_flock(fd, fcntl.LOCK_EX):
            try:
                same = os.path.samestat(os.fstat(fd), os.stat(path))
            except OSError:
                same = False
            if same:  # not swept by another process between mkdtemp and the lock
                return Stage(path, fd)
        os.close(fd)
    raise OSError(errno.EAGAIN, "could not create a staging folder", str(root))


def sweep_staging(root: Path) -> int:
    """Remove every entry of ``root`` no live process owns; returns how many. Errors are ignored."""
    removed = 0
    try:
        entries = list(Path(root).iterdir())
    except OSError:
        return 0
    for entry in entries:
        try:
            if entry.is_symlink() or not entry.is_dir():
                entry.unlink()
                removed += 1
                continue
            if fcntl is None:  # pragma: no cover
                if entry.stat().st_mtime < time.time() - STALE_WITHOUT_LOCKS_S:
                    shutil.rmtree(entry)
                    removed += 1
                continue
            fd = os.open(entry, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0))
            try:
                if try_flock(fd, fcntl.LOCK_EX):  # nobody owns it: a killed run's leftovers
                    shutil.rmtree(entry)
                    removed += 1
            finally:
                os.close(fd)
        except OSError:
            continue
    return removed


# What Mirror keeps in a data folder; anything else there (a --data-dir shared with other files) is
# not Mirror's to change.
_OWN_NAMES = ("mirror_os", "backups", "constitution", "config", "logs", STAGING_DIRNAME)


def _private_tree(folder: Path, depth: int = 3, *, only_own: bool = False) -> None:
    """Files Mirror wrote before it made them private (an older version): 0600, folders 0700."""
    try:
        entries = list(Path(folder).iterdir())
    except OSError:
        return
    for entry in entries:
        if entry.is_symlink() or (only_own and not entry.name.startswith(_OWN_NAMES)):
            continue
        make_private(entry)
        if depth > 0 and entry.is_dir():
            _private_tree(entry, depth - 1)


def start_command(data_dir: str | Path | None = None, db: str | Path | None = None) -> int:
    """The command line's first step: ``--db FILE`` sweeps the staging folder beside FILE (a folder
    that is not Mirror's is otherwise left as it is); else the data folder's session starts."""
    if db:
        return start_session(journal=Path(db).expanduser())
    paths = AppPaths.resolve(data_dir)
    return start_session(paths.data_dir, also=(paths.config_dir, paths.log_dir))


def start_session(data_dir: Path | None = None, *, also: tuple[Path, ...] = (), journal: Path | None = None) -> int:
    """What every command and every window does first; returns the previous umask.

    Files this process creates from now on are 0600 (folders 0700); the data folder (with what
    Mirror keeps in it) and the folders in ``also`` (its own config and log folders) become
    private; leftovers of killed exports and imports are removed from the staging folders.
    Never raises: a folder that cannot be fixed or swept is left for the next start.
    """
    previous = private_umask()
    roots = [temp_staging_root()]
    if journal is not None:
        roots.insert(0, staging_root(Path(journal).parent))
    if data_dir is not None:
        data = Path(data_dir)
        if data.is_dir() and not data.is_symlink():
            make_private(data)
            _private_tree(data, only_own=True)
        roots.insert(0, staging_root(data))
    for folder in also:
        folder = Path(folder)
        if folder.is_dir() and not folder.is_symlink():
            make_private(folder)
            _private_tree(folder)
    for root in roots:
        sweep_staging(root)
    return previous
