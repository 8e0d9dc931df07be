"""Issue 11, items 2 and 3, for the window: its start sweeps .staging and makes the data folder private.

The real app runs as a process under umask 022 (a screenshot run: it opens the journal, paints and
exits); before it, a killed import left plaintext in .staging and an older version left the
journal readable by others.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from mirror_desktop.core import models as m
from mirror_desktop.paths import AppPaths
from mirror_desktop.storage.journal import SQLiteStorage

APP = ("import os; os.environ['QT_QPA_PLATFORM']='offscreen'; import sys; "
       "from mirror_desktop.app import main; sys.exit(main(sys.argv[1:]))")


def test_the_window_sweeps_staging_and_makes_its_files_private(tmp_path: Path) -> None:
    paths = AppPaths.resolve(tmp_path / "journal")
    s = SQLiteStorage(paths.database)
    s.reflections.create(m.Reflection(content="an entry"))
    s.close()
    leftover = paths.data_dir / ".staging" / "import-killed"
    leftover.mkdir(parents=True)
    (leftover / "bundled.db").write_bytes(b"plaintext of a bundle, a minute old")
    os.chmod(paths.data_dir, 0o755)
    os.chmod(paths.database, 0o644)
    png = tmp_path / "shot.png"
    proc = subprocess.run([sys.executable, "-c", APP, "--data-dir", str(paths.data_dir), "--screenshot", str(png)],
                          capture_output=True, text=True, timeout=120, preexec_fn=lambda: os.umask(0o022))
    assert proc.returncode == 0, proc.stderr
    assert not leftover.exists()
    shared = [f"{p} {stat.filemode(p.lstat().st_mode)}" for p in [paths.data_dir, *paths.data_dir.rglob("*")]
              if p.lstat().st_mode & 0o077]
    assert shared == []
    made = {p.relative_to(paths.data_dir).as_posix() for p in paths.data_dir.rglob("*")}
    assert "config/settings.ini" in made or any(n.startswith("logs/") for n in made), made
