"""Engine API keys in the operating system keychain via keyring; never in a plaintext file."""

from __future__ import annotations

import keyring
import keyring.errors
from keyring.backend import KeyringBackend

SERVICE = "mirror-desktop"
# Backends that cannot keep a secret, or would keep it in a readable file.
_UNSAFE_MODULES = ("keyring.backends.fail", "keyring.backends.null", "keyrings.alt.file")
_UNSAFE_NAMES = ("PlaintextKeyring", "UncryptedFileKeyring")


class SecretStoreUnavailable(RuntimeError):
    """No secure keychain is available, so the key was not stored anywhere."""


def username_for(engine_name: str) -> str:
    """The keyring username for an engine's key, e.g. ``engine:openai``."""
    return f"engine:{engine_name}"


def _backends(backend: KeyringBackend) -> list[KeyringBackend]:
    inner = getattr(backend, "backends", None)  # the chainer wraps several
    return list(inner) if isinstance(inner, (list, tuple)) else [backend]


def _is_safe(backend: KeyringBackend) -> bool:
    cls = type(backend)
    if cls.__module__.startswith(_UNSAFE_MODULES) or cls.__name__ in _UNSAFE_NAMES:
        return False
    try:
        return float(cls.priority) > 0  # type: ignore[arg-type]
    except Exception:
        return False


def secure_backend() -> KeyringBackend | None:
    """The active keyring backend if it can keep secrets safely, else None."""
    backend = keyring.get_keyring()
    parts = _backends(backend)
    return backend if parts and all(_is_safe(b) for b in parts) else None


def store_api_key(engine_name: str, key: str) -> None:
    """Keep ``key`` in the keychain; raises SecretStoreUnavailable rather than writing it elsewhere."""
    backend = secure_backend()
    if backend is None:
        raise SecretStoreUnavailable(
            "No secure keychain is available on this computer, so the API key was not saved. "
            "Unlock or install a keychain (for example GNOME Keyring or KWallet) and try again."
        )
    try:
        backend.set_password(SERVICE, username_for(engine_name), key)
    except keyring.errors.KeyringError as exc:
        raise SecretStoreUnavailable(f"The keychain refused to save the API key: {type(exc).__name__}.") from None


def load_api_key(engine_name: str) -> str | None:
    """The stored key, or None when there is none or no secure keychain."""
    backend = secure_backend()
    if backend is None:
        return None
    try:
        return backend.get_password(SERVICE, username_for(engine_name))
    except keyring.errors.KeyringError:
        return None


def delete_api_key(engine_name: str) -> bool:
    """Forget the key; True if one was removed."""
    backend = secure_backend()
    if backend is None:
        return False
    try:
        backend.delete_password(SERVICE, username_for(engine_name))
    except keyring.errors.PasswordDeleteError:
        return False
    return True
