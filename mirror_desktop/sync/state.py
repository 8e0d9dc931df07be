"""What the window needs to know about sync without loading the PostgreSQL driver: is it on, when did it run.

The window starts fast (issue 12): this module reads the journal's sync books only (no psycopg, no
cryptography); the sync thread loads the rest when a sync runs.
"""

from __future__ import annotations

from typing import Any

from mirror_desktop.storage.sync_journal import SyncJournal

FORMAT = 1  # the row format this Mirror writes and reads; a newer one waits in the inbox


def local_status(storage: Any) -> dict[str, Any]:
    """The journal's side of ``mirror sync status``: on or off, server, device, last sync, what waits."""
    journal = SyncJournal(storage)
    state = journal.state()
    enabled = state.get("enabled") == "1"
    waiting, newer = journal.inbox_counts(FORMAT)
    return {
        "enabled": enabled,
        "last_sync": state.get("last_sync"),
        "server": state.get("server"),
        "account": state.get("account"),
        "device": state.get("device_name"),
        "device_id": state.get("device_id"),
        "pending_changes": journal.pending_count() if enabled else 0,
        "waiting_rows": waiting,
        "newer_format_rows": newer,
        "last_result": state.get("last_result"),
        "last_error": state.get("last_error"),
        "key_kept": state.get("key_kept"),
        "location": str(getattr(storage, "location", "")),
    }
