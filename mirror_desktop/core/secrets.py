"""Bundle passphrases in the OS keychain through keyring, or for this session only.

shared/RELIABILITY.md (Secrets): the fail, null and plaintext backends are detected and treated as
"no keychain"; a secret is then kept in memory for this session only, never written to a file.
keyring calls can hang (a locked desktop keychain), so every call runs on a helper thread with a
timeout; callers in the window run this off the GUI thread anyway.
"""

from __future__ import annotations

import concurrent.futures
from typing import Any
from collections.abc import Callable

SERVICE = "mirror-desktop"
BUNDLE_USER = "bundle-passphrase"
TIMEOUT_S = 5.0
_UNSAFE_MODULES = ("keyring.backends.fail", "keyring.backends.null", "keyrings.alt.file", "keyrings.alt")
_UNSAFE_NAMES = ("PlaintextKeyring", "UncryptedFileKeyring", "Keyring")  # fail.Keyring / null.Keyring


class KeychainUnavailable(RuntimeError):
    """There is no safe keychain, or it did not answer in time."""


def _leaf_backends(backend: Any) -> list[Any]:
    inner = getattr(backend, "backends", None)
    return list(inner) if isinstance(inner, (list, tuple)) else [backend]


def _is_safe(backend: Any) -> bool:
    cls = type(backend)
    if cls.__module__.startswith(_UNSAFE_MODULES):
        return False
    if cls.__name__ in _UNSAFE_NAMES and cls.__module__.startswith(("keyring.backends.fail", "keyring.backends.null", "keyrings")):
        return False
    if cls.__name__ in ("PlaintextKeyring", "UncryptedFileKeyring"):
        return False
    try:
        return float(cls.priority) > 0  # type: ignore[arg-type]
    except Exception:
        return False


def _call(fn: Callable[[], Any], timeout: float) -> Any:
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="keyring")
    try:
        future = pool.submit(fn)
        try:
            return future.result(timeout=timeout)
        except concurrent.futures.TimeoutError:
            raise KeychainUnavailable("The keychain did not answer; the passphrase is kept for this session only.") from None
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


class PassphraseStore:
    """Remember a bundle passphrase: in the keychain when a safe one exists, else this session only."""

    def __init__(self, *, timeout: float = TIMEOUT_S, backend: Any = None) -> None:
        self.timeout = timeout
        self._backend = backend
        self._session: dict[str, str] = {}

    def backend(self) -> Any | None:
        """The safe keyring backend, or None ("no keychain")."""
        if self._backend is not None:
            candidates = _leaf_backends(self._backend)
        else:
            try:
                import keyring

                candidates = _leaf_backends(_call(keyring.get_keyring, self.timeout))
            except Exception:
                return None
        safe = [b for b in candidates if _is_safe(b)]
        return safe[0] if safe else None

    @property
    def has_keychain(self) -> bool:
        return self.backend() is not None

    def save(self, passphrase: str, *, user: str = BUNDLE_USER, session_only: bool = False) -> str:
        """Keep the passphrase; returns "keychain" or "session" (where it went)."""
        backend = None if session_only else self.backend()
        if backend is not None:
            try:
                _call(lambda: backend.set_password(SERVICE, user, passphrase), self.timeout)
                self._session.pop(user, None)
                return "keychain"
            except Exception:
                pass
        self._session[user] = passphrase
        return "session"

    def load(self, *, user: str = BUNDLE_USER) -> str | None:
        if user in self._session:
            return self._session[user]
        backend = self.backend()
        if backend is None:
            return None
        try:
            value = _call(lambda: backend.get_password(SERVICE, user), self.timeout)
        except Exception:
            return None
        return value if isinstance(value, str) and value else None

    def forget(self, *, user: str = BUNDLE_USER) -> None:
        self._session.pop(user, None)
        backend = self.backend()
        if backend is not None:
            try:
                _call(lambda: backend.delete_password(SERVICE, user), self.timeout)
            except Exception:
                pass
