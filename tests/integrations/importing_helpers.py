"""Helpers for the importer tests: the real ``jrnl`` program in a temporary home, Day One exports, snapshots."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 + b"\xff\xd9"


def jrnl_available() -> bool:
    try:
        import jrnl  # noqa: F401
    except ImportError:
        return False
    return True


class Jrnl:
    """The real jrnl (pip ``jrnl``) with its own config and journal under ``home``."""

    def __init__(self, home: Path, timeformat: str = "%Y-%m-%d %H:%M") -> None:
        if not jrnl_available():
            if os.environ.get("MIRROR_CI") == "1":
                pytest.fail("pip jrnl is missing (MIRROR_CI=1: install the test extras)")
            pytest.skip("needs the pip package jrnl (pip install -e '.[test]')")
        self.home = home
        home.mkdir(parents=True, exist_ok=True)
        self.journal = home / "journal.txt"
        self.config = home / "jrnl.yaml"
        self.config.write_text(
            "colors: {body: none, date: none, tags: none, title: none}\n"
            "default_hour: 9\ndefault_minute: 0\neditor: ''\nencrypt: false\nhighlight: false\n"
            f"indent_character: '|'\njournals:\n  default: {self.journal}\nlinewrap: 79\n"
            f"tagsymbols: '@'\ntemplate: false\ntimeformat: '{timeformat}'\nversion: v4.2\n")

    def run(self, *args: str) -> str:
        env = {**os.environ, "HOME": str(self.home), "XDG_CONFIG_HOME": str(self.home / ".config"),
               "XDG_DATA_HOME": str(self.home / ".data"), "NO_COLOR": "1"}
        r = subprocess.run([sys.executable, "-m", "jrnl", "--config-file", str(self.config), *args],
                           capture_output=True, text=True, env=env, timeout=120, stdin=subprocess.DEVNULL)
        assert r.returncode == 0, r.stderr
        return r.stdout

    def write(self, text: str) -> None:
        self.run(text)

    def export_json(self, target: Path) -> Path:
        target.write_text(self.run("--export", "json"), encoding="utf-8")
        return target


def dayone_entry(uuid: str, text: str, when: str = "2021-03-04T10:20:30Z", **extra: Any) -> dict[str, Any]:
    return {"uuid": uuid, "text": text, "creationDate": when, "timeZone": "Europe/Berlin", "starred": False,
            "tags": [], **extra}


def make_dayone(folder: Path, entries: list[dict[str, Any]], media: dict[str, bytes] | None = None, *,
                as_zip: bool = True, journal: str = "Journal.json", raw_json: bytes | None = None) -> Path:
    """A Day One export: ``Journal.json`` and media files, as a folder or a zip beside it."""
    root = folder / "export"
    root.mkdir(parents=True, exist_ok=True)
    data = raw_json if raw_json is not None else json.dumps({"metadata": {"version": "1.0"}, "entries": entries}).encode()
    (root / journal).write_bytes(data)
    for name, content in (media or {}).items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(content)
    if not as_zip:
        return root
    out = folder / "export.zip"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                zf.write(path, path.relative_to(root).as_posix())
    shutil.rmtree(root)
    return out


def snapshot(storage: Any) -> tuple[Any, ...]:
    """Everything an import could change: row counts and every reflection as stored."""
    rows = sorted((r.id, r.content, r.created_at.isoformat(), json.dumps(r.metadata, sort_keys=True))
                  for r in storage.reflections.list())
    return tuple(sorted(storage.counts().items())), tuple(rows)
