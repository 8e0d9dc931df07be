"""The one door to the OS keychain: bundle passphrases, engine API keys, integration passwords.

shared/RELIABILITY.md (Secrets): the fail, null and every ``keyrings.alt`` backend (they keep secrets
in files anyone with the disk can read) count as "no keychain"; a secret is then never written
anywhere: API keys are refused in one sentence, passphrases stay in memory for this session only.
keyring calls can hang (a locked desktop keychain), so every call runs on a helper thread with a
timeout; the window calls this off the GUI thread as well.

Issue 10 merged the two keychain modules that had diverged (one refused every ``keyrings.alt``
backend, the other had the timeout): this module has the stricter behaviour of both.
"""

from __future__ import annotations

import concurrent.futures
from typing import Any
from collections.abc import Callable

SERVICE = "mirror-desktop"
BUNDLE_USER = "bundle-passphrase"
TIMEOUT_S = 5.0
_UNSAFE_MODULES = ("keyring.backends.fail", "keyring.backends.null", "keyrings.alt")
_UNSAFE_NAMES = ("PlaintextKeyring", "UncryptedFileKeyring")


class KeychainUnavailable(RuntimeError):
    """There is no safe keychain, it refused, or it did not answer in time; nothing was stored."""


def _leaf_backends(backend: Any) -> list[Any]:
    inner = getattr(backend, "backends", None)  # the chainer wraps several
    return list(inner) if isinstance(inner, (list, tuple)) else [backend]


def _is_safe(backend: Any) -> bool:
    cls = type(backend)
    if cls.__module__.startswith(_UNSAFE_MODULES) or cls.__name__ in _UNSAFE_NAMES:
        return False
    try:
        return float(cls.priority) > 0
    except Exception:  # noqa: BLE001 - a backend that cannot say its priority is not trusted
        return False


def _call(fn: Callable[[], Any], timeout: float) -> Any:
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="keyring")
    try:
        future = pool.submit(fn)
        try:
            return future.result(timeout=timeout)
        except concurrent.futures.TimeoutError:
            raise KeychainUnavailable("The keychain did not answer in time; unlock it and try again.") from None
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def secure_backend(*, timeout: float = TIMEOUT_S, backend: Any = None) -> Any | None:
    """The highest-priority safe keyring backend (never a chainer that could fall through), or None."""
    if backend is None:
        try:
            import keyring

            backend = _call(keyring.get_keyring, timeout)
        except Exception:  # noqa: BLE001 - no keyring at all is "no keychain"
            return None
    safe = [b for b in _leaf_backends(backend) if _is_safe(b)]
    return max(safe, key=lambda b: float(type(b).priority)) if safe else None


# -- the three moves every secret below makes ------------------------------------------------------

def _set_or_say(user: str, value: str, timeout: float, *, none: str, hung: str, refused: str) -> None:
    """Keep ``value`` under ``user`` in the safe keychain, or raise KeychainUnavailable with the caller's sentence:
    ``none`` (no safe keychain), ``hung`` (no answer in time), ``refused`` (``{error}``: the backend's error)."""
    backend = secure_backend(timeout=timeout)
    if backend is None:
        raise KeychainUnavailable(none)
    try:
        _call(lambda: backend.set_password(SERVICE, user, value), timeout)
    except KeychainUnavailable:
        raise KeychainUnavailable(hung) from None
    except Exception as exc:  # noqa: BLE001 - keyring errors vary by backend
        raise KeychainUnavailable(refused.format(error=type(exc).__name__)) from None


def _get_or_none(user: str, timeout: float) -> str | None:
    """The secret kept under ``user``, or None: none kept, no safe keychain, or a locked one that does not answer."""
    backend = secure_backend(timeout=timeout)
    if backend is None:
        return None
    try:
        value = _call(lambda: backend.get_password(SERVICE, user), timeout)
    except Exception:  # noqa: BLE001 - a locked or failing keychain reads as "nothing kept"
        return None
    return value if isinstance(value, str) and value else None


def _delete(user: str, timeout: float) -> bool:
    """Forget the secret under ``user``; True if one was removed."""
    backend = secure_backend(timeout=timeout)
    if backend is None:
        return False
    try:
        _call(lambda: backend.delete_password(SERVICE, user), timeout)
    except Exception:  # noqa: BLE001 - PasswordDeleteError (none stored) or a keychain that failed
        return False
    return True


# -- engine API keys (no session fallback: a key that was not saved must say so) ----------------------

def username_for(engine_name: str) -> str:
    """The keyring username for an engine's key, e.g. ``engine:openai``."""
    return f"engine:{engine_name}"


