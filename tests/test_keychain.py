"""The one keychain module: API keys and passphrases go to a safe keychain through keyring, and nowhere else."""

import os
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail, null

from mirror_desktop.engine import EngineConfig
from mirror_desktop.engine.llm import make_llm_engine
from mirror_desktop.keychain import (
    SERVICE,
    KeychainUnavailable,
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
    with pytest.raises(KeychainUnavailable, match="not saved"):
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
    with pytest.raises(KeychainUnavailable):
        store_api_key("openai", SECRET)


# -- issue 10: one keychain module with the stricter behaviour of both old ones ---------------------

def test_every_keyrings_alt_backend_is_refused_for_keys_and_passphrases(isolated_home):
    from mirror_desktop.keychain import PassphraseStore

    class AltKeyring(MemoryKeyring):
        """Named and placed like a keyrings.alt backend that is not the plaintext file one."""

    AltKeyring.__module__ = "keyrings.alt.Gnome"
    backend = AltKeyring()
    keyring.set_keyring(backend)
    with pytest.raises(KeychainUnavailable, match="not saved"):
        store_api_key("openai", SECRET)
    store = PassphraseStore()
    assert store.save("correct horse battery") == "session"
    assert backend.items == {}


def test_a_hanging_keychain_times_out_instead_of_hanging_an_api_key_read(isolated_home):
    import threading

    release = threading.Event()

    class HangingKeyring(MemoryKeyring):
        def get_password(self, service, username):
            release.wait()
            return SECRET

        def set_password(self, service, username, password):
            release.wait()

    keyring.set_keyring(HangingKeyring())
    try:
        assert load_api_key("openai", timeout=0.2) is None
        with pytest.raises(KeychainUnavailable, match="did not answer"):
            store_api_key("openai", SECRET, timeout=0.2)
    finally:
        release.set()


def test_a_chain_uses_its_safe_backend_and_never_the_unsafe_one(isolated_home):
    class PlaintextKeyring(MemoryKeyring):
        priority = 5

    safe, unsafe = MemoryKeyring(), PlaintextKeyring()

    class Chain(MemoryKeyring):
        """Shaped like keyring's ChainerBackend: it wraps the backends it would fall through."""

        priority = 10
        backends = [unsafe, safe]

    keyring.set_keyring(Chain())
    store_api_key("openai", SECRET)
    assert safe.items and not unsafe.items
