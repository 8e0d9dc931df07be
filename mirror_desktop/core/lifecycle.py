"""Lifecycle events (spec 12) and their signatures: the one door every part of Mirror records an event through.

Issue 17, item 5. ``record_event(storage, event_type, event_data, ...)`` writes an ``evolution_events``
row with a ``mirror_signature``: an Ed25519 signature (cryptography) over the canonical event
(sorted-key JSON of id, type, versions, data and timestamp; ``sync_allowed`` is left out so consent can
change later without re-signing). Each journal has its own key: the private half in the OS keychain,
or where none exists a 0600 file in ``<journal folder>/config/keys/``; the public half travels in the
journal itself, on the first event the key signs (its signature ends ``:<public key>``; usually
the ``installation`` event; after an import, the first event this device writes into that journal).
History rows (spec 11) are signed the same way, in ``metadata.signature``. ``verify(storage)``
checks every signature and names the rows that fail.

Events never hold content: counts, versions, names of settings, platform facts. ``sync_allowed`` is
false unless the person consented: per record (``set_sync_allowed``) or for every new event
(``set_telemetry_consent``, itself a ``config_change`` event).
"""

from __future__ import annotations

import base64
import errno
import hashlib
import json
import logging
import os
import platform
import sys
import threading
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mirror_desktop import keychain
from mirror_desktop.core import models as m
from mirror_desktop.core.enums import LifecycleEventType
from mirror_desktop.core.errors import MirrorError, StorageError
from mirror_desktop.core.safe_io import private_dir, write_bytes_atomically

SIGNATURE_PREFIX = "ed25519"
log = logging.getLogger(__name__)
_KEYCHAIN_USER = "journal-signing-key:{kid}"
_lock = threading.Lock()


class SignatureError(MirrorError):
    """A row's signature does not verify; the message names it."""


# -- canonical forms ------------------------------------------------------------------------------

