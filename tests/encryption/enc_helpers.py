"""Helpers for the encryption tests: a plain journal with a canary word in it."""

from __future__ import annotations

from pathlib import Path

from mirror_desktop.core import models as m
from mirror_desktop.storage.journal import SQLiteStorage

CANARY = "zebracanary7731"


def make_journal(path: Path, n: int = 5, word: str = CANARY) -> Path:
    s = SQLiteStorage(path)
    try:
        ident = s.identities.create(m.Identity(metadata={"name": "me"}))
        for i in range(n):
            s.reflections.create(m.Reflection(f"entry {i} about the garden {word}", identity_id=ident.id))
    finally:
        s.close()
    return path
