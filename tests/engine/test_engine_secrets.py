"""API keys go to the keychain through keyring, and nowhere else when no secure keychain exists."""

import os
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail, null

from mirror_desktop.engine import EngineConfig
from mirror_desktop.engine.llm import make_llm_engine
from mirror_desktop.engine.secrets import (
    SERVICE,
    SecretStoreUnavailable,
    delete_api_key,
    load_api_key,
    store_api_key,
    username_for,
)

SECRET = "sk-secret-7f3a9c"


class MemoryKeyring(KeyringBackend):
    """A keychain that lives in a dict, standing in for the OS one."""

    priority = 1

    def __init__(self):
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service, username):
        return self.items.get((service, username))

    def set_password(self, service, username, password):
        self.items[(service, username)] = password

    def delete_password(self, service, username):
        if (service, username) not in self.items:
            raise keyring.errors.PasswordDeleteError(username)
        del self.items[(service, username)]


@pytest.fixture
def isolated_home(tmp_path, monkeypatch):
    """Point every place a backend could write at an empty folder, to prove nothing lands there."""
    for var in ("HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "APPDATA", "LOCALAPPDATA"):
        monkeypatch.setenv(var, str(tmp_path / var.lower()))
    previous = keyring.get_keyring()
    yield tmp_path
    keyring.set_keyring(previous)


def files_under(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def test_key_round_trips_through_the_keychain(isolated_home):
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    store_api_key("openai", SECRET)
    assert backend.items == {(SERVICE, "engine:openai"): SECRET}
    assert username_for("openai") == "engine:openai"
    assert load_api_key("openai") == SECRET
    assert delete_api_key("openai") is True
    assert load_api_key("openai") is None
    assert delete_api_key("openai") is False
    assert files_under(isolated_home) == []


def test_engine_reads_its_key_from_the_keychain(isolated_home):
    keyring.set_keyring(MemoryKeyring())
    store_api_key("lab", SECRET)
    cfg = EngineConfig(mode="local_llm", kind="openai", base_url="http://127.0.0.1:9", model="m", api_key_name="lab")
    assert make_llm_engine(cfg).api_key == SECRET


@pytest.mark.parametrize("backend", [fail.Keyring(), null.Keyring()])
def test_no_secure_keychain_gives_a_clear_error_and_writes_nothing(isolated_home, backend):
    keyring.set_keyring(backend)
    with pytest.raises(SecretStoreUnavailable, match="not saved"):
        store_api_key("openai", SECRET)
    assert load_api_key("openai") is None
    assert delete_api_key("openai") is False
    assert files_under(isolated_home) == []
    for root, _dirs, names in os.walk(Path.cwd()):
        if ".git" in root:
            continue
        for name in names:
            path = Path(root, name)
            if path.suffix in (".cfg", ".ini", ".json", ".txt") and path.stat().st_size < 1_000_000:
                assert SECRET not in path.read_text(errors="ignore")


def test_plaintext_backends_are_refused(isolated_home):
    class PlaintextKeyring(MemoryKeyring):
        """Named like keyrings.alt's file backend, which stores secrets readable on disk."""

    keyring.set_keyring(PlaintextKeyring())
    with pytest.raises(SecretStoreUnavailable):
        store_api_key("openai", SECRET)
