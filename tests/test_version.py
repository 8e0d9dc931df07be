"""--version and About report the app and schema versions (issue 7, item 3); the CLI's stays Qt-free."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from mirror_desktop import __version__
from mirror_desktop.storage.migrations import load_migrations
from mirror_desktop.version import VersionAction, version_text, versions


def test_versions_name_the_app_and_the_last_shipped_migration() -> None:
    info = versions(include_qt=False)
    assert info["app"] == __version__
    assert info["schema"] == load_migrations("sqlite")[-1].version
    assert "qt" not in info


def test_version_action_prints_every_line_unwrapped(capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser(prog="mirror")
    parser.add_argument("--version", action=VersionAction, prog_name="mirror", include_qt=False)
    with pytest.raises(SystemExit) as exit_info:
        parser.parse_args(["--version"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"mirror {__version__} (schema {load_migrations('sqlite')[-1].version})"
    assert out[1].startswith("Python ")


def test_version_text_never_imports_qt_for_the_cli() -> None:
    code = ("import sys; from mirror_desktop.version import version_text; print(version_text('mirror'));"
            "print(any(m.startswith('PySide6') for m in sys.modules))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().endswith("False")
    assert "(schema " in r.stdout


def test_version_text_includes_qt_when_asked() -> None:
    pytest.importorskip("PySide6")
    assert "Qt " in version_text(include_qt=True)
