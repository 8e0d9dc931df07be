"""The ``upgrade``/``downgrade`` event of an app version change (issue 17, item 5: "app or schema version changes").

Checked each time a window or a command opens a journal, so it is kept light: one settings read, and the
lifecycle module (signing) is imported only when the version really changed. The version is remembered where
the journal is written anyway (its installation, a schema migration, an app version change), never by a plain
open, so a command that only reads leaves the file as it was.
"""

from __future__ import annotations

from typing import Any

from mirror_desktop.core.enums import LifecycleEventType

APP_VERSION_SETTING = "app_version"   # writing_settings: the Mirror version that last opened this journal


def _version_key(text: str) -> tuple[int, ...]:
    return tuple(int(p) if p.isdigit() else 0 for p in text.split("+")[0].split("."))


def record_app_version(storage: Any, current: str | None = None) -> str | None:
    """An ``upgrade`` or ``downgrade`` event when a Mirror of another version than the last one opens the journal
    (issue 17, item 5: "app or schema version changes"), ``{"kind": "app"}`` from the old version to this one.
    A journal with no version remembered yet (``remember_app_version``) records nothing. Returns None, or one
    sentence when the event could not be written (the version is remembered either way)."""
    if getattr(storage, "readonly", False) or not storage.writing.available():
        return None
    from mirror_desktop import __version__

    now = current or str(__version__)
    if not now:
        return None
    before = storage.writing.get_setting(APP_VERSION_SETTING)
    if before == now or not isinstance(before, str):
        return None
    storage.writing.set_setting(APP_VERSION_SETTING, now)
    kind = LifecycleEventType.UPGRADE if _version_key(now) > _version_key(before) else LifecycleEventType.DOWNGRADE
    try:
        from mirror_desktop.core.lifecycle import record_event

        record_event(storage, kind, {"kind": "app"}, from_version=before, to_version=now)
    except Exception as exc:  # noqa: BLE001 - the new version runs either way; only its record is missing
        return f"this Mirror's version is recorded, but its {kind} event was not ({type(exc).__name__})."
    return None


def remember_app_version(storage: Any) -> None:
    """Remember this Mirror's version in the journal (at its installation and after a schema migration)."""
    if getattr(storage, "readonly", False) or not storage.writing.available():
        return
    from mirror_desktop import __version__

    if storage.writing.get_setting(APP_VERSION_SETTING) != str(__version__):
        storage.writing.set_setting(APP_VERSION_SETTING, str(__version__))
