"""The README's two commands stay true: CI runs exactly the README's test command."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _block_after(heading: str) -> str:
    text = (ROOT / "README.md").read_text()
    section = text.split(heading, 1)[1]
    return re.search(r"```sh\n(.+?)\n```", section, re.S).group(1).strip()  # type: ignore[union-attr]


def test_ci_runs_the_readme_test_command() -> None:
    command = _block_after("## Run the tests")
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert command in ci, f"{command!r} is not a line of .ci/run"


def test_readme_install_command_starts_the_gui_script() -> None:
    command = _block_after("## Install and start")
    assert "pip install ." in command and command.endswith("mirror-desktop")
    assert 'mirror-desktop = "mirror_desktop.app:main"' in (ROOT / "pyproject.toml").read_text()
