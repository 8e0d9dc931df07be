"""Where an integration's password or token lives: the OS keychain, or the person's own password file.

Secrets never go into the database or a bundle (issue 14, item 5). With a usable keychain the
secret is stored there under ``integration:<id>`` and the config records only ``"credentials":
"keychain"``. Without one (a headless machine: keyring's fail/null/plaintext backends), the config
keeps the *path* of the password file the person gave, as vdirsyncer's ``password.fetch`` does,
and the file is read at every sync. The config never holds the secret itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mirror_desktop.integrations.base import AuthError

MAX_PASSWORD_FILE_BYTES = 4096
KEYCHAIN = "keychain"
PASSWORD_FILE = "password_file"


def _keychain() -> Any:
    """The one door to the keychain (mirror_desktop/keychain.py)."""
    from mirror_desktop.keychain import PassphraseStore

    return PassphraseStore()


def keychain_user(integration_id: str) -> str:
    return f"integration:{integration_id}"


def read_password_file(path: str | Path) -> str:
    """The first line of the person's password file; AuthError with a sentence if it cannot be used."""
    p = Path(path).expanduser()
    try:
        with open(p, "rb") as fh:
            raw = fh.read(MAX_PASSWORD_FILE_BYTES + 1)
    except FileNotFoundError:
        raise AuthError(f"The password file {p} is not there; put it back or enter the password again.") from None
    except OSError as exc:
        raise AuthError(f"The password file {p} cannot be read ({exc.strerror}); check its permissions.") from None
    if len(raw) > MAX_PASSWORD_FILE_BYTES:
        raise AuthError(f"The password file {p} is larger than {MAX_PASSWORD_FILE_BYTES} bytes; it should hold only the password.")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise AuthError(f"The password file {p} is not UTF-8 text; save the password as plain text.") from None
    lines = text.splitlines()
    secret = lines[0] if lines else ""
    if not secret:
        raise AuthError(f"The password file {p} is empty; write the password on its first line.")
    return secret


def store_secret(integration_id: str, secret: str) -> bool:
    """Keep ``secret`` in the keychain; False when no usable keychain took it (nothing kept anywhere)."""
    store = _keychain()
    if not store.has_keychain:
        return False
    return bool(store.save(secret, user=keychain_user(integration_id)) == KEYCHAIN)


def forget_secret(integration_id: str) -> None:
    _keychain().forget(user=keychain_user(integration_id))


def credentials_kind(config: Mapping[str, Any]) -> str:
    """"keychain", "password_file" or "none": where this integration's secret comes from."""
    if config.get(PASSWORD_FILE):
        return PASSWORD_FILE
    if config.get("credentials") == KEYCHAIN:
        return KEYCHAIN
    return "none"


def load_secret(integration_id: str, config: Mapping[str, Any]) -> str | None:
    """The secret for a sync, read fresh each time; AuthError (→ disconnected) when it is gone."""
    kind = credentials_kind(config)
    if kind == PASSWORD_FILE:
        return read_password_file(str(config[PASSWORD_FILE]))
    if kind == KEYCHAIN:
        secret = _keychain().load(user=keychain_user(integration_id))
        if not secret:
            raise AuthError("The keychain holds no password for this integration (or is locked); "
                            "enter the password again.")
        return str(secret)
    return None
