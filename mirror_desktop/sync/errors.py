"""Sync's failures, each one sentence for a person (STYLE.md habit 9)."""

from __future__ import annotations

from mirror_desktop.core.errors import MirrorError


class SyncError(MirrorError):
    """A sync could not start or finish; the journal is unchanged past its last committed step."""


class SyncUserError(SyncError):
    """The person asked for something that cannot be done (CLI exit 2): wrong passphrase, not set up ..."""


class WrongSyncPassphrase(SyncUserError):
    def __init__(self) -> None:
        super().__init__("That passphrase does not match the one this account's other devices use; "
                         "this device was not set up and nothing was sent.")


class SyncBusy(SyncUserError):
    def __init__(self) -> None:
        super().__init__("Another sync of this journal is running right now; this one did nothing, try again when it ends.")


class ServerUnreachable(SyncError):
    """The server did not answer, refused the login, or dropped the connection."""
