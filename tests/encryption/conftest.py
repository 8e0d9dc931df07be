"""Encryption fixtures: a plain journal with a few reflections, and quick keys.

Mirror writes scrypt work factor 2**18 (about a second each); in-process tests derive their keys at
2**12, which the salt records, so everything else runs the same code. Subprocess tests use 2**18.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from enc_helpers import make_journal

from mirror_desktop.storage import cipher


@pytest.fixture(autouse=True)
def quick_kdf(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(cipher, "JOURNAL_LOG2_N", 12)
    yield
    cipher.forget()
    cipher._failures = 0


@pytest.fixture
def plain_journal(tmp_path: Path) -> Path:
    return make_journal(tmp_path / "data" / "mirror_os.db")
