"""Helpers for the window tests: write and read the journal through a separate connection."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from collections.abc import Callable

from mirror_desktop.core.services import JournalService
from mirror_desktop.paths import AppPaths
from mirror_desktop.storage.journal import SQLiteStorage


def seed(data_dir: Path, fn: Callable[[JournalService], Any]) -> Any:
    """Write test data through a separate connection, as another process would."""
    storage = SQLiteStorage(AppPaths.resolve(data_dir).database)
    try:
        return fn(JournalService(storage))
    finally:
        storage.close()


def read(data_dir: Path, fn: Callable[[JournalService], Any]) -> Any:
    return seed(data_dir, fn)