def _stamp(value: datetime) -> str:
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def _ms(value: datetime) -> datetime:
    """Timestamps are signed to the millisecond, the precision SQLite keeps."""
    return value.replace(microsecond=(value.microsecond // 1000) * 1000)


def canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False,
                      default=str).encode("utf-8")


def canonical_event(ev: m.EvolutionEvent) -> bytes:
    """What an event's signature covers (not ``sync_allowed``, not the signature itself)."""
    return canonical({"id": ev.id, "event_type": str(ev.event_type), "from_version": ev.from_version,
                      "to_version": ev.to_version, "event_data": ev.event_data, "timestamp": _stamp(ev.timestamp)})


def canonical_history(row: m.EvolutionHistory) -> bytes:
    """What a history row's signature covers: every column, and its metadata without the signature."""
    meta = {k: v for k, v in (row.metadata or {}).items() if k != "signature"}
    return canonical({"id": row.id, "evolution_id": row.evolution_id, "event_type": str(row.event_type),
                      "from_version": row.from_version, "to_version": row.to_version,
                      "applied_at": _stamp(row.applied_at), "applied_by": row.applied_by,
                      "reversible": bool(row.reversible), "metadata": meta})


# -- keys -------------------------------------------------------------------------------------------

def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def key_id(public_raw: bytes) -> str:
    return hashlib.sha256(public_raw).hexdigest()[:16]


def key_folder(storage: Any) -> Path:
    """Where a journal's private key file lives when no keychain keeps it: beside the journal, 0700."""
    path = getattr(storage, "path", None)
    if path and str(path) != ":memory:":
        return Path(path).parent / "config" / "keys"
    from mirror_desktop.paths import AppPaths

    return AppPaths.resolve().config_dir / "keys"


@dataclass
class _Signer:
    kid: str
    private: Any   # Ed25519PrivateKey

    def sign(self, data: bytes, *, introduce: str | None = None) -> str:
        """``ed25519:<key id>:<signature>``, plus ``:<public key>`` on the event that introduces the key."""
        sig = f"{SIGNATURE_PREFIX}:{self.kid}:{_b64(self.private.sign(data))}"
        return f"{sig}:{introduce}" if introduce else sig


def _load_private(storage: Any, kid: str, public_b64: str) -> Any | None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    raw: bytes | None = None
    secret = keychain.load_named_secret(_KEYCHAIN_USER.format(kid=kid))
    if secret:
        raw = _unb64(secret)
    else:
        try:
            raw = _unb64((key_folder(storage) / f"{kid}.key").read_text("ascii").strip())
        except (OSError, ValueError):
            return None
    try:
        key = Ed25519PrivateKey.from_private_bytes(raw)
    except ValueError:
        return None
    pub = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return key if _b64(pub) == public_b64 else None


def _keep_private(storage: Any, kid: str, key: Any) -> str:
    from cryptography.hazmat.primitives import serialization

    raw = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    if keychain.store_named_secret(_KEYCHAIN_USER.format(kid=kid), _b64(raw)):
        return "keychain"
    try:
        folder = private_dir(key_folder(storage))
        target = folder / f"{kid}.key"
        write_bytes_atomically(target, _b64(raw).encode("ascii"))
        os.chmod(target, 0o600)
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise StorageError("The disk is full; free some space and try again. Nothing more was written.") from None
        raise
    return "file"


def known_keys(storage: Any) -> dict[str, str]:
    """key id → public key (base64url) for every key this journal's events introduced."""
    keys: dict[str, str] = {}
    for ev in storage.evolution_events.list():
        parts = (ev.mirror_signature or "").split(":")
        if len(parts) == 4 and parts[0] == SIGNATURE_PREFIX:
            try:
                if key_id(_unb64(parts[3])) == parts[1]:
                    keys[parts[1]] = parts[3]
            except ValueError:
                continue
    return keys


def _signer(storage: Any) -> _Signer:
    """This device's key for the journal; a new key travels in the next event written (``_new_key_fields``)."""
    cached = getattr(storage, "_mirror_signer", None)
    # Still one of this journal's keys? (A journal replaced by an import under the same connection is not.)
    if cached is not None and (getattr(storage, "_mirror_new_key", None) or cached.kid in known_keys(storage)):
        return cached
    with _lock:
        for kid, pub in reversed(list(known_keys(storage).items())):
            key = _load_private(storage, kid, pub)
            if key is not None:
                signer = _Signer(kid, key)
                storage._mirror_signer = signer
                storage._mirror_new_key = None
                return signer
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        key = Ed25519PrivateKey.generate()
        pub_raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        signer = _Signer(key_id(pub_raw), key)
        where = _keep_private(storage, signer.kid, key)
        # The public half goes into the next event this journal records (no event of its own, so an
        # export or an import adds exactly its one event).
        storage._mirror_new_key = {"signing_key": _b64(pub_raw), "key_id": signer.kid, "key_kept_in": where}
        log.info("a new signing key for this journal is kept in the %s", where)
        storage._mirror_signer = signer
        return signer


def _new_key_fields(storage: Any) -> dict[str, Any]:
    fields = getattr(storage, "_mirror_new_key", None) or {}
    storage._mirror_new_key = None
    return dict(fields)


def _app_version() -> str | None:
    try:
        from mirror_desktop import __version__

        return str(__version__)
    except Exception:  # noqa: BLE001 - a version is context, never a reason to lose an event
        return None


def installation_data(initial_mode: str) -> dict[str, Any]:
    """The spec's installation fields: platform facts and the engine mode, no content."""
    return {"install_type": "fresh", "platform": sys.platform, "os": platform.system().lower() or sys.platform,
            "python_version": f"{sys.version_info.major}.{sys.version_info.minor}", "initial_mode": initial_mode,
            "user_context": "personal"}


def _installation(storage: Any) -> m.EvolutionEvent | None:
    for ev in storage.evolution_events.list(event_type=LifecycleEventType.INSTALLATION.value):
        if "platform" in (ev.event_data or {}):
            return ev
    return None


def ensure_installation(storage: Any, initial_mode: str = "manual") -> m.EvolutionEvent:
    """The journal's ``installation`` event, written once (with the journal's signing key)."""
    found = _installation(storage)
    if found is not None:
        return found
    from mirror_desktop.core.app_version import remember_app_version

    remember_app_version(storage)   # later app version changes are compared with this one
    return record_event(storage, LifecycleEventType.INSTALLATION, installation_data(initial_mode))


# -- writing ------------------------------------------------------------------------------------------

def telemetry_consent(storage: Any) -> bool:
    """The person's global choice for new events (the latest consent ``config_change``); default no."""
    for ev in reversed(storage.evolution_events.list(event_type=LifecycleEventType.CONFIG_CHANGE.value)):
        data = ev.event_data or {}
        if data.get("change") == "telemetry_consent":
            return data.get("share") is True
    return False


def _write(storage: Any, signer: _Signer, kind: LifecycleEventType | str, data: dict[str, Any],
           from_version: str | None, to_version: str | None, sync_allowed: bool) -> m.EvolutionEvent:
    ev = m.EvolutionEvent(event_type=LifecycleEventType(str(kind)), event_data=dict(data), from_version=from_version,
                          to_version=to_version, sync_allowed=bool(sync_allowed))
    ev.timestamp = _ms(ev.timestamp)
    # A new key's public half rides on the first event it signs (event_data stays the event's own).
    ev.mirror_signature = signer.sign(canonical_event(ev), introduce=_new_key_fields(storage).get("signing_key"))
    return storage.evolution_events.create(ev)


def record_event(storage: Any, event_type: LifecycleEventType | str, event_data: dict[str, Any] | None = None, *,
                 from_version: str | None = None, to_version: str | None = None,
                 sync_allowed: bool | None = None) -> m.EvolutionEvent:
    """Write one signed lifecycle event; the one function every part of Mirror calls (issue 17).

    ``event_type``: a LifecycleEventType or its value (installation, deletion, fork, regression,
    integration_add, integration_remove, upgrade, downgrade, config_change, export, import).
    ``event_data``: counts, versions and names only, never a reflection's words. ``sync_allowed``
    None follows the journal's global consent (off unless the person said yes).
    """
    kind = LifecycleEventType(str(event_type))
    signer = _signer(storage)
    share = telemetry_consent(storage) if sync_allowed is None else bool(sync_allowed)
    return _write(storage, signer, kind, dict(event_data or {}), from_version, to_version, share)


def record_event_quietly(storage: Any, event_type: LifecycleEventType | str, event_data: dict[str, Any]) -> bool:
    """``record_event`` for the record of something already done (a deletion, an export): if the event cannot be
    written (a keychain that refuses the signing key, a read-only journal) the deed stands and this is logged."""
    try:
        record_event(storage, event_type, event_data)
    except Exception as exc:  # noqa: BLE001 - the deed is done; only its record is missing
        log.warning("a %s event was not recorded (%s)", event_type, type(exc).__name__)
        return False
    return True


def sign_history(storage: Any, row: m.EvolutionHistory) -> m.EvolutionHistory:
    """``row`` with ``metadata.signature`` set (call before creating it)."""
    row.applied_at = _ms(row.applied_at)
    meta = dict(row.metadata or {})
    meta.pop("signature", None)
    row.metadata = meta
    signer = _signer(storage)
    if getattr(storage, "_mirror_new_key", None):   # a history row cannot introduce a key: an event does first
        _write(storage, signer, LifecycleEventType.CONFIG_CHANGE, {"change": "signing_key"}, None, _app_version(), False)
    meta["signature"] = signer.sign(canonical_history(row))
    return row


# -- consent ------------------------------------------------------------------------------------------

_CONSENT_TABLES = ("engine_runs", "engine_feedback", "evolution_events")


def set_telemetry_consent(storage: Any, share: bool) -> m.EvolutionEvent:
    """The global choice for new events, recorded as a ``config_change`` event (which follows it)."""
    return record_event(storage, LifecycleEventType.CONFIG_CHANGE, {"change": "telemetry_consent", "share": bool(share)},
                        sync_allowed=bool(share))


def set_sync_allowed(storage: Any, table: str, row_id: str, allowed: bool) -> Any:
    """Per-record consent: mark one engine run, feedback or event shareable (or not)."""
    from dataclasses import replace

    if table not in _CONSENT_TABLES:
        raise MirrorError(f"Consent is given per engine run, feedback or event, not for {table}; "
                          f"use one of {', '.join(_CONSENT_TABLES)}.")
    repo = getattr(storage, table)
    row = repo.get(row_id)
    if table == "engine_feedback" and allowed and (row.notes or "").strip():
        raise MirrorError("Feedback with notes stays on this device (notes are your own words); "
                          "remove the notes to share it.")
    return repo.update(replace(row, sync_allowed=bool(allowed)))


# -- verifying ------------------------------------------------------------------------------------------

@dataclass
class VerifyReport:
    """What ``verify`` found: rows whose signature fails, rows without one, and what was checked."""

    checked_events: int = 0
    checked_history: int = 0
    failures: list[dict[str, str]] = field(default_factory=list)   # {"table", "id", "reason"}
    unsigned: list[dict[str, str]] = field(default_factory=list)
    local_key: str | None = None

    @property
    def ok(self) -> bool:
        return not self.failures

    def to_json(self) -> dict[str, Any]:
        return asdict(self) | {"ok": self.ok}


def _check(sig: str | None, data: bytes, keys: dict[str, str]) -> str | None:
    """None when ``sig`` verifies; else the reason in a few words."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    parts = (sig or "").split(":")
    if len(parts) not in (3, 4) or parts[0] != SIGNATURE_PREFIX:
        return "its signature is not an Ed25519 signature Mirror wrote"
    pub = keys.get(parts[1])
    if pub is None:
        return "it is signed with a key this journal does not know"
    try:
        Ed25519PublicKey.from_public_bytes(_unb64(pub)).verify(_unb64(parts[2]), data)
    except (InvalidSignature, ValueError):
        return "its signature does not match its contents"
    return None


def history_ok(row: m.EvolutionHistory, keys: dict[str, str]) -> bool:
    return _check((row.metadata or {}).get("signature"), canonical_history(row), keys) is None


def verify(storage: Any) -> VerifyReport:
    """Check every event's and history row's signature; failures name the row and why."""
    keys = known_keys(storage)
    report = VerifyReport()
    cached = getattr(storage, "_mirror_signer", None)
    report.local_key = cached.kid if cached is not None else None
    for ev in storage.evolution_events.list():
        report.checked_events += 1
        if ev.mirror_signature is None:
            report.unsigned.append({"table": "evolution_events", "id": ev.id, "event_type": str(ev.event_type)})
            continue
        reason = _check(ev.mirror_signature, canonical_event(ev), keys)
        if reason:
            report.failures.append({"table": "evolution_events", "id": ev.id, "event_type": str(ev.event_type),
                                    "reason": reason})
    for row in storage.evolution_history.list():
        report.checked_history += 1
        sig = (row.metadata or {}).get("signature")
        if sig is None:
            report.unsigned.append({"table": "evolution_history", "id": row.id, "event_type": str(row.event_type)})
            continue
        reason = _check(sig, canonical_history(row), keys)
        if reason:
            report.failures.append({"table": "evolution_history", "id": row.id, "event_type": str(row.event_type),
                                    "reason": reason})
    return report


__all__ = ["SignatureError", "VerifyReport", "canonical_event", "canonical_history", "ensure_installation",
           "history_ok", "known_keys", "record_event", "record_event_quietly", "set_sync_allowed", "set_telemetry_consent", "sign_history",
           "telemetry_consent", "verify"]


def record_schema_change(storage: Any, kind: str, before: str, after: str, steps: list[str]) -> str | None:
    """An ``upgrade`` or ``downgrade`` event for a schema change: ``mirror db migrate/rollback``, and the migrations a
    window or a command runs when it opens an older journal (issue 17, item 5). A new journal (from "0") is an
    installation, not an upgrade, and records nothing here. Returns None, or one sentence when the event could not be
    written (a rollback below 1.0.0 leaves no table to write it in); the schema change stands either way."""
    if not steps or before == "0":
        return None
    try:
        from mirror_desktop.core.app_version import remember_app_version

        remember_app_version(storage)
        record_event(storage, kind, {"kind": "schema", "migrations": list(steps)}, from_version=before, to_version=after)
    except Exception as exc:  # noqa: BLE001 - the change is done; only its record is missing
        return f"the schema change is done, but its {kind} event was not recorded ({type(exc).__name__})."
    return None
