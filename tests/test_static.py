"""House style that a machine can check: ruff and mypy on the whole package, ui/ included (issue 10)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_ruff_passes_on_the_package() -> None:
    r = run("ruff", "check", "--no-cache", "mirror_desktop")
    assert r.returncode == 0, r.stdout + r.stderr


def test_mypy_passes_on_the_whole_package() -> None:
    r = run("mypy", "--no-incremental", "mirror_desktop")
    assert r.returncode == 0, r.stdout + r.stderr
