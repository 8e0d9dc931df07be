"""Use cases of integrations (issue 14): add, list, items, pause, resume, remove and sync.

The window's worker, the CLI and the tests call the same service. Adding and removing record the
spec's lifecycle events (``integration_add`` / ``integration_remove``, spec 12) in the same
transaction as the row, with no secret and no address in them. Secrets go to the keychain or stay
in the person's password file (integrations/credentials.py). Syncing is integrations/sync.py.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

from mirror_desktop.bundle.sanitize import strip_secrets
from mirror_desktop.core import models as m
from mirror_desktop.core.enums import IntegrationStatus, IntegrationType, LifecycleEventType
from mirror_desktop.core.errors import NotFoundError, ValidationError
from mirror_desktop.integrations import credentials
from mirror_desktop.integrations.base import ConfigError, SyncState, connector_for
from mirror_desktop.integrations.sync import (
    DEFAULT_FREQUENCY,
    FREQUENCIES,
    SyncReport,
    next_due,
    sync_due,
    sync_integration,
)
from mirror_desktop.core.ports import MirrorStorage

# Reauthorisation marker set on import (bundle/sanitize.py); cleared when credentials are entered again.
NEEDS_REAUTH = "needs_reauthorization"


@dataclass(frozen=True)
class IntegrationView:
    """An integration as lists show it: the row, how many items it holds, when it syncs next."""

    integration: m.Integration
    items: int
    next_sync: datetime | None

    def to_json(self) -> dict[str, Any]:
        i = self.integration
        meta = i.metadata or {}
        config = strip_secrets(dict(i.config or {}))
        return {
            "id": i.id,
            "integration_type": str(i.integration_type),
            "status": str(i.status),
            "provider": config.get("provider"),
            "config": config,
            "identity_id": i.identity_id,
            "connected_at": _iso(i.connected_at),
            "last_sync": _iso(i.last_sync),
            "next_sync": _iso(self.next_sync),
            "items": self.items,
            "last_error": meta.get("last_error"),
            "credentials": credentials.credentials_kind(i.config or {}),
            "needs_reauthorization": bool(meta.get(NEEDS_REAUTH)),
            "auto_reflect": bool(meta.get("auto_reflect", False)),
            "status_text": status_text(i),
        }


def status_text(integ: m.Integration) -> str:
    """One sentence for the window's list: the state, and what to do when something is wrong."""
    meta = integ.metadata or {}
    status = str(integ.status)
    if status == IntegrationStatus.DISCONNECTED and meta.get(NEEDS_REAUTH):
        return "Arrived with an imported bundle without its credentials: enter them again (Resume) to sync."
    if status == IntegrationStatus.DISCONNECTED:
        return str(meta.get("last_error") or "Disconnected: enter the credentials again (Resume) to sync.")
    if status == IntegrationStatus.ERROR:
        return str(meta.get("last_error") or "The last sync failed; Mirror will try again later.")
    if status == IntegrationStatus.PAUSED:
        return "Paused: Resume to sync again."
    if integ.last_sync is None:
        return "Not synced yet."
    return f"Synced {_iso(integ.last_sync)}."


def _iso(ts: datetime | None) -> str | None:
    return None if ts is None else ts.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def item_to_json(item: m.IntegrationItem) -> dict[str, Any]:
    meta = item.metadata or {}
    return {
        "external_id": item.external_id,
        "kind": item.kind,
        "title": item.title,
        "starts_at": _iso(item.starts_at),
        "ends_at": _iso(item.ends_at),
        "all_day": item.all_day,
        "state": item.state,
        "reflection_id": item.reflection_id,
        "location": meta.get("location"),
        "tzid": meta.get("tzid"),
    }


