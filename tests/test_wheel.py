"""A plain (non-editable) wheel carries the migrations and resources as package data."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_ships_migrations_and_resources(tmp_path: Path) -> None:
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
                       capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    wheel = next(tmp_path.glob("mirror_desktop-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for sql in (ROOT / "migrations").rglob("*.sql"):
        assert f"mirror_desktop/migrations/{sql.relative_to(ROOT / 'migrations').as_posix()}" in names
    for res in (ROOT / "resources").rglob("*"):
        if res.is_file() and res.suffix in {".md", ".json", ".svg", ".png", ".qss", ".desktop"}:
            assert f"mirror_desktop/assets/{res.relative_to(ROOT / 'resources').as_posix()}" in names
    # the code loads them through importlib.resources, from the installed package, in any folder
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    code = ("from mirror_desktop.resources import migrations_dir, resource;"
            "print(sorted(p.name for p in migrations_dir('sqlite').iterdir() if p.name.endswith('.sql')));"
            "import mirror_desktop; print(mirror_desktop.__file__)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path,
                       env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"})
    assert r.returncode == 0, r.stderr
    assert "001_core.sql" in r.stdout and str(site) in r.stdout
