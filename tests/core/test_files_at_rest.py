"""Issue 11, item 3: every path Mirror makes is private under the usual umask 022.

shared/RELIABILITY.md, "Files at rest": data folder 0700, every file Mirror writes 0600 (journal,
WAL, backups, logs, settings, bundles), and an existing journal left readable is fixed at open.
The commands run as real processes started under umask 022.
"""

from __future__ import annotations

import logging
import os
import stat
import subprocess
import sys
from pathlib import Path

from mirror_desktop.core.engine_settings import EngineSettingsStore
from mirror_desktop.logging_setup import setup_logging
from mirror_desktop.paths import AppPaths

PASSPHRASE = "a long enough passphrase for the tests"


def mirror(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, MIRROR_PASSPHRASE=PASSPHRASE)
    r = subprocess.run([sys.executable, "-m", "mirror_desktop.cli", *args], capture_output=True, text=True,
                       timeout=300, env=env, cwd=cwd, preexec_fn=lambda: os.umask(0o022))
    assert r.returncode == 0, r.stderr
    return r


def shared_paths(*roots: Path) -> list[str]:
    """Every path under ``roots`` (and the roots) that the group or others may read, write or enter."""
    bad = []
    for root in roots:
        for p in [root, *root.rglob("*")]:
            mode = p.lstat().st_mode
            if mode & 0o077:
                bad.append(f"{p} {stat.filemode(mode)}")
    return bad


def test_every_path_the_command_line_makes_is_private(tmp_path: Path) -> None:
    data = tmp_path / "journal"
    out = tmp_path / "bundles"
    out.mkdir(mode=0o700)
    mirror("--data-dir", str(data), "reflect", "Today I had to be the strong one again.")
    mirror("--data-dir", str(data), "db", "rollback", "--to", "1.0.0")
    mirror("--data-dir", str(data), "db", "migrate")
    mirror("--data-dir", str(data), "export", "--out", str(out))
    mirror("--data-dir", str(data), "export", "--out", str(out), "--no-encrypt")
    bundles = sorted(p.name for p in out.iterdir())
    assert len(bundles) == 2 and any(b.endswith(".zip.age") for b in bundles)
    bundle = next(p for p in out.iterdir() if p.name.endswith(".zip"))
    mirror("--data-dir", str(data), "import", str(bundle), "--replace")
    made = {p.relative_to(data).as_posix() for p in data.rglob("*")}
    assert "mirror_os.db" in made and any(n.startswith("backups/") for n in made)
    assert any(".rollback-" in n for n in made)
    assert shared_paths(data, out) == []


def test_sidecars_logs_and_settings_are_private(tmp_path: Path) -> None:
    from mirror_desktop.storage.journal import SQLiteStorage

    paths = AppPaths.resolve(tmp_path / "journal")
    s = SQLiteStorage(paths.database)
    try:
        s.db.execute_sql("SELECT count(*) FROM reflections").fetchone()
        sidecars = [Path(f"{paths.database}{x}") for x in ("-wal", "-shm")]
        assert all(p.exists() for p in sidecars)
        assert shared_paths(paths.data_dir) == []  # the journal, its WAL and SHM, the lock file
    finally:
        s.close()
    setup = setup_logging(paths, "mirror-test")
    try:
        logging.getLogger("mirror_desktop.test").warning("a log line")
        for h in logging.getLogger().handlers:
            h.flush()
        assert setup.log_file.exists()
    finally:
        setup.close()
    EngineSettingsStore(paths.config_dir).save(EngineSettingsStore(paths.config_dir).load())
    assert (paths.config_dir / "engine.json").exists()
    assert shared_paths(paths.data_dir) == []


def test_an_existing_journal_left_readable_is_made_private_at_open(tmp_path: Path) -> None:
    data = tmp_path / "journal"
    mirror("--data-dir", str(data), "reflect", "An entry written by an older version.")
    # What an older Mirror left under umask 022.
    os.chmod(data, 0o755)
    for p in data.rglob("*"):
        os.chmod(p, 0o755 if p.is_dir() else 0o644)
    assert shared_paths(data)
    mirror("--data-dir", str(data), "db", "status")
    assert shared_paths(data) == []


def test_open_by_file_fixes_the_journal_but_not_a_folder_that_is_not_mirrors(tmp_path: Path) -> None:
    from mirror_desktop.storage.journal import SQLiteStorage

    folder = tmp_path / "documents"
    folder.mkdir(mode=0o755)
    os.chmod(folder, 0o755)
    (folder / "notes.txt").write_text("not Mirror's")
    s = SQLiteStorage(folder / "journal.db")
    s.close()
    os.chmod(folder / "journal.db", 0o644)
    mirror("--db", str(folder / "journal.db"), "db", "status")
    assert stat.S_IMODE((folder / "journal.db").stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o755
    assert stat.S_IMODE((folder / "notes.txt").stat().st_mode) == 0o644
