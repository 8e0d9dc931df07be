"""Remembering the bundle passphrase: keychain when safe, else this session only, never plaintext."""

from __future__ import annotations

import time
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail, null

from keyring_backends import MemoryKeyring
from mirror_desktop.keychain import PassphraseStore


class SlowKeyring(MemoryKeyring):
    def get_keyring(self) -> None:  # pragma: no cover
        pass

    def set_password(self, service: str, username: str, password: str) -> None:
        time.sleep(3)


def test_safe_backend_keeps_it_in_the_keychain() -> None:
    kr = MemoryKeyring()
    store = PassphraseStore(backend=kr)
    assert store.has_keychain
    assert store.save("pw one") == "keychain"
    assert list(kr.store.values()) == ["pw one"]
    assert PassphraseStore(backend=kr).load() == "pw one"
    store.forget()
    assert store.load() is None


@pytest.mark.parametrize("backend", [fail.Keyring(), null.Keyring()])
def test_fail_and_null_backends_mean_session_only(backend, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    store = PassphraseStore(backend=backend)
    assert not store.has_keychain
    assert store.save("zz-session-secret-42") == "session"
    assert store.load() == "zz-session-secret-42"
    assert PassphraseStore(backend=backend).load() is None  # gone with the session
    for f in tmp_path.rglob("*"):
        if f.is_file():
            assert b"zz-session-secret-42" not in f.read_bytes()


def test_plaintext_backend_is_refused() -> None:
    Plain = type("PlaintextKeyring", (MemoryKeyring,), {"__module__": "keyrings.alt.file"})
    store = PassphraseStore(backend=Plain())
    assert not store.has_keychain and store.save("x") == "session"


def test_hanging_keychain_falls_back_within_the_timeout() -> None:
    store = PassphraseStore(backend=SlowKeyring(), timeout=0.2)
    # Without the timeout the slow set would succeed and answer "keychain".
    assert store.save("pw") == "session"
    assert store.load() == "pw"


def test_default_backend_in_this_suite_is_not_plaintext(monkeypatch) -> None:
    monkeypatch.setattr(keyring, "get_keyring", lambda: fail.Keyring())
    store = PassphraseStore()
    assert store.save("pw") == "session"
