"""Layers point one way (STYLE.md habit 1, issue 10): ui → workers → core → storage/engine/bundle/integrations.

qutebrowser's import check is the model: every import in the package, at any depth (lazy imports inside
functions too), is read from the source and held against the table below, so an arrow that runs the wrong
way fails here with the file and line; and the Qt-free layers are imported in a fresh interpreter to prove
that no PySide6 module is loaded by them.
"""

from __future__ import annotations

import ast
import pathlib
import pkgutil
import subprocess
import sys

import mirror_desktop

ROOT = pathlib.Path(mirror_desktop.__file__).parent
QT_FREE = ("core", "storage", "engine", "bundle", "integrations", "evolution", "sync", "exports", "cli", "keychain", "paths",
           "resources", "version", "logging_setup")
EVERYTHING = {"core", "storage", "engine", "bundle", "integrations", "evolution", "sync", "exports", "render", "workers", "ui",
              "cli", "keychain",
              "paths", "resources", "version", "logging_setup", "app", "__main__", "__init__"}
# What each top-level part of the package may import of the others (itself always).
ALLOWED: dict[str, set[str]] = {
    "keychain": set(),
    "paths": set(),
    "resources": set(),
    "logging_setup": {"paths", "core"},  # core.safe_io: log files are private (0600) like everything else
    "engine": {"resources", "keychain"},
    # The issue 10 arrow: core's services use the engine, bundles and connectors; core.ports is what storage implements.
    "core": {"engine", "bundle", "integrations", "keychain", "resources", "paths"},
    "storage": {"core", "resources", "paths"},
    "bundle": {"core", "storage", "resources", "paths", "keychain"},
    "integrations": {"core", "storage", "resources", "paths", "keychain", "bundle"},  # bundle.safezip: imported zips
    "evolution": {"core", "storage", "engine", "resources", "paths", "keychain"},
    # bundle: the sync key uses the bundles' scrypt work-factor rules (bundle.age, issue 18).
    "sync": {"core", "storage", "bundle", "resources", "paths", "keychain"},
    # Issue 15: exports to other formats (Qt-free); render/ is the PDF writer, QtGui but no widgets.
    "exports": {"core", "storage", "render", "resources", "paths"},
    "render": {"core", "exports", "resources"},
    "workers": {"core", "bundle", "integrations", "evolution", "sync", "exports", "render", "paths", "keychain"},
    "ui": {"workers", "core", "paths", "resources", "version", "keychain"},
    "cli": EVERYTHING - {"ui", "workers", "app", "__main__"},
    "version": {"storage"},
    "app": EVERYTHING,
    "__main__": EVERYTHING,
    "__init__": set(),
}
# Storage implements the ports and returns core's dataclasses; it never calls a use case of core.
STORAGE_MAY_IMPORT_FROM_CORE = {"models", "enums", "errors", "ports", "validation", "search_query", "safe_io"}


def imports(path: pathlib.Path) -> list[tuple[int, str, list[str]]]:
    """(line, module, imported names) for every import statement in the file, at any depth."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name, []) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module, [a.name for a in node.names]))
    return found


def part_of(path: pathlib.Path) -> str:
    rel = path.relative_to(ROOT).parts
    return rel[0].removesuffix(".py")


def violations() -> list[str]:
    bad = []
    for path in sorted(ROOT.rglob("*.py")):
        src = part_of(path)
        where = path.relative_to(ROOT)
        for line, module, names in imports(path):
            top = module.split(".")[0]
            if top in ("peewee", "playhouse") and src != "storage":
                bad.append(f"{where}:{line} imports {module}: peewee lives only in storage/")
            if top in ("PySide6", "shiboken6") and src in QT_FREE and not (src == "version" or src == "logging_setup"):
                bad.append(f"{where}:{line} imports {module}: nothing below workers imports Qt")
            if top != "mirror_desktop":
                continue
            parts = module.split(".")
            if len(parts) == 1:
                continue
            dst = parts[1]
            if dst == src:
                continue
            if dst not in ALLOWED[src]:
                bad.append(f"{where}:{line} imports {module}: {src} may not import {dst}")
            elif src == "storage" and dst == "core" and len(parts) > 2 and parts[2] not in STORAGE_MAY_IMPORT_FROM_CORE:
                bad.append(f"{where}:{line} imports {module}: storage may use core's data and ports, not its services")
            elif src == "ui" and dst == "core" and any(n.endswith("Service") for n in names):
                bad.append(f"{where}:{line} imports {names}: a widget asks its worker client, never a service")
    return bad


def test_every_import_points_down_the_layers() -> None:
    assert violations() == []


def test_the_check_catches_arrows_that_run_the_wrong_way(tmp_path: pathlib.Path, monkeypatch) -> None:
    """The check itself can fail: a module of each forbidden kind is reported."""
    fake = tmp_path / "mirror_desktop"
    for name, text in {
        "core/bad.py": "from mirror_desktop.storage.journal import SQLiteStorage\n",
        "engine/bad.py": "def f():\n    import peewee as pw\n",
        "bundle/bad.py": "from peewee import Model\n",
        "storage/bad.py": "from mirror_desktop.core.services import JournalService\n",
        "ui/bad.py": "from mirror_desktop.core.tensions import TensionService\nfrom mirror_desktop.storage import journal\n",
        "workers/bad.py": "from mirror_desktop.ui import theme\n",
        "core/qt.py": "from PySide6.QtCore import QObject\n",
    }.items():
        (fake / name).parent.mkdir(parents=True, exist_ok=True)
        (fake / name).write_text(text)
    monkeypatch.setattr(sys.modules[__name__], "ROOT", fake)
    found = "\n".join(violations())
    for expected in ("core/bad.py:1 imports mirror_desktop.storage.journal", "engine/bad.py:2 imports peewee",
                     "bundle/bad.py:1 imports peewee", "storage/bad.py:1 imports mirror_desktop.core.services",
                     "ui/bad.py:1 imports ['TensionService']", "ui/bad.py:2 imports mirror_desktop.storage",
                     "workers/bad.py:1 imports mirror_desktop.ui", "core/qt.py:1 imports PySide6.QtCore"):
        assert expected in found


def qt_free_modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(mirror_desktop.__path__, "mirror_desktop."):
        if info.name.split(".")[1] in QT_FREE and not info.name.endswith("__main__"):
            names.append(info.name)
    return sorted(names)


def test_core_layers_never_import_qt() -> None:
    modules = qt_free_modules()
    assert "mirror_desktop.storage.journal" in modules and "mirror_desktop.core.services" in modules
    assert "mirror_desktop.cli.main" in modules and "mirror_desktop.keychain" in modules
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
