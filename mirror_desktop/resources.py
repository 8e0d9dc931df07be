"""Locates the data shipped with the app (migrations, resources) through importlib.resources."""

from __future__ import annotations

from importlib import resources
from importlib.abc import Traversable


def migrations_dir(dialect: str) -> Traversable:
    """The folder of migration files for ``dialect`` ("sqlite" or "postgres")."""
    return resources.files("mirror_desktop.migrations") / dialect


def resource(*parts: str) -> Traversable:
    """A file or folder under resources/, e.g. ``resource("constitution", "00_manifesto.md")``."""
    node = resources.files("mirror_desktop.assets")
    for part in parts:
        node = node / part
    return node
