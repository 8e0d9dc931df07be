"""Fixtures the bundle tests share."""

from __future__ import annotations

import sys

import pytest

from mirror_desktop.bundle import export as export_mod


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The `mirror` command as a script runs it: a fast work factor, no passphrase or data folder from the
    environment, and no terminal to prompt on."""
    monkeypatch.setattr(export_mod, "default_log2_n", 2)
    monkeypatch.delenv("MIRROR_PASSPHRASE", raising=False)
    monkeypatch.delenv("MIRROR_DATA_DIR", raising=False)
    monkeypatch.setattr(sys.stdin, "isatty", lambda: False, raising=False)
