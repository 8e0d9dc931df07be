"""Errors of export and import: each one sentence for people (STYLE.md habit 9), never a traceback."""

from __future__ import annotations

from mirror_desktop.core.errors import MirrorError
from mirror_desktop.core.errors import OperationCancelled as _OperationCancelled


class BundleError(MirrorError):
    """A bundle could not be written or read; ``str(err)`` says what happened and what to do."""


class NotABundle(BundleError):
    """The file is neither an age-encrypted bundle nor a Mirror zip."""


class UnsafeArchive(BundleError):
    """The zip breaks a safety rule (traversal, symlink, duplicate, bomb, lying size ...)."""

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(f"The bundle was refused because {detail}; it was not imported and nothing changed.")


class DamagedBundle(BundleError):
    """A member does not match the manifest, or the zip itself is damaged."""

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(f"The bundle is damaged ({detail}); use another copy. Nothing changed.")


class HostileDatabase(BundleError):
    """The database inside the bundle is not a plain Mirror journal."""

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(f"The journal inside the bundle was refused ({detail}); it was not imported and nothing changed.")


class BundleSchemaTooNew(BundleError):
    """The bundle was written by a newer Mirror."""

    def __init__(self, bundle_version: str, app_version: str) -> None:
        self.bundle_version = bundle_version
        self.app_version = app_version
        super().__init__(
            f"This bundle uses schema {bundle_version}, but this Mirror only knows up to {app_version}; "
            f"install a Mirror that supports schema {bundle_version} to import it. Nothing changed."
        )


class PassphraseRequired(BundleError):
    """An encrypted bundle was given without a passphrase."""

    def __init__(self) -> None:
        super().__init__("This bundle is encrypted; give its passphrase to import it.")


class SlowPassphraseCheck(BundleError):
    """The bundle asks for more scrypt work than Mirror writes; retry with allow_slow_passphrase on a yes.

    ``log2_n`` and ``memory_bytes`` let the window ask its question (issue 11, item 5).
    """

    def __init__(self, log2_n: int, memory_bytes: int, sentence: str) -> None:
        self.log2_n = log2_n
        self.memory_bytes = memory_bytes
        super().__init__(sentence)


# Cancel is not a bundle matter: every long task (imports, syncs, sandbox tests) stops the same way.
OperationCancelled = _OperationCancelled


class NotEnoughSpace(BundleError):
    """The disk is too full for the work."""
