"""Timestamps as SQLite stores them: UTC ISO 8601 text to the millisecond with a Z (peewee-free)."""

from __future__ import annotations

from datetime import datetime, UTC
from typing import Any


def format_sqlite_timestamp(value: datetime) -> str:
    """UTC ISO 8601 to the millisecond with a Z, the one text form timestamps take in SQLite."""
    if value.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def parse_timestamp(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    text = str(value)
    if text[-1:] == "Z":
        return datetime.fromisoformat(text)  # how SQLite stores them: fromisoformat reads the Z as UTC itself
    parsed = datetime.fromisoformat(text)
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
