"""Encryption fixtures: a plain journal with a few reflections, and quick keys.

Mirror writes scrypt work factor 2**18 (about a second each); in-process tests derive their keys at
2**12, which the salt records, so everything else runs the same code. Subprocess tests use 2**18.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mirror_desktop.core import models as m
from mirror_desktop.storage import cipher
from mirror_desktop.storage.journal import SQLiteStorage

CANARY = "zebracanary7731"


@pytest.fixture(autouse=True)
def quick_kdf(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(cipher, "JOURNAL_LOG2_N", 12)
    yield
    cipher.forget()
    cipher._failures = 0


def make_journal(path: Path, n: int = 5, word: str = CANARY) -> Path:
    s = SQLiteStorage(path)
    try:
        ident = s.identities.create(m.Identity(metadata={"name": "me"}))
        for i in range(n):
            s.reflections.create(m.Reflection(f"entry {i} about the garden {word}", identity_id=ident.id))
    finally:
        s.close()
    return path


@pytest.fixture
def plain_journal(tmp_path: Path) -> Path:
    return make_journal(tmp_path / "data" / "mirror_os.db")