def store_api_key(engine_name: str, key: str, *, timeout: float = TIMEOUT_S) -> None:
    """Keep ``key`` in the keychain; raises KeychainUnavailable rather than writing it elsewhere."""
    _set_or_say(username_for(engine_name), key, timeout,
                none="No secure keychain is available on this computer, so the API key was not saved. "
                     "Unlock or install a keychain (for example GNOME Keyring or KWallet) and try again.",
                hung="The keychain did not answer, so the API key was not saved; unlock it and try again.",
                refused="The keychain refused to save the API key ({error}); the key was not saved.")


def load_api_key(engine_name: str, *, timeout: float = TIMEOUT_S) -> str | None:
    """The stored key, or None when there is none, no secure keychain, or it does not answer."""
    return _get_or_none(username_for(engine_name), timeout)


def delete_api_key(engine_name: str, *, timeout: float = TIMEOUT_S) -> bool:
    """Forget the key; True if one was removed."""
    return _delete(username_for(engine_name), timeout)


# -- passphrases (bundles, sync): the keychain when a safe one exists, else this session only -------

class PassphraseStore:
    """Remember a passphrase: in the keychain when a safe one exists, else in memory for this session."""

    def __init__(self, *, timeout: float = TIMEOUT_S, backend: Any = None) -> None:
        self.timeout = timeout
        self._backend = backend
        self._session: dict[str, str] = {}

    def backend(self) -> Any | None:
        """The safe keyring backend, or None ("no keychain")."""
        return secure_backend(timeout=self.timeout, backend=self._backend)

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
            except Exception:  # noqa: BLE001 - fall back to this session, never to a file
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
        except Exception:  # noqa: BLE001 - a locked keychain reads as "nothing remembered"
            return None
        return value if isinstance(value, str) and value else None

    def forget(self, *, user: str = BUNDLE_USER) -> None:
        self._session.pop(user, None)
        backend = self.backend()
        if backend is not None:
            try:
                _call(lambda: backend.delete_password(SERVICE, user), self.timeout)
            except Exception:  # noqa: BLE001 - nothing stored, or the keychain is gone: forgotten either way
                pass


# -- named secrets (issue 17: a journal's signing key) ---------------------------------------------

def store_named_secret(user: str, value: str, *, timeout: float = TIMEOUT_S) -> bool:
    """Keep ``value`` under ``user`` in a safe keychain; False (nothing stored) when there is none."""
    try:
        _set_or_say(user, value, timeout, none="", hung="", refused="")
    except KeychainUnavailable:   # a refusing keychain is "no keychain" here; the caller keeps a file
        return False
    return True


def load_named_secret(user: str, *, timeout: float = TIMEOUT_S) -> str | None:
    """The secret kept under ``user``, or None (none, no safe keychain, or no answer)."""
    return _get_or_none(user, timeout)


# -- encrypted journals (issue 19): "unlock at login" keeps the derived key, never the passphrase ---------

def journal_user(salt_hex: str) -> str:
    """The keyring username for one encrypted journal, named by its (public) salt."""
    return f"journal-key:{salt_hex}"


def store_journal_key(salt_hex: str, key_hex: str, *, timeout: float = TIMEOUT_S) -> None:
    """Keep a journal's derived key for unlocking at login; KeychainUnavailable (one sentence) if it cannot."""
    _set_or_say(journal_user(salt_hex), key_hex, timeout,
                none="No secure keychain is available on this computer, so the journal's key was not kept; you will "
                     "be asked for the passphrase when it opens.",
                hung="The keychain did not answer, so the journal's key was not kept; you will be asked for the "
                     "passphrase when it opens.",
                refused="The keychain refused to keep the journal's key ({error}); you will be asked for the "
                        "passphrase when it opens.")


def load_journal_key(salt_hex: str, *, timeout: float = TIMEOUT_S) -> str | None:
    """The kept key (hex), None when none is kept; KeychainUnavailable when the keychain hangs or refuses."""
    backend = secure_backend(timeout=timeout)
    if backend is None:
        return None
    try:
        value = _call(lambda: backend.get_password(SERVICE, journal_user(salt_hex)), timeout)
    except KeychainUnavailable:
        raise KeychainUnavailable("The keychain did not answer, so the journal could not be unlocked from it.") from None
    except Exception as exc:  # noqa: BLE001
        raise KeychainUnavailable(f"The keychain refused to give the journal's key ({type(exc).__name__}).") from None
    return value if isinstance(value, str) and value else None


def forget_journal_key(salt_hex: str, *, timeout: float = TIMEOUT_S) -> bool:
    """Forget a journal's kept key (decrypt, re-key); True if one was removed."""
    return _delete(journal_user(salt_hex), timeout)
