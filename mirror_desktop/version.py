"""What ``--version`` and Help → About report: app, schema, Python and Qt versions (Qt-free to import)."""

from __future__ import annotations

import argparse
import sys
from typing import Any
from collections.abc import Sequence

from mirror_desktop import __version__


def schema_version() -> str:
    """The schema version this build migrates to: the last shipped SQLite migration's version."""
    # Imported lazily so ``--version`` stays fast and works even if storage cannot load.
    try:
        from mirror_desktop.storage.migrations import load_migrations

        migrations = load_migrations("sqlite")
    except Exception:  # a damaged install still answers --version; say so instead of failing
        return "unknown (migrations not found)"
    return migrations[-1].version if migrations else "0"


def qt_versions() -> dict[str, str]:
    """PySide6 and Qt versions, only if PySide6 is already imported or importable (never required)."""
    try:
        import PySide6
        from PySide6 import QtCore
    except ImportError:
        return {}
    return {"pyside6": PySide6.__version__, "qt": QtCore.qVersion()}


def versions(*, include_qt: bool = True) -> dict[str, str]:
    """``{"app", "schema", "python", "platform"[, "pyside6", "qt"]}``; values are display strings."""
    import platform  # here: only --version needs it

    info = {
        "app": __version__,
        "schema": schema_version(),
        "python": platform.python_version(),
        "platform": f"{platform.system()} {platform.machine()}".strip(),
    }
    if include_qt:
        info.update(qt_versions())
    return info


LABELS = {"app": "Mirror", "schema": "Journal schema", "python": "Python", "pyside6": "PySide6", "qt": "Qt",
          "platform": "Platform"}


def version_text(prog: str = "Mirror", *, include_qt: bool | None = None) -> str:
    """The ``--version`` text: ``Mirror 0.1.0 (schema 1.1.0)`` then one line per component.

    ``include_qt`` defaults to "only if Qt is already loaded", so ``mirror --version`` never imports
    Qt (the CLI is Qt-free) while ``mirror-desktop --version`` reports it.
    """
    if include_qt is None:
        include_qt = "PySide6" in sys.modules
    info = versions(include_qt=include_qt)
    lines = [f"{prog} {info['app']} (schema {info['schema']})",
             f"Python {info['python']} on {info['platform']}"]
    if "qt" in info:
        lines.append(f"PySide6 {info['pyside6']}, Qt {info['qt']}")
    return "\n".join(lines)


class VersionAction(argparse.Action):
    """``--version`` that prints :func:`version_text` verbatim (argparse's own action re-wraps lines).

    Usage: ``parser.add_argument("--version", action=VersionAction, prog_name="Mirror")``.
    """

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS,
                 default: str = argparse.SUPPRESS, prog_name: str = "Mirror", include_qt: bool | None = None,
                 help: str = "print the app and schema versions and exit") -> None:
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)
        self.prog_name = prog_name
        self.include_qt = include_qt

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        print(version_text(self.prog_name, include_qt=self.include_qt))
        parser.exit()


if __name__ == "__main__":  # pragma: no cover
    print(version_text(include_qt=True))
