"""Removing secrets from integration configs and settings before they go into any bundle.

Secrets belong in the OS keychain, never in a file (RELIABILITY.md, Secrets), but configs written by
older versions or other tools may still carry them. The rule errs on the side of removal: a key
whose name suggests a credential is dropped with its whole value, and string values that look like
credentials (bearer tokens, JWTs, private keys, URLs with a password) are dropped wherever they sit.
Integrations come back disconnected and marked as needing re-authorisation.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

# Compared against the key with everything but letters and digits removed, lower-cased.
_SECRET_KEY_PARTS = (
    "token", "secret", "password", "passwd", "passphrase", "pwd", "key", "oauth", "auth", "credential",
    "cookie", "session", "bearer", "private", "cert", "signature", "salt", "nonce", "otp", "pin",
    "dsn", "connectionstring", "jwt", "sid", "hmac",
)
_SECRET_KEY_EXACT = {"code", "pass", "client", "clientsecret", "clientid", "refresh", "access"}
_SECRET_VALUE = re.compile(
    r"(?i)^\s*(bearer|basic|token)\s+\S+"          # Authorization header values
    r"|^eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\."  # JWT
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----"
    r"|^(sk|pk|rk|ghp|gho|ghu|ghs|xox[abpr]|ya29|AKIA)[-_.A-Za-z0-9]{8,}"  # well-known token prefixes
)

NEEDS_REAUTH = "needs_reauthorization"
REMOVED_FIELDS = "removed_secret_fields"


def is_secret_key(key: str) -> bool:
    norm = re.sub(r"[^a-z0-9]", "", str(key).lower())
    return norm in _SECRET_KEY_EXACT or any(part in norm for part in _SECRET_KEY_PARTS)


def _clean_url(value: str) -> str:
    try:
        parts = urlsplit(value)
    except ValueError:
        return value
    if parts.scheme and parts.netloc and ("@" in parts.netloc):
        host = parts.netloc.rsplit("@", 1)[1]
        query = "&".join(p for p in parts.query.split("&") if p and not is_secret_key(p.split("=", 1)[0]))
        return urlunsplit((parts.scheme, host, parts.path, query, ""))
    if parts.scheme and parts.query:
        query = "&".join(p for p in parts.query.split("&") if p and not is_secret_key(p.split("=", 1)[0]))
        return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))
    return value


def strip_secrets(value: Any, path: str = "", removed: list[str] | None = None) -> Any:
    """A copy of ``value`` without secret-looking keys or values; ``removed`` collects their paths."""
    removed = [] if removed is None else removed
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            where = f"{path}.{k}" if path else str(k)
            if is_secret_key(str(k)):
                removed.append(where)
                continue
            cleaned = strip_secrets(v, where, removed)
            if cleaned is _DROP:
                removed.append(where)
                continue
            out[k] = cleaned
        return out
    if isinstance(value, list):
        items = []
        for i, v in enumerate(value):
            cleaned = strip_secrets(v, f"{path}[{i}]", removed)
            if cleaned is _DROP:
                removed.append(f"{path}[{i}]")
                continue
            items.append(cleaned)
        return items
    if isinstance(value, str):
        if _SECRET_VALUE.search(value):
            return _DROP
        return _clean_url(value)
    return value


class _Drop:
    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return "<dropped>"


_DROP: Any = _Drop()


def sanitize_integration(config: dict[str, Any], metadata: dict[str, Any] | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """(config without secrets, metadata marked as needing re-authorisation)."""
    removed: list[str] = []
    clean = strip_secrets(config or {}, "", removed)
    meta = strip_secrets(dict(metadata or {}), "", [])
    meta[NEEDS_REAUTH] = True
    meta[REMOVED_FIELDS] = sorted(set(removed))
    return clean, meta
