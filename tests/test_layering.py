"""Layers point one way: nothing below workers imports Qt (STYLE.md, habit 1)."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import mirror_desktop

QT_FREE_PACKAGES = ("core", "storage", "engine", "bundle", "integrations")


def qt_free_modules() -> list[str]:
    names = ["mirror_desktop.cli", "mirror_desktop.paths", "mirror_desktop.resources"]
    for info in pkgutil.walk_packages(mirror_desktop.__path__, "mirror_desktop."):
        parts = info.name.split(".")
        if len(parts) > 1 and parts[1] in QT_FREE_PACKAGES:
            names.append(info.name)
        elif parts[1].startswith("cli_"):
            names.append(info.name)
    return sorted(names)


def test_core_layers_never_import_qt() -> None:
    modules = qt_free_modules()
    assert "mirror_desktop.storage.journal" in modules and "mirror_desktop.core.services" in modules
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "qt = sorted(m for m in sys.modules if m.startswith(('PySide6', 'PyQt', 'shiboken')))\n"
        "print(','.join(qt))\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "", f"Qt imported below workers: {r.stdout.strip()}"


def test_peewee_lives_only_in_storage() -> None:
    import pathlib

    root = pathlib.Path(mirror_desktop.__file__).parent
    offenders = [str(p.relative_to(root)) for p in root.rglob("*.py")
                 if "storage" not in p.relative_to(root).parts and "import peewee" in p.read_text()]
    assert offenders == []