class IntegrationService:
    """Integrations over one storage; every method runs on the caller's thread (the executor's, in the window)."""

    def __init__(self, storage: MirrorStorage) -> None:
        self.storage = storage

    # -- reading ------------------------------------------------------------------------------
    def get(self, integration_id: str) -> m.Integration:
        found = self.storage.integrations.find(integration_id)
        if found is not None:
            return found
        if len(integration_id) >= 4:
            matches = [i for i in self.storage.integrations.list() if i.id.startswith(integration_id)]
            if len(matches) == 1:
                return matches[0]
            if len(matches) > 1:
                raise ValidationError("integration", "id", "is ambiguous",
                                      f"{integration_id!r} matches {len(matches)} integrations; give more of the id.")
        raise NotFoundError("integration", integration_id)

    def list_integrations(self, now: datetime | None = None) -> list[IntegrationView]:
        now = now or datetime.now(UTC)
        counts = self.storage.integration_items.count_by_integration()
        return [IntegrationView(i, counts.get(i.id, 0), next_due(i, now)) for i in self.storage.integrations.list()]

    def items(self, integration_id: str, since: date | None = None, limit: int | None = None) -> list[m.IntegrationItem]:
        integ = self.get(integration_id)
        start = datetime.combine(since, time(), UTC) if since else None
        return list(self.storage.integration_items.for_integration(integ.id, since=start, limit=limit))

    def day_items(self, day_start: datetime, day_end: datetime, identity_id: str | None = None) -> list[m.IntegrationItem]:
        """Calendar items overlapping [day_start, day_end) (the window passes local midnights): shown beside that day.

        With ``identity_id``, only calendars of that identity or of none (the identity switcher).
        """
        return list(self.storage.integration_items.overlapping(day_start, day_end, identity_id=identity_id))

    # -- changing -----------------------------------------------------------------------------
    def add(self, integration_type: str, provider: str, *, path: str | None = None, url: str | None = None,
            username: str | None = None, password_file: str | None = None, look_back_days: int | None = None,
            every: str = DEFAULT_FREQUENCY, identity_id: str | None = None, auto_reflect: bool = False,
            calendar: str | None = None) -> m.Integration:
        """Validate, keep the secret safely, insert the row and its integration_add event together."""
        if integration_type not in [t.value for t in IntegrationType]:
            raise ConfigError([f"{integration_type!r} is not an integration type; use calendar or notes."])
        connector = connector_for(provider)
        problems = []
        if connector.integration_type != integration_type:
            problems.append(f"The provider {provider} is a {connector.integration_type} source, not {integration_type}.")
        if every not in FREQUENCIES:
            problems.append(f"--every must be hourly, daily or manual (got {every!r}).")
        config: dict[str, Any] = {"provider": provider, "sync_direction": "read_only", "sync_frequency": every}
        if path is not None:
            config["path"] = str(Path(path).expanduser().resolve())
        if url is not None:
            config["url"] = url.strip()
        if username is not None:
            config["username"] = username
        if look_back_days is not None:
            config["look_back_days"] = look_back_days
        if calendar is not None:
            config["calendar"] = calendar
        problems += connector.validate(config)
        if provider == "obsidian" and path is not None and not Path(config["path"]).is_dir():
            problems.append(f"{path} is not a folder; give the vault's folder.")
        if provider == "ics_file" and path is not None and not Path(config["path"]).is_file():
            problems.append(f"{path} is not a file; give the .ics file.")
        if connector.needs_secret and password_file is None:
            problems.append(f"A {provider} integration needs --password-file, a file whose first line is the password.")
        if identity_id is not None and self.storage.identities.find(identity_id) is None:
            problems.append(f"No identity has the id {identity_id!r}.")
        if problems:
            raise ConfigError(problems)
        secret = credentials.read_password_file(password_file) if password_file is not None else None
        integ = m.Integration(integration_type=IntegrationType(integration_type), config=config,
                              status=IntegrationStatus.ACTIVE, identity_id=identity_id,
                              metadata={"auto_reflect": auto_reflect, "data_retention": "local_only",
                                        "permissions_granted": ["read"]})
        if secret is not None:
            self._keep_secret(integ, secret, password_file)
        try:
            with self.storage.transaction():
                self.storage.integrations.create(integ)
                self._event(LifecycleEventType.INTEGRATION_ADD, integ)
        except BaseException:
            credentials.forget_secret(integ.id)
            raise
        return integ

    def _keep_secret(self, integ: m.Integration, secret: str, password_file: str | None) -> None:
        integ.config.pop(credentials.PASSWORD_FILE, None)
        integ.config.pop("credentials", None)
        if credentials.store_secret(integ.id, secret):
            integ.config["credentials"] = credentials.KEYCHAIN
        elif password_file is not None:
            # No usable keychain (headless): keep where the password is, read it at every sync.
            integ.config[credentials.PASSWORD_FILE] = str(Path(password_file).expanduser().resolve())

    def _event(self, kind: LifecycleEventType, integ: m.Integration) -> None:
        data = {"integration_id": integ.id, "integration_type": str(integ.integration_type),
                "provider": str((integ.config or {}).get("provider"))}
        from mirror_desktop.core.lifecycle import record_event

        record_event(self.storage, kind, data)   # signed, issue 17

    def set_status(self, integration_id: str, status: IntegrationStatus) -> m.Integration:
        integ = self.get(integration_id)
        return self.storage.integrations.update(replace(integ, status=status))

    def pause(self, integration_id: str) -> m.Integration:
        return self.set_status(integration_id, IntegrationStatus.PAUSED)

    def resume(self, integration_id: str, *, password_file: str | None = None) -> m.Integration:
        """Active again; with ``password_file`` the credentials are entered again (after an import)."""
        integ = self.get(integration_id)
        connector = connector_for(str(integ.config.get("provider")))
        config = dict(integ.config)
        if password_file is not None:
            secret = credentials.read_password_file(password_file)
            integ = replace(integ, config=config)
            self._keep_secret(integ, secret, password_file)
            config = integ.config
        elif (connector.needs_secret or config.get("username")) and credentials.credentials_kind(config) == "none":
            raise ConfigError([f"This {connector.provider} integration has no password (bundles never carry one); "
                               "resume it with --password-file F."])
        meta = dict(integ.metadata or {})
        for key in (NEEDS_REAUTH, "removed_secret_fields", "consecutive_failures"):
            meta.pop(key, None)
        return self.storage.integrations.update(replace(integ, config=config, status=IntegrationStatus.ACTIVE,
                                                        metadata=meta))

    def remove(self, integration_id: str) -> m.Integration:
        """Delete the integration and its items (reflections made from notes stay: they are the journal's)."""
        integ = self.get(integration_id)
        with self.storage.transaction():
            self.storage.integrations.delete(integ.id)
            self._event(LifecycleEventType.INTEGRATION_REMOVE, integ)
        credentials.forget_secret(integ.id)
        return integ

    # -- syncing ------------------------------------------------------------------------------
    def sync(self, integration_id: str, state: SyncState | None = None) -> SyncReport:
        return sync_integration(self.storage, self.get(integration_id).id, state)

    def sync_all(self, state: SyncState | None = None) -> list[SyncReport]:
        """Every integration not paused or disconnected, due or not (``sync --all``)."""
        reports = []
        for integ in self.storage.integrations.list():
            if state is not None and state.is_cancelled():
                break
            reports.append(sync_integration(self.storage, integ.id, state))
        return reports

    def sync_due(self, state: SyncState | None = None, now: datetime | None = None) -> list[SyncReport]:
        return sync_due(self.storage, state, now)
